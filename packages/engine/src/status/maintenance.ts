/** Scheduled maintenance shown on status pages: display only, it silences no alert. */
import type { CreateMaintenance, Maintenance, UpdateMaintenance } from "@vigil/contract";
import { type Db, type StatusMaintenanceRow, statusMaintenance } from "@vigil/db";
import { and, desc, eq } from "drizzle-orm";
import type { Clock } from "../clock.ts";
import { InvalidInputError, NotFoundError } from "../errors.ts";
import { assertPublicSubjects, touchStatusPages } from "./subjects.ts";
import { announce } from "./subscribers.ts";

const toMaintenance = (row: StatusMaintenanceRow): Maintenance => ({
  id: row.id,
  title: row.title,
  description: row.description,
  startsAt: row.startsAt,
  endsAt: row.endsAt,
  affects: row.affects,
});

async function getRow(db: Db, projectId: string, id: string) {
  const row = await db.query.statusMaintenance.findFirst({
    where: and(eq(statusMaintenance.projectId, projectId), eq(statusMaintenance.id, id)),
  });
  if (!row) throw new NotFoundError("maintenance");
  return row;
}

export async function createMaintenance(
  db: Db,
  clock: Clock,
  projectId: string,
  input: CreateMaintenance,
): Promise<Maintenance> {
  const { notifySubscribers, ...fields } = input;
  const affects = await assertPublicSubjects(db, projectId, fields.affects, "body.affects");
  const now = clock.now();
  const id = crypto.randomUUID();
  await db.batch([
    db
      .insert(statusMaintenance)
      .values({ id, projectId, ...fields, affects, createdAt: now, updatedAt: now }),
    touchStatusPages(db, projectId, now),
  ]);
  const maintenance = toMaintenance(await getRow(db, projectId, id));
  if (notifySubscribers) await announce(db, clock, projectId, { type: "maintenance", maintenance });
  return maintenance;
}

export async function listMaintenance(db: Db, projectId: string): Promise<Maintenance[]> {
  const rows = await db.query.statusMaintenance.findMany({
    where: eq(statusMaintenance.projectId, projectId),
    orderBy: [desc(statusMaintenance.startsAt)],
    limit: 500,
  });
  return rows.map(toMaintenance);
}

export async function getMaintenance(db: Db, projectId: string, id: string): Promise<Maintenance> {
  return toMaintenance(await getRow(db, projectId, id));
}

export async function updateMaintenance(
  db: Db,
  clock: Clock,
  projectId: string,
  id: string,
  patch: UpdateMaintenance,
): Promise<Maintenance> {
  const row = await getRow(db, projectId, id);
  const affects = patch.affects
    ? await assertPublicSubjects(db, projectId, patch.affects, "body.affects")
    : undefined;
  if ((patch.endsAt ?? row.endsAt) <= (patch.startsAt ?? row.startsAt)) {
    throw new InvalidInputError("body.endsAt", "must be after startsAt");
  }
  const now = clock.now();
  await db.batch([
    db
      .update(statusMaintenance)
      .set({ ...patch, ...(affects ? { affects } : {}), updatedAt: now })
      .where(eq(statusMaintenance.id, id)),
    touchStatusPages(db, projectId, now),
  ]);
  return toMaintenance(await getRow(db, projectId, id));
}

export async function deleteMaintenance(db: Db, clock: Clock, projectId: string, id: string): Promise<void> {
  await getRow(db, projectId, id);
  await db.batch([
    db.delete(statusMaintenance).where(eq(statusMaintenance.id, id)),
    touchStatusPages(db, projectId, clock.now()),
  ]);
}
