import type { CheckAssignment } from "@vigil/contract";
import { describe, expect, it } from "vitest";
import type { Observation } from "../src/location-checks/observation.ts";
import { type AssignmentRunner, LocationCheckScheduler } from "../src/location-checks/scheduler.ts";

const T0 = 1_795_800_000_000;

function tcp(id: string, extra: Partial<CheckAssignment> = {}): CheckAssignment {
  return {
    id,
    rev: "r1",
    kind: "tcp",
    intervalSec: 60,
    timeoutMs: 1_000,
    target: { host: "db.lab", port: 5432 },
    ...extra,
  };
}

/** Lets the scheduler's bookkeeping after a finished run (a few promise turns) happen. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A runner whose runs end when the test says, remembering what each was asked to run. */
function heldRunner() {
  const runs: { assignment: CheckAssignment; signal: AbortSignal; finish: (o?: Observation) => void }[] = [];
  const run: AssignmentRunner = (assignment, signal) =>
    new Promise((resolve) => runs.push({ assignment, signal, finish: (o = { ms: 1 }) => resolve(o) }));
  return { runs, run };
}

/** Runs due work at each due time until `until`; returns the start times per id. */
async function runUntil(scheduler: LocationCheckScheduler, clock: { now: number }, until: number) {
  const starts: Record<string, number[]> = {};
  for (;;) {
    const due = scheduler.nextDueAt();
    if (due > until) break;
    clock.now = Math.max(clock.now, due);
    scheduler.startDue(clock.now);
    await scheduler.settled();
  }
  for (const result of scheduler.take())
    starts[result.checkId] = [...(starts[result.checkId] ?? []), result.at];
  return starts;
}

describe("the location check scheduler", () => {
  it("runs a new assignment within a few seconds, then every interval on a slot its id fixes", async () => {
    const clock = { now: T0 };
    const run: AssignmentRunner = async () => ({ ms: 3 });
    const first = new LocationCheckScheduler({ clock: () => clock.now, run }, [tcp("chk_a"), tcp("chk_b")]);
    expect(first.nextDueAt()).toBeGreaterThanOrEqual(T0);
    expect(first.nextDueAt()).toBeLessThan(T0 + 5_000);
    const starts = await runUntil(first, clock, T0 + 10 * 60_000);

    const a = starts.chk_a ?? [];
    expect(a[0]).toBeLessThan(T0 + 5_000);
    expect((a[1] ?? 0) - (a[0] ?? 0)).toBeGreaterThanOrEqual(30_000);
    expect(a.slice(2).map((t, i) => t - (a[i + 1] ?? 0))).toEqual(Array(a.length - 2).fill(60_000));
    const slotOf = (t: number | undefined) => (t ?? 0) % 60_000;
    // Another id falls elsewhere in the interval.
    expect(slotOf(starts.chk_b?.[1])).not.toBe(slotOf(a[1]));

    // A probe started later (a restart) keeps the same slot after its first run.
    const later = { now: T0 + 1_234_567 };
    const again = new LocationCheckScheduler({ clock: () => later.now, run }, [tcp("chk_a")]);
    const restarted = await runUntil(again, later, later.now + 5 * 60_000);
    expect(slotOf(restarted.chk_a?.[1])).toBe(slotOf(a[1]));
  });

  it("keeps an assignment's timing through updates; a new rev runs with the new definition", async () => {
    const clock = { now: T0 };
    const seen: CheckAssignment[] = [];
    const run: AssignmentRunner = async (assignment) => {
      seen.push(assignment);
      return { ms: 1 };
    };
    const scheduler = new LocationCheckScheduler({ clock: () => clock.now, run }, [tcp("chk_a")]);
    await runUntil(scheduler, clock, T0 + 2 * 60_000);
    const due = scheduler.nextDueAt();

    const moved = tcp("chk_a", { rev: "r2", target: { host: "db2.lab", port: 5433 } });
    scheduler.update([moved, tcp("chk_new")]);
    expect(scheduler.size).toBe(2);
    // The new one comes first, within a few seconds; the old one stays on its slot.
    expect(scheduler.nextDueAt()).toBeLessThan(clock.now + 5_000);
    const starts = await runUntil(scheduler, clock, due);
    expect(starts.chk_a).toEqual([due]);
    expect(seen.at(-1)).toEqual(moved);

    // A shorter interval may only bring the next run closer.
    scheduler.update([tcp("chk_a", { rev: "r2", intervalSec: 20 })]);
    expect(scheduler.nextDueAt()).toBeLessThanOrEqual(due + 60_000);
    expect(scheduler.nextDueAt()).toBeGreaterThan(clock.now);
    expect(scheduler.nextDueAt() - clock.now).toBeLessThanOrEqual(20_000);
  });

  it("runs at most 8 at once and starts the waiting ones as places free up", async () => {
    const clock = { now: T0 };
    const { runs, run } = heldRunner();
    const assignments = Array.from({ length: 12 }, (_, i) => tcp(`chk_${i}`));
    const scheduler = new LocationCheckScheduler(
      { clock: () => clock.now, run, firstRunWithinMs: 0 },
      assignments,
    );
    scheduler.startDue(clock.now);
    expect(runs).toHaveLength(8);
    expect(scheduler.running).toBe(8);
    // Every place is taken: nothing to wake up for until a run ends.
    expect(scheduler.nextDueAt()).toBe(Number.POSITIVE_INFINITY);

    clock.now += 2_000;
    runs[0]?.finish({ ms: 12 });
    runs[1]?.finish({ error: "ECONNREFUSED 10.0.0.1:5432" });
    await settle();
    expect(runs).toHaveLength(10);
    for (const held of runs.slice(2)) held.finish();
    await settle();
    for (const held of runs.slice(10)) held.finish();
    await scheduler.settled();
    expect(runs.map((r) => r.assignment.id).sort()).toEqual(assignments.map((a) => a.id).sort());

    const results = scheduler.take();
    expect(results).toHaveLength(12);
    expect(results[0]).toEqual({ checkId: runs[0]?.assignment.id, rev: "r1", at: T0, ms: 12 });
    expect(results[1]).toEqual({
      checkId: runs[1]?.assignment.id,
      rev: "r1",
      at: T0,
      error: "ECONNREFUSED 10.0.0.1:5432",
    });
    // The two that waited for a place started when one freed up.
    expect(results.filter((r) => r.at === T0 + 2_000)).toHaveLength(4);
    expect(scheduler.take()).toEqual([]);
  });

  it("skips a slot while the last run still goes", async () => {
    const clock = { now: T0 };
    const { runs, run } = heldRunner();
    const scheduler = new LocationCheckScheduler({ clock: () => clock.now, run, firstRunWithinMs: 0 }, [
      tcp("chk_slow", { intervalSec: 10 }),
    ]);
    scheduler.startDue(clock.now);
    const next = scheduler.nextDueAt();
    clock.now = next;
    scheduler.startDue(clock.now);
    expect(runs).toHaveLength(1);
    expect(scheduler.nextDueAt()).toBe(next + 10_000);
    runs[0]?.finish();
    await scheduler.settled();
    expect(scheduler.take()).toHaveLength(1);
  });

  it("says when results start waiting, once per batch, and hands each over once", async () => {
    const clock = { now: T0 };
    let wakes = 0;
    const { runs, run } = heldRunner();
    const scheduler = new LocationCheckScheduler(
      { clock: () => clock.now, run, firstRunWithinMs: 0, onResult: () => wakes++ },
      [tcp("chk_a"), tcp("chk_b")],
    );
    expect(scheduler.pendingSince()).toBe(Number.POSITIVE_INFINITY);
    scheduler.startDue(clock.now);
    clock.now += 40;
    runs[0]?.finish();
    await settle();
    clock.now += 300;
    runs[1]?.finish();
    await scheduler.settled();
    expect(wakes).toBe(1);
    expect(scheduler.pending).toBe(2);
    expect(scheduler.pendingSince()).toBe(T0 + 40);
    expect(scheduler.take().map((r) => r.checkId)).toEqual(["chk_a", "chk_b"]);
    expect(scheduler.pendingSince()).toBe(Number.POSITIVE_INFINITY);
  });

  it("stops the runs of a withdrawn assignment and on stop, and drops what they would say", async () => {
    const clock = { now: T0 };
    const { runs, run } = heldRunner();
    const scheduler = new LocationCheckScheduler({ clock: () => clock.now, run, firstRunWithinMs: 0 }, [
      tcp("chk_gone"),
      tcp("chk_kept"),
    ]);
    scheduler.startDue(clock.now);
    scheduler.update([tcp("chk_kept")]);
    expect(runs[0]?.signal.aborted).toBe(true);
    expect(runs[1]?.signal.aborted).toBe(false);
    runs[0]?.finish({ error: "stopped" });
    await settle();
    expect(scheduler.take()).toEqual([]);

    scheduler.stop();
    expect(runs[1]?.signal.aborted).toBe(true);
    runs[1]?.finish({ error: "stopped" });
    await scheduler.settled();
    expect(scheduler.take()).toEqual([]);
    expect(scheduler.nextDueAt()).toBe(Number.POSITIVE_INFINITY);
    scheduler.startDue(clock.now + 3_600_000);
    expect(runs).toHaveLength(2);
  });

  it("keeps what a run reports within the contract's bounds", async () => {
    const clock = { now: T0 };
    const run: AssignmentRunner = async () => ({
      ms: 3_600_000,
      error: "x".repeat(5_000),
      tls: { validTo: Date.parse("9999-12-31T23:59:59Z"), authorized: true },
    });
    const scheduler = new LocationCheckScheduler({ clock: () => clock.now, run, firstRunWithinMs: 0 }, [
      tcp("c"),
    ]);
    scheduler.startDue(clock.now);
    await scheduler.settled();
    const [result] = scheduler.take();
    expect(result?.ms).toBe(600_000);
    expect(result?.error).toHaveLength(1024);
    expect(result?.tls?.validTo).toBe(7_258_118_400_000);
  });
});
