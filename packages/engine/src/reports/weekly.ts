/**
 * The weekly report of a project: what its checks, hosts and backups did in the 7 days before `now`, read
 * as a handful of project-scoped indexed queries, and the email that tells it. Scheduling, settings and
 * sending live elsewhere; both functions here only read (the database, then the report).
 *
 * Building it:
 * 1. The project's checks, hosts and alerts (with their rules' and hosts' names): small per project.
 * 2. Per check, the window's uptime from `uptime_daily` plus its flips since the window's first UTC
 *    midnight (uptime.ts cuts the partial first and last days with them), and its flips into down.
 * 3. Incidents opened in the window; alert flips into firing, counted per rule.
 * 4. Hosts' stored state snapshots for security updates and reboots, with the change events that say
 *    since when; each backup name's last run and last success; hosts that went silent.
 */
import type { StateSnapshot } from "@vigil/contract";
import {
  alerts,
  type CheckKind,
  type CheckStatus,
  checks,
  type Db,
  flips,
  hostState,
  hosts,
  incidents,
  projects,
  rules,
  type SubjectType,
  uptimeDaily,
} from "@vigil/db";
import { formatDuration } from "@vigil/notify";
import { and, asc, eq, gte, inArray, lt, sql } from "drizzle-orm";
import { NotFoundError } from "../errors.ts";
import { zoneOffset } from "../status/local-days.ts";
import { DAY_MS, type Totals, type UptimeSeries, uptimeByLocalDay, uptimeRatio } from "../status/uptime.ts";

export const REPORT_WINDOW_MS = 7 * DAY_MS;
/** A backup is unverified when its last success is older than this (the built-in backup rule's bound). */
export const BACKUP_MAX_AGE_MS = 26 * 3_600_000;
/** A host silent for longer than this is listed as not reporting. */
export const SILENT_AFTER_MS = 10 * 60_000;
const TOP_RULES = 5;

export interface WeeklyCheck {
  id: string;
  name: string;
  kind: CheckKind;
  /** the status at the time the report was built */
  status: CheckStatus;
  /** (up + degraded) / measured time in the window; null when nothing was measured (new or paused) */
  uptime: number | null;
  upMs: number;
  degradedMs: number;
  downMs: number;
  /** flips into down within the window */
  downs: number;
}

export interface WeeklyIncident {
  id: string;
  subjectType: SubjectType;
  subjectId: string;
  /** the check's name, or for an alert its rule's name */
  name: string;
  /** for an alert: the host it is about */
  hostName: string | null;
  /** for an alert: what within the host, e.g. "disk /" */
  target: string | null;
  cause: string;
  openedAt: number;
  resolvedAt: number | null;
  /** to its resolution, or to the report's end while it is still open */
  durationMs: number;
}

export interface WeeklyAlertRule {
  ruleId: string;
  name: string;
  fired: number;
}

export interface WeeklyHostUpdates {
  hostId: string;
  hostName: string;
  /** security updates pending at the last snapshot; null when the probe cannot read the package manager */
  securityUpdates: number | null;
  /** all updates pending at the last snapshot, security ones included */
  pendingUpdates: number | null;
  /** when the pending security updates were first reported; null when none are pending or it is unknown */
  securitySince: number | null;
  rebootRequired: boolean;
  /** when the reboot became necessary; null when none is or it is unknown */
  rebootSince: number | null;
  /** when the snapshot these figures come from was taken */
  collectedAt: number;
}

export interface WeeklyBackup {
  hostId: string;
  hostName: string;
  name: string;
  /** `failed`: the last run failed; `stale`: it succeeded, but over 26 h ago */
  reason: "failed" | "stale";
  lastRunAt: number;
  lastSuccessAt: number | null;
}

export interface WeeklySilentHost {
  hostId: string;
  hostName: string;
  /** null: the host never reported */
  lastSeenAt: number | null;
}

export interface WeeklyReport {
  project: { id: string; name: string };
  /** the window, [from, to): the 7 days before `to`, ms UTC */
  from: number;
  to: number;
  /** every listed check's up + degraded time over their measured time, pooled; null when none measured */
  uptime: number | null;
  /** worst uptime first; checks never measured (null) last */
  checks: WeeklyCheck[];
  /** opened in the window, oldest first */
  incidents: WeeklyIncident[];
  alerts: {
    /** flips of alerts into firing in the window */
    fired: number;
    /** the rules that fired most, most first */
    topRules: WeeklyAlertRule[];
  };
  /** hosts with security updates pending or a reboot required, by host name */
  updates: WeeklyHostUpdates[];
  /** backups whose last run failed or whose last success is over 26 h old, by host and name */
  backups: WeeklyBackup[];
  /** hosts silent for over 10 minutes, longest silent first */
  silentHosts: WeeklySilentHost[];
}

const zero = (): Totals => ({ up: 0, degraded: 0, down: 0 });

/** Steps 1–2: every check with its window totals and downs. */
async function checkSection(db: Db, projectId: string, from: number, now: number) {
  const checkRows = await db
    .select({
      id: checks.id,
      name: checks.name,
      kind: checks.kind,
      status: checks.status,
      statusChangedAt: checks.statusChangedAt,
    })
    .from(checks)
    .where(eq(checks.projectId, projectId));
  const ids = checkRows.map((c) => c.id);
  const firstUtc = from - (from % DAY_MS);
  const [dayRows, flipRows] = ids.length
    ? await Promise.all([
        db
          .select({
            checkId: uptimeDaily.checkId,
            day: uptimeDaily.day,
            up: uptimeDaily.upMs,
            degraded: uptimeDaily.degradedMs,
            down: uptimeDaily.downMs,
          })
          .from(uptimeDaily)
          .where(
            and(
              eq(uptimeDaily.projectId, projectId),
              inArray(uptimeDaily.checkId, ids),
              gte(uptimeDaily.day, firstUtc),
            ),
          ),
        db
          .select({ checkId: flips.subjectId, at: flips.at, from: flips.fromStatus, to: flips.toStatus })
          .from(flips)
          .where(
            and(
              eq(flips.projectId, projectId),
              eq(flips.subjectType, "check"),
              inArray(flips.subjectId, ids),
              gte(flips.at, firstUtc),
              lt(flips.at, now),
            ),
          )
          .orderBy(asc(flips.at), asc(flips.id)),
      ])
    : [[], []];

  const rowsOf = new Map<string, Map<number, Totals>>();
  for (const r of dayRows) {
    const days = rowsOf.get(r.checkId) ?? new Map<number, Totals>();
    days.set(r.day, { up: r.up, degraded: r.degraded, down: r.down });
    rowsOf.set(r.checkId, days);
  }
  const flipsOf = new Map<string, UptimeSeries["flips"]>();
  for (const f of flipRows) {
    const list = flipsOf.get(f.checkId) ?? [];
    list.push({ at: f.at, from: f.from, to: f.to });
    flipsOf.set(f.checkId, list);
  }

  const window = [{ date: "", start: from, end: now }];
  const out: WeeklyCheck[] = [];
  for (const c of checkRows) {
    const checkFlips = flipsOf.get(c.id) ?? [];
    const series: UptimeSeries = {
      status: c.status,
      statusChangedAt: c.statusChangedAt,
      rows: rowsOf.get(c.id) ?? new Map(),
      flips: checkFlips,
    };
    const totals = uptimeByLocalDay(series, window, now)[0] ?? zero();
    const inWindow = checkFlips.filter((f) => f.at >= from);
    // A check paused all week has nothing to say; one paused mid-week still shows what came before.
    if (c.status === "paused" && totals.up + totals.degraded + totals.down === 0 && inWindow.length === 0)
      continue;
    out.push({
      id: c.id,
      name: c.name,
      kind: c.kind,
      status: c.status,
      uptime: uptimeRatio(totals),
      upMs: totals.up,
      degradedMs: totals.degraded,
      downMs: totals.down,
      downs: inWindow.filter((f) => f.to === "down").length,
    });
  }
  out.sort(
    (a, b) =>
      (a.uptime ?? 2) - (b.uptime ?? 2) ||
      b.downs - a.downs ||
      a.name.localeCompare(b.name) ||
      a.id.localeCompare(b.id),
  );
  const pooled = out.reduce(
    (t, c) => ({ up: t.up + c.upMs, degraded: t.degraded + c.degradedMs, down: t.down + c.downMs }),
    zero(),
  );
  return { checks: out, uptime: uptimeRatio(pooled), names: new Map(checkRows.map((c) => [c.id, c.name])) };
}

interface AlertName {
  ruleId: string;
  ruleName: string;
  hostName: string;
  label: string;
}

/** Step 3: incidents opened in the window, named; alert flips into firing, per rule. */
async function alertSection(
  db: Db,
  projectId: string,
  from: number,
  now: number,
  checkNames: ReadonlyMap<string, string>,
) {
  const alertRows = await db
    .select({
      id: alerts.id,
      ruleId: alerts.ruleId,
      label: alerts.label,
      ruleName: rules.name,
      hostName: hosts.name,
    })
    .from(alerts)
    .innerJoin(rules, eq(rules.id, alerts.ruleId))
    .innerJoin(hosts, eq(hosts.id, alerts.hostId))
    .where(eq(alerts.projectId, projectId));
  const alertOf = new Map<string, AlertName>(alertRows.map((a) => [a.id, a]));
  const alertIds = alertRows.map((a) => a.id);

  const [incidentRows, firing] = await Promise.all([
    db
      .select()
      .from(incidents)
      .where(
        and(eq(incidents.projectId, projectId), gte(incidents.openedAt, from), lt(incidents.openedAt, now)),
      )
      .orderBy(asc(incidents.openedAt), asc(incidents.id)),
    // Through the alerts' ids, so the read walks (project, 'alert', subject, at) rather than every alert
    // flip the project ever had. An alert deleted with its rule or host takes its count with it.
    alertIds.length
      ? db
          .select({ alertId: flips.subjectId, n: sql<number>`count(*)` })
          .from(flips)
          .where(
            and(
              eq(flips.projectId, projectId),
              eq(flips.subjectType, "alert"),
              inArray(flips.subjectId, alertIds),
              eq(flips.toStatus, "firing"),
              gte(flips.at, from),
              lt(flips.at, now),
            ),
          )
          .groupBy(flips.subjectId)
      : [],
  ]);

  const incidentsOut: WeeklyIncident[] = incidentRows.map((i) => {
    const alert = i.subjectType === "alert" ? alertOf.get(i.subjectId) : undefined;
    const name =
      i.subjectType === "check"
        ? (checkNames.get(i.subjectId) ?? "deleted check")
        : (alert?.ruleName ?? "deleted rule");
    // An incident resolved after `now` (a report built for a past week) was still open at the report's end.
    const resolvedAt = i.resolvedAt !== null && i.resolvedAt <= now ? i.resolvedAt : null;
    return {
      id: i.id,
      subjectType: i.subjectType,
      subjectId: i.subjectId,
      name,
      hostName: alert?.hostName ?? null,
      target: alert?.label ?? null,
      cause: i.cause,
      openedAt: i.openedAt,
      resolvedAt,
      durationMs: (resolvedAt ?? now) - i.openedAt,
    };
  });

  const byRule = new Map<string, WeeklyAlertRule>();
  let fired = 0;
  for (const f of firing) {
    const alert = alertOf.get(f.alertId);
    if (!alert) continue;
    const n = Number(f.n);
    fired += n;
    const entry = byRule.get(alert.ruleId) ?? { ruleId: alert.ruleId, name: alert.ruleName, fired: 0 };
    entry.fired += n;
    byRule.set(alert.ruleId, entry);
  }
  const topRules = [...byRule.values()]
    .sort((a, b) => b.fired - a.fired || a.name.localeCompare(b.name))
    .slice(0, TOP_RULES);
  return { incidents: incidentsOut, alerts: { fired, topRules } };
}

/** Step 4: updates and reboots, unverified backups and silent hosts. */
async function hostSection(db: Db, projectId: string, now: number) {
  const hostRows = await db
    .select({ id: hosts.id, name: hosts.name, lastSeenAt: hosts.lastSeenAt })
    .from(hosts)
    .where(eq(hosts.projectId, projectId));
  if (hostRows.length === 0) return { updates: [], backups: [], silentHosts: [] };
  const nameOf = new Map(hostRows.map((h) => [h.id, h.name]));
  const hostIds = hostRows.map((h) => h.id);

  const [states, backupRows] = await Promise.all([
    db
      .select({ hostId: hostState.hostId, collectedAt: hostState.collectedAt, snapshot: hostState.snapshot })
      .from(hostState)
      .where(and(eq(hostState.projectId, projectId), inArray(hostState.hostId, hostIds))),
    // Per (host, name), walking backup_runs_host_name_idx backwards: the newest run, and the newest success
    // (the walk stops at the first one). Runs after `now` are left out, like every other row after it.
    db.$client.execute({
      sql: `select b.host_id as hostId, b.name as name,
              (select r.status from backup_runs r where r.host_id = b.host_id and r.name = b.name
                 and r.project_id = ?1 and r.ended_at <= ?2 order by r.ended_at desc, r.id desc limit 1) as lastStatus,
              (select r.ended_at from backup_runs r where r.host_id = b.host_id and r.name = b.name
                 and r.project_id = ?1 and r.ended_at <= ?2 order by r.ended_at desc limit 1) as lastRunAt,
              (select r.ended_at from backup_runs r where r.host_id = b.host_id and r.name = b.name
                 and r.project_id = ?1 and r.ended_at <= ?2 and r.status = 'success'
                 order by r.ended_at desc limit 1) as lastSuccessAt
            from (select distinct host_id, name from backup_runs
                  where host_id in (select id from hosts where project_id = ?1)) b`,
      args: [projectId, now],
    }),
  ]);

  const flagged = states
    .map((s) => ({ hostId: s.hostId, collectedAt: s.collectedAt, snapshot: s.snapshot as StateSnapshot }))
    .filter((s) => (s.snapshot.updates?.security ?? 0) > 0 || s.snapshot.reboot?.required === true);
  // The change events ingest derived when each condition began (state-changes.ts) say since when: per
  // host, the newest of each kind, walking host_events_host_at_idx backwards from `now`.
  const since = new Map<string, { security: number | null; reboot: number | null }>();
  if (flagged.length) {
    const ids = flagged.map((s) => s.hostId);
    const newest = (kind: string) =>
      `(select e.at from host_events e where e.host_id = h.id and e.kind = '${kind}' and e.at <= ?2
          order by e.at desc limit 1)`;
    const result = await db.$client.execute({
      sql: `select h.id as hostId, ${newest("updates.security")} as security, ${newest("reboot.required")} as reboot
            from hosts h where h.project_id = ?1 and h.id in (${ids.map((_, i) => `?${i + 3}`).join(", ")})`,
      args: [projectId, now, ...ids],
    });
    const time = (v: unknown) => (v === null || v === undefined ? null : Number(v));
    for (const row of result.rows)
      since.set(String(row.hostId), { security: time(row.security), reboot: time(row.reboot) });
  }
  const updates: WeeklyHostUpdates[] = flagged
    .map(({ hostId, collectedAt, snapshot }) => {
      const security = snapshot.updates?.security ?? null;
      const reboot = snapshot.reboot?.required === true;
      return {
        hostId,
        hostName: nameOf.get(hostId) ?? hostId,
        securityUpdates: security,
        pendingUpdates: snapshot.updates?.pending ?? null,
        securitySince: security ? (since.get(hostId)?.security ?? null) : null,
        rebootRequired: reboot,
        rebootSince: reboot ? (snapshot.reboot?.since ?? since.get(hostId)?.reboot ?? null) : null,
        collectedAt,
      };
    })
    .sort((a, b) => a.hostName.localeCompare(b.hostName));

  // "No success in the window" needs no test of its own: the window is longer than the 26 h bound.
  const backups: WeeklyBackup[] = [];
  for (const row of backupRows.rows) {
    if (row.lastStatus === null || row.lastRunAt === null) continue;
    const hostId = String(row.hostId);
    const lastSuccessAt = row.lastSuccessAt === null ? null : Number(row.lastSuccessAt);
    const reason =
      row.lastStatus === "failure"
        ? ("failed" as const)
        : lastSuccessAt !== null && now - lastSuccessAt > BACKUP_MAX_AGE_MS
          ? ("stale" as const)
          : null;
    if (!reason) continue;
    backups.push({
      hostId,
      hostName: nameOf.get(hostId) ?? hostId,
      name: String(row.name),
      reason,
      lastRunAt: Number(row.lastRunAt),
      lastSuccessAt,
    });
  }
  backups.sort((a, b) => a.hostName.localeCompare(b.hostName) || a.name.localeCompare(b.name));

  const silentHosts: WeeklySilentHost[] = hostRows
    .filter((h) => h.lastSeenAt === null || h.lastSeenAt < now - SILENT_AFTER_MS)
    .map((h) => ({ hostId: h.id, hostName: h.name, lastSeenAt: h.lastSeenAt }))
    .sort((a, b) => (a.lastSeenAt ?? 0) - (b.lastSeenAt ?? 0) || a.hostName.localeCompare(b.hostName));

  return { updates, backups, silentHosts };
}

/** The report of the 7 days before `now`, [now − 7 d, now). Throws NotFoundError for an unknown project. */
export async function buildWeeklyReport(db: Db, projectId: string, now: number): Promise<WeeklyReport> {
  const project = await db.query.projects.findFirst({
    where: eq(projects.id, projectId),
    columns: { id: true, name: true, deletingAt: true },
  });
  if (!project || project.deletingAt !== null) throw new NotFoundError("project");
  const from = now - REPORT_WINDOW_MS;
  const [checkPart, hostPart] = await Promise.all([
    checkSection(db, projectId, from, now),
    hostSection(db, projectId, now),
  ]);
  const alertPart = await alertSection(db, projectId, from, now, checkPart.names);
  return {
    project: { id: project.id, name: project.name },
    from,
    to: now,
    uptime: checkPart.uptime,
    checks: checkPart.checks,
    incidents: alertPart.incidents,
    alerts: alertPart.alerts,
    updates: hostPart.updates,
    backups: hostPart.backups,
    silentHosts: hostPart.silentHosts,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Rendering

export interface RenderWeeklyOptions {
  /** the dashboard's public URL; null: the email carries no links */
  dashboardUrl: string | null;
  /** IANA zone the email's times are shown in; UTC unless given */
  timezone?: string;
}

export interface RenderedWeeklyReport {
  subject: string;
  text: string;
  html: string;
}

/**
 * Floored, so an hour of downtime never shows as 100.00%: "100%", "99.95%", "71.42%". The epsilon keeps
 * binary fractions such as 0.9995 × 10 000 = 9994.999… from losing a digit they do have.
 */
export function formatUptime(ratio: number | null): string {
  if (ratio === null) return "no data";
  if (ratio >= 1) return "100%";
  return `${(Math.floor(ratio * 10_000 + 1e-6) / 100).toFixed(2)}%`;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** "2026-01-15 14:00 UTC" in the chosen zone. */
function timeFormatter(timezone: string | undefined): (t: number) => string {
  let tz = timezone ?? "UTC";
  try {
    zoneOffset(tz, 0);
  } catch {
    // A zone this runtime does not know (a stale setting) should not stop the email: it goes out in UTC.
    tz = "UTC";
  }
  return (t) => `${new Date(t + zoneOffset(tz, t)).toISOString().slice(0, 16).replace("T", " ")} ${tz}`;
}

interface Section {
  title: string;
  /** each line as plain text, and as HTML with links where the dashboard is known */
  lines: { text: string; html: string }[];
  empty: string;
}

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c,
  );

const RED = "#b42318";
const AMBER = "#b54708";
const GREEN = "#067647";

function uptimeColour(ratio: number | null): string {
  if (ratio === null) return "#555";
  if (ratio < 0.99) return RED;
  if (ratio < 0.999) return AMBER;
  return GREEN;
}

/** The subject line, the plain-text body and a simple HTML body (tables, inline styles, no images). */
export function renderWeeklyReport(report: WeeklyReport, options: RenderWeeklyOptions): RenderedWeeklyReport {
  const when = timeFormatter(options.timezone);
  const base = options.dashboardUrl ? options.dashboardUrl.replace(/\/+$/, "") : null;
  const projectPath = `/p/${encodeURIComponent(report.project.id)}`;
  const link = (path: string, label: string) =>
    base
      ? `<a href="${escapeHtml(`${base}${projectPath}${path}`)}" style="color:#111">${escapeHtml(label)}</a>`
      : escapeHtml(label);
  const checkLink = (id: string, label: string) => link(`/checks/${encodeURIComponent(id)}`, label);
  const hostLink = (id: string, label: string) => link(`/hosts/${encodeURIComponent(id)}`, label);
  const line = (text: string, html: string = escapeHtml(text)) => ({ text, html });

  const checksSection: Section = {
    title: "Checks",
    empty: "No checks.",
    lines: report.checks.map((c) => {
      const outages = c.downs > 0 ? ` in ${plural(c.downs, "outage")}` : "";
      const down = c.downMs > 0 ? `, ${formatDuration(c.downMs)} down${outages}` : "";
      const tail = ` (${c.kind})${down}, now ${c.status}`;
      const pct = formatUptime(c.uptime);
      return line(
        `${pct.padStart(7)}  ${c.name}${tail}`,
        `<span style="display:inline-block;min-width:64px;color:${uptimeColour(c.uptime)}">${escapeHtml(pct)}</span> ${checkLink(c.id, c.name)}${escapeHtml(tail)}`,
      );
    }),
  };

  const incidentName = (i: WeeklyIncident) =>
    i.subjectType === "alert"
      ? `${i.name} on ${i.hostName ?? "a deleted host"}${i.target ? ` (${i.target})` : ""}`
      : i.name;
  const incidentsSection: Section = {
    title: `Incidents (${report.incidents.length})`,
    empty: "No incidents this week.",
    lines: report.incidents.map((i) => {
      const span =
        i.resolvedAt === null
          ? `still open, ${formatDuration(i.durationMs)} so far`
          : `resolved after ${formatDuration(i.durationMs)}`;
      const tail = ` — opened ${when(i.openedAt)}, ${span}: ${i.cause}`;
      const name = incidentName(i);
      return line(
        `${name}${tail}`,
        `${i.subjectType === "check" ? checkLink(i.subjectId, name) : escapeHtml(name)}${escapeHtml(tail)}`,
      );
    }),
  };

  const alertsSection: Section = {
    title: `Alerts fired (${report.alerts.fired})`,
    empty: "No alerts fired this week.",
    lines: report.alerts.topRules.map((r) => line(`${r.name}: ${plural(r.fired, "time")}`)),
  };

  const updatesSection: Section = {
    title: "Security updates and reboots",
    empty: "No host has security updates pending or needs a reboot.",
    lines: report.updates.map((u) => {
      const parts: string[] = [];
      if (u.securityUpdates) {
        const since = u.securitySince !== null ? ` since ${when(u.securitySince)}` : "";
        parts.push(`${plural(u.securityUpdates, "security update")} pending${since}`);
      }
      if (u.rebootRequired) {
        parts.push(`reboot required${u.rebootSince !== null ? ` since ${when(u.rebootSince)}` : ""}`);
      }
      const tail = ` — ${parts.join("; ")}`;
      return line(`${u.hostName}${tail}`, `${hostLink(u.hostId, u.hostName)}${escapeHtml(tail)}`);
    }),
  };

  const backupsSection: Section = {
    title: "Backups not verified",
    empty: "No backup failed or is overdue.",
    lines: report.backups.map((b) => {
      const success =
        b.lastSuccessAt === null
          ? "never succeeded"
          : `last success ${when(b.lastSuccessAt)} (${formatDuration(report.to - b.lastSuccessAt)} ago)`;
      const why = b.reason === "failed" ? `last run failed ${when(b.lastRunAt)}, ${success}` : success;
      const tail = ` backup ${b.name} — ${why}`;
      return line(`${b.hostName}${tail}`, `${hostLink(b.hostId, b.hostName)}${escapeHtml(tail)}`);
    }),
  };

  const silentSection: Section = {
    title: "Hosts not reporting",
    empty: "Every host is reporting.",
    lines: report.silentHosts.map((h) => {
      const tail =
        h.lastSeenAt === null
          ? " — never reported"
          : ` — last seen ${when(h.lastSeenAt)} (${formatDuration(report.to - h.lastSeenAt)} ago)`;
      return line(`${h.hostName}${tail}`, `${hostLink(h.hostId, h.hostName)}${escapeHtml(tail)}`);
    }),
  };

  const sections = [
    checksSection,
    incidentsSection,
    alertsSection,
    updatesSection,
    backupsSection,
    silentSection,
  ];
  const incidentCount = plural(report.incidents.length, "incident");
  const uptimeText = report.uptime === null ? "no uptime data" : `${formatUptime(report.uptime)} uptime`;
  // A name with a line break must not end the header it is put in.
  const projectName = report.project.name.replace(/[\r\n]+/g, " ");
  const subject = `Vigil weekly: ${projectName} — ${uptimeText}, ${incidentCount}`;
  const period = `${when(report.from)} to ${when(report.to)}`;
  const dashboard = base ? `${base}${projectPath}` : null;

  const text = [
    `Vigil weekly report: ${report.project.name}`,
    period,
    "",
    `Uptime: ${report.uptime === null ? "no data" : formatUptime(report.uptime)} across ${plural(report.checks.length, "check")}`,
    ...sections.flatMap((s) => [
      "",
      s.title,
      ...(s.lines.length ? s.lines.map((l) => `  ${l.text}`) : [`  ${s.empty}`]),
    ]),
    "",
    "-- ",
    `Vigil · project ${report.project.name}${dashboard ? ` · ${dashboard}` : ""}`,
    "",
  ].join("\n");

  const h2 = (title: string) =>
    `<h2 style="font-size:16px;margin:20px 0 6px;color:#111">${escapeHtml(title)}</h2>`;
  const htmlSections = sections
    .map((s) => {
      const body = s.lines.length
        ? `<table style="border-collapse:collapse;font-size:14px">${s.lines.map((l) => `<tr><td style="padding:2px 0">${l.html}</td></tr>`).join("")}</table>`
        : `<p style="margin:0;font-size:14px;color:#555">${escapeHtml(s.empty)}</p>`;
      return `${h2(s.title)}${body}`;
    })
    .join("");
  const headline = `<p style="margin:0 0 4px;font-size:14px;color:#555">${escapeHtml(period)}</p><p style="margin:0;font-size:22px;color:${uptimeColour(report.uptime)}">${escapeHtml(uptimeText)}<span style="font-size:14px;color:#555"> across ${escapeHtml(plural(report.checks.length, "check"))}, ${escapeHtml(incidentCount)}</span></p>`;
  const footer = `Vigil · project ${escapeHtml(report.project.name)}${dashboard ? ` · <a href="${escapeHtml(dashboard)}">${escapeHtml(dashboard)}</a>` : ""}`;
  const html = `<!doctype html><html><body style="font-family:system-ui,sans-serif;color:#111"><h1 style="font-size:20px;margin:0 0 4px">Weekly report: ${escapeHtml(report.project.name)}</h1>${headline}${htmlSections}<p style="margin-top:24px;font-size:12px;color:#777">${footer}</p></body></html>`;

  return { subject, text, html };
}
