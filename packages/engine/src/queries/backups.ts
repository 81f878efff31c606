import type { BackupOverview } from "@vigil/contract";
import { backupRuns, type Db, hosts } from "@vigil/db";
import { and, asc, desc, eq, sql } from "drizzle-orm";
import type { Clock } from "../clock.ts";
import { ruleCoversHost } from "../rules/evaluate.ts";
import { listRuleRows } from "../rules/rules.ts";

export interface BackupRunOut {
  id: number;
  name: string;
  tool: string;
  status: "success" | "failure";
  startedAt: number;
  endedAt: number;
  durationMs: number;
  exitCode: number | null;
  snapshotId: string | null;
  filesNew: number | null;
  filesChanged: number | null;
  bytesAdded: number | null;
  bytesProcessed: number | null;
  error: string | null;
}

export interface BackupSummary {
  name: string;
  lastStatus: "success" | "failure";
  lastRunAt: number;
  lastSuccessAt: number | null;
  lastFailureAt: number | null;
  runs: number;
}

function toRun(r: typeof backupRuns.$inferSelect): BackupRunOut {
  return {
    id: r.id,
    name: r.name,
    tool: r.tool,
    status: r.status,
    startedAt: r.startedAt,
    endedAt: r.endedAt,
    durationMs: r.endedAt - r.startedAt,
    exitCode: r.exitCode,
    snapshotId: r.snapshotId,
    filesNew: r.filesNew,
    filesChanged: r.filesChanged,
    bytesAdded: r.bytesAdded,
    bytesProcessed: r.bytesProcessed,
    error: r.error,
  };
}

/** Per group of backup runs: the newest run's end, the newest success's and failure's, and the count. */
export const backupRunFigures = {
  lastRunAt: sql<number>`max(${backupRuns.endedAt})`,
  lastSuccessAt: sql<
    number | null
  >`max(case when ${backupRuns.status} = 'success' then ${backupRuns.endedAt} end)`,
  lastFailureAt: sql<
    number | null
  >`max(case when ${backupRuns.status} = 'failure' then ${backupRuns.endedAt} end)`,
  runs: sql<number>`count(*)`,
};

/** A host's backups: one summary per backup name (last success, last failure) and the recent runs. */
export async function listBackups(
  db: Db,
  projectId: string,
  hostId: string,
  limit = 100,
): Promise<{ backups: BackupSummary[]; runs: BackupRunOut[] }> {
  const scope = and(eq(backupRuns.projectId, projectId), eq(backupRuns.hostId, hostId));
  const summaries = await db
    .select({
      name: backupRuns.name,
      ...backupRunFigures,
    })
    .from(backupRuns)
    .where(scope)
    .groupBy(backupRuns.name)
    .orderBy(backupRuns.name);
  const runs = await db
    .select()
    .from(backupRuns)
    .where(scope)
    .orderBy(desc(backupRuns.endedAt), desc(backupRuns.id))
    .limit(limit);
  return {
    backups: summaries.map((s) => ({
      name: s.name,
      lastRunAt: Number(s.lastRunAt),
      lastSuccessAt: s.lastSuccessAt === null ? null : Number(s.lastSuccessAt),
      lastFailureAt: s.lastFailureAt === null ? null : Number(s.lastFailureAt),
      lastStatus:
        s.lastFailureAt !== null &&
        (s.lastSuccessAt === null || Number(s.lastFailureAt) > Number(s.lastSuccessAt))
          ? "failure"
          : "success",
      runs: Number(s.runs),
    })),
    runs: runs.map(toRun),
  };
}

const HOUR = 3_600_000;

/**
 * Every backup name of every host in a project, for the dashboard's backups screen:
 * 1. one summary per (host, name): last run, last success, last failure, number of runs;
 * 2. the last run of each, for its size, duration and error;
 * 3. the enabled backup rules covering each (scope and name), whose tightest `maxAgeHours` is the
 *    interval the backup is expected within; staleness is the last success's age against it.
 */
export async function listProjectBackups(db: Db, clock: Clock, projectId: string): Promise<BackupOverview[]> {
  const scope = eq(backupRuns.projectId, projectId);
  const summaries = await db
    .select({
      hostId: backupRuns.hostId,
      name: backupRuns.name,
      ...backupRunFigures,
    })
    .from(backupRuns)
    .where(scope)
    .groupBy(backupRuns.hostId, backupRuns.name);
  if (summaries.length === 0) return [];

  const latest = db
    .select({
      hostId: backupRuns.hostId,
      name: backupRuns.name,
      endedAt: sql<number>`max(${backupRuns.endedAt})`.as("latest_ended_at"),
    })
    .from(backupRuns)
    .where(scope)
    .groupBy(backupRuns.hostId, backupRuns.name)
    .as("latest");
  const lastRuns = await db
    .select({ run: backupRuns })
    .from(backupRuns)
    .innerJoin(
      latest,
      and(
        eq(backupRuns.hostId, latest.hostId),
        eq(backupRuns.name, latest.name),
        eq(backupRuns.endedAt, latest.endedAt),
      ),
    )
    .where(scope)
    .orderBy(asc(backupRuns.id));
  // Two runs ending in the same millisecond: the one stored last wins.
  const lastRunOf = new Map(lastRuns.map(({ run }) => [`${run.hostId}\n${run.name}`, run]));

  const hostRows = await db.query.hosts.findMany({
    where: eq(hosts.projectId, projectId),
    columns: { id: true, name: true, tags: true },
  });
  const hostOf = new Map(hostRows.map((h) => [h.id, h]));
  const backupRules = (await listRuleRows(db, clock, projectId)).filter(
    (r) => r.kind === "backup" && r.enabled,
  );
  const now = clock.now();

  return summaries
    .map((s) => {
      const host = hostOf.get(s.hostId);
      const run = lastRunOf.get(`${s.hostId}\n${s.name}`);
      const ages = backupRules
        .filter((r) => {
          const p = r.params as { name?: string | null };
          return (
            host &&
            ruleCoversHost(r, {
              projectId,
              hostId: host.id,
              name: host.name,
              tags: host.tags,
              cpuCount: null,
            }) &&
            (p.name === null || p.name === undefined || p.name === s.name)
          );
        })
        .map((r) => Number((r.params as { maxAgeHours?: number }).maxAgeHours))
        .filter((h) => Number.isFinite(h));
      const maxAgeHours = ages.length > 0 ? Math.min(...ages) : null;
      const lastSuccessAt = s.lastSuccessAt === null ? null : Number(s.lastSuccessAt);
      const lastFailureAt = s.lastFailureAt === null ? null : Number(s.lastFailureAt);
      return {
        hostId: s.hostId,
        hostName: host?.name ?? s.hostId,
        name: s.name,
        tool: run?.tool ?? "other",
        lastStatus:
          lastFailureAt !== null && (lastSuccessAt === null || lastFailureAt > lastSuccessAt)
            ? ("failure" as const)
            : ("success" as const),
        lastRunAt: Number(s.lastRunAt),
        lastSuccessAt,
        lastFailureAt,
        runs: Number(s.runs),
        lastRun: {
          durationMs: run ? run.endedAt - run.startedAt : 0,
          bytesAdded: run?.bytesAdded ?? null,
          bytesProcessed: run?.bytesProcessed ?? null,
          snapshotId: run?.snapshotId ?? null,
          error: run?.error ?? null,
        },
        maxAgeHours,
        stale:
          maxAgeHours === null ? null : lastSuccessAt === null || now - lastSuccessAt > maxAgeHours * HOUR,
      };
    })
    .sort((a, b) => a.hostName.localeCompare(b.hostName) || a.name.localeCompare(b.name));
}
