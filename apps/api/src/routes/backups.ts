import { updateBackupRepositorySchema } from "@vigil/contract";
import {
  getBackupRepository,
  gradeBackupSources,
  listBackupRepositories,
  listProjectBackups,
  updateBackupRepository,
} from "@vigil/engine";
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env.ts";
import { requireScope } from "../middleware/auth.ts";
import { validate } from "../middleware/validate.ts";

/** Repositories have integer ids; anything else is a 400 naming `path.id`. */
const repositoryParam = z.object({ id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER) });

/**
 * Every backup of the project's hosts, one row per host and name (`/hosts/:id/backups` has one host's
 * runs); the repositories probes check, and each backed-up source graded against 3-2-1.
 */
export const backupRoutes = new Hono<AppEnv>()
  .get("/", requireScope("read"), async (c) => {
    const { db, clock } = c.var.deps;
    return c.json({ backups: await listProjectBackups(db, clock, c.var.principal.projectId) });
  })
  .get("/repositories", requireScope("read"), async (c) => {
    return c.json({ repositories: await listBackupRepositories(c.var.deps.db, c.var.principal.projectId) });
  })
  .get("/repositories/:id", requireScope("read"), validate("param", repositoryParam), async (c) => {
    const { db } = c.var.deps;
    return c.json(await getBackupRepository(db, c.var.principal.projectId, c.req.valid("param").id));
  })
  .patch(
    "/repositories/:id",
    requireScope("write"),
    validate("param", repositoryParam),
    validate("json", updateBackupRepositorySchema),
    async (c) => {
      const { db } = c.var.deps;
      const { id } = c.req.valid("param");
      return c.json(await updateBackupRepository(db, c.var.principal.projectId, id, c.req.valid("json")));
    },
  )
  .get("/sources", requireScope("read"), async (c) => {
    const { db, clock } = c.var.deps;
    return c.json({ sources: await gradeBackupSources(db, clock, c.var.principal.projectId) });
  });
