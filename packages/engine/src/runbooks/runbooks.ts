/** Runbooks as the API manages them: create, read, update, delete. Every query is scoped by project. */
import {
  type CreateRunbookRequest,
  createRunbookRequestSchema,
  type Runbook,
  type RunbookStep,
  type UpdateRunbookRequest,
} from "@vigil/contract";
import { type Db, hosts, type RunbookRow, runbooks, type StoredRunbookStep } from "@vigil/db";
import { and, asc, eq, inArray } from "drizzle-orm";
import type { Clock } from "../clock.ts";
import { InvalidInputError, NotFoundError } from "../errors.ts";
import { syncTaskCheck } from "./tasks.ts";

export function toRunbook(row: RunbookRow): Runbook {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    steps: row.steps as RunbookStep[],
    hosts: row.hosts,
    template: row.template,
    schedule: row.schedule,
    taskCheckId: row.taskCheckId,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** Hosts named by id must be the project's own. */
async function assertHosts(db: Db, projectId: string, hostIds: string[], field: string): Promise<void> {
  if (hostIds.length === 0) return;
  const found = await db.query.hosts.findMany({
    where: and(eq(hosts.projectId, projectId), inArray(hosts.id, hostIds)),
    columns: { id: true },
  });
  const missing = hostIds.filter((id) => !found.some((h) => h.id === id));
  if (missing.length > 0) throw new InvalidInputError(field, `no such host in this project: ${missing[0]}`);
}

export async function createRunbook(
  db: Db,
  clock: Clock,
  projectId: string,
  input: CreateRunbookRequest,
  template: string | null = null,
): Promise<RunbookRow> {
  await assertHosts(db, projectId, input.hosts.hostIds, "body.hosts.hostIds");
  const now = clock.now();
  const [row] = await db
    .insert(runbooks)
    .values({
      id: crypto.randomUUID(),
      projectId,
      name: input.name,
      description: input.description,
      steps: input.steps as StoredRunbookStep[],
      hosts: input.hosts,
      template,
      schedule: input.schedule,
      createdAt: now,
      updatedAt: now,
    })
    .returning();
  if (!row) throw new Error("runbook insert returned nothing");
  return syncTaskCheck(db, clock, row);
}

export async function findRunbookRow(db: Db, projectId: string, id: string): Promise<RunbookRow> {
  const row = await db.query.runbooks.findFirst({
    where: and(eq(runbooks.projectId, projectId), eq(runbooks.id, id)),
  });
  if (!row) throw new NotFoundError("runbook");
  return row;
}

export async function listRunbookRows(db: Db, projectId: string): Promise<RunbookRow[]> {
  return db.query.runbooks.findMany({
    where: eq(runbooks.projectId, projectId),
    orderBy: [asc(runbooks.createdAt), asc(runbooks.id)],
  });
}

export async function updateRunbook(
  db: Db,
  clock: Clock,
  projectId: string,
  id: string,
  input: UpdateRunbookRequest,
): Promise<RunbookRow> {
  const current = await findRunbookRow(db, projectId, id);
  const merged = createRunbookRequestSchema.parse({ ...toRunbook(current), ...input });
  await assertHosts(db, projectId, merged.hosts.hostIds, "body.hosts.hostIds");
  const [row] = await db
    .update(runbooks)
    .set({
      name: merged.name,
      description: merged.description,
      steps: merged.steps as StoredRunbookStep[],
      hosts: merged.hosts,
      schedule: merged.schedule,
      updatedAt: clock.now(),
    })
    .where(and(eq(runbooks.projectId, projectId), eq(runbooks.id, id)))
    .returning();
  if (!row) throw new NotFoundError("runbook");
  return syncTaskCheck(db, clock, row);
}

/** Deletes the runbook and its task's check; its runs stay as the record of what was done. */
export async function deleteRunbook(db: Db, clock: Clock, projectId: string, id: string): Promise<void> {
  const row = await findRunbookRow(db, projectId, id);
  await syncTaskCheck(db, clock, { ...row, schedule: null });
  await db.delete(runbooks).where(and(eq(runbooks.projectId, projectId), eq(runbooks.id, id)));
}
