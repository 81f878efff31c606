/** Public API shapes for hosts and what their probes send: enrollment, settings, queries, events. */
import { z } from "zod";
import { epochMs, timeQueryParam, timezoneSchema, wireTime } from "./common.ts";
import {
  backupMediaKinds,
  backupSites,
  backupSourceSchema,
  hostFactsSchema,
  logPrioritySchema,
  probeRemoteConfigSchema,
  stateSnapshotSchema,
} from "./probe.ts";

export const createEnrollmentTokenRequestSchema = z.object({
  name: z.string().trim().min(1).max(100),
  /** lifetime in seconds; absent means the token does not expire */
  expiresInSec: z
    .number()
    .int()
    .min(60)
    .max(366 * 86400)
    .optional(),
});
export type CreateEnrollmentTokenRequest = z.infer<typeof createEnrollmentTokenRequestSchema>;

export const enrollmentTokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string(),
  createdAt: epochMs,
  expiresAt: epochMs.nullable(),
  revokedAt: epochMs.nullable(),
  lastUsedAt: epochMs.nullable(),
  useCount: z.number().int(),
});
export type EnrollmentToken = z.infer<typeof enrollmentTokenSchema>;
export const createdEnrollmentTokenSchema = enrollmentTokenSchema.extend({ token: z.string() });
export type CreatedEnrollmentToken = z.infer<typeof createdEnrollmentTokenSchema>;

/** Retention bounds; every one is per project. */
export const retentionSettingsSchema = z.object({
  rawDays: z.number().int().min(1).max(90).describe("days raw samples are kept"),
  hourlyDays: z.number().int().min(7).max(730).describe("days hourly min/avg/max rollups are kept"),
  dailyDays: z.number().int().min(30).max(3650).describe("days daily rollups are kept"),
  logDays: z.number().int().min(1).max(365).describe("days log entries are kept"),
  logsPerHost: z.number().int().min(1_000).max(10_000_000).describe("newest log entries kept per host"),
});
export type RetentionSettings = z.infer<typeof retentionSettingsSchema>;

/** A pattern to redact from log lines quoted in alerts: a JavaScript regular expression, case-insensitive. */
const redactPattern = z
  .string()
  .min(1)
  .max(200)
  .refine((source) => {
    try {
      new RegExp(source, "i");
      return true;
    } catch {
      return false;
    }
  }, "is not a valid regular expression");

/** What alerts quote from the logs. */
export const alertSettingsSchema = z.object({
  logLines: z.number().int().min(0).max(50).describe("log lines an alert quotes at most (0: none)"),
  redact: z
    .array(redactPattern)
    .max(20)
    .describe("patterns whose matches are replaced by [redacted] in quoted lines, beside the built-in ones"),
});
export type AlertSettings = z.infer<typeof alertSettingsSchema>;

/** The optional weekly email: uptime, incidents, alerts, pending updates and reboots, backups. */
export const reportSettingsSchema = z.object({
  weekly: z.boolean().describe("send the weekly report"),
  to: z.array(z.email().max(254)).max(20).describe("who gets it"),
  weekday: z.number().int().min(0).max(6).describe("the day it goes out: 0 Sunday … 6 Saturday"),
  hour: z.number().int().min(0).max(23).describe("the hour it goes out, in `timezone`"),
  timezone: timezoneSchema,
});
export type ReportSettings = z.infer<typeof reportSettingsSchema>;

export const projectSettingsSchema = z.object({
  retention: retentionSettingsSchema,
  probe: probeRemoteConfigSchema,
  alerts: alertSettingsSchema,
  reports: reportSettingsSchema,
});
export type ProjectSettings = z.infer<typeof projectSettingsSchema>;

export const updateProjectSettingsSchema = z.object({
  retention: retentionSettingsSchema.partial().optional(),
  probe: z
    .object({
      intervalSec: probeRemoteConfigSchema.shape.intervalSec.optional(),
      journal: probeRemoteConfigSchema.shape.journal.partial().optional(),
    })
    .optional(),
  alerts: alertSettingsSchema.partial().optional(),
  reports: reportSettingsSchema.partial().optional(),
});
export type UpdateProjectSettings = z.infer<typeof updateProjectSettingsSchema>;

export const updateHostSchema = z.object({
  name: z.string().trim().min(1).max(253).optional(),
  tags: z.array(z.string().trim().min(1).max(64)).max(50).optional(),
  /** overrides of the project's probe settings for this host; null clears them */
  config: updateProjectSettingsSchema.shape.probe.nullable().optional(),
  /** may be shown on the project's status pages */
  public: z.boolean().optional(),
});
export type UpdateHost = z.infer<typeof updateHostSchema>;

/** The headline figures of a host, from the latest value of its series. Absent when never reported. */
export const hostLatestSchema = z.object({
  at: epochMs.optional(),
  cpuBusyPct: z.number().optional().describe("100 − idle, percent"),
  iowaitPct: z.number().optional(),
  load1: z.number().optional(),
  memoryAvailablePct: z.number().optional(),
  swapUsedBytes: z.number().optional(),
  diskUsedPctMax: z.number().optional().describe("fullest filesystem, percent used"),
});

export const hostSchema = z.object({
  id: z.string(),
  name: z.string(),
  machineId: z.string().nullable(),
  tags: z.array(z.string()),
  /** may be shown on the project's status pages */
  public: z.boolean(),
  facts: hostFactsSchema.partial(),
  createdAt: epochMs,
  lastSeenAt: epochMs.nullable(),
  /** true while the probe has reported within three of its intervals */
  online: z.boolean(),
  config: probeRemoteConfigSchema,
  latest: hostLatestSchema,
  state: stateSnapshotSchema.nullable(),
  /** when any backup of this host last succeeded and last failed (per backup: `GET /hosts/:id/backups`) */
  lastBackup: z.object({ successAt: epochMs.nullable(), failureAt: epochMs.nullable() }),
});
export type Host = z.infer<typeof hostSchema>;

/** One filesystem on the host page (`GET /hosts/:id/filesystems`): latest figures and the disk-full trend. */
export const hostFilesystemSchema = z.object({
  mount: z.string(),
  device: z.string().nullable(),
  sizeBytes: z.number().nullable(),
  availableBytes: z.number().nullable(),
  usedPct: z.number().nullable(),
  at: epochMs.nullable(),
  /** hours until full at the fitted trend; null unless `trend` is "filling" */
  hoursUntilFull: z.number().nullable(),
  /** "unknown" until the data covers half the lookback */
  trend: z.enum(["filling", "steady", "unknown"]),
});
export type HostFilesystem = z.infer<typeof hostFilesystemSchema>;

export const hostFilesystemsSchema = z.object({
  lookbackHours: z.number(),
  /** the forecast rule's horizon: a disk full sooner than this is alerted on */
  withinHours: z.number().nullable(),
  filesystems: z.array(hostFilesystemSchema),
});
export type HostFilesystems = z.infer<typeof hostFilesystemsSchema>;

const commaList = z
  .string()
  .max(4096)
  .transform((s) =>
    s
      .split(",")
      .map((x) => x.trim())
      .filter(Boolean),
  );

/** Query of event and state histories: a time range (bounded like every input time) and a page size. */
export const timeRangeQuerySchema = z.object({
  from: timeQueryParam.optional(),
  to: timeQueryParam.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});

export const metricsQuerySchema = z.object({
  /** comma-separated metric names, e.g. `cpu.iowait_pct,fs.used_pct`; absent means all */
  names: commaList.optional(),
  from: timeQueryParam.optional(),
  to: timeQueryParam.optional(),
  /** seconds per point; picks raw, hourly or daily data by size */
  step: z.coerce
    .number()
    .int()
    .min(1)
    .max(86_400 * 30)
    .optional(),
});
export type MetricsQuery = z.infer<typeof metricsQuerySchema>;
/** A heartbeat's run durations (`GET /checks/:id/durations`): the same window as host metrics. */
export const runDurationsQuerySchema = metricsQuerySchema.omit({ names: true });

export const metricPointSchema = z.object({ ts: epochMs, avg: z.number(), min: z.number(), max: z.number() });
export const metricSeriesSchema = z.object({
  name: z.string(),
  labels: z.record(z.string(), z.string()),
  points: z.array(metricPointSchema),
});
export const eventSchema = z.object({
  id: z.number().int(),
  hostId: z.string().nullable(),
  at: epochMs,
  kind: z.string(),
  message: z.string(),
  details: z.record(z.string(), z.unknown()),
});
export type HostEvent = z.infer<typeof eventSchema>;

export const metricsResponseSchema = z.object({
  from: epochMs,
  to: epochMs,
  stepSec: z.number().int(),
  resolution: z.enum(["raw", "hour", "day"]),
  series: z.array(metricSeriesSchema),
  /** deploy markers and other annotations in the range */
  events: z.array(eventSchema),
});
export type MetricsResponse = z.infer<typeof metricsResponseSchema>;

export const logsQuerySchema = z.object({
  unit: z.string().max(256).optional(),
  /** most verbose priority to include: 3 means emerg … err */
  priority: z.coerce.number().pipe(logPrioritySchema).optional(),
  /** case-insensitive text that the message contains */
  q: z.string().min(1).max(256).optional(),
  /** cursor: only entries older than this id (paging back) */
  before: z.coerce.number().int().positive().optional(),
  /** cursor: only entries newer than this id (catching up) */
  after: z.coerce.number().int().nonnegative().optional(),
  /** only entries logged at or before this moment: the lines up to a deploy or an alert */
  to: timeQueryParam.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
export type LogsQuery = z.infer<typeof logsQuerySchema>;

export const logEntryOutSchema = z.object({
  id: z.number().int(),
  hostId: z.string(),
  ts: epochMs,
  priority: z.number().int(),
  unit: z.string().nullable(),
  identifier: z.string().nullable(),
  message: z.string(),
  pid: z.number().int().nullable(),
  fields: z.record(z.string(), z.string()).nullable(),
});
export type LogEntryOut = z.infer<typeof logEntryOutSchema>;

/** A page of log entries; `nextBefore` is the cursor of the next older page, null on the last one. */
export const logsResponseSchema = z.object({
  entries: z.array(logEntryOutSchema),
  nextBefore: z.number().int().nullable(),
});
export type LogsResponse = z.infer<typeof logsResponseSchema>;

/**
 * One backup name on one host, as the project's backups list shows it: the last success and failure,
 * the last run's size and duration, and how stale it is against the backup rules that cover it.
 */
export const backupOverviewSchema = z.object({
  hostId: z.string(),
  hostName: z.string(),
  name: z.string(),
  tool: z.string(),
  lastStatus: z.enum(["success", "failure"]),
  lastRunAt: epochMs,
  lastSuccessAt: epochMs.nullable(),
  lastFailureAt: epochMs.nullable(),
  runs: z.number().int(),
  lastRun: z.object({
    durationMs: z.number().int(),
    bytesAdded: z.number().nullable(),
    bytesProcessed: z.number().nullable(),
    snapshotId: z.string().nullable(),
    error: z.string().nullable(),
  }),
  /** the tightest `maxAgeHours` of the enabled backup rules covering it; null when no rule does */
  maxAgeHours: z.number().nullable(),
  /** the last success is older than `maxAgeHours` (or there is none); null when no rule says */
  stale: z.boolean().nullable(),
});
export type BackupOverview = z.infer<typeof backupOverviewSchema>;

/**
 * A backup repository a probe checks (`vigil-probe backup-check`), with the newest check's and drill's
 * results. `kind` and `site` are what grading uses: set in the API, else declared in the probe's config,
 * else inferred from the location (`kindSource`/`siteSource` say which). `kindConflict` says when a kind
 * set or declared contradicts the location (declared `local`, location `s3:…`).
 */
export const backupRepositoryOutSchema = z.object({
  id: z.number().int(),
  hostId: z.string(),
  hostName: z.string(),
  name: z.string(),
  tool: z.string(),
  location: z.string(),
  repoId: z.string().nullable(),
  kind: z.enum(backupMediaKinds).nullable(),
  kindSource: z.enum(["set", "declared", "inferred"]).nullable(),
  site: z.enum(backupSites).nullable(),
  siteSource: z.enum(["set", "declared", "inferred"]).nullable(),
  kindConflict: z.string().nullable(),
  retention: z.string().nullable(),
  lastCheck: z
    .object({ at: epochMs, status: z.enum(["ok", "damaged", "error"]), output: z.string().nullable() })
    .nullable(),
  lastOkCheckAt: epochMs.nullable(),
  sizeBytes: z.number().nullable(),
  /** growth (or, negative, shrinking) between the two newest good checks that measured the repository */
  sizeChangeBytes: z.number().nullable(),
  snapshotCount: z.number().int().nullable(),
  newestSnapshotAt: epochMs.nullable(),
  oldestSnapshotAt: epochMs.nullable(),
  sources: z.array(backupSourceSchema),
  lastDrill: z
    .object({
      at: epochMs,
      status: z.enum(["ok", "mismatch", "error"]),
      output: z.string().nullable(),
      files: z.number().int(),
      bytes: z.number(),
    })
    .nullable(),
  lastOkDrillAt: epochMs.nullable(),
  /** when a check or drill first named it */
  firstSeenAt: epochMs,
});
export type BackupRepositoryOut = z.infer<typeof backupRepositoryOutSchema>;

/** What the operator may say about a repository; null clears it (back to the probe's or the inferred). */
export const updateBackupRepositorySchema = z
  .object({
    kind: z.enum(backupMediaKinds).nullable().optional(),
    site: z.enum(backupSites).nullable().optional(),
  })
  .strict();
export type UpdateBackupRepository = z.infer<typeof updateBackupRepositorySchema>;

/**
 * One backed-up source (a host name and its paths) graded against 3-2-1: copies counts the live data and
 * every repository holding it (one restic repository checked from two hosts counts once); media the kinds
 * among them, the live data being `local`; offsite the copies off site. A copy counts only while its
 * repository's newest check could read it (not `damaged`).
 */
export const backupSourceGradeSchema = z.object({
  hostname: z.string(),
  /** the Vigil host whose host name this is, when there is one */
  hostId: z.string().nullable(),
  paths: z.array(z.string()),
  copies: z.number().int(),
  media: z.number().int(),
  offsite: z.number().int(),
  /** the newest snapshot of this source among the copies that count */
  newestAt: epochMs.nullable(),
  /** the newest restore drill that came back identical, from any repository holding the source */
  lastGoodDrill: z
    .object({ at: epochMs, files: z.number().int(), repositoryId: z.number().int() })
    .nullable(),
  /** "3 copies, 2 media, 1 off site, last drill restored 20 files identical 2 days ago" */
  summary: z.string(),
  repositories: z.array(
    z.object({
      id: z.number().int(),
      name: z.string(),
      hostId: z.string(),
      location: z.string(),
      kind: z.enum(backupMediaKinds).nullable(),
      site: z.enum(backupSites).nullable(),
      snapshots: z.number().int(),
      newestAt: epochMs,
      lastCheckStatus: z.enum(["ok", "damaged", "error"]).nullable(),
      lastCheckAt: epochMs.nullable(),
      counts: z.boolean(),
    }),
  ),
});
export type BackupSourceGrade = z.infer<typeof backupSourceGradeSchema>;

export const createEventRequestSchema = z.object({
  kind: z
    .string()
    .regex(/^[a-z][a-z0-9_.-]{0,31}$/)
    .default("deploy"),
  service: z.string().trim().min(1).max(128).optional(),
  version: z.string().trim().min(1).max(128).optional(),
  /** host id or name; absent for a project-wide marker */
  host: z.string().trim().min(1).max(253).optional(),
  performer: z.string().trim().min(1).max(128).optional(),
  message: z.string().trim().min(1).max(1000).optional(),
  at: wireTime.optional(),
});
export type CreateEventRequest = z.infer<typeof createEventRequestSchema>;
