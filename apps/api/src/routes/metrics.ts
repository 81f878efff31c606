import { renderPrometheus } from "@vigil/engine";
import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { requireScope } from "../middleware/auth.ts";

/** Prometheus scrape target: `bearer_token` (or `authorization.credentials`) set to a read key. */
export const prometheusRoutes = new Hono<AppEnv>().get("/metrics", requireScope("read"), async (c) => {
  const { db, clock } = c.var.deps;
  c.header("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  return c.body(await renderPrometheus(db, clock, c.var.principal.projectId));
});
