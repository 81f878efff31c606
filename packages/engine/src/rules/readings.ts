/**
 * What each rule kind reads, and what it says about each target. An evaluation context holds what is
 * already in memory (the batch that just committed, or for the scheduler the host's stored state); anything
 * else is a small indexed read (a window of one series, a count of log lines in a window, a backup's last run).
 */
import type { ProbeBatchV1, RuleParams, StateSnapshot } from "@vigil/contract";
import type { AlertRow, Db, RuleRow } from "@vigil/db";
import { canonicalLabels, type MetricPoint } from "../ingest/metrics.ts";
import { seriesText } from "../ingest/series.ts";
import { counterRate, type RawPoint } from "../queries/promql.ts";
import {
  backupCheckReadings,
  backupCopiesReadings,
  backupDrillReadings,
  backupSizeReadings,
} from "./backup-readings.ts";
import { formatBytes } from "./format.ts";
import type { Reading } from "./lifecycle.ts";

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** Readings older than this are history, not the present: a spooled batch does not raise alerts. */
export const STALE_MS = 15 * MIN;
/** How long a change of SSH authorized keys keeps its alert firing. */
export const SSH_KEYS_HOLD_MS = HOUR;

export interface HostContext {
  projectId: string;
  hostId: string;
  name: string;
  tags: readonly string[];
  cpuCount: number | null;
}

/** What an evaluation knows without reading: a batch (ingest) or nothing but the stored state (scheduler). */
export interface EvalContext {
  db: Db;
  host: HostContext;
  now: number;
  points: readonly MetricPoint[];
  logs: ProbeBatchV1["logs"];
  backups: ProbeBatchV1["backups"];
  /** repository checks and restore drills in the batch (backup assurance rules look again when any came) */
  backupResults: number;
  state: StateSnapshot | null;
  /** change events derived from this batch (`container.restarted`, `ssh_keys.changed` …) */
  events: readonly { kind: string; details: Record<string, unknown> }[];
}

/** The rule's alerts on this host, by target key. */
export type Existing = ReadonlyMap<string, AlertRow>;

type Evaluate = (ctx: EvalContext, rule: RuleRow, existing: Existing) => Promise<Reading[]>;

const round = (n: number, digits = 1) => {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
};

export function formatMetric(metric: string, value: number): string {
  if (metric.endsWith("_pct")) return `${round(value)}%`;
  if (metric.endsWith("_bytes")) return formatBytes(value);
  if (metric.endsWith("_per_sec")) return `${round(value, 2)}/s`;
  // A custom metric's scale is unknown (0.004 s of latency, 12,000 queued jobs): keep 4 significant digits.
  if (!metric.includes(".")) return `${Number(value.toPrecision(4))}`;
  return `${round(value, 2)}`;
}

const hours = (ms: number) => `${round(ms / HOUR)} h`;
const days = (ms: number) => `${round(ms / DAY)} d`;

function compare(value: number, op: string, threshold: number): boolean {
  if (op === ">") return value > threshold;
  if (op === ">=") return value >= threshold;
  if (op === "<") return value < threshold;
  return value <= threshold;
}

/** Past the clear value on the safe side: below it for ">" rules, above it for "<" rules. */
function pastClear(value: number, op: string, clearValue: number): boolean {
  return op.startsWith(">") ? value < clearValue : value > clearValue;
}

const labelCache = new Map<string, Record<string, string>>();
function parseLabels(labels: string): Record<string, string> {
  let parsed = labelCache.get(labels);
  if (!parsed) {
    parsed = JSON.parse(labels) as Record<string, string>;
    if (labelCache.size > 10_000) labelCache.clear();
    labelCache.set(labels, parsed);
  }
  return parsed;
}

const METRIC_NOUNS: Record<string, string> = {
  fs: "disk",
  disk: "disk",
  net: "net",
  mem: "memory",
  swap: "swap",
  load: "load",
  cpu: "cpu",
  psi: "pressure",
};

/** "disk /", "memory", "net eth0", "cpu iowait"; a custom metric as Prometheus prints it, `queue_depth{queue="mail"}` */
export function metricLabel(metric: string, labels: Record<string, string>): string {
  if (!metric.includes(".")) return seriesText(metric, canonicalLabels(labels));
  const [family = metric, field = ""] = metric.split(".");
  const noun = METRIC_NOUNS[family] ?? metric;
  const which = labels.mount ?? labels.device ?? labels.interface;
  if (which) return `${noun} ${which}`;
  if (family === "cpu") return `cpu ${field.replace(/_pct$/, "")}`;
  return noun;
}

const metric: Evaluate = async (ctx, rule) => {
  const p = rule.params as RuleParams<"metric">;
  const wanted = Object.entries(p.labels);
  const latest = new Map<string, MetricPoint>();
  for (const point of ctx.points) {
    if (point.name !== p.metric || point.ts < ctx.now - STALE_MS) continue;
    if (wanted.length > 0) {
      const labels = parseLabels(point.labels);
      if (!wanted.every(([k, v]) => labels[k] === v)) continue;
    }
    const seen = latest.get(point.labels);
    if (!seen || seen.ts < point.ts) latest.set(point.labels, point);
  }
  const readings: Reading[] = [];
  for (const [labelsKey, point] of latest) {
    let value: number | null = point.value;
    if (p.aggregation !== "last") value = await windowAggregate(ctx, p, labelsKey);
    if (value === null) continue;
    if (p.perCore) {
      if (!ctx.host.cpuCount) continue;
      value /= ctx.host.cpuCount;
    }
    const labels = parseLabels(labelsKey);
    const label = metricLabel(p.metric, labels);
    const valueText = formatMetric(p.metric, value);
    const unit = p.metric.endsWith("_pct") ? "%" : "";
    const over = `over ${Math.round(p.windowSec / 60)} min`;
    const agg =
      p.aggregation === "last"
        ? ""
        : p.aggregation === "rate"
          ? ` per second (rate ${over})`
          : p.aggregation === "delta"
            ? ` (change ${over})`
            : ` (${p.aggregation} ${over})`;
    readings.push({
      targetKey: labelsKey === "{}" ? "" : labelsKey,
      labels,
      label,
      breach: compare(value, p.op, p.value),
      ...(p.clearValue !== null ? { clear: pastClear(value, p.op, p.clearValue) } : {}),
      value,
      observed: `${label}${p.perCore ? " per core" : ""} at ${valueText}${agg}`,
      valueText,
      condition: `${p.op} ${p.value}${unit}`,
    });
  }
  return readings;
};

async function windowAggregate(
  ctx: EvalContext,
  p: RuleParams<"metric">,
  labels: string,
): Promise<number | null> {
  const windowMs = p.windowSec * 1000;
  const where = `r.host_id = ? and r.name = ? and r.labels = ? and s.ts > ? and s.ts <= ?`;
  const args = [ctx.host.hostId, p.metric, labels, ctx.now - windowMs, ctx.now];
  if (p.aggregation === "rate" || p.aggregation === "delta") {
    const result = await ctx.db.$client.execute({
      sql: `select s.ts, s.value from series r join samples s on s.series_id = r.id where ${where} order by s.ts`,
      args,
    });
    const points = result.rows.map((r) => [Number(r.ts), Number(r.value)] as RawPoint);
    if (p.aggregation === "rate") return counterRate(points, [ctx.now], windowMs)[0] ?? null;
    const first = points[0];
    const last = points[points.length - 1];
    return points.length < 2 || !first || !last ? null : last[1] - first[1];
  }
  const fn = p.aggregation === "avg" ? "avg" : p.aggregation === "max" ? "max" : "min";
  const result = await ctx.db.$client.execute({
    sql: `select ${fn}(s.value) as v from series r join samples s on s.series_id = r.id where ${where}`,
    args,
  });
  const v = result.rows[0]?.v;
  return typeof v === "number" ? v : null;
}

/** A condition that has held since some moment, firing once it is older than a limit. */
function ageReading(label: string, since: number, limitMs: number, now: number, what: string): Reading {
  const age = now - since;
  const breach = age > limitMs;
  return {
    targetKey: "",
    labels: {},
    label,
    breach,
    value: round(age / DAY, 2),
    observed: `${what} for ${days(age)}`,
    valueText: days(age),
    condition: `(limit ${days(limitMs)})`,
    conditionSince: since,
    recheckAt: breach ? null : since + limitMs + 1,
  };
}

function quiet(label: string, observed: string): Reading {
  return {
    targetKey: "",
    labels: {},
    label,
    breach: false,
    value: 0,
    observed,
    valueText: "0",
    condition: "",
  };
}

const rebootRequired: Evaluate = async (ctx, rule, existing) => {
  const reboot = ctx.state?.reboot;
  if (!reboot) return [];
  if (!reboot.required) return [quiet("reboot required", "no reboot required")];
  const since = reboot.since ?? existing.get("")?.conditionSince ?? ctx.state?.collectedAt ?? ctx.now;
  const limit = (rule.params as RuleParams<"reboot_required">).days * DAY;
  return [ageReading("reboot required", since, limit, ctx.now, "reboot required")];
};

const securityUpdates: Evaluate = async (ctx, rule, existing) => {
  const updates = ctx.state?.updates;
  if (!updates) return [];
  if (updates.security === 0) return [quiet("security updates", "no security updates pending")];
  const since = existing.get("")?.conditionSince ?? ctx.state?.collectedAt ?? ctx.now;
  const limit = (rule.params as RuleParams<"security_updates">).days * DAY;
  const n = updates.security;
  return [
    ageReading(
      "security updates",
      since,
      limit,
      ctx.now,
      `${n} security update${n === 1 ? "" : "s"} pending`,
    ),
  ];
};

/** Targets the rule has alerts for but the current snapshot no longer lists: they are fine now. */
function gone(existing: Existing, seen: Set<string>, observed: (a: AlertRow) => string): Reading[] {
  return [...existing.values()]
    .filter((a) => !seen.has(a.targetKey) && (a.state !== "inactive" || a.active))
    .map((a) => ({
      targetKey: a.targetKey,
      labels: a.labels,
      label: a.label,
      breach: false,
      value: 0,
      observed: observed(a),
      valueText: "0",
      condition: "",
    }));
}

const failedUnits: Evaluate = async (ctx, rule, existing) => {
  const failed = ctx.state?.failedUnits;
  if (!failed) return [];
  const only = (rule.params as RuleParams<"failed_units">).units;
  const readings: Reading[] = failed
    .filter((u) => only.length === 0 || only.includes(u))
    .map((unit) => ({
      targetKey: `unit=${unit}`,
      labels: { unit },
      label: `unit ${unit}`,
      breach: true,
      value: 1,
      observed: `unit ${unit} failed`,
      valueText: "failed",
      condition: "",
    }));
  return [
    ...readings,
    ...gone(existing, new Set(readings.map((r) => r.targetKey)), (a) => `${a.label} no longer failed`),
  ];
};

const container: Evaluate = async (ctx, rule, existing) => {
  const containers = ctx.state?.containers;
  if (!containers) return [];
  const p = rule.params as RuleParams<"container">;
  const windowMs = p.windowMinutes * MIN;
  const readings: Reading[] = [];
  for (const c of containers) {
    if (p.container && c.name !== p.container) continue;
    const key = `container=${c.name}`;
    const problems: string[] = [];
    if (p.notRunning && c.state !== "running") problems.push(`is ${c.state}`);
    if (p.unhealthy && c.health === "unhealthy") problems.push("is unhealthy");
    const current = existing.get(key);
    const restartedNow = ctx.events.some(
      (e) => e.kind === "container.restarted" && e.details.container === c.name,
    );
    let restarts = 0;
    if (restartedNow || (current && (current.active || current.state !== "inactive"))) {
      const result = await ctx.db.$client.execute({
        sql: `select coalesce(sum(json_extract(details, '$.restarts')), 0) as n, max(at) as last
              from host_events where host_id = ? and at > ? and kind = 'container.restarted'
              and json_extract(details, '$.container') = ?`,
        args: [ctx.host.hostId, ctx.now - windowMs, c.name],
      });
      restarts = Number(result.rows[0]?.n ?? 0);
    }
    const looping = restarts > p.restarts;
    if (looping) problems.push(`restarted ${restarts} times in ${p.windowMinutes} min`);
    readings.push({
      targetKey: key,
      labels: { container: c.name },
      label: `container ${c.name}`,
      breach: problems.length > 0,
      value: restarts,
      observed:
        problems.length > 0 ? `container ${c.name} ${problems.join(", ")}` : `container ${c.name} ${c.state}`,
      valueText: problems.length > 0 ? problems.join(", ") : c.state,
      condition: looping ? `(limit ${p.restarts})` : "",
      // Restarts leave the window with time alone, so the scheduler counts again then.
      recheckAt: restarts > 0 ? ctx.now + windowMs : null,
    });
  }
  return [
    ...readings,
    ...gone(existing, new Set(readings.map((r) => r.targetKey)), (a) => `${a.label} is gone`),
  ];
};

const sshKeys: Evaluate = async (ctx, _rule, existing) => {
  const changes = ctx.events.filter((e) => e.kind === "ssh_keys.changed");
  const current = existing.get("");
  if (changes.length > 0) {
    const users = changes.map((e) => String(e.details.user));
    return [
      {
        targetKey: "",
        labels: {},
        label: "SSH keys",
        breach: true,
        value: changes.length,
        observed: `SSH authorized keys changed for ${users.join(", ")}`,
        valueText: "changed",
        condition: "",
        conditionSince: ctx.now,
        recheckAt: ctx.now + SSH_KEYS_HOLD_MS,
      },
    ];
  }
  if (!current?.active || current.conditionSince === null) return [];
  const holds = ctx.now < current.conditionSince + SSH_KEYS_HOLD_MS;
  return [
    {
      targetKey: "",
      labels: {},
      label: "SSH keys",
      breach: holds,
      value: holds ? current.lastValue : 0,
      observed: holds ? current.observed : "no SSH key changes in the last hour",
      valueText: holds ? current.valueText : "unchanged",
      condition: "",
      conditionSince: current.conditionSince,
      recheckAt: holds ? current.conditionSince + SSH_KEYS_HOLD_MS : null,
    },
  ];
};

const backup: Evaluate = async (ctx, rule, existing) => {
  const p = rule.params as RuleParams<"backup">;
  const names = new Set<string>();
  for (const b of ctx.backups) names.add(b.name);
  // The scheduler (no batch) looks again at the names this rule already watches.
  if (ctx.backups.length === 0)
    for (const a of existing.values()) if (a.labels.backup) names.add(a.labels.backup);
  const readings: Reading[] = [];
  for (const name of names) {
    if (p.name && name !== p.name) continue;
    const result = await ctx.db.$client.execute({
      sql: `select (select status from backup_runs where host_id = ? and name = ? order by ended_at desc limit 1) as status,
                   (select max(ended_at) from backup_runs where host_id = ? and name = ? and status = 'success') as ok`,
      args: [ctx.host.hostId, name, ctx.host.hostId, name],
    });
    const row = result.rows[0];
    if (!row?.status) continue;
    const lastOk = typeof row.ok === "number" ? row.ok : null;
    const failed = p.failed && row.status === "failure";
    const limit = p.maxAgeHours * HOUR;
    const age = lastOk === null ? null : ctx.now - lastOk;
    const stale = age !== null && age > limit;
    const ageText = age === null ? "never succeeded" : `last success ${hours(age)} ago`;
    readings.push({
      targetKey: `backup=${name}`,
      labels: { backup: name },
      label: `backup ${name}`,
      breach: failed || stale,
      value: age === null ? null : round(age / HOUR, 2),
      observed: failed ? `backup ${name} failed (${ageText})` : `backup ${name} ${ageText}`,
      valueText: failed ? "failed" : age === null ? "never" : hours(age),
      condition: stale ? `(limit ${p.maxAgeHours} h)` : "",
      conditionSince: lastOk,
      recheckAt: lastOk !== null && !stale ? lastOk + limit + 1 : null,
    });
  }
  return readings;
};

const log: Evaluate = async (ctx, rule, existing) => {
  const p = rule.params as RuleParams<"log">;
  const needle = p.text?.toLowerCase() ?? null;
  const matches = ctx.logs.some(
    (e) =>
      e.priority <= p.maxPriority &&
      (p.unit === null || e.unit === p.unit) &&
      (p.identifier === null || e.identifier === p.identifier) &&
      (needle === null || e.message.toLowerCase().includes(needle)),
  );
  const current = existing.get("");
  if (!matches && !(current && (current.active || current.state !== "inactive"))) return [];
  const windowMs = p.windowSec * 1000;
  const where = ["host_id = ?", "ts > ?", "ts <= ?", "priority <= ?"];
  const args: (string | number)[] = [ctx.host.hostId, ctx.now - windowMs, ctx.now, p.maxPriority];
  if (p.unit !== null) {
    where.push("unit = ?");
    args.push(p.unit);
  }
  if (p.identifier !== null) {
    where.push("identifier = ?");
    args.push(p.identifier);
  }
  if (needle !== null) {
    where.push("instr(lower(message), ?) > 0");
    args.push(needle);
  }
  const result = await ctx.db.$client.execute({
    sql: `select count(*) as n, max(ts) as last from log_entries where ${where.join(" and ")}`,
    args,
  });
  const n = Number(result.rows[0]?.n ?? 0);
  const last = result.rows[0]?.last;
  const what = [p.identifier, p.unit, needle && `"${p.text}"`].filter(Boolean).join(" ") || "matching";
  return [
    {
      targetKey: "",
      labels: {},
      label: rule.name,
      breach: n > p.above,
      value: n,
      observed: `${n} ${what} log entr${n === 1 ? "y" : "ies"} in ${Math.round(p.windowSec / 60)} min`,
      valueText: `${n} entr${n === 1 ? "y" : "ies"}`,
      condition: `(limit ${p.above})`,
      // The matches leave the window with time alone: the scheduler counts again then.
      recheckAt: typeof last === "number" ? last + windowMs + 1 : null,
    },
  ];
};

/** Kinds evaluated per batch and by the scheduler's re-checks (forecasts and host-down live elsewhere). */
export const EVALUATORS: Partial<Record<RuleRow["kind"], Evaluate>> = {
  metric,
  reboot_required: rebootRequired,
  security_updates: securityUpdates,
  failed_units: failedUnits,
  container,
  ssh_keys: sshKeys,
  backup,
  log,
  backup_check: backupCheckReadings,
  backup_drill: backupDrillReadings,
  backup_copies: backupCopiesReadings,
  backup_size: backupSizeReadings,
};

/** Whether a batch can say anything new for a kind, so rules with nothing to look at cost nothing. */
export function batchConcerns(kind: RuleRow["kind"], ctx: EvalContext, hasLiveAlerts: boolean): boolean {
  switch (kind) {
    case "metric":
      return ctx.points.length > 0;
    case "reboot_required":
    case "security_updates":
    case "failed_units":
    case "container":
      return ctx.state !== null;
    case "ssh_keys":
      return ctx.events.length > 0 || hasLiveAlerts;
    case "backup":
      return ctx.backups.length > 0;
    case "backup_check":
    case "backup_drill":
    case "backup_copies":
    case "backup_size":
      return ctx.backupResults > 0;
    case "log":
      return ctx.logs.length > 0 || hasLiveAlerts;
    default:
      return false;
  }
}
