/** What happened to a check: pings, runs, flips, incidents and daily uptime, newest first. */
import type { CheckRun, Flip, Incident, Ping, UptimeDay } from "@vigil/contract";
import { type CheckRow, checkRuns, type Db, flips, incidents, pings, uptimeDaily } from "@vigil/db";
import { and, desc, eq, gte } from "drizzle-orm";
import { findCheckRow, listCheckRows } from "./checks.ts";

const DAY_MS = 86_400_000;

export async function listPings(db: Db, projectId: string, checkId: string, limit = 100): Promise<Ping[]> {
  await findCheckRow(db, projectId, checkId);
  const rows = await db.query.pings.findMany({
    where: and(eq(pings.projectId, projectId), eq(pings.checkId, checkId)),
    orderBy: [desc(pings.id)],
    limit,
  });
  return rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    exitStatus: r.exitStatus,
    rid: r.rid,
    durationMs: r.durationMs,
    method: r.method,
    body: r.body,
    userAgent: r.userAgent,
    remoteAddr: r.remoteAddr,
    at: r.at,
  }));
}

/** A check's runs, newest first; from one location only when `location` is given. */
export async function listRuns(
  db: Db,
  projectId: string,
  checkId: string,
  limit = 100,
  location?: string,
): Promise<CheckRun[]> {
  await findCheckRow(db, projectId, checkId);
  const rows = await db.query.checkRuns.findMany({
    where: and(
      eq(checkRuns.projectId, projectId),
      eq(checkRuns.checkId, checkId),
      location ? eq(checkRuns.location, location) : undefined,
    ),
    orderBy: [desc(checkRuns.at), desc(checkRuns.id)],
    limit,
  });
  return rows.map(({ projectId: _p, checkId: _c, ...run }) => run);
}

export async function listFlips(db: Db, projectId: string, checkId: string, limit = 100): Promise<Flip[]> {
  await findCheckRow(db, projectId, checkId);
  const rows = await db.query.flips.findMany({
    where: and(eq(flips.projectId, projectId), eq(flips.subjectType, "check"), eq(flips.subjectId, checkId)),
    orderBy: [desc(flips.at), desc(flips.id)],
    limit,
  });
  return rows.map((r) => ({
    id: r.id,
    subjectType: r.subjectType,
    subjectId: r.subjectId,
    from: r.fromStatus,
    to: r.toStatus,
    cause: r.cause,
    at: r.at,
  }));
}

export async function listIncidents(
  db: Db,
  projectId: string,
  checkId: string,
  limit = 100,
): Promise<Incident[]> {
  await findCheckRow(db, projectId, checkId);
  const rows = await db.query.incidents.findMany({
    where: and(
      eq(incidents.projectId, projectId),
      eq(incidents.subjectType, "check"),
      eq(incidents.subjectId, checkId),
    ),
    orderBy: [desc(incidents.openedAt)],
    limit,
  });
  return rows.map(({ projectId: _p, ...incident }) => incident);
}

const isoDay = (day: number) => new Date(day).toISOString().slice(0, 10);

/**
 * Daily uptime for the last `days` UTC days, oldest first: the stored rows plus the stretch the check has
 * been in its current status (written only when that status ends).
 */
export async function getUptime(
  db: Db,
  projectId: string,
  checkId: string,
  now: number,
  days = 90,
): Promise<UptimeDay[]> {
  const check = await findCheckRow(db, projectId, checkId);
  const first = firstDay(now, days);
  const rows = await db.query.uptimeDaily.findMany({
    where: and(
      eq(uptimeDaily.projectId, projectId),
      eq(uptimeDaily.checkId, checkId),
      gte(uptimeDaily.day, first),
    ),
  });
  return uptimeDays(rows, check, now, days);
}

/**
 * The same daily uptime for every check of the project in two queries, for the list's bars: one request per
 * check would be a hundred requests every poll on a project with a hundred checks.
 */
export async function getProjectUptime(
  db: Db,
  projectId: string,
  now: number,
  days = 90,
): Promise<{ checkId: string; days: UptimeDay[] }[]> {
  const checkRows = await listCheckRows(db, projectId);
  const rows = await db.query.uptimeDaily.findMany({
    where: and(eq(uptimeDaily.projectId, projectId), gte(uptimeDaily.day, firstDay(now, days))),
  });
  const byCheck = new Map<string, UptimeRow[]>();
  for (const row of rows) {
    const list = byCheck.get(row.checkId) ?? [];
    list.push(row);
    byCheck.set(row.checkId, list);
  }
  return checkRows.map((check) => ({
    checkId: check.id,
    days: uptimeDays(byCheck.get(check.id) ?? [], check, now, days),
  }));
}

type UptimeRow = { day: number; upMs: number; degradedMs: number; downMs: number };

const firstDay = (now: number, days: number) => now - (now % DAY_MS) - (days - 1) * DAY_MS;

function uptimeDays(
  rows: readonly UptimeRow[],
  check: Pick<CheckRow, "status" | "statusChangedAt">,
  now: number,
  days: number,
): UptimeDay[] {
  const today = now - (now % DAY_MS);
  const first = firstDay(now, days);
  const byDay = new Map(rows.map((r) => [r.day, { up: r.upMs, degraded: r.degradedMs, down: r.downMs }]));
  const bucket = { up: "up", late: "up", degraded: "degraded", down: "down" } as const;
  const open = bucket[check.status as keyof typeof bucket];
  if (open) {
    for (let t = Math.max(check.statusChangedAt, first); t < now; ) {
      const day = t - (t % DAY_MS);
      const end = Math.min(now, day + DAY_MS);
      const entry = byDay.get(day) ?? { up: 0, degraded: 0, down: 0 };
      entry[open] += end - t;
      byDay.set(day, entry);
      t = end;
    }
  }
  const out: UptimeDay[] = [];
  for (let day = first; day <= today; day += DAY_MS) {
    const e = byDay.get(day) ?? { up: 0, degraded: 0, down: 0 };
    const total = e.up + e.degraded + e.down;
    out.push({
      day: isoDay(day),
      upMs: e.up,
      degradedMs: e.degraded,
      downMs: e.down,
      uptime: total === 0 ? null : (e.up + e.degraded) / total,
    });
  }
  return out;
}
