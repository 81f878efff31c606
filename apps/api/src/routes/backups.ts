import { listProjectBackups } from "@vigil/engine";
import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { requireScope } from "../middleware/auth.ts";

/** Every backup of the project's hosts, one row per host and name; `/hosts/:id/backups` has one host's runs. */
export const backupRoutes = new Hono<AppEnv>().get("/", requireScope("read"), async (c) => {
  const { db, clock } = c.var.deps;
  return c.json({ backups: await listProjectBackups(db, clock, c.var.principal.projectId) });
});
