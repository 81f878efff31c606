import { renderPrometheus } from "@vigil/engine";
import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { authenticate } from "../middleware/auth.ts";
import { renderSelfMetrics } from "../self/exposition.ts";

const TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8";

/** Compares without an early exit, so timing tells nothing about how much of the token was right. */
function sameToken(given: string, expected: string): boolean {
  let diff = given.length ^ expected.length;
  for (let i = 0; i < expected.length; i++) diff |= (given.charCodeAt(i) || 0) ^ expected.charCodeAt(i);
  return diff === 0;
}

/**
 * Prometheus scrape target, two ways in:
 * - `Authorization: Bearer <VIGIL_METRICS_TOKEN>`: Vigil's own metrics, across every project (the
 *   operator's view); unset, nobody can read them;
 * - a read-scoped API key: that project's host metrics.
 */
export const prometheusRoutes = new Hono<AppEnv>().get("/metrics", async (c) => {
  const { db, clock, config } = c.var.deps;
  const token = c.req.header("authorization")?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
  const headers = { "content-type": TEXT_FORMAT, "cache-control": "no-store" };
  if (token && config.selfWatch.metricsToken && sameToken(token, config.selfWatch.metricsToken)) {
    return c.body(await renderSelfMetrics(c.var.deps), 200, headers);
  }
  await authenticate(c, "read");
  return c.body(await renderPrometheus(db, clock, c.var.principal.projectId), 200, headers);
});
