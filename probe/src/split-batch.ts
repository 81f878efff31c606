import type { ProbeBatchV1Input } from "@vigil/contract";
import { childBatchId } from "./batch-id.ts";

const ROW_ARRAYS = ["samples", "filesystems", "disks", "interfaces", "logs", "backups", "notes"] as const;

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
