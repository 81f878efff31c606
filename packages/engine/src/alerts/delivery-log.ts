/**
 * The delivery log: what was to be said to whom, and what became of it — queued, held back (and why),
 * every attempt with outcome, status, error and latency. Per channel, per incident, or the whole project.
 */
import type { DeliveryLogEntry } from "@vigil/contract";
import { type Db, deliveries, deliveryAttempts, flips, incidents, notifications } from "@vigil/db";
import { and, desc, eq, gte, inArray, lte, type SQL } from "drizzle-orm";
import { NotFoundError } from "../errors.ts";

export type { DeliveryLogEntry };

export async function deliveryLog(
  db: Db,
  projectId: string,
  filter: { channelId?: string | undefined; incidentId?: string | undefined; limit: number },
): Promise<DeliveryLogEntry[]> {
  const where: SQL[] = [eq(notifications.projectId, projectId)];
  if (filter.channelId) where.push(eq(notifications.channelId, filter.channelId));
  if (filter.incidentId) {
    const incident = await db.query.incidents.findFirst({
      where: and(eq(incidents.projectId, projectId), eq(incidents.id, filter.incidentId)),
    });
    if (!incident) throw new NotFoundError("incident");
    // The incident's flips: its opening, any changes while open, and the recovery that resolved it.
    const flipRows = await db
      .select({ id: flips.id })
      .from(flips)
      .where(
        and(
          eq(flips.projectId, projectId),
          eq(flips.subjectType, incident.subjectType),
          eq(flips.subjectId, incident.subjectId),
          gte(flips.at, incident.openedAt),
          lte(flips.at, incident.resolvedAt ?? Number.MAX_SAFE_INTEGER),
        ),
      );
    if (flipRows.length === 0) return [];
    where.push(
      inArray(
        notifications.flipId,
        flipRows.map((f) => f.id),
      ),
    );
  }
  const rows = await db.query.notifications.findMany({
    where: and(...where),
    orderBy: [desc(notifications.id)],
    limit: filter.limit,
  });
  const deliveryIds = [...new Set(rows.map((r) => r.deliveryId).filter((id): id is string => id !== null))];
  const deliveryRows = deliveryIds.length
    ? await db.query.deliveries.findMany({ where: inArray(deliveries.id, deliveryIds) })
    : [];
  const attemptRows = deliveryIds.length
    ? await db.query.deliveryAttempts.findMany({
        where: inArray(deliveryAttempts.deliveryId, deliveryIds),
        orderBy: [deliveryAttempts.id],
      })
    : [];
  const byId = new Map(deliveryRows.map((d) => [d.id, d]));
  return rows.map((n) => {
    const d = n.deliveryId ? byId.get(n.deliveryId) : undefined;
    return {
      notificationId: n.id,
      channelId: n.channelId,
      kind: n.kind,
      event: n.event,
      title: n.title,
      subject: n.subjectType && n.subjectId ? { type: n.subjectType, id: n.subjectId } : null,
      state: n.state,
      // One column holds both: a suppression's reason, or a failed notice's error.
      suppressedReason: n.state === "failed" ? null : n.suppressedReason,
      error: n.state === "failed" ? n.suppressedReason : null,
      createdAt: n.createdAt,
      delivery: d
        ? {
            id: d.id,
            state: d.state,
            title: d.title,
            sentAt: d.sentAt,
            nextAttemptAt: d.nextAttemptAt,
            lastError: d.lastError,
            attempts: attemptRows
              .filter((a) => a.deliveryId === d.id)
              .map((a) => ({
                at: a.at,
                outcome: a.outcome,
                status: a.status,
                error: a.error,
                latencyMs: a.latencyMs,
              })),
          }
        : null,
    };
  });
}

/** How long the delivery log keeps finished messages and their notices. */
export const DELIVERY_LOG_DAYS = 90;

/**
 * Deletes finished deliveries (sent or given up) and their notices older than DELIVERY_LOG_DAYS, in bounded
 * steps like the other retention work. Queued and pending ones are never touched.
 */
export async function pruneDeliveryLog(db: Db, now: number, batch = 5000): Promise<number> {
  const before = now - DELIVERY_LOG_DAYS * 86_400_000;
  const results = await db.$client.batch(
    [
      {
        sql: `delete from notifications where id in (select id from notifications
                where created_at < ? and (state = 'suppressed' or delivery_id in
                  (select id from deliveries where state in ('sent', 'failed') and created_at < ?))
                limit ?)`,
        args: [before, before, batch],
      },
      {
        sql: `delete from deliveries where id in (select id from deliveries
                where state in ('sent', 'failed') and created_at < ? limit ?)`,
        args: [before, batch],
      },
    ],
    "write",
  );
  return results.reduce((n, r) => n + r.rowsAffected, 0);
}
