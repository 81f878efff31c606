/**
 * Rule evaluation, incremental:
 * 1. On ingest (`evaluateBatchRules` for one batch, `evaluateGroupRules` for a queue delivery, after the
 *    batches committed): the project's enabled rules come from the engine state's cache; those whose scope
 *    covers the host and whose kind the batch can speak to are evaluated from the batch in memory plus
 *    small indexed reads, against the host's alerts (one read for every host of the group).
 * 2. By the scheduler (`evaluateDueAlerts`): alerts whose `due_at` passed — a for-duration ending,
 *    keep-firing-for running out, a backup or a pending reboot growing too old, log lines leaving their
 *    window — are evaluated again from what is stored. Forecasts run there too (forecast.ts).
 * 3. Each alert that changes is written with compare-and-set on `alerts.cas`; a state change writes its flip
 *    (and opens or resolves its incident) in the same batch, guarded by the new token, so two evaluators
 *    never record the same transition twice. All writes of one evaluation (of every host in a group, or every
 *    due alert of a tick) share one round trip.
 */
import type { ProbeBatchV1, StateSnapshot } from "@vigil/contract";
import { type AlertRow, alerts, type Db, hostState, hosts, type RuleRow, rules } from "@vigil/db";
import { and, asc, eq, inArray, lte } from "drizzle-orm";
import { transitionStatements } from "../alerts/transitions.ts";
import { newCasToken } from "../checks/state.ts";
import type { Clock } from "../clock.ts";
import type { EngineState } from "../engine-state.ts";
import type { HostPrincipal } from "../hosts.ts";
import type { MetricPoint } from "../ingest/metrics.ts";
import type { Statement } from "../statement.ts";
import { ensureBuiltinRules } from "./builtin.ts";
import { ensureHostCheck } from "./host-down.ts";
import { type AlertFields, nextAlert, type Reading } from "./lifecycle.ts";
import { batchConcerns, EVALUATORS, type EvalContext, type HostContext } from "./readings.ts";

export interface RuleReport {
  evaluated: number;
  written: number;
  flips: number;
  /** writes that lost a compare-and-set to another evaluator */
  skipped: number;
}

export function ruleCoversHost(rule: Pick<RuleRow, "scope" | "scopeTag" | "scopeHostId">, host: HostContext) {
  if (rule.scope === "host") return rule.scopeHostId === host.hostId;
  if (rule.scope === "tag") return rule.scopeTag !== null && host.tags.includes(rule.scopeTag);
  return true;
}

export interface PendingWrite {
  statements: Statement[];
  flips: number;
}

const ALERT_COLUMNS = [
  "state",
  "pending_since",
  "firing_since",
  "keep_firing_until",
  "condition_since",
  "active",
  "last_value",
  "cause",
  "observed",
  "condition",
  "value_text",
  "due_at",
] as const;

function fieldValues(f: AlertFields): (string | number | null)[] {
  return [
    f.state,
    f.pendingSince,
    f.firingSince,
    f.keepFiringUntil,
    f.conditionSince,
    f.active ? 1 : 0,
    f.lastValue,
    f.cause,
    f.observed,
    f.condition,
    f.valueText,
    f.dueAt,
  ];
}

/**
 * A pending or firing alert's value is refreshed at most this often when nothing else changes, so a host
 * that stays above a threshold does not cost a write with every batch.
 */
export const VALUE_REFRESH_MS = 5 * 60_000;

/** Nothing worth a write: same state and deadlines, and a value that is recent enough or the same. */
function unchanged(current: AlertRow, f: AlertFields, now: number): boolean {
  return (
    current.state === f.state &&
    current.active === f.active &&
    current.dueAt === f.dueAt &&
    current.conditionSince === f.conditionSince &&
    current.pendingSince === f.pendingSince &&
    current.keepFiringUntil === f.keepFiringUntil &&
    (f.state === "inactive" ||
      (current.lastValue === f.lastValue && current.cause === f.cause) ||
      now - current.evaluatedAt < VALUE_REFRESH_MS)
  );
}

/** The statements that record one reading of one alert, or null when there is nothing to record. */
export function alertWrite(
  host: Pick<HostContext, "projectId" | "hostId">,
  rule: Pick<RuleRow, "id" | "forSec" | "keepFiringForSec">,
  reading: Reading,
  current: AlertRow | null,
  now: number,
): PendingWrite | null {
  const step = nextAlert(current, reading, rule, now);
  const f = step.fields;
  const token = newCasToken();
  let statements: Statement[];
  let id: string;
  if (!current) {
    // A quiet target with nothing to remember (no deadline, no start of a condition) needs no row.
    if (!step.transition && f.dueAt === null && f.conditionSince === null && !f.active) return null;
    id = crypto.randomUUID();
    statements = [
      {
        sql: `insert into alerts (id, project_id, rule_id, host_id, target_key, labels, label, state_changed_at,
              evaluated_at, cas, created_at, ${ALERT_COLUMNS.join(", ")})
              values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ${ALERT_COLUMNS.map(() => "?").join(", ")})
              on conflict (rule_id, host_id, target_key) do nothing`,
        args: [
          id,
          host.projectId,
          rule.id,
          host.hostId,
          reading.targetKey,
          JSON.stringify(reading.labels),
          reading.label,
          now,
          now,
          token,
          now,
          ...fieldValues(f),
        ],
      },
    ];
  } else {
    if (!step.transition && unchanged(current, f, now)) return null;
    id = current.id;
    statements = [
      {
        sql: `update alerts set ${ALERT_COLUMNS.map((c) => `${c} = ?`).join(", ")}, state_changed_at = ?,
              evaluated_at = ?, cas = ? where id = ? and cas = ?`,
        args: [
          ...fieldValues(f),
          step.transition ? now : current.stateChangedAt,
          now,
          token,
          current.id,
          current.cas,
        ],
      },
    ];
  }
  if (step.transition) {
    statements.push(
      ...transitionStatements({
        subjectType: "alert",
        projectId: host.projectId,
        subjectId: id,
        from: step.transition.from,
        to: step.transition.to,
        cause: step.transition.cause,
        incidentStatus: "firing",
        now,
        guard: "exists (select 1 from alerts where id = ? and cas = ?)",
        guardArgs: [id, token],
      }),
    );
  }
  return { statements, flips: step.transition ? 1 : 0 };
}

/** Commits every write in one round trip; each keeps its own compare-and-set. */
/** The write for one reading of a rule, given alerts read beforehand (null when nothing changes). */
export function readingWrite(
  host: HostContext,
  rule: RuleRow,
  reading: Reading,
  known: readonly AlertRow[],
  now: number,
): PendingWrite | null {
  const current =
    known.find(
      (a) => a.hostId === host.hostId && a.ruleId === rule.id && a.targetKey === reading.targetKey,
    ) ?? null;
  return alertWrite(host, rule, reading, current, now);
}

export async function commitWrites(db: Db, writes: PendingWrite[], report: RuleReport): Promise<void> {
  if (writes.length === 0) return;
  const results = await db.$client.batch(
    writes.flatMap((w) => w.statements),
    "write",
  );
  let offset = 0;
  for (const w of writes) {
    if ((results[offset]?.rowsAffected ?? 0) === 1) {
      report.written++;
      report.flips += w.flips;
    } else {
      report.skipped++;
    }
    offset += w.statements.length;
  }
}

function byTarget(rows: readonly AlertRow[]): Map<string, Map<string, AlertRow>> {
  const out = new Map<string, Map<string, AlertRow>>();
  for (const a of rows) {
    let forRule = out.get(a.ruleId);
    if (!forRule) {
      forRule = new Map();
      out.set(a.ruleId, forRule);
    }
    forRule.set(a.targetKey, a);
  }
  return out;
}

const NONE = new Map<string, AlertRow>();

/**
 * Evaluates rules over one context and answers the writes that record what changed (not committed yet).
 * `only` narrows each rule to some targets.
 */
async function ruleWrites(
  ctx: EvalContext,
  rulesToRun: readonly RuleRow[],
  existing: Map<string, Map<string, AlertRow>>,
  report: RuleReport,
  only?: Map<string, Set<string>>,
): Promise<PendingWrite[]> {
  const writes: PendingWrite[] = [];
  for (const rule of rulesToRun) {
    const evaluate = EVALUATORS[rule.kind];
    if (!evaluate) continue;
    const mine = existing.get(rule.id) ?? NONE;
    const targets = only?.get(rule.id);
    const readings =
      rule.enabled && ruleCoversHost(rule, ctx.host)
        ? await evaluate(ctx, rule, mine)
        : [...mine.values()].filter((a) => !targets || targets.has(a.targetKey)).map(switchedOff);
    report.evaluated++;
    const seen = new Set<string>();
    for (const reading of readings) {
      if (targets && !targets.has(reading.targetKey)) continue;
      seen.add(reading.targetKey);
      const write = alertWrite(ctx.host, rule, reading, mine.get(reading.targetKey) ?? null, ctx.now);
      if (write) writes.push(write);
    }
    // Due alerts the evaluator had nothing new about keep their last reading (a for-duration ends).
    for (const key of targets ?? []) {
      const alert = mine.get(key);
      if (!alert || seen.has(key)) continue;
      const write = alertWrite(ctx.host, rule, carriedForward(alert), alert, ctx.now);
      if (write) writes.push(write);
    }
  }
  return writes;
}

/**
 * Commits the writes of several hosts in one round trip. If that fails (a host deleted meanwhile, the
 * database away), each host's writes are tried alone, so one host cannot hold back the others; the first
 * failure is thrown after all were tried.
 */
async function commitHostWrites(db: Db, perHost: readonly PendingWrite[][], report: RuleReport) {
  const busy = perHost.filter((w) => w.length > 0);
  if (busy.length === 0) return;
  try {
    await commitWrites(db, busy.flat(), report);
    return;
  } catch (err) {
    if (busy.length === 1) throw err;
  }
  let failure: unknown;
  for (const writes of busy) {
    await commitWrites(db, writes, report).catch((err) => {
      failure ??= err;
    });
  }
  if (failure !== undefined) throw failure;
}

/** An alert's last reading, as it stands when no new data came. */
function carriedForward(a: AlertRow): Reading {
  return {
    targetKey: a.targetKey,
    labels: a.labels,
    label: a.label,
    breach: a.active,
    clear: !a.active,
    value: a.lastValue,
    observed: a.observed,
    valueText: a.valueText,
    condition: a.condition,
    conditionSince: a.conditionSince,
  };
}

/** Alerts of a rule switched off, or no longer covering the host, resolve (keep-firing-for still applies). */
function switchedOff(a: AlertRow): Reading {
  return { ...carriedForward(a), breach: false, clear: true, observed: `${a.label}: rule off for this host` };
}

export function hostContext(row: {
  projectId: string;
  id: string;
  name: string;
  tags: string[];
  facts: unknown;
}) {
  const facts = row.facts as { cpuCount?: number } | null;
  return {
    projectId: row.projectId,
    hostId: row.id,
    name: row.name,
    tags: row.tags,
    cpuCount: facts?.cpuCount ?? null,
  } satisfies HostContext;
}

export interface BatchInput {
  batch: ProbeBatchV1;
  points: readonly MetricPoint[];
  events: readonly { kind: string; details: Record<string, unknown> }[];
}

/**
 * Enabled rules by project, kept in the engine state for RULE_CACHE.ttlMs: rules change rarely, batches
 * arrive every few seconds. This process's own rule writes drop the entry (`forgetRules`); another
 * process's (another Worker isolate) show within the TTL.
 */
export function forgetRules(state: EngineState, projectId: string): void {
  state.rules.delete(projectId);
}

async function enabledRules(db: Db, state: EngineState, projectId: string): Promise<RuleRow[]> {
  // Wall time on purpose: this bounds how stale a cache is, whatever clock the domain is given.
  const cached = state.rules.get(projectId, Date.now());
  if (cached) return cached;
  const rows = await db.query.rules.findMany({
    where: and(eq(rules.projectId, projectId), eq(rules.enabled, true)),
  });
  state.rules.set(projectId, rows, Date.now());
  return rows;
}

/** One stored batch whose host's rules are to be evaluated. */
export interface StoredBatch {
  host: HostPrincipal;
  input: BatchInput;
}

/** Evaluates a host's rules on the batch that just committed. */
export function evaluateBatchRules(
  db: Db,
  clock: Clock,
  state: EngineState,
  principal: HostPrincipal,
  input: BatchInput,
): Promise<RuleReport> {
  return evaluateGroupRules(db, clock, state, [{ host: principal, input }]);
}

/** Splits `items` into rounds in which each host appears once: its k-th batch goes in round k. */
function roundsByHost(items: readonly StoredBatch[]): StoredBatch[][] {
  const rounds: StoredBatch[][] = [];
  const seen = new Map<string, number>();
  for (const item of items) {
    const k = seen.get(item.host.hostId) ?? 0;
    seen.set(item.host.hostId, k + 1);
    if (rounds[k] === undefined) rounds[k] = [];
    rounds[k].push(item);
  }
  return rounds;
}

/** host ids per alerts read: one bound parameter each */
const HOST_CHUNK = 500;

/** Every alert of `hostIds`, grouped by host and then as `byTarget`. */
async function alertsOfHosts(db: Db, hostIds: readonly string[]) {
  const rows: AlertRow[] = [];
  for (let i = 0; i < hostIds.length; i += HOST_CHUNK) {
    rows.push(
      ...(await db
        .select()
        .from(alerts)
        .where(inArray(alerts.hostId, hostIds.slice(i, i + HOST_CHUNK)))),
    );
  }
  const byHost = new Map<string, AlertRow[]>();
  for (const a of rows) byHost.set(a.hostId, [...(byHost.get(a.hostId) ?? []), a]);
  return (hostId: string) => byTarget(byHost.get(hostId) ?? []);
}

/**
 * Evaluates the rules of many stored batches (a queue delivery, or one batch from the route). The round
 * trips do not grow with the number of hosts: per round, one read of every host's alerts and one write
 * of every change (plus the reads a rule needs, such as a windowed average, and the first sight of a
 * project or host). A host with two batches in the group is evaluated in a second round, against what
 * the first one wrote. Every write keeps its compare-and-set, so a scheduler evaluating the same alerts
 * meanwhile costs a skipped write, never a doubled transition. A host that cannot be evaluated (deleted
 * since its batch was stored) fails alone; the first failure is thrown once the others are written.
 */
export async function evaluateGroupRules(
  db: Db,
  clock: Clock,
  state: EngineState,
  items: readonly StoredBatch[],
): Promise<RuleReport> {
  const report: RuleReport = { evaluated: 0, written: 0, flips: 0, skipped: 0 };
  const now = clock.now();
  let failure: unknown;
  for (const round of roundsByHost(items)) {
    const prepared: { ctx: EvalContext; applicable: RuleRow[] }[] = [];
    for (const item of round) {
      // A host deleted since its batch was stored fails here alone; the others go on.
      await prepareHost(db, clock, state, item, now).then(
        (p) => prepared.push(p),
        (err) => {
          failure ??= err;
        },
      );
    }
    if (prepared.length === 0) continue;
    const existingOf = await alertsOfHosts(
      db,
      prepared.map((p) => p.ctx.host.hostId),
    );
    const perHost: PendingWrite[][] = [];
    for (const { ctx, applicable } of prepared) {
      const existing = existingOf(ctx.host.hostId);
      const toRun = await rulesToRun(db, ctx, applicable, existing);
      perHost.push(await ruleWrites(ctx, toRun, existing, report));
    }
    await commitHostWrites(db, perHost, report).catch((err) => {
      failure ??= err;
    });
  }
  await evaluateBackedUpHosts(db, state, items, now, report).catch((err) => {
    failure ??= err;
  });
  if (failure !== undefined) throw failure;
  return report;
}

/**
 * A repository checked from one host (a backup server, a NAS) may hold other hosts' data: their
 * `backup_copies` rules are evaluated too, so a copy found damaged or gone stale there reaches them the
 * same day rather than with their own next check. The hosts are found by the host names in the checks'
 * sources (a host's reported host name, else its name).
 */
async function evaluateBackedUpHosts(
  db: Db,
  state: EngineState,
  items: readonly StoredBatch[],
  now: number,
  report: RuleReport,
): Promise<void> {
  const wanted = new Map<string, Set<string>>();
  for (const { host, input } of items) {
    for (const check of input.batch.backupChecks) {
      for (const source of check.sources) {
        const names = wanted.get(host.projectId) ?? new Set<string>();
        names.add(source.hostname);
        wanted.set(host.projectId, names);
      }
    }
  }
  const reporting = new Set(items.map((i) => i.host.hostId));
  for (const [projectId, names] of wanted) {
    const rows = await db.select().from(hosts).where(eq(hosts.projectId, projectId));
    const targets = rows.filter((h) => {
      const reported = (h.facts as { hostname?: unknown } | null)?.hostname;
      return !reporting.has(h.id) && names.has(typeof reported === "string" ? reported : h.name);
    });
    if (targets.length === 0) continue;
    const copiesRules = (await enabledRules(db, state, projectId)).filter((r) => r.kind === "backup_copies");
    const existingOf = await alertsOfHosts(
      db,
      targets.map((h) => h.id),
    );
    const perHost: PendingWrite[][] = [];
    for (const row of targets) {
      const host = hostContext(row);
      const ctx: EvalContext = {
        db,
        host,
        now,
        points: [],
        logs: [],
        backups: [],
        backupResults: 1,
        state: null,
        events: [],
      };
      const applicable = copiesRules.filter((r) => ruleCoversHost(r, host));
      perHost.push(await ruleWrites(ctx, applicable, existingOf(row.id), report));
    }
    await commitHostWrites(db, perHost, report);
  }
}

/** The host's context for one batch, and the enabled rules that cover it (builtins and its liveness check made on first sight). */
async function prepareHost(
  db: Db,
  clock: Clock,
  state: EngineState,
  { host: principal, input }: StoredBatch,
  now: number,
): Promise<{ ctx: EvalContext; applicable: RuleRow[] }> {
  await ensureBuiltinRules(db, principal.projectId, now, state.builtinRules);
  const row = principal.row;
  const host = hostContext({ ...row, facts: { ...row.facts, ...input.batch.facts } });
  const applicable = (await enabledRules(db, state, principal.projectId)).filter((r) =>
    ruleCoversHost(r, host),
  );
  for (const rule of applicable) {
    if (rule.kind === "host_down") {
      await ensureHostCheck(db, clock, state.hostChecks, host, Number(rule.params.periodSec ?? 30));
    }
  }
  const ctx: EvalContext = {
    db,
    host,
    now,
    points: input.points,
    logs: input.batch.logs,
    backups: input.batch.backups,
    backupResults: input.batch.backupChecks.length + input.batch.backupDrills.length,
    state: input.batch.state ?? null,
    events: input.events,
  };
  return { ctx, applicable };
}

/**
 * The rules a batch speaks to: log and SSH-key rules also look again while their alert is live, the others
 * only when the batch carries their kind of data. Live alerts of rules that no longer apply here (switched
 * off, scope or host tags changed) are evaluated too, to resolve.
 */
async function rulesToRun(
  db: Db,
  ctx: EvalContext,
  applicable: readonly RuleRow[],
  existing: Map<string, Map<string, AlertRow>>,
): Promise<RuleRow[]> {
  const maybe = applicable.filter((r) => batchConcerns(r.kind, ctx, true));
  const live = (ruleId: string) =>
    [...(existing.get(ruleId)?.values() ?? [])].some((a) => a.active || a.state !== "inactive");
  const toRun = maybe.filter((r) => batchConcerns(r.kind, ctx, live(r.id)));
  const applies = new Set(applicable.map((r) => r.id));
  const orphans = [...existing.keys()].filter((id) => !applies.has(id) && live(id));
  if (orphans.length > 0) {
    const stale = await db.select().from(rules).where(inArray(rules.id, orphans));
    toRun.push(...stale);
  }
  return toRun;
}

/**
 * The scheduler's share: alerts whose deadline passed, oldest first, at most `limit`, evaluated again from
 * the stored state of their hosts.
 */
export async function evaluateDueAlerts(db: Db, now: number, limit = 500): Promise<RuleReport> {
  const report: RuleReport = { evaluated: 0, written: 0, flips: 0, skipped: 0 };
  const due = await db.query.alerts.findMany({
    where: lte(alerts.dueAt, now),
    orderBy: [asc(alerts.dueAt)],
    limit,
  });
  if (due.length === 0) return report;
  const hostIds = [...new Set(due.map((a) => a.hostId))];
  const ruleIds = [...new Set(due.map((a) => a.ruleId))];
  const [hostRows, ruleRows, states, allAlerts] = await Promise.all([
    db.select().from(hosts).where(inArray(hosts.id, hostIds)),
    db.select().from(rules).where(inArray(rules.id, ruleIds)),
    db.select().from(hostState).where(inArray(hostState.hostId, hostIds)),
    db
      .select()
      .from(alerts)
      .where(and(inArray(alerts.hostId, hostIds), inArray(alerts.ruleId, ruleIds))),
  ]);
  const ruleById = new Map(ruleRows.map((r) => [r.id, r]));
  const stateOf = new Map(states.map((s) => [s.hostId, s.snapshot as StateSnapshot]));
  const perHost: PendingWrite[][] = [];
  for (const hostRow of hostRows) {
    const mine = due.filter((a) => a.hostId === hostRow.id);
    const only = new Map<string, Set<string>>();
    for (const a of mine) {
      const set = only.get(a.ruleId) ?? new Set<string>();
      set.add(a.targetKey);
      only.set(a.ruleId, set);
    }
    const dueRules = [...only.keys()].map((id) => ruleById.get(id)).filter((r): r is RuleRow => !!r);
    const ctx: EvalContext = {
      db,
      host: hostContext(hostRow),
      now,
      points: [],
      logs: [],
      backups: [],
      backupResults: 0,
      state: stateOf.get(hostRow.id) ?? null,
      events: [],
    };
    const existing = byTarget(allAlerts.filter((a) => a.hostId === hostRow.id));
    perHost.push(await ruleWrites(ctx, dueRules, existing, report, only));
  }
  await commitHostWrites(db, perHost, report);
  return report;
}
