import type { ProbeBatchV1Input } from "@vigil/contract";
import { childBatchId } from "./batch-id.ts";
import type { Collection } from "./collect.ts";
import { PROBE_BATCH_LIMITS } from "./limits.ts";

const ROW_ARRAYS = [
  "samples",
  "filesystems",
  "disks",
  "interfaces",
  "logs",
  "backups",
  "notes",
  "customMetrics",
  "backupChecks",
  "backupDrills",
  "checkResults",
  "commandResults",
] as const;

function rowCount(batch: ProbeBatchV1Input): number {
  return ROW_ARRAYS.reduce((sum, key) => sum + (batch[key]?.length ?? 0), 0);
}

/**
 * Halves a batch the server refused as too large (413): every row array is cut in two, facts and state go
 * with the first half. Undefined when there is nothing left to halve (one row, or only facts/state).
 */
export function splitBatch(batch: ProbeBatchV1Input): [ProbeBatchV1Input, ProbeBatchV1Input] | undefined {
  const rows = rowCount(batch);
  const hasSingletons = batch.facts !== undefined || batch.state !== undefined;
  if (rows <= 1 && !(rows === 1 && hasSingletons)) return undefined;
  const first: ProbeBatchV1Input = { v: 1, batchId: childBatchId(batch.batchId, 0), sentAt: batch.sentAt };
  const second: ProbeBatchV1Input = { v: 1, batchId: childBatchId(batch.batchId, 1), sentAt: batch.sentAt };
  if (batch.facts) first.facts = batch.facts;
  if (batch.state) first.state = batch.state;
  for (const key of ROW_ARRAYS) {
    const rowsOfKind = batch[key] as unknown[] | undefined;
    if (!rowsOfKind || rowsOfKind.length === 0) continue;
    // With singletons in the first half, a single-row batch sends its row in the second half.
    const cut = rows === 1 ? 0 : Math.ceil(rowsOfKind.length / 2);
    (first as Record<string, unknown>)[key] = rowsOfKind.slice(0, cut);
    (second as Record<string, unknown>)[key] = rowsOfKind.slice(cut);
  }
  return [first, second];
}

/**
 * Cuts a collection with more custom samples than one batch may carry (PROBE_BATCH_LIMITS.customSamples;
 * the server refuses the whole batch past it) into several, in order, before it is spooled. Everything
 * else rides with the first part. The size in bytes is left to the 413 halving above: the server's body
 * limit is its operator's setting, which the probe learns only from the answer.
 */
export function splitCollection(
  collection: Collection,
  maxCustomSamples: number = PROBE_BATCH_LIMITS.customSamples,
): Collection[] {
  const custom = collection.customMetrics;
  if (!custom || custom.length <= maxCustomSamples) return [collection];
  const parts: Collection[] = [{ ...collection, customMetrics: custom.slice(0, maxCustomSamples) }];
  for (let start = maxCustomSamples; start < custom.length; start += maxCustomSamples)
    parts.push({ customMetrics: custom.slice(start, start + maxCustomSamples) });
  return parts;
}
