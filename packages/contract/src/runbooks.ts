/**
 * Runbooks (issue 21): an ordered list of steps someone runs against one or more hosts, from manual
 * checklists to probe commands and HTTP calls, with a recorded run of each; and the project's sealed
 * secrets that HTTP steps name as `{{secret.NAME}}`.
 */
import { z } from "zod";
import { epochMs } from "./common.ts";

const SECRET_NAME = /^[A-Z][A-Z0-9_]{0,63}$/;

/** A sealed secret's name: upper-case letters, digits and `_`, e.g. DEPLOY_HOOK_TOKEN. */
export const secretNameSchema = z
  .string()
  .regex(SECRET_NAME, "upper-case letters, digits and _, starting with a letter (at most 64)");

export const putSecretRequestSchema = z.object({ value: z.string().min(1).max(8192) });

/** A secret as the API shows it: never its value. */
export const secretSchema = z.object({
  name: z.string(),
  createdAt: epochMs,
  updatedAt: epochMs,
  /** runbooks whose HTTP steps name it */
  usedBy: z.array(z.object({ id: z.string(), name: z.string() })),
});
export type Secret = z.infer<typeof secretSchema>;

/** What a step shows of each chosen host as the run reaches it: the probe's latest view of that part. */
export const stepViews = ["updates", "reboot", "containers", "ssh-keys", "backups"] as const;

const stepBase = {
  title: z.string().trim().min(1).max(200),
  /** Markdown, shown with the step */
  text: z.string().max(20_000).default(""),
  shows: z.array(z.enum(stepViews)).max(stepViews.length).default([]),
};

export const RUNBOOK_LIMITS = {
  steps: 50,
  /** bytes of a command step's output kept per host (the tail) */
  commandOutput: 65_536,
  /** characters of an HTTP step's response kept */
  httpExcerpt: 4_096,
} as const;

export const manualStepSchema = z.object({ kind: z.literal("manual"), ...stepBase });

export const commandStepSchema = z.object({
  kind: z.literal("command"),
  ...stepBase,
  /** run by `/bin/sh -c` on each chosen host's probe, if its operator enabled runbooks there */
  command: z.string().trim().min(1).max(4096),
  timeoutSec: z.number().int().min(1).max(3600).default(300),
});

export const httpStepSchema = z.object({
  kind: z.literal("http"),
  ...stepBase,
  method: z.enum(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]).default("POST"),
  /** `{{secret.NAME}}` anywhere in url, header values or body is replaced by the sealed secret */
  url: z.string().min(1).max(2000),
  headers: z.record(z.string().min(1).max(256), z.string().max(8192)).default({}),
  body: z.string().max(65_536).nullable().default(null),
  expectedStatus: z
    .array(z.string().regex(/^[1-5]\d\d(-[1-5]\d\d)?$/, 'a status or a range like "200-299"'))
    .min(1)
    .max(20)
    .default(["200-299"]),
  timeoutMs: z.number().int().min(100).max(60_000).default(10_000),
});

export const runbookStepSchema = z.discriminatedUnion("kind", [
  manualStepSchema,
  commandStepSchema,
  httpStepSchema,
]);
export type RunbookStep = z.infer<typeof runbookStepSchema>;
export type RunbookStepInput = z.input<typeof runbookStepSchema>;

/** Which hosts a run acts on when its starter does not say: these ids, and every host carrying one of these tags. */
export const hostSelectorSchema = z.object({
  hostIds: z.array(z.string().min(1).max(64)).max(200).default([]),
  tags: z.array(z.string().min(1).max(50)).max(20).default([]),
});

/**
 * A lifecycle task: the runbook is due on this schedule. Vigil keeps a heartbeat check for it ("Task:
 * <name>") that a succeeded run pings; a task not done by its due time goes late, then down after the grace,
 * alerting through the channels like any missed heartbeat.
 */
export const taskScheduleSchema = z.object({
  /** 5-field cron, e.g. "0 9 1 * *" for the first of each month at 09:00 */
  cron: z.string().trim().min(9).max(100),
  tz: z.string().min(1).max(64).default("UTC"),
  /** how long after the due time it may still be done before it counts as missed */
  graceSec: z
    .number()
    .int()
    .min(60)
    .max(90 * 86_400)
    .default(3 * 86_400),
});
export type TaskSchedule = z.infer<typeof taskScheduleSchema>;

export const createRunbookRequestSchema = z.object({
  name: z.string().trim().min(1).max(100),
  description: z.string().max(2000).default(""),
  steps: z.array(runbookStepSchema).min(1).max(RUNBOOK_LIMITS.steps),
  hosts: hostSelectorSchema.default({ hostIds: [], tags: [] }),
  schedule: taskScheduleSchema.nullable().default(null),
});
export type CreateRunbookRequest = z.infer<typeof createRunbookRequestSchema>;
export type CreateRunbookRequestInput = z.input<typeof createRunbookRequestSchema>;

export const updateRunbookRequestSchema = createRunbookRequestSchema.partial();
export type UpdateRunbookRequest = z.infer<typeof updateRunbookRequestSchema>;

export const runbookSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  steps: z.array(runbookStepSchema),
  hosts: hostSelectorSchema,
  /** the built-in template it was made from, if any */
  template: z.string().nullable(),
  schedule: taskScheduleSchema.nullable(),
  /** the task's heartbeat check (status, due time, alerts), when it has a schedule */
  taskCheckId: z.string().nullable(),
  createdAt: epochMs,
  updatedAt: epochMs,
});
export type Runbook = z.infer<typeof runbookSchema>;

export const startRunRequestSchema = z.object({
  /** the hosts this run acts on; the runbook's own selection when left out */
  hostIds: z.array(z.string().min(1).max(64)).max(200).optional(),
  note: z.string().max(2000).optional(),
});

export const completeStepRequestSchema = z.object({
  note: z.string().max(2000).optional(),
  /** what the person confirmed item by item, e.g. each SSH key fingerprint still needed */
  confirmed: z.array(z.string().max(256)).max(1000).optional(),
});

export const runStatuses = ["running", "waiting", "succeeded", "failed", "cancelled"] as const;
export const stepStatuses = ["pending", "running", "waiting", "done", "failed", "skipped"] as const;

/** One host's part of a command step. */
export const commandResultSchema = z.object({
  hostId: z.string(),
  hostName: z.string(),
  /** `pending` until the probe reports; `refused` when runbooks are off there or the allow-list says no */
  status: z.enum(["pending", "running", "done", "failed", "refused", "timed-out"]),
  exitCode: z.number().int().nullable(),
  output: z.string(),
  startedAt: epochMs.nullable(),
  endedAt: epochMs.nullable(),
});

export const runStepSchema = z.object({
  index: z.number().int(),
  kind: z.enum(["manual", "command", "http"]),
  title: z.string(),
  status: z.enum(stepStatuses),
  startedAt: epochMs.nullable(),
  endedAt: epochMs.nullable(),
  /** who marked a manual step done or skipped a step */
  doneBy: z.string().nullable(),
  note: z.string().nullable(),
  /** http steps: the answer's status and the start of its body; why it failed */
  httpStatus: z.number().int().nullable(),
  output: z.string().nullable(),
  commands: z.array(commandResultSchema),
  /** what the step showed of each host as the run reached it (`shows`), by host id */
  views: z.record(z.string(), z.record(z.string(), z.unknown())),
  /** the same, read again when the step ended (after an upgrade: reboot required?) */
  viewsAtEnd: z.record(z.string(), z.record(z.string(), z.unknown())),
  confirmed: z.array(z.string()),
});
export type RunStep = z.infer<typeof runStepSchema>;

export const runbookRunSchema = z.object({
  id: z.string(),
  runbookId: z.string(),
  runbookName: z.string(),
  status: z.enum(runStatuses),
  startedBy: z.string(),
  startedAt: epochMs,
  endedAt: epochMs.nullable(),
  note: z.string().nullable(),
  hosts: z.array(z.object({ id: z.string(), name: z.string() })),
  /** the step the run is at (or ended on) */
  currentStep: z.number().int(),
  steps: z.array(runStepSchema),
});
export type RunbookRun = z.infer<typeof runbookRunSchema>;

/** A built-in runbook to start from (`GET /runbook-templates`, `POST /runbooks/from-template`). */
export const runbookTemplateSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  steps: z.array(runbookStepSchema),
  /** the cadence it is usually run on */
  schedule: taskScheduleSchema,
});
export type RunbookTemplate = z.infer<typeof runbookTemplateSchema>;

export const fromTemplateRequestSchema = z.object({
  template: z.string().min(1).max(64),
  name: z.string().trim().min(1).max(100).optional(),
  hosts: hostSelectorSchema.default({ hostIds: [], tags: [] }),
  /** the template's usual cadence when left out; null: not a lifecycle task */
  schedule: taskScheduleSchema.nullable().optional(),
});
export type FromTemplateRequest = z.infer<typeof fromTemplateRequestSchema>;
