// A cron job's run durations as a series of its own, and "slower than usual": a run much longer than the
// median of the last runs makes the check degraded (notified as such), the next ordinary run brings it back.
import { flips } from "@vigil/db";
import { createProject, createTestDb } from "@vigil/db/testing";
import { asc, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import {
  createEngineState,
  findCheckRow,
  type PingInput,
  queryRunDurations,
  recordPing,
  renderPrometheus,
  rollUpDirtyHours,
  tick,
} from "../src/index.ts";
import { createTestCheck, manualClock } from "../src/testing.ts";

const MIN = 60_000;
const HOUR = 60 * MIN;

async function setup(settings: Record<string, unknown> = {}) {
  const db = await createTestDb();
  const clock = manualClock(Date.UTC(2026, 0, 10, 0));
  const project = await createProject(db);
  const check = await createTestCheck(db, clock, project.id, { period: 3600, grace: 600, ...settings });
  const engine = createEngineState();
  const ping = (action: PingInput["action"], rid: string) =>
    recordPing(db, clock, engine, {
      target: { checkId: check.id },
      action,
      exitStatus: null,
      rid,
      method: "GET",
      body: null,
      userAgent: "cron",
      remoteAddr: null,
    });
  let runs = 0;
  /** one run of `ms`, starting at the next whole hour */
  const runFor = async (ms: number) => {
    clock.set(Math.floor(clock.now() / HOUR) * HOUR + HOUR);
    const rid = `run-${runs++}`;
    await ping("start", rid);
    clock.advance(ms);
    await ping("success", rid);
  };
  const status = async () => (await findCheckRow(db, project.id, check.id)).status;
  const flipList = async () =>
    (await db.select().from(flips).where(eq(flips.subjectId, check.id)).orderBy(asc(flips.id))).map(
      (f) => `${f.fromStatus}→${f.toStatus}: ${f.cause}`,
    );
  return { db, clock, project, check, engine, runFor, status, flipList };
}

describe("a heartbeat's run durations", () => {
  it("become a series of the check, read at any step and rolled up by the hour", async () => {
    const f = await setup();
    for (const minutes of [2, 3, 4]) await f.runFor(minutes * MIN);
    const start = Date.UTC(2026, 0, 10, 0);
    const raw = await queryRunDurations(f.db, f.clock, f.project.id, f.check.id, {
      from: start,
      to: start + 4 * HOUR,
      step: 1800,
    });
    expect(raw.points.map((p) => p.avg)).toEqual([120, 180, 240]);
    f.clock.advance(10 * 24 * HOUR);
    await rollUpDirtyHours(f.db, f.clock.now());
    const rolled = await queryRunDurations(f.db, f.clock, f.project.id, f.check.id, {
      from: start,
      to: start + 24 * HOUR,
      step: 86_400,
    });
    expect(rolled.resolution).toBe("day");
    expect(rolled.points).toEqual([{ ts: start, avg: 180, min: 120, max: 240 }]);
  });

  it("appear on /metrics under the check's name", async () => {
    const f = await setup();
    await f.runFor(90_000);
    const text = await renderPrometheus(f.db, f.clock, f.project.id);
    expect(text).toContain(`vigil_job_duration_seconds{check="${f.check.name}",check_id="${f.check.id}"} 90`);
  });
});

describe("slower than usual", () => {
  it("turns a run over the factor times the median of the last runs degraded, and the next ordinary run up", async () => {
    const f = await setup({ slowerThanUsual: 2 });
    for (const minutes of [3, 4, 3, 2, 3]) await f.runFor(minutes * MIN);
    expect(await f.status()).toBe("up");
    // The median of 3, 4, 3, 2, 3 minutes is 3; twice that is 6; 6 minutes is not over it.
    await f.runFor(6 * MIN);
    expect(await f.status()).toBe("up");
    await f.runFor(10 * MIN);
    expect(await f.status()).toBe("degraded");
    await f.runFor(3 * MIN);
    expect(await f.status()).toBe("up");
    expect((await f.flipList()).slice(1)).toEqual([
      "up→degraded: the run took 10 min, 3.3× its usual 3 min (median of the last 6 runs)",
      "degraded→up: success ping",
    ]);
  });

  it("does not judge until five runs are known", async () => {
    const f = await setup({ slowerThanUsual: 1.5 });
    for (const minutes of [1, 1, 1, 1]) await f.runFor(minutes * MIN);
    await f.runFor(30 * MIN);
    expect(await f.status()).toBe("up");
  });

  it("keeps time while degraded: late at the due time, down when the grace ends", async () => {
    const f = await setup({ slowerThanUsual: 2 });
    for (const minutes of [1, 1, 1, 1, 1]) await f.runFor(minutes * MIN);
    await f.runFor(10 * MIN);
    expect(await f.status()).toBe("degraded");
    f.clock.advance(HOUR);
    await tick({ db: f.db, clock: f.clock, state: f.engine });
    expect(await f.status()).toBe("late");
    f.clock.advance(10 * MIN);
    await tick({ db: f.db, clock: f.clock, state: f.engine });
    expect(await f.status()).toBe("down");
  });
});
