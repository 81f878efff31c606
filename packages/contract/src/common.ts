import { z } from "zod";
import { TIME_BOUNDS } from "./limits.ts";

export { TIME_BOUNDS };

/** Milliseconds since the Unix epoch, UTC. Every timestamp on the wire uses this unit. */
export const epochMs = z.number().int().nonnegative().describe("ms since epoch UTC");

/**
 * A timestamp that arrives from outside (a probe batch, an API request): epoch ms within TIME_BOUNDS.
 * Answers stay plain `epochMs`; only input is bounded.
 */
export const wireTime = z
  .number()
  .int()
  .min(TIME_BOUNDS.minMs, "must be a time in ms since the epoch from the year 2000 on")
  .max(TIME_BOUNDS.maxMs, "must be a time in ms since the epoch before the year 2200")
  .describe("ms since epoch UTC, 2000 to 2200");

/** A time in a query string (`?from=`, `?to=`), bounded like every other input time. */
export const timeQueryParam = z.coerce.number().pipe(wireTime);

/** A non-negative byte count. */
export const bytes = z.number().nonnegative().describe("bytes");

/** A percentage in the closed range 0–100. */
export const percent = z.number().min(0).max(100).describe("percent 0–100");

/** A non-negative rate per second (bytes/s, ops/s, switches/s …; the field name says which). */
export const perSecond = z.number().nonnegative().describe("per second");

/** A non-negative whole count. */
export const count = z.number().int().nonnegative().describe("count");

/** A short identifier-like string: names, units, mount points. */
export const shortText = (max = 256) => z.string().min(1).max(max);

/** An IANA time zone the runtime knows (status pages, weekly reports). */
export const timezoneSchema = z
  .string()
  .min(1)
  .max(64)
  .refine((tz) => {
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  }, "an IANA time zone such as Europe/Berlin");

/**
 * An http(s) URL. Links people click (runbooks, logos) and addresses the server calls (checks, webhooks)
 * alike: `javascript:` or `data:` in a runbook link would run in whoever opens the alert.
 */
export const httpUrl = z
  .url({ protocol: /^https?$/ })
  .max(2000)
  .describe("http(s) URL");

/**
 * "2026-11-27 12:01:00 UTC" for people. Never throws: a stored time outside what Date can show (rows written
 * before input times were bounded) reads as its raw number instead of failing the message it is part of.
 */
export function utcText(ms: number): string {
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) return `${ms} ms since the epoch`;
  return `${date.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}
