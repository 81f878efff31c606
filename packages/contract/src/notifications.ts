/**
 * What alert delivery says about a state change, whatever changed: a check (heartbeat, HTTP, host
 * liveness …) or a rule's alert on host data. The generic webhook sends `notificationPayloadV1` as its body;
 * email and chat formats are rendered from the same object, so every channel tells the same story.
 */
import { z } from "zod";
import { epochMs } from "./common.ts";

/** The transitions a channel can subscribe to. */
export const notificationEvents = ["down", "up", "late", "degraded"] as const;
export const notificationEventSchema = z.enum(notificationEvents);
export type NotificationEvent = z.infer<typeof notificationEventSchema>;

/** A fact worth a line in the message: "last ping" → "12 min ago (GET from 10.0.0.5)". */
export const notificationFactSchema = z.object({ label: z.string(), value: z.string() });
export type NotificationFact = z.infer<typeof notificationFactSchema>;

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
  ruleId: z.string().nullable(),
  hostId: z.string().nullable(),
  hostName: z.string().nullable(),
  runbookUrl: z.string().nullable(),
  /** path on this server's dashboard or API where the subject is shown, e.g. "/api/v1/checks/<id>" */
  path: z.string(),
  /** cause-specific lines: last ping, response, current value and threshold */
  facts: z.array(notificationFactSchema),
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
