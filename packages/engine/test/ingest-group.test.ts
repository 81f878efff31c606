import { type ProbeBatchV1Input, probeBatchV1Schema } from "@vigil/contract";
import { hostEvents, hosts, ingestedBatches, logEntries } from "@vigil/db";
import { createProject, createTestDb } from "@vigil/db/testing";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import {
  type AcceptedBatch,
  authenticateHost,
  createEngineState,
  createEnrollmentToken,
  deleteHost,
  enrollHost,
  type HostPrincipal,
  hostPrincipals,
  ingestBatch,
  QUEUED_GROUP_PURPOSE,
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
