/**
 * Absent series, run by the scheduler every minute: silence is never in a batch, so it has to be looked for.
 * 1. Read the enabled `metric_absent` rules.
 * 2. Per rule, one indexed read of the project's series of that name (with each one's newest sample time),
 *    kept to hosts the rule covers and the labels it names. Only series that reported once can go absent:
 *    a rule over every host must not fire on the hosts that never ran the app.
 * 3. A series silent longer than the rule's minutes is a breach; it clears when the series reports again.
 *    Readings go through the same lifecycle and compare-and-set writes as every other alert.
 */
import type { RuleParams } from "@vigil/contract";
import { alerts, type Db, hosts, type RuleRow, rules, series } from "@vigil/db";
import { and, eq, inArray, isNotNull } from "drizzle-orm";
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

const MIN = 60_000;

const ago = (ms: number) =>
  ms < 2 * 60 * MIN ? `${Math.round(ms / MIN)} min` : `${Math.round((ms / (60 * MIN)) * 10) / 10} h`;

function absentReading(
  p: RuleParams<"metric_absent">,
  labelsKey: string,
  lastTs: number,
  now: number,
): Reading {
  const labels = JSON.parse(labelsKey) as Record<string, string>;
  const label = metricLabel(p.metric, labels);
  const silent = Math.max(0, now - lastTs);
  return {
    targetKey: labelsKey === "{}" ? "" : labelsKey,
    labels,
    label,
    breach: silent > p.minutes * MIN,
    value: Math.round(silent / MIN),
    observed: `${label} last reported ${ago(silent)} ago`,
    valueText: ago(silent),
    condition: `(silent over ${p.minutes} min)`,
  };
}

export async function evaluateAbsentSeries(db: Db, now: number): Promise<RuleReport> {
  const report: RuleReport = { evaluated: 0, written: 0, flips: 0, skipped: 0 };
  const absentRules = await db.query.rules.findMany({
    where: and(eq(rules.kind, "metric_absent"), eq(rules.enabled, true)),
  });
  const writes: PendingWrite[] = [];
  for (const rule of absentRules) {
    const p = rule.params as RuleParams<"metric_absent">;
    const rows = await db
      .select({ hostId: series.hostId, labels: series.labels, lastTs: series.lastTs })
      .from(series)
      .where(
        and(
          eq(series.projectId, rule.projectId),
          eq(series.name, p.metric),
          isNotNull(series.hostId),
          isNotNull(series.lastTs),
        ),
      );
    const wanted = Object.entries(p.labels);
    const matching = rows.filter((r) => {
      if (wanted.length === 0) return true;
      const labels = JSON.parse(r.labels) as Record<string, string>;
      return wanted.every(([k, v]) => labels[k] === v);
    });
    if (matching.length === 0) continue;
    const hostIds = [...new Set(matching.map((r) => r.hostId as string))];
    const [hostRows, existing] = await Promise.all([
      db.select().from(hosts).where(inArray(hosts.id, hostIds)),
      db.select().from(alerts).where(eq(alerts.ruleId, rule.id)),
    ]);
    report.evaluated++;
    for (const hostRow of hostRows) {
      const host = hostContext(hostRow);
      if (!ruleCoversHost(rule as RuleRow, host)) continue;
      for (const r of matching) {
        if (r.hostId !== host.hostId) continue;
        const write = readingWrite(
          host,
          rule,
          absentReading(p, r.labels, Number(r.lastTs), now),
          existing,
          now,
        );
        if (write) writes.push(write);
      }
    }
  }
  await commitWrites(db, writes, report);
  return report;
}
