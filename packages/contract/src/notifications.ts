/**
 * What alert delivery says about a state change, whatever changed: a check (heartbeat, HTTP, host
 * liveness …) or a rule's alert on host data. The generic webhook sends `notificationPayloadV1` as its body;
 * email and chat formats are rendered from the same object, so every channel tells the same story.
 */
import { z } from "zod";
import { epochMs, httpUrl } from "./common.ts";

/** The transitions a channel can subscribe to. */
export const notificationEvents = ["down", "up", "late", "degraded"] as const;
export const notificationEventSchema = z.enum(notificationEvents);
export type NotificationEvent = z.infer<typeof notificationEventSchema>;

/** A fact worth a line in the message: "last ping" → "12 min ago (GET from 10.0.0.5)". */
export const notificationFactSchema = z.object({ label: z.string(), value: z.string() });
export type NotificationFact = z.infer<typeof notificationFactSchema>;

/** One journal line (or a line of a job's output) quoted in an alert; secrets already redacted. */
export const notificationLogLineSchema = z.object({
  ts: epochMs,
  /** syslog priority 0 (emerg) – 7 (debug) */
  priority: z.number().int().min(0).max(7),
  /** unit, identifier or container the line came from; null for a job's output */
  source: z.string().nullable(),
  message: z.string(),
});
export type NotificationLogLine = z.infer<typeof notificationLogLineSchema>;

/**
 * The lines that explain a change, oldest first: a failed unit's last lines, a container's, the host's
 * warnings and errors around the moment an alert fired, a failed job's output. At most 50 lines and 4 kB.
 */
export const notificationLogsSchema = z.object({
  /** what the lines are, e.g. "last lines of nginx.service before it failed" */
  title: z.string(),
  lines: z.array(notificationLogLineSchema).max(50),
  /** more lines matched than are shown */
  truncated: z.boolean(),
  /** dashboard path of the log view at that moment, e.g. "/p/<projectId>/logs?host=…&at=…" */
  path: z.string().nullable(),
});
export type NotificationLogs = z.infer<typeof notificationLogsSchema>;

/**
 * The thing that changed, described by the side that owns it (checks, rules). Read fresh when the
 * notification is built, so a rename shows; `summary` is what goes after "DOWN: " in a subject line.
 */
export const notificationSubjectSchema = z.object({
  /** "check" or "alert" (a rule's alert on one host, filesystem, unit …) */
  type: z.enum(["check", "alert"]),
  id: z.string(),
  /** "nightly-backup", "web-1 disk /" */
  name: z.string(),
  /** what the subject line says after the event, e.g. "web-1 disk / 93%" (defaults to name) */
  summary: z.string(),
  tags: z.array(z.string()),
  checkId: z.string().nullable(),
  /** the check's kind (heartbeat, http, tcp, tls, host); null for a rule's alert */
  checkKind: z.string().nullable().default(null),
  ruleId: z.string().nullable(),
  hostId: z.string().nullable(),
  hostName: z.string().nullable(),
  runbookUrl: z.string().nullable(),
  /** path of the subject's page on this server's dashboard, e.g. "/p/<projectId>/checks/<id>" */
  path: z.string(),
  /** cause-specific lines: last ping, response, current value and threshold */
  facts: z.array(notificationFactSchema),
  /** log lines that explain the change, for what goes wrong (not recoveries); null when none apply */
  logs: notificationLogsSchema.nullable().default(null),
});
export type NotificationSubject = z.infer<typeof notificationSubjectSchema>;

/** One state change inside a notification (several when flips within the grouping window are sent as one). */
export const notificationChangeSchema = z.object({
  event: notificationEventSchema,
  subject: notificationSubjectSchema,
  from: z.string(),
  to: z.string(),
  cause: z.string(),
  at: epochMs,
  /** for recoveries: how long the subject was down (or late, degraded, firing), in ms */
  downForMs: z.number().int().nonnegative().nullable(),
  /** true for a reminder that something is still down */
  reminder: z.boolean(),
  /** what was held back because this subject's host was down (listed in host-down notices) */
  heldBack: z.array(z.string()),
});
export type NotificationChange = z.infer<typeof notificationChangeSchema>;

/** The generic webhook body. Receivers should check `version` and ignore fields they do not know. */
export const notificationPayloadV1 = z.object({
  version: z.literal(1),
  /** unique per notification; a receiver that sees the same id twice may drop the second */
  id: z.string(),
  project: z.object({ id: z.string(), name: z.string() }),
  /** true for a test send from the API */
  test: z.boolean(),
  /** "DOWN: nightly-backup", or "3 changes: 2 down, 1 up" for a group */
  title: z.string(),
  changes: z.array(notificationChangeSchema).min(1),
  /** absolute dashboard link when the server knows its public URL */
  url: z.string().nullable(),
  sentAt: epochMs,
});
export type NotificationPayloadV1 = z.infer<typeof notificationPayloadV1>;

/**
 * Why a notification was not sent, though the state change is kept: a silence, a maintenance window, or
 * the subject's host being down (inhibition). `inhibitedBy` names the subject whose notice lists it.
 */
export interface NotificationSuppression {
  reason: string;
  kind: "silence" | "maintenance" | "inhibited";
  inhibitedBy?: { type: "check" | "alert"; id: string };
}

// ---- Channels over the REST API -------------------------------------------------------------------------

const routing = {
  /** which transitions notify */
  events: z.array(notificationEventSchema).min(1).max(4).default(["down", "up"]),
  /** a TLS check's certificate nearing expiry (its `degraded`) notifies even without `degraded` in events */
  tlsExpiry: z.boolean().default(true),
  /** the project default: every check and alert notifies this channel */
  isDefault: z.boolean().default(false),
  /** subjects with any of these tags notify this channel */
  tags: z.array(z.string().trim().min(1).max(50)).max(20).default([]),
  /** these checks or rules (ids) notify this channel */
  subjectIds: z.array(z.string().min(1).max(64)).max(200).default([]),
  /** repeat a "still down" notice this often, in seconds; null = never (the default) */
  reminderSec: z
    .number()
    .int()
    .min(300)
    .max(7 * 86_400)
    .nullable()
    .default(null),
  /** at most this many reminders per outage; null = as long as it lasts (the default) */
  reminderLimit: z.number().int().min(1).max(1000).nullable().default(null),
  /** seconds a notice waits for others to go out in the same message; 0 = send at the next tick */
  groupWindowSec: z.number().int().min(0).max(3600).default(0),
  enabled: z.boolean().default(true),
};

/** The kinds that need a service credential (`token`). */
export const tokenChannelKinds = [
  "telegram",
  "pagerduty",
  "opsgenie",
  "pushover",
  "gotify",
  "matrix",
] as const;

export const channelKinds = [
  "email",
  "webhook",
  "slack",
  "discord",
  "ntfy",
  "teams",
  ...tokenChannelKinds,
] as const;

/** A Matrix room id, as a room's settings show it. */
const matrixRoomId = z
  .string()
  .trim()
  .regex(/^![^:\s]+:\S+$/, "a room id such as !abc:example.org");

/** A service's credential: kept sealed with the server key, never shown again. */
const credential = z.string().trim().min(8).max(500);

const channelSettings = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("email"), to: z.array(z.email().max(254)).min(1).max(20) }),
  z.object({
    kind: z.literal("webhook"),
    url: httpUrl,
    /** extra request headers, e.g. an Authorization the receiver wants */
    headers: z.record(z.string().regex(/^[A-Za-z0-9-]{1,64}$/), z.string().max(1000)).default({}),
    /** signs every request (HMAC-SHA256 over "<timestamp>.<body>"); shown never again */
    secret: z.string().min(16).max(200).optional(),
    /**
     * how requests are signed: "vigil" (Vigil-Signature) or "standard" (Standard Webhooks: webhook-id,
     * webhook-timestamp, webhook-signature; the secret is then `whsec_` and base64, as its libraries expect)
     */
    signature: z.enum(["vigil", "standard"]).default("vigil"),
  }),
  z.object({ kind: z.literal("slack"), url: httpUrl }),
  z.object({ kind: z.literal("discord"), url: httpUrl }),
  z.object({
    kind: z.literal("ntfy"),
    /** the topic URL, e.g. https://ntfy.example/vigil-alerts */
    url: httpUrl,
    /** ntfy priority 1–5 for DOWN notices; recoveries go out at 3 */
    priority: z.number().int().min(1).max(5).default(4),
  }),
  z.object({
    kind: z.literal("telegram"),
    /** the bot token from @BotFather; sealed, shown never again */
    token: credential,
    /** a chat id (-100…) or @channelusername */
    chatId: z.string().trim().min(1).max(100),
    url: httpUrl.default("https://api.telegram.org"),
  }),
  z.object({
    kind: z.literal("teams"),
    /** a Teams Workflows webhook URL ("Post to a channel when a webhook request is received") */
    url: httpUrl,
  }),
  z.object({
    kind: z.literal("pagerduty"),
    /** an Events API v2 integration (routing) key; sealed, shown never again */
    token: credential,
    /** severity of problems; recoveries resolve */
    severity: z.enum(["critical", "error", "warning", "info"]).default("critical"),
    url: httpUrl.default("https://events.pagerduty.com"),
  }),
  z.object({
    kind: z.literal("opsgenie"),
    /** an API integration key; sealed, shown never again */
    token: credential,
    priority: z.enum(["P1", "P2", "P3", "P4", "P5"]).default("P2"),
    /** https://api.opsgenie.com, or https://api.eu.opsgenie.com for the EU instance */
    url: httpUrl.default("https://api.opsgenie.com"),
  }),
  z.object({
    kind: z.literal("pushover"),
    /** the application's API token; sealed, shown never again */
    token: credential,
    /** the user or group key to notify */
    userKey: z.string().trim().min(1).max(100),
    /** Pushover priority −2…1 for problems (recoveries go at 0) */
    priority: z.number().int().min(-2).max(1).default(1),
    url: httpUrl.default("https://api.pushover.net"),
  }),
  z.object({
    kind: z.literal("gotify"),
    /** an application token of the Gotify server; sealed, shown never again */
    token: credential,
    /** the Gotify server */
    url: httpUrl,
    /** Gotify priority 0–10 for problems (recoveries at most 4) */
    priority: z.number().int().min(0).max(10).default(8),
  }),
  z.object({
    kind: z.literal("matrix"),
    /** an access token of the account that posts; sealed, shown never again */
    token: credential,
    /** the homeserver, e.g. https://matrix.example.org */
    url: httpUrl,
    /** the room id (!abc:example.org) the account has joined */
    roomId: matrixRoomId,
  }),
]);

export const createChannelRequestSchema = z
  .object({ name: z.string().trim().min(1).max(100), ...routing })
  .and(channelSettings);
export type CreateChannelRequest = z.infer<typeof createChannelRequestSchema>;

/** Settings that can change; the kind cannot (make a new channel). `secret: null` stops signing. */
export const updateChannelRequestSchema = z
  .object({
    name: z.string().trim().min(1).max(100),
    events: routing.events.unwrap(),
    tlsExpiry: z.boolean(),
    isDefault: z.boolean(),
    tags: routing.tags.unwrap(),
    subjectIds: routing.subjectIds.unwrap(),
    reminderSec: routing.reminderSec.unwrap(),
    reminderLimit: routing.reminderLimit.unwrap(),
    groupWindowSec: routing.groupWindowSec.unwrap(),
    enabled: z.boolean(),
    to: z.array(z.email().max(254)).min(1).max(20),
    url: httpUrl,
    headers: z.record(z.string().regex(/^[A-Za-z0-9-]{1,64}$/), z.string().max(1000)),
    secret: z.string().min(16).max(200).nullable(),
    signature: z.enum(["vigil", "standard"]),
    /** ntfy 1–5, Pushover −2…1, Gotify 0–10, Opsgenie P1–P5 (checked against the channel's kind) */
    priority: z.union([z.number().int().min(-2).max(10), z.enum(["P1", "P2", "P3", "P4", "P5"])]),
    token: credential,
    chatId: z.string().trim().min(1).max(100),
    userKey: z.string().trim().min(1).max(100),
    roomId: matrixRoomId,
    severity: z.enum(["critical", "error", "warning", "info"]),
  })
  .partial()
  .strict();
export type UpdateChannelRequest = z.infer<typeof updateChannelRequestSchema>;

export const channelSchema = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(channelKinds),
  /** kind-specific settings; never the webhook secret, a service token only as "********" */
  settings: z.record(z.string(), z.unknown()),
  signed: z.boolean(),
  events: z.array(notificationEventSchema),
  tlsExpiry: z.boolean(),
  isDefault: z.boolean(),
  tags: z.array(z.string()),
  subjectIds: z.array(z.string()),
  reminderSec: z.number().nullable(),
  reminderLimit: z.number().nullable(),
  groupWindowSec: z.number(),
  enabled: z.boolean(),
  /** "failing" after a delivery was refused for good or ran out of retries, until one succeeds */
  health: z.enum(["ok", "failing"]),
  failingSince: epochMs.nullable(),
  lastError: z.string().nullable(),
  lastSentAt: epochMs.nullable(),
  createdAt: epochMs,
});
export type Channel = z.infer<typeof channelSchema>;

/** One entry of the delivery log (`GET /deliveries`): a notice, and what became of it on its channel. */
export const deliveryLogEntrySchema = z.object({
  notificationId: z.number(),
  channelId: z.string(),
  kind: z.string(),
  event: z.string(),
  title: z.string(),
  subject: z.object({ type: z.string(), id: z.string() }).nullable(),
  state: z.string(),
  suppressedReason: z.string().nullable(),
  /** why a `failed` notice could not be queued or rendered */
  error: z.string().nullable(),
  createdAt: epochMs,
  delivery: z
    .object({
      id: z.string(),
      state: z.string(),
      title: z.string(),
      sentAt: epochMs.nullable(),
      nextAttemptAt: epochMs,
      lastError: z.string().nullable(),
      attempts: z.array(
        z.object({
          at: epochMs,
          outcome: z.string(),
          status: z.number().nullable(),
          error: z.string().nullable(),
          latencyMs: z.number(),
        }),
      ),
    })
    .nullable(),
});
export type DeliveryLogEntry = z.infer<typeof deliveryLogEntrySchema>;

/** The answer to `POST /channels/:id/test`: the test notice's one attempt. */
export const channelTestResultSchema = z.object({
  deliveryId: z.string(),
  sent: z.boolean(),
  outcome: z.string(),
  status: z.number().nullable(),
  error: z.string().nullable(),
  latencyMs: z.number(),
});
export type ChannelTestResult = z.infer<typeof channelTestResultSchema>;

export const deliveryLogQuerySchema = z.object({
  channelId: z.string().min(1).max(64).optional(),
  incidentId: z.string().min(1).max(64).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
