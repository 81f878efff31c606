// The queued ingest path in-process on Node: the route and the consumer around an in-memory queue. The
// same path runs against Cloudflare's Queues emulation in test/workers-queue/.
import type { QueuedProbeBatch } from "@vigil/contract";
import { ingestedBatches } from "@vigil/db";
import { HOST_TOKEN_CACHE } from "@vigil/engine";
import { describe, expect, it } from "vitest";
import { type LiveDeps, withRuntime } from "../src/deps.ts";
import {
  consumeQueuedBatches,
  type IngestQueue,
  type QueuedDelivery,
  retryDelaySeconds,
} from "../src/ingest-queue.ts";
import { createRuntime } from "../src/self/runtime.ts";
import { batch, enrollHost, jsonRequest, sendBatch, testApp } from "./helpers.ts";

/** A queue that keeps what it is sent, and a delivery of it that records each message's fate. */
function memoryQueue(options: { refuse?: boolean } = {}) {
  const messages: QueuedProbeBatch[] = [];
  const queue: IngestQueue = {
    async send(message) {
      if (options.refuse) throw new Error("queue unavailable");
      messages.push(structuredClone(message));
    },
  };
  const fates: string[] = [];
  const deliver = (bodies: unknown[] = messages.splice(0), attempts = 1): QueuedDelivery => ({
    messages: bodies.map((body, i) => ({
      id: `m${i}`,
      body,
      attempts,
      ack: () => void fates.push(`ack m${i}`),
      retry: (options) => void fates.push(`retry m${i} in ${options?.delaySeconds ?? 0} s`),
    })),
  });
  return { queue, messages, fates, deliver };
}

async function queuedApp(options: { refuse?: boolean } = {}) {
  const q = memoryQueue(options);
  // the app's runtime, made here so the test reads the same engine state (its host cache) as the routes
  const t = await testApp({ ingestQueue: q.queue, runtime: createRuntime(Date.UTC(2026, 10, 27, 12)) });
  const deps: LiveDeps = withRuntime(t.deps);
  const { app } = t;
  const host = await enrollHost(app, t.adminKey);
  const storedIds = async () => (await t.db.select().from(ingestedBatches)).map((r) => r.batchId).sort();
  return { ...t, ...q, deps, host, storedIds, app };
}

describe("queued ingest on Node", () => {
  it("answers 202 once the batch is queued, and stores it when the delivery is consumed", async () => {
    const { app, host, messages, deliver, deps, storedIds, fates } = await queuedApp();
    const res = await sendBatch(app, host.hostToken, batch({ batchId: "queued-0001" }));
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({
      batchId: "queued-0001",
      accepted: true,
      queued: true,
      duplicate: false,
      config: { intervalSec: expect.any(Number) },
    });
    expect(messages).toEqual([expect.objectContaining({ hostId: host.hostId, batch: expect.any(Object) })]);
    expect(await storedIds()).toEqual([]);
    await consumeQueuedBatches(deps, deliver());
    expect(fates).toEqual(["ack m0"]);
    expect(await storedIds()).toEqual(["queued-0001"]);
  });

  it("writes a batch too large for a queue message directly and answers 200", async () => {
    const { app, host, messages, storedIds } = await queuedApp();
    const logs = Array.from({ length: 200 }, (_, i) => ({
      ts: Date.UTC(2026, 10, 27, 12) + i,
      priority: 6,
      message: "x".repeat(1_000),
    }));
    const res = await sendBatch(app, host.hostToken, batch({ batchId: "large-0001", logs }));
    expect(res.status).toBe(200);
    expect(messages).toEqual([]);
    expect(await storedIds()).toEqual(["large-0001"]);
  });

  it("writes the batch directly when the queue refuses it", async () => {
    const { app, host, storedIds } = await queuedApp({ refuse: true });
    const res = await sendBatch(app, host.hostToken, batch({ batchId: "refused-0001" }));
    expect(res.status).toBe(200);
    expect(await storedIds()).toEqual(["refused-0001"]);
  });

  it("acknowledges and counts a message that is no queued batch, and one whose host was deleted", async () => {
    const { app, adminKey, host, messages, deliver, deps, fates, storedIds } = await queuedApp();
    await sendBatch(app, host.hostToken, batch({ batchId: "orphan-0001" }));
    const deleted = await app.request(`/api/v1/hosts/${host.hostId}`, jsonRequest("DELETE", "", adminKey));
    expect(deleted.status).toBe(204);
    await consumeQueuedBatches(deps, deliver([{ v: 1, hostId: "h" }, ...messages.splice(0)]));
    expect(fates).toEqual(["ack m0", "ack m1"]);
    expect(deps.runtime.metrics.value("vigil_queued_batches_total", { result: "invalid" })).toBe(2);
    expect(await storedIds()).toEqual([]);
  });

  it("accepts a host's later batches from the isolate's cache, and still refuses a token that is not the host's", async () => {
    const { app, host, deps, messages } = await queuedApp();
    expect((await sendBatch(app, host.hostToken, batch({ batchId: "cached-0001" }))).status).toBe(202);
    expect((await sendBatch(app, host.hostToken, batch({ batchId: "cached-0002" }))).status).toBe(202);
    expect(deps.runtime.engine.counts.hostTokens).toEqual({ hits: 1, misses: 1 });
    // same prefix (the cache's key), another secret
    const last = host.hostToken.at(-1) === "A" ? "B" : "A";
    const forged = `${host.hostToken.slice(0, -1)}${last}`;
    expect((await sendBatch(app, forged, batch({ batchId: "forged-0001" }))).status).toBe(401);
    expect(messages.map((m) => m.batch.batchId)).toEqual(["cached-0001", "cached-0002"]);
  });

  it("accepts a deleted host's batches for at most the cache's lifetime, and the consumer drops them", async () => {
    const { app, adminKey, clock, host, messages, deliver, deps, storedIds } = await queuedApp();
    await sendBatch(app, host.hostToken, batch({ batchId: "before-0001" }));
    const deleted = await app.request(`/api/v1/hosts/${host.hostId}`, jsonRequest("DELETE", "", adminKey));
    expect(deleted.status).toBe(204);
    expect((await sendBatch(app, host.hostToken, batch({ batchId: "after-0001" }))).status).toBe(202);
    clock.advance(HOST_TOKEN_CACHE.ttlMs);
    expect((await sendBatch(app, host.hostToken, batch({ batchId: "after-0002" }))).status).toBe(401);
    await consumeQueuedBatches(deps, deliver(messages.splice(0)));
    expect(deps.runtime.metrics.value("vigil_queued_batches_total", { result: "invalid" })).toBe(2);
    expect(await storedIds()).toEqual([]);
  });

  it("re-reads a host from the database before writing its batch directly", async () => {
    const { app, adminKey, host, storedIds } = await queuedApp({ refuse: true });
    expect((await sendBatch(app, host.hostToken, batch({ batchId: "direct-0001" }))).status).toBe(200);
    await app.request(`/api/v1/hosts/${host.hostId}`, jsonRequest("DELETE", "", adminKey));
    expect((await sendBatch(app, host.hostToken, batch({ batchId: "direct-0002" }))).status).toBe(401);
    expect(await storedIds()).toEqual([]);
  });

  it("retries the delivery later, and later each time, while the database cannot be reached", async () => {
    const { app, host, messages, deliver, deps, fates, db } = await queuedApp();
    await sendBatch(app, host.hostToken, batch({ batchId: "retry-0001" }));
    await sendBatch(app, host.hostToken, batch({ batchId: "retry-0002" }));
    const queued = messages.splice(0);
    db.$client.close();
    await consumeQueuedBatches(deps, deliver(queued, 1));
    await consumeQueuedBatches(deps, deliver(queued, 4));
    expect(fates).toEqual(["retry m0 in 10 s", "retry m1 in 10 s", "retry m0 in 80 s", "retry m1 in 80 s"]);
    expect(deps.runtime.metrics.value("vigil_queued_batches_total", { result: "retried" })).toBe(4);
  });

  it("waits at most an hour between deliveries of a message", () => {
    expect([1, 2, 3, 9, 10, 50].map(retryDelaySeconds)).toEqual([10, 20, 40, 2560, 3600, 3600]);
  });
});
