/**
 * Alert rules on host data, the alerts they raise (one per rule and target), and what keeps their
 * notifications quiet: silences and recurring maintenance windows.
 *
 * An alert's state changes are flips (`subject_type = 'alert'`) written in the same batch as the alert row,
 * guarded by compare-and-set on `alerts.cas`, exactly like a check's. `due_at` is the next moment time alone
 * can change an alert (a for-duration ending, keep-firing-for running out, a backup growing too old), so the
 * scheduler reads only what is due, through `alerts_due_idx`.
 */
import { sql } from "drizzle-orm";
import { index, integer, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { ms } from "./columns.ts";
import { hostRef, hosts, projectRef } from "./core.ts";

export const ruleKinds = [
  "metric",
  "reboot_required",
  "security_updates",
  "failed_units",
  "container",
  "ssh_keys",
  "backup",
  "log",
  "forecast",
  "host_down",
  "metric_absent",
  "backup_check",
  "backup_drill",
  "backup_copies",
  "backup_size",
] as const;
export type RuleKind = (typeof ruleKinds)[number];

export type RuleScope = "all" | "tag" | "host";

export const rules = sqliteTable(
  "rules",
  {
    id: text("id").primaryKey(),
    projectId: projectRef(),
    name: text("name").notNull(),
    kind: text("kind").$type<RuleKind>().notNull(),
    /** the built-in pack's key ("fs-full", …); null for rules people made. Built-ins are switched off, not deleted. */
    builtin: text("builtin"),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    scope: text("scope").$type<RuleScope>().notNull().default("all"),
    scopeTag: text("scope_tag"),
    scopeHostId: text("scope_host_id").references(() => hosts.id, { onDelete: "cascade" }),
    /** kind-specific parameters (contract `ruleParams`), as JSON */
    params: text("params", { mode: "json" }).$type<Record<string, unknown>>().notNull().default(sql`'{}'`),
    forSec: integer("for_sec").notNull().default(0),
    keepFiringForSec: integer("keep_firing_for_sec").notNull().default(0),
    description: text("description").notNull().default(""),
    runbookUrl: text("runbook_url"),
    createdAt: ms("created_at").notNull(),
    updatedAt: ms("updated_at").notNull(),
  },
  (t) => [
    index("rules_project_idx").on(t.projectId, t.enabled),
    uniqueIndex("rules_project_builtin_idx").on(t.projectId, t.builtin),
  ],
);

export const alertStates = ["inactive", "pending", "firing"] as const;
export type AlertState = (typeof alertStates)[number];

export const alerts = sqliteTable(
  "alerts",
  {
    id: text("id").primaryKey(),
    projectId: projectRef(),
    ruleId: text("rule_id")
      .notNull()
      .references(() => rules.id, { onDelete: "cascade" }),
    hostId: hostRef(),
    /** what within the host: "" for the host itself, else e.g. `mount=/`, `unit=nginx.service`, `backup=db` */
    targetKey: text("target_key").notNull(),
    labels: text("labels", { mode: "json" }).$type<Record<string, string>>().notNull().default(sql`'{}'`),
    /** how people name the target: "disk /", "unit nginx.service", "memory" */
    label: text("label").notNull(),
    state: text("state").$type<AlertState>().notNull().default("inactive"),
    stateChangedAt: ms("state_changed_at").notNull(),
    pendingSince: ms("pending_since"),
    firingSince: ms("firing_since"),
    /** while firing on a cleared condition: keeps firing until then (keep-firing-for) */
    keepFiringUntil: ms("keep_firing_until"),
    /** state rules that count time (reboot required, updates pending): since when the condition holds */
    conditionSince: ms("condition_since"),
    /** whether the condition held at the last evaluation */
    active: integer("active", { mode: "boolean" }).notNull().default(false),
    lastValue: real("last_value"),
    /** the last evaluation's explanation: "disk / at 93% > 90% for 5 min" */
    cause: text("cause").notNull().default(""),
    /** the last reading for people, in parts: "disk / at 93%", "> 90%", "93%" */
    observed: text("observed").notNull().default(""),
    condition: text("condition").notNull().default(""),
    valueText: text("value_text").notNull().default(""),
    evaluatedAt: ms("evaluated_at").notNull(),
    /** the next moment time alone can change this alert; null when only new data can */
    dueAt: ms("due_at"),
    /** compare-and-set token, replaced by every write (as `checks.cas`) */
    cas: text("cas").notNull(),
    createdAt: ms("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("alerts_target_idx").on(t.ruleId, t.hostId, t.targetKey),
    index("alerts_host_idx").on(t.hostId),
    index("alerts_project_state_idx").on(t.projectId, t.state),
    index("alerts_due_idx").on(t.dueAt),
  ],
);

/** What a silence or maintenance window applies to: every given field must match (at least one is given). */
export interface SubjectMatchers {
  hostId?: string;
  tag?: string;
  ruleId?: string;
  checkId?: string;
}

export const silences = sqliteTable(
  "silences",
  {
    id: text("id").primaryKey(),
    projectId: projectRef(),
    matchers: text("matchers", { mode: "json" }).$type<SubjectMatchers>().notNull(),
    startsAt: ms("starts_at").notNull(),
    endsAt: ms("ends_at").notNull(),
    comment: text("comment").notNull().default(""),
    author: text("author").notNull().default(""),
    createdAt: ms("created_at").notNull(),
  },
  (t) => [index("silences_project_ends_idx").on(t.projectId, t.endsAt)],
);

export const maintenanceWindows = sqliteTable(
  "maintenance_windows",
  {
    id: text("id").primaryKey(),
    projectId: projectRef(),
    name: text("name").notNull(),
    matchers: text("matchers", { mode: "json" }).$type<SubjectMatchers>().notNull(),
    /** a 5-field cron expression for when each window starts (weekly windows are stored as one) */
    schedule: text("schedule").notNull(),
    tz: text("tz").notNull().default("UTC"),
    durationMin: integer("duration_min").notNull(),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    comment: text("comment").notNull().default(""),
    createdAt: ms("created_at").notNull(),
  },
  (t) => [index("maintenance_windows_project_idx").on(t.projectId)],
);

export type RuleRow = typeof rules.$inferSelect;
export type AlertRow = typeof alerts.$inferSelect;
export type SilenceRow = typeof silences.$inferSelect;
export type MaintenanceWindowRow = typeof maintenanceWindows.$inferSelect;
