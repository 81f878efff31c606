/**
 * Writing a check's state. Every write is compare-and-set on `checks.cas`, and whatever follows from it
 * (the flip, the incident, the day's uptime, the ping or run row) is in the same batch, guarded by "the
 * check now carries my new token". So two schedulers, or a ping racing a tick, can never both record the
 * same state change: the loser's batch changes nothing and it re-reads or gives up.
 */
import { type CheckRow, type CheckStatus, checks, type Db } from "@vigil/db";
import { getTableColumns } from "drizzle-orm";
import { transitionStatements } from "../alerts/transitions.ts";
import { type EngineState, leaderDb } from "../engine-state.ts";
import { GroupCommit } from "../group-commit.ts";
import type { Statement } from "../statement.ts";

type CheckColumns = Omit<CheckRow, "id" | "projectId" | "cas" | "createdAt">;
export type CheckPatch = Partial<CheckColumns>;

const DAY_MS = 86_400_000;
/** Uptime history older than this is not worth splitting a long stretch for. */
const UPTIME_HORIZON_MS = 400 * DAY_MS;

const columns = getTableColumns(checks);

export function newCasToken(): string {
  return crypto.randomUUID();
}

/** A row to insert only if the state write wins (a ping, a run). */
export interface GuardedInsert {
  table: "pings" | "check_runs";
  values: Record<string, string | number | null>;
}

/** What a state write needs to know of the row it changes. */
export type StateSubject = Pick<CheckRow, "id" | "projectId" | "cas" | "status" | "statusChangedAt">;

export interface StateWrite<T extends StateSubject = CheckRow> {
  /** the row as read: its `cas` is the expected token, its status the "from" of any flip */
  check: T;
  patch: CheckPatch;
  /** why the status changed, when it does */
  cause?: string;
  inserts?: GuardedInsert[];
  /** upkeep to run in the same commit whether or not the write wins (history pruning) */
  upkeep?: Statement[];
  now: number;
}

/** How much history a check keeps, like Healthchecks' ping log. */
export const HISTORY_PER_CHECK = 1000;
/** Pruning walks HISTORY_PER_CHECK index entries, so it rides along with one write in this many. */
const PRUNE_EVERY = 64;

/** Keeps the newest `keep` rows of a check's pings or runs (indexed by check and id). */
export function pruneStatement(
  table: "pings" | "check_runs",
  checkId: string,
  keep = HISTORY_PER_CHECK,
): Statement {
  return {
    sql: `delete from ${table} where check_id = ? and id < (select id from ${table} where check_id = ?
          order by id desc limit 1 offset ?)`,
    args: [checkId, checkId, keep - 1],
  };
}

/** Pruning for roughly one write in PRUNE_EVERY, so history stays bounded at no cost to each ping. */
export function occasionalPrune(table: "pings" | "check_runs", checkId: string): Statement[] {
  return Math.random() * PRUNE_EVERY < 1 ? [pruneStatement(table, checkId)] : [];
}

function driverValue(key: string, value: unknown): string | number | null {
  const column = (columns as Record<string, { name: string; mapToDriverValue(v: unknown): unknown }>)[key];
  if (!column) throw new Error(`unknown checks column ${key}`);
  if (value === null || value === undefined) return null;
  return column.mapToDriverValue(value) as string | number;
}

function columnName(key: string): string {
  const column = (columns as Record<string, { name: string }>)[key];
  if (!column) throw new Error(`unknown checks column ${key}`);
  return column.name;
}

/** Which uptime bucket a status's time goes to; new and paused count as neither. */
function uptimeBucket(status: CheckStatus): "up_ms" | "degraded_ms" | "down_ms" | null {
  if (status === "up" || status === "late") return "up_ms";
  if (status === "degraded") return "degraded_ms";
  if (status === "down") return "down_ms";
  return null;
}

/** Splits [from, to) at UTC midnights. */
export function splitByDay(from: number, to: number): [day: number, ms: number][] {
  const out: [number, number][] = [];
  for (let t = Math.max(from, to - UPTIME_HORIZON_MS); t < to; ) {
    const day = t - (t % DAY_MS);
    const end = Math.min(to, day + DAY_MS);
    out.push([day, end - t]);
    t = end;
  }
  return out;
}

/** Builds the batch for one state write; exported for the bench and tests of the SQL itself. */
export function stateWriteStatements(write: StateWrite<StateSubject>, token: string): Statement[] {
  const { check, patch, now } = write;
  const statusChanges = patch.status !== undefined && patch.status !== check.status;
  const full: CheckPatch = { ...patch, updatedAt: now, ...(statusChanges ? { statusChangedAt: now } : {}) };
  const keys = Object.keys(full).filter((k) => (full as Record<string, unknown>)[k] !== undefined);
  const sets = keys.map((k) => `${columnName(k)} = ?`);
  const statements: Statement[] = [
    {
      sql: `update checks set ${[...sets, "cas = ?"].join(", ")} where id = ? and project_id = ? and cas = ?`,
      args: [
        ...keys.map((k) => driverValue(k, (full as Record<string, unknown>)[k])),
        token,
        check.id,
        check.projectId,
        check.cas,
      ],
    },
  ];
  const guard = "exists (select 1 from checks where id = ? and cas = ?)";
  const guardArgs = [check.id, token];

  if (statusChanges && patch.status) {
    const to = patch.status;
    statements.push(
      ...transitionStatements({
        subjectType: "check",
        projectId: check.projectId,
        subjectId: check.id,
        from: check.status,
        to,
        cause: write.cause,
        incidentStatus: "down",
        now,
        guard,
        guardArgs,
      }),
    );
    const bucket = uptimeBucket(check.status);
    if (bucket) {
      for (const [day, spent] of splitByDay(check.statusChangedAt, now)) {
        statements.push({
          sql: `insert into uptime_daily (project_id, check_id, day, ${bucket}) select ?, ?, ?, ? where ${guard}
                on conflict (check_id, day) do update set ${bucket} = ${bucket} + excluded.${bucket}`,
          args: [check.projectId, check.id, day, spent, ...guardArgs],
        });
      }
    }
  }

  for (const insert of write.inserts ?? []) {
    const names = Object.keys(insert.values);
    // A run a probe reported before (its batch sent again) is already there: ignored, not an error.
    const verb = insert.table === "check_runs" ? "insert or ignore" : "insert";
    statements.push({
      sql: `${verb} into ${insert.table} (${names.join(", ")}) select ${names.map(() => "?").join(", ")} where ${guard}`,
      args: [...names.map((n) => insert.values[n] ?? null), ...guardArgs],
    });
    const responseMs = insert.values.response_ms;
    if (insert.table === "check_runs" && typeof responseMs === "number") {
      // The status page's sparkline reads one row per day instead of the day's runs. `changes()` is the
      // run insert's: a run ignored as a repeat does not count twice.
      const at = Number(insert.values.at ?? now);
      statements.push({
        sql: `insert into response_daily (project_id, check_id, location, day, runs, total_ms, max_ms)
              select ?, ?, ?, ?, 1, ?, ? where changes() = 1 and ${guard}
              on conflict (check_id, location, day) do update set runs = runs + 1,
              total_ms = total_ms + excluded.total_ms, max_ms = max(max_ms, excluded.max_ms)`,
        args: [
          check.projectId,
          check.id,
          insert.values.location ?? "edge",
          at - (at % DAY_MS),
          responseMs,
          responseMs,
          ...guardArgs,
        ],
      });
    }
  }
  statements.push(...(write.upkeep ?? []));
  return statements;
}

/** Writes that share one commit at most. */
const MAX_GROUP = 256;

/**
 * State writes of concurrent pings and ticks share commits. Each keeps its own compare-and-set: two writes
 * to one check in a group leave the second with a stale token, so it changes nothing and its caller
 * retries. Each item answers the rows its first statement changed (0: it lost the compare-and-set).
 */
const stateCommitter = (state: EngineState, db: Db) =>
  state.committer<Statement[], number>(
    "check-state",
    db,
    () =>
      new GroupCommit(
        async (items) => {
          const results = await leaderDb(items).$client.batch(
            items.flatMap((i) => i.item),
            "write",
          );
          let offset = 0;
          return items.map(({ item: statements }) => {
            const affected = results[offset]?.rowsAffected ?? 0;
            offset += statements.length;
            return affected;
          });
        },
        { maxGroup: MAX_GROUP, replay: true },
      ),
  );

/**
 * Applies one state write atomically. Returns the row as written, or null when another writer changed the
 * check first (nothing was written then). The hot paths (pings, ticks) pass the engine state, so concurrent
 * writes share commits; edits through the API, one at a time, are written alone.
 */
export async function writeCheckState<T extends StateSubject>(
  db: Db,
  write: StateWrite<T>,
  state?: EngineState,
): Promise<T | null> {
  const token = newCasToken();
  const statements = stateWriteStatements(write, token);
  const rowsAffected = state
    ? await stateCommitter(state, db).submit({ db, item: statements })
    : ((await db.$client.batch(statements, "write"))[0]?.rowsAffected ?? 0);
  if (rowsAffected !== 1) return null;
  const statusChanges = write.patch.status !== undefined && write.patch.status !== write.check.status;
  return {
    ...write.check,
    ...write.patch,
    updatedAt: write.now,
    ...(statusChanges ? { statusChangedAt: write.now } : {}),
    cas: token,
  };
}
