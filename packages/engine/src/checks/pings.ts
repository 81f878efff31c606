/**
 * Heartbeat pings, with Healthchecks.io semantics.
 * 1. Find the check (by UUID, or by the project's ping key and the slug; `create` makes a missing one).
 * 2. Decide what the ping counts as: POST-only checks ignore other methods, a paused check set to stay
 *    paused ignores everything, `log` never changes state, body keywords may turn a plain ping into a
 *    failure, a start or nothing.
 * 3. Work out the new state (start opens a run, success/fail end it and set up/down and the next due
 *    time; a success from a run too short or too long, or too soon after the last one, is down) and write it
 *    together with the ping row, compare-and-set; on a lost race, re-read and retry.
 *    Pings that keep the status take the grouped fast path (ping-writer.ts); the rest write flips too.
 */
import { createCheckRequestSchema, MAX_RUN_SEC } from "@vigil/contract";
import { type BodyKeywords, type CheckRow, type CheckStatus, type Db, type PingKind, pings } from "@vigil/db";
import type { Clock } from "../clock.ts";
import type { EngineState } from "../engine-state.ts";
import { ConflictError } from "../errors.ts";
import { createCheck, slugify } from "./checks.ts";
import { describeMs, heartbeatDeadline } from "./heartbeat.ts";
import { writePing } from "./ping-writer.ts";
import { recordRunDuration } from "./run-durations.ts";
import { nextDueAt } from "./schedule.ts";
import { type CheckPatch, occasionalPrune, writeCheckState } from "./state.ts";

export type PingTarget =
  | { checkId: string }
  | {
      pingKey: string;
      slug: string;
      create: boolean;
      /** called before a missing check is created; throws to refuse (rate limits, the project's cap) */
      beforeCreate?: (projectId: string) => Promise<void>;
    };

export interface PingInput {
  target: PingTarget;
  action: "success" | "start" | "fail" | "log";
  /** from `/ping/<uuid>/<0-255>`; 0 arrives as success, anything else as fail */
  exitStatus: number | null;
  rid: string | null;
  method: string;
  body: string | null;
  userAgent: string | null;
  remoteAddr: string | null;
}

export type PingOutcome =
  | { result: "ok"; checkId: string }
  | { result: "created"; checkId: string }
  | { result: "not_found" }
  | { result: "ambiguous" };

/**
 * Writes a ping tries before it answers 409. Within a process pings to one check take turns, and plain
 * pings from other processes land together (ping-writer.ts), so only status changes race: each round of
 * them has a winner, so this many other processes flipping one check at the same moment still get through.
 */
const MAX_ATTEMPTS = 32;

/** A start older than this is not paired with its end (Healthchecks uses the same bound). */
const MAX_RUN_MS = MAX_RUN_SEC * 1000;

/** The columns a ping needs. The ping path is the hottest in Vigil, so it reads them with plain SQL. */
type PingCheck = Pick<
  CheckRow,
  | "id"
  | "projectId"
  | "cas"
  | "status"
  | "statusChangedAt"
  | "periodSec"
  | "graceSec"
  | "schedule"
  | "tz"
  | "postOnly"
  | "keepPaused"
  | "nextDueAt"
  | "lastStartAt"
  | "lastStartRid"
  | "lastPingAt"
  | "bodyKeywords"
  | "minRunSec"
  | "maxRunSec"
  | "startGraceSec"
  | "minIntervalSec"
  | "slowRunFactor"
>;

const PING_COLUMNS = `c.id, c.project_id, c.cas, c.status, c.status_changed_at, c.period_sec, c.grace_sec,
  c.schedule, c.tz, c.post_only, c.keep_paused, c.next_due_at, c.last_start_at, c.last_start_rid, c.last_ping_at,
  c.body_keywords, c.min_run_sec, c.max_run_sec, c.start_grace_sec, c.min_interval_sec, c.slow_run_factor`;

type SqlRow = Record<string, unknown>;
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
const str = (v: unknown) => (v === null || v === undefined ? null : String(v));

function toPingCheck(r: SqlRow): PingCheck {
  return {
    id: String(r.id),
    projectId: String(r.project_id),
    cas: String(r.cas),
    status: r.status as CheckStatus,
    statusChangedAt: Number(r.status_changed_at),
    periodSec: num(r.period_sec),
    graceSec: num(r.grace_sec),
    schedule: str(r.schedule),
    tz: String(r.tz),
    postOnly: Boolean(r.post_only),
    keepPaused: Boolean(r.keep_paused),
    nextDueAt: num(r.next_due_at),
    lastStartAt: num(r.last_start_at),
    lastStartRid: str(r.last_start_rid),
    lastPingAt: num(r.last_ping_at),
    bodyKeywords: r.body_keywords ? (JSON.parse(String(r.body_keywords)) as BodyKeywords) : null,
    minRunSec: num(r.min_run_sec),
    maxRunSec: num(r.max_run_sec),
    startGraceSec: num(r.start_grace_sec),
    minIntervalSec: num(r.min_interval_sec),
    slowRunFactor: num(r.slow_run_factor),
  };
}

async function readPingCheck(db: Db, checkId: string): Promise<PingCheck | null> {
  const { rows } = await db.$client.execute({
    sql: `select ${PING_COLUMNS} from checks c where c.id = ? and c.kind = 'heartbeat'`,
    args: [checkId],
  });
  return rows[0] ? toPingCheck(rows[0] as SqlRow) : null;
}

async function findTarget(
  db: Db,
  clock: Clock,
  target: PingTarget,
): Promise<{ check: PingCheck; created: boolean } | "not_found" | "ambiguous"> {
  if ("checkId" in target) {
    const check = await readPingCheck(db, target.checkId);
    return check ? { check, created: false } : "not_found";
  }
  const project = await db.$client.execute({
    sql: "select id from projects where ping_key = ?",
    args: [target.pingKey],
  });
  const projectId = project.rows[0]?.id;
  if (projectId === undefined || projectId === null) return "not_found";
  const { rows } = await db.$client.execute({
    sql: `select ${PING_COLUMNS} from checks c
          where c.project_id = ? and c.slug = ? and c.kind = 'heartbeat' limit 2`,
    args: [String(projectId), target.slug],
  });
  if (rows.length > 1) return "ambiguous";
  if (rows[0]) return { check: toPingCheck(rows[0] as SqlRow), created: false };
  if (!target.create) return "not_found";
  await target.beforeCreate?.(String(projectId));
  // Everything else takes the API's defaults, as for a check created with only a name.
  const settings = createCheckRequestSchema.parse({
    kind: "heartbeat",
    name: target.slug,
    slug: slugify(target.slug) ?? target.slug,
  });
  const check = await createCheck(db, clock, String(projectId), settings);
  return { check, created: true };
}

/** What a body says by the check's keywords: failure first, then success, then start; none is ignored. */
export function kindFromKeywords(keywords: BodyKeywords, body: string): PingKind {
  const text = body.toLowerCase();
  const has = (list: string[]) => list.some((k) => text.includes(k.toLowerCase()));
  if (has(keywords.failure)) return "fail";
  if (has(keywords.success)) return "success";
  if (has(keywords.start)) return "start";
  return "ignored";
}

function pingKindFor(check: PingCheck, input: PingInput): PingKind {
  if (check.postOnly && input.method !== "POST") return "ignored";
  if (input.action === "log") return "log";
  if (check.status === "paused" && check.keepPaused) return "ignored";
  // Only a plain ping with a body is judged by keywords: `/fail`, `/start` and exit statuses say it all.
  const plain = input.action === "success" && input.exitStatus === null;
  if (plain && check.bodyKeywords && input.body) return kindFromKeywords(check.bodyKeywords, input.body);
  return input.action;
}

/**
 * When the previous run ended well, for "runs too often"; read only for checks that ask. Null after a
 * failure: a retry that follows a failed run is not a job running too often.
 */
async function previousSuccessAt(db: Db, check: PingCheck): Promise<number | null> {
  if (check.minIntervalSec === null) return null;
  const { rows } = await db.$client.execute({
    sql: `select kind, at from pings where check_id = ? and project_id = ? and kind in ('success', 'fail')
          order by id desc limit 1`,
    args: [check.id, check.projectId],
  });
  return rows[0]?.kind === "success" ? num(rows[0].at) : null;
}

/** Why a success still makes the check down: a run too short or too long, or too soon after the last one. */
function successProblem(
  check: PingCheck,
  durationMs: number | null,
  lastSuccessAt: number | null,
  now: number,
): string | null {
  if (durationMs !== null && check.minRunSec !== null && durationMs < check.minRunSec * 1000) {
    return `the run took ${describeMs(durationMs)}, shorter than the minimum of ${describeMs(check.minRunSec * 1000)}`;
  }
  if (durationMs !== null && check.maxRunSec !== null && durationMs > check.maxRunSec * 1000) {
    return `the run took ${describeMs(durationMs)}, longer than the maximum of ${describeMs(check.maxRunSec * 1000)}`;
  }
  if (
    lastSuccessAt !== null &&
    check.minIntervalSec !== null &&
    now - lastSuccessAt < check.minIntervalSec * 1000
  ) {
    return `success ${describeMs(now - lastSuccessAt)} after the previous one, expected at most one every ${describeMs(check.minIntervalSec * 1000)}`;
  }
  return null;
}

/** Runs the "slower than usual" median is taken over, and how many must be known before it judges. */
export const USUAL_RUNS = { window: 20, atLeast: 5 } as const;

/**
 * Why a successful run counts as degraded: it took `slowRunFactor` times its usual length, the median of
 * the check's last runs (read only for checks that ask, and only for runs that have a length).
 */
async function slowRun(db: Db, check: PingCheck, durationMs: number | null): Promise<string | null> {
  if (check.slowRunFactor === null || durationMs === null) return null;
  const { rows } = await db.$client.execute({
    sql: `select duration_ms from pings where check_id = ? and project_id = ? and kind = 'success'
          and duration_ms is not null order by id desc limit ?`,
    args: [check.id, check.projectId, USUAL_RUNS.window],
  });
  if (rows.length < USUAL_RUNS.atLeast) return null;
  const sorted = rows.map((r) => Number(r.duration_ms)).sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median =
    sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  if (durationMs <= median * check.slowRunFactor) return null;
  return `the run took ${describeMs(durationMs)}, ${Math.round((durationMs / Math.max(median, 1)) * 10) / 10}× its usual ${describeMs(median)} (median of the last ${rows.length} runs)`;
}

/** The run a success or fail ends: the start with the same rid, else the check's open rid-less start. */
async function runStartedAt(
  db: Db,
  check: PingCheck,
  rid: string | null,
  now: number,
): Promise<number | null> {
  let startedAt: number | null = null;
  if (rid) {
    const { rows } = await db.$client.execute({
      sql: `select at from pings where check_id = ? and project_id = ? and rid = ? and kind = 'start'
            order by id desc limit 1`,
      args: [check.id, check.projectId, rid],
    });
    startedAt = num(rows[0]?.at);
  } else if (check.lastStartAt !== null && check.lastStartRid === null) {
    startedAt = check.lastStartAt;
  }
  return startedAt !== null && now - startedAt <= MAX_RUN_MS ? startedAt : null;
}

function pingState(
  check: PingCheck,
  kind: PingKind,
  input: PingInput,
  now: number,
  /** set when a success still counts as down (successProblem) */
  problem: string | null,
  /** set when a success is slower than usual: up, but degraded */
  slow: string | null = null,
): { patch: CheckPatch; cause?: string } {
  const patch: CheckPatch = {};
  let cause: string | undefined;
  if (kind === "start") {
    patch.lastStartAt = now;
    patch.lastStartRid = input.rid;
    if (check.status === "paused") {
      patch.status = "new";
      cause = "resumed by a start ping";
    }
  } else {
    // An end with another run's rid leaves that run open; an end without rid closes whatever is open.
    if (!input.rid || input.rid === check.lastStartRid) {
      patch.lastStartAt = null;
      patch.lastStartRid = null;
    }
    patch.lastPingAt = now;
    if (kind === "success" && problem === null) {
      patch.status = slow === null ? "up" : "degraded";
      patch.nextDueAt = nextDueAt(check, now);
      cause = slow ?? (check.status === "paused" ? "resumed by a success ping" : "success ping");
    } else {
      patch.status = "down";
      patch.nextDueAt = null;
      if (problem !== null) cause = problem;
      else if (input.exitStatus !== null) cause = `exit status ${input.exitStatus}`;
      else cause = kind === input.action ? "fail ping" : "failure keyword in the ping body";
    }
  }
  patch.alertAfter = heartbeatDeadline({ ...check, ...patch });
  return cause && patch.status !== check.status ? { patch, cause } : { patch };
}

/**
 * The ping cache (EngineState.pingChecks) holds heartbeat rows this process or isolate wrote last, so a
 * ping to a check needs no read before its write. Safe because every state write replaces the row's
 * `cas`: if anything changed the check since (a tick, an API update, another process), the compare-and-set
 * fails and the ping re-reads. Only pings that change state use it; pings that would be ignored or only
 * logged read the row fresh, since their meaning depends on settings and they write nothing the
 * compare-and-set could catch.
 */
function cachedCheck(state: EngineState, checkId: string, now: number): PingCheck | undefined {
  return state.pingChecks.get(checkId, now) as PingCheck | undefined;
}

function remember(state: EngineState, check: PingCheck, now: number): void {
  state.pingChecks.set(check.id, check, now);
}

/** Drops a check from the ping cache (after API changes in this process, so they apply at once). */
export function forgetPingCheck(state: EngineState, checkId: string): void {
  state.pingChecks.delete(checkId);
}

/** Pings to one check from this process or isolate take turns (EngineState.pingTurns). */
export async function recordPing(
  db: Db,
  clock: Clock,
  state: EngineState,
  input: PingInput,
): Promise<PingOutcome> {
  const key =
    "checkId" in input.target ? input.target.checkId : `${input.target.pingKey}/${input.target.slug}`;
  // Turns keep compare-and-set writes to one check from retrying round after round. A ping the cached row
  // says is plain and keeps the status needs none: such pings to one check land together (ping-writer.ts
  // folds them into one move of the check), where turns would cost one commit per ping.
  // A look ahead: recordPingNow reads the cache (and counts the lookup) itself.
  const cached =
    "checkId" in input.target
      ? (state.pingChecks.peek(input.target.checkId, clock.now()) as PingCheck | undefined)
      : undefined;
  if (cached && plainAndSteady(cached, input, clock.now())) return recordPingNow(db, clock, state, input);
  return state.pingTurns.run(key, () => recordPingNow(db, clock, state, input));
}

/** Whether a ping would take the plain fast path on `check` without changing its status. */
function plainAndSteady(check: PingCheck, input: PingInput, now: number): boolean {
  const kind = pingKindFor(check, input);
  if (kind !== "success" && kind !== "fail") return false;
  if (check.lastStartAt !== null || check.bodyKeywords !== null || check.minIntervalSec !== null)
    return false;
  const next = pingState(check, kind, input, now, null);
  return (next.patch.status ?? check.status) === check.status;
}

async function recordPingNow(
  db: Db,
  clock: Clock,
  state: EngineState,
  input: PingInput,
): Promise<PingOutcome> {
  const now = clock.now();
  const cached = "checkId" in input.target ? cachedCheck(state, input.target.checkId, now) : undefined;
  const found = cached ? { check: cached, created: false } : await findTarget(db, clock, input.target);
  if (found === "not_found" || found === "ambiguous") return { result: found };
  let check = found.check;
  let fresh = !cached;
  const outcome = { result: found.created ? "created" : "ok", checkId: check.id } as const;

  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const kind = pingKindFor(check, input);
    if (!fresh && (kind === "log" || kind === "ignored")) {
      const reread = await readPingCheck(db, check.id);
      if (!reread) return { result: "not_found" };
      check = reread;
      fresh = true;
      continue;
    }
    const durationMs =
      kind === "success" || kind === "fail"
        ? await runStartedAt(db, check, input.rid, now).then((at) => (at === null ? null : now - at))
        : null;
    const problem =
      kind === "success" ? successProblem(check, durationMs, await previousSuccessAt(db, check), now) : null;
    const slow = kind === "success" && problem === null ? await slowRun(db, check, durationMs) : null;
    if (kind === "log" || kind === "ignored") {
      await db.insert(pings).values({
        projectId: check.projectId,
        checkId: check.id,
        kind,
        exitStatus: input.exitStatus,
        rid: input.rid,
        method: input.method,
        body: input.body,
        userAgent: input.userAgent,
        remoteAddr: input.remoteAddr,
        at: now,
      });
      return outcome;
    }
    const next = pingState(check, kind, input, now, problem, slow);
    if ((next.patch.status ?? check.status) === check.status) {
      // Deadlines move, status stays: the grouped fast path (no flip, incident or uptime to write).
      const after = { ...check, ...next.patch };
      // Keywords and "runs too often" make the outcome depend on more than the row's cadence: no shortcut.
      const plain =
        (kind === "success" || kind === "fail") &&
        check.lastStartAt === null &&
        check.bodyKeywords === null &&
        check.minIntervalSec === null;
      const token = await writePing(db, state, {
        checkId: check.id,
        projectId: check.projectId,
        oldCas: check.cas,
        plain: plain
          ? {
              status: check.status,
              periodSec: check.periodSec,
              graceSec: check.graceSec,
              schedule: check.schedule,
              tz: check.tz,
              postOnly: check.postOnly,
              keepPaused: check.keepPaused,
            }
          : null,
        lastPingAt: after.lastPingAt,
        nextDueAt: after.nextDueAt,
        alertAfter: after.alertAfter ?? null,
        lastStartAt: after.lastStartAt,
        lastStartRid: after.lastStartRid,
        now,
        ping: {
          kind,
          exitStatus: input.exitStatus,
          rid: input.rid,
          durationMs,
          method: input.method,
          body: input.body,
          userAgent: input.userAgent,
          remoteAddr: input.remoteAddr,
        },
      });
      if (token) {
        remember(state, { ...after, cas: token }, now);
        if (kind === "success" && durationMs !== null)
          await recordRunDuration(db, state, check, now, durationMs);
        return outcome;
      }
    } else {
      const written = await writeCheckState(
        db,
        {
          check,
          now,
          ...next,
          inserts: [
            {
              table: "pings",
              values: {
                project_id: check.projectId,
                check_id: check.id,
                kind,
                exit_status: input.exitStatus,
                rid: input.rid,
                duration_ms: durationMs,
                method: input.method,
                body: input.body,
                user_agent: input.userAgent,
                remote_addr: input.remoteAddr,
                at: now,
              },
            },
          ],
          upkeep: occasionalPrune("pings", check.id),
        },
        state,
      );
      if (written) {
        remember(state, written, now);
        if (kind === "success" && durationMs !== null)
          await recordRunDuration(db, state, check, now, durationMs);
        return outcome;
      }
    }
    forgetPingCheck(state, check.id);
    const reread = await readPingCheck(db, check.id);
    if (!reread) return { result: "not_found" };
    check = reread;
    fresh = true;
  }
  throw new ConflictError("the check is changing too often to record this ping; try again");
}
