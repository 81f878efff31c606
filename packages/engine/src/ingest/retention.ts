import { type Db, hostEvents, hosts, ingestedBatches, logEntries, projects, series } from "@vigil/db";
import { and, eq, lt, type SQL, sql } from "drizzle-orm";
import { resolveSettings } from "../settings.ts";

const DAY = 86_400_000;
/** Batch ids are remembered this long: far beyond any probe's retry horizon. */
const BATCH_MEMORY_MS = 7 * DAY;
/** History of state changes and deploy markers is kept at least this long. */
const MIN_EVENT_DAYS = 90;

export interface RetentionBudget {
  /** most rows one DELETE may remove, which keeps each write lock short */
  rowsPerStatement: number;
  /** most DELETE statements per call; what is left waits for the next tick */
  statements: number;
}

export const DEFAULT_RETENTION_BUDGET: RetentionBudget = { rowsPerStatement: 5_000, statements: 100 };

/**
 * Deletes what has aged out, project by project with each project's own bounds, in small statements.
 * 1. Samples and rollups: per group of series, through their primary key (series, ts), so no statement
 *    scans a whole table; each DELETE removes at most `rowsPerStatement` rows and repeats while full.
 * 2. Logs: by age and by count per host (everything older than the N-th newest entry).
 * 3. State-change history, and remembered batch ids past the dedup window.
 * Stops when the statement budget is spent; the next tick carries on. Returns the rows removed.
 */
export async function applyRetention(
  db: Db,
  now: number,
  budget = DEFAULT_RETENTION_BUDGET,
): Promise<number> {
  let statements = 0;
  let removed = 0;
  const spent = () => statements >= budget.statements;
  /** Runs one bounded DELETE; true when it removed a full chunk (so more may be left). */
  const deleteChunk = async (query: SQL): Promise<boolean> => {
    statements++;
    const { rowsAffected } = await db.run(query);
    removed += rowsAffected;
    return rowsAffected >= budget.rowsPerStatement;
  };
  const limit = budget.rowsPerStatement;

  for (const project of await db.select({ id: projects.id, settings: projects.settings }).from(projects)) {
    const r = resolveSettings(project.settings).retention;
    const seriesIds = (
      await db.select({ id: series.id }).from(series).where(eq(series.projectId, project.id))
    ).map((s) => s.id);
    const tiers = [
      { table: sql.raw("samples"), ts: sql.raw("ts"), cutoff: now - r.rawDays * DAY },
      { table: sql.raw("rollups_hourly"), ts: sql.raw("bucket"), cutoff: now - r.hourlyDays * DAY },
      { table: sql.raw("rollups_daily"), ts: sql.raw("bucket"), cutoff: now - r.dailyDays * DAY },
    ];
    for (const tier of tiers) {
      for (let i = 0; i < seriesIds.length; i += 100) {
        const ids = sql.join(
          seriesIds.slice(i, i + 100).map((id) => sql`${id}`),
          sql`, `,
        );
        const where = sql`series_id in (${ids}) and ${tier.ts} < ${tier.cutoff}`;
        do {
          if (spent()) return removed;
        } while (
          await deleteChunk(
            sql`delete from ${tier.table} where (series_id, ${tier.ts}) in
                (select series_id, ${tier.ts} from ${tier.table} where ${where} limit ${limit})`,
          )
        );
      }
    }

    const hostIds = (
      await db.select({ id: hosts.id }).from(hosts).where(eq(hosts.projectId, project.id))
    ).map((h) => h.id);
    for (const hostId of hostIds) {
      const [nth] = await db
        .select({ id: logEntries.id })
        .from(logEntries)
        .where(eq(logEntries.hostId, hostId))
        .orderBy(sql`${logEntries.id} desc`)
        .limit(1)
        .offset(r.logsPerHost);
      const tooOld = sql`host_id = ${hostId} and (ts < ${now - r.logDays * DAY} or id <= ${nth?.id ?? 0})`;
      do {
        if (spent()) return removed;
      } while (
        await deleteChunk(
          sql`delete from log_entries where id in (select id from log_entries where ${tooOld} limit ${limit})`,
        )
      );
    }

    if (spent()) return removed;
    statements++;
    const eventCutoff = now - Math.max(MIN_EVENT_DAYS, r.hourlyDays) * DAY;
    const events = await db
      .delete(hostEvents)
      .where(and(eq(hostEvents.projectId, project.id), lt(hostEvents.at, eventCutoff)));
    removed += events.rowsAffected;
  }
  if (!spent()) {
    const batches = await db
      .delete(ingestedBatches)
      .where(lt(ingestedBatches.receivedAt, now - BATCH_MEMORY_MS));
    removed += batches.rowsAffected;
  }
  return removed;
}
