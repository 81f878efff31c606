import { logsQuerySchema } from "@vigil/contract";
import { listLogs } from "@vigil/engine";
import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { requireScope } from "../middleware/auth.ts";
import { validate } from "../middleware/validate.ts";
import { streamLogTail } from "./log-tail.ts";

/** Logs of every host of the project; `/hosts/:id/logs` narrows to one. */
export const logRoutes = new Hono<AppEnv>()
  .use(requireScope("read"))
  .get("/", validate("query", logsQuerySchema), async (c) => {
    return c.json(await listLogs(c.var.deps.db, c.var.principal.projectId, c.req.valid("query")));
  })
  .get("/tail", validate("query", logsQuerySchema), (c) => streamLogTail(c, c.req.valid("query")));
