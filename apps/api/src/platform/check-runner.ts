/**
 * The check runner: one Durable Object per deployment whose alarm runs HTTP/TCP checks at their own period,
 * under a minute too, which the once-a-minute cron cannot.
 * 1. Each cron firing makes sure the alarm is armed (getAlarm before setAlarm, so the call is harmless every
 *    minute and brings back an alarm that was lost) and runs the other jobs. If the runner cannot be
 *    reached, that firing runs the checks itself, as a Worker without the binding always does.
 * 2. alarm(): the checks job (the engine tick the cron would run) and then the notify job, each under its
 *    lease and due-check, fired at the alarm's moment.
 * 3. Re-arm for the earliest check deadline, at least 5 s and at most 60 s ahead: a burst of due checks is
 *    taken in 5 s steps (as the Node timer ticks) and heartbeats are looked at at least once a minute.
 * Runs are spread as on Node: each check keeps its own slot (its last deadline plus its period), so the
 * alarm wakes for them one by one instead of sleeping through a minute's runs.
 */
import { DurableObject } from "cloudflare:workers";
import { type Clock, nextCheckDeadline, systemClock } from "@vigil/engine";
import type { AppDeps } from "../deps.ts";
import { checksJob, notifyJob, runScheduledJobs, scheduledJobs } from "../scheduler.ts";
import { runWatchedTick } from "../self/watched-tick.ts";
import { type Env, workerDeps } from "./worker-deps.ts";

/** The one runner of a deployment: every cron firing addresses it by this name. */
export const CHECK_RUNNER_NAME = "checks";
export const MIN_ALARM_MS = 5_000;
export const MAX_ALARM_MS = 60_000;

/** When to wake next: at the earliest deadline, clamped to 5–60 s from now; in a minute when none. */
export function nextAlarmAt(deadline: number | null, now: number): number {
  const wait = deadline === null ? MAX_ALARM_MS : deadline - now;
  return now + Math.min(MAX_ALARM_MS, Math.max(MIN_ALARM_MS, wait));
}

export class CheckRunner extends DurableObject<Env> {
  /** Time as the runner sees it: the system clock, a manual one in tests. */
  clock: Clock = systemClock;

  /** Arms the alarm for now unless one is set; returns when it will fire. */
  async ensureArmed(): Promise<number> {
    const armed = await this.ctx.storage.getAlarm();
    if (armed !== null) return armed;
    const at = this.clock.now();
    await this.ctx.storage.setAlarm(at);
    return at;
  }

  override async alarm(): Promise<void> {
    const base = workerDeps(this.env, { clock: this.clock });
    // No spreading over a minute here: the alarm wakes at each check's deadline.
    const deps: AppDeps = { ...base, config: { ...base.config, checkSpreadMs: 0 } };
    await runScheduledJobs(deps, [checksJob, notifyJob], { firedAt: this.clock.now() });
    let deadline: number | null = null;
    try {
      deadline = await nextCheckDeadline(deps.db);
    } catch (err) {
      // The database is what failed: look again in a minute (the cron re-arms a lost alarm too).
      console.error("check runner: could not read the next deadline", err);
    }
    await this.ctx.storage.setAlarm(nextAlarmAt(deadline, this.clock.now()));
  }
}

/**
 * One cron firing: arm the check runner (when bound) and run every other job for `firedAt`, watched
 * (readiness, metrics, dead-man switch). Without a runner, or when it cannot be reached, the checks job
 * runs here, once a minute, spreading its HTTP/TCP runs over the minute.
 */
export async function cronTick(
  deps: AppDeps,
  runner: DurableObjectNamespace<CheckRunner> | undefined,
  firedAt: number,
): Promise<void> {
  let jobs = scheduledJobs;
  if (runner) {
    try {
      await runner.get(runner.idFromName(CHECK_RUNNER_NAME)).ensureArmed();
      jobs = scheduledJobs.filter((job) => job !== checksJob);
    } catch (err) {
      console.error("could not arm the check runner; this firing runs the checks itself", err);
    }
  }
  const { heartbeat } = await runWatchedTick(deps, jobs, { firedAt });
  await heartbeat;
}
