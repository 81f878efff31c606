// Runs inside workerd with wrangler.toml's [env.queued]: the batch endpoint queues to INGEST_QUEUE on
// miniflare's Queues emulation, which delivers to the same Worker's `queue` handler, storing into sqld.
import { env } from "cloudflare:test";
import { createDb, ingestedBatches, logEntries } from "@vigil/db";
import { eq } from "drizzle-orm";
import { describe, expect, inject, it } from "vitest";
import type { Env } from "../../../src/worker.ts";
import { callWorker } from "../bindings.ts";

const METRICS_TOKEN = "queue-metrics-token-0123456789";
const T0 = Date.UTC(2026, 10, 27, 12);
/** how long a test waits for the queue to deliver: a delivery waits up to 1 s for more messages */
const DELIVERY = { timeout: 15_000, interval: 100 };

const workerEnv = () => env as unknown as Env;

const call = (path: string, init?: RequestInit) => callWorker(workerEnv(), path, init);

const json = (body: unknown, key?: string): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
  body: JSON.stringify(body),
});

async function enroll(hostname: string): Promise<{ hostId: string; hostToken: string }> {
  const tokenRes = await call("/api/v1/enrollment-tokens", json({ name: hostname }, inject("adminKey")));
  const { token } = (await tokenRes.json()) as { token: string };
  const res = await call(
    "/api/v1/probe/enroll",
    json({ token, facts: { hostname, machineId: crypto.randomUUID() } }),
  );
  expect(res.status).toBe(201);
  return (await res.json()) as { hostId: string; hostToken: string };
}

let counter = 0;
function batch(fields: Record<string, unknown> = {}) {
  const batchId = `queued-${Date.now()}-${counter++}`;
  return {
    v: 1,
    batchId,
    sentAt: T0,
    samples: [{ ts: T0, load1: 0.5 }],
    logs: [{ ts: T0, priority: 3, message: `from ${batchId}` }],
    ...fields,
  };
}

const send = (hostToken: string, body: unknown) => call("/api/v1/probe/batches", json(body, hostToken));

const db = () => createDb({ url: inject("sqldUrl") });

async function storedBatchIds(hostId: string): Promise<string[]> {
  const rows = await db()
    .select({ batchId: ingestedBatches.batchId })
    .from(ingestedBatches)
    .where(eq(ingestedBatches.hostId, hostId));
  return rows.map((r) => r.batchId).sort();
}

async function logCount(hostId: string): Promise<number> {
  return (await db().select().from(logEntries).where(eq(logEntries.hostId, hostId))).length;
}

/** One sample of this isolate's self-metrics, 0 while it has none. */
async function metric(series: string): Promise<number> {
  const res = await call("/metrics", { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  expect(res.status).toBe(200);
  const line = (await res.text()).split("\n").find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

const queued = (result: string) => `vigil_queued_batches_total{result="${result}"}`;

describe("queued ingest on the Worker", () => {
  it("uses the sqld the global setup started", () => {
    expect(workerEnv().LIBSQL_URL).toBe(inject("sqldUrl"));
    expect(workerEnv().INGEST_QUEUE).toBeDefined();
  });

  it("answers 202 once the batch is queued, and the consumer then stores it", async () => {
    const host = await enroll("web-queued");
    const queuedBefore = await metric('vigil_probe_batches_total{result="queued"}');
    const storedBefore = await metric(queued("stored"));
    const body = batch();
    const res = await send(host.hostToken, body);
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({
      batchId: body.batchId,
      accepted: true,
      queued: true,
      duplicate: false,
      config: { intervalSec: expect.any(Number) },
    });
    await expect.poll(() => storedBatchIds(host.hostId), DELIVERY).toEqual([body.batchId]);
    expect(await logCount(host.hostId)).toBe(1);
    expect(await metric('vigil_probe_batches_total{result="queued"}')).toBe(queuedBefore + 1);
    expect(await metric(queued("stored"))).toBe(storedBefore + 1);
  });

  it("stores a batch the probe sent twice once, and counts the repeat as a duplicate", async () => {
    const host = await enroll("web-repeat");
    const duplicatesBefore = await metric(queued("duplicate"));
    const body = batch();
    expect((await send(host.hostToken, body)).status).toBe(202);
    await expect.poll(() => storedBatchIds(host.hostId), DELIVERY).toEqual([body.batchId]);
    expect((await send(host.hostToken, body)).status).toBe(202);
    await expect.poll(() => metric(queued("duplicate")), DELIVERY).toBe(duplicatesBefore + 1);
    expect(await storedBatchIds(host.hostId)).toEqual([body.batchId]);
    expect(await logCount(host.hostId)).toBe(1);
  });

  it("stores a batch sent twice at the same moment once", async () => {
    const host = await enroll("web-twice-at-once");
    const body = batch();
    const answers = await Promise.all([send(host.hostToken, body), send(host.hostToken, body)]);
    expect(answers.map((r) => r.status)).toEqual([202, 202]);
    await expect.poll(() => storedBatchIds(host.hostId), DELIVERY).toEqual([body.batchId]);
    const later = batch();
    expect((await send(host.hostToken, later)).status).toBe(202);
    await expect
      .poll(() => storedBatchIds(host.hostId), DELIVERY)
      .toEqual([body.batchId, later.batchId].sort());
    expect(await logCount(host.hostId)).toBe(2);
  });

  it("writes a batch too large for a queue message directly and answers 200", async () => {
    const host = await enroll("web-large");
    const logs = Array.from({ length: 200 }, (_, i) => ({
      ts: T0 + i,
      priority: 6,
      message: "x".repeat(1_000),
    }));
    const body = batch({ logs });
    const res = await send(host.hostToken, body);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ batchId: body.batchId, duplicate: false });
    expect(await storedBatchIds(host.hostId)).toEqual([body.batchId]);
    expect(await logCount(host.hostId)).toBe(200);
  });

  it("acknowledges and counts a message that is not a queued batch, and never delivers it again", async () => {
    const invalidBefore = await metric(queued("invalid"));
    await workerEnv().INGEST_QUEUE?.send({ v: 1, hostId: "nobody" }, { contentType: "json" });
    await expect.poll(() => metric(queued("invalid")), DELIVERY).toBe(invalidBefore + 1);
    // A later delivery goes through while the bad message stays gone.
    const host = await enroll("web-after-invalid");
    const body = batch();
    expect((await send(host.hostToken, body)).status).toBe(202);
    await expect.poll(() => storedBatchIds(host.hostId), DELIVERY).toEqual([body.batchId]);
    expect(await metric(queued("invalid"))).toBe(invalidBefore + 1);
  });

  it("writes one delivery of batches from several hosts in one transaction", async () => {
    const hosts = await Promise.all(["db-1", "db-2", "db-3"].map(enroll));
    const groupsBefore = await metric('vigil_group_commits_total{purpose="queued batches"}');
    const itemsBefore = await metric('vigil_group_commit_items_total{purpose="queued batches"}');
    const bodies = hosts.map(() => batch());
    const answers = await Promise.all(hosts.map((h, i) => send(h.hostToken, bodies[i])));
    expect(answers.map((r) => r.status)).toEqual([202, 202, 202]);
    for (const [i, h] of hosts.entries()) {
      await expect.poll(() => storedBatchIds(h.hostId), DELIVERY).toEqual([bodies[i]?.batchId]);
    }
    expect(await metric('vigil_group_commits_total{purpose="queued batches"}')).toBe(groupsBefore + 1);
    expect(await metric('vigil_group_commit_items_total{purpose="queued batches"}')).toBe(itemsBefore + 3);
  });
});
