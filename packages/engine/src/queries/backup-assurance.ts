/**
 * Backup assurance (issue 18): the repositories probes check, and each backed-up source graded against
 * the 3-2-1 rule (three copies, two kinds of media, one off site).
 * 1. A repository's kind and site: set in the API, else declared by the probe, else inferred from where
 *    restic says it lives (a path is a local disk, sftp/rest another host, s3/b2/azure/gs/swift object
 *    storage). Object storage is taken to be off site and everything else on site until someone says
 *    otherwise; a declaration a location's scheme contradicts is reported, not silently trusted (a bare
 *    path may be a mounted NAS or bucket, so any declaration fits it).
 * 2. Sources come from each repository's newest check (`restic snapshots`): a host name and its paths. The
 *    live data is the first copy; every repository holding the source adds one, a restic repository
 *    checked from two hosts (same repository id) counting once, and a repository whose newest check found
 *    damage not at all.
 */
import type {
  BackupMediaKind,
  BackupRepositoryOut,
  BackupSourceGrade,
  UpdateBackupRepository,
} from "@vigil/contract";
import { backupChecks, backupDrills, backupRepositories, type Db, hosts } from "@vigil/db";
import { and, desc, eq } from "drizzle-orm";
import type { Clock } from "../clock.ts";
import { NotFoundError } from "../errors.ts";

type RepositoryRow = typeof backupRepositories.$inferSelect;

const LOCATION_KINDS: [RegExp, BackupMediaKind][] = [
  [/^(\/|local:)/, "local"],
  [/^(sftp|rest):/, "host"],
  [/^(s3|b2|azure|gs|swift):/, "object"],
];

/** The medium a restic location names; null when it cannot tell (rclone, an autorestic backend name). */
export function inferBackupKind(location: string): BackupMediaKind | null {
  for (const [pattern, kind] of LOCATION_KINDS) if (pattern.test(location)) return kind;
  return null;
}

const KIND_WORDS: Record<BackupMediaKind, string> = {
  local: "a local disk",
  host: "another host",
  object: "object storage",
  other: "other storage",
};

function describe(row: RepositoryRow, hostName: string, sizes?: readonly number[]): BackupRepositoryOut {
  const inferred = inferBackupKind(row.location);
  const kind = row.kindSet ?? row.kind ?? inferred;
  const kindSource = row.kindSet ? "set" : row.kind ? "declared" : inferred ? "inferred" : null;
  const site = row.siteSet ?? row.site ?? (kind === "object" ? "offsite" : kind ? "onsite" : null);
  const siteSource = row.siteSet ? "set" : row.site ? "declared" : site ? "inferred" : null;
  // A bare path may be a mount of a NAS or a bucket, so any kind fits it; a scheme (sftp:, s3: …) says more.
  const kindConflict =
    inferred && inferred !== "local" && kind && kind !== inferred && kind !== "other"
      ? `${kindSource} as ${KIND_WORDS[kind]}, but ${row.location} looks like ${KIND_WORDS[inferred]}`
      : null;
  return {
    id: row.id,
    hostId: row.hostId,
    hostName,
    name: row.name,
    tool: row.tool,
    location: row.location,
    repoId: row.repoId,
    kind,
    kindSource,
    site,
    siteSource,
    kindConflict,
    retention: row.retention,
    lastCheck:
      row.lastCheckAt !== null && row.lastCheckStatus !== null
        ? { at: row.lastCheckAt, status: row.lastCheckStatus, output: row.lastCheckOutput }
        : null,
    lastOkCheckAt: row.lastOkCheckAt,
    sizeBytes: row.sizeBytes,
    sizeChangeBytes: sizes?.[0] !== undefined && sizes[1] !== undefined ? sizes[0] - sizes[1] : null,
    snapshotCount: row.snapshotCount,
    newestSnapshotAt: row.newestSnapshotAt,
    oldestSnapshotAt: row.oldestSnapshotAt,
    sources: row.sources ?? [],
    lastDrill:
      row.lastDrillAt !== null && row.lastDrillStatus !== null
        ? {
            at: row.lastDrillAt,
            status: row.lastDrillStatus,
            output: row.lastDrillOutput,
            files: row.lastDrillFiles ?? 0,
            bytes: row.lastDrillBytes ?? 0,
          }
        : null,
    lastOkDrillAt: row.lastOkDrillAt,
    firstSeenAt: row.createdAt,
  };
}

async function hostNames(db: Db, projectId: string) {
  const rows = await db.query.hosts.findMany({
    where: eq(hosts.projectId, projectId),
    columns: { id: true, name: true, facts: true },
  });
  return rows;
}

/** The project's repositories (or one host's), newest check first among equals by name. */
export async function listBackupRepositories(
  db: Db,
  projectId: string,
  options: { hostId?: string } = {},
): Promise<BackupRepositoryOut[]> {
  const scope = options.hostId
    ? and(eq(backupRepositories.projectId, projectId), eq(backupRepositories.hostId, options.hostId))
    : eq(backupRepositories.projectId, projectId);
  const [rows, hostRows, sizes] = await Promise.all([
    db.select().from(backupRepositories).where(scope).orderBy(backupRepositories.name, backupRepositories.id),
    hostNames(db, projectId),
    recentSizes(db, projectId),
  ]);
  const nameOf = new Map(hostRows.map((h) => [h.id, h.name]));
  return rows.map((row) => describe(row, nameOf.get(row.hostId) ?? row.hostId, sizes.get(row.id)));
}

/** The sizes the two newest good checks of each repository measured, newest first: its growth. */
async function recentSizes(db: Db, projectId: string): Promise<Map<number, number[]>> {
  const result = await db.$client.execute({
    sql: `select repository_id, size_bytes from (
            select repository_id, size_bytes,
                   row_number() over (partition by repository_id order by ended_at desc, id desc) as n
            from backup_checks where project_id = ? and status = 'ok' and size_bytes is not null)
          where n <= 2 order by repository_id, n`,
    args: [projectId],
  });
  const sizes = new Map<number, number[]>();
  for (const row of result.rows) {
    const id = Number(row.repository_id);
    sizes.set(id, [...(sizes.get(id) ?? []), Number(row.size_bytes)]);
  }
  return sizes;
}

async function repositoryRow(db: Db, projectId: string, id: number): Promise<RepositoryRow> {
  const [row] = await db
    .select()
    .from(backupRepositories)
    .where(and(eq(backupRepositories.projectId, projectId), eq(backupRepositories.id, id)));
  if (!row) throw new NotFoundError("backup repository");
  return row;
}

/** One repository with its recent checks (size and snapshot count over time) and drills, newest first. */
export async function getBackupRepository(db: Db, projectId: string, id: number, limit = 100) {
  const row = await repositoryRow(db, projectId, id);
  const [host] = await db
    .select({ name: hosts.name })
    .from(hosts)
    .where(and(eq(hosts.projectId, projectId), eq(hosts.id, row.hostId)));
  const scope = (table: typeof backupChecks | typeof backupDrills) =>
    and(eq(table.projectId, projectId), eq(table.repositoryId, id));
  const [checks, drills] = await Promise.all([
    db
      .select()
      .from(backupChecks)
      .where(scope(backupChecks))
      .orderBy(desc(backupChecks.endedAt), desc(backupChecks.id))
      .limit(limit),
    db
      .select()
      .from(backupDrills)
      .where(scope(backupDrills))
      .orderBy(desc(backupDrills.endedAt), desc(backupDrills.id))
      .limit(limit),
  ]);
  const measured = checks
    .filter((c) => c.status === "ok" && c.sizeBytes !== null)
    .map((c) => Number(c.sizeBytes));
  return {
    repository: describe(row, host?.name ?? row.hostId, measured),
    checks: checks.map(({ projectId: _p, repositoryId: _r, ...check }) => check),
    drills: drills.map(({ projectId: _p, repositoryId: _r, ...drill }) => drill),
  };
}

/** Sets (or with null clears) what the operator says a repository is; the probe's declaration stays below. */
export async function updateBackupRepository(
  db: Db,
  projectId: string,
  id: number,
  patch: UpdateBackupRepository,
): Promise<BackupRepositoryOut> {
  await repositoryRow(db, projectId, id);
  const set: Partial<RepositoryRow> = {};
  if (patch.kind !== undefined) set.kindSet = patch.kind;
  if (patch.site !== undefined) set.siteSet = patch.site;
  if (Object.keys(set).length > 0)
    await db
      .update(backupRepositories)
      .set(set)
      .where(and(eq(backupRepositories.projectId, projectId), eq(backupRepositories.id, id)));
  const [out] = (await listBackupRepositories(db, projectId)).filter((r) => r.id === id);
  if (!out) throw new NotFoundError("backup repository");
  return out;
}

const DAY = 86_400_000;

function ago(ms: number): string {
  if (ms < 2 * 3_600_000) return `${Math.max(1, Math.round(ms / 60_000))} min ago`;
  if (ms < 2 * DAY) return `${Math.round(ms / 3_600_000)} hours ago`;
  return `${Math.round(ms / DAY)} days ago`;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/**
 * Every backed-up source of the project graded against 3-2-1 (see the module comment), worst first:
 * fewest copies, then no copy off site, then by host name. `hostname` narrows to one host's sources.
 */
export async function gradeBackupSources(
  db: Db,
  clock: Clock,
  projectId: string,
  options: { hostname?: string; hostId?: string } = {},
): Promise<BackupSourceGrade[]> {
  const [repositories, hostRows] = await Promise.all([
    listBackupRepositories(db, projectId),
    hostNames(db, projectId),
  ]);
  // A snapshot's host name is the machine's; a Vigil host is found by its reported host name, else its name.
  const hostOf = new Map<string, string>();
  for (const h of hostRows) hostOf.set(h.name, h.id);
  for (const h of hostRows) {
    const reported = (h.facts as { hostname?: unknown } | null)?.hostname;
    if (typeof reported === "string") hostOf.set(reported, h.id);
  }

  const grades = new Map<string, BackupSourceGrade & { copyKeys: Set<string> }>();
  for (const repo of repositories) {
    for (const source of repo.sources) {
      if (options.hostname !== undefined && source.hostname !== options.hostname) continue;
      const paths = [...source.paths].sort();
      const key = `${source.hostname}\u0000${paths.join("\u0000")}`;
      let grade = grades.get(key);
      if (!grade) {
        grade = {
          hostname: source.hostname,
          hostId: hostOf.get(source.hostname) ?? null,
          paths,
          copies: 1,
          media: 1,
          offsite: 0,
          newestAt: null,
          lastGoodDrill: null,
          summary: "",
          repositories: [],
          copyKeys: new Set(),
        };
        grades.set(key, grade);
      }
      const counts = repo.lastCheck?.status !== "damaged";
      grade.repositories.push({
        id: repo.id,
        name: repo.name,
        hostId: repo.hostId,
        location: repo.location,
        kind: repo.kind,
        site: repo.site,
        snapshots: source.snapshots,
        newestAt: source.newestAt,
        lastCheckStatus: repo.lastCheck?.status ?? null,
        lastCheckAt: repo.lastCheck?.at ?? null,
        counts,
      });
      if (repo.lastOkDrillAt !== null && (grade.lastGoodDrill?.at ?? 0) < repo.lastOkDrillAt)
        grade.lastGoodDrill = {
          at: repo.lastOkDrillAt,
          // The newest drill's count is the one held; for an older good drill it is the best figure there is.
          files: repo.lastDrill?.files ?? 0,
          repositoryId: repo.id,
        };
    }
  }

  const now = clock.now();
  const out: BackupSourceGrade[] = [];
  for (const { copyKeys, ...grade } of grades.values()) {
    if (options.hostId !== undefined && grade.hostId !== options.hostId) continue;
    const media = new Set<string>(["local"]);
    const offsite = new Set<string>();
    for (const copy of grade.repositories) {
      if (!copy.counts) continue;
      const repo = repositories.find((r) => r.id === copy.id);
      const copyKey = repo?.repoId ? `repo:${repo.repoId}` : `row:${copy.id}`;
      if (copyKeys.has(copyKey)) continue;
      copyKeys.add(copyKey);
      if (copy.kind) media.add(copy.kind);
      if (copy.site === "offsite") offsite.add(copyKey);
      grade.newestAt = Math.max(grade.newestAt ?? 0, copy.newestAt);
    }
    grade.copies = 1 + copyKeys.size;
    grade.media = media.size;
    grade.offsite = offsite.size;
    const drill = grade.lastGoodDrill
      ? `last drill restored ${plural(grade.lastGoodDrill.files, "file")} identical ${ago(now - grade.lastGoodDrill.at)}`
      : "no restore drill yet";
    grade.summary = `${plural(grade.copies, "copy", "copies")}, ${plural(grade.media, "medium", "media")}, ${grade.offsite} off site, ${drill}`;
    out.push(grade);
  }
  return out.sort(
    (a, b) =>
      a.copies - b.copies ||
      Math.min(a.offsite, 1) - Math.min(b.offsite, 1) ||
      a.hostname.localeCompare(b.hostname) ||
      a.paths.join().localeCompare(b.paths.join()),
  );
}
