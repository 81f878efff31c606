import type { AuditEntryDto } from "@vigil/contract";
import { type AuditLogRow, auditLog, type Db, member, projects } from "@vigil/db";
import { and, desc, eq, inArray, isNull, lt, or } from "drizzle-orm";
import type { Clock } from "../clock.ts";

/** Who acted: a signed-in person, an API key, or Vigil itself (the setup link, a scheduled purge). */
export interface Actor {
  type: "user" | "api_key" | "system";
  id?: string | null;
  /** email or key name, kept so the row reads well after the actor is gone */
  label?: string | null;
}

/** Where a request came from, as the entry saw it (never a header the client could set on Node). */
export interface RequestOrigin {
  ip?: string | null;
  userAgent?: string | null;
}

export interface AuditEntry {
  action: string;
  actor: Actor;
  organizationId?: string | null;
  projectId?: string | null;
  target?: { type: string; id: string } | null;
  detail?: Record<string, unknown>;
  origin?: RequestOrigin | null;
}

/** How long audit rows are kept; the retention job prunes older ones. */
export const AUDIT_RETENTION_MS = 400 * 86_400_000;

export async function recordAudit(db: Db, clock: Clock, entry: AuditEntry): Promise<void> {
  await db.insert(auditLog).values({
    id: crypto.randomUUID(),
    at: clock.now(),
    organizationId: entry.organizationId ?? null,
    projectId: entry.projectId ?? null,
    actorType: entry.actor.type,
    actorId: entry.actor.id ?? null,
    actorLabel: entry.actor.label ?? null,
    action: entry.action,
    targetType: entry.target?.type ?? null,
    targetId: entry.target?.id ?? null,
    detail: entry.detail ?? {},
    ip: entry.origin?.ip ?? null,
    userAgent: entry.origin?.userAgent?.slice(0, 300) ?? null,
  });
}

export interface AuditPage {
  entries: AuditLogRow[];
  /** pass as `before` for the next (older) page; null at the end */
  nextBefore: number | null;
}

/**
 * An organisation's log, newest first: what happened in it, plus the account events (sign-ins, failed
 * sign-ins, password changes) of the people who are its members now.
 */
export async function listOrganizationAudit(
  db: Db,
  organizationId: string,
  options: { before?: number; limit: number; projectId?: string },
): Promise<AuditPage> {
  const members = db
    .select({ userId: member.userId })
    .from(member)
    .where(eq(member.organizationId, organizationId));
  const scope = options.projectId
    ? and(eq(auditLog.organizationId, organizationId), eq(auditLog.projectId, options.projectId))
    : or(
        eq(auditLog.organizationId, organizationId),
        and(isNull(auditLog.organizationId), inArray(auditLog.actorId, members)),
      );
  const rows = await db
    .select()
    .from(auditLog)
    .where(and(scope, options.before !== undefined ? lt(auditLog.at, options.before) : undefined))
    .orderBy(desc(auditLog.at), desc(auditLog.id))
    .limit(options.limit + 1);
  const entries = rows.slice(0, options.limit);
  const last = entries.at(-1);
  return { entries, nextBefore: rows.length > options.limit && last ? last.at : null };
}

export async function pruneAudit(db: Db, now: number): Promise<void> {
  await db.delete(auditLog).where(lt(auditLog.at, now - AUDIT_RETENTION_MS));
}

export function toAuditEntry(row: AuditLogRow): AuditEntryDto {
  return {
    id: row.id,
    at: row.at,
    organizationId: row.organizationId,
    projectId: row.projectId,
    actor: { type: row.actorType, id: row.actorId, label: row.actorLabel },
    action: row.action,
    target: row.targetType && row.targetId ? { type: row.targetType, id: row.targetId } : null,
    detail: row.detail,
    ip: row.ip,
    userAgent: row.userAgent,
  };
}

/** Records an act on one project, under the project's organisation. */
export async function recordProjectAudit(
  db: Db,
  clock: Clock,
  projectId: string,
  entry: Omit<AuditEntry, "projectId" | "organizationId">,
): Promise<void> {
  const project = await db.query.projects.findFirst({ where: eq(projects.id, projectId) });
  await recordAudit(db, clock, { ...entry, projectId, organizationId: project?.organizationId ?? null });
}
