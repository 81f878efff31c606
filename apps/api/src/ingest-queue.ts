/**
 * The optional queued path for probe batches (Workers with an `INGEST_QUEUE` binding): the route hands a
 * validated batch to the queue and answers 202 once the queue has it; the consumer stores a delivery of
 * many batches, from many hosts, in one transaction. Both sides are written against the small interfaces
 * below, so nothing here depends on the Workers runtime.
 */
import {
  type ProbeBatchQueuedResponse,
  type ProbeBatchV1,
  type QueuedProbeBatch,
  queuedProbeBatchSchema,
} from "@vigil/contract";
import {
  type AcceptedBatch,
  effectiveHostConfig,
  evaluateGroupRules,
  type GroupOutcome,
  type HostPrincipal,
  hostPrincipals,
  type StoredBatch,
  storeBatchGroup,
} from "@vigil/engine";
import type { LiveDeps } from "./deps.ts";
import { seriesCaps } from "./limits.ts";

/** Where accepted batches wait for the consumer (a Cloudflare Queue's producer binding). */
export interface IngestQueue {
  /** resolves once the queue has stored the message durably */
  send(message: QueuedProbeBatch): Promise<void>;
}

/**
 * Largest queued message, in bytes of JSON. Cloudflare Queues refuse messages over 128 KB; the margin
 * covers the queue's own envelope. Larger batches are written directly, as without a queue.
 */
export const MAX_QUEUED_MESSAGE_BYTES = 120 * 1024;

/**
 * Puts an authenticated, validated batch in the queue and answers what the probe is told (202), or null
 * when the batch is too large for a message or the queue refused it: the caller then writes it directly.
 * A send that failed may still have reached the queue; writing directly as well is safe, since the
 * consumer drops a batch id already stored.
 */
export async function queueBatch(
  queue: IngestQueue,
  receivedAt: number,
  host: HostPrincipal,
  batch: ProbeBatchV1,
): Promise<ProbeBatchQueuedResponse | null> {
  const message: QueuedProbeBatch = {
    v: 1,
    hostId: host.hostId,
    projectId: host.projectId,
    receivedAt,
    batch,
  };
  if (new TextEncoder().encode(JSON.stringify(message)).byteLength > MAX_QUEUED_MESSAGE_BYTES) return null;
  try {
    await queue.send(message);
  } catch (err) {
    console.error("ingest queue refused a batch; writing it directly", err);
    return null;
  }
  return {
    batchId: batch.batchId,
    accepted: true,
    queued: true,
    duplicate: false,
    config: effectiveHostConfig(host.settings, host.row.config),
  };
}

/** One delivered message, as a queue consumer sees it (Cloudflare's `Message`). */
export interface QueuedMessage {
  readonly id: string;
  readonly body: unknown;
  /** deliveries so far, this one included (1 the first time) */
  readonly attempts: number;
  ack(): void;
  retry(options?: { delaySeconds?: number }): void;
}

/** One delivery of messages (Cloudflare's `MessageBatch`). */
export interface QueuedDelivery {
  readonly messages: readonly QueuedMessage[];
}

/**
 * How long a message waits before its next delivery: 10 s, doubling, at most an hour. Immediate retries
 * would spend the consumer's `max_retries` (10) within seconds of a database outage; these span about
 * two and a half hours before Queues give the message up.
 */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(10 * 2 ** Math.max(0, attempts - 1), 3600);
}

const retryLater = (message: QueuedMessage) =>
  message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });

/**
 * Consumes one delivery of queued batches.
 * 1. A message that fails validation, or whose host is gone (the endpoint's host cache may accept a batch
 *    of a host deleted up to 60 s before), is acknowledged and counted `invalid`: retrying could never
 *    store it.
 * 2. The hosts are read in one query; if that fails (the database away) every message is retried, later
 *    each time (`retryDelaySeconds`).
 * 3. The batches are stored in one transaction (`storeBatchGroup`); stored and repeated ones are
 *    acknowledged, a batch that failed is retried alone.
 * 4. The stored batches' rules are evaluated together (`evaluateGroupRules`: one read of every host's
 *    alerts, one write of every change); a failure there is logged, the batches are durable already and
 *    the tick's re-checks go on.
 */
export async function consumeQueuedBatches(deps: LiveDeps, delivery: QueuedDelivery): Promise<void> {
  const { db, clock, runtime, config } = deps;
  const count = (result: "stored" | "duplicate" | "invalid" | "retried", by = 1) =>
    runtime.metrics.count("vigil_queued_batches_total", { result }, by);

  const valid: { message: QueuedMessage; queued: QueuedProbeBatch }[] = [];
  for (const message of delivery.messages) {
    const parsed = queuedProbeBatchSchema.safeParse(message.body);
    if (parsed.success) {
      valid.push({ message, queued: parsed.data });
    } else {
      console.error(
        `ingest queue: message ${message.id} is not a queued batch; dropped`,
        parsed.error.issues,
      );
      message.ack();
      count("invalid");
    }
  }
  if (valid.length === 0) return;

  let hosts: Map<string, HostPrincipal>;
  try {
    hosts = await hostPrincipals(
      db,
      valid.map((v) => v.queued),
    );
  } catch (err) {
    console.error("ingest queue: cannot read hosts; retrying the delivery", err);
    for (const v of valid) retryLater(v.message);
    count("retried", valid.length);
    return;
  }
  const accepted: (AcceptedBatch & { message: QueuedMessage })[] = [];
  for (const { message, queued } of valid) {
    const host = hosts.get(queued.hostId);
    if (host) {
      accepted.push({ host, batch: queued.batch, receivedAt: queued.receivedAt, message });
    } else {
      console.error(`ingest queue: host ${queued.hostId} is gone; batch ${queued.batch.batchId} dropped`);
      message.ack();
      count("invalid");
    }
  }
  if (accepted.length === 0) return;

  let outcomes: GroupOutcome[];
  try {
    outcomes = await storeBatchGroup(db, runtime.engine, accepted, seriesCaps(config.limits));
  } catch (err) {
    console.error("ingest queue: storing a delivery failed; retrying it", err);
    for (const a of accepted) retryLater(a.message);
    count("retried", accepted.length);
    return;
  }
  const stored: StoredBatch[] = [];
  for (const [i, outcome] of outcomes.entries()) {
    const item = accepted[i];
    if (!item) continue;
    if (outcome.outcome === "failed") {
      console.error(`ingest queue: batch ${item.batch.batchId} not stored; retrying it`, outcome.error);
      retryLater(item.message);
      count("retried");
      continue;
    }
    item.message.ack();
    count(outcome.outcome);
    if (outcome.outcome === "stored")
      stored.push({ host: item.host, input: { batch: item.batch, ...outcome.result } });
  }
  await evaluateGroupRules(db, clock, runtime.engine, stored).catch((err) =>
    console.error("rule evaluation failed", err),
  );
}
