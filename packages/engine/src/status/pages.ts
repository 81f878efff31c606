/** Status pages of a project: create, list, read, edit and delete, with their ordered components. */
import type { CreateStatusPage, StatusPage, UpdateStatusPage } from "@vigil/contract";
import {
  type Db,
  type StatusPageComponentRow,
  type StatusPageRow,
  statusPageComponents,
  statusPages,
} from "@vigil/db";
import { and, asc, eq, ne, or } from "drizzle-orm";
import type { Clock } from "../clock.ts";
import { ConflictError, NotFoundError } from "../errors.ts";
import { assertPublicSubjects, loadComponents, touchStatusPages } from "./subjects.ts";
import { removePageSubscribers } from "./subscribers.ts";

type ComponentInput = CreateStatusPage["components"][number];

function toStatusPage(row: StatusPageRow, components: StatusPageComponentRow[]): StatusPage {
  return {
    id: row.id,
    slug: row.slug,
    title: row.title,
    description: row.description,
    logoUrl: row.logoUrl,
    timezone: row.timezone,
    customDomain: row.customDomain,
    components: components.map((c) => ({
      id: c.id,
      type: c.subjectType,
      subjectId: c.subjectId,
      name: c.displayName,
      heading: c.heading,
    })),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

async function assertFree(
  db: Db,
  slug: string | undefined,
  domain: string | null | undefined,
  exceptId = "",
) {
  const clauses = [
    ...(slug ? [eq(statusPages.slug, slug)] : []),
    ...(domain ? [eq(statusPages.customDomain, domain)] : []),
  ];
  if (clauses.length === 0) return;
  const taken = await db.query.statusPages.findFirst({
    where: and(or(...clauses), ne(statusPages.id, exceptId)),
  });
  if (!taken) return;
  // Compared only once a page was found: with no slug given, `undefined === undefined` matched nothing found.
  if (slug !== undefined && taken.slug === slug) throw new ConflictError(`the slug "${slug}" is taken`);
  throw new ConflictError(`the domain "${domain}" is used by another status page`);
}

function componentRows(pageId: string, projectId: string, components: ComponentInput[]) {
  return components.map((c, position) => ({
    id: crypto.randomUUID(),
    pageId,
    projectId,
    position,
    heading: c.heading,
    displayName: c.name,
    subjectType: c.type,
    subjectId: c.id,
  }));
}

export async function createStatusPage(
  db: Db,
  clock: Clock,
  projectId: string,
  input: CreateStatusPage,
): Promise<StatusPage> {
  await assertPublicSubjects(db, projectId, input.components, "body.components");
  await assertFree(db, input.slug, input.customDomain);
  const now = clock.now();
  const id = crypto.randomUUID();
  const rows = componentRows(id, projectId, input.components);
  await db.batch([
    db.insert(statusPages).values({
      id,
      projectId,
      slug: input.slug,
      title: input.title,
      description: input.description,
      logoUrl: input.logoUrl,
      timezone: input.timezone,
      customDomain: input.customDomain,
      createdAt: now,
      updatedAt: now,
    }),
    ...(rows.length ? [db.insert(statusPageComponents).values(rows)] : []),
  ]);
  return getStatusPage(db, projectId, id);
}

export async function listStatusPages(db: Db, projectId: string): Promise<StatusPage[]> {
  const pages = await db.query.statusPages.findMany({
    where: eq(statusPages.projectId, projectId),
    orderBy: [asc(statusPages.slug)],
  });
  const components = await loadComponents(
    db,
    pages.map((p) => p.id),
  );
  return pages.map((p) =>
    toStatusPage(
      p,
      components.filter((c) => c.pageId === p.id),
    ),
  );
}

export async function getStatusPageRow(db: Db, projectId: string, id: string): Promise<StatusPageRow> {
  const row = await db.query.statusPages.findFirst({
    where: and(eq(statusPages.projectId, projectId), eq(statusPages.id, id)),
  });
  if (!row) throw new NotFoundError("status page");
  return row;
}

export async function getStatusPage(db: Db, projectId: string, id: string): Promise<StatusPage> {
  const row = await getStatusPageRow(db, projectId, id);
  return toStatusPage(row, await loadComponents(db, [id]));
}

export async function updateStatusPage(
  db: Db,
  clock: Clock,
  projectId: string,
  id: string,
  patch: UpdateStatusPage,
): Promise<StatusPage> {
  const row = await getStatusPageRow(db, projectId, id);
  if (patch.components) await assertPublicSubjects(db, projectId, patch.components, "body.components");
  await assertFree(db, patch.slug, patch.customDomain, row.id);
  const { components, ...fields } = patch;
  const changed = Object.values(fields).some((v) => v !== undefined);
  await db.batch([
    touchStatusPages(db, projectId, clock.now()),
    ...(changed
      ? [
          db
            .update(statusPages)
            .set(fields)
            .where(and(eq(statusPages.projectId, projectId), eq(statusPages.id, id))),
        ]
      : []),
    ...(components
      ? [
          db.delete(statusPageComponents).where(eq(statusPageComponents.pageId, id)),
          ...(components.length
            ? [db.insert(statusPageComponents).values(componentRows(id, projectId, components))]
            : []),
        ]
      : []),
  ]);
  return getStatusPage(db, projectId, id);
}

export async function deleteStatusPage(db: Db, projectId: string, id: string): Promise<void> {
  await getStatusPageRow(db, projectId, id);
  await removePageSubscribers(db, projectId, id);
  await db.batch([
    db.delete(statusPageComponents).where(eq(statusPageComponents.pageId, id)),
    db.delete(statusPages).where(and(eq(statusPages.projectId, projectId), eq(statusPages.id, id))),
  ]);
}
