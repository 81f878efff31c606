/**
 * Heartbeat run durations (start → success) as a series per check, `job.duration_seconds{check=<id>}`,
 * owned by the project: stored, rolled up and kept like every other series, so a cron job's run time is
 * charted over months and read at any step, not only as the last pings' list.
 */
import type { MetricsQuery } from "@vigil/contract";
import { checks, type Db, type InStatement, series } from "@vigil/db";
import { and, eq, isNull } from "drizzle-orm";
import type { Clock } from "../clock.ts";
import type { EngineState } from "../engine-state.ts";
import { NotFoundError } from "../errors.ts";
import { canonicalLabels } from "../ingest/metrics.ts";
import { ownerKey, resolveSeries, seriesKey } from "../ingest/series.ts";
import { sampleStatements } from "../ingest/write-plan.ts";
import { queryWindow, readBuckets } from "../queries/metrics.ts";

export const RUN_DURATION_METRIC = "job.duration_seconds";

const labelsOf = (checkId: string) => canonicalLabels({ check: checkId });

/**
 * Stores one run's length. Called after the ping that ended the run committed: the ping is what was
 * acknowledged, so a failure here is logged and the ping stands.
 */
export async function recordRunDuration(
  db: Db,
  state: EngineState,
  check: { id: string; projectId: string },
  at: number,
  durationMs: number,
): Promise<void> {
  const owner = { projectId: check.projectId, hostId: null };
  const point = { name: RUN_DURATION_METRIC, labels: labelsOf(check.id), ts: at, value: durationMs / 1000 };
  try {
    const { ids } = await resolveSeries(db, owner, [point], state.series);
    const id = ids.get(seriesKey(point.name, point.labels));
    if (id === undefined) return;
    const statements: InStatement[] = [];
    sampleStatements(statements, [{ rollupKey: ownerKey(owner), samples: [[id, point.ts, point.value]] }]);
    await db.$client.batch(statements, "write");
  } catch (err) {
    console.error(`recording a run duration of check ${check.id} failed`, err);
  }
}

/** A heartbeat's run durations over time, in seconds: avg, min and max per step. */
export async function queryRunDurations(
  db: Db,
  clock: Clock,
  projectId: string,
  checkId: string,
  query: Omit<MetricsQuery, "names">,
) {
  const found = await db.query.checks.findFirst({
    where: and(eq(checks.id, checkId), eq(checks.projectId, projectId)),
    columns: { id: true },
  });
  if (!found) throw new NotFoundError("check");
  const window = await queryWindow(db, clock, projectId, query);
  const [row] = await db
    .select({ id: series.id })
    .from(series)
    .where(
      and(
        eq(series.projectId, projectId),
        isNull(series.hostId),
        eq(series.name, RUN_DURATION_METRIC),
        eq(series.labels, labelsOf(checkId)),
      ),
    );
  const points = row ? ((await readBuckets(db, [row.id], window)).get(row.id) ?? []) : [];
  return {
    from: window.from,
    to: window.to,
    stepSec: window.stepMs / 1000,
    resolution: window.resolution,
    points,
  };
}
