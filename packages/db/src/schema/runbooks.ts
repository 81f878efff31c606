/**
 * Runbooks (issue 21): what to do, step by step, and the record of each time someone did it.
 * - A runbook's steps are JSON on its row (edited whole, read whole).
 * - A run copies the steps it started with, so editing a runbook never rewrites a past record, and keeps
 *   each step's progress as JSON beside them. Every change to a run is compare-and-set on `cas`, as for
 *   checks, so two people completing a step at once record it once.
 * - A command step becomes one `runbook_commands` row per host: the probe of that host finds its pending
 *   rows in its batch answer (an indexed read by host and state) and reports each one's outcome.
 * - Secrets are sealed with the server's key (VIGIL_SECRET_KEY) and never shown again.
 */
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { ms } from "./columns.ts";
import { hostRef, projectRef } from "./core.ts";

/** A step as stored (the contract's RunbookStep; this package does not import the contract). */
export type StoredRunbookStep = Record<string, unknown> & {
  kind: "manual" | "command" | "http";
  title: string;
};

export interface StoredHostSelector {
  hostIds: string[];
  tags: string[];
}

/** A step's progress in a run (a command step's per-host outcomes live in runbook_commands). */
export type StoredStepState = {
  status: "pending" | "running" | "waiting" | "done" | "failed" | "skipped";
  startedAt: number | null;
  endedAt: number | null;
  doneBy: string | null;
  note: string | null;
  httpStatus: number | null;
  output: string | null;
  views: Record<string, Record<string, unknown>>;
  viewsAtEnd?: Record<string, Record<string, unknown>>;
  confirmed?: string[];
};

export const secrets = sqliteTable(
  "secrets",
  {
    projectId: projectRef(),
    name: text("name").notNull(),
    sealed: text("sealed").notNull(),
    createdAt: ms("created_at").notNull(),
    updatedAt: ms("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.name] })],
);

export const runbooks = sqliteTable(
  "runbooks",
  {
    id: text("id").primaryKey(),
    projectId: projectRef(),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    steps: text("steps", { mode: "json" }).$type<StoredRunbookStep[]>().notNull(),
    hosts: text("hosts", { mode: "json" }).$type<StoredHostSelector>().notNull(),
    template: text("template"),
    /** a lifecycle task's schedule (cron, tz, graceSec), null when the runbook is not a task */
    schedule: text("schedule", { mode: "json" }).$type<{ cron: string; tz: string; graceSec: number }>(),
    /** the heartbeat check that keeps the task's due time; a succeeded run pings it */
    taskCheckId: text("task_check_id"),
    createdAt: ms("created_at").notNull(),
    updatedAt: ms("updated_at").notNull(),
  },
  (t) => [index("runbooks_project_idx").on(t.projectId, t.createdAt)],
);

export const runbookRunStatuses = ["running", "waiting", "succeeded", "failed", "cancelled"] as const;
export type RunbookRunStatus = (typeof runbookRunStatuses)[number];

export const runbookRuns = sqliteTable(
  "runbook_runs",
  {
    id: text("id").primaryKey(),
    projectId: projectRef(),
    /** not a foreign key: the record of a run outlives its runbook */
    runbookId: text("runbook_id").notNull(),
    runbookName: text("runbook_name").notNull(),
    steps: text("steps", { mode: "json" }).$type<StoredRunbookStep[]>().notNull(),
    stepStates: text("step_states", { mode: "json" }).$type<StoredStepState[]>().notNull(),
    hostIds: text("host_ids", { mode: "json" }).$type<string[]>().notNull(),
    status: text("status").$type<RunbookRunStatus>().notNull(),
    currentStep: integer("current_step").notNull().default(0),
    startedBy: text("started_by").notNull(),
    note: text("note"),
    startedAt: ms("started_at").notNull(),
    endedAt: ms("ended_at"),
    cas: text("cas").notNull(),
  },
  (t) => [
    index("runbook_runs_project_idx").on(t.projectId, t.startedAt),
    index("runbook_runs_runbook_idx").on(t.runbookId, t.startedAt),
  ],
);

export const runbookCommandStatuses = [
  "pending",
  "running",
  "done",
  "failed",
  "refused",
  "timed-out",
] as const;
export type RunbookCommandStatus = (typeof runbookCommandStatuses)[number];

export const runbookCommands = sqliteTable(
  "runbook_commands",
  {
    id: text("id").primaryKey(),
    projectId: projectRef(),
    runId: text("run_id")
      .notNull()
      .references(() => runbookRuns.id, { onDelete: "cascade" }),
    stepIndex: integer("step_index").notNull(),
    hostId: hostRef(),
    command: text("command").notNull(),
    timeoutSec: integer("timeout_sec").notNull(),
    status: text("status").$type<RunbookCommandStatus>().notNull().default("pending"),
    exitCode: integer("exit_code"),
    output: text("output").notNull().default(""),
    createdAt: ms("created_at").notNull(),
    startedAt: ms("started_at"),
    endedAt: ms("ended_at"),
  },
  (t) => [
    index("runbook_commands_host_idx").on(t.hostId, t.status),
    index("runbook_commands_run_idx").on(t.runId, t.stepIndex),
  ],
);

export type SecretRow = typeof secrets.$inferSelect;
export type RunbookRow = typeof runbooks.$inferSelect;
export type RunbookRunRow = typeof runbookRuns.$inferSelect;
export type RunbookCommandRow = typeof runbookCommands.$inferSelect;
