/**
 * Checks (heartbeats, HTTP/TCP/TLS probes, host liveness), what they receive (pings) and do (runs), and
 * what comes of it: flips, incidents and daily uptime.
 *
 * Evaluation never scans: every check carries `alert_after`, the next moment anything can happen to it
 * (a heartbeat going late or down, an active check's next run). The scheduler reads only rows whose
 * deadline has passed, through `checks_alert_after_idx`.
 */
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { ms } from "./columns.ts";
import { hosts, projectRef } from "./core.ts";

const flag = (name: string) => integer(name, { mode: "boolean" });

/** A row about one check, deleted with it. */
export const checkRef = () =>
  text("check_id")
    .notNull()
    .references(() => checks.id, { onDelete: "cascade" });

export interface BodyKeywords {
  success: string[];
  failure: string[];
  start: string[];
}

export const checkKinds = ["heartbeat", "http", "tcp", "tls", "dns", "icmp", "host"] as const;
export type CheckKind = (typeof checkKinds)[number];

/**
 * Stored health. `started` is not stored: it is shown while a run is open (`last_start_at`), as in
 * Healthchecks, so a start/success pair every minute does not write two flips.
 */
export type CheckStatus = "new" | "up" | "late" | "degraded" | "down" | "paused";

/**
 * What one location last made of an active check: its own N-of-M confirmed status and counters, and its
 * newest run. Whether it still reports (or is "unknown") is judged from `lastRunAt` when it is read.
 */
export interface LocationState {
  status: "new" | "up" | "degraded" | "down";
  failures: number;
  successes: number;
  /** the newest run's start (a probe's clock for probe locations) */
  lastRunAt: number | null;
  responseMs: number | null;
  error: string | null;
  /** the probe's operator forbids this target there: the location cannot check it */
  refused?: string | null;
}

export const checks = sqliteTable(
  "checks",
  {
    id: text("id").primaryKey(),
    projectId: projectRef(),
    kind: text("kind").$type<CheckKind>().notNull(),
    name: text("name").notNull(),
    /** Lower-case; not unique on purpose (Healthchecks answers 409 to a ping on an ambiguous slug). */
    slug: text("slug"),
    tags: text("tags", { mode: "json" }).$type<string[]>().notNull().default(sql`'[]'`),
    description: text("description").notNull().default(""),
    runbookUrl: text("runbook_url"),
    public: flag("public").notNull().default(false),

    status: text("status").$type<CheckStatus>().notNull().default("new"),
    statusChangedAt: ms("status_changed_at").notNull(),
    /**
     * Compare-and-set token, replaced by every state write (`… WHERE id = ? AND cas = ?`). Random rather than
     * a counter, so the statements after the guarded update can test "my write won" with `cas = <mine>`.
     */
    cas: text("cas").notNull(),
    /** The next moment the scheduler must look at this check; null when only a ping can change it. */
    alertAfter: ms("alert_after"),

    // Heartbeats: either a period or a cron schedule in a time zone, plus grace.
    periodSec: integer("period_sec"),
    graceSec: integer("grace_sec"),
    schedule: text("schedule"),
    tz: text("tz").notNull().default("UTC"),
    /** Only POST pings count; other methods are recorded as ignored. */
    postOnly: flag("post_only").notNull().default(false),
    /** A ping to a paused check leaves it paused (otherwise the ping resumes it). */
    keepPaused: flag("keep_paused").notNull().default(false),
    lastPingAt: ms("last_ping_at"),
    /** When the next success ping is expected; null while new, down or paused. */
    nextDueAt: ms("next_due_at"),
    lastStartAt: ms("last_start_at"),
    lastStartRid: text("last_start_rid"),
    /**
     * Keywords that decide what a plain ping with a body means (Healthchecks' "filter by keywords"):
     * failure first, then success, then start; a body matching none is ignored. Null: off.
     */
    bodyKeywords: text("body_keywords", { mode: "json" }).$type<BodyKeywords>(),
    /** A run (start → success) shorter or longer than these makes the check down. */
    minRunSec: integer("min_run_sec"),
    maxRunSec: integer("max_run_sec"),
    /** How long a started run may stay open before the check is down; null: the grace. */
    startGraceSec: integer("start_grace_sec"),
    /** A success sooner than this after the previous success makes the check down ("runs too often"). */
    minIntervalSec: integer("min_interval_sec"),
    /** A run this many times longer than the median of the last runs makes the check degraded ("slower than usual"). */
    slowRunFactor: real("slow_run_factor"),

    // Active checks (http, tcp, tls): the run interval is `period_sec`.
    url: text("url"),
    method: text("method"),
    headers: text("headers", { mode: "json" }).$type<Record<string, string>>(),
    body: text("body"),
    /** JSON list of accepted status ranges, e.g. ["200-299", "301"]. */
    expectedStatus: text("expected_status", { mode: "json" }).$type<string[]>(),
    keyword: text("keyword"),
    keywordMode: text("keyword_mode").$type<"present" | "absent">(),
    followRedirects: flag("follow_redirects"),
    timeoutMs: integer("timeout_ms"),
    /** A successful run slower than this marks the check degraded. */
    degradedAfterMs: integer("degraded_after_ms"),
    targetHost: text("target_host"),
    targetPort: integer("target_port"),
    tlsWarnDays: integer("tls_warn_days"),
    /** N consecutive failed runs confirm a failure, M consecutive good runs a recovery. */
    failuresToDown: integer("failures_to_down").notNull().default(2),
    successesToUp: integer("successes_to_up").notNull().default(1),
    consecutiveFailures: integer("consecutive_failures").notNull().default(0),
    consecutiveSuccesses: integer("consecutive_successes").notNull().default(0),
    lastRunAt: ms("last_run_at"),
    lastError: text("last_error"),
    /**
     * Where the check runs from: `edge` (the API's runtime) and probe location names. Null: edge alone.
     * Kept as JSON on the row, with each location's state beside it, so a result from any location is one
     * compare-and-set write of the check like a run from the edge.
     */
    locations: text("locations", { mode: "json" }).$type<string[]>(),
    /** how many locations must agree that the check is down (or degraded) before it is */
    quorum: integer("quorum").notNull().default(1),
    locationStates: text("location_states", { mode: "json" }).$type<Record<string, LocationState>>(),
    // DNS checks: the name is `target_host`.
    dnsRecordType: text("dns_record_type"),
    /** an answer must include this value (addresses, names; compared without case or trailing dot) */
    dnsExpected: text("dns_expected"),
    /** a resolver to ask (ip[:port]) instead of the system's */
    dnsServer: text("dns_server"),

    // Host liveness: the probe's interval is `period_sec` (30 s unless set).
    hostId: text("host_id").references(() => hosts.id, { onDelete: "cascade" }),

    createdAt: ms("created_at").notNull(),
    updatedAt: ms("updated_at").notNull(),
  },
  (t) => [
    index("checks_alert_after_idx").on(t.alertAfter),
    index("checks_project_idx").on(t.projectId, t.createdAt),
    index("checks_project_slug_idx").on(t.projectId, t.slug),
    index("checks_host_idx").on(t.hostId),
  ],
);

export const pingKinds = ["success", "start", "fail", "log", "ignored"] as const;
export type PingKind = (typeof pingKinds)[number];

export const pings = sqliteTable(
  "pings",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    projectId: projectRef(),
    checkId: checkRef(),
    kind: text("kind").$type<PingKind>().notNull(),
    exitStatus: integer("exit_status"),
    rid: text("rid"),
    /** start → end, when the end found its start */
    durationMs: integer("duration_ms"),
    method: text("method").notNull(),
    /** the first 100 kB of the request body, as text */
    body: text("body"),
    userAgent: text("user_agent"),
    remoteAddr: text("remote_addr"),
    at: ms("at").notNull(),
  },
  (t) => [
    index("pings_check_idx").on(t.checkId, t.id),
    index("pings_check_rid_idx").on(t.checkId, t.rid, t.kind),
  ],
);

/** One execution of an active check. */
export const checkRuns = sqliteTable(
  "check_runs",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    projectId: projectRef(),
    checkId: checkRef(),
    at: ms("at").notNull(),
    /** what this run alone says: up, degraded or down (the check's status also weighs confirmation) */
    result: text("result").$type<"up" | "degraded" | "down">().notNull(),
    responseMs: integer("response_ms"),
    httpStatus: integer("http_status"),
    tlsDaysLeft: integer("tls_days_left"),
    error: text("error"),
    /** where the run came from: `edge` or a probe location's name */
    location: text("location").notNull().default("edge"),
  },
  (t) => [
    index("check_runs_check_idx").on(t.checkId, t.at),
    // One run per check, location and start: a probe's batch sent again does not record its runs twice.
    uniqueIndex("check_runs_location_idx").on(t.checkId, t.location, t.at),
  ],
);

/**
 * A state change of anything that has one — a check now, a host rule later — so alert delivery treats them
 * alike. The outbox claims rows with `UPDATE flips SET claimed_at = ? WHERE id = ? AND claimed_at IS NULL`.
 */
/** What a flip or incident is about: a check, or a rule's alert on host data (one per rule and target). */
export type SubjectType = "check" | "alert";

export const flips = sqliteTable(
  "flips",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    projectId: projectRef(),
    subjectType: text("subject_type").$type<SubjectType>().notNull(),
    subjectId: text("subject_id").notNull(),
    fromStatus: text("from_status").notNull(),
    toStatus: text("to_status").notNull(),
    /** why, for people: "no ping within grace", "HTTP 503 (2 failed runs)", … */
    cause: text("cause").notNull(),
    at: ms("at").notNull(),
    claimedAt: ms("claimed_at"),
    processedAt: ms("processed_at"),
  },
  (t) => [
    index("flips_subject_idx").on(t.projectId, t.subjectType, t.subjectId, t.at),
    index("flips_unclaimed_idx").on(t.claimedAt, t.id),
  ],
);

/** Opens when a subject goes down and resolves when it leaves down; at most one open per subject. */
export const incidents = sqliteTable(
  "incidents",
  {
    id: text("id").primaryKey(),
    projectId: projectRef(),
    subjectType: text("subject_type").$type<SubjectType>().notNull(),
    subjectId: text("subject_id").notNull(),
    cause: text("cause").notNull(),
    openedAt: ms("opened_at").notNull(),
    resolvedAt: ms("resolved_at"),
    resolution: text("resolution"),
  },
  (t) => [
    index("incidents_project_idx").on(t.projectId, t.openedAt),
    uniqueIndex("incidents_one_open_idx").on(t.subjectType, t.subjectId).where(sql`resolved_at is null`),
  ],
);

/**
 * Milliseconds spent up, degraded and down per check and UTC day, written when a status ends (on each
 * flip). Readers add the still-open stretch since `checks.status_changed_at`; the status page reads at most
 * one row per day. new and paused time counts as neither.
 */
export const uptimeDaily = sqliteTable(
  "uptime_daily",
  {
    projectId: projectRef(),
    checkId: checkRef(),
    /** 00:00 UTC of the day, ms */
    day: ms("day").notNull(),
    upMs: integer("up_ms").notNull().default(0),
    degradedMs: integer("degraded_ms").notNull().default(0),
    downMs: integer("down_ms").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.checkId, t.day] }), index("uptime_daily_day_idx").on(t.day)],
);

export type CheckRow = typeof checks.$inferSelect;
export type PingRow = typeof pings.$inferSelect;
export type CheckRunRow = typeof checkRuns.$inferSelect;
export type FlipRow = typeof flips.$inferSelect;
export type IncidentRow = typeof incidents.$inferSelect;
export type UptimeDailyRow = typeof uptimeDaily.$inferSelect;
