/**
 * A host's filesystems as the host page shows them: size, use and free space from each series' latest
 * value, and when the disk will be full at its recent trend (the same fit the forecast rule uses, over
 * the lookback of the project's enabled forecast rule, 6 hours when it has none).
 */
import type { HostFilesystem, RuleParams } from "@vigil/contract";
import { type Db, rules, series } from "@vigil/db";
import { and, eq, inArray } from "drizzle-orm";
import type { Clock } from "../clock.ts";
import { getHostRow } from "../hosts.ts";
import { filesystemTrends } from "../rules/forecast.ts";

const DEFAULT_LOOKBACK_HOURS = 6;

export async function hostFilesystems(
  db: Db,
  clock: Clock,
  projectId: string,
  hostId: string,
): Promise<{ lookbackHours: number; withinHours: number | null; filesystems: HostFilesystem[] }> {
  await getHostRow(db, projectId, hostId);
  const forecastRule = await db.query.rules.findFirst({
    where: and(eq(rules.projectId, projectId), eq(rules.kind, "forecast"), eq(rules.enabled, true)),
  });
  const params = forecastRule?.params as RuleParams<"forecast"> | undefined;
  const lookbackHours = params?.lookbackHours ?? DEFAULT_LOOKBACK_HOURS;
  const [latest, trends] = await Promise.all([
    db
      .select({ name: series.name, labels: series.labels, value: series.lastValue, ts: series.lastTs })
      .from(series)
      .where(
        and(
          eq(series.hostId, hostId),
          inArray(series.name, ["fs.size_bytes", "fs.available_bytes", "fs.used_pct"]),
        ),
      ),
    filesystemTrends(db, hostId, lookbackHours, clock.now()),
  ]);
  const byLabels = new Map<string, HostFilesystem>();
  for (const row of latest) {
    const labels = JSON.parse(row.labels) as Record<string, string>;
    const fs = byLabels.get(row.labels) ?? {
      mount: labels.mount ?? "",
      device: labels.device ?? null,
      sizeBytes: null,
      availableBytes: null,
      usedPct: null,
      at: null,
      hoursUntilFull: null,
      trend: "unknown",
    };
    if (row.name === "fs.size_bytes") fs.sizeBytes = row.value;
    if (row.name === "fs.available_bytes") fs.availableBytes = row.value;
    if (row.name === "fs.used_pct") fs.usedPct = row.value;
    fs.at = Math.max(fs.at ?? 0, row.ts ?? 0) || null;
    byLabels.set(row.labels, fs);
  }
  for (const t of trends) {
    const fs = byLabels.get(t.labelsKey);
    if (!fs) continue;
    fs.trend = !t.enoughData ? "unknown" : t.hoursLeft === null ? "steady" : "filling";
    fs.hoursUntilFull = t.hoursLeft === null ? null : Math.round(t.hoursLeft * 10) / 10;
  }
  return {
    lookbackHours,
    withinHours: params?.withinHours ?? null,
    filesystems: [...byLabels.values()].sort((a, b) => a.mount.localeCompare(b.mount)),
  };
}
