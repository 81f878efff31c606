import { type ErrorBody, ErrorCode } from "@vigil/contract";
import { DomainError, InvalidInputError, isAPIError, RateLimitedError } from "@vigil/engine";
import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "../env.ts";

/** Raised by `validate` when input fails its schema; carries every invalid field. */
export class RequestValidationError extends Error {
  constructor(
    readonly fields: { path: string; message: string }[],
    readonly code: ErrorCode = ErrorCode.validation,
    readonly status: ContentfulStatusCode = 400,
  ) {
    super(fields.map((f) => `${f.path}: ${f.message}`).join("; "));
  }
}

const statusOf: Record<string, ContentfulStatusCode> = {
  [ErrorCode.validation]: 400,
  [ErrorCode.badRequest]: 400,
  [ErrorCode.invalidJson]: 400,
  [ErrorCode.unauthorized]: 401,
  [ErrorCode.forbidden]: 403,
  [ErrorCode.notFound]: 404,
  [ErrorCode.methodNotAllowed]: 405,
  [ErrorCode.conflict]: 409,
  [ErrorCode.payloadTooLarge]: 413,
  [ErrorCode.unsupportedMediaType]: 415,
  [ErrorCode.rateLimited]: 429,
  [ErrorCode.capReached]: 403,
  [ErrorCode.unavailable]: 503,
};

export function errorResponse(
  c: Context<AppEnv>,
  status: ContentfulStatusCode,
  code: ErrorCode,
  message: string,
  fields?: ErrorBody["error"]["fields"],
) {
  const body: ErrorBody = {
    error: { code, message, requestId: c.get("requestId") ?? "", ...(fields ? { fields } : {}) },
  };
  return c.json(body, status);
}

/** The single place where failures become HTTP answers. A 500 never echoes an internal message. */
export const onError: ErrorHandler<AppEnv> = (err, c) => {
  if (err instanceof RequestValidationError) {
    return errorResponse(c, err.status, err.code, err.message, err.fields);
  }
  if (err instanceof InvalidInputError) {
    return errorResponse(c, 400, err.code, err.message, [{ path: err.path, message: err.message }]);
  }
  if (err instanceof RateLimitedError) c.header("Retry-After", String(err.retryAfter));
  if (err instanceof DomainError) {
    return errorResponse(c, statusOf[err.code] ?? 400, err.code, err.message);
  }
  if (isAPIError(err) && err.statusCode < 500) {
    // better-auth refusing a call made on the caller's behalf (e.g. inviting someone already a member).
    const body = err.body as { code?: string; message?: string } | undefined;
    const code = body?.code && /^[A-Z][A-Z0-9_]*$/.test(body.code) ? body.code : ErrorCode.badRequest;
    return errorResponse(
      c,
      err.statusCode as ContentfulStatusCode,
      code as ErrorCode,
      body?.message || err.message,
    );
  }
  if (err instanceof HTTPException && err.status < 500) {
    // Hono raises these for malformed JSON and oversized bodies before our code runs.
    const code = /json/i.test(err.message)
      ? ErrorCode.invalidJson
      : err.status === 413
        ? ErrorCode.payloadTooLarge
        : ErrorCode.badRequest;
    return errorResponse(c, err.status as ContentfulStatusCode, code, err.message || "bad request");
  }
  console.error(`[${c.get("requestId")}] unhandled error on ${c.req.method} ${c.req.path}`, err);
  return errorResponse(c, 500, ErrorCode.internal, "internal error; quote the request id when reporting it");
};

export const notFound: NotFoundHandler<AppEnv> = (c) =>
  errorResponse(c, 404, ErrorCode.notFound, `no route for ${c.req.method} ${c.req.path}`);
