/**
 * The fast path for the commonest write in Vigil: a ping that moves a heartbeat's deadlines but not its
 * status (an up check pinged on time). Pings arriving together are written with three statements per
 * group instead of two per ping, because each statement through the libSQL client costs tens of
 * microseconds however small it is:
 * 1. one UPDATE … FROM (VALUES …) that moves every check whose `cas` is still the one its ping read, or,
 *    for a plain ping, whose status and settings are still those its new deadlines were computed from;
 * 2. one INSERT … SELECT of the ping rows, each kept only if its check now carries that ping's new token;
 * 3. one SELECT of the tokens, telling each ping whether it won. A loser (another writer changed the
 *    check, or two compare-and-set pings to one check in one group) wrote nothing and takes the general
 *    path. Plain pings to one check in one group are folded into one move of the check (foldedTokens).
 * Status changes never come here: they need flips, incidents and uptime (see state.ts).
 */
import type { Db } from "@vigil/db";
import { type EngineState, leaderDb } from "../engine-state.ts";
import { GroupCommit } from "../group-commit.ts";
import type { Statement } from "../statement.ts";
import { newCasToken, occasionalPrune } from "./state.ts";

type Value = string | number | null;

/**
 * What a plain ping's write depends on: a success or fail with no run open that keeps the status, to a check
 * without body keywords or a minimum interval (their outcome depends on the body or on history). Its new
 * fields follow from these and the time alone, so it may land whatever else changed the row meanwhile
 * (another process's plain ping to the same check, above all: a job run by a fleet of servers pings one
 * check from all of them at once). Compare-and-set on `cas` alone would make all but one of them re-read
 * and retry, round after round.
 */
export interface PlainPing {
  status: string;
  periodSec: number | null;
  graceSec: number | null;
  schedule: string | null;
  tz: string;
  postOnly: boolean;
  keepPaused: boolean;
}

export interface PingWrite {
  checkId: string;
  projectId: string;
  oldCas: string;
  /** set for a plain ping: the write also lands while the row still matches this */
  plain: PlainPing | null;
  /** the check's heartbeat fields after the ping */
  lastPingAt: number | null;
  nextDueAt: number | null;
  alertAfter: number | null;
  lastStartAt: number | null;
  lastStartRid: string | null;
  now: number;
  ping: {
    kind: string;
    exitStatus: number | null;
    rid: string | null;
    durationMs: number | null;
    method: string;
    body: string | null;
    userAgent: string | null;
    remoteAddr: string | null;
  };
}

/** Rows per group: keeps each statement well under SQLite's limit of bound parameters. */
const MAX_GROUP = 200;

const placeholders = (rows: number, columns: number) =>
  Array.from({ length: rows }, () => `(${Array.from({ length: columns }, () => "?").join(", ")})`).join(", ");

type Item = { write: PingWrite; token: string };

/**
 * The token each ping of a group should find on its check once the group is written. Plain pings to one
 * check in the same group are folded: they share the token of the latest of them, whose deadlines the
 * check takes; every one of them is stored as a ping. Their outcome follows from the time and the row's
 * cadence alone, so writing the latest is what writing them one after the other would leave. Without the
 * fold, one UPDATE … FROM would pick an arbitrary row per check and the rest would retry one by one: a
 * check pinged by a whole fleet at once would take one commit per ping.
 */
export function foldedTokens(group: Item[]): string[] {
  const latest = new Map<string, Item | null>();
  for (const item of group) {
    const { checkId, plain, now } = item.write;
    const seen = latest.get(checkId);
    if (seen === undefined) latest.set(checkId, plain ? item : null);
    else if (seen && plain) {
      if (now >= seen.write.now) latest.set(checkId, item);
    } else latest.set(checkId, null); // a compare-and-set write among them: no fold
  }
  return group.map((item) => latest.get(item.write.checkId)?.token ?? item.token);
}

export function pingGroupStatements(group: Item[], tokens = foldedTokens(group)): Statement[] {
  const updateArgs: Value[] = [];
  const insertArgs: Value[] = [];
  const prunes: Statement[] = [];
  let rows = 0;
  for (const [i, { write: w, token: own }] of group.entries()) {
    const token = tokens[i] ?? own;
    const p = w.ping;
    insertArgs.push(w.projectId, w.checkId, p.kind, p.exitStatus, p.rid, p.durationMs, p.method, p.body);
    insertArgs.push(p.userAgent, p.remoteAddr, w.now, token);
    // A folded ping's check is moved once, by the ping whose token they share.
    if (token !== own) continue;
    rows++;
    prunes.push(...occasionalPrune("pings", w.checkId));
    updateArgs.push(
      w.checkId,
      w.projectId,
      w.oldCas,
      token,
      w.lastPingAt,
      w.nextDueAt,
      w.alertAfter,
      w.lastStartAt,
    );
    updateArgs.push(w.lastStartRid, w.now);
    const p0 = w.plain;
    updateArgs.push(
      p0 ? 1 : 0,
      p0?.status ?? null,
      p0?.periodSec ?? null,
      p0?.graceSec ?? null,
      p0?.schedule ?? null,
      p0?.tz ?? null,
      p0 ? Number(p0.postOnly) : null,
      p0 ? Number(p0.keepPaused) : null,
    );
  }
  const ids = [...new Set(group.map((g) => g.write.checkId))];
  return [
    {
      sql: `with v(id, project_id, old_cas, new_cas, last_ping_at, next_due_at, alert_after, last_start_at, last_start_rid,
              updated_at, plain, status, period_sec, grace_sec, schedule, tz, post_only, keep_paused)
              as (values ${placeholders(rows, 18)})
            update checks set last_ping_at = v.last_ping_at, next_due_at = v.next_due_at,
              alert_after = v.alert_after, last_start_at = v.last_start_at, last_start_rid = v.last_start_rid,
              updated_at = v.updated_at, cas = v.new_cas
            from v where checks.id = v.id and checks.project_id = v.project_id and (checks.cas = v.old_cas
              or (v.plain = 1 and checks.status = v.status and checks.last_start_at is null
                and checks.period_sec is v.period_sec and checks.grace_sec is v.grace_sec
                and checks.schedule is v.schedule and checks.tz = v.tz and checks.post_only = v.post_only
                and checks.keep_paused = v.keep_paused and checks.body_keywords is null
                and checks.min_interval_sec is null))`,
      args: updateArgs,
    },
    {
      sql: `with p(project_id, check_id, kind, exit_status, rid, duration_ms, method, body, user_agent,
              remote_addr, at, new_cas) as (values ${placeholders(group.length, 12)})
            insert into pings (project_id, check_id, kind, exit_status, rid, duration_ms, method, body,
              user_agent, remote_addr, at)
            select project_id, check_id, kind, exit_status, rid, duration_ms, method, body, user_agent,
              remote_addr, at
            from p where exists (select 1 from checks c where c.id = p.check_id and c.cas = p.new_cas)`,
      args: insertArgs,
    },
    ...prunes,
    { sql: `select id, cas from checks where id in (${ids.map(() => "?").join(", ")})`, args: ids },
  ];
}

/**
 * Writes a status-preserving ping, group-committed with the others in flight. Resolves with the check's
 * new token when the write won, null when it lost (nothing written). A failed group fails all its pings:
 * each caller then takes the general path.
 */
export function writePing(db: Db, state: EngineState, write: PingWrite): Promise<string | null> {
  const committer = state.committer<{ write: PingWrite; token: string }, string | null>(
    "pings",
    db,
    () =>
      new GroupCommit(
        async (group) => {
          const items = group.map((g) => g.item);
          const expected = foldedTokens(items);
          const results = await leaderDb(group).$client.batch(pingGroupStatements(items, expected), "write");
          const tokens = new Map((results.at(-1)?.rows ?? []).map((r) => [String(r.id), String(r.cas)]));
          return items.map((item, i) =>
            tokens.get(item.write.checkId) === expected[i] ? (expected[i] ?? null) : null,
          );
        },
        { maxGroup: MAX_GROUP, replay: false },
      ),
  );
  return committer.submit({ db, item: { write, token: newCasToken() } });
}
