import { z } from "zod";

/**
 * The one error body every 4xx/5xx answers with. `code` is SCREAMING_SNAKE and stable (clients branch on
 * it); `message` is for people; `fields` lists each invalid input by path on validation errors.
 */
export const errorBodySchema = z.object({
  error: z.object({
    code: z.string().regex(/^[A-Z][A-Z0-9_]*$/),
    message: z.string(),
    requestId: z.string(),
    fields: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  }),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;

/** Stable error codes. New codes may be added; existing ones never change meaning. */
export const ErrorCode = {
  badRequest: "BAD_REQUEST",
  validation: "VALIDATION_FAILED",
  invalidJson: "INVALID_JSON",
  unauthorized: "UNAUTHORIZED",
  forbidden: "FORBIDDEN",
  notFound: "NOT_FOUND",
  methodNotAllowed: "METHOD_NOT_ALLOWED",
  conflict: "CONFLICT",
  payloadTooLarge: "PAYLOAD_TOO_LARGE",
  headersTooLarge: "HEADERS_TOO_LARGE",
  unsupportedMediaType: "UNSUPPORTED_MEDIA_TYPE",
  rateLimited: "RATE_LIMITED",
  capReached: "CAP_REACHED",
  internal: "INTERNAL",
  unavailable: "UNAVAILABLE",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];
