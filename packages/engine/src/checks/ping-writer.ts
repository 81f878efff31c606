/**
 * The fast path for the commonest write in Vigil: a ping that moves a heartbeat's deadlines but not its
 * status (an up check pinged on time). Pings arriving together are written with three statements per
 * group instead of two per ping, because each statement through the libSQL client costs tens of
 * microseconds however small it is:
 * 1. one UPDATE … FROM (VALUES …) that moves every check whose `cas` is still the one its ping read;
 * 2. one INSERT … SELECT of the ping rows, each kept only if its check now carries that ping's new token;
 * 3. one SELECT of the tokens, telling each ping whether it won. A loser (another writer changed the
 *    check, or two pings to one check in one group) wrote nothing and takes the general path.
 * Status changes never come here: they need flips, incidents and uptime (see state.ts).
 */
import type { Db } from "@vigil/db";
import { committerFor, GroupCommit } from "../group-commit.ts";
import { newCasToken, occasionalPrune, type Statement } from "./state.ts";

type Value = string | number | null;

export interface PingWrite {
  checkId: string;
  projectId: string;
  oldCas: string;
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

export function pingGroupStatements(group: { write: PingWrite; token: string }[]): Statement[] {
  const updateArgs: Value[] = [];
  const insertArgs: Value[] = [];
  const prunes: Statement[] = [];
  for (const { write: w, token } of group) {
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
    const p = w.ping;
    insertArgs.push(w.projectId, w.checkId, p.kind, p.exitStatus, p.rid, p.durationMs, p.method, p.body);
    insertArgs.push(p.userAgent, p.remoteAddr, w.now, token);
    prunes.push(...occasionalPrune("pings", w.checkId));
  }
  const ids = group.map((g) => g.write.checkId);
  return [
    {
      sql: `with v(id, project_id, old_cas, new_cas, last_ping_at, next_due_at, alert_after, last_start_at, last_start_rid,
              updated_at) as (values ${placeholders(group.length, 10)})
            update checks set last_ping_at = v.last_ping_at, next_due_at = v.next_due_at,
              alert_after = v.alert_after, last_start_at = v.last_start_at, last_start_rid = v.last_start_rid,
              updated_at = v.updated_at, cas = v.new_cas
            from v where checks.id = v.id and checks.project_id = v.project_id and checks.cas = v.old_cas`,
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

const pingCommitters = new WeakMap<
  Db["$client"],
  GroupCommit<{ write: PingWrite; token: string }, string | null>
>();

/**
 * Writes a status-preserving ping, group-committed with the others in flight. Resolves with the check's
 * new token when the write won, null when it lost (nothing written). A failed group fails all its pings:
 * each caller then takes the general path.
 */
export function writePing(db: Db, write: PingWrite): Promise<string | null> {
  const committer = committerFor(
    pingCommitters,
    db,
    () =>
      new GroupCommit<{ write: PingWrite; token: string }, string | null>(
        async (group) => {
          const results = await db.$client.batch(pingGroupStatements(group), "write");
          const tokens = new Map((results.at(-1)?.rows ?? []).map((r) => [String(r.id), String(r.cas)]));
          return group.map((g) => (tokens.get(g.write.checkId) === g.token ? g.token : null));
        },
        { maxGroup: MAX_GROUP, replay: false },
      ),
  );
  return committer.submit({ write, token: newCasToken() });
}
