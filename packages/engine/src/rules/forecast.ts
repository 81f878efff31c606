/**
 * Disk-full forecasts, run by the scheduler (every few minutes, not per batch: a trend over hours does not
 * change with one sample).
 * 1. Read the enabled forecast rules, and the hosts of their projects that reported in the last hour.
 * 2. For each filesystem of those hosts, fit a least-squares line to its available bytes over the rule's
 *    lookback, averaged into 5-minute buckets in SQL (one indexed range read per filesystem).
 * 3. A falling line that reaches zero within the rule's horizon is a breach; the reading goes through the
 *    same lifecycle and compare-and-set writes as every other alert.
 */
import type { RuleParams } from "@vigil/contract";
import { alerts, type Db, hosts, type RuleRow, rules } from "@vigil/db";
import { and, eq, gt, inArray } from "drizzle-orm";
import {
  commitWrites,
  hostContext,
  type PendingWrite,
  type RuleReport,
  readingWrite,
  ruleCoversHost,
} from "./evaluate.ts";
import type { Reading } from "./lifecycle.ts";
import { metricLabel } from "./readings.ts";

const HOUR = 3_600_000;
const BUCKET_MS = 5 * 60_000;

/** Least squares over (t, y): the slope per ms and the fitted value at `at`; null with too few points. */
export function linearTrend(
  points: readonly [number, number][],
  at: number,
): { slope: number; value: number } | null {
  if (points.length < 3) return null;
  const n = points.length;
  let sx = 0;
  let sy = 0;
  for (const [x, y] of points) {
    sx += x;
    sy += y;
  }
  const mx = sx / n;
  const my = sy / n;
  let sxx = 0;
  let sxy = 0;
  for (const [x, y] of points) {
    sxx += (x - mx) * (x - mx);
    sxy += (x - mx) * (y - my);
  }
  if (sxx === 0) return null;
  const slope = sxy / sxx;
  return { slope, value: my + slope * (at - mx) };
}

/** Hours until a filesystem is full at its recent trend; null when it is not filling. */
export function hoursUntilFull(points: readonly [number, number][], now: number): number | null {
  const trend = linearTrend(points, now);
  if (!trend || trend.slope >= 0) return null;
  const available = Math.max(0, Math.min(trend.value, points[points.length - 1]?.[1] ?? trend.value));
  return available / -trend.slope / HOUR;
}

/** One filesystem's trend: hours until full at the fitted line (null when not filling or too little data). */
export interface FilesystemTrend {
  labelsKey: string;
  labels: Record<string, string>;
  hoursLeft: number | null;
  /** false when the data covers less than half the lookback: a burst of writes is not a trend */
  enoughData: boolean;
}

/**
 * Fits each filesystem's available bytes over the lookback (5-minute averages, one indexed range read
 * per filesystem). Shared by the forecast rule and the host page's filesystem table.
 */
export async function filesystemTrends(
  db: Db,
  hostId: string,
  lookbackHours: number,
  now: number,
): Promise<FilesystemTrend[]> {
  const seriesRows = await db.$client.execute({
    sql: "select id, labels from series where host_id = ? and name = 'fs.available_bytes'",
    args: [hostId],
  });
  const trends: FilesystemTrend[] = [];
  for (const s of seriesRows.rows) {
    const labelsKey = String(s.labels);
    const from = now - lookbackHours * HOUR;
    const buckets = await db.$client.execute({
      sql: `select (ts / ?) * ? as t, avg(value) as v from samples where series_id = ? and ts > ? and ts <= ?
            group by ts / ? order by t`,
      args: [BUCKET_MS, BUCKET_MS, Number(s.id), from, now, BUCKET_MS],
    });
    const points = buckets.rows.map((r) => [Number(r.t) + BUCKET_MS / 2, Number(r.v)] as [number, number]);
    const first = points[0]?.[0];
    const enoughData = first !== undefined && now - first >= (lookbackHours * HOUR) / 2;
    trends.push({
      labelsKey,
      labels: JSON.parse(labelsKey) as Record<string, string>,
      hoursLeft: enoughData ? hoursUntilFull(points, now) : null,
      enoughData,
    });
  }
  return trends;
}

async function forecastReadings(
  db: Db,
  hostId: string,
  p: RuleParams<"forecast">,
  now: number,
): Promise<Reading[]> {
  const readings: Reading[] = [];
  for (const { labelsKey, labels, hoursLeft: left, enoughData } of await filesystemTrends(
    db,
    hostId,
    p.lookbackHours,
    now,
  )) {
    if (p.mount && labels.mount !== p.mount) continue;
    // A trend needs data over at least half the lookback, or a burst of writes would read as a disk filling.
    if (!enoughData) continue;
    const label = metricLabel("fs.available_bytes", labels);
    const breach = left !== null && left < p.withinHours;
    const leftText = left === null ? "not filling" : `full in ~${Math.round(left * 10) / 10} h`;
    readings.push({
      targetKey: labelsKey === "{}" ? "" : labelsKey,
      labels,
      label,
      breach,
      value: left === null ? null : Math.round(left * 100) / 100,
      observed: `${label} ${leftText} at the trend of the last ${p.lookbackHours} h`,
      valueText: leftText,
      condition: breach ? `(limit ${p.withinHours} h)` : "",
    });
  }
  return readings;
}

/** Evaluates every enabled forecast rule on the hosts that reported within the last hour. */
export async function evaluateForecasts(db: Db, now: number): Promise<RuleReport> {
  const report: RuleReport = { evaluated: 0, written: 0, flips: 0, skipped: 0 };
  const forecastRules = await db.query.rules.findMany({
    where: and(eq(rules.kind, "forecast"), eq(rules.enabled, true)),
  });
  const projectIds = [...new Set(forecastRules.map((r) => r.projectId))];
  if (projectIds.length === 0) return report;
  const hostRows = await db
    .select()
    .from(hosts)
    .where(and(inArray(hosts.projectId, projectIds), gt(hosts.lastSeenAt, now - HOUR)));
  for (const hostRow of hostRows) {
    const host = hostContext(hostRow);
    const mine: RuleRow[] = forecastRules.filter(
      (r) => r.projectId === host.projectId && ruleCoversHost(r, host),
    );
    if (mine.length === 0) continue;
    const existing = await db
      .select()
      .from(alerts)
      .where(
        and(
          eq(alerts.hostId, host.hostId),
          inArray(
            alerts.ruleId,
            mine.map((r) => r.id),
          ),
        ),
      );
    const writes: PendingWrite[] = [];
    for (const rule of mine) {
      report.evaluated++;
      for (const reading of await forecastReadings(
        db,
        host.hostId,
        rule.params as RuleParams<"forecast">,
        now,
      )) {
        const write = readingWrite(host, rule, reading, existing, now);
        if (write) writes.push(write);
      }
    }
    await commitWrites(db, writes, report);
  }
  return report;
}
