import { type Db, rollupDirty, rollupsDaily, rollupsHourly, series } from "@vigil/db";
import { and, eq, sql } from "drizzle-orm";
import { projectRollupKey } from "./series.ts";

const HOUR = 3_600_000;
const PROJECT_PREFIX = projectRollupKey("");
const DAY = 24 * HOUR;

/**
 * Recomputes the rollups of hours that received samples, oldest first, at most `limit` per call.
 * 1. Take a batch of dirty (host, hour) marks.
 * 2. For each: replace that hour's rollup rows from the raw samples, then that day's rollup rows from the
 *    hourly ones. Replacing (not adding) makes this idempotent, so a crash or a second scheduler repeats
 *    work but never double-counts.
 * 3. Remove the mark — only if no newer sample re-marked it meanwhile is irrelevant: the mark is a set
 *    member, and a re-mark after our read just means one more (cheap, correct) recomputation next tick.
 *    The current hour is left marked until it is over, since it keeps receiving samples.
 * Returns how many hours were rolled up.
 */
export async function rollUpDirtyHours(db: Db, now: number, limit = 200): Promise<number> {
  const currentHour = Math.floor(now / HOUR) * HOUR;
  const marks = await db
    .select()
    .from(rollupDirty)
    .where(sql`${rollupDirty.hour} < ${currentHour}`)
    .orderBy(rollupDirty.hour)
    .limit(limit);
  for (const mark of marks) {
    const day = Math.floor(mark.hour / DAY) * DAY;
    // A mark names a host, or `project:<id>` for the project's own series (write-plan.ts).
    const project = mark.hostId.startsWith(PROJECT_PREFIX) ? mark.hostId.slice(PROJECT_PREFIX.length) : null;
    const hostSeries =
      project === null
        ? sql`(select ${series.id} from ${series} where ${series.hostId} = ${mark.hostId})`
        : sql`(select ${series.id} from ${series} where ${series.projectId} = ${project} and ${series.hostId} is null)`;
    await db.batch([
      db.run(sql`
        insert into ${rollupsHourly} (series_id, bucket, min, max, sum, count)
        select series_id, ${mark.hour}, min(value), max(value), sum(value), count(*)
        from samples
        where series_id in ${hostSeries} and ts >= ${mark.hour} and ts < ${mark.hour + HOUR}
        group by series_id
        on conflict (series_id, bucket) do update set
          min = excluded.min, max = excluded.max, sum = excluded.sum, count = excluded.count`),
      db.run(sql`
        insert into ${rollupsDaily} (series_id, bucket, min, max, sum, count)
        select series_id, ${day}, min(min), max(max), sum(sum), sum(count)
        from rollups_hourly
        where series_id in ${hostSeries} and bucket >= ${day} and bucket < ${day + DAY}
        group by series_id
        on conflict (series_id, bucket) do update set
          min = excluded.min, max = excluded.max, sum = excluded.sum, count = excluded.count`),
      db.delete(rollupDirty).where(and(eq(rollupDirty.hostId, mark.hostId), eq(rollupDirty.hour, mark.hour))),
    ]);
  }
  return marks.length;
}
