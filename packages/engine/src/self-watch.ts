/**
 * What Vigil knows about itself from the database, so every process and Worker isolate reports the same:
 * when the scheduler last completed a tick, how much of the outbox waits, and each check's and alert's
 * state for the self-metrics. Per-process counters live in the API's runtime state, not here.
 */
import type { Db } from "@vigil/db";

/**
 * The last completed tick is kept as one row of the `rate_limits` table (key `mark:scheduler-tick`,
 * `window_start` = when): a table every runtime already writes, so marking a tick needs no migration.
 * Rate limit keys never start with `mark:`, and pruning leaves a row written in the last two days alone.
 */
const TICK_MARK = "mark:scheduler-tick";

export async function markTickCompleted(db: Db, at: number, durationMs: number): Promise<void> {
  await db.$client.execute({
    sql: `insert into rate_limits (key, window_start, count) values (?, ?, ?)
          on conflict (key) do update set window_start = max(window_start, excluded.window_start),
          count = excluded.count`,
    args: [TICK_MARK, at, Math.round(durationMs)],
  });
}

/** When some scheduler last completed a tick (any process), or null when none has since the last prune. */
export async function lastTickCompletedAt(db: Db): Promise<number | null> {
  const { rows } = await db.$client.execute({
    sql: "select window_start from rate_limits where key = ?",
    args: [TICK_MARK],
  });
  const at = rows[0]?.window_start;
  return at === undefined || at === null ? null : Number(at);
}

export interface OutboxBacklog {
  /** flips not yet claimed, notices queued, deliveries pending or being sent */
  flips: number;
  notices: number;
  deliveries: number;
  /**
   * The oldest moment something was due and still waits: a flip's time, a queued notice's due time, a
   * delivery's next attempt. A receiver that keeps failing pushes its next attempt out, so this measures
   * the dispatcher falling behind, not a customer's webhook being down. Null when nothing waits.
   */
  oldestDueAt: number | null;
}

/** Every query runs on an index: flips by `claimed_at`, notices and deliveries by state and due time. */
export async function outboxBacklog(db: Db, now: number): Promise<OutboxBacklog> {
  const { rows } = await db.$client.execute({
    sql: `select
      (select count(*) from flips where claimed_at is null) as flips,
      (select min(at) from flips where claimed_at is null) as flip_at,
      (select count(*) from notifications where state = 'queued') as notices,
      (select min(due_at) from notifications where state = 'queued' and due_at <= ?) as notice_at,
      (select count(*) from deliveries where state in ('pending', 'sending')) as deliveries,
      (select min(next_attempt_at) from deliveries where state in ('pending', 'sending') and next_attempt_at <= ?)
        as delivery_at`,
    args: [now, now],
  });
  const r: Record<string, unknown> = rows[0] ?? {};
  const times = [r.flip_at, r.notice_at, r.delivery_at]
    .filter((v) => v !== null && v !== undefined)
    .map(Number);
  return {
    flips: Number(r.flips ?? 0),
    notices: Number(r.notices ?? 0),
    deliveries: Number(r.deliveries ?? 0),
    oldestDueAt: times.length ? Math.min(...times) : null,
  };
}

/** Round-trip time of the cheapest statement, in ms; throws when the database cannot be reached. */
export async function databaseLatencyMs(db: Db): Promise<number> {
  const started = performance.now();
  await db.$client.execute("select 1");
  return performance.now() - started;
}

export interface CheckGauge {
  projectId: string;
  checkId: string;
  kind: string;
  status: string;
  /** share of the last 30 days spent up or degraded, of the time the check was up, degraded or down */
  uptime30d: number | null;
}

export interface AlertGauge {
  projectId: string;
  alertId: string;
  ruleId: string;
  hostId: string;
  state: string;
}

const DAY_MS = 86_400_000;
const OPEN_BUCKET: Record<string, "up" | "degraded" | "down"> = {
  up: "up",
  late: "up",
  degraded: "degraded",
  down: "down",
};

/**
 * Every check's status and 30-day uptime, and every alert that is pending or firing, across projects:
 * three reads however long the history (uptime from the daily rows plus each check's open stretch).
 */
export async function selfGauges(
  db: Db,
  now: number,
): Promise<{ checks: CheckGauge[]; alerts: AlertGauge[] }> {
  const first = now - (now % DAY_MS) - 29 * DAY_MS;
  const [checkRows, uptimeRows, alertRows] = await Promise.all([
    db.$client.execute("select id, project_id, kind, status, status_changed_at from checks"),
    db.$client.execute({
      sql: `select check_id, sum(up_ms) as up, sum(degraded_ms) as degraded, sum(down_ms) as down
            from uptime_daily where day >= ? group by check_id`,
      args: [first],
    }),
    db.$client.execute(
      "select id, project_id, rule_id, host_id, state from alerts where state in ('pending', 'firing')",
    ),
  ]);
  const totals = new Map(
    uptimeRows.rows.map((r) => [
      String(r.check_id),
      { up: Number(r.up ?? 0), degraded: Number(r.degraded ?? 0), down: Number(r.down ?? 0) },
    ]),
  );
  const checks = checkRows.rows.map((r): CheckGauge => {
    const t = { ...(totals.get(String(r.id)) ?? { up: 0, degraded: 0, down: 0 }) };
    const open = OPEN_BUCKET[String(r.status)];
    if (open) t[open] += Math.max(0, now - Math.max(Number(r.status_changed_at), first));
    const total = t.up + t.degraded + t.down;
    return {
      projectId: String(r.project_id),
      checkId: String(r.id),
      kind: String(r.kind),
      status: String(r.status),
      uptime30d: total === 0 ? null : (t.up + t.degraded) / total,
    };
  });
  const alerts = alertRows.rows.map(
    (r): AlertGauge => ({
      projectId: String(r.project_id),
      alertId: String(r.id),
      ruleId: String(r.rule_id),
      hostId: String(r.host_id),
      state: String(r.state),
    }),
  );
  return { checks, alerts };
}
