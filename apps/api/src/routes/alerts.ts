import { historyQuerySchema, listAlertsQuerySchema } from "@vigil/contract";
import { getAlert, listAlerts } from "@vigil/engine";
import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { requireScope } from "../middleware/auth.ts";
import { validate } from "../middleware/validate.ts";
import { idParam } from "./params.ts";

/** What rules raised: current alerts (pending and firing unless asked otherwise), one with its flips. */
export const alertRoutes = new Hono<AppEnv>()
  .get("/", requireScope("read"), validate("query", listAlertsQuerySchema), async (c) => {
    return c.json({
      alerts: await listAlerts(c.var.deps.db, c.var.principal.projectId, c.req.valid("query")),
    });
  })
  .get(
    "/:id",
    requireScope("read"),
    validate("param", idParam),
    validate("query", historyQuerySchema),
    async (c) => {
      const { projectId } = c.var.principal;
      return c.json(
        await getAlert(c.var.deps.db, projectId, c.req.valid("param").id, c.req.valid("query").limit),
      );
    },
  );
