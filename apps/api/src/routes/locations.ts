import { edgeKinds, listCheckLocations } from "@vigil/engine";
import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { requireScope } from "../middleware/auth.ts";

/** Where checks can run from: `edge` and the project's probes that run checks (issue 17). */
export const locationRoutes = new Hono<AppEnv>().get("/", requireScope("read"), async (c) => {
  const { db, clock, probes } = c.var.deps;
  const kinds = probes ? edgeKinds(probes) : [];
  return c.json({ locations: await listCheckLocations(db, clock, c.var.principal.projectId, kinds) });
});
