import type { LogEntryOut, LogsQuery } from "@vigil/contract";
import { type Db, logEntries } from "@vigil/db";
import { and, asc, desc, eq, gt, like, lt, lte, type SQL, sql } from "drizzle-orm";

function toLog(row: typeof logEntries.$inferSelect): LogEntryOut {
  return {
    id: row.id,
    hostId: row.hostId,
    ts: row.ts,
    priority: row.priority,
    unit: row.unit,
    identifier: row.identifier,
    message: row.message,
    pid: row.pid,
    fields: row.fields,
  };
}

/** `%` and `_` in the search text are literal, not wildcards. */
const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * Log entries of a project (or one host), filtered by unit, priority, text and an end moment. Paging is by id: `before`
 * pages back (newest first), `after` catches up (oldest first, as a live tail reads).
 */
export async function listLogs(
  db: Db,
  projectId: string,
  query: LogsQuery & { hostId?: string },
): Promise<{ entries: LogEntryOut[]; nextBefore: number | null }> {
  const conditions: (SQL | undefined)[] = [eq(logEntries.projectId, projectId)];
  if (query.hostId) conditions.push(eq(logEntries.hostId, query.hostId));
  if (query.unit) conditions.push(eq(logEntries.unit, query.unit));
  if (query.priority !== undefined) conditions.push(lte(logEntries.priority, query.priority));
  if (query.q) conditions.push(sql`${like(logEntries.message, `%${escapeLike(query.q)}%`)} escape '\\'`);
  if (query.before !== undefined) conditions.push(lt(logEntries.id, query.before));
  if (query.after !== undefined) conditions.push(gt(logEntries.id, query.after));
  // Pages stay ordered by id: a host's entries arrive in time order, so within a host the lines just
  // before `to` are the newest ids that pass this filter.
  if (query.to !== undefined) conditions.push(lte(logEntries.ts, query.to));
  const forward = query.after !== undefined;
  const rows = await db
    .select()
    .from(logEntries)
    .where(and(...conditions))
    .orderBy(forward ? asc(logEntries.id) : desc(logEntries.id))
    .limit(query.limit);
  const entries = rows.map(toLog);
  const last = entries.at(-1);
  return { entries, nextBefore: !forward && entries.length === query.limit && last ? last.id : null };
}

/** The id a live tail starts after: the newest entry now, so a tail shows only what arrives next. */
export async function latestLogId(db: Db, projectId: string, hostId?: string): Promise<number> {
  const [row] = await db
    .select({ id: sql<number>`coalesce(max(${logEntries.id}), 0)` })
    .from(logEntries)
    .where(and(eq(logEntries.projectId, projectId), hostId ? eq(logEntries.hostId, hostId) : undefined));
  return Number(row?.id ?? 0);
}
