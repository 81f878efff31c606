/**
 * Sending the weekly report: each project that asked for it gets one mail per week, at its chosen weekday and
 * hour in its time zone. Once per scheduled moment however many schedulers run: each project's report is a
 * job under its own lease (`weekly-report:<project id>`), due when its last run is before this week's moment.
 * A send that fails is not recorded and is tried again on the next run; a moment missed by more than a day
 * (the server was down) is skipped rather than sent late as if it were fresh.
 */
import { type Db, projects } from "@vigil/db";
import { type Mailer, TransportError } from "@vigil/notify";
import { and, eq, isNull, sql } from "drizzle-orm";
import type { AlertDeps } from "../alerts/deps.ts";
import { SEND_TIMEOUT_MS } from "../alerts/send.ts";
import { withLease } from "../leases.ts";
import { resolveSettings } from "../settings.ts";
import { localDate, localMidnight } from "../status/local-days.ts";
import { buildWeeklyReport, renderWeeklyReport } from "./weekly.ts";

const DAY_MS = 86_400_000;
/** A report whose moment passed longer ago than this is not sent (the next week's will be). */
export const REPORT_LATE_LIMIT_MS = DAY_MS;
const LEASE_MS = 60_000;

/** The latest moment at or before `now` that falls on `weekday` (0 Sunday) at `hour`:00 in `tz`. */
export function lastWeeklyMoment(now: number, weekday: number, hour: number, tz: string): number {
  // Today counts only once its hour has come; otherwise the same weekday a week back does.
  const today = localDate(tz, now);
  for (let back = 0; back <= 7; back++) {
    const date = new Date(Date.parse(`${today}T00:00:00Z`) - back * DAY_MS).toISOString().slice(0, 10);
    if (new Date(`${date}T00:00:00Z`).getUTCDay() !== weekday) continue;
    // The hour after midnight in the zone's own reckoning: a DST change that night moves it by the shift.
    const moment = localMidnight(tz, date) + hour * 3_600_000;
    if (moment <= now) return moment;
  }
  // Eight days back always hold the weekday once before today's moment: never reached.
  throw new Error(`no weekday ${weekday} in the last eight days`);
}

/** Mails one project's report now, to its configured recipients. */
export async function sendWeeklyReport(
  db: Db,
  mailer: Mailer,
  projectId: string,
  now: number,
  options: { dashboardUrl: string | null; to?: string[] },
): Promise<{ to: string[]; subject: string }> {
  const project = await db.query.projects.findFirst({
    where: eq(projects.id, projectId),
    columns: { settings: true },
  });
  const settings = resolveSettings(project?.settings).reports;
  const to = options.to ?? settings.to;
  if (to.length === 0)
    throw new TransportError("no recipients: set reports.to in the project's settings", true);
  const report = await buildWeeklyReport(db, projectId, now);
  const mail = renderWeeklyReport(report, {
    dashboardUrl: options.dashboardUrl,
    timezone: settings.timezone,
  });
  await mailer.send(
    {
      to,
      subject: mail.subject,
      text: mail.text,
      html: mail.html,
      messageId: `<weekly-${projectId}-${now}@vigil>`,
    },
    AbortSignal.timeout(SEND_TIMEOUT_MS),
  );
  return { to, subject: mail.subject };
}

/** Sends every report that is due now; returns the ids of the projects whose report went out. */
export async function sendDueWeeklyReports(deps: AlertDeps, owner: string): Promise<string[]> {
  const { db, mailer } = deps;
  if (!mailer) return [];
  const now = deps.clock.now();
  // Sparse settings: only projects that switched reports on carry the key (settings.ts).
  const wanting = await db
    .select({ id: projects.id, settings: projects.settings })
    .from(projects)
    .where(and(isNull(projects.deletingAt), sql`json_extract(${projects.settings}, '$.reports.weekly') = 1`));
  const sent: string[] = [];
  for (const project of wanting) {
    const { reports } = resolveSettings(project.settings);
    const moment = lastWeeklyMoment(now, reports.weekday, reports.hour, reports.timezone);
    if (now - moment > REPORT_LATE_LIMIT_MS) continue;
    try {
      const outcome = await withLease(
        db,
        { job: `weekly-report:${project.id}`, owner },
        { now: () => deps.clock.now(), ttlMs: LEASE_MS, due: { firedAt: moment, everyMs: 0 } },
        () => sendWeeklyReport(db, mailer, project.id, now, { dashboardUrl: deps.publicUrl }),
      );
      if (outcome.ran) sent.push(project.id);
    } catch (err) {
      // One project's refused mail must not hold back the others; it is tried again next run.
      console.error(`weekly report of project ${project.id} failed`, err);
    }
  }
  return sent;
}
