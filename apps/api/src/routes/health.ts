import { ErrorCode } from "@vigil/contract";
import { checkHealth } from "@vigil/engine";
import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { readiness } from "../self/readiness.ts";

export const healthRoutes = new Hono<AppEnv>()
  /** Liveness, kept cheap: one `select 1`. */
  .get("/healthz", async (c) => {
    const { db, clock, config } = c.var.deps;
    const health = await checkHealth(db, clock, config.version);
    c.header("Cache-Control", "no-store");
    return c.json(health, health.db === "ok" ? 200 : 503);
  })
  /**
   * Readiness: is Vigil doing its job (self/readiness.ts)? Public like /healthz, for load balancers and
   * uptime checkers; it names counts and delays, never data. A 503 carries the error shape as well as the
   * report, so clients that read only `error` still learn why.
   */
  .get("/readyz", async (c) => {
    const report = await readiness(c.var.deps);
    c.header("Cache-Control", "no-store");
    if (report.status === "ready") return c.json(report, 200);
    const error = {
      code: ErrorCode.unavailable,
      message: `not ready: ${report.reasons.join("; ")}`,
      requestId: c.get("requestId") ?? "",
    };
    return c.json({ error, ...report }, 503);
  });
