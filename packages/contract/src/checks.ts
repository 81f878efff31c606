/**
 * Checks, pings and their history on the wire. Durations a person types (period, grace) are seconds, as in
 * Healthchecks.io; machine timings (timeouts, response times) are milliseconds; timestamps are epoch ms.
 */
import { z } from "zod";
import { epochMs, httpUrl } from "./common.ts";
import { DNS_RECORD_TYPES, EDGE } from "./locations.ts";

const DAY = 86_400;
/** A start older than this is not paired with its end (as in Healthchecks), so runs are measured up to it. */
export const MAX_RUN_SEC = 12 * 3600;
const seconds = (min: number, max: number) => z.number().int().min(min).max(max).describe("seconds");
const millis = (min: number, max: number) => z.number().int().min(min).max(max).describe("milliseconds");

/** Lower-case, as in Healthchecks: a ping to an upper-case slug is refused with 400. */
export const checkSlugPattern = /^[a-z0-9][a-z0-9_-]{0,99}$/;
export const checkSlugSchema = z.string().regex(checkSlugPattern, "lower-case letters, digits, - and _");

export const checkStatuses = ["new", "up", "started", "late", "degraded", "down", "paused"] as const;
export const checkStatusSchema = z.enum(checkStatuses);
export type CheckStatusName = z.infer<typeof checkStatusSchema>;

const common = {
  name: z.string().trim().min(1).max(100),
  /** derived from the name when left out */
  slug: checkSlugSchema.optional(),
  tags: z.array(z.string().trim().min(1).max(50)).max(20).default([]),
  description: z.string().max(2000).default(""),
  runbookUrl: httpUrl.nullable().default(null),
  paused: z.boolean().default(false),
  /** shown on the project's status page */
  public: z.boolean().default(false),
};

const confirmation = {
  /** consecutive failed runs that confirm a failure */
  failuresToDown: z.number().int().min(1).max(20).default(2),
  /** consecutive good runs that confirm a recovery */
  successesToUp: z.number().int().min(1).max(20).default(1),
};

/**
 * Where an active check runs from and how many places must agree. `edge` is the API's own runtime; any
 * other name is a probe location (a probe's host name unless its probe.json names it otherwise).
 */
export const MAX_CHECK_LOCATIONS = 10;
const checkLocationName = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9][a-z0-9._-]*$/, "`edge` or a probe location's name (lower-case letters, digits, . _ -)");
const whereFrom = (defaultLocations: string[] | undefined) => ({
  locations: (defaultLocations
    ? z.array(checkLocationName).min(1).max(MAX_CHECK_LOCATIONS).default(defaultLocations)
    : z.array(checkLocationName).min(1).max(MAX_CHECK_LOCATIONS)
  ).refine((l) => new Set(l).size === l.length, "each location once"),
  /** locations that must see a failure (or slowness) before the check is down (or degraded) */
  quorum: z.number().int().min(1).max(MAX_CHECK_LOCATIONS).default(1),
});

const targetHost = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[A-Za-z0-9.:_-]+$/, "a host name or IP address");

const keywordList = z.array(z.string().trim().min(1).max(200)).max(20).default([]);

/**
 * Healthchecks' "filter by keywords", for HTTP bodies: a plain ping (`/ping/<uuid>`) whose body holds a
 * failure keyword counts as a failure, else a success keyword as a success, else a start keyword as a start;
 * a body with none of them is recorded as ignored. Matching is case-insensitive. Explicit `/fail`, `/start`
 * and exit statuses are never reinterpreted.
 */
export const bodyKeywordsSchema = z
  .object({ success: keywordList, failure: keywordList, start: keywordList })
  .refine((k) => k.success.length + k.failure.length + k.start.length > 0, {
    message: "give at least one keyword, or null to turn keyword matching off",
  });
export type BodyKeywordsSettings = z.infer<typeof bodyKeywordsSchema>;

export const heartbeatSettingsSchema = z
  .object({
    kind: z.literal("heartbeat"),
    /** expected time between pings; 1 day when neither period nor schedule is given */
    period: seconds(60, 365 * DAY).optional(),
    /** a 5-field cron expression, evaluated in `tz` */
    schedule: z.string().trim().min(9).max(100).optional(),
    tz: z.string().min(1).max(64).default("UTC"),
    grace: seconds(60, 365 * DAY).default(3600),
    /** only POST pings count; other methods are recorded as ignored */
    postOnly: z.boolean().default(false),
    /** pings do not resume a paused check */
    keepPaused: z.boolean().default(false),
    /** decide what a plain ping with a body means by keywords in the body; null: off */
    bodyKeywords: bodyKeywordsSchema.nullable().default(null),
    /** a run (start → success) shorter than this makes the check down */
    minRun: seconds(1, MAX_RUN_SEC).nullable().default(null),
    /** a run (start → success) longer than this makes the check down */
    maxRun: seconds(1, MAX_RUN_SEC).nullable().default(null),
    /** how long a started run may stay open; null: the grace */
    startGrace: seconds(60, 7 * DAY)
      .nullable()
      .default(null),
    /** a success sooner than this after the previous one makes the check down ("runs too often") */
    minInterval: seconds(1, 365 * DAY)
      .nullable()
      .default(null),
    /**
     * "slower than usual": a run (start → success) this many times longer than the median of the last 20
     * runs makes the check degraded (once 5 runs are known); null: off
     */
    slowerThanUsual: z.number().min(1.1).max(100).nullable().default(null),
  })
  .refine((s) => s.period === undefined || s.schedule === undefined, {
    message: "give either period or schedule, not both",
    path: ["schedule"],
  })
  .refine((s) => s.minRun === null || s.maxRun === null || s.minRun < s.maxRun, {
    message: "minRun must be shorter than maxRun",
    path: ["minRun"],
  });

export const httpMethods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;

export const httpSettingsSchema = z.object({
  kind: z.literal("http"),
  url: httpUrl,
  method: z.enum(httpMethods).default("GET"),
  headers: z.record(z.string().min(1).max(256), z.string().max(4096)).default({}),
  body: z.string().max(65_536).nullable().default(null),
  /** accepted statuses: "200", or ranges "200-299" */
  expectedStatus: z
    .array(z.string().regex(/^[1-5]\d\d(-[1-5]\d\d)?$/, 'a status or a range like "200-299"'))
    .min(1)
    .max(20)
    .default(["200-299"]),
  keyword: z.string().min(1).max(1000).nullable().default(null),
  keywordMode: z.enum(["present", "absent"]).default("present"),
  timeoutMs: millis(100, 60_000).default(10_000),
  /** a good response slower than this marks the check degraded */
  degradedAfterMs: millis(1, 60_000).nullable().default(null),
  followRedirects: z.boolean().default(true),
  /** seconds between runs */
  period: seconds(20, DAY).default(60),
  ...confirmation,
  ...whereFrom([EDGE]),
});

export const tcpSettingsSchema = z.object({
  kind: z.literal("tcp"),
  host: targetHost,
  port: z.number().int().min(1).max(65_535),
  timeoutMs: millis(100, 60_000).default(10_000),
  period: seconds(20, DAY).default(60),
  ...confirmation,
  ...whereFrom([EDGE]),
});

export const tlsSettingsSchema = z.object({
  kind: z.literal("tls"),
  host: targetHost,
  port: z.number().int().min(1).max(65_535).default(443),
  /** fewer days than this until the certificate expires marks the check degraded */
  warnDays: z.number().int().min(1).max(365).default(14),
  timeoutMs: millis(100, 60_000).default(10_000),
  period: seconds(60, DAY).default(3600),
  ...confirmation,
  ...whereFrom([EDGE]),
});

/** A name resolves (to the expected value, when given). */
export const dnsSettingsSchema = z.object({
  kind: z.literal("dns"),
  host: targetHost.describe("the name to look up"),
  recordType: z.enum(DNS_RECORD_TYPES).default("A"),
  /** an answer must include this value (an address or a name; case and a trailing dot are ignored) */
  expected: z.string().trim().min(1).max(1024).nullable().default(null),
  /** ask this resolver ("ip" or "ip:port") instead of the system's */
  server: z
    .string()
    .max(64)
    .regex(/^[0-9A-Fa-f.:[\]]+$/, "an IP address, optionally with :port")
    .nullable()
    .default(null),
  timeoutMs: millis(100, 60_000).default(5_000),
  degradedAfterMs: millis(1, 60_000).nullable().default(null),
  period: seconds(20, DAY).default(300),
  ...confirmation,
  ...whereFrom([EDGE]),
});

/** ICMP echo from probe locations (the API's runtimes cannot send it): 3 pings per run. */
export const icmpSettingsSchema = z.object({
  kind: z.literal("icmp"),
  host: targetHost,
  timeoutMs: millis(1000, 60_000).default(5_000),
  /** a mean round trip slower than this marks the check degraded */
  degradedAfterMs: millis(1, 60_000).nullable().default(null),
  period: seconds(20, DAY).default(60),
  ...confirmation,
  ...whereFrom(undefined),
});

export const hostSettingsSchema = z.object({
  kind: z.literal("host"),
  hostId: z.string().min(1).max(64),
  /** the probe's interval; the host is down after 3 silent intervals, at least 2 minutes */
  period: seconds(5, 3600).default(30),
});

export const checkSettingsSchema = z.discriminatedUnion("kind", [
  heartbeatSettingsSchema,
  httpSettingsSchema,
  tcpSettingsSchema,
  tlsSettingsSchema,
  dnsSettingsSchema,
  icmpSettingsSchema,
  hostSettingsSchema,
]);
export type CheckSettings = z.infer<typeof checkSettingsSchema>;
export type CheckKindName = CheckSettings["kind"];

export const createCheckRequestSchema = z.discriminatedUnion("kind", [
  heartbeatSettingsSchema.extend(common),
  httpSettingsSchema.extend(common),
  tcpSettingsSchema.extend(common),
  tlsSettingsSchema.extend(common),
  dnsSettingsSchema.extend(common),
  icmpSettingsSchema.extend(common),
  hostSettingsSchema.extend(common),
]);
export type CreateCheckRequest = z.infer<typeof createCheckRequestSchema>;
export type CreateCheckRequestInput = z.input<typeof createCheckRequestSchema>;

/**
 * A partial update. Fields are checked here for type only; the merged check is validated again against
 * its kind's rules, so a change can never produce a check its creation would have refused.
 */
export const updateCheckRequestSchema = z
  .object({
    name: z.string(),
    slug: z.string(),
    tags: z.array(z.string()),
    description: z.string(),
    runbookUrl: z.string().nullable(),
    paused: z.boolean(),
    public: z.boolean(),
    period: z.number().nullable(),
    schedule: z.string().nullable(),
    tz: z.string(),
    grace: z.number(),
    postOnly: z.boolean(),
    keepPaused: z.boolean(),
    bodyKeywords: z.unknown(),
    minRun: z.number().nullable(),
    maxRun: z.number().nullable(),
    startGrace: z.number().nullable(),
    minInterval: z.number().nullable(),
    slowerThanUsual: z.number().nullable(),
    url: z.string(),
    method: z.string(),
    headers: z.record(z.string(), z.string()),
    body: z.string().nullable(),
    expectedStatus: z.array(z.string()),
    keyword: z.string().nullable(),
    keywordMode: z.string(),
    timeoutMs: z.number(),
    degradedAfterMs: z.number().nullable(),
    followRedirects: z.boolean(),
    host: z.string(),
    port: z.number(),
    warnDays: z.number(),
    recordType: z.string(),
    expected: z.string().nullable(),
    server: z.string().nullable(),
    locations: z.array(z.string()),
    quorum: z.number(),
    hostId: z.string(),
    failuresToDown: z.number(),
    successesToUp: z.number(),
  })
  .partial()
  .strict();
export type UpdateCheckRequest = z.infer<typeof updateCheckRequestSchema>;

export const locationStatuses = ["new", "up", "degraded", "down", "unknown"] as const;

/** What one location of an active check last saw. */
export const checkLocationSchema = z.object({
  name: z.string(),
  /** its own confirmed status; `unknown` when it stopped reporting or may not reach the target */
  status: z.enum(locationStatuses),
  lastRunAt: epochMs.nullable(),
  responseMs: z.number().int().nullable(),
  error: z.string().nullable(),
});
export type CheckLocation = z.infer<typeof checkLocationSchema>;

/** A check as the API shows it: its settings (the same names as on creation) and its state. */
export const checkSchema = z.intersection(
  z.object({
    id: z.uuid(),
    name: z.string(),
    slug: z.string().nullable(),
    tags: z.array(z.string()),
    description: z.string(),
    runbookUrl: z.string().nullable(),
    paused: z.boolean(),
    public: z.boolean(),
    status: checkStatusSchema,
    /** where a heartbeat is pinged; null for other kinds */
    pingUrl: z.string().nullable(),
    lastPingAt: epochMs.nullable(),
    /** heartbeats: when the next ping is expected; active checks: the next run */
    nextDueAt: epochMs.nullable(),
    lastRunAt: epochMs.nullable(),
    lastError: z.string().nullable(),
    /** active checks: each location's view (empty for heartbeats and host checks) */
    locationResults: z.array(checkLocationSchema),
    createdAt: epochMs,
    updatedAt: epochMs,
  }),
  checkSettingsSchema,
);
export type Check = z.infer<typeof checkSchema>;

export const pingKindSchema = z.enum(["success", "start", "fail", "log", "ignored"]);

export const pingSchema = z.object({
  id: z.number().int(),
  kind: pingKindSchema,
  exitStatus: z.number().int().min(0).max(255).nullable(),
  rid: z.string().nullable(),
  /** start → this ping, when the start was found */
  durationMs: z.number().int().nonnegative().nullable(),
  method: z.string(),
  body: z.string().nullable(),
  userAgent: z.string().nullable(),
  remoteAddr: z.string().nullable(),
  at: epochMs,
});
export type Ping = z.infer<typeof pingSchema>;

export const checkRunSchema = z.object({
  id: z.number().int(),
  at: epochMs,
  result: z.enum(["up", "degraded", "down"]),
  responseMs: z.number().int().nullable(),
  httpStatus: z.number().int().nullable(),
  tlsDaysLeft: z.number().int().nullable(),
  error: z.string().nullable(),
  /** `edge` or the probe location it ran from */
  location: z.string(),
});
export type CheckRun = z.infer<typeof checkRunSchema>;

export const flipSchema = z.object({
  id: z.number().int(),
  subjectType: z.enum(["check", "alert"]),
  subjectId: z.string(),
  from: z.string(),
  to: z.string(),
  cause: z.string(),
  at: epochMs,
});
export type Flip = z.infer<typeof flipSchema>;

export const incidentSchema = z.object({
  id: z.string(),
  subjectType: z.enum(["check", "alert"]),
  subjectId: z.string(),
  cause: z.string(),
  openedAt: epochMs,
  resolvedAt: epochMs.nullable(),
  resolution: z.string().nullable(),
});
export type Incident = z.infer<typeof incidentSchema>;

/** One UTC day of a check's history; `uptime` is null when the check was neither up nor down that day. */
export const uptimeDaySchema = z.object({
  day: z.string().describe("YYYY-MM-DD, UTC"),
  upMs: z.number().int().nonnegative(),
  degradedMs: z.number().int().nonnegative(),
  downMs: z.number().int().nonnegative(),
  uptime: z.number().min(0).max(1).nullable(),
});
export type UptimeDay = z.infer<typeof uptimeDaySchema>;

/** Query of list endpoints that page backwards in time. */
export const historyQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/** `GET /checks/:id/runs`: optionally one location's runs only. */
export const runsQuerySchema = historyQuerySchema.extend({
  location: checkLocationName.optional(),
});

export const uptimeQuerySchema = z.object({
  days: z.coerce.number().int().min(1).max(400).default(90),
});

/** The largest ping body kept, in bytes; sent back in the `Ping-Body-Limit` header. */
export const PING_BODY_LIMIT = 100_000;

/** Daily uptime of every check of the project at once (`GET /checks/uptime`), for the list's 90-day bars. */
export const projectUptimeSchema = z.object({
  checks: z.array(z.object({ checkId: z.uuid(), days: z.array(uptimeDaySchema) })),
});
export type ProjectUptime = z.infer<typeof projectUptimeSchema>;

export const schedulePreviewQuerySchema = z.object({
  schedule: z.string().trim().min(9).max(100),
  tz: z.string().min(1).max(64).default("UTC"),
  count: z.coerce.number().int().min(1).max(20).default(5),
});

/** A cron expression read back (`GET /checks/schedule-preview`): in words, and its next run times. */
export const schedulePreviewSchema = z.object({
  schedule: z.string(),
  tz: z.string(),
  description: z.string(),
  nextRuns: z.array(epochMs),
});
export type SchedulePreview = z.infer<typeof schedulePreviewSchema>;

/** A place checks can run from (`GET /locations`): `edge`, and every probe that runs checks. */
export const checkLocationSourceSchema = z.object({
  name: z.string(),
  /** `edge`: the API's own runtime; `probe`: a probe on one of the project's hosts */
  type: z.enum(["edge", "probe"]),
  /** the check kinds it can run */
  kinds: z.array(z.string()),
  /** probes: the host(s) reporting under this name */
  hosts: z.array(
    z.object({ id: z.string(), name: z.string(), online: z.boolean(), lastSeenAt: epochMs.nullable() }),
  ),
  /** checks that list it */
  checks: z.number().int().nonnegative(),
});
export type CheckLocationSource = z.infer<typeof checkLocationSourceSchema>;
