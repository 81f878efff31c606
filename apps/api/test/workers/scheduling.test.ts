// Scheduling on the edge, inside workerd against sqld: the check runner's alarm runs HTTP checks at their
// period (under a minute too), and every job keeps to its interval however often the cron fires.
import {
  createExecutionContext,
  createScheduledController,
  env,
  runDurableObjectAlarm,
  runInDurableObject,
  waitOnExecutionContext,
} from "cloudflare:test";
import { checkRuns, createDb } from "@vigil/db";
import { createTestCheck, manualClock } from "@vigil/engine/testing";
import { asc, eq } from "drizzle-orm";
import { beforeAll, describe, expect, inject, it } from "vitest";
import worker, { type CheckRunner, type Env } from "../../src/worker.ts";

const MIN = 60_000;
const METRICS_TOKEN = "workers-metrics-token-0123456789";
const bindings = env as unknown as Env;
const db = createDb({ url: inject("runnerSqldUrl") });
// Far ahead of real time, on a minute: an alarm armed by this clock never fires on its own during a test,
// so only runDurableObjectAlarm runs it.
const clock = manualClock(Math.ceil(Date.now() / MIN) * MIN + 24 * 60 * MIN);

function runner() {
  const namespace = bindings.CHECK_RUNNER;
  if (!namespace) throw new Error("wrangler.toml binds CHECK_RUNNER");
  return namespace.get(namespace.idFromName("checks"));
}

const alarmAt = () => runInDurableObject(runner(), (_runner, state) => state.storage.getAlarm());

/** One cron invocation, as Cloudflare makes it for the minute `firedAt`. */
async function cron(firedAt: number, env: Env = bindings) {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ cron: "* * * * *", scheduledTime: firedAt }), env, ctx);
  await waitOnExecutionContext(ctx);
}

/** vigil_scheduler_jobs_total from /metrics, as "job result" → count. */
async function jobCounts(): Promise<Map<string, number>> {
  const ctx = createExecutionContext();
  const request = new Request("https://vigil.test/metrics", {
    headers: { authorization: `Bearer ${METRICS_TOKEN}` },
  }) as Request<unknown, IncomingRequestCfProperties>;
  const res = await worker.fetch(request, { ...bindings, VIGIL_METRICS_TOKEN: METRICS_TOKEN }, ctx);
  await waitOnExecutionContext(ctx);
  expect(res.status).toBe(200);
  const counts = new Map<string, number>();
  for (const [, job, result, value] of (await res.text()).matchAll(
    /^vigil_scheduler_jobs_total\{job="([^"]+)",result="([^"]+)"\} (\d+)$/gm,
  )) {
    counts.set(`${job} ${result}`, Number(value));
  }
  return counts;
}

/** What changed between two readings of the counts, zeros left out. */
function delta(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const changed: Record<string, number> = {};
  for (const [key, value] of after) {
    const by = value - (before.get(key) ?? 0);
    if (by) changed[key] = by;
  }
  return changed;
}

const targetHits = async () => Number(await (await fetch(`${inject("targetUrl")}/__hits`)).text());

beforeAll(async () => {
  await runInDurableObject(runner(), (instance: CheckRunner) => {
    instance.clock = clock;
  });
});

describe("scheduling on Workers", () => {
  it("runs a 20 s HTTP check three times a minute on the check runner's alarm, which re-arms for each next run", async () => {
    const check = await createTestCheck(db, clock, inject("runnerProjectId"), {
      kind: "http",
      name: "api every 20 s",
      url: `${inject("targetUrl")}/health`,
      period: 20,
    });
    const hitsBefore = await targetHits();
    const start = clock.now();
    await cron(start); // arms the runner's alarm, for now: the check is due

    const fired: number[] = [];
    for (let at = await alarmAt(); at !== null && at < start + MIN; at = await alarmAt()) {
      clock.set(at);
      fired.push(at - start);
      expect(await runDurableObjectAlarm(runner())).toBe(true);
    }

    expect(fired).toEqual([0, 20_000, 40_000]);
    const runs = await db
      .select({ at: checkRuns.at, result: checkRuns.result })
      .from(checkRuns)
      .where(eq(checkRuns.checkId, check.id))
      .orderBy(asc(checkRuns.at));
    expect(runs).toEqual([0, 20_000, 40_000].map((offset) => ({ at: start + offset, result: "up" })));
    expect((await targetHits()) - hitsBefore).toBe(3);
    expect(await alarmAt()).toBe(start + MIN);
  });

  it("leaves an armed alarm as it is on the next cron firing, and arms a lost one again", async () => {
    const armed = await alarmAt();
    expect(armed).not.toBeNull();
    await cron(clock.now() + MIN);
    expect(await alarmAt()).toBe(armed);

    await runInDurableObject(runner(), (_runner, state) => state.storage.deleteAlarm());
    clock.advance(7_000);
    await cron(clock.now() + 2 * MIN);
    expect(await alarmAt()).toBe(clock.now());
  });

  it("runs each job once when two invocations of one cron firing overlap, and the checks not at all", async () => {
    const firedAt = clock.now() + 60 * MIN;
    const before = await jobCounts();
    await Promise.all([cron(firedAt), cron(firedAt)]);
    const changed = delta(before, await jobCounts());

    for (const job of ["rules", "forecasts", "notify", "rollups", "retention", "purge"]) {
      expect(changed[`${job} ran`], job).toBe(1);
      expect((changed[`${job} skipped-not-due`] ?? 0) + (changed[`${job} skipped-leased`] ?? 0), job).toBe(1);
      expect(changed[`${job} failed`], job).toBeUndefined();
    }
    expect(Object.keys(changed).filter((key) => key.startsWith("checks "))).toEqual([]);
  });

  it("runs retention every 10 minutes and forecasts every 5 on a cron that fires every minute", async () => {
    const base = clock.now() + 120 * MIN;
    const before = await jobCounts();
    for (let minute = 0; minute <= 10; minute++) await cron(base + minute * MIN);
    const changed = delta(before, await jobCounts());

    expect(changed).toMatchObject({
      "retention ran": 2,
      "retention skipped-not-due": 9,
      "forecasts ran": 3,
      "forecasts skipped-not-due": 8,
      "rules ran": 11,
      "rollups ran": 11,
    });
    const { rows } = await db.$client.execute("select last_run_at from job_leases where job = 'retention'");
    expect(Number(rows[0]?.last_run_at)).toBe(base + 10 * MIN);
  });

  it("runs the checks on the cron itself when VIGIL_CHECK_RUNNER is off, though the runner is bound", async () => {
    const before = await jobCounts();
    await cron(clock.now() + 7 * 24 * 60 * MIN, { ...bindings, VIGIL_CHECK_RUNNER: "off" });
    expect(delta(before, await jobCounts())["checks ran"]).toBe(1);
  });
});
