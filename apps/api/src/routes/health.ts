import { checkHealth } from "@vigil/engine";
import { Hono } from "hono";
import type { AppEnv } from "../env.ts";

export const healthRoutes = new Hono<AppEnv>().get("/healthz", async (c) => {
  const { db, clock, config } = c.var.deps;
  const health = await checkHealth(db, clock, config.version);
  c.header("Cache-Control", "no-store");
  return c.json(health, health.db === "ok" ? 200 : 503);
});
