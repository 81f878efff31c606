/**
 * Public status pages (issue 8): pages and their ordered components, incidents written by operators (or
 * their notes on automatic ones), scheduled maintenance, and the daily response-time rollup the page's
 * sparklines read. Nothing here is read on a page render except by primary key or a project-scoped index.
 */
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
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

/**
 * Response times of active check runs per check and UTC day: count and sum (the mean draws the sparkline)
 * and the slowest. Written with each run in the same guarded batch as the run row.
 */
export const responseDaily = sqliteTable(
  "response_daily",
  {
    projectId: projectRef(),
    checkId: checkRef(),
    /** 00:00 UTC of the day, ms */
    day: ms("day").notNull(),
    runs: integer("runs").notNull().default(0),
    totalMs: integer("total_ms").notNull().default(0),
    maxMs: integer("max_ms").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.checkId, t.day] })],
);

export type StatusPageRow = typeof statusPages.$inferSelect;
export type StatusPageComponentRow = typeof statusPageComponents.$inferSelect;
export type StatusIncidentRow = typeof statusIncidents.$inferSelect;
export type StatusIncidentUpdateRow = typeof statusIncidentUpdates.$inferSelect;
export type StatusMaintenanceRow = typeof statusMaintenance.$inferSelect;
export type ResponseDailyRow = typeof responseDaily.$inferSelect;
