/**
 * What the alert pipeline (dispatch.ts) needs from its runtime, what each run reports, and the helpers its
 * steps share.
 */
import type { Db } from "@vigil/db";
import { projects } from "@vigil/db";
import type { Mailer } from "@vigil/notify";
import { eq } from "drizzle-orm";
import { type ProbeRunner, refusedTarget } from "../checks/probes.ts";
import type { Clock } from "../clock.ts";

export interface AlertDeps {
  db: Db;
  clock: Pick<Clock, "now">;
  fetch: typeof fetch;
  /** how email goes out (SMTP on Node, an HTTP API anywhere); without it email channels cannot send */
  mailer?: Mailer;
  /** opens webhook signing secrets; without it signed channels cannot send */
  secretKey?: string;
  /** absolute base for dashboard links */
  publicUrl: string | null;
  /** receivers are held to the address rule of active checks: private ones only when allowed */
  allowPrivateTargets: boolean;
  /** resolves receivers' names where the runtime can (Node); absent on Workers, where literals are vetted */
  probes?: Pick<ProbeRunner, "resolve">;
  /** one send's limit (SEND_TIMEOUT_MS unless given) */
  timeoutMs?: number;
}

/** Why a receiver URL may not be reached, or null: the same rule as for checks' targets. */
export function refuseUrl(deps: AlertDeps): (url: URL) => Promise<string | null> {
  return (url) => refusedTarget(url.hostname, deps.probes ?? {}, deps.allowPrivateTargets);
}

export interface DispatchReport {
  flips: number;
  queued: number;
  suppressed: number;
  reminders: number;
  deliveries: number;
  sent: number;
  retrying: number;
  failed: number;
}

export const emptyReport = (): DispatchReport => ({
  flips: 0,
  queued: 0,
  suppressed: 0,
  reminders: 0,
  deliveries: 0,
  sent: 0,
  retrying: 0,
  failed: 0,
});

export const subjectKey = (subject: { type: string; id: string }) => `${subject.type}:${subject.id}`;

/** libSQL's own failures (busy, I/O, a lost connection), told apart from a row that cannot be handled. */
export function isDatabaseError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (
    (err as Error | null)?.name === "LibsqlError" ||
    (typeof code === "string" && code.startsWith("SQLITE_"))
  )
    return true;
  // drizzle wraps the driver's error in its own
  const cause = (err as { cause?: unknown } | null)?.cause;
  return cause !== undefined && cause !== err && isDatabaseError(cause);
}

/** An error as one line for the delivery log; our own bugs surface with their class (RangeError: …). */
export function errorText(err: unknown): string {
  if (err instanceof Error)
    return `${err.name === "Error" ? "" : `${err.name}: `}${err.message}`.slice(0, 1000);
  return String(err).slice(0, 1000);
}

export async function projectName(db: Db, projectId: string): Promise<string> {
  const project = await db.query.projects.findFirst({ where: eq(projects.id, projectId) });
  return project?.name ?? projectId;
}
