import { type ProbeBatchV1Input, probeBatchV1Schema } from "@vigil/contract";
import { alerts, flips, hostEvents, hosts, ingestedBatches, logEntries } from "@vigil/db";
import { createProject, createTestDb } from "@vigil/db/testing";
import { asc, eq } from "drizzle-orm";
import { describe, expect, it, vi } from "vitest";
import {
  type AcceptedBatch,
  authenticateHost,
  createEngineState,
  createEnrollmentToken,
  deleteHost,
  enrollHost,
  evaluateGroupRules,
  type GroupOutcome,
  type HostPrincipal,
  hostPrincipals,
  ingestBatch,
  QUEUED_GROUP_PURPOSE,
  type StoredBatch,
  storeBatchGroup,
} from "../src/index.ts";
import { manualClock } from "../src/testing.ts";

const T0 = Date.UTC(2026, 0, 12, 12);

async function setup(hostCount = 3) {
  const db = await createTestDb();
  const clock = manualClock(T0);
  const project = await createProject(db);
  const { token } = await createEnrollmentToken(db, clock, project.id, { name: "test" });
  const principals: HostPrincipal[] = [];
  for (let i = 0; i < hostCount; i++) {
    const enrolled = await enrollHost(db, clock, {
      token,
      facts: { hostname: `web-${i}`, machineId: crypto.randomUUID(), cpuCount: 2 },
    });
    const principal = await authenticateHost(db, enrolled.hostToken);
    if (!principal) throw new Error("host token not valid");
    principals.push(principal);
  }
  const engine = createEngineState();
  /** a batch of `host` accepted now: one load sample and one log line */
  const accepted = (
    host: number,
    batchId: string,
    fields: Partial<ProbeBatchV1Input> = {},
  ): AcceptedBatch => ({
    host: principals[host] as HostPrincipal,
    batch: probeBatchV1Schema.parse({
      v: 1,
      batchId,
      sentAt: clock.now(),
      samples: [{ ts: clock.now(), load1: 0.5 }],
      logs: [{ ts: clock.now(), priority: 3, message: `from ${batchId}` }],
      ...fields,
    }),
    receivedAt: clock.now(),
  });
  const storedIds = async () =>
    (await db.select({ id: ingestedBatches.batchId }).from(ingestedBatches)).map((r) => r.id).sort();
  const logCount = async () => (await db.select().from(logEntries)).length;
  return { db, clock, project, principals, engine, accepted, storedIds, logCount };
}

describe("storing a group of queued batches", () => {
  it("writes the batches of several hosts in one transaction", async () => {
    const { db, engine, accepted, storedIds, logCount } = await setup();
    const outcomes = await storeBatchGroup(db, engine, [
      accepted(0, "batch-aaa-1"),
      accepted(1, "batch-bbb-1"),
      accepted(2, "batch-ccc-1"),
    ]);
    expect(outcomes.map((o) => o.outcome)).toEqual(["stored", "stored", "stored"]);
    expect(engine.groups.get(QUEUED_GROUP_PURPOSE)).toEqual({ groups: 1, items: 3 });
    expect(await storedIds()).toEqual(["batch-aaa-1", "batch-bbb-1", "batch-ccc-1"]);
    expect(await logCount()).toBe(3);
    const seen = await db.select({ lastSeenAt: hosts.lastSeenAt }).from(hosts);
    expect(seen.every((h) => h.lastSeenAt === T0)).toBe(true);
  });

  it("answers each stored batch with its summary and the host's config, as the direct path does", async () => {
    const { db, engine, accepted } = await setup(1);
    const [outcome] = await storeBatchGroup(db, engine, [accepted(0, "batch-aaa-1")]);
    if (outcome?.outcome !== "stored") throw new Error("expected the batch stored");
    expect(outcome.result).toMatchObject({
      batchId: "batch-aaa-1",
      duplicate: false,
      stored: { logs: 1, backups: 0 },
      config: { intervalSec: expect.any(Number) },
    });
    expect(outcome.result.points.length).toBeGreaterThan(0);
  });

  it("drops a batch id stored before, by either path, and stores the rest", async () => {
    const { db, clock, engine, accepted, storedIds, logCount } = await setup(2);
    const first = accepted(0, "batch-aaa-1");
    await ingestBatch(db, clock, first.host, first.batch, engine);
    await storeBatchGroup(db, engine, [accepted(1, "batch-bbb-1")]);
    const outcomes = await storeBatchGroup(db, engine, [
      accepted(0, "batch-aaa-1"),
      accepted(1, "batch-bbb-1"),
      accepted(1, "batch-bbb-2"),
    ]);
    expect(outcomes.map((o) => o.outcome)).toEqual(["duplicate", "duplicate", "stored"]);
    expect(await storedIds()).toEqual(["batch-aaa-1", "batch-bbb-1", "batch-bbb-2"]);
    expect(await logCount()).toBe(3);
  });

  it("stores a batch id repeated within one group once", async () => {
    const { db, engine, accepted, storedIds, logCount } = await setup(1);
    const outcomes = await storeBatchGroup(db, engine, [
      accepted(0, "batch-aaa-1"),
      accepted(0, "batch-aaa-1"),
      accepted(0, "batch-aaa-2"),
    ]);
    expect(outcomes.map((o) => o.outcome)).toEqual(["stored", "duplicate", "stored"]);
    expect(await storedIds()).toEqual(["batch-aaa-1", "batch-aaa-2"]);
    expect(await logCount()).toBe(2);
  });

  it("keeps the same batch id of two different hosts apart", async () => {
    const { db, engine, accepted } = await setup(2);
    const outcomes = await storeBatchGroup(db, engine, [
      accepted(0, "batch-same-1"),
      accepted(1, "batch-same-1"),
    ]);
    expect(outcomes.map((o) => o.outcome)).toEqual(["stored", "stored"]);
  });

  it("stores the others when one batch's host was deleted while it waited", async () => {
    const { db, project, principals, engine, accepted, storedIds } = await setup(3);
    const group = [accepted(0, "batch-aaa-1"), accepted(1, "batch-bbb-1"), accepted(2, "batch-ccc-1")];
    await deleteHost(db, project.id, principals[1]?.hostId as string);
    const outcomes = await storeBatchGroup(db, engine, group);
    expect(outcomes.map((o) => o.outcome)).toEqual(["stored", "failed", "stored"]);
    expect(await storedIds()).toEqual(["batch-aaa-1", "batch-ccc-1"]);
  });

  it("reports a state change once when two batches of one host in a group carry it", async () => {
    const { db, clock, engine, accepted } = await setup(1);
    const state = (at: number) => ({ collectedAt: at, failedUnits: ["nginx.service"] });
    const outcomes = await storeBatchGroup(db, engine, [
      accepted(0, "batch-aaa-1", { state: state(clock.now()) }),
      accepted(0, "batch-aaa-2", { state: state(clock.now() + 1) }),
    ]);
    expect(outcomes.map((o) => o.outcome)).toEqual(["stored", "stored"]);
    const events = await db.select().from(hostEvents).where(eq(hostEvents.kind, "unit.failed"));
    expect(events).toHaveLength(1);
  });

  it("reports a state change against the host's stored state, not again after a restart of the consumer", async () => {
    const { db, clock, engine, accepted } = await setup(1);
    const state = (at: number) => ({ collectedAt: at, failedUnits: ["nginx.service"] });
    await storeBatchGroup(db, engine, [accepted(0, "batch-aaa-1", { state: state(clock.now()) })]);
    clock.advance(30_000);
    // a new engine state (a new isolate): only the stored snapshot tells the next group what was reported
    const outcomes = await storeBatchGroup(db, createEngineState(), [
      accepted(0, "batch-aaa-2", { state: state(clock.now()) }),
    ]);
    expect(outcomes.map((o) => o.outcome)).toEqual(["stored"]);
    const events = await db.select().from(hostEvents).where(eq(hostEvents.kind, "unit.failed"));
    expect(events).toHaveLength(1);
    const recovered = await storeBatchGroup(db, createEngineState(), [
      accepted(0, "batch-aaa-3", { state: { collectedAt: clock.now() + 1, failedUnits: [] } }),
    ]);
    expect(recovered.map((o) => o.outcome)).toEqual(["stored"]);
    const after = await db.select().from(hostEvents).where(eq(hostEvents.kind, "unit.recovered"));
    expect(after).toHaveLength(1);
  });

  it("fails the whole group, writing nothing, when the database cannot be reached", async () => {
    const { db, engine, accepted, storedIds } = await setup(1);
    const group = [accepted(0, "batch-aaa-1")];
    db.$client.close();
    await expect(storeBatchGroup(db, engine, group)).rejects.toThrow();
    expect(engine.groups.get(QUEUED_GROUP_PURPOSE)).toBeUndefined();
    await expect(storedIds()).rejects.toThrow();
  });
});

describe("hosts of queued batches", () => {
  it("finds each host by id within the project the message names, and leaves out others", async () => {
    const { db, principals } = await setup(2);
    const [a, b] = principals as [HostPrincipal, HostPrincipal];
    const other = await createProject(db);
    const found = await hostPrincipals(db, [
      { hostId: a.hostId, projectId: a.projectId },
      { hostId: b.hostId, projectId: other.id },
      { hostId: "no-such-host", projectId: a.projectId },
    ]);
    expect([...found.keys()]).toEqual([a.hostId]);
    expect(found.get(a.hostId)).toMatchObject({ hostId: a.hostId, projectId: a.projectId });
  });
});

describe("evaluating the rules of a group of stored batches", () => {
  /** stores `group` and answers what rule evaluation takes: the host and batch of each stored one */
  async function store(ctx: Awaited<ReturnType<typeof setup>>, group: AcceptedBatch[]) {
    const outcomes: GroupOutcome[] = await storeBatchGroup(ctx.db, ctx.engine, group);
    return outcomes.flatMap((o, i): StoredBatch[] => {
      const item = group[i];
      return o.outcome === "stored" && item
        ? [{ host: item.host, input: { batch: item.batch, ...o.result } }]
        : [];
    });
  }
  const failed = (ctx: Awaited<ReturnType<typeof setup>>, units: string[]) => ({
    state: { collectedAt: ctx.clock.now(), failedUnits: units },
  });
  /** each host's firing alerts, as "host index:target" */
  async function firing(ctx: Awaited<ReturnType<typeof setup>>) {
    const rows = await ctx.db.select().from(alerts);
    const index = new Map(ctx.principals.map((p, i) => [p.hostId, i]));
    return rows
      .filter((a) => a.state === "firing")
      .map((a) => `${index.get(a.hostId)}:${a.targetKey}`)
      .sort();
  }

  it("fires each host's own alerts, and only theirs", async () => {
    const ctx = await setup(3);
    const { accepted } = ctx;
    const stored = await store(ctx, [
      accepted(0, "batch-aaa-1", failed(ctx, ["nginx.service"])),
      accepted(1, "batch-bbb-1", failed(ctx, [])),
      accepted(2, "batch-ccc-1", failed(ctx, ["postgres.service"])),
    ]);
    const report = await evaluateGroupRules(ctx.db, ctx.clock, ctx.engine, stored);
    expect(await firing(ctx)).toEqual(["0:unit=nginx.service", "2:unit=postgres.service"]);
    expect(report.flips).toBe(2);
  });

  it("evaluates a host's second batch in the group against what its first one wrote", async () => {
    const ctx = await setup(1);
    const { accepted, clock } = ctx;
    const first = accepted(0, "batch-aaa-1", failed(ctx, ["nginx.service"]));
    clock.advance(30_000);
    const second = accepted(0, "batch-aaa-2", failed(ctx, []));
    const stored = await store(ctx, [first, second]);
    await evaluateGroupRules(ctx.db, clock, ctx.engine, stored);
    const transitions = await ctx.db.select().from(flips).orderBy(asc(flips.id));
    expect(transitions.map((f) => `${f.fromStatus}→${f.toStatus}`)).toEqual([
      "inactive→firing",
      "firing→inactive",
    ]);
  });

  it("records the other hosts' alerts when one host was deleted before its rules ran, and then reports the failure", async () => {
    const ctx = await setup(3);
    const { accepted } = ctx;
    const stored = await store(ctx, [
      accepted(0, "batch-aaa-1", failed(ctx, ["nginx.service"])),
      accepted(1, "batch-bbb-1", failed(ctx, ["nginx.service"])),
      accepted(2, "batch-ccc-1", failed(ctx, ["nginx.service"])),
    ]);
    await deleteHost(ctx.db, ctx.project.id, ctx.principals[1]?.hostId as string);
    await expect(evaluateGroupRules(ctx.db, ctx.clock, ctx.engine, stored)).rejects.toThrow();
    expect(await firing(ctx)).toEqual(["0:unit=nginx.service", "2:unit=nginx.service"]);
  });

  it("takes as many round trips for twelve hosts as for two", async () => {
    const ctx = await setup(12);
    const { accepted, clock, db } = ctx;
    const roundTrips = async (hosts: number, suffix: string) => {
      const group = Array.from({ length: hosts }, (_, i) =>
        accepted(i, `batch-${i}-${suffix}`, failed(ctx, ["nginx.service"])),
      );
      const stored = await store(ctx, group);
      const spies = (["execute", "batch", "transaction", "executeMultiple"] as const).map((m) =>
        vi.spyOn(db.$client, m),
      );
      await evaluateGroupRules(db, clock, ctx.engine, stored);
      const calls = spies.reduce((n, s) => n + s.mock.calls.length, 0);
      for (const s of spies) s.mockRestore();
      return calls;
    };
    await roundTrips(12, "warm"); // the first sight of the project and hosts makes rules and checks
    clock.advance(30_000);
    const two = await roundTrips(2, "two");
    clock.advance(30_000);
    const twelve = await roundTrips(12, "twelve");
    expect(two).toBeGreaterThan(0);
    expect(twelve).toBe(two);
  });
});
