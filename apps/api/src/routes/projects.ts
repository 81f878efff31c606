import { getProject } from "@vigil/engine";
import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { requireScope } from "../middleware/auth.ts";

export const projectRoutes = new Hono<AppEnv>().get("/current", requireScope("read"), async (c) => {
  return c.json(await getProject(c.var.deps.db, c.var.principal.projectId));
});
