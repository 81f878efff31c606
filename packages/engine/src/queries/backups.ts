import { backupRuns, type Db } from "@vigil/db";
import { and, desc, eq, sql } from "drizzle-orm";

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
      lastRunAt: sql<number>`max(${backupRuns.endedAt})`,
      lastSuccessAt: sql<
        number | null
      >`max(case when ${backupRuns.status} = 'success' then ${backupRuns.endedAt} end)`,
      lastFailureAt: sql<
        number | null
      >`max(case when ${backupRuns.status} = 'failure' then ${backupRuns.endedAt} end)`,
      runs: sql<number>`count(*)`,
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
