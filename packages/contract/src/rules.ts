/**
 * Alert rules, alerts, silences and maintenance windows on the wire. Durations people type are seconds
 * (`forSec`), minutes or hours where the issue speaks of them so (`durationMinutes`, `maxAgeHours`).
 */
import { z } from "zod";
import { httpUrl, wireTime } from "./common.ts";

const DAY = 86_400;
const name = z.string().trim().min(1).max(100);
const text = (max: number) => z.string().trim().min(1).max(max);

export const comparisonOps = [">", ">=", "<", "<="] as const;
/**
 * How a metric rule reads its series: the newest value, a window's average, maximum or minimum, a
 * counter's per-second `rate` over the window (restarts handled as Prometheus does), or a gauge's `delta`
 * (its change across the window: newest minus oldest).
 */
export const aggregations = ["last", "avg", "max", "min", "rate", "delta"] as const;

/**
 * Kind-specific parameters. State rules are `reboot_required`, `security_updates`, `failed_units`,
 * `container`, `ssh_keys`, `backup` and the backup assurance kinds (`backup_check`, `backup_drill`,
 * `backup_copies`, `backup_size`); `host_down` configures the host liveness check (see README).
 */
export const ruleParamsSchemas = {
  metric: z.object({
    /**
     * a stored series name: built-in (`fs.used_pct`, `mem.available_pct`, `load.1`, `cpu.iowait_pct`) or a
     * custom metric's own (`queue_depth`, `http_requests_total`)
     */
    metric: text(200),
    /** only series carrying these labels (`mount`, `device`, `interface`, `fstype`; a custom metric's own) */
    labels: z.record(text(100), z.string().max(1024)).default({}),
    aggregation: z.enum(aggregations).default("last"),
    /** the window the aggregation covers; ignored for `last` */
    windowSec: z.number().int().min(30).max(DAY).default(300),
    op: z.enum(comparisonOps),
    value: z.number(),
    /** hysteresis: once pending or firing, the alert holds until the value crosses this instead */
    clearValue: z.number().nullable().default(null),
    /** divide by the host's CPU count first (load per core) */
    perCore: z.boolean().default(false),
  }),
  reboot_required: z.object({ days: z.number().min(0).max(365).default(7) }),
  security_updates: z.object({ days: z.number().min(0).max(365).default(7) }),
  failed_units: z.object({
    /** only these units; empty means any */
    units: z.array(text(256)).max(100).default([]),
  }),
  container: z.object({
    /** only this container name; absent means every container */
    container: text(256).nullable().default(null),
    notRunning: z.boolean().default(true),
    unhealthy: z.boolean().default(true),
    /** more than this many restarts within `windowMinutes` */
    restarts: z.number().int().min(1).max(1000).default(3),
    windowMinutes: z.number().int().min(1).max(1440).default(15),
  }),
  ssh_keys: z.object({}),
  backup: z.object({
    /** only this backup name; absent means each name on its own */
    name: text(128).nullable().default(null),
    maxAgeHours: z
      .number()
      .min(0.1)
      .max(24 * 365)
      .default(26),
    /** the last run of a name failed */
    failed: z.boolean().default(true),
  }),
  /**
   * A repository this host checks (`vigil-probe backup-check`): its newest check found damage or could not
   * run (`failed`), or no check has run for `maxAgeDays`.
   */
  backup_check: z.object({
    /** only this repository name; absent means each repository on its own */
    name: text(128).nullable().default(null),
    failed: z.boolean().default(true),
    maxAgeDays: z.number().min(0.1).max(365).default(8),
  }),
  /**
   * A repository this host checks: its newest restore drill (`vigil-probe backup-drill`) failed (`failed`),
   * or none came back identical for `maxAgeDays` (counted from when the repository was first seen).
   */
  backup_drill: z.object({
    name: text(128).nullable().default(null),
    failed: z.boolean().default(true),
    maxAgeDays: z.number().min(0.1).max(365).default(35),
  }),
  /**
   * This host's backed-up data against 3-2-1: fewer backup copies than `minCopies` (the live data not
   * counted; 0 turns it off), no copy off site (`offsite`), or a copy whose newest snapshot of the data,
   * as its last check saw it, is older than `maxAgeHours` (null turns it off).
   */
  backup_copies: z.object({
    minCopies: z.number().int().min(0).max(10).default(2),
    offsite: z.boolean().default(true),
    maxAgeHours: z
      .number()
      .min(1)
      .max(24 * 365)
      .nullable()
      .default(192),
  }),
  /**
   * A repository this host checks shrank by more than `shrinkPct` percent between two good checks (data
   * pruned or lost unexpectedly), or holds more than `maxBytes`; null turns either off.
   */
  backup_size: z.object({
    name: text(128).nullable().default(null),
    shrinkPct: z.number().min(1).max(100).nullable().default(20),
    maxBytes: z.number().positive().nullable().default(null),
  }),
  log: z.object({
    /** `_SYSTEMD_UNIT`, exactly */
    unit: text(256).nullable().default(null),
    /** `SYSLOG_IDENTIFIER`, exactly (`kernel` for OOM-killer lines) */
    identifier: text(256).nullable().default(null),
    /** this priority or more severe (0 emerg … 7 debug) */
    maxPriority: z.number().int().min(0).max(7).default(7),
    /** case-insensitive substring of the message */
    text: text(500).nullable().default(null),
    windowSec: z.number().int().min(60).max(DAY).default(600),
    /** fires when more than this many entries match within the window */
    above: z.number().int().min(0).max(1_000_000).default(0),
  }),
  forecast: z.object({
    /** only this mount point; absent means every filesystem */
    mount: text(1024).nullable().default(null),
    /** fires when the trend reaches a full filesystem within this many hours */
    withinHours: z
      .number()
      .min(1)
      .max(24 * 90)
      .default(24),
    /** the trend is fitted over this many recent hours */
    lookbackHours: z.number().min(1).max(48).default(6),
  }),
  /** a series that reported before has been silent this long (an app's endpoint gone, a job stopped pushing) */
  metric_absent: z.object({
    metric: text(200),
    labels: z.record(text(100), z.string().max(1024)).default({}),
    minutes: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 60)
      .default(10),
  }),
  host_down: z.object({
    /** the probe interval the liveness check expects: down after 3 silent intervals, at least 2 minutes */
    periodSec: z.number().int().min(5).max(3600).default(30),
  }),
} as const;
export type RuleKindName = keyof typeof ruleParamsSchemas;
export const ruleKindNames = Object.keys(ruleParamsSchemas) as RuleKindName[];
export type RuleParams<K extends RuleKindName = RuleKindName> = z.infer<(typeof ruleParamsSchemas)[K]>;

const scopeFields = {
  /** all hosts, hosts carrying `tag`, or the host `hostId` */
  scope: z.enum(["all", "tag", "host"]).default("all"),
  tag: text(50).nullable().default(null),
  hostId: text(64).nullable().default(null),
};

const lifecycleFields = {
  /** the condition must hold this long (pending) before the alert fires */
  forSec: z
    .number()
    .int()
    .min(0)
    .max(30 * DAY)
    .default(0),
  /** once firing, keep firing this long after the condition clears (against flapping) */
  keepFiringForSec: z
    .number()
    .int()
    .min(0)
    .max(30 * DAY)
    .default(0),
  description: z.string().max(2000).default(""),
  runbookUrl: httpUrl.nullable().default(null),
  enabled: z.boolean().default(true),
};

const scopeRefinement = (r: { scope?: string; tag?: string | null; hostId?: string | null }) =>
  (r.scope !== "tag" || !!r.tag) && (r.scope !== "host" || !!r.hostId);
const scopeMessage = { message: "scope tag needs `tag`, scope host needs `hostId`", path: ["scope"] };

export const createRuleRequestSchema = z
  .object({
    name,
    kind: z.enum(ruleKindNames as [RuleKindName, ...RuleKindName[]]),
    params: z.record(z.string(), z.unknown()).default({}),
    ...scopeFields,
    ...lifecycleFields,
  })
  .refine(scopeRefinement, scopeMessage);
export type CreateRuleRequest = z.infer<typeof createRuleRequestSchema>;

/** Every field optional; `params` are merged into the rule's current ones and checked against its kind. */
export const updateRuleRequestSchema = z
  .object({
    name: name.optional(),
    params: z.record(z.string(), z.unknown()).optional(),
    scope: scopeFields.scope.unwrap().optional(),
    tag: scopeFields.tag.unwrap().nullable().optional(),
    hostId: scopeFields.hostId.unwrap().nullable().optional(),
    forSec: lifecycleFields.forSec.unwrap().optional(),
    keepFiringForSec: lifecycleFields.keepFiringForSec.unwrap().optional(),
    description: lifecycleFields.description.unwrap().optional(),
    runbookUrl: httpUrl.nullable().optional(),
    enabled: z.boolean().optional(),
  })
  .strict();
export type UpdateRuleRequest = z.infer<typeof updateRuleRequestSchema>;

export interface Rule {
  id: string;
  name: string;
  kind: RuleKindName;
  builtin: string | null;
  enabled: boolean;
  scope: "all" | "tag" | "host";
  tag: string | null;
  hostId: string | null;
  params: Record<string, unknown>;
  forSec: number;
  keepFiringForSec: number;
  description: string;
  runbookUrl: string | null;
  createdAt: number;
  updatedAt: number;
}

export const alertStateNames = ["inactive", "pending", "firing"] as const;

export const listAlertsQuerySchema = z.object({
  hostId: text(64).optional(),
  ruleId: text(64).optional(),
  /** default: pending and firing */
  state: z.enum([...alertStateNames, "all"]).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});

export interface Alert {
  id: string;
  ruleId: string;
  ruleName: string;
  hostId: string;
  hostName: string;
  targetKey: string;
  labels: Record<string, string>;
  name: string;
  state: (typeof alertStateNames)[number];
  stateChangedAt: number;
  pendingSince: number | null;
  firingSince: number | null;
  keepFiringUntil: number | null;
  value: number | null;
  cause: string;
  evaluatedAt: number;
}

const matcherFields = {
  hostId: text(64).optional(),
  tag: text(50).optional(),
  ruleId: text(64).optional(),
  checkId: text(64).optional(),
};
const hasMatcher = (m: Record<string, unknown>) =>
  ["hostId", "tag", "ruleId", "checkId"].some((k) => m[k] !== undefined);
const matcherMessage = { message: "give at least one of hostId, tag, ruleId, checkId", path: ["hostId"] };

/** One request from a deploy hook: `{"hostId": …, "durationMinutes": 10, "comment": "kamal deploy"}`. */
export const createSilenceRequestSchema = z
  .object({
    ...matcherFields,
    /** defaults to now */
    startsAt: wireTime.optional(),
    endsAt: wireTime.optional(),
    durationMinutes: z
      .number()
      .int()
      .min(1)
      .max(90 * 1440)
      .optional(),
    comment: z.string().max(1000).default(""),
    author: z.string().max(200).default(""),
  })
  .refine(hasMatcher, matcherMessage)
  .refine((s) => (s.endsAt === undefined) !== (s.durationMinutes === undefined), {
    message: "give either endsAt or durationMinutes",
    path: ["endsAt"],
  });
export type CreateSilenceRequest = z.infer<typeof createSilenceRequestSchema>;

export const listSilencesQuerySchema = z.object({
  /** expired silences too */
  all: z.enum(["0", "1", "true", "false"]).optional(),
});

export interface Silence {
  id: string;
  matchers: { hostId?: string; tag?: string; ruleId?: string; checkId?: string };
  startsAt: number;
  endsAt: number;
  comment: string;
  author: string;
  createdAt: number;
  active: boolean;
}

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "HH:MM, 24-hour");

/** Weekly (`days` + `start`) or cron-like (`schedule`), in a time zone, lasting `durationMinutes`. */
export const createMaintenanceWindowRequestSchema = z
  .object({
    name,
    ...matcherFields,
    /** 0 Sunday … 6 Saturday */
    days: z.array(z.number().int().min(0).max(6)).min(1).max(7).optional(),
    start: hhmm.optional(),
    /** a 5-field cron expression for when each window opens */
    schedule: z.string().trim().min(9).max(100).optional(),
    tz: z.string().min(1).max(64).default("UTC"),
    durationMinutes: z
      .number()
      .int()
      .min(1)
      .max(7 * 1440),
    enabled: z.boolean().default(true),
    comment: z.string().max(1000).default(""),
  })
  .refine(hasMatcher, matcherMessage)
  .refine((w) => (w.schedule === undefined) !== (w.days === undefined && w.start === undefined), {
    message: "give either days and start (weekly) or schedule (cron), not both",
    path: ["schedule"],
  })
  .refine((w) => w.schedule !== undefined || (w.days !== undefined && w.start !== undefined), {
    message: "a weekly window needs both days and start",
    path: ["start"],
  });
export type CreateMaintenanceWindowRequest = z.infer<typeof createMaintenanceWindowRequestSchema>;

export interface MaintenanceWindow {
  id: string;
  name: string;
  matchers: { hostId?: string; tag?: string; ruleId?: string; checkId?: string };
  schedule: string;
  tz: string;
  durationMinutes: number;
  enabled: boolean;
  comment: string;
  createdAt: number;
  /** whether a window is open right now */
  active: boolean;
}
