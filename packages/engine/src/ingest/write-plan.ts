/**
 * The write side of ingest: what one batch stores, as rows, and how any number of such plans are written
 * in one transaction with a handful of multi-row statements. SQL is written by hand here because this is
 * the hottest path in the server: building these statements through the query builder cost more CPU than
 * SQLite spent executing them (measured in bench/ingest.ts).
 */

import type { BackupCheck, BackupDrill, BackupRun, LogEntry, StateSnapshot } from "@vigil/contract";
import type { Db, InStatement } from "@vigil/db";
import { type EngineState, leaderDb } from "../engine-state.ts";
import { GroupCommit } from "../group-commit.ts";

import type { StateChange } from "./state-changes.ts";

const HOUR = 3_600_000;

export interface WritePlan {
  projectId: string;
  hostId: string;
  batchId: string;
  receivedAt: number;
  summary: Record<string, number>;
  /** [series id, ts, value] */
  samples: [number, number, number][];
  logs: LogEntry[];
  backups: BackupRun[];
  backupChecks: BackupCheck[];
  backupDrills: BackupDrill[];
  state?: StateSnapshot & { notes: unknown[] };
  events: (StateChange & { at: number })[];
  facts?: Record<string, unknown>;
  machineId?: string;
}

/** One multi-row INSERT per chunk of rows; `prefix` ends with VALUES, `suffix` may add ON CONFLICT. */
function insertRows(out: InStatement[], prefix: string, rows: unknown[][], suffix = "", chunk = 300): void {
  if (rows.length === 0) return;
  const width = rows[0]?.length ?? 0;
  const tuple = `(${Array(width).fill("?").join(",")})`;
  for (let i = 0; i < rows.length; i += chunk) {
    const part = rows.slice(i, i + chunk);
    out.push({ sql: `${prefix} ${part.map(() => tuple).join(",")} ${suffix}`, args: part.flat() as never });
  }
}

const json = (value: unknown) => (value === undefined || value === null ? null : JSON.stringify(value));

/**
 * Stores points of series: the samples (a repeat of a (series, ts) is ignored), each series' newest value,
 * and the (owner, hour) marks that tell the scheduler which rollups to recompute.
 */
export function sampleStatements(
  out: InStatement[],
  groups: readonly { rollupKey: string; samples: readonly [number, number, number][] }[],
): void {
  insertRows(
    out,
    "insert into samples (series_id, ts, value) values",
    groups.flatMap((g) => g.samples),
    "on conflict do nothing",
    500,
  );

  // Each series' newest value, across every group.
  const latest = new Map<number, [number, number]>();
  for (const g of groups) {
    for (const [id, ts, value] of g.samples) {
      const cur = latest.get(id);
      if (!cur || ts >= cur[0]) latest.set(id, [ts, value]);
    }
  }
  const latestRows = [...latest].map(([id, [ts, value]]) => [id, ts, value]);
  for (let i = 0; i < latestRows.length; i += 300) {
    const part = latestRows.slice(i, i + 300);
    out.push({
      sql: `update series set last_ts = v.column2, last_value = v.column3
            from (values ${part.map(() => "(?,?,?)").join(",")}) as v
            where series.id = v.column1 and (series.last_ts is null or series.last_ts <= v.column2)`,
      args: part.flat() as never,
    });
  }

  const dirty = new Set<string>();
  for (const g of groups)
    for (const [, ts] of g.samples) dirty.add(`${g.rollupKey}\u0000${Math.floor(ts / HOUR) * HOUR}`);
  insertRows(
    out,
    "insert into rollup_dirty (host_id, hour) values",
    [...dirty].map((key) => {
      const [owner, hour] = key.split("\u0000");
      return [owner, Number(hour)];
    }),
    "on conflict do nothing",
  );
}

type BackupRepository = BackupCheck["repository"];

/** The repository row a check or drill belongs to: made on first sight, its description kept current. */
function repositoryUpsert(p: WritePlan, name: string, tool: string, repo: BackupRepository, at: number) {
  return {
    // Only a result at least as new as the newest check seen rewrites the description (spooled results
    // arrive late); a repository id once known is kept when a failed check could not read it.
    sql: `insert into backup_repositories (project_id, host_id, name, tool, location, repo_id, kind, site, created_at)
          values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
          on conflict (host_id, name) do update set tool = excluded.tool, location = excluded.location,
            repo_id = coalesce(excluded.repo_id, backup_repositories.repo_id), kind = excluded.kind, site = excluded.site
          where coalesce(backup_repositories.last_check_at, 0) <= ?9`,
    args: [
      p.projectId,
      p.hostId,
      name,
      tool,
      repo.location,
      repo.id ?? null,
      repo.kind ?? null,
      repo.site ?? null,
      at,
    ],
  };
}

const REPOSITORY = "(select id from backup_repositories where host_id = ? and name = ?)";

/**
 * Repository checks and restore drills: the repository row (made on first sight), the result as history,
 * and the newest result's figures copied onto the repository. A late result older than the newest only adds
 * history, and moves "last ok" forward if it is later than the one held.
 */
function backupAssuranceStatements(out: InStatement[], p: WritePlan): void {
  for (const c of p.backupChecks) {
    out.push(repositoryUpsert(p, c.name, c.tool, c.repository, c.endedAt));
    out.push({
      sql: `insert into backup_checks (project_id, repository_id, status, started_at, ended_at, exit_code,
              read_data_subset, output, size_bytes, snapshot_count, newest_snapshot_at)
            values (?, ${REPOSITORY}, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      args: [
        p.projectId,
        p.hostId,
        c.name,
        c.status,
        c.startedAt,
        c.endedAt,
        c.exitCode ?? null,
        c.readDataSubset ?? null,
        c.output ?? null,
        c.sizeBytes ?? null,
        c.snapshotCount ?? null,
        c.newestSnapshotAt ?? null,
      ],
    });
    // A check that could not list the snapshots keeps the figures and sources of the last one that could.
    const listed = c.snapshotCount !== undefined;
    out.push({
      sql: `update backup_repositories set last_check_at = ?1, last_check_status = ?2, last_check_output = ?3,
              retention = coalesce(?4, retention), size_bytes = coalesce(?5, size_bytes),
              snapshot_count = coalesce(?6, snapshot_count),
              newest_snapshot_at = case when ?10 then ?7 else newest_snapshot_at end,
              oldest_snapshot_at = case when ?10 then ?8 else oldest_snapshot_at end,
              sources = case when ?10 then ?9 else sources end
            where host_id = ?11 and name = ?12 and coalesce(last_check_at, 0) <= ?1`,
      args: [
        c.endedAt,
        c.status,
        c.output ?? null,
        c.retention ?? null,
        c.sizeBytes ?? null,
        c.snapshotCount ?? null,
        c.newestSnapshotAt ?? null,
        c.oldestSnapshotAt ?? null,
        JSON.stringify(c.sources),
        listed ? 1 : 0,
        p.hostId,
        c.name,
      ],
    });
    if (c.status === "ok")
      out.push({
        sql: `update backup_repositories set last_ok_check_at = max(coalesce(last_ok_check_at, 0), ?)
              where host_id = ? and name = ?`,
        args: [c.endedAt, p.hostId, c.name],
      });
  }
  for (const d of p.backupDrills) {
    out.push(repositoryUpsert(p, d.name, d.tool, d.repository, 0));
    out.push({
      sql: `insert into backup_drills (project_id, repository_id, status, started_at, ended_at, snapshot_id,
              snapshot_at, files, bytes, mismatched, missing, canary, output)
            values (?, ${REPOSITORY}, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      args: [
        p.projectId,
        p.hostId,
        d.name,
        d.status,
        d.startedAt,
        d.endedAt,
        d.snapshotId ?? null,
        d.snapshotAt ?? null,
        d.files,
        d.bytes,
        d.mismatched,
        d.missing,
        d.canary === undefined ? null : d.canary ? 1 : 0,
        d.output ?? null,
      ],
    });
    out.push({
      sql: `update backup_repositories set last_drill_at = ?1, last_drill_status = ?2, last_drill_output = ?3,
              last_drill_files = ?4, last_drill_bytes = ?5
            where host_id = ?6 and name = ?7 and coalesce(last_drill_at, 0) <= ?1`,
      args: [d.endedAt, d.status, d.output ?? null, d.files, d.bytes, p.hostId, d.name],
    });
    if (d.status === "ok")
      out.push({
        sql: `update backup_repositories set last_ok_drill_at = max(coalesce(last_ok_drill_at, 0), ?)
              where host_id = ? and name = ?`,
        args: [d.endedAt, p.hostId, d.name],
      });
  }
}

/** The statements that store `plans`, in order; the batch markers come first so a repeat fails early. */
export function planStatements(plans: readonly WritePlan[]): InStatement[] {
  const out: InStatement[] = [];
  insertRows(
    out,
    "insert into ingested_batches (host_id, batch_id, project_id, received_at, summary) values",
    plans.map((p) => [p.hostId, p.batchId, p.projectId, p.receivedAt, JSON.stringify(p.summary)]),
  );
  sampleStatements(
    out,
    plans.map((p) => ({ rollupKey: p.hostId, samples: p.samples })),
  );

  insertRows(
    out,
    "insert into log_entries (project_id, host_id, ts, priority, unit, identifier, message, pid, boot_id, fields) values",
    plans.flatMap((p) =>
      p.logs.map((l) => [
        p.projectId,
        p.hostId,
        l.ts,
        l.priority,
        l.unit ?? null,
        l.identifier ?? null,
        l.message,
        l.pid ?? null,
        l.bootId ?? null,
        json(l.fields),
      ]),
    ),
    "",
    200,
  );
  insertRows(
    out,
    `insert into backup_runs (project_id, host_id, name, tool, status, started_at, ended_at, exit_code, snapshot_id,
       files_new, files_changed, files_unmodified, bytes_added, bytes_processed, error) values`,
    plans.flatMap((p) =>
      p.backups.map((b) => [
        p.projectId,
        p.hostId,
        b.name,
        b.tool,
        b.status,
        b.startedAt,
        b.endedAt,
        b.exitCode ?? null,
        b.snapshotId ?? null,
        b.filesNew ?? null,
        b.filesChanged ?? null,
        b.filesUnmodified ?? null,
        b.bytesAdded ?? null,
        b.bytesProcessed ?? null,
        b.error ?? null,
      ]),
    ),
  );
  for (const p of plans) backupAssuranceStatements(out, p);
  for (const p of plans) {
    if (!p.state) continue;
    out.push({
      sql: `insert into host_state (host_id, project_id, collected_at, snapshot) values (?, ?, ?, ?)
            on conflict (host_id) do update set collected_at = excluded.collected_at, snapshot = excluded.snapshot
            where excluded.collected_at >= host_state.collected_at`,
      args: [p.hostId, p.projectId, p.state.collectedAt, JSON.stringify(p.state)],
    });
  }
  insertRows(
    out,
    "insert into host_events (project_id, host_id, at, kind, message, details) values",
    plans.flatMap((p) =>
      p.events.map((e) => [p.projectId, p.hostId, e.at, e.kind, e.message, JSON.stringify(e.details)]),
    ),
  );
  // Every host's last-seen in one statement; facts only where a plan carries them (rare: on change).
  const seen = new Map<string, [string, number]>();
  for (const p of plans)
    seen.set(p.hostId, [p.projectId, Math.max(p.receivedAt, seen.get(p.hostId)?.[1] ?? 0)]);
  const seenRows = [...seen].map(([hostId, [projectId, at]]) => [hostId, projectId, at]);
  out.push({
    sql: `update hosts set last_seen_at = max(coalesce(last_seen_at, 0), v.column3)
          from (values ${seenRows.map(() => "(?,?,?)").join(",")}) as v
          where hosts.id = v.column1 and hosts.project_id = v.column2`,
    args: seenRows.flat() as never,
  });
  for (const p of plans) {
    if (!p.facts && !p.machineId) continue;
    out.push({
      // A batch names a machine id only for a host that has none yet, and never one another host of the
      // project has: otherwise a probe could claim another host's identity for the next enrollment.
      sql: `update hosts set facts = coalesce(?1, facts),
              machine_id = coalesce(machine_id, (select ?2 where not exists
                (select 1 from hosts other where other.project_id = ?4 and other.machine_id = ?2)))
            where id = ?3 and project_id = ?4`,
      args: [json(p.facts), p.machineId ?? null, p.hostId, p.projectId],
    });
  }
  // A host check that is down becomes due now, so the next tick sees the host is back, not the next re-check.
  out.push({
    sql: `update checks set alert_after = v.column3
          from (values ${seenRows.map(() => "(?,?,?)").join(",")}) as v
          where checks.host_id = v.column1 and checks.project_id = v.column2 and checks.status = 'down'`,
    args: seenRows.flat() as never,
  });
  return out;
}

/** Writes every plan in one transaction: all of it or none of it. */
export async function writePlans(db: Db, plans: readonly WritePlan[]): Promise<void> {
  await db.$client.batch(planStatements(plans), "write");
}

/**
 * Writes one plan, group-committed with the plans of other batches in flight: concurrent probes share
 * transactions and statements. A group that fails (a repeated batch id fails the whole transaction) is
 * replayed plan by plan, so only the repeat fails.
 */
export function commitPlan(db: Db, state: EngineState, plan: WritePlan): Promise<void> {
  const committer = state.committer<WritePlan, undefined>(
    "batches",
    db,
    () =>
      new GroupCommit(
        async (items) => {
          await writePlans(
            leaderDb(items),
            items.map((i) => i.item),
          );
          return items.map(() => undefined);
        },
        { maxGroup: 64, replay: true },
      ),
  );
  return committer.submit({ db, item: plan });
}
