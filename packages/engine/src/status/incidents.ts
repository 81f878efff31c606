/**
 * Incidents as status pages tell them. Automatic ones are the `incidents` rows state.ts opens when a check
 * goes down and resolves when it recovers; an operator's title, impact and updates for one live in a
 * `status_incidents` row pointing at it (created on the first edit). Hand-written incidents are
 * `status_incidents` rows of their own, resolved by an update with status "resolved".
 */
import type {
  CreateStatusIncident,
  IncidentProgressName,
  IncidentUpdateInput,
  StatusIncident,
  UpdateStatusIncident,
} from "@vigil/contract";
import {
  checks,
  type Db,
  type IncidentRow,
  incidents,
  type StatusIncidentRow,
  type StatusIncidentUpdateRow,
  statusIncidents,
  statusIncidentUpdates,
} from "@vigil/db";
import { and, asc, desc, eq, inArray, isNull, sql } from "drizzle-orm";
import type { Clock } from "../clock.ts";
import { NotFoundError } from "../errors.ts";
import { assertPublicSubjects, touchStatusPages } from "./subjects.ts";
import { announce } from "./subscribers.ts";

/** The progress an incident shows: its latest update's, else resolved or investigating. */
export function incidentProgress(
  updates: readonly Pick<StatusIncidentUpdateRow, "status">[],
  resolvedAt: number | null,
): IncidentProgressName {
  if (resolvedAt !== null) return "resolved";
  return updates.at(-1)?.status ?? "investigating";
}

interface Loaded {
  note: StatusIncidentRow | null;
  automatic: (IncidentRow & { checkName: string; checkPublic: boolean }) | null;
  updates: StatusIncidentUpdateRow[];
}

function toStatusIncident(id: string, { note, automatic, updates }: Loaded): StatusIncident {
  const resolvedAt = automatic ? automatic.resolvedAt : (note?.resolvedAt ?? null);
  return {
    id,
    automatic: automatic !== null,
    title: note?.title ?? `${automatic?.checkName ?? "Service"} is down`,
    impact: note?.impact ?? (automatic ? "major" : "minor"),
    status: incidentProgress(updates, resolvedAt),
    affects: automatic ? [{ type: "check", id: automatic.subjectId }] : (note?.affects ?? []),
    startedAt: automatic ? automatic.openedAt : (note?.startedAt ?? 0),
    resolvedAt,
    updates: updates.map((u) => ({ status: u.status, message: u.message, at: u.at })),
  };
}

const automaticColumns = {
  id: incidents.id,
  projectId: incidents.projectId,
  subjectType: incidents.subjectType,
  subjectId: incidents.subjectId,
  cause: incidents.cause,
  openedAt: incidents.openedAt,
  resolvedAt: incidents.resolvedAt,
  resolution: incidents.resolution,
  checkName: checks.name,
  checkPublic: checks.public,
};

async function loadUpdates(db: Db, noteIds: string[]) {
  if (noteIds.length === 0) return [];
  return db.query.statusIncidentUpdates.findMany({
    where: inArray(statusIncidentUpdates.statusIncidentId, noteIds),
    // Updates posted in the same millisecond keep the order they were written in (rowid), not their random ids'.
    orderBy: [asc(statusIncidentUpdates.at), asc(sql`rowid`)],
  });
}

/** One incident by its public id (an automatic incident's id, or a hand-written one's), or NotFound. */
async function loadIncident(db: Db, projectId: string, id: string): Promise<Loaded> {
  const [automatic] = await db
    .select(automaticColumns)
    .from(incidents)
    .innerJoin(checks, eq(checks.id, incidents.subjectId))
    .where(and(eq(incidents.projectId, projectId), eq(incidents.subjectType, "check"), eq(incidents.id, id)));
  const note = await db.query.statusIncidents.findFirst({
    where: and(
      eq(statusIncidents.projectId, projectId),
      automatic ? eq(statusIncidents.sourceIncidentId, id) : eq(statusIncidents.id, id),
      ...(automatic ? [] : [isNull(statusIncidents.sourceIncidentId)]),
    ),
  });
  if (!automatic && !note) throw new NotFoundError("incident");
  return {
    note: note ?? null,
    automatic: automatic ?? null,
    updates: await loadUpdates(db, note ? [note.id] : []),
  };
}

export async function getStatusIncident(db: Db, projectId: string, id: string): Promise<StatusIncident> {
  return toStatusIncident(id, await loadIncident(db, projectId, id));
}

/** Hand-written incidents, and automatic ones of public checks, newest first. */
export async function listStatusIncidents(db: Db, projectId: string, limit = 100): Promise<StatusIncident[]> {
  const [notes, automatic] = await Promise.all([
    db.query.statusIncidents.findMany({
      where: eq(statusIncidents.projectId, projectId),
      orderBy: [desc(statusIncidents.startedAt)],
      limit: limit * 2,
    }),
    db
      .select(automaticColumns)
      .from(incidents)
      .innerJoin(checks, eq(checks.id, incidents.subjectId))
      .where(
        and(eq(incidents.projectId, projectId), eq(incidents.subjectType, "check"), eq(checks.public, true)),
      )
      .orderBy(desc(incidents.openedAt))
      .limit(limit),
  ]);
  const updates = await loadUpdates(
    db,
    notes.map((n) => n.id),
  );
  const noteOf = new Map(notes.map((n) => [n.sourceIncidentId ?? n.id, n]));
  const updatesOf = (note: StatusIncidentRow | undefined) =>
    note ? updates.filter((u) => u.statusIncidentId === note.id) : [];
  const out = [
    ...automatic.map((a) =>
      toStatusIncident(a.id, {
        automatic: a,
        note: noteOf.get(a.id) ?? null,
        updates: updatesOf(noteOf.get(a.id)),
      }),
    ),
    ...notes
      .filter((n) => n.sourceIncidentId === null)
      .map((n) => toStatusIncident(n.id, { automatic: null, note: n, updates: updatesOf(n) })),
  ];
  return out.sort((a, b) => b.startedAt - a.startedAt).slice(0, limit);
}

export async function createStatusIncident(
  db: Db,
  clock: Clock,
  projectId: string,
  input: CreateStatusIncident,
): Promise<StatusIncident> {
  const affects = await assertPublicSubjects(db, projectId, input.affects, "body.affects");
  const now = clock.now();
  const id = crypto.randomUUID();
  const startedAt = input.startedAt ?? now;
  await db.batch([
    db.insert(statusIncidents).values({
      id,
      projectId,
      title: input.title,
      impact: input.impact,
      affects,
      startedAt,
      resolvedAt: input.status === "resolved" ? now : null,
      createdAt: now,
      updatedAt: now,
    }),
    db.insert(statusIncidentUpdates).values({
      id: crypto.randomUUID(),
      projectId,
      statusIncidentId: id,
      status: input.status,
      message: input.message,
      at: now,
    }),
    touchStatusPages(db, projectId, now),
  ]);
  const incident = await getStatusIncident(db, projectId, id);
  if (input.notifySubscribers) {
    const update = { status: input.status, message: input.message };
    await announce(db, clock, projectId, { type: "incident", incident, update });
  }
  return incident;
}

/** The note row of an incident, created for an automatic incident on its first edit. */
async function ensureNote(
  db: Db,
  projectId: string,
  loaded: Loaded,
  now: number,
): Promise<StatusIncidentRow> {
  if (loaded.note) return loaded.note;
  const automatic = loaded.automatic;
  if (!automatic) throw new NotFoundError("incident");
  const [row] = await db
    .insert(statusIncidents)
    .values({
      id: crypto.randomUUID(),
      projectId,
      sourceIncidentId: automatic.id,
      startedAt: automatic.openedAt,
      createdAt: now,
      updatedAt: now,
    })
    .onConflictDoNothing()
    .returning();
  const note =
    row ??
    (await db.query.statusIncidents.findFirst({ where: eq(statusIncidents.sourceIncidentId, automatic.id) }));
  if (!note) throw new NotFoundError("incident");
  return note;
}

export async function updateStatusIncident(
  db: Db,
  clock: Clock,
  projectId: string,
  id: string,
  patch: UpdateStatusIncident,
): Promise<StatusIncident> {
  const loaded = await loadIncident(db, projectId, id);
  // An automatic incident is about its check; what it affects is not the operator's to change.
  const affects =
    patch.affects && !loaded.automatic
      ? await assertPublicSubjects(db, projectId, patch.affects, "body.affects")
      : undefined;
  const now = clock.now();
  const note = await ensureNote(db, projectId, loaded, now);
  await db.batch([
    db
      .update(statusIncidents)
      .set({
        ...(patch.title ? { title: patch.title } : {}),
        ...(patch.impact ? { impact: patch.impact } : {}),
        ...(affects ? { affects } : {}),
        updatedAt: now,
      })
      .where(eq(statusIncidents.id, note.id)),
    touchStatusPages(db, projectId, now),
  ]);
  return getStatusIncident(db, projectId, id);
}

/** Posts an update; on a hand-written incident "resolved" resolves it and any other status reopens it. */
export async function postIncidentUpdate(
  db: Db,
  clock: Clock,
  projectId: string,
  id: string,
  input: IncidentUpdateInput,
): Promise<StatusIncident> {
  const loaded = await loadIncident(db, projectId, id);
  const now = clock.now();
  const note = await ensureNote(db, projectId, loaded, now);
  await db.batch([
    db.insert(statusIncidentUpdates).values({
      id: crypto.randomUUID(),
      projectId,
      statusIncidentId: note.id,
      status: input.status,
      message: input.message,
      at: now,
    }),
    db
      .update(statusIncidents)
      .set({
        updatedAt: now,
        ...(loaded.automatic ? {} : { resolvedAt: input.status === "resolved" ? now : null }),
      })
      .where(eq(statusIncidents.id, note.id)),
    touchStatusPages(db, projectId, now),
  ]);
  const incident = await getStatusIncident(db, projectId, id);
  if (input.notifySubscribers) {
    const update = { status: input.status, message: input.message };
    await announce(db, clock, projectId, { type: "incident", incident, update });
  }
  return incident;
}

export async function deleteStatusIncident(
  db: Db,
  clock: Clock,
  projectId: string,
  id: string,
): Promise<void> {
  const loaded = await loadIncident(db, projectId, id);
  if (!loaded.note) return;
  await db.batch([
    db.delete(statusIncidentUpdates).where(eq(statusIncidentUpdates.statusIncidentId, loaded.note.id)),
    db.delete(statusIncidents).where(eq(statusIncidents.id, loaded.note.id)),
    touchStatusPages(db, projectId, clock.now()),
  ]);
}
