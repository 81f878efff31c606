import { createHash, randomUUID } from "node:crypto";

export function newBatchId(): string {
  return randomUUID();
}

/**
 * The id of one half of a split batch, derived from the parent's id so that re-splitting the same batch
 * after a crash yields the same ids and the server's batchId idempotency still holds. Shaped as a UUID
 * (version 8, "custom") so it passes the same checks as a random one.
 */
export function childBatchId(parentId: string, half: 0 | 1): string {
  const hex = createHash("sha256").update(`${parentId}/${half}`).digest("hex");
  const variant = ((Number.parseInt(hex[16] ?? "0", 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
