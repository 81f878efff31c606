import type { Project } from "@vigil/contract";
import { apiKeys, type Db, type ProjectRow, projects, randomBase62, secretPrefix } from "@vigil/db";
import { eq } from "drizzle-orm";
import { createApiKey } from "./api-keys.ts";
import type { Clock } from "./clock.ts";
import { NotFoundError } from "./errors.ts";
import { ensureBuiltinRules } from "./rules/builtin.ts";

export function toProject(row: ProjectRow): Project {
  return {
    id: row.id,
    name: row.name,
    slug: row.slug,
    pingKey: row.pingKey,
    organizationId: row.organizationId,
    createdAt: row.createdAt,
  };
}

export async function getProject(db: Db, projectId: string): Promise<Project> {
  const row = await db.query.projects.findFirst({ where: eq(projects.id, projectId) });
  if (!row) throw new NotFoundError("project");
  return toProject(row);
}

export interface Bootstrap {
  project: Project;
  /** Set only when this call created the key: the one moment its secret is known. */
  adminKey?: string;
  created: boolean;
}

/**
 * Makes a fresh install usable: on an empty database, creates project `default` and an admin key (the
 * preset one when given). With a preset key on an existing database, adds it to the first project if it is
 * not there yet, so automation can rely on the key it configured.
 */
export async function bootstrapProject(db: Db, clock: Clock, presetAdminKey?: string): Promise<Bootstrap> {
  const existing = await db.query.projects.findFirst({ orderBy: (p, { asc }) => [asc(p.createdAt)] });
  if (existing) {
    const prefix = presetAdminKey ? secretPrefix(presetAdminKey, "key") : null;
    if (presetAdminKey && prefix) {
      const known = await db.query.apiKeys.findFirst({ where: eq(apiKeys.prefix, prefix) });
      if (!known) {
        await createApiKey(
          db,
          clock,
          existing.id,
          { name: "preset admin key", scopes: ["admin"] },
          presetAdminKey,
        );
        return { project: toProject(existing), adminKey: presetAdminKey, created: false };
      }
    }
    return { project: toProject(existing), created: false };
  }
  const [row] = await db
    .insert(projects)
    .values({
      id: crypto.randomUUID(),
      name: "default",
      slug: "default",
      pingKey: randomBase62(22),
      createdAt: clock.now(),
    })
    .returning();
  if (!row) throw new Error("project insert returned nothing");
  await ensureBuiltinRules(db, row.id, clock.now());
  const key = await createApiKey(
    db,
    clock,
    row.id,
    { name: presetAdminKey ? "preset admin key" : "bootstrap admin key", scopes: ["admin"] },
    presetAdminKey,
  );
  return { project: toProject(row), adminKey: key.key, created: true };
}
