import {
  createMaintenanceSchema,
  createStatusIncidentSchema,
  createStatusPageSchema,
  historyQuerySchema,
  incidentUpdateInputSchema,
  updateMaintenanceSchema,
  updateStatusIncidentSchema,
  updateStatusPageSchema,
} from "@vigil/contract";
import {
  createMaintenance,
  createStatusIncident,
  createStatusPage,
  deleteMaintenance,
  deleteStatusIncident,
  deleteStatusPage,
  deleteSubscriber,
  getMaintenance,
  getStatusIncident,
  getStatusPage,
  listMaintenance,
  listStatusIncidents,
  listStatusPages,
  listSubscribers,
  postIncidentUpdate,
  updateMaintenance,
  updateStatusIncident,
  updateStatusPage,
} from "@vigil/engine";
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env.ts";
import { requireScope } from "../middleware/auth.ts";
import { validate } from "../middleware/validate.ts";
import { idParam } from "./params.ts";

const subscriberParam = idParam.extend({ subscriberId: z.uuid() });

/** Status pages of the key's project (issue 8): admin scope to write, read scope to read. */
export const statusPageRoutes = new Hono<AppEnv>()
  .post("/", requireScope("write"), validate("json", createStatusPageSchema), async (c) => {
    const { db, clock } = c.var.deps;
    return c.json(await createStatusPage(db, clock, c.var.principal.projectId, c.req.valid("json")), 201);
  })
  .get("/", requireScope("read"), async (c) => {
    return c.json({ statusPages: await listStatusPages(c.var.deps.db, c.var.principal.projectId) });
  })
  .get("/:id", requireScope("read"), validate("param", idParam), async (c) => {
    return c.json(await getStatusPage(c.var.deps.db, c.var.principal.projectId, c.req.valid("param").id));
  })
  .patch(
    "/:id",
    requireScope("write"),
    validate("param", idParam),
    validate("json", updateStatusPageSchema),
    async (c) => {
      const { db, clock } = c.var.deps;
      const { projectId } = c.var.principal;
      return c.json(
        await updateStatusPage(db, clock, projectId, c.req.valid("param").id, c.req.valid("json")),
      );
    },
  )
  .delete("/:id", requireScope("write"), validate("param", idParam), async (c) => {
    await deleteStatusPage(c.var.deps.db, c.var.principal.projectId, c.req.valid("param").id);
    return c.body(null, 204);
  })
  .get("/:id/subscribers", requireScope("read"), validate("param", idParam), async (c) => {
    const { db } = c.var.deps;
    const { projectId } = c.var.principal;
    const page = await getStatusPage(db, projectId, c.req.valid("param").id);
    return c.json({ subscribers: await listSubscribers(db, projectId, page.id) });
  })
  .delete(
    "/:id/subscribers/:subscriberId",
    requireScope("write"),
    validate("param", subscriberParam),
    async (c) => {
      const { id, subscriberId } = c.req.valid("param");
      await deleteSubscriber(c.var.deps.db, c.var.principal.projectId, id, subscriberId);
      return c.body(null, 204);
    },
  );

/** Incidents as status pages show them: hand-written ones, and notes on automatic ones. */
export const statusIncidentRoutes = new Hono<AppEnv>()
  .post("/", requireScope("write"), validate("json", createStatusIncidentSchema), async (c) => {
    const { db, clock } = c.var.deps;
    return c.json(await createStatusIncident(db, clock, c.var.principal.projectId, c.req.valid("json")), 201);
  })
  .get("/", requireScope("read"), validate("query", historyQuerySchema), async (c) => {
    const { projectId } = c.var.principal;
    return c.json({
      incidents: await listStatusIncidents(c.var.deps.db, projectId, c.req.valid("query").limit),
    });
  })
  .get("/:id", requireScope("read"), validate("param", idParam), async (c) => {
    return c.json(await getStatusIncident(c.var.deps.db, c.var.principal.projectId, c.req.valid("param").id));
  })
  .patch(
    "/:id",
    requireScope("write"),
    validate("param", idParam),
    validate("json", updateStatusIncidentSchema),
    async (c) => {
      const { db, clock } = c.var.deps;
      const { projectId } = c.var.principal;
      return c.json(
        await updateStatusIncident(db, clock, projectId, c.req.valid("param").id, c.req.valid("json")),
      );
    },
  )
  .post(
    "/:id/updates",
    requireScope("write"),
    validate("param", idParam),
    validate("json", incidentUpdateInputSchema),
    async (c) => {
      const { db, clock } = c.var.deps;
      const { projectId } = c.var.principal;
      return c.json(
        await postIncidentUpdate(db, clock, projectId, c.req.valid("param").id, c.req.valid("json")),
        201,
      );
    },
  )
  .delete("/:id", requireScope("write"), validate("param", idParam), async (c) => {
    const { db, clock } = c.var.deps;
    await deleteStatusIncident(db, clock, c.var.principal.projectId, c.req.valid("param").id);
    return c.body(null, 204);
  });

/** Scheduled maintenance shown on status pages (display only). */
export const statusMaintenanceRoutes = new Hono<AppEnv>()
  .post("/", requireScope("write"), validate("json", createMaintenanceSchema), async (c) => {
    const { db, clock } = c.var.deps;
    return c.json(await createMaintenance(db, clock, c.var.principal.projectId, c.req.valid("json")), 201);
  })
  .get("/", requireScope("read"), async (c) => {
    return c.json({ maintenance: await listMaintenance(c.var.deps.db, c.var.principal.projectId) });
  })
  .get("/:id", requireScope("read"), validate("param", idParam), async (c) => {
    return c.json(await getMaintenance(c.var.deps.db, c.var.principal.projectId, c.req.valid("param").id));
  })
  .patch(
    "/:id",
    requireScope("write"),
    validate("param", idParam),
    validate("json", updateMaintenanceSchema),
    async (c) => {
      const { db, clock } = c.var.deps;
      const { projectId } = c.var.principal;
      return c.json(
        await updateMaintenance(db, clock, projectId, c.req.valid("param").id, c.req.valid("json")),
      );
    },
  )
  .delete("/:id", requireScope("write"), validate("param", idParam), async (c) => {
    const { db, clock } = c.var.deps;
    await deleteMaintenance(db, clock, c.var.principal.projectId, c.req.valid("param").id);
    return c.body(null, 204);
  });
