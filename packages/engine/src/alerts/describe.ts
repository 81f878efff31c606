/**
 * What a notification says about its subject: the name for the subject line, the facts that explain the
 * change (what was expected, the last ping or run, the target) and, for a change for the worse, the log
 * lines that explain it (log-excerpt.ts). Read when the flip is queued.
 */
import {
  utcText as at,
  type NotificationFact,
  type NotificationLogs,
  type NotificationSubject,
} from "@vigil/contract";
import {
  alerts,
  backupRepositories,
  type CheckRow,
  checkRuns,
  checks,
  type Db,
  type FlipRow,
  hosts,
  type PingRow,
  pings,
  rules,
} from "@vigil/db";
import { and, desc, eq, ne } from "drizzle-orm";
import { describeAlertSubject } from "../rules/alerts.ts";
import { hostLogExcerpt, type LogFocus, outputExcerpt } from "./log-excerpt.ts";

function every(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400} d`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

async function lastPing(db: Db, check: CheckRow): Promise<PingRow | undefined> {
  return db.query.pings.findFirst({
    where: and(eq(pings.checkId, check.id), ne(pings.kind, "ignored")),
    orderBy: [desc(pings.id)],
  });
}

function heartbeatFacts(check: CheckRow, last: PingRow | undefined, bodyQuoted: boolean): NotificationFact[] {
  const expected = check.schedule
    ? `cron "${check.schedule}" (${check.tz}), grace ${every(check.graceSec ?? 0)}`
    : `every ${every(check.periodSec ?? 0)}, grace ${every(check.graceSec ?? 0)}`;
  const lastPing = last
    ? `${at(last.at)} (${last.kind}${last.exitStatus !== null ? ` exit ${last.exitStatus}` : ""}, ${last.method}${last.remoteAddr ? ` from ${last.remoteAddr}` : ""})`
    : "never";
  const facts = [
    { label: "Expected", value: expected },
    { label: "Last ping", value: lastPing },
  ];
  const body = last?.body?.trim();
  if (body && !bodyQuoted)
    facts.push({ label: "Last ping body", value: body.length > 500 ? `${body.slice(0, 500)}…` : body });
  return facts;
}

async function activeFacts(db: Db, check: CheckRow): Promise<NotificationFact[]> {
  const target = check.url ?? `${check.targetHost ?? "?"}${check.targetPort ? `:${check.targetPort}` : ""}`;
  const run = await db.query.checkRuns.findFirst({
    where: eq(checkRuns.checkId, check.id),
    orderBy: [desc(checkRuns.at)],
  });
  const facts = [{ label: "Target", value: target }];
  if (run) {
    const parts = [
      run.httpStatus !== null ? `HTTP ${run.httpStatus}` : null,
      run.responseMs !== null ? `${run.responseMs} ms` : null,
      run.tlsDaysLeft !== null ? `certificate expires in ${run.tlsDaysLeft} days` : null,
      run.error,
    ].filter(Boolean);
    facts.push({
      label: "Last response",
      value: `${at(run.at)}: ${run.result}${parts.length ? `, ${parts.join(", ")}` : ""}`,
    });
  }
  return facts;
}

/**
 * A check as notifications describe it; `logsAt` (a change for the worse at that moment) adds the lines
 * that explain it: a failed run's output, or a silent host's last warnings and errors.
 */
export async function describeCheckSubject(
  db: Db,
  projectId: string,
  checkId: string,
  logsAt?: number,
): Promise<NotificationSubject | null> {
  const check = await db.query.checks.findFirst({
    where: and(eq(checks.projectId, projectId), eq(checks.id, checkId)),
  });
  if (!check) return null;
  const host = check.hostId
    ? await db.query.hosts.findFirst({ where: eq(hosts.id, check.hostId) })
    : undefined;
  let facts: NotificationFact[];
  let logs: NotificationLogs | null = null;
  if (check.kind === "heartbeat") {
    const last = await lastPing(db, check);
    if (logsAt !== undefined && last?.kind === "fail" && last.body?.trim()) {
      logs = await outputExcerpt(db, projectId, { at: last.at, body: last.body, failed: true });
    }
    facts = heartbeatFacts(check, last, logs !== null);
  } else if (check.kind === "host") {
    facts = [{ label: "Last report", value: host?.lastSeenAt ? at(host.lastSeenAt) : "never" }];
    if (logsAt !== undefined && host?.lastSeenAt) {
      const scope = { projectId, hostId: host.id, at: host.lastSeenAt };
      logs = await hostLogExcerpt(db, scope, { kind: "before" }, "the host's last warnings and errors");
    }
  } else facts = await activeFacts(db, check);
  return {
    type: "check",
    id: check.id,
    name: check.name,
    summary: check.name,
    tags: check.tags,
    checkId: check.id,
    checkKind: check.kind,
    ruleId: null,
    hostId: check.hostId,
    hostName: host?.name ?? null,
    runbookUrl: check.runbookUrl,
    // The dashboard's page of the check: the link in an alert opens in a browser.
    path: `/p/${check.projectId}/checks/${check.id}`,
    facts,
    logs,
  };
}

/** The lines that explain a rule's alert firing at `moment`, chosen by what the alert is about. */
async function alertLogs(db: Db, projectId: string, alertId: string, moment: number) {
  const alert = await db.query.alerts.findFirst({
    where: and(eq(alerts.projectId, projectId), eq(alerts.id, alertId)),
  });
  if (!alert) return null;
  const scope = { projectId, hostId: alert.hostId, at: moment };
  const { unit, container, repository } = alert.labels as Record<string, string | undefined>;
  if (repository !== undefined) return repositoryOutput(db, projectId, alert, repository, moment);
  const [focus, title]: [LogFocus, string] = unit
    ? [{ kind: "unit", unit }, `the last lines of ${unit}`]
    : container
      ? [{ kind: "container", name: container }, `the last lines of container ${container}`]
      : [{ kind: "host" }, "the host's warnings and errors around that moment"];
  return hostLogExcerpt(db, scope, focus, title);
}

/** A backup repository's alert quotes restic's own words: the newest drill's output or check's. */
async function repositoryOutput(
  db: Db,
  projectId: string,
  alert: { hostId: string; ruleId: string },
  name: string,
  moment: number,
) {
  const [rule, repo] = await Promise.all([
    db.query.rules.findFirst({ where: eq(rules.id, alert.ruleId), columns: { kind: true } }),
    db.query.backupRepositories.findFirst({
      where: and(
        eq(backupRepositories.projectId, projectId),
        eq(backupRepositories.hostId, alert.hostId),
        eq(backupRepositories.name, name),
      ),
    }),
  ]);
  if (!repo) return null;
  const drill = rule?.kind === "backup_drill";
  const body = drill ? repo.lastDrillOutput : repo.lastCheckOutput;
  if (!body?.trim()) return null;
  const title = drill ? `the restore drill's output (${name})` : `the repository check's output (${name})`;
  return outputExcerpt(db, projectId, { at: moment, body, failed: true }, title);
}

/** Changes for the worse, which quote log lines; recoveries do not. */
const explainable = new Set(["down", "late", "firing"]);

/** What a flip is about, described by its owner (a check, or a rule's alert); null when it is gone. */
export async function describeFlip(db: Db, flip: FlipRow): Promise<NotificationSubject | null> {
  const logsAt = explainable.has(flip.toStatus) ? flip.at : undefined;
  if (flip.subjectType === "check") return describeCheckSubject(db, flip.projectId, flip.subjectId, logsAt);
  const subject = await describeAlertSubject(db, flip.projectId, flip.subjectId);
  if (!subject || logsAt === undefined) return subject;
  return { ...subject, logs: await alertLogs(db, flip.projectId, flip.subjectId, logsAt) };
}
