import { updateProjectSettingsSchema } from "@vigil/contract";
import { getProject, getProjectSettings, updateProjectSettings } from "@vigil/engine";
import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { requireScope } from "../middleware/auth.ts";
import { validate } from "../middleware/validate.ts";

export const projectRoutes = new Hono<AppEnv>()
  .get("/current", requireScope("read"), async (c) => {
    return c.json(await getProject(c.var.deps.db, c.var.principal.projectId));
  })
  .get("/current/settings", requireScope("read"), async (c) => {
    return c.json(await getProjectSettings(c.var.deps.db, c.var.principal.projectId));
  })
  .patch(
    "/current/settings",
    requireScope("admin"),
    validate("json", updateProjectSettingsSchema),
    async (c) => {
      return c.json(
        await updateProjectSettings(c.var.deps.db, c.var.principal.projectId, c.req.valid("json")),
      );
    },
  );
