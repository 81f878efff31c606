/**
 * What probes send, stored to be read cheaply for years.
 * - Metrics are narrow: one `series` row per (host, name, labels) and one `samples` row per reading,
 *   keyed by (series, ts). Long ranges read `rollups_hourly` / `rollups_daily`, never raw samples.
 * - `rollup_dirty` lists the (host, hour) buckets that received samples; the scheduler recomputes just
 *   those, so late samples from a probe's spool still land in the right rollup.
 * - Logs, backup runs and state changes are plain rows indexed by (host, time).
 * - samples, the rollups and rollup_dirty are WITHOUT ROWID tables (migration 0003, which drizzle-kit
 *   cannot express): their rows live in the primary-key b-tree, written and stored once.
 */
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { ms } from "./columns.ts";
import { hostRef, hosts, projectRef } from "./core.ts";

/** One row per accepted batch: the ingest is idempotent on (host, batch id). */
export const ingestedBatches = sqliteTable(
  "ingested_batches",
  {
    hostId: hostRef(),
    batchId: text("batch_id").notNull(),
    projectId: projectRef(),
    receivedAt: ms("received_at").notNull(),
    /** counts of what was stored, answered again verbatim on a repeat */
    summary: text("summary", { mode: "json" }).$type<Record<string, number>>().notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.hostId, t.batchId] }),
    index("ingested_batches_received_idx").on(t.receivedAt),
  ],
);

/**
 * A named time series. Built-in host metrics have dotted names (`cpu.iowait_pct`); custom metrics keep
 * their Prometheus names, which cannot contain a dot, so the two never collide. A custom series pushed
 * without a host, and a heartbeat's run durations, belong to the project alone (`host_id` null).
 */
export const series = sqliteTable(
  "series",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    projectId: projectRef(),
    hostId: text("host_id").references(() => hosts.id, { onDelete: "cascade" }),
    /** dotted metric name, e.g. `cpu.iowait_pct`, `fs.used_bytes`; or a custom metric's own name */
    name: text("name").notNull(),
    /** canonical JSON object of labels (keys sorted), `{}` for host-wide series */
    labels: text("labels").notNull(),
    /** a custom series' family type (counter, gauge, histogram, summary, untyped); null for built-ins */
    kind: text("kind"),
    lastTs: ms("last_ts"),
    lastValue: real("last_value"),
  },
  (t) => [
    uniqueIndex("series_host_name_labels_idx").on(t.hostId, t.name, t.labels),
    // Retention, series caps and the custom-metric catalogue read a project's series by name.
    index("series_project_name_idx").on(t.projectId, t.name),
    // SQLite treats nulls as distinct in a unique index, so project-wide series need one of their own.
    uniqueIndex("series_project_wide_idx").on(t.projectId, t.name, t.labels).where(sql`host_id is null`),
  ],
);

export const samples = sqliteTable(
  "samples",
  {
    seriesId: integer("series_id").notNull(),
    ts: ms("ts").notNull(),
    value: real("value").notNull(),
  },
  (t) => [primaryKey({ columns: [t.seriesId, t.ts] })],
);

const rollupColumns = {
  seriesId: integer("series_id").notNull(),
  /** start of the bucket, ms UTC */
  bucket: ms("bucket").notNull(),
  min: real("min").notNull(),
  max: real("max").notNull(),
  sum: real("sum").notNull(),
  count: integer("count").notNull(),
};
export const rollupsHourly = sqliteTable("rollups_hourly", rollupColumns, (t) => [
  primaryKey({ columns: [t.seriesId, t.bucket] }),
]);
export const rollupsDaily = sqliteTable("rollups_daily", rollupColumns, (t) => [
  primaryKey({ columns: [t.seriesId, t.bucket] }),
]);

export const rollupDirty = sqliteTable(
  "rollup_dirty",
  {
    hostId: text("host_id").notNull(),
    /** start of the hour that received samples */
    hour: ms("hour").notNull(),
  },
  (t) => [primaryKey({ columns: [t.hostId, t.hour] })],
);

export const logEntries = sqliteTable(
  "log_entries",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    projectId: projectRef(),
    hostId: hostRef(),
    ts: ms("ts").notNull(),
    priority: integer("priority").notNull(),
    unit: text("unit"),
    identifier: text("identifier"),
    message: text("message").notNull(),
    pid: integer("pid"),
    bootId: text("boot_id"),
    fields: text("fields", { mode: "json" }).$type<Record<string, string>>(),
  },
  // (host, id) serves cursor paging and the count bound; (host, ts) the age bound and time filters.
  (t) => [
    index("log_entries_host_id_idx").on(t.hostId, t.id),
    index("log_entries_host_ts_idx").on(t.hostId, t.ts),
    index("log_entries_project_id_idx").on(t.projectId, t.id),
  ],
);

export const backupRuns = sqliteTable(
  "backup_runs",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    projectId: projectRef(),
    hostId: hostRef(),
    name: text("name").notNull(),
    tool: text("tool").notNull(),
    status: text("status", { enum: ["success", "failure"] }).notNull(),
    startedAt: ms("started_at").notNull(),
    endedAt: ms("ended_at").notNull(),
    exitCode: integer("exit_code"),
    snapshotId: text("snapshot_id"),
    filesNew: integer("files_new"),
    filesChanged: integer("files_changed"),
    filesUnmodified: integer("files_unmodified"),
    bytesAdded: integer("bytes_added"),
    bytesProcessed: integer("bytes_processed"),
    error: text("error"),
  },
  (t) => [index("backup_runs_host_name_idx").on(t.hostId, t.name, t.endedAt)],
);

/** The latest state snapshot per host (contract `StateSnapshot`). */
export const hostState = sqliteTable("host_state", {
  hostId: text("host_id")
    .primaryKey()
    .references(() => hosts.id, { onDelete: "cascade" }),
  projectId: projectRef(),
  collectedAt: ms("collected_at").notNull(),
  snapshot: text("snapshot", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
});

/**
 * History: state changes the server derived from snapshots ("SSH keys changed", "reboot required"),
 * and annotations such as deploy markers. `host_id` is null for a project-wide annotation.
 */
export const hostEvents = sqliteTable(
  "host_events",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    projectId: projectRef(),
    hostId: text("host_id").references(() => hosts.id, { onDelete: "cascade" }),
    at: ms("at").notNull(),
    kind: text("kind").notNull(),
    message: text("message").notNull(),
    details: text("details", { mode: "json" }).$type<Record<string, unknown>>().notNull().default(sql`'{}'`),
  },
  (t) => [
    index("host_events_host_at_idx").on(t.hostId, t.at),
    index("host_events_project_at_idx").on(t.projectId, t.at),
  ],
);
