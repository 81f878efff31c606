import { ErrorCode } from "@vigil/contract";
import type { Context } from "hono";
import type { AppEnv } from "../env.ts";
import { InflateLimitError, webGunzip } from "../platform/gunzip.ts";
import { RequestValidationError } from "./errors.ts";

const fail = (code: ErrorCode, status: 400 | 413 | 415, path: string, message: string) =>
  new RequestValidationError([{ path, message }], code, status);

/**
 * Reads a body of one of `types`, plain or gzip, as text. The compressed size is already bounded by the
 * body limit; the inflated size is capped at `limit` while inflating, so a small gzip bomb costs nothing.
 * The runtime's own inflater is used when the entry provides one (`deps.gunzip`), else DecompressionStream.
 */
export async function readTextBody(
  c: Context<AppEnv>,
  types: readonly string[],
  limit: number,
): Promise<{ type: string; text: string }> {
  const type = (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (!types.includes(type)) {
    throw fail(ErrorCode.unsupportedMediaType, 415, "header.content-type", `expected ${types.join(" or ")}`);
  }
  const encoding = (c.req.header("content-encoding") ?? "identity").trim().toLowerCase();
  if (encoding !== "gzip" && encoding !== "identity") {
    throw fail(ErrorCode.unsupportedMediaType, 415, "header.content-encoding", "expected gzip or identity");
  }
  const raw = new Uint8Array(await c.req.arrayBuffer());
  let bytes: Uint8Array = raw;
  if (encoding === "gzip") {
    try {
      bytes = await (c.var.deps.gunzip ?? webGunzip)(raw, limit);
    } catch (err) {
      if (err instanceof InflateLimitError) {
        throw fail(
          ErrorCode.payloadTooLarge,
          413,
          "body",
          `inflates to more than ${limit} bytes; send less at once`,
        );
      }
      throw fail(ErrorCode.badRequest, 400, "body", "is not valid gzip");
    }
  } else if (raw.byteLength > limit) {
    throw fail(ErrorCode.payloadTooLarge, 413, "body", `is larger than ${limit} bytes`);
  }
  return { type, text: new TextDecoder().decode(bytes) };
}

/** Parses JSON text, or refuses it with INVALID_JSON (400). */
export function parseJsonBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw fail(ErrorCode.invalidJson, 400, "body", "is not valid JSON");
  }
}

/** Reads a probe batch body: JSON, plain or gzip, up to `maxBatchInflatedBytes` inflated. */
export async function readBatchBody(c: Context<AppEnv>): Promise<unknown> {
  const { text } = await readTextBody(c, ["application/json"], c.var.deps.config.maxBatchInflatedBytes);
  return parseJsonBody(text);
}
