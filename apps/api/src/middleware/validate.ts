import { ErrorCode } from "@vigil/contract";
import type { ValidationTargets } from "hono";
import { validator } from "hono/validator";
import type { z } from "zod";
import { RequestValidationError } from "./errors.ts";

const JSON_MEDIA = /^application\/([\w.-]+\+)?json$/i;
const targetName: Partial<Record<keyof ValidationTargets, string>> = { json: "body", param: "path" };

/**
 * zod at the edge: parses one part of the request and throws into `onError` on failure, naming each
 * invalid field by path (`body.scopes.0`). Handlers read the typed result with `c.req.valid(target)`.
 */
export function validate<T extends keyof ValidationTargets, S extends z.ZodType>(target: T, schema: S) {
  return validator(target, (value, c): z.output<S> => {
    if (target === "json") {
      const type = (c.req.header("content-type") ?? "").split(";")[0]?.trim() ?? "";
      if (!JSON_MEDIA.test(type)) {
        throw new RequestValidationError(
          [{ path: "header.content-type", message: "expected application/json" }],
          ErrorCode.unsupportedMediaType,
          415,
        );
      }
    }
    return parseInput(schema, value, targetName[target] ?? target);
  });
}

/** Parses `value` or throws a validation error naming every bad field under `prefix` (`body.samples.0.ts`). */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, prefix: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new RequestValidationError(
      result.error.issues.slice(0, 50).map((issue) => ({
        path: [prefix, ...issue.path.map(String)].join("."),
        message: issue.message,
      })),
    );
  }
  return result.data;
}
