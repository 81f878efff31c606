/**
 * Backup assurance (issue 18): the repositories the probes check, with every check and restore drill kept
 * as history (for growth, and for "last good drill"). Backup *runs* live with the ingest tables
 * (`backup_runs`).
 * - A repository is one row per (reporting host, name): the name the operator gave it on that host. The
 *   same restic repository checked from two hosts is two rows with one `repo_id`; grading counts it once.
 * - The newest check's and drill's figures are copied onto the repository row, so lists and rules read one
 *   row; a late (spooled) result older than what the row holds only adds history.
 * - `sources` is the newest check's list of what the repository holds (host name + paths), as JSON: it is
 *   replaced whole by every check and only read with its repository.
 * - `kind`/`site` come from the probe's declaration, `kind_set`/`site_set` from the API; a value set in the
 *   API wins over the probe's, and the location's inferred kind is compared with both when reading.
 */
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { ms } from "./columns.ts";
import { hostRef, projectRef } from "./core.ts";

/** One entry of `sources` (the contract's BackupSource; this package does not import the contract). */
export interface StoredBackupSource {
  hostname: string;
  paths: string[];
  snapshots: number;
  newestAt: number;
  oldestAt: number;
  newestId?: string;
}

const mediaKinds = ["local", "host", "object", "other"] as const;
const sites = ["onsite", "offsite"] as const;

export const backupRepositories = sqliteTable(
  "backup_repositories",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    projectId: projectRef(),
    hostId: hostRef(),
    name: text("name").notNull(),
    tool: text("tool").notNull(),
    location: text("location").notNull(),
    repoId: text("repo_id"),
    kind: text("kind", { enum: mediaKinds }),
    site: text("site", { enum: sites }),
    kindSet: text("kind_set", { enum: mediaKinds }),
    siteSet: text("site_set", { enum: sites }),
    retention: text("retention"),
    lastCheckAt: ms("last_check_at"),
    lastCheckStatus: text("last_check_status", { enum: ["ok", "damaged", "error"] }),
    lastCheckOutput: text("last_check_output"),
    lastOkCheckAt: ms("last_ok_check_at"),
    sizeBytes: integer("size_bytes"),
    snapshotCount: integer("snapshot_count"),
    newestSnapshotAt: ms("newest_snapshot_at"),
    oldestSnapshotAt: ms("oldest_snapshot_at"),
    sources: text("sources", { mode: "json" }).$type<StoredBackupSource[]>(),
    lastDrillAt: ms("last_drill_at"),
    lastDrillStatus: text("last_drill_status", { enum: ["ok", "mismatch", "error"] }),
    lastDrillOutput: text("last_drill_output"),
    lastDrillFiles: integer("last_drill_files"),
    lastDrillBytes: integer("last_drill_bytes"),
    lastOkDrillAt: ms("last_ok_drill_at"),
    createdAt: ms("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("backup_repositories_host_name_idx").on(t.hostId, t.name),
    index("backup_repositories_project_idx").on(t.projectId),
  ],
);

export const backupChecks = sqliteTable(
  "backup_checks",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    projectId: projectRef(),
    repositoryId: integer("repository_id")
      .notNull()
      .references(() => backupRepositories.id, { onDelete: "cascade" }),
    status: text("status", { enum: ["ok", "damaged", "error"] }).notNull(),
    startedAt: ms("started_at").notNull(),
    endedAt: ms("ended_at").notNull(),
    exitCode: integer("exit_code"),
    readDataSubset: text("read_data_subset"),
    output: text("output"),
    sizeBytes: integer("size_bytes"),
    snapshotCount: integer("snapshot_count"),
    newestSnapshotAt: ms("newest_snapshot_at"),
  },
  (t) => [index("backup_checks_repository_idx").on(t.repositoryId, t.endedAt)],
);

export const backupDrills = sqliteTable(
  "backup_drills",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    projectId: projectRef(),
    repositoryId: integer("repository_id")
      .notNull()
      .references(() => backupRepositories.id, { onDelete: "cascade" }),
    status: text("status", { enum: ["ok", "mismatch", "error"] }).notNull(),
    startedAt: ms("started_at").notNull(),
    endedAt: ms("ended_at").notNull(),
    snapshotId: text("snapshot_id"),
    snapshotAt: ms("snapshot_at"),
    files: integer("files").notNull(),
    bytes: integer("bytes").notNull(),
    mismatched: integer("mismatched").notNull(),
    missing: integer("missing").notNull(),
    canary: integer("canary", { mode: "boolean" }),
    output: text("output"),
  },
  (t) => [index("backup_drills_repository_idx").on(t.repositoryId, t.endedAt)],
);
