import type { StateSnapshot } from "@vigil/contract";
import { backupRuns, checks, type Db, hostState, hosts, series } from "@vigil/db";
import { and, eq, gte, sql } from "drizzle-orm";
import { RUN_DURATION_METRIC } from "../checks/run-durations.ts";
import type { Clock } from "../clock.ts";
import { isOnline } from "../hosts.ts";
import { METRICS } from "../ingest/metrics.ts";
import { getProjectSettings, mergeProbeConfig } from "../settings.ts";

/** Series silent longer than this (an unmounted disk, a removed interface) drop out of the export. */
const FRESH_MS = 15 * 60_000;

const escapeLabel = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
const labelText = (labels: Record<string, string>) =>
  `{${Object.entries(labels)
    .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
    .join(",")}}`;
const numberText = (n: number) => (Number.isFinite(n) ? String(n) : n > 0 ? "+Inf" : n < 0 ? "-Inf" : "NaN");

class Exposition {
  private families = new Map<string, { help: string; type: string; lines: string[] }>();
  /** `sample` differs from `family` for a histogram's or summary's `_bucket`, `_sum` and `_count` */
  add(
    family: string,
    help: string,
    labels: Record<string, string>,
    value: number,
    type = "gauge",
    sample = family,
  ) {
    const entry = this.families.get(family) ?? { help, type, lines: [] };
    entry.lines.push(`${sample}${labelText(labels)} ${numberText(value)}`);
    this.families.set(family, entry);
  }
  toString(): string {
    const out: string[] = [];
    for (const [family, { help, type, lines }] of [...this.families].sort(([a], [b]) => (a < b ? -1 : 1))) {
      out.push(`# HELP ${family} ${help}`, `# TYPE ${family} ${type}`, ...lines);
    }
    return `${out.join("\n")}\n`;
  }
}

/** The family a custom sample belongs to: a histogram's or summary's samples share their base name. */
function customFamily(name: string, kind: string): string {
  const suffix = kind === "histogram" ? /_(bucket|sum|count)$/ : kind === "summary" ? /_(sum|count)$/ : null;
  return suffix ? name.replace(suffix, "") : name;
}

/** A custom series' labels for export: the host's added, and a label of the same name kept as exported_*. */
function customLabels(own: Record<string, string>, host: Record<string, string> | undefined) {
  if (!host) return own;
  const out: Record<string, string> = { ...host };
  for (const [k, v] of Object.entries(own)) out[k in host ? `exported_${k}` : k] = v;
  return out;
}

/**
 * The project's latest values in the Prometheus text format (version 0.0.4), one gauge family per
 * metric, every sample labelled with host and host_id. Reads only the `last_value` of each series and
 * the latest state rows, so a scrape costs the same however long the history is.
 */
export async function renderPrometheus(db: Db, clock: Clock, projectId: string): Promise<string> {
  const now = clock.now();
  const settings = await getProjectSettings(db, projectId);
  const hostRows = await db.select().from(hosts).where(eq(hosts.projectId, projectId));
  const hostLabels = new Map(hostRows.map((h) => [h.id, { host: h.name, host_id: h.id }]));
  const checkNames = new Map(
    (
      await db
        .select({ id: checks.id, name: checks.name })
        .from(checks)
        .where(and(eq(checks.projectId, projectId), eq(checks.kind, "heartbeat")))
    ).map((c) => [c.id, c.name]),
  );
  const out = new Exposition();

  for (const h of hostRows) {
    const labels = { host: h.name, host_id: h.id };
    const interval = mergeProbeConfig(settings.probe, h.config as never).intervalSec;
    out.add(
      "vigil_host_up",
      "1 when the host's probe reported within three intervals",
      labels,
      isOnline(h.lastSeenAt, interval, now) ? 1 : 0,
    );
    if (h.lastSeenAt !== null) {
      out.add(
        "vigil_host_last_seen_timestamp_seconds",
        "When the host's probe last reported, Unix time",
        labels,
        h.lastSeenAt / 1000,
      );
    }
  }

  const rows = await db
    .select({
      hostId: series.hostId,
      name: series.name,
      labels: series.labels,
      kind: series.kind,
      value: series.lastValue,
    })
    .from(series)
    .where(and(eq(series.projectId, projectId), gte(series.lastTs, now - FRESH_MS)));
  for (const r of rows) {
    if (r.value === null) continue;
    const host = r.hostId === null ? undefined : hostLabels.get(r.hostId);
    if (r.kind !== null) {
      // The application's own metrics go out under their own names and types, with the host added.
      const family = customFamily(r.name, r.kind);
      const type = r.kind === "untyped" ? "untyped" : r.kind;
      const labels = customLabels(JSON.parse(r.labels) as Record<string, string>, host);
      out.add(family, `${family} as the probe scraped or a push sent it`, labels, r.value, type, r.name);
      continue;
    }
    if (r.name === RUN_DURATION_METRIC) {
      const checkId = (JSON.parse(r.labels) as { check?: string }).check ?? "";
      const name = checkNames.get(checkId);
      if (name === undefined) continue;
      out.add(
        "vigil_job_duration_seconds",
        "How long the heartbeat's last run took, start to success, seconds",
        { check: name, check_id: checkId },
        r.value,
      );
      continue;
    }
    const def = METRICS.get(r.name);
    if (!def || !host) continue;
    const extra = JSON.parse(r.labels) as Record<string, string>;
    if (extra.mount !== undefined) {
      extra.mountpoint = extra.mount;
      delete extra.mount;
    }
    out.add(def.prom, def.help, { ...host, ...extra }, r.value);
  }

  const states = await db.select().from(hostState).where(eq(hostState.projectId, projectId));
  for (const s of states) {
    const host = hostLabels.get(s.hostId);
    if (!host) continue;
    const state = s.snapshot as StateSnapshot;
    if (state.updates) {
      out.add("vigil_updates_pending", "Package upgrades pending", host, state.updates.pending);
      out.add("vigil_updates_security_pending", "Security upgrades pending", host, state.updates.security);
    }
    if (state.reboot)
      out.add("vigil_reboot_required", "1 when the host needs a reboot", host, state.reboot.required ? 1 : 0);
    if (state.failedUnits)
      out.add("vigil_systemd_failed_units", "Failed systemd units", host, state.failedUnits.length);
  }

  const backups = await db
    .select({
      hostId: backupRuns.hostId,
      name: backupRuns.name,
      lastSuccess: sql<
        number | null
      >`max(case when ${backupRuns.status} = 'success' then ${backupRuns.endedAt} end)`,
      lastRun: sql<number>`max(${backupRuns.endedAt})`,
      lastFailure: sql<
        number | null
      >`max(case when ${backupRuns.status} = 'failure' then ${backupRuns.endedAt} end)`,
    })
    .from(backupRuns)
    .where(eq(backupRuns.projectId, projectId))
    .groupBy(backupRuns.hostId, backupRuns.name);
  for (const b of backups) {
    const host = hostLabels.get(b.hostId);
    if (!host) continue;
    const labels = { ...host, backup: b.name };
    if (b.lastSuccess !== null) {
      out.add(
        "vigil_backup_last_success_timestamp_seconds",
        "When the backup last succeeded, Unix time",
        labels,
        Number(b.lastSuccess) / 1000,
      );
    }
    const failedLast = b.lastFailure !== null && Number(b.lastFailure) >= Number(b.lastRun);
    out.add(
      "vigil_backup_last_run_success",
      "1 when the backup's last run succeeded",
      labels,
      failedLast ? 0 : 1,
    );
  }
  return out.toString();
}
