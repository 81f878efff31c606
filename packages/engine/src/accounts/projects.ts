import type { Project } from "@vigil/contract";
import {
  type Db,
  member,
  organization,
  projects,
  randomBase62,
  rollupDirty,
  rollupsDaily,
  rollupsHourly,
  samples,
  schema,
  series,
} from "@vigil/db";
import { and, eq, getTableName, inArray, is, isNotNull, isNull, type SQL, sql } from "drizzle-orm";
import { getTableConfig, SQLiteTable } from "drizzle-orm/sqlite-core";
import type { Clock } from "../clock.ts";
import { NotFoundError } from "../errors.ts";
import { toProject } from "../projects.ts";
import { ensureBuiltinRules } from "../rules/builtin.ts";
import { type Role, scopesOfRole } from "./roles.ts";

/** What a signed-in person may do in one project, through their membership of its organisation. */
export interface ProjectMembership {
  projectId: string;
  organizationId: string;
  role: Role;
}

/**
 * The person's role in the project's organisation, or null when they have none (or the project is being
 * deleted). Callers answer "not found" for null: a project of another organisation does not exist for them.
 */
export async function projectMembership(
  db: Db,
  userId: string,
  projectId: string,
): Promise<ProjectMembership | null> {
  const [row] = await db
    .select({ organizationId: member.organizationId, role: member.role })
    .from(projects)
    .innerJoin(member, eq(member.organizationId, projects.organizationId))
    .where(and(eq(projects.id, projectId), eq(member.userId, userId), isNull(projects.deletingAt)))
    .limit(1);
  if (!row || scopesOfRole(row.role).length === 0) return null;
  return { projectId, organizationId: row.organizationId, role: row.role as Role };
}

/** The person's role in an organisation, or null when they are not a member. */
export async function organizationRole(db: Db, userId: string, organizationId: string): Promise<Role | null> {
  const row = await db.query.member.findFirst({
    where: and(eq(member.userId, userId), eq(member.organizationId, organizationId)),
  });
  return row && scopesOfRole(row.role).length > 0 ? (row.role as Role) : null;
}

export interface OrganizationWithProjects {
  id: string;
  name: string;
  slug: string;
  role: Role;
  projects: Project[];
}

/** Every organisation the person belongs to, with their role and its live projects. */
export async function listMemberships(db: Db, userId: string): Promise<OrganizationWithProjects[]> {
  const orgs = await db
    .select({ id: organization.id, name: organization.name, slug: organization.slug, role: member.role })
    .from(member)
    .innerJoin(organization, eq(organization.id, member.organizationId))
    .where(eq(member.userId, userId))
    .orderBy(organization.name);
  if (orgs.length === 0) return [];
  const rows = await db.query.projects.findMany({
    where: and(
      inArray(
        projects.organizationId,
        orgs.map((o) => o.id),
      ),
      isNull(projects.deletingAt),
    ),
    orderBy: (p, { asc }) => [asc(p.name), asc(p.id)],
  });
  return orgs.map((o) => ({
    ...o,
    role: o.role as Role,
    projects: rows.filter((p) => p.organizationId === o.id).map(toProject),
  }));
}

/**
 * A URL-safe slug from a name. Project and organisation slugs are unique across the whole deployment; a
 * short random suffix keeps two "production"s apart.
 */
export function uniqueSlug(name: string, fallback: string): string {
  const base = name
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40);
  return `${base || fallback}-${randomBase62(6).toLowerCase()}`;
}

/** Makes a project in an organisation, with the built-in alert rules like every project. */
export async function createOrganizationProject(
  db: Db,
  clock: Clock,
  organizationId: string,
  name: string,
): Promise<Project> {
  const [row] = await db
    .insert(projects)
    .values({
      id: crypto.randomUUID(),
      name,
      slug: uniqueSlug(name, "project"),
      pingKey: randomBase62(22),
      organizationId,
      createdAt: clock.now(),
    })
    .returning();
  if (!row) throw new Error("project insert returned nothing");
  await ensureBuiltinRules(db, row.id, clock.now());
  return toProject(row);
}

export async function renameProject(db: Db, projectId: string, name: string): Promise<Project> {
  const [row] = await db
    .update(projects)
    .set({ name })
    .where(and(eq(projects.id, projectId), isNull(projects.deletingAt)))
    .returning();
  if (!row) throw new NotFoundError("project");
  return toProject(row);
}

/**
 * Deletion is asked for here and done by `purgeDeletedProjects` in bounded steps: a project can hold
 * millions of samples, and one statement deleting them all would hold the database's write lock for
 * seconds. From this moment the project is gone for every reader (keys, sessions, pings all miss it).
 */
export async function markProjectDeleted(db: Db, clock: Clock, projectId: string): Promise<void> {
  const [row] = await db
    .update(projects)
    .set({ deletingAt: clock.now() })
    .where(and(eq(projects.id, projectId), isNull(projects.deletingAt)))
    .returning({ id: projects.id });
  if (!row) throw new NotFoundError("project");
}

/** Projects made before accounts existed join the first owner's organisation. */
export async function adoptUnownedProjects(db: Db, organizationId: string): Promise<number> {
  const rows = await db
    .update(projects)
    .set({ organizationId })
    .where(isNull(projects.organizationId))
    .returning({ id: projects.id });
  return rows.length;
}

/** Tables that carry `project_id`, credentials first so nothing can act for the project while it goes. */
function tenantTables(): SQLiteTable[] {
  const first = ["api_keys", "enrollment_tokens", "checks", "channels"];
  const tables = (Object.values(schema) as unknown[]).filter(
    (t): t is SQLiteTable =>
      is(t, SQLiteTable) &&
      getTableName(t) !== "projects" &&
      // The audit log keeps its rows: it is the record that the project existed and who deleted it.
      getTableName(t) !== "audit_log" &&
      getTableConfig(t).columns.some((c) => c.name === "project_id"),
  );
  const rank = (t: SQLiteTable) => {
    const i = first.indexOf(getTableName(t));
    return i === -1 ? first.length : i;
  };
  return tables.sort((a, b) => rank(a) - rank(b));
}

/**
 * `delete … where <pk> in (select <pk> … limit n)`: by primary key, since the time-series tables are
 * WITHOUT ROWID and have no rowid to address (tables with no declared key use their rowid).
 */
function boundedDelete(table: SQLiteTable, where: SQL, limit: number): SQL {
  const config = getTableConfig(table);
  const pk = config.primaryKeys[0]?.columns ?? config.columns.filter((c) => c.primary);
  // A table without a declared key is an ordinary rowid table.
  const columns =
    pk.length === 0
      ? sql`rowid`
      : sql.join(
          pk.map((c) => sql.identifier(c.name)),
          sql`, `,
        );
  return sql`delete from ${table} where (${columns}) in (select ${columns} from ${table} where ${where} limit ${limit})`;
}

/**
 * One bounded step of deleting the projects marked for deletion.
 * 1. Pick the oldest marked project.
 * 2. Delete at most `rowsPerStatement` rows per statement, table by table: first what keyed by series
 *    (samples and rollups, which have no project column), then every table with a project column.
 * 3. Stop after `maxStatements` statements that deleted rows; the next tick carries on. When nothing is left, the project row goes.
 * Returns what the step did, or null when no project waits for deletion.
 */
export async function purgeDeletedProjects(
  db: Db,
  options: { rowsPerStatement: number; maxStatements: number } = {
    rowsPerStatement: 5000,
    maxStatements: 20,
  },
): Promise<{ projectId: string; rowsDeleted: number; finished: boolean } | null> {
  const doomed = await db.query.projects.findFirst({
    where: isNotNull(projects.deletingAt),
    orderBy: (p, { asc }) => [asc(p.deletingAt)],
  });
  if (!doomed) return null;
  const limit = options.rowsPerStatement;
  const seriesIds = sql`(select ${series.id} from ${series} where ${series.projectId} = ${doomed.id})`;
  const hostIds = sql`(select id from hosts where project_id = ${doomed.id})`;
  const steps = [
    // Keyed by series or host, with no project column of their own.
    boundedDelete(samples, sql`series_id in ${seriesIds}`, limit),
    boundedDelete(rollupsHourly, sql`series_id in ${seriesIds}`, limit),
    boundedDelete(rollupsDaily, sql`series_id in ${seriesIds}`, limit),
    boundedDelete(rollupDirty, sql`host_id in ${hostIds}`, limit),
    ...tenantTables().map((t) => boundedDelete(t, sql`project_id = ${doomed.id}`, limit)),
  ];
  // Only statements that deleted something count against the budget: a table already emptied by an
  // earlier step costs one cheap indexed probe, so every call gets further than the one before.
  let deleted = 0;
  let budget = options.maxStatements;
  for (const step of steps) {
    for (;;) {
      const { rowsAffected } = await db.run(step);
      deleted += rowsAffected;
      if (rowsAffected > 0) budget--;
      if (budget <= 0) return { projectId: doomed.id, rowsDeleted: deleted, finished: false };
      if (rowsAffected < limit) break;
    }
  }
  await db.delete(projects).where(eq(projects.id, doomed.id));
  return { projectId: doomed.id, rowsDeleted: deleted, finished: true };
}
