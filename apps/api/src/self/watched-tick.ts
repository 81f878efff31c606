/**
 * One scheduler tick as both entries run it, watched:
 * 1. Run the jobs (scheduler.ts); time the whole tick into the duration histogram.
 * 2. Mark the tick completed in the database, so /readyz in any process or isolate sees the lag.
 * 3. After a healthy tick (no job failed), ping VIGIL_HEARTBEAT_URL at most once per `heartbeatEveryMs`:
 *    a dead-man switch, so someone notices when this Vigil stops. The ping is started, not awaited: a slow
 *    or dead receiver never holds up a tick; it gets `heartbeatTimeoutMs` and is then cut off.
 */
import { markTickCompleted } from "@vigil/engine";
import type { AppDeps } from "../deps.ts";
import { runScheduledJobs, type ScheduledJob, type ScheduledRun } from "../scheduler.ts";

export interface WatchedTick {
  failed: string[];
  /** the dead-man ping in flight, when one was started (Workers hand it to waitUntil; tests await it) */
  heartbeat: Promise<void> | null;
}

export async function runWatchedTick(
  deps: AppDeps,
  jobs: readonly ScheduledJob[],
  run: ScheduledRun = {},
): Promise<WatchedTick> {
  const started = performance.now();
  const failed = await runScheduledJobs(deps, jobs, run);
  const durationMs = performance.now() - started;
  const metrics = deps.runtime?.metrics;
  metrics?.observe("vigil_scheduler_tick_duration_seconds", durationMs / 1000);
  metrics?.count("vigil_scheduler_ticks_total", { result: failed.length ? "failed" : "ok" });
  try {
    await markTickCompleted(deps.db, deps.clock.now(), durationMs);
  } catch (err) {
    // The database is what failed; the next tick tries again and /readyz reports the lag meanwhile.
    console.error("could not mark the tick completed", err);
    return { failed: [...failed, "mark"], heartbeat: null };
  }
  return { failed, heartbeat: failed.length ? null : sendHeartbeat(deps) };
}

/** Starts the dead-man ping when one is configured and due; resolves once it is answered or given up. */
export function sendHeartbeat(deps: AppDeps): Promise<void> | null {
  const { heartbeatUrl, heartbeatEveryMs, heartbeatTimeoutMs } = deps.config.selfWatch;
  const runtime = deps.runtime;
  if (!heartbeatUrl || !runtime) return null;
  const now = deps.clock.now();
  if (runtime.lastHeartbeatAt !== null && now - runtime.lastHeartbeatAt < heartbeatEveryMs) return null;
  // Taken before the request, so ticks overlapping a slow ping do not send a second one.
  runtime.lastHeartbeatAt = now;
  // The global fetch, not deps.fetch: the operator chose this URL, and it may well be on a private network
  // (another Vigil beside this one), which the guarded fetch for webhooks refuses.
  // Logged by host only: a Healthchecks-style URL's path is its secret.
  const target = new URL(heartbeatUrl).host;
  return fetch(heartbeatUrl, {
    method: "GET",
    headers: { "user-agent": `vigil/${deps.config.version} heartbeat` },
    signal: AbortSignal.timeout(heartbeatTimeoutMs),
  }).then(
    async (res) => {
      await res.body?.cancel().catch(() => undefined);
      runtime.metrics.count("vigil_heartbeat_pings_total", { result: res.ok ? "ok" : "failed" });
      if (!res.ok) console.error(`heartbeat to ${target} answered ${res.status}`);
    },
    (err: unknown) => {
      runtime.metrics.count("vigil_heartbeat_pings_total", { result: "failed" });
      console.error(`heartbeat to ${target} failed: ${(err as Error).message}`);
    },
  );
}
