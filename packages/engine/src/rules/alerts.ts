/** Alerts as the API lists them, and as alert delivery describes them. */
import type { Alert, Flip, NotificationSubject } from "@vigil/contract";
import { type AlertRow, alerts, type Db, flips, hosts, rules } from "@vigil/db";
import { and, desc, eq, inArray, type SQL } from "drizzle-orm";
import { NotFoundError } from "../errors.ts";
import { formatBytes } from "./format.ts";
import { formatDuration } from "./lifecycle.ts";

const alertColumns = { alert: alerts, ruleName: rules.name, hostName: hosts.name };

function toAlert(r: { alert: AlertRow; ruleName: string; hostName: string }): Alert {
  const a = r.alert;
  return {
    id: a.id,
    ruleId: a.ruleId,
    ruleName: r.ruleName,
    hostId: a.hostId,
    hostName: r.hostName,
    targetKey: a.targetKey,
    labels: a.labels,
    name: `${r.hostName} ${a.label}`,
    state: a.state,
    stateChangedAt: a.stateChangedAt,
    pendingSince: a.pendingSince,
    firingSince: a.firingSince,
    keepFiringUntil: a.keepFiringUntil,
    value: a.lastValue,
    cause: a.cause,
    evaluatedAt: a.evaluatedAt,
  };
}

export interface AlertFilter {
  hostId?: string | undefined;
  ruleId?: string | undefined;
  /** default: pending and firing */
  state?: "inactive" | "pending" | "firing" | "all" | undefined;
  limit?: number;
}

export async function listAlerts(db: Db, projectId: string, filter: AlertFilter = {}): Promise<Alert[]> {
  const where: SQL[] = [eq(alerts.projectId, projectId)];
  if (filter.state !== "all") {
    where.push(filter.state ? eq(alerts.state, filter.state) : inArray(alerts.state, ["pending", "firing"]));
  }
  if (filter.hostId) where.push(eq(alerts.hostId, filter.hostId));
  if (filter.ruleId) where.push(eq(alerts.ruleId, filter.ruleId));
  const rows = await db
    .select(alertColumns)
    .from(alerts)
    .innerJoin(rules, eq(rules.id, alerts.ruleId))
    .innerJoin(hosts, eq(hosts.id, alerts.hostId))
    .where(and(...where))
    .orderBy(desc(alerts.stateChangedAt))
    .limit(filter.limit ?? 200);
  return rows.map(toAlert);
}

async function findAlert(db: Db, projectId: string, alertId: string) {
  const [row] = await db
    .select({ ...alertColumns, rule: rules, host: hosts })
    .from(alerts)
    .innerJoin(rules, eq(rules.id, alerts.ruleId))
    .innerJoin(hosts, eq(hosts.id, alerts.hostId))
    .where(and(eq(alerts.projectId, projectId), eq(alerts.id, alertId)));
  return row ?? null;
}

/** One alert with its state changes, newest first. */
export async function getAlert(
  db: Db,
  projectId: string,
  alertId: string,
  limit = 100,
): Promise<Alert & { flips: Flip[] }> {
  const row = await findAlert(db, projectId, alertId);
  if (!row) throw new NotFoundError("alert");
  const history = await db.query.flips.findMany({
    where: and(eq(flips.projectId, projectId), eq(flips.subjectType, "alert"), eq(flips.subjectId, alertId)),
    orderBy: [desc(flips.at), desc(flips.id)],
    limit,
  });
  return {
    ...toAlert(row),
    flips: history.map((f) => ({
      id: f.id,
      subjectType: f.subjectType,
      subjectId: f.subjectId,
      from: f.fromStatus,
      to: f.toStatus,
      cause: f.cause,
      at: f.at,
    })),
  };
}

const paramFacts: Record<string, (p: Record<string, unknown>) => [string, string][]> = {
  metric: (p) => [
    ["metric", String(p.metric)],
    ["threshold", `${p.op} ${p.value}${String(p.metric).endsWith("_pct") ? "%" : ""}`],
    ...(p.clearValue !== null && p.clearValue !== undefined
      ? [["clears at", String(p.clearValue)] as [string, string]]
      : []),
    ...(p.aggregation !== "last"
      ? [["aggregation", `${p.aggregation} over ${p.windowSec} s`] as [string, string]]
      : []),
  ],
  reboot_required: (p) => [["threshold", `${p.days} d`]],
  security_updates: (p) => [["threshold", `${p.days} d`]],
  container: (p) => [["threshold", `more than ${p.restarts} restarts in ${p.windowMinutes} min`]],
  backup: (p) => [["threshold", `${p.maxAgeHours} h${p.failed ? ", or failed" : ""}`]],
  log: (p) => [["threshold", `more than ${p.above} in ${p.windowSec} s`]],
  forecast: (p) => [["threshold", `full within ${p.withinHours} h`]],
  metric_absent: (p) => [
    ["metric", String(p.metric)],
    ["threshold", `silent for ${p.minutes} min`],
  ],
  backup_check: (p) => [["threshold", `checked within ${p.maxAgeDays} d${p.failed ? ", and sound" : ""}`]],
  backup_drill: (p) => [
    ["threshold", `a good drill within ${p.maxAgeDays} d${p.failed ? ", the last one good" : ""}`],
  ],
  backup_copies: (p) => [["threshold", copiesThreshold(p)]],
  backup_size: (p) => [["threshold", sizeThreshold(p)]],
};

/** A copies rule's conditions in words: "2 backup copies, one off site, none older than 192 h". */
export function copiesThreshold(p: Record<string, unknown>): string {
  return [
    Number(p.minCopies) > 0 ? `${p.minCopies} backup copies` : null,
    p.offsite ? "one off site" : null,
    p.maxAgeHours !== null && p.maxAgeHours !== undefined ? `none older than ${p.maxAgeHours} h` : null,
  ]
    .filter(Boolean)
    .join(", ");
}

/** A size rule's conditions in words: "shrinks by at most 20%, at most 500 GB". */
export function sizeThreshold(p: Record<string, unknown>): string {
  return [
    p.shrinkPct !== null && p.shrinkPct !== undefined ? `shrinks by at most ${p.shrinkPct}%` : null,
    p.maxBytes !== null && p.maxBytes !== undefined ? `at most ${formatBytes(Number(p.maxBytes))}` : null,
  ]
    .filter(Boolean)
    .join(", ");
}

/** What alert delivery says about an alert: read fresh, so a renamed host or rule shows. */
export async function describeAlertSubject(
  db: Db,
  projectId: string,
  alertId: string,
): Promise<NotificationSubject | null> {
  const row = await findAlert(db, projectId, alertId);
  if (!row) return null;
  const { alert, rule, host } = row;
  const name = `${host.name} ${alert.label}`;
  const facts: [string, string][] = [
    ["rule", rule.name],
    ["value", alert.valueText || String(alert.lastValue ?? "")],
    ...(paramFacts[rule.kind]?.(rule.params) ?? []),
  ];
  if (rule.forSec > 0) facts.push(["for", formatDuration(rule.forSec)]);
  if (rule.keepFiringForSec > 0) facts.push(["keep firing for", formatDuration(rule.keepFiringForSec)]);
  // The message says the cause and the time itself; facts add what explains it, labelled like a check's.
  return {
    type: "alert",
    id: alert.id,
    name,
    summary: alert.valueText ? `${name} ${alert.valueText}` : name,
    tags: host.tags,
    checkId: null,
    checkKind: null,
    ruleId: rule.id,
    hostId: host.id,
    hostName: host.name,
    runbookUrl: rule.runbookUrl,
    // The dashboard's page of the host the alert is about (its alerts are shown there); a browser opening
    // an API path would only meet a 401.
    path: `/p/${projectId}/hosts/${host.id}`,
    facts: facts.map(([label, value]) => ({ label: label[0]?.toUpperCase() + label.slice(1), value })),
    // Quoted only for a change for the worse, by the alert pipeline (alerts/describe.ts).
    logs: null,
  };
}
