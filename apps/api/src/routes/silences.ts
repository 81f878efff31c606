import {
  createMaintenanceWindowRequestSchema,
  createSilenceRequestSchema,
  listSilencesQuerySchema,
} from "@vigil/contract";
import {
  createMaintenanceWindow,
  createSilence,
  DEPLOY_SILENCE_LIMITS,
  deleteMaintenanceWindow,
  expireSilence,
  grants,
  listMaintenanceWindows,
  listSilences,
  toMaintenanceWindow,
  toSilence,
} from "@vigil/engine";
import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { requireScope } from "../middleware/auth.ts";
import { validate } from "../middleware/validate.ts";
import { idParam } from "./params.ts";

/**
 * Silences. Opening one takes an ingest key, like a deploy marker, so a deploy hook can silence its host
 * for the deploy in one request (within DEPLOY_SILENCE_LIMITS unless the caller may write); expiring one takes write.
 */
export const silenceRoutes = new Hono<AppEnv>()
  .post("/", requireScope("ingest"), validate("json", createSilenceRequestSchema), async (c) => {
    const { db, clock } = c.var.deps;
    const { projectId, scopes } = c.var.principal;
    const limits = grants(scopes, "write") ? undefined : DEPLOY_SILENCE_LIMITS;
    const row = await createSilence(db, clock, projectId, c.req.valid("json"), limits);
    return c.json(toSilence(row, clock.now()), 201);
  })
  .get("/", requireScope("read"), validate("query", listSilencesQuerySchema), async (c) => {
    const { db, clock } = c.var.deps;
    const { all } = c.req.valid("query");
    const rows = await listSilences(
      db,
      c.var.principal.projectId,
      clock.now(),
      all === "1" || all === "true",
    );
    return c.json({ silences: rows.map((r) => toSilence(r, clock.now())) });
  })
  .post("/:id/expire", requireScope("write"), validate("param", idParam), async (c) => {
    const { db, clock } = c.var.deps;
    const row = await expireSilence(db, clock, c.var.principal.projectId, c.req.valid("param").id);
    return c.json(toSilence(row, clock.now()));
  });

/** Recurring maintenance windows: write to change, read to list. */
export const maintenanceWindowRoutes = new Hono<AppEnv>()
  .post("/", requireScope("write"), validate("json", createMaintenanceWindowRequestSchema), async (c) => {
    const { db, clock } = c.var.deps;
    const row = await createMaintenanceWindow(db, clock, c.var.principal.projectId, c.req.valid("json"));
    return c.json(toMaintenanceWindow(row, clock.now()), 201);
  })
  .get("/", requireScope("read"), async (c) => {
    const { db, clock } = c.var.deps;
    const rows = await listMaintenanceWindows(db, c.var.principal.projectId);
    return c.json({ maintenanceWindows: rows.map((r) => toMaintenanceWindow(r, clock.now())) });
  })
  .delete("/:id", requireScope("write"), validate("param", idParam), async (c) => {
    await deleteMaintenanceWindow(c.var.deps.db, c.var.principal.projectId, c.req.valid("param").id);
    return c.body(null, 204);
  });
