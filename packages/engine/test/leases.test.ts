import type { Db } from "@vigil/db";
import { createProject, createTestDb } from "@vigil/db/testing";
import { describe, expect, it } from "vitest";
import { nextCheckDeadline, releaseLease, takeLease, withLease } from "../src/index.ts";
import { createTestCheck, manualClock } from "../src/testing.ts";

const MIN = 60_000;
const TTL = MIN;
const T0 = Date.UTC(2026, 0, 10, 12);

async function lastRunAt(db: Db, job: string) {
  const { rows } = await db.$client.execute({
    sql: "select last_run_at from job_leases where job = ?",
    args: [job],
  });
  return rows[0]?.last_run_at ?? null;
}

const run = (db: Db, owner: string, firedAt: number, everyMs: number, work = async () => "done") =>
  withLease(
    db,
    { job: "retention", owner },
    { now: () => firedAt, ttlMs: TTL, due: { firedAt, everyMs } },
    work,
  );

describe("job leases with a due-check", () => {
  it("do not take a job again before its interval has passed since its last successful run", async () => {
    const db = await createTestDb();
    expect(await run(db, "a", T0, 10 * MIN)).toEqual({ ran: true, result: "done" });
    expect(Number(await lastRunAt(db, "retention"))).toBe(T0);
    for (let minute = 1; minute < 10; minute++) {
      expect(await run(db, "a", T0 + minute * MIN, 10 * MIN)).toEqual({ ran: false, reason: "not-due" });
    }
    expect(await run(db, "b", T0 + 10 * MIN, 10 * MIN)).toEqual({ ran: true, result: "done" });
    expect(Number(await lastRunAt(db, "retention"))).toBe(T0 + 10 * MIN);
  });

  it("run a job without an interval once per firing: a second invocation of the same firing skips it", async () => {
    const db = await createTestDb();
    expect((await run(db, "first", T0, 0)).ran).toBe(true);
    expect(await run(db, "second", T0, 0)).toEqual({ ran: false, reason: "not-due" });
    expect((await run(db, "third", T0 + MIN, 0)).ran).toBe(true);
  });

  it("let only one of two overlapping invocations of a firing run the job, the other finding it leased", async () => {
    const db = await createTestDb();
    let started: () => void = () => {};
    const working = new Promise<void>((done) => {
      started = done;
    });
    let release: () => void = () => {};
    const held = new Promise<void>((done) => {
      release = done;
    });
    const first = run(db, "first", T0, 0, async () => {
      started();
      await held;
      return "done";
    });
    await working; // the first holds the lease and is still working when the second arrives
    expect(await run(db, "second", T0, 0)).toEqual({ ran: false, reason: "leased" });
    release();
    expect((await first).ran).toBe(true);
    expect(await run(db, "third", T0, 0)).toEqual({ ran: false, reason: "not-due" });
  });

  it("do not record a failed run, so the next firing tries the job again", async () => {
    const db = await createTestDb();
    const failing = run(db, "a", T0, 10 * MIN, async () => {
      throw new Error("disk full");
    });
    await expect(failing).rejects.toThrow("disk full");
    expect(await lastRunAt(db, "retention")).toBeNull();
    expect((await run(db, "a", T0 + MIN, 10 * MIN)).ran).toBe(true);
  });

  it("never move the last run back when an older firing finishes later", async () => {
    const db = await createTestDb();
    expect(await takeLease(db, { job: "rollups", owner: "late" }, T0, TTL, { firedAt: T0, everyMs: 0 })).toBe(
      true,
    );
    await releaseLease(db, { job: "rollups", owner: "late" }, T0 + MIN);
    await releaseLease(db, { job: "rollups", owner: "late" }, T0);
    expect(Number(await lastRunAt(db, "rollups"))).toBe(T0 + MIN);
  });

  it("free a released lease even for a scheduler whose clock runs behind the releaser's", async () => {
    const db = await createTestDb();
    const due = { firedAt: T0 + MIN, everyMs: 0 };
    expect(await takeLease(db, { job: "notify", owner: "ahead" }, T0 + MIN, TTL, due)).toBe(true);
    await releaseLease(db, { job: "notify", owner: "ahead" }, due.firedAt);
    expect(
      await takeLease(db, { job: "notify", owner: "behind" }, T0, TTL, { firedAt: T0 + 2 * MIN, everyMs: 0 }),
    ).toBe(true);
  });

  it("take a job without a due-check whenever its lease is free, as before", async () => {
    const db = await createTestDb();
    const lease = { job: "notify", owner: "a" };
    expect(await takeLease(db, lease, T0, TTL)).toBe(true);
    expect(await takeLease(db, { job: "notify", owner: "b" }, T0 + 1, TTL)).toBe(false);
    await releaseLease(db, lease);
    expect(await takeLease(db, { job: "notify", owner: "b" }, T0 + 3, TTL)).toBe(true);
  });
});

describe("the next check deadline", () => {
  it("is the earliest alert_after among the checks, or null when none is due ever", async () => {
    const db = await createTestDb();
    const clock = manualClock(T0);
    expect(await nextCheckDeadline(db)).toBeNull();
    const project = await createProject(db);
    await createTestCheck(db, clock, project.id, {
      kind: "http",
      name: "a",
      url: "http://127.0.0.1:9/",
      period: 20,
    });
    clock.advance(5_000);
    await createTestCheck(db, clock, project.id, {
      kind: "http",
      name: "b",
      url: "http://127.0.0.1:9/",
      period: 20,
    });
    expect(await nextCheckDeadline(db)).toBe(T0);
  });
});
