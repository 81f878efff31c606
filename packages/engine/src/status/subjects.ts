/** Which checks and hosts may appear on a status page: public ones of the same project, nothing else. */
import type { StatusSubjectRefInput } from "@vigil/contract";
import { checks, type Db, hosts, type StatusSubjectRef, statusPageComponents, statusPages } from "@vigil/db";
import { and, asc, eq, inArray, sql } from "drizzle-orm";
import { InvalidInputError } from "../errors.ts";

/**
 * Throws naming the first reference that is not a public check or host of `projectId`. Another project's
 * id, a private object and an id that does not exist get the same answer, so ids reveal nothing.
 */
export async function assertPublicSubjects(
  db: Db,
  projectId: string,
  refs: readonly StatusSubjectRefInput[],
  path: string,
): Promise<StatusSubjectRef[]> {
  const checkIds = refs.filter((r) => r.type === "check").map((r) => r.id);
  const hostIds = refs.filter((r) => r.type === "host").map((r) => r.id);
  const [publicChecks, publicHosts] = await Promise.all([
    checkIds.length
      ? db
          .select({ id: checks.id })
          .from(checks)
          .where(and(eq(checks.projectId, projectId), eq(checks.public, true), inArray(checks.id, checkIds)))
      : [],
    hostIds.length
      ? db
          .select({ id: hosts.id })
          .from(hosts)
          .where(and(eq(hosts.projectId, projectId), eq(hosts.public, true), inArray(hosts.id, hostIds)))
      : [],
  ]);
  const known = new Set([
    ...publicChecks.map((c) => `check:${c.id}`),
    ...publicHosts.map((h) => `host:${h.id}`),
  ]);
  refs.forEach((ref, i) => {
    if (!known.has(`${ref.type}:${ref.id}`)) {
      throw new InvalidInputError(`${path}.${i}.id`, `no public ${ref.type} with this id in this project`);
    }
  });
  return refs.map((r) => ({ type: r.type, id: r.id }));
}

/** The components of these pages, in page order. */
export async function loadComponents(db: Db, pageIds: string[]) {
  if (pageIds.length === 0) return [];
  return db.query.statusPageComponents.findMany({
    where: inArray(statusPageComponents.pageId, pageIds),
    orderBy: [asc(statusPageComponents.position)],
  });
}

/**
 * Marks every status page of the project as changed, so cached renders of them are not served again.
 * `max(…, updated_at + 1)` keeps the version moving even when the clock has not (tests, fast edits).
 */
export function touchStatusPages(db: Db, projectId: string, now: number) {
  return db
    .update(statusPages)
    .set({ updatedAt: sql`max(${now}, ${statusPages.updatedAt} + 1)` })
    .where(eq(statusPages.projectId, projectId));
}
