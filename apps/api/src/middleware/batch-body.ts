import { ErrorCode } from "@vigil/contract";
import type { Context } from "hono";
import type { AppEnv } from "../env.ts";
import { RequestValidationError } from "./errors.ts";

const fail = (code: ErrorCode, status: 400 | 413 | 415, path: string, message: string) =>
  new RequestValidationError([{ path, message }], code, status);

/**
 * Reads a probe batch body: JSON, plain or gzip. The compressed size is already bounded by the body
 * limit; the inflated size is counted while inflating and the stream abandoned past the limit, so a
 * small gzip bomb costs nothing. Works on Node and workerd alike (DecompressionStream).
 */
export async function readBatchBody(c: Context<AppEnv>): Promise<unknown> {
  const type = (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/json") {
    throw fail(ErrorCode.unsupportedMediaType, 415, "header.content-type", "expected application/json");
  }
  const encoding = (c.req.header("content-encoding") ?? "identity").trim().toLowerCase();
  if (encoding !== "gzip" && encoding !== "identity") {
    throw fail(ErrorCode.unsupportedMediaType, 415, "header.content-encoding", "expected gzip or identity");
  }
  const raw = new Uint8Array(await c.req.arrayBuffer());
  const limit = c.var.deps.config.maxBatchInflatedBytes;
  let bytes = raw;
  if (encoding === "gzip") {
    const reader = new Blob([raw]).stream().pipeThrough(new DecompressionStream("gzip")).getReader();
    const parts: Uint8Array[] = [];
    let total = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        total += value.byteLength;
        if (total > limit) {
          await reader.cancel();
          throw fail(
            ErrorCode.payloadTooLarge,
            413,
            "body",
            `inflates to more than ${limit} bytes; send smaller batches`,
          );
        }
        parts.push(value);
      }
    } catch (err) {
      if (err instanceof RequestValidationError) throw err;
      throw fail(ErrorCode.badRequest, 400, "body", "is not valid gzip");
    }
    bytes = new Uint8Array(total);
    let offset = 0;
    for (const part of parts) {
      bytes.set(part, offset);
      offset += part.byteLength;
    }
  } else if (raw.byteLength > limit) {
    throw fail(ErrorCode.payloadTooLarge, 413, "body", `is larger than ${limit} bytes`);
  }
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw fail(ErrorCode.invalidJson, 400, "body", "is not valid JSON");
  }
}
