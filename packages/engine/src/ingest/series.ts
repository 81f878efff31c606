/**
 * Series rows: the id every stored point refers to, made on first sight of a (name, labels) pair. Built-in
 * host metrics are a fixed catalogue; custom metrics (scraped or pushed) are not, so their new series are
 * counted against caps per host and per project before they are made.
 */
import { CUSTOM_METRIC_LIMITS, ErrorCode } from "@vigil/contract";
import { type Db, series } from "@vigil/db";
import { and, eq, isNull } from "drizzle-orm";
import type { SeriesCache } from "../engine-state.ts";
import { DomainError } from "../errors.ts";
import type { MetricPoint } from "./metrics.ts";

/** Whose series: a host's, or the project's alone (`hostId` null: pushed without a host, job durations). */
export interface SeriesOwner {
  projectId: string;
  hostId: string | null;
}

export interface SeriesCap {
  /** at most this many custom series; 0 means no cap */
  max: number;
  /** the setting that raises it, named in refusals */
  setting: string;
}

export interface SeriesCaps {
  perHost: SeriesCap;
  perProject: SeriesCap;
}

export const DEFAULT_SERIES_CAPS: SeriesCaps = {
  perHost: { max: CUSTOM_METRIC_LIMITS.seriesPerHost, setting: "VIGIL_MAX_CUSTOM_SERIES_PER_HOST" },
  perProject: { max: CUSTOM_METRIC_LIMITS.seriesPerProject, setting: "VIGIL_MAX_CUSTOM_SERIES_PER_PROJECT" },
};

/** A new custom series that was not made, and why; the metric is named so the owner can find it. */
export interface SeriesRefusal {
  metric: string;
  reason: string;
}

/** A push whose new series would pass a cap: nothing of the push is stored (CAP_REACHED, 403). */
export class SeriesCapError extends DomainError {
  constructor(readonly refusals: readonly SeriesRefusal[]) {
    const first = refusals[0];
    super(
      ErrorCode.capReached,
      `${first?.metric}: ${first?.reason}${refusals.length > 1 ? ` (and ${refusals.length - 1} more new series)` : ""}`,
    );
  }
}

/** rows per INSERT: well under SQLite's bound-parameter limit */
const CHUNK = 150;

export const seriesKey = (name: string, labels: string) => `${name}\u0000${labels}`;
/**
 * The key of a project's own series where a host id would go: in the series cache and in rollup marks
 * (rollups.ts reads it back).
 */
export const projectRollupKey = (projectId: string) => `project:${projectId}`;
/** Whose series, as one string: the cache's and the rollup marks' key. */
export const ownerKey = (owner: SeriesOwner) => owner.hostId ?? projectRollupKey(owner.projectId);

/** `name{a="b"}`, the way Prometheus prints a series, for refusals people read. */
export function seriesText(name: string, labels: string): string {
  const pairs = Object.entries(JSON.parse(labels) as Record<string, string>);
  return pairs.length === 0
    ? name
    : `${name}{${pairs.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(",")}}`;
}

async function customSeriesCounts(db: Db, owner: SeriesOwner): Promise<{ host: number; project: number }> {
  const { rows } = await db.$client.execute({
    sql: `select (select count(*) from series where host_id = ?1 and kind is not null) as host,
                 (select count(*) from series where project_id = ?2 and kind is not null) as project`,
    args: [owner.hostId, owner.projectId],
  });
  return { host: Number(rows[0]?.host ?? 0), project: Number(rows[0]?.project ?? 0) };
}

/**
 * Ids of every series the points need, creating missing ones (idempotent, so outside any transaction).
 * 1. Most batches find every id in the cache and read nothing.
 * 2. Otherwise the owner's ids are read; new built-in series are always made, new custom series only
 *    while the owner's host and project stay within their caps (counted once, then in memory: two
 *    batches racing may pass a cap by a few, which a cap can live with).
 * 3. Points of refused series are left out by the caller; the refusals say which and why.
 */
export async function resolveSeries(
  db: Db,
  owner: SeriesOwner,
  points: readonly MetricPoint[],
  cache: SeriesCache,
  caps: SeriesCaps = DEFAULT_SERIES_CAPS,
): Promise<{ ids: Map<string, number>; refused: SeriesRefusal[]; created: number }> {
  const ids = cache.get(ownerKey(owner));
  const known = points.every((p) => ids.has(seriesKey(p.name, p.labels)));
  cache.count(known);
  if (known) return { ids, refused: [], created: 0 };
  const mine =
    owner.hostId === null
      ? and(eq(series.projectId, owner.projectId), isNull(series.hostId))
      : eq(series.hostId, owner.hostId);
  const load = async () => {
    const rows = await db
      .select({ id: series.id, name: series.name, labels: series.labels })
      .from(series)
      .where(mine);
    for (const r of rows) ids.set(seriesKey(r.name, r.labels), r.id);
  };
  await load();
  const missing = new Map<string, { name: string; labels: string; kind: string | null }>();
  for (const p of points) {
    const key = seriesKey(p.name, p.labels);
    if (!ids.has(key) && !missing.has(key))
      missing.set(key, { name: p.name, labels: p.labels, kind: p.kind ?? null });
  }
  const refused: SeriesRefusal[] = [];
  const make: { name: string; labels: string; kind: string | null }[] = [];
  let counts: { host: number; project: number } | undefined;
  for (const m of missing.values()) {
    if (m.kind === null) {
      make.push(m);
      continue;
    }
    counts ??= await customSeriesCounts(db, owner);
    const over =
      owner.hostId !== null && caps.perHost.max > 0 && counts.host >= caps.perHost.max
        ? `the host has reached its cap of ${caps.perHost.max} custom series (${caps.perHost.setting})`
        : caps.perProject.max > 0 && counts.project >= caps.perProject.max
          ? `the project has reached its cap of ${caps.perProject.max} custom series (${caps.perProject.setting})`
          : null;
    if (over) {
      refused.push({ metric: seriesText(m.name, m.labels), reason: `new series refused: ${over}` });
      continue;
    }
    counts.host++;
    counts.project++;
    make.push(m);
  }
  if (make.length > 0) {
    for (let i = 0; i < make.length; i += CHUNK) {
      await db
        .insert(series)
        .values(
          make.slice(i, i + CHUNK).map((m) => ({ projectId: owner.projectId, hostId: owner.hostId, ...m })),
        )
        .onConflictDoNothing();
    }
    await load();
  }
  return { ids, refused, created: make.length };
}
