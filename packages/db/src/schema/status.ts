/**
 * Public status pages (issue 8): pages and their ordered components, incidents written by operators (or
 * their notes on automatic ones), scheduled maintenance, and the daily response-time rollup the page's
 * sparklines read. Nothing here is read on a page render except by primary key or a project-scoped index.
 */
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { checkRef } from "./checks.ts";
import { ms } from "./columns.ts";
import { projectRef } from "./core.ts";

/** What a status page component, or an incident's affected object, points at. */
export type StatusSubjectType = "check" | "host";
export interface StatusSubjectRef {
  type: StatusSubjectType;
  id: string;
}

export const statusPages = sqliteTable(
  "status_pages",
  {
    id: text("id").primaryKey(),
    projectId: projectRef(),
    /** Globally unique: `/status/<slug>` names no project. */
    slug: text("slug").notNull().unique(),
    title: text("title").notNull(),
    description: text("description").notNull().default(""),
    logoUrl: text("logo_url"),
    /** IANA zone whose midnights bound the page's daily bars. */
    timezone: text("timezone").notNull().default("UTC"),
    /** Lower-case host name; a request with this Host is served the page at `/`. */
    customDomain: text("custom_domain").unique(),
    createdAt: ms("created_at").notNull(),
    /** Bumped by every change to the page or to the project's status incidents and maintenance (cache key). */
    updatedAt: ms("updated_at").notNull(),
  },
  (t) => [index("status_pages_project_idx").on(t.projectId)],
);

export const statusPageComponents = sqliteTable(
  "status_page_components",
  {
    id: text("id").primaryKey(),
    pageId: text("page_id")
      .notNull()
      .references(() => statusPages.id, { onDelete: "cascade" }),
    projectId: projectRef(),
    position: integer("position").notNull(),
    /** Components with the same heading, in a row, form one group; null: ungrouped. */
    heading: text("heading"),
    displayName: text("display_name").notNull(),
    subjectType: text("subject_type").$type<StatusSubjectType>().notNull(),
    subjectId: text("subject_id").notNull(),
  },
  (t) => [
    index("status_page_components_page_idx").on(t.pageId, t.position),
    index("status_page_components_subject_idx").on(t.subjectType, t.subjectId),
  ],
);

export const incidentImpacts = ["none", "minor", "major", "critical"] as const;
export type IncidentImpact = (typeof incidentImpacts)[number];
export const incidentProgress = ["investigating", "identified", "monitoring", "resolved"] as const;
export type IncidentProgress = (typeof incidentProgress)[number];

/**
 * An incident as the status page tells it. Either written by hand (`source_incident_id` null), or an
 * operator's edit of an automatic check incident (`incidents` row), which keeps opening and resolving
 * on its own; this row only carries the title, impact and updates people wrote.
 */
export const statusIncidents = sqliteTable(
  "status_incidents",
  {
    id: text("id").primaryKey(),
    projectId: projectRef(),
    sourceIncidentId: text("source_incident_id").unique(),
    title: text("title"),
    impact: text("impact").$type<IncidentImpact>(),
    /** Objects it affects (hand-written incidents); empty: the whole project. */
    affects: text("affects", { mode: "json" }).$type<StatusSubjectRef[]>().notNull().default(sql`'[]'`),
    startedAt: ms("started_at").notNull(),
    resolvedAt: ms("resolved_at"),
    createdAt: ms("created_at").notNull(),
    updatedAt: ms("updated_at").notNull(),
  },
  (t) => [index("status_incidents_project_idx").on(t.projectId, t.startedAt)],
);

export const statusIncidentUpdates = sqliteTable(
  "status_incident_updates",
  {
    id: text("id").primaryKey(),
    projectId: projectRef(),
    statusIncidentId: text("status_incident_id")
      .notNull()
      .references(() => statusIncidents.id, { onDelete: "cascade" }),
    status: text("status").$type<IncidentProgress>().notNull(),
    message: text("message").notNull(),
    at: ms("at").notNull(),
  },
  (t) => [index("status_incident_updates_incident_idx").on(t.statusIncidentId, t.at)],
);

/** Scheduled maintenance as shown on status pages (display only; it silences nothing). */
export const statusMaintenance = sqliteTable(
  "status_maintenance",
  {
    id: text("id").primaryKey(),
    projectId: projectRef(),
    title: text("title").notNull(),
    description: text("description").notNull().default(""),
    startsAt: ms("starts_at").notNull(),
    endsAt: ms("ends_at").notNull(),
    /** empty: the whole project */
    affects: text("affects", { mode: "json" }).$type<StatusSubjectRef[]>().notNull().default(sql`'[]'`),
    createdAt: ms("created_at").notNull(),
    updatedAt: ms("updated_at").notNull(),
  },
  (t) => [index("status_maintenance_project_idx").on(t.projectId, t.endsAt)],
);

export type StatusSubscriberKind = "email" | "webhook";

/**
 * People and systems that follow a status page: an email address (double opt-in: `confirmed_at` stays null
 * until the link in the confirmation mail is opened) or a webhook URL (confirmed at once). They hear of
 * incidents and maintenance the page shows, for all its components or the ones they chose.
 */
export const statusSubscribers = sqliteTable(
  "status_subscribers",
  {
    id: text("id").primaryKey(),
    projectId: projectRef(),
    pageId: text("page_id")
      .notNull()
      .references(() => statusPages.id, { onDelete: "cascade" }),
    kind: text("kind").$type<StatusSubscriberKind>().notNull(),
    /** a lower-cased email address, or the webhook URL */
    address: text("address").notNull(),
    /** component ids of the page to hear about; empty: everything the page shows */
    components: text("components", { mode: "json" }).$type<string[]>().notNull().default(sql`'[]'`),
    /** where links in its notices point (the public URL, or the origin it subscribed through) */
    baseUrl: text("base_url").notNull(),
    confirmedAt: ms("confirmed_at"),
    /** when the last confirmation mail was queued: a repeated subscription re-sends it at most this often */
    confirmSentAt: ms("confirm_sent_at"),
    createdAt: ms("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("status_subscribers_page_address_idx").on(t.pageId, t.address),
    index("status_subscribers_project_idx").on(t.projectId),
  ],
);

/**
 * Links sent to a subscriber, stored as SHA-256 hashes: each mail carries a fresh one (confirm, or manage
 * for unsubscribing), so no plain token is ever stored and no server key is needed to make them.
 */
export const statusSubscriberTokens = sqliteTable(
  "status_subscriber_tokens",
  {
    tokenHash: text("token_hash").primaryKey(),
    projectId: projectRef(),
    subscriberId: text("subscriber_id")
      .notNull()
      .references(() => statusSubscribers.id, { onDelete: "cascade" }),
    purpose: text("purpose").$type<"confirm" | "manage">().notNull(),
    createdAt: ms("created_at").notNull(),
  },
  (t) => [index("status_subscriber_tokens_subscriber_idx").on(t.subscriberId)],
);

export type StatusNoticeKind = "confirm" | "incident" | "maintenance";

/**
 * The outbox of subscriber notices: one row per subscriber and announcement, sent by the dispatcher with a
 * lease and retried with backoff like alert deliveries. `content` is what the announcement says; links
 * (with fresh tokens) are added when it is sent.
 */
export const statusNotices = sqliteTable(
  "status_notices",
  {
    id: text("id").primaryKey(),
    projectId: projectRef(),
    subscriberId: text("subscriber_id")
      .notNull()
      .references(() => statusSubscribers.id, { onDelete: "cascade" }),
    kind: text("kind").$type<StatusNoticeKind>().notNull(),
    content: text("content", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    state: text("state").$type<"pending" | "sending" | "sent" | "failed">().notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: ms("next_attempt_at").notNull(),
    claimedAt: ms("claimed_at"),
    lastError: text("last_error"),
    createdAt: ms("created_at").notNull(),
    sentAt: ms("sent_at"),
  },
  (t) => [
    index("status_notices_due_idx").on(t.state, t.nextAttemptAt),
    index("status_notices_subscriber_idx").on(t.subscriberId),
  ],
);

/**
 * Response times of active check runs per check, location and UTC day: count and sum (the mean draws the sparkline)
 * and the slowest. Written with each run in the same guarded batch as the run row.
 */
export const responseDaily = sqliteTable(
  "response_daily",
  {
    projectId: projectRef(),
    checkId: checkRef(),
    /** `edge` or a probe location's name */
    location: text("location").notNull().default("edge"),
    /** 00:00 UTC of the day, ms */
    day: ms("day").notNull(),
    runs: integer("runs").notNull().default(0),
    totalMs: integer("total_ms").notNull().default(0),
    maxMs: integer("max_ms").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.checkId, t.location, t.day] })],
);

export type StatusPageRow = typeof statusPages.$inferSelect;
export type StatusPageComponentRow = typeof statusPageComponents.$inferSelect;
export type StatusIncidentRow = typeof statusIncidents.$inferSelect;
export type StatusIncidentUpdateRow = typeof statusIncidentUpdates.$inferSelect;
export type StatusMaintenanceRow = typeof statusMaintenance.$inferSelect;
export type ResponseDailyRow = typeof responseDaily.$inferSelect;
export type StatusSubscriberRow = typeof statusSubscribers.$inferSelect;
export type StatusNoticeRow = typeof statusNotices.$inferSelect;
