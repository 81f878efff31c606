/**
 * What a check's notification says about it: the name for the subject line and the facts that explain the
 * change (what was expected, the last ping or run, the target). Read when the flip is queued.
 */
import { utcText as at, type NotificationFact, type NotificationSubject } from "@vigil/contract";
import { type CheckRow, checkRuns, checks, type Db, type FlipRow, hosts, pings } from "@vigil/db";
import { and, desc, eq, ne } from "drizzle-orm";
import { describeAlertSubject } from "../rules/alerts.ts";

function every(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400} d`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

async function heartbeatFacts(db: Db, check: CheckRow): Promise<NotificationFact[]> {
  const expected = check.schedule
    ? `cron "${check.schedule}" (${check.tz}), grace ${every(check.graceSec ?? 0)}`
    : `every ${every(check.periodSec ?? 0)}, grace ${every(check.graceSec ?? 0)}`;
  const last = await db.query.pings.findFirst({
    where: and(eq(pings.checkId, check.id), ne(pings.kind, "ignored")),
    orderBy: [desc(pings.id)],
  });
  const lastPing = last
    ? `${at(last.at)} (${last.kind}${last.exitStatus !== null ? ` exit ${last.exitStatus}` : ""}, ${last.method}${last.remoteAddr ? ` from ${last.remoteAddr}` : ""})`
    : "never";
  const facts = [
    { label: "Expected", value: expected },
    { label: "Last ping", value: lastPing },
  ];
  const body = last?.body?.trim();
  if (body)
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

export async function describeCheckSubject(
  db: Db,
  projectId: string,
  checkId: string,
): Promise<NotificationSubject | null> {
  const check = await db.query.checks.findFirst({
    where: and(eq(checks.projectId, projectId), eq(checks.id, checkId)),
  });
  if (!check) return null;
  const host = check.hostId
    ? await db.query.hosts.findFirst({ where: eq(hosts.id, check.hostId) })
    : undefined;
  let facts: NotificationFact[];
  if (check.kind === "heartbeat") facts = await heartbeatFacts(db, check);
  else if (check.kind === "host") {
    facts = [{ label: "Last report", value: host?.lastSeenAt ? at(host.lastSeenAt) : "never" }];
  } else facts = await activeFacts(db, check);
  return {
    type: "check",
    id: check.id,
    name: check.name,
    summary: check.name,
    tags: check.tags,
    checkId: check.id,
    ruleId: null,
    hostId: check.hostId,
    hostName: host?.name ?? null,
    runbookUrl: check.runbookUrl,
    // The dashboard's page of the check: the link in an alert opens in a browser.
    path: `/p/${check.projectId}/checks/${check.id}`,
    facts,
  };
}

/** What a flip is about, described by its owner (a check, or a rule's alert); null when it is gone. */
export function describeFlip(db: Db, flip: FlipRow): Promise<NotificationSubject | null> {
  return flip.subjectType === "check"
    ? describeCheckSubject(db, flip.projectId, flip.subjectId)
    : describeAlertSubject(db, flip.projectId, flip.subjectId);
}
