/**
 * Reading custom metrics: the catalogue of a project's series and one metric over time, as stored values,
 * counter rates or histogram quantiles (the three things a Prometheus user reaches for first).
 */
import type {
  CustomMetricKind,
  CustomQuery,
  CustomQueryResponse,
  CustomSeriesList,
  CustomSeriesListQuery,
} from "@vigil/contract";
import { type Db, series } from "@vigil/db";
import { and, asc, eq, isNotNull, like, sql } from "drizzle-orm";
import type { Clock } from "../clock.ts";
import { InvalidInputError } from "../errors.ts";
import { resolveHostRef } from "../ingest/push.ts";
import { queryWindow, readBuckets, type Window } from "./metrics.ts";
import { counterIncrease, counterRate, histogramQuantile, parseLe, type RawPoint } from "./promql.ts";

/** Series one query may combine; more is refused with a hint to narrow it by host or labels. */
export const MAX_QUERY_SERIES = 200;

export async function listCustomSeries(
  db: Db,
  projectId: string,
  query: CustomSeriesListQuery,
): Promise<CustomSeriesList> {
  const hostId = await resolveHostRef(db, projectId, query.host);
  const rows = await db
    .select({
      name: series.name,
      kind: series.kind,
      labels: series.labels,
      hostId: series.hostId,
      lastTs: series.lastTs,
      lastValue: series.lastValue,
    })
    .from(series)
    .where(
      and(
        eq(series.projectId, projectId),
        isNotNull(series.kind),
        hostId === null ? undefined : eq(series.hostId, hostId),
        // `_` is a wildcard in LIKE and common in metric names, so it is escaped.
        query.prefix ? like(series.name, `${query.prefix.replace(/[\\%_]/g, "\\$&")}%`) : undefined,
      ),
    )
    .orderBy(asc(series.name), asc(series.hostId), asc(series.labels))
    .limit(query.limit + 1);
  return {
    series: rows.slice(0, query.limit).map((r) => ({
      name: r.name,
      kind: r.kind as CustomMetricKind,
      labels: JSON.parse(r.labels) as Record<string, string>,
      hostId: r.hostId,
      lastTs: r.lastTs,
      lastValue: r.lastValue,
    })),
    truncated: rows.length > query.limit,
  };
}

interface SeriesRow {
  id: number;
  hostId: string | null;
  labels: Record<string, string>;
  kind: string;
}

async function findSeries(
  db: Db,
  projectId: string,
  name: string,
  hostId: string | null,
  match: Record<string, string>,
): Promise<SeriesRow[]> {
  const rows = await db
    .select({ id: series.id, hostId: series.hostId, labels: series.labels, kind: series.kind })
    .from(series)
    .where(
      and(
        eq(series.projectId, projectId),
        eq(series.name, name),
        isNotNull(series.kind),
        hostId === null ? undefined : eq(series.hostId, hostId),
      ),
    )
    .orderBy(asc(series.hostId), asc(series.labels));
  const out: SeriesRow[] = [];
  for (const r of rows) {
    const labels = JSON.parse(r.labels) as Record<string, string>;
    if (Object.entries(match).every(([k, v]) => (labels[k] ?? "") === v))
      out.push({ id: r.id, hostId: r.hostId, labels, kind: r.kind as string });
  }
  if (out.length > MAX_QUERY_SERIES) {
    throw new InvalidInputError(
      "query.match",
      `${name} has ${out.length} matching series, more than ${MAX_QUERY_SERIES}; narrow it with host or match`,
    );
  }
  return out;
}

/** The evaluation times of a window: the end of each step (the last one cut at `to`). */
function stepEnds(w: Window): number[] {
  const out: number[] = [];
  for (let t = Math.floor(w.from / w.stepMs) * w.stepMs + w.stepMs; t < w.to + w.stepMs; t += w.stepMs)
    out.push(Math.min(t, w.to));
  return out;
}

/**
 * A counter's values for rates: raw samples inside raw retention (from one window before the range, so the
 * first step's window is full); from rollups, each bucket's maximum stands at the bucket's end, which is the
 * counter's value there unless it restarted inside the bucket.
 */
async function counterPoints(
  db: Db,
  ids: readonly number[],
  w: Window,
  windowMs: number,
): Promise<Map<number, RawPoint[]>> {
  const out = new Map<number, RawPoint[]>();
  if (ids.length === 0) return out;
  const idList = sql.join(
    ids.map((id) => sql`${id}`),
    sql`, `,
  );
  const from = w.from - windowMs;
  const query =
    w.resolution === "raw"
      ? sql`select series_id as id, json_group_array(json_array(ts, value)) as points from
            (select series_id, ts, value from samples where series_id in (${idList}) and ts >= ${from} and ts <= ${w.to}
             order by series_id, ts) group by series_id`
      : sql`select series_id as id, json_group_array(json_array(bucket + ${w.resolution === "hour" ? 3_600_000 : 86_400_000} - 1, max)) as points from
            (select series_id, bucket, max from ${sql.raw(w.resolution === "hour" ? "rollups_hourly" : "rollups_daily")}
             where series_id in (${idList}) and bucket >= ${from} and bucket <= ${w.to} order by series_id, bucket)
            group by series_id`;
  const result = await db.run(query);
  for (const row of result.rows) {
    const points = (JSON.parse(String(row.points)) as RawPoint[]).sort((a, b) => a[0] - b[0]);
    out.set(Number(row.id), points);
  }
  return out;
}

/** A rate's window when the query names none: five minutes, as `rate(x[5m])` is the usual first reach. */
export const DEFAULT_RATE_WINDOW_MS = 5 * 60_000;

/**
 * The window each rate is taken over: the query's `window`, else the larger of five minutes and the step
 * (so every sample counts at coarse steps, and fine steps still see several scrapes); from rollups never
 * shorter than two buckets, so every window holds two values.
 */
function rateWindow(w: Window, windowSec: number | undefined): number {
  const asked = windowSec !== undefined ? windowSec * 1000 : Math.max(w.stepMs, DEFAULT_RATE_WINDOW_MS);
  if (w.resolution === "raw") return asked;
  return Math.max(asked, 2 * (w.resolution === "hour" ? 3_600_000 : 86_400_000));
}

export async function queryCustomMetric(
  db: Db,
  clock: Clock,
  projectId: string,
  query: CustomQuery,
): Promise<CustomQueryResponse> {
  const hostId = await resolveHostRef(db, projectId, query.host);
  const w = await queryWindow(db, clock, projectId, query);
  const head = { name: query.name, fn: query.fn, from: w.from, to: w.to, stepSec: w.stepMs / 1000 };
  const base = { ...head, resolution: w.resolution };

  if (query.fn === "value") {
    const rows = await findSeries(db, projectId, query.name, hostId, query.match);
    const buckets = await readBuckets(
      db,
      rows.map((r) => r.id),
      w,
    );
    return {
      ...base,
      series: rows.map((r) => ({
        labels: r.labels,
        hostId: r.hostId,
        points: (buckets.get(r.id) ?? []).map((p) => ({ ts: p.ts, value: p.avg, min: p.min, max: p.max })),
      })),
    };
  }

  const at = stepEnds(w);
  const windowMs = rateWindow(w, query.window);
  if (query.fn === "rate" || query.fn === "increase") {
    const rows = await findSeries(db, projectId, query.name, hostId, query.match);
    const values = await counterPoints(
      db,
      rows.map((r) => r.id),
      w,
      windowMs,
    );
    const compute = query.fn === "rate" ? counterRate : counterIncrease;
    return {
      ...base,
      series: rows.map((r) => {
        const results = compute(values.get(r.id) ?? [], at, windowMs);
        return {
          labels: r.labels,
          hostId: r.hostId,
          points: at.map((ts, i) => ({ ts, value: results[i] ?? null })),
        };
      }),
    };
  }

  // quantile: the family's buckets, grouped by their labels without `le`, each bucket's rate per step.
  if (query.q === undefined) throw new InvalidInputError("query.q", "is required for fn=quantile (0 to 1)");
  const rows = await findSeries(db, projectId, `${query.name}_bucket`, hostId, query.match);
  if (rows.some((r) => r.labels.le === undefined))
    throw new InvalidInputError("query.name", `${query.name}_bucket has series without an le label`);
  const values = await counterPoints(
    db,
    rows.map((r) => r.id),
    w,
    windowMs,
  );
  const groups = new Map<
    string,
    { hostId: string | null; labels: Record<string, string>; rows: SeriesRow[] }
  >();
  for (const r of rows) {
    const { le: _le, ...rest } = r.labels;
    const key = JSON.stringify([r.hostId, rest]);
    const group = groups.get(key) ?? { hostId: r.hostId, labels: rest, rows: [] };
    group.rows.push(r);
    groups.set(key, group);
  }
  const q = query.q;
  return {
    ...base,
    series: [...groups.values()].map((g) => {
      const rates = g.rows.map((r) => ({
        le: parseLe(r.labels.le as string),
        rates: counterRate(values.get(r.id) ?? [], at, windowMs),
      }));
      return {
        labels: g.labels,
        hostId: g.hostId,
        points: at.map((ts, i) => {
          const buckets = rates
            .filter((b) => b.rates[i] !== null && b.rates[i] !== undefined)
            .map((b) => [b.le, b.rates[i] as number] as const);
          const value = buckets.length === 0 ? Number.NaN : histogramQuantile(q, buckets);
          return { ts, value: Number.isFinite(value) ? value : null };
        }),
      };
    }),
  };
}
