/**
 * Inflating probe batches, with the inflated size capped. Two implementations of one contract:
 * DecompressionStream works on every runtime (workerd included); node:zlib does the same work in native
 * code without web streams, which measured clearly cheaper on the self-hosted server's hottest path.
 */

/** Thrown when the inflated body would pass the limit. */
export class InflateLimitError extends Error {}
/** Thrown when the body is not gzip. */
export class InflateFormatError extends Error {}

export type Gunzip = (bytes: Uint8Array<ArrayBuffer>, limit: number) => Promise<Uint8Array>;

export const webGunzip: Gunzip = async (bytes, limit) => {
  const reader = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip")).getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limit) {
        await reader.cancel();
        throw new InflateLimitError();
      }
      parts.push(value);
    }
  } catch (err) {
    throw err instanceof InflateLimitError ? err : new InflateFormatError();
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
};
