import { logsQuerySchema, metricsQuerySchema, timeRangeQuerySchema, updateHostSchema } from "@vigil/contract";
import {
  deleteHost,
  getHost,
  getHostRow,
  gradeBackupSources,
  hostFilesystems,
  listBackupRepositories,
  listBackups,
  listEvents,
  listHosts,
  listLogs,
  queryHostMetrics,
  updateHost,
} from "@vigil/engine";
import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { requireScope } from "../middleware/auth.ts";
import { validate } from "../middleware/validate.ts";
import { streamLogTail } from "./log-tail.ts";
import { idParam } from "./params.ts";

export const hostRoutes = new Hono<AppEnv>()
  .get("/", requireScope("read"), async (c) => {
    const { db, clock } = c.var.deps;
    return c.json({ hosts: await listHosts(db, clock, c.var.principal.projectId) });
  })
  .get("/:id", requireScope("read"), validate("param", idParam), async (c) => {
    const { db, clock } = c.var.deps;
    return c.json(await getHost(db, clock, c.var.principal.projectId, c.req.valid("param").id));
  })
  .patch(
    "/:id",
    requireScope("write"),
    validate("param", idParam),
    validate("json", updateHostSchema),
    async (c) => {
      const { db, clock } = c.var.deps;
      return c.json(
        await updateHost(db, clock, c.var.principal.projectId, c.req.valid("param").id, c.req.valid("json")),
      );
    },
  )
  .delete("/:id", requireScope("admin"), validate("param", idParam), async (c) => {
    const { id } = c.req.valid("param");
    await deleteHost(c.var.deps.db, c.var.principal.projectId, id);
    c.var.deps.runtime.engine.series.forget(id);
    return c.body(null, 204);
  })
  .get(
    "/:id/metrics",
    requireScope("read"),
    validate("param", idParam),
    validate("query", metricsQuerySchema),
    async (c) => {
      const { db, clock } = c.var.deps;
      const { id } = c.req.valid("param");
      return c.json(await queryHostMetrics(db, clock, c.var.principal.projectId, id, c.req.valid("query")));
    },
  )
  .get(
    "/:id/logs",
    requireScope("read"),
    validate("param", idParam),
    validate("query", logsQuerySchema),
    async (c) => {
      const { db } = c.var.deps;
      const hostId = (await getHostRow(db, c.var.principal.projectId, c.req.valid("param").id)).id;
      return c.json(await listLogs(db, c.var.principal.projectId, { ...c.req.valid("query"), hostId }));
    },
  )
  .get(
    "/:id/logs/tail",
    requireScope("read"),
    validate("param", idParam),
    validate("query", logsQuerySchema),
    async (c) => {
      const hostId = (await getHostRow(c.var.deps.db, c.var.principal.projectId, c.req.valid("param").id)).id;
      return streamLogTail(c, { ...c.req.valid("query"), hostId });
    },
  )
  .get("/:id/backups", requireScope("read"), validate("param", idParam), async (c) => {
    const { db } = c.var.deps;
    const { projectId } = c.var.principal;
    const host = await getHostRow(db, projectId, c.req.valid("param").id);
    const hostname = (host.facts as { hostname?: unknown } | null)?.hostname;
    // The host's repositories (those it checks) and its own data's grade, wherever its copies are checked.
    const [backups, repositories, sources] = await Promise.all([
      listBackups(db, projectId, host.id),
      listBackupRepositories(db, projectId, { hostId: host.id }),
      gradeBackupSources(db, c.var.deps.clock, projectId, {
        hostname: typeof hostname === "string" ? hostname : host.name,
      }),
    ]);
    return c.json({ ...backups, repositories, sources });
  })
  .get("/:id/filesystems", requireScope("read"), validate("param", idParam), async (c) => {
    const { db, clock } = c.var.deps;
    return c.json(await hostFilesystems(db, clock, c.var.principal.projectId, c.req.valid("param").id));
  })
  .get("/:id/state", requireScope("read"), validate("param", idParam), async (c) => {
    const { db, clock } = c.var.deps;
    const host = await getHost(db, clock, c.var.principal.projectId, c.req.valid("param").id);
    return c.json({ hostId: host.id, state: host.state });
  })
  .get(
    "/:id/events",
    requireScope("read"),
    validate("param", idParam),
    validate("query", timeRangeQuerySchema),
    async (c) => {
      const { db } = c.var.deps;
      const hostId = (await getHostRow(db, c.var.principal.projectId, c.req.valid("param").id)).id;
      const events = await listEvents(db, c.var.principal.projectId, {
        hostId,
        includeProjectWide: true,
        ...c.req.valid("query"),
      });
      return c.json({ events });
    },
  );
