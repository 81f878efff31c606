import {
  createCheckRequestSchema,
  historyQuerySchema,
  runDurationsQuerySchema,
  runsQuerySchema,
  schedulePreviewQuerySchema,
  updateCheckRequestSchema,
  uptimeQuerySchema,
} from "@vigil/contract";
import {
  createCheck,
  deleteCheck,
  edgeKinds,
  findCheckRow,
  getProjectUptime,
  getUptime,
  listCheckRows,
  listFlips,
  listIncidents,
  listPings,
  listRuns,
  pauseCheck,
  previewSchedule,
  queryRunDurations,
  resumeCheck,
  type TargetPolicy,
  toCheck,
  updateCheck,
} from "@vigil/engine";
import { type Context, Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env.ts";
import { enforceCap } from "../limits.ts";
import { requireScope } from "../middleware/auth.ts";
import { validate } from "../middleware/validate.ts";

const idParam = z.object({ id: z.uuid() });

/** Ping URLs point at the host the API was reached on, unless the operator fixed a public URL. */
const pingBase = (c: Context<AppEnv>) => c.var.deps.config.publicUrl ?? new URL(c.req.url).origin;

/** A check as answered: its ping URL on this server, its locations as of the server's clock. */
const show = (c: Context<AppEnv>, row: Parameters<typeof toCheck>[0]) =>
  toCheck(row, pingBase(c), c.var.deps.clock.now());

/** What a new or edited check may target here: private addresses per the operator, kinds `edge` can run. */
function targetPolicy(c: Context<AppEnv>): TargetPolicy {
  const { config, probes } = c.var.deps;
  // Without a runner (some tests) nothing runs from edge anyway: no kind is refused for it.
  return {
    allowPrivateTargets: config.allowPrivateTargets,
    ...(probes ? { edgeKinds: edgeKinds(probes) } : {}),
  };
}

/** Checks of the project: write scope to change, read scope to read. */
export const checkRoutes = new Hono<AppEnv>()
  .post("/", requireScope("write"), validate("json", createCheckRequestSchema), async (c) => {
    const { db, clock } = c.var.deps;
    await enforceCap(c, "maxChecks", c.var.principal.projectId);
    const row = await createCheck(db, clock, c.var.principal.projectId, c.req.valid("json"), targetPolicy(c));
    return c.json(show(c, row), 201);
  })
  .get("/", requireScope("read"), async (c) => {
    const rows = await listCheckRows(c.var.deps.db, c.var.principal.projectId);
    return c.json({ checks: rows.map((r) => show(c, r)) });
  })
  // Before "/:id", which would take these names for a malformed id.
  .get("/uptime", requireScope("read"), validate("query", uptimeQuerySchema), async (c) => {
    const { db, clock } = c.var.deps;
    const { days } = c.req.valid("query");
    return c.json({ checks: await getProjectUptime(db, c.var.principal.projectId, clock.now(), days) });
  })
  .get("/schedule-preview", requireScope("read"), validate("query", schedulePreviewQuerySchema), (c) => {
    const { schedule, tz, count } = c.req.valid("query");
    return c.json({ schedule, tz, ...previewSchedule(schedule, tz, c.var.deps.clock.now(), count) });
  })
  .get("/:id", requireScope("read"), validate("param", idParam), async (c) => {
    const row = await findCheckRow(c.var.deps.db, c.var.principal.projectId, c.req.valid("param").id);
    return c.json(show(c, row));
  })
  .patch(
    "/:id",
    requireScope("write"),
    validate("param", idParam),
    validate("json", updateCheckRequestSchema),
    async (c) => {
      const { db, clock } = c.var.deps;
      const { projectId } = c.var.principal;
      const id = c.req.valid("param").id;
      const row = await updateCheck(db, clock, projectId, id, c.req.valid("json"), targetPolicy(c));
      return c.json(show(c, row));
    },
  )
  .delete("/:id", requireScope("write"), validate("param", idParam), async (c) => {
    await deleteCheck(c.var.deps.db, c.var.principal.projectId, c.req.valid("param").id);
    return c.body(null, 204);
  })
  .post("/:id/pause", requireScope("write"), validate("param", idParam), async (c) => {
    const { db, clock } = c.var.deps;
    const row = await pauseCheck(db, clock, c.var.principal.projectId, c.req.valid("param").id);
    return c.json(show(c, row));
  })
  .post("/:id/resume", requireScope("write"), validate("param", idParam), async (c) => {
    const { db, clock } = c.var.deps;
    const row = await resumeCheck(db, clock, c.var.principal.projectId, c.req.valid("param").id);
    return c.json(show(c, row));
  })
  .get(
    "/:id/durations",
    requireScope("read"),
    validate("param", idParam),
    validate("query", runDurationsQuerySchema),
    async (c) => {
      const { db, clock } = c.var.deps;
      const { id } = c.req.valid("param");
      return c.json(await queryRunDurations(db, clock, c.var.principal.projectId, id, c.req.valid("query")));
    },
  )
  .get(
    "/:id/pings",
    requireScope("read"),
    validate("param", idParam),
    validate("query", historyQuerySchema),
    async (c) => {
      const { projectId } = c.var.principal;
      const pings = await listPings(
        c.var.deps.db,
        projectId,
        c.req.valid("param").id,
        c.req.valid("query").limit,
      );
      return c.json({ pings });
    },
  )
  .get(
    "/:id/runs",
    requireScope("read"),
    validate("param", idParam),
    validate("query", runsQuerySchema),
    async (c) => {
      const { limit, location } = c.req.valid("query");
      const runs = await listRuns(
        c.var.deps.db,
        c.var.principal.projectId,
        c.req.valid("param").id,
        limit,
        location,
      );
      return c.json({ runs });
    },
  )
  .get(
    "/:id/flips",
    requireScope("read"),
    validate("param", idParam),
    validate("query", historyQuerySchema),
    async (c) => {
      const { projectId } = c.var.principal;
      const flips = await listFlips(
        c.var.deps.db,
        projectId,
        c.req.valid("param").id,
        c.req.valid("query").limit,
      );
      return c.json({ flips });
    },
  )
  .get(
    "/:id/incidents",
    requireScope("read"),
    validate("param", idParam),
    validate("query", historyQuerySchema),
    async (c) => {
      const { projectId } = c.var.principal;
      const id = c.req.valid("param").id;
      return c.json({
        incidents: await listIncidents(c.var.deps.db, projectId, id, c.req.valid("query").limit),
      });
    },
  )
  .get(
    "/:id/uptime",
    requireScope("read"),
    validate("param", idParam),
    validate("query", uptimeQuerySchema),
    async (c) => {
      const { db, clock } = c.var.deps;
      const id = c.req.valid("param").id;
      const days = await getUptime(db, c.var.principal.projectId, id, clock.now(), c.req.valid("query").days);
      return c.json({ days });
    },
  );
