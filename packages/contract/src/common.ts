import { z } from "zod";

/** Milliseconds since the Unix epoch, UTC. Every timestamp on the wire uses this unit. */
export const epochMs = z.number().int().nonnegative().describe("ms since epoch UTC");

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

/**
 * An http(s) URL. Links people click (runbooks, logos) and addresses the server calls (checks, webhooks)
 * alike: `javascript:` or `data:` in a runbook link would run in whoever opens the alert.
 */
export const httpUrl = z
  .url({ protocol: /^https?$/ })
  .max(2000)
  .describe("http(s) URL");
