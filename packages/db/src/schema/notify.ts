/**
 * Alert delivery: where notices go (channels), what is to be said (notifications, one per flip and
 * channel), each message as sent (deliveries, one or more notifications grouped) and every try at sending
 * it (delivery_attempts). Reminders keep the next "still down" notice of a subject per channel.
 *
 * The path of a state change: flip → notifications (queued, or suppressed with a reason) → a delivery per
 * channel that takes every queued notification of that channel → attempts until sent, given up, or refused.
 */
import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import type { SubjectType } from "./checks.ts";
import { ms } from "./columns.ts";
import { projectRef } from "./core.ts";

/** The kinds the API accepts (@vigil/contract `channelKinds`), as stored. */
export type ChannelKind = ChannelConfig["kind"];

/** Settings per kind; a webhook's signing secret is kept apart, sealed (see `sealSecret`). */
export type ChannelConfig =
  | { kind: "email"; to: string[] }
  | {
      kind: "webhook";
      url: string;
      headers: Record<string, string>;
      /** absent on channels made before Standard Webhooks: "vigil" */
      signature?: "vigil" | "standard";
    }
  | { kind: "slack" | "discord"; url: string }
  | { kind: "ntfy"; url: string; priority: number }
  | DestinationConfig;

/**
 * Chat, paging and push services (@vigil/notify destinations.ts). `url` is the service's API base; the
 * service's credential (bot token, routing key, API key, app token, access token) is sealed apart, like a
 * webhook's secret.
 */
export type DestinationConfig =
  | { kind: "telegram"; url: string; chatId: string }
  | { kind: "teams"; url: string }
  | { kind: "pagerduty"; url: string; severity: "critical" | "error" | "warning" | "info" }
  | { kind: "opsgenie"; url: string; priority: "P1" | "P2" | "P3" | "P4" | "P5" }
  | { kind: "pushover"; url: string; userKey: string; priority: number }
  | { kind: "gotify"; url: string; priority: number }
  | { kind: "matrix"; url: string; roomId: string };

export const channels = sqliteTable(
  "channels",
  {
    id: text("id").primaryKey(),
    projectId: projectRef(),
    name: text("name").notNull(),
    kind: text("kind").$type<ChannelKind>().notNull(),
    config: text("config", { mode: "json" }).$type<ChannelConfig>().notNull(),
    /** AES-GCM sealed HMAC secret of a webhook; null when requests go unsigned */
    secretSealed: text("secret_sealed"),
    /** which transitions notify: down, up, late, degraded */
    events: text("events", { mode: "json" }).$type<string[]>().notNull(),
    /** a TLS check's certificate nearing expiry (degraded) notifies even when `degraded` is not in events */
    tlsExpiry: integer("tls_expiry", { mode: "boolean" }).notNull().default(true),
    /** the project default: every subject notifies it; otherwise only the tags and subjects below */
    isDefault: integer("is_default", { mode: "boolean" }).notNull().default(false),
    tags: text("tags", { mode: "json" }).$type<string[]>().notNull().default(sql`'[]'`),
    /** check or rule ids routed here */
    subjectIds: text("subject_ids", { mode: "json" }).$type<string[]>().notNull().default(sql`'[]'`),
    /** repeat a "still down" notice this often; null = off */
    reminderSec: integer("reminder_sec"),
    /** reminders per outage at most; null: no cap */
    reminderLimit: integer("reminder_limit"),
    /** queued notices wait this long for others to share one message */
    groupWindowSec: integer("group_window_sec").notNull().default(0),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    /** set when a delivery was refused for good (a 4xx, a bad address) or retries ran out */
    failingSince: ms("failing_since"),
    lastError: text("last_error"),
    lastSentAt: ms("last_sent_at"),
    createdAt: ms("created_at").notNull(),
    updatedAt: ms("updated_at").notNull(),
  },
  (t) => [index("channels_project_idx").on(t.projectId, t.createdAt)],
);

const channelRef = () =>
  text("channel_id")
    .notNull()
    .references(() => channels.id, { onDelete: "cascade" });

export type NotificationKind = "change" | "reminder" | "test";
/** `failed`: the notice could not be queued or rendered; `suppressed_reason` then holds the error. */
export type NotificationState = "queued" | "suppressed" | "batched" | "failed";

export const notifications = sqliteTable(
  "notifications",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    projectId: projectRef(),
    channelId: channelRef(),
    kind: text("kind").$type<NotificationKind>().notNull(),
    /** the flip this tells of (a reminder: the flip into down); null for a test send */
    flipId: integer("flip_id"),
    subjectType: text("subject_type").$type<SubjectType>(),
    subjectId: text("subject_id"),
    event: text("event").notNull(),
    /** the line it stands for, fixed when queued: "DOWN: web-1 disk / 93%" (lists of held-back notices) */
    title: text("title").notNull(),
    /** the change as the message tells it (notificationChangeSchema), fixed when queued */
    change: text("change", { mode: "json" }).$type<unknown>().notNull(),
    state: text("state").$type<NotificationState>().notNull(),
    /** why it did not go out: the suppression (silence, maintenance, inhibition) or, when failed, the error */
    suppressedReason: text("suppressed_reason"),
    /** an inhibited notice: the subject (type:id) whose down notice lists it */
    inhibitedBy: text("inhibited_by"),
    deliveryId: text("delivery_id"),
    /** not sent before this moment (grouping window) */
    dueAt: ms("due_at").notNull(),
    createdAt: ms("created_at").notNull(),
  },
  (t) => [
    // A flip re-claimed after its dispatcher died must not queue a second notice.
    uniqueIndex("notifications_flip_channel_idx").on(t.flipId, t.channelId).where(sql`kind = 'change'`),
    index("notifications_queued_idx").on(t.state, t.dueAt),
    index("notifications_delivery_idx").on(t.deliveryId),
    index("notifications_subject_idx").on(t.projectId, t.subjectType, t.subjectId, t.createdAt),
    index("notifications_inhibited_idx").on(t.inhibitedBy),
  ],
);

export type DeliveryState = "pending" | "sending" | "sent" | "failed";

export const deliveries = sqliteTable(
  "deliveries",
  {
    id: text("id").primaryKey(),
    projectId: projectRef(),
    channelId: channelRef(),
    state: text("state").$type<DeliveryState>().notNull(),
    /** the message, rendered once, so every retry sends the same thing */
    title: text("title").notNull(),
    payload: text("payload", { mode: "json" }).$type<unknown>().notNull(),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: ms("next_attempt_at").notNull(),
    /** lease of the dispatcher sending it; a stale lease is taken over */
    claimedAt: ms("claimed_at"),
    createdAt: ms("created_at").notNull(),
    sentAt: ms("sent_at"),
    lastError: text("last_error"),
  },
  (t) => [
    index("deliveries_due_idx").on(t.state, t.nextAttemptAt),
    index("deliveries_channel_idx").on(t.channelId, t.createdAt),
  ],
);

export const deliveryAttempts = sqliteTable(
  "delivery_attempts",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    projectId: projectRef(),
    deliveryId: text("delivery_id")
      .notNull()
      .references(() => deliveries.id, { onDelete: "cascade" }),
    at: ms("at").notNull(),
    outcome: text("outcome").$type<"sent" | "transient" | "permanent">().notNull(),
    /** the receiver's HTTP status or SMTP reply code, when there was one */
    status: integer("status"),
    error: text("error"),
    latencyMs: integer("latency_ms").notNull(),
  },
  (t) => [index("delivery_attempts_delivery_idx").on(t.deliveryId, t.id)],
);

/** The next "still down" notice of a subject for a channel with reminders on; gone once it recovers. */
export const reminders = sqliteTable(
  "reminders",
  {
    projectId: projectRef(),
    channelId: channelRef(),
    subjectType: text("subject_type").$type<SubjectType>().notNull(),
    subjectId: text("subject_id").notNull(),
    /** the flip into down that the reminders repeat */
    flipId: integer("flip_id").notNull(),
    nextAt: ms("next_at").notNull(),
    /** reminders sent for this outage so far (the channel's reminderLimit caps it) */
    sent: integer("sent").notNull().default(0),
  },
  (t) => [
    uniqueIndex("reminders_subject_idx").on(t.channelId, t.subjectType, t.subjectId),
    index("reminders_due_idx").on(t.nextAt),
  ],
);

export type ChannelRow = typeof channels.$inferSelect;
export type NotificationRow = typeof notifications.$inferSelect;
export type DeliveryRow = typeof deliveries.$inferSelect;
export type DeliveryAttemptRow = typeof deliveryAttempts.$inferSelect;
export type ReminderRow = typeof reminders.$inferSelect;
