/**
 * What a status page shows, built from daily rows and state, never from raw pings or runs.
 * 1. Read the page's components and drop any whose check or host is no longer public (or gone).
 * 2. Each component's history comes from one check: the check itself, or a host's liveness check.
 * 3. Read the daily uptime and response-time rows of those checks, their incidents, the project's
 *    hand-written incidents and its current and upcoming maintenance.
 * 4. Cut the uptime into the page's local days, place incidents on the days they touched, and derive each
 *    component's state and the page's banner.
 */
import type {
  ComponentState,
  IncidentImpactName,
  OverallStatus,
  PublicComponent,
  PublicIncident,
  PublicMaintenance,
  StatusPageData,
} from "@vigil/contract";
import {
  type CheckStatus,
  checks,
  type Db,
  flips,
  hosts,
  incidents,
  responseDaily,
  type StatusPageRow,
  type StatusSubjectRef,
  statusIncidents,
  statusIncidentUpdates,
  statusMaintenance,
  statusPageComponents,
  statusPages,
  uptimeDaily,
} from "@vigil/db";
import { and, asc, eq, getTableColumns, gt, gte, inArray, isNotNull, isNull, or, sql } from "drizzle-orm";
import { effectiveHostConfig, isOnline } from "../hosts.ts";
import { getProjectSettings } from "../settings.ts";
import { incidentProgress } from "./incidents.ts";
import { lastLocalDays } from "./local-days.ts";
import { DAY_MS, type Totals, type UptimeSeries, uptimeByLocalDay, uptimeRatio } from "./uptime.ts";

export const STATUS_DAYS = 90;
const PAST_INCIDENTS = 50;
const UPCOMING_MAINTENANCE = 10;

/** A page found by slug or custom domain, with the token that changes whenever what it shows may have. */
export interface PublishedPage {
  row: StatusPageRow;
  /** page edits (`updated_at`) and check state changes (the newest flip) */
  version: string;
}

/**
 * One indexed read. The newest flip id is global (the primary key's last entry, O(1)): a state change in
 * any project refreshes every page, which is cheap and never stale.
 */
export async function findPublishedPage(
  db: Db,
  by: { slug: string } | { domain: string },
): Promise<PublishedPage | null> {
  const [found] = await db
    .select({ ...getTableColumns(statusPages), flip: sql<number>`(select coalesce(max(id), 0) from flips)` })
    .from(statusPages)
    .where(
      "slug" in by ? eq(statusPages.slug, by.slug) : eq(statusPages.customDomain, by.domain.toLowerCase()),
    );
  if (!found) return null;
  const { flip, ...row } = found;
  return { row, version: `${row.updatedAt}.${flip}` };
}

const stateOf: Record<CheckStatus, ComponentState> = {
  new: "unknown",
  paused: "unknown",
  up: "operational",
  late: "operational",
  degraded: "degraded",
  down: "outage",
};

const severity: OverallStatus[] = ["operational", "degraded", "partial_outage", "major_outage"];
const impactStatus: Record<IncidentImpactName, OverallStatus> = {
  none: "operational",
  minor: "degraded",
  major: "partial_outage",
  critical: "major_outage",
};

/** The banner: the worst of the components and of incidents with a stated impact; maintenance when calm. */
export function overallStatus(
  states: readonly ComponentState[],
  impacts: readonly IncidentImpactName[],
  maintenance: boolean,
): OverallStatus {
  const known = states.filter((s) => s !== "unknown" && s !== "maintenance");
  const down = known.filter((s) => s === "outage").length;
  let worst: OverallStatus =
    down > 0 && down === known.length
      ? "major_outage"
      : down > 0
        ? "partial_outage"
        : known.includes("degraded")
          ? "degraded"
          : "operational";
  for (const impact of impacts) {
    const s = impactStatus[impact];
    if (severity.indexOf(s) > severity.indexOf(worst)) worst = s;
  }
  return worst === "operational" && maintenance ? "maintenance" : worst;
}

interface ComponentSource {
  id: string;
  name: string;
  heading: string | null;
  subject: StatusSubjectRef;
  /** the check whose history the component shows, if any */
  series: { id: string; kind: string; status: CheckStatus; statusChangedAt: number } | null;
  /** a host without a liveness check: online or not */
  hostOnline?: boolean | null;
}

/** Steps 1–2: the page's public components and the check behind each. */
async function loadComponents(db: Db, page: StatusPageRow, now: number): Promise<ComponentSource[]> {
  const rows = await db.query.statusPageComponents.findMany({
    where: eq(statusPageComponents.pageId, page.id),
    orderBy: [asc(statusPageComponents.position)],
  });
  const checkIds = rows.filter((r) => r.subjectType === "check").map((r) => r.subjectId);
  const hostIds = rows.filter((r) => r.subjectType === "host").map((r) => r.subjectId);
  const seriesColumns = {
    id: checks.id,
    kind: checks.kind,
    status: checks.status,
    statusChangedAt: checks.statusChangedAt,
    hostId: checks.hostId,
  };
  const [checkRows, hostRows, hostChecks, settings] = await Promise.all([
    checkIds.length
      ? db
          .select(seriesColumns)
          .from(checks)
          .where(
            and(eq(checks.projectId, page.projectId), eq(checks.public, true), inArray(checks.id, checkIds)),
          )
      : [],
    hostIds.length
      ? db
          .select({ id: hosts.id, lastSeenAt: hosts.lastSeenAt, config: hosts.config })
          .from(hosts)
          .where(and(eq(hosts.projectId, page.projectId), eq(hosts.public, true), inArray(hosts.id, hostIds)))
      : [],
    hostIds.length
      ? db
          .select(seriesColumns)
          .from(checks)
          .where(
            and(
              eq(checks.projectId, page.projectId),
              eq(checks.kind, "host"),
              inArray(checks.hostId, hostIds),
            ),
          )
          .orderBy(asc(checks.createdAt))
      : [],
    hostIds.length ? getProjectSettings(db, page.projectId) : null,
  ]);
  const checkById = new Map(checkRows.map((c) => [c.id, c]));
  const hostById = new Map(hostRows.map((h) => [h.id, h]));
  const livenessOf = new Map<string, (typeof hostChecks)[number]>();
  for (const c of hostChecks) if (c.hostId && !livenessOf.has(c.hostId)) livenessOf.set(c.hostId, c);

  const out: ComponentSource[] = [];
  for (const r of rows) {
    const base = {
      id: r.id,
      name: r.displayName,
      heading: r.heading,
      subject: { type: r.subjectType, id: r.subjectId },
    };
    if (r.subjectType === "check") {
      const check = checkById.get(r.subjectId);
      if (check) out.push({ ...base, series: check });
      continue;
    }
    const host = hostById.get(r.subjectId);
    if (!host) continue;
    const liveness = livenessOf.get(host.id) ?? null;
    const interval = settings ? effectiveHostConfig(settings, host.config).intervalSec : 30;
    out.push({
      ...base,
      series: liveness,
      hostOnline: host.lastSeenAt === null ? null : isOnline(host.lastSeenAt, interval, now),
    });
  }
  return out;
}

function componentState(c: ComponentSource): ComponentState {
  if (c.series) return stateOf[c.series.status];
  if (c.hostOnline === undefined || c.hostOnline === null) return "unknown";
  return c.hostOnline ? "operational" : "outage";
}

const matches = (affects: readonly StatusSubjectRef[], c: ComponentSource) =>
  affects.length === 0 || affects.some((a) => a.type === c.subject.type && a.id === c.subject.id);

/** Builds the data of one page at `now` (steps 3–4). */
export async function buildStatusPageData(db: Db, page: StatusPageRow, now: number): Promise<StatusPageData> {
  const components = await loadComponents(db, page, now);
  const days = lastLocalDays(page.timezone, now, STATUS_DAYS);
  const windowStart = days[0]?.start ?? now;
  const firstUtc = windowStart - (windowStart % DAY_MS);
  const todayUtc = now - (now % DAY_MS);
  const seriesIds = [...new Set(components.flatMap((c) => (c.series ? [c.series.id] : [])))];
  const httpIds = [...new Set(components.flatMap((c) => (c.series?.kind === "http" ? [c.series.id] : [])))];
  const offUtc = days.some((d) => d.start % DAY_MS !== 0);

  const [uptimeRows, flipRows, responseRows, automaticRows, allNotes, maintenance] = await Promise.all([
    seriesIds.length
      ? db
          .select({
            checkId: uptimeDaily.checkId,
            rows: sql<string>`json_group_array(json_array(${uptimeDaily.day}, ${uptimeDaily.upMs}, ${uptimeDaily.degradedMs}, ${uptimeDaily.downMs}))`,
          })
          .from(uptimeDaily)
          .where(and(inArray(uptimeDaily.checkId, seriesIds), gte(uptimeDaily.day, firstUtc)))
          .groupBy(uptimeDaily.checkId)
      : [],
    seriesIds.length && offUtc
      ? db
          .select({
            checkId: flips.subjectId,
            rows: sql<string>`json_group_array(json_array(${flips.at}, ${flips.fromStatus}, ${flips.toStatus}, ${flips.id}))`,
          })
          .from(flips)
          .where(
            and(
              eq(flips.projectId, page.projectId),
              eq(flips.subjectType, "check"),
              inArray(flips.subjectId, seriesIds),
              gte(flips.at, firstUtc),
            ),
          )
          .groupBy(flips.subjectId)
      : [],
    httpIds.length
      ? db
          .select({
            checkId: responseDaily.checkId,
            rows: sql<string>`json_group_array(json_array(${responseDaily.day}, ${responseDaily.runs}, ${responseDaily.totalMs}, ${responseDaily.location}))`,
          })
          .from(responseDaily)
          .where(
            and(
              inArray(responseDaily.checkId, httpIds),
              gte(responseDaily.day, todayUtc - (STATUS_DAYS - 1) * DAY_MS),
            ),
          )
          .groupBy(responseDaily.checkId)
      : [],
    seriesIds.length
      ? db
          .select({
            checkId: incidents.subjectId,
            rows: sql<string>`json_group_array(json_array(${incidents.id}, ${incidents.openedAt}, ${incidents.resolvedAt}))`,
          })
          .from(incidents)
          .where(
            and(
              eq(incidents.projectId, page.projectId),
              eq(incidents.subjectType, "check"),
              inArray(incidents.subjectId, seriesIds),
              or(isNull(incidents.resolvedAt), gte(incidents.resolvedAt, windowStart)),
            ),
          )
          .groupBy(incidents.subjectId)
      : [],
    // Hand-written incidents of the window, and every operator's note on an automatic one (few: only those
    // someone edited), matched to the automatic incidents below.
    db
      .select()
      .from(statusIncidents)
      .where(
        and(
          eq(statusIncidents.projectId, page.projectId),
          or(
            isNotNull(statusIncidents.sourceIncidentId),
            isNull(statusIncidents.resolvedAt),
            gte(statusIncidents.resolvedAt, windowStart),
          ),
        ),
      ),
    db
      .select()
      .from(statusMaintenance)
      .where(and(eq(statusMaintenance.projectId, page.projectId), gt(statusMaintenance.endsAt, now)))
      .orderBy(asc(statusMaintenance.startsAt)),
  ]);
  const automatic = packed<[string, number, number | null]>(automaticRows);
  const automaticNotes = allNotes.filter((n) => n.sourceIncidentId !== null);
  const notes = allNotes.filter((n) => n.sourceIncidentId === null);
  const updates = allNotes.length
    ? await db
        .select()
        .from(statusIncidentUpdates)
        .where(
          and(
            eq(statusIncidentUpdates.projectId, page.projectId),
            inArray(
              statusIncidentUpdates.statusIncidentId,
              allNotes.map((n) => n.id),
            ),
          ),
        )
        // Same-millisecond updates in the order written (rowid), not by their random ids.
        .orderBy(asc(statusIncidentUpdates.at), asc(sql`rowid`))
    : [];
  // Step 4: components.
  const inMaintenance = maintenance.filter((m) => m.startsAt <= now);
  // Daily rows come one JSON array per check: converting thousands of driver rows costs more than the query.
  const rowsOf = packed<[number, number, number, number]>(uptimeRows);
  const flipsOf = packed<[number, string, string, number]>(flipRows);
  const responseOf = packed<[number, number, number, string]>(responseRows);
  const views = new Map<string, PublicComponent>();
  for (const c of components) {
    let totals: Totals[] = days.map(() => ({ up: 0, degraded: 0, down: 0 }));
    if (c.series) {
      const series: UptimeSeries = {
        status: c.series.status,
        statusChangedAt: c.series.statusChangedAt,
        rows: new Map(
          (rowsOf.get(c.series.id) ?? []).map(([day, up, degraded, down]) => [day, { up, degraded, down }]),
        ),
        flips: (flipsOf.get(c.series.id) ?? [])
          .sort((a, b) => a[0] - b[0] || a[3] - b[3])
          .map(([at, from, to]) => ({ at, from, to })),
      };
      totals = uptimeByLocalDay(series, days, now);
    }
    let responseMs: (number | null)[] | null = null;
    let responseByLocation: { location: string; responseMs: (number | null)[] }[] | undefined;
    if (c.series?.kind === "http") {
      const rows = responseOf.get(c.series.id) ?? [];
      responseMs = dailyMeans(rows, todayUtc);
      const locations = [...new Set(rows.map((r) => r[3]))].sort();
      if (locations.length > 1) {
        responseByLocation = locations.map((location) => ({
          location,
          responseMs: dailyMeans(
            rows.filter((r) => r[3] === location),
            todayUtc,
          ),
        }));
      }
    }
    const state = inMaintenance.some((m) => matches(m.affects, c)) ? "maintenance" : componentState(c);
    views.set(c.id, {
      id: c.id,
      name: c.name,
      type: c.subject.type,
      state,
      uptime: uptimeRatio(
        totals.reduce((a, t) => ({
          up: a.up + t.up,
          degraded: a.degraded + t.degraded,
          down: a.down + t.down,
        })),
      ),
      days: days.map((d, i) => {
        const t = totals[i] as Totals;
        return {
          date: d.date,
          upMs: t.up,
          degradedMs: t.degraded,
          downMs: t.down,
          uptime: uptimeRatio(t),
          incidents: [],
        };
      }),
      responseMs,
      ...(responseByLocation ? { responseByLocation } : {}),
    });
  }

  // Incidents: automatic ones on the components showing their check; hand-written ones on what they affect.
  const noteOf = new Map(automaticNotes.map((n) => [n.sourceIncidentId, n]));
  const updatesOf = groupBy(updates, (u) => u.statusIncidentId);
  const shown: PublicIncident[] = [];
  for (const [subjectId, list] of automatic) {
    const on = components.filter((c) => c.series?.id === subjectId);
    for (const [id, openedAt, resolvedAt] of list) {
      const note = noteOf.get(id);
      const ups = note ? (updatesOf.get(note.id) ?? []) : [];
      shown.push({
        id,
        title: note?.title ?? `${on.map((c) => c.name).join(", ")} ${on.length > 1 ? "are" : "is"} down`,
        impact: note?.impact ?? "major",
        status: incidentProgress(ups, resolvedAt),
        automatic: true,
        startedAt: openedAt,
        resolvedAt,
        components: on.map((c) => c.id),
        updates: ups.map((u) => ({ status: u.status, message: u.message, at: u.at })),
      });
    }
  }
  for (const n of notes) {
    const on = components.filter((c) => matches(n.affects, c));
    if (n.affects.length > 0 && on.length === 0) continue;
    const ups = updatesOf.get(n.id) ?? [];
    shown.push({
      id: n.id,
      title: n.title ?? "Incident",
      impact: n.impact ?? "minor",
      status: incidentProgress(ups, n.resolvedAt),
      automatic: false,
      startedAt: n.startedAt,
      resolvedAt: n.resolvedAt,
      components: on.map((c) => c.id),
      updates: ups.map((u) => ({ status: u.status, message: u.message, at: u.at })),
    });
  }
  shown.sort((a, b) => b.startedAt - a.startedAt);
  for (const incident of shown) {
    const end = incident.resolvedAt ?? now;
    for (const id of incident.components) {
      const view = views.get(id);
      days.forEach((bounds, i) => {
        if (incident.startedAt < bounds.end && end >= bounds.start)
          view?.days[i]?.incidents.push(incident.id);
      });
    }
  }
  const active = shown.filter((i) => i.resolvedAt === null);

  const toMaintenanceView = (m: (typeof maintenance)[number]): PublicMaintenance | null => {
    const on = components.filter((c) => matches(m.affects, c));
    if (m.affects.length > 0 && on.length === 0) return null;
    return {
      id: m.id,
      title: m.title,
      description: m.description,
      startsAt: m.startsAt,
      endsAt: m.endsAt,
      components: on.map((c) => c.id),
    };
  };
  const activeMaintenance = inMaintenance.flatMap((m) => toMaintenanceView(m) ?? []);
  const upcomingMaintenance = maintenance
    .filter((m) => m.startsAt > now)
    .flatMap((m) => toMaintenanceView(m) ?? [])
    .slice(0, UPCOMING_MAINTENANCE);

  // Groups: consecutive components under the same heading.
  const groups: StatusPageData["groups"] = [];
  for (const c of components) {
    const view = views.get(c.id) as PublicComponent;
    const last = groups.at(-1);
    if (last && last.heading === c.heading) last.components.push(view);
    else groups.push({ heading: c.heading, components: [view] });
  }
  const states = [...views.values()].map((v) => v.state);
  const impacts = active.filter((i) => !i.automatic || noteOf.get(i.id)?.impact).map((i) => i.impact);
  return {
    page: {
      slug: page.slug,
      title: page.title,
      description: page.description,
      logoUrl: page.logoUrl,
      timezone: page.timezone,
    },
    generatedAt: now,
    status: overallStatus(states, impacts, activeMaintenance.length > 0),
    groups,
    activeIncidents: active,
    activeMaintenance,
    upcomingMaintenance,
    pastIncidents: shown.filter((i) => i.resolvedAt !== null).slice(0, PAST_INCIDENTS),
  };
}

function packed<T>(rows: readonly { checkId: string; rows: string }[]): Map<string, T[]> {
  return new Map(rows.map((r) => [r.checkId, JSON.parse(r.rows) as T[]]));
}

function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

/** Mean response time per UTC day of the status window, oldest first, over whichever rows are given. */
function dailyMeans(rows: [day: number, runs: number, total: number, location: string][], todayUtc: number) {
  const byDay = new Map<number, { runs: number; total: number }>();
  for (const [day, runs, total] of rows) {
    const sum = byDay.get(day) ?? { runs: 0, total: 0 };
    byDay.set(day, { runs: sum.runs + runs, total: sum.total + total });
  }
  const means: (number | null)[] = [];
  for (let day = todayUtc - (STATUS_DAYS - 1) * DAY_MS; day <= todayUtc; day += DAY_MS) {
    const r = byDay.get(day);
    means.push(r && r.runs > 0 ? Math.round(r.total / r.runs) : null);
  }
  return means;
}
