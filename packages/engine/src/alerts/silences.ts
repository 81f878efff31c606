/**
 * What keeps notifications quiet while the state history goes on: silences (one-off, from start to end),
 * recurring maintenance windows (a cron schedule in a time zone, each occurrence lasting a while), and
 * inhibition (a host that is down holds back its own rules' and checks' notices; its host-down notice lists
 * them). Alert delivery asks `suppressionFor` before each notice and records the ones it held back.
 */
import {
  type CreateMaintenanceWindowRequest,
  type CreateSilenceRequest,
  type MaintenanceWindow,
  type NotificationSubject,
  type NotificationSuppression,
  type Silence,
  utcText,
} from "@vigil/contract";
import {
  checks,
  type Db,
  hosts,
  type MaintenanceWindowRow,
  maintenanceWindows,
  type SilenceRow,
  type SubjectMatchers,
  silences,
} from "@vigil/db";
import { and, asc, desc, eq, gt, lte } from "drizzle-orm";
import { assertValidSchedule, cronFor } from "../checks/schedule.ts";
import type { Clock } from "../clock.ts";
import { InvalidInputError, NotFoundError } from "../errors.ts";
import { assertScopeHost } from "../hosts.ts";

const MIN = 60_000;

function matchersOf(input: SubjectMatchers): SubjectMatchers {
  const out: SubjectMatchers = {};
  if (input.hostId) out.hostId = input.hostId;
  if (input.tag) out.tag = input.tag;
  if (input.ruleId) out.ruleId = input.ruleId;
  if (input.checkId) out.checkId = input.checkId;
  return out;
}

/** Every matcher given must match; a check subject's own id is its `checkId`. */
export function matchesSubject(m: SubjectMatchers, s: NotificationSubject): boolean {
  if (m.hostId !== undefined && m.hostId !== s.hostId) return false;
  if (m.tag !== undefined && !s.tags.includes(m.tag)) return false;
  if (m.ruleId !== undefined && m.ruleId !== s.ruleId) return false;
  const checkId = s.type === "check" ? (s.checkId ?? s.id) : s.checkId;
  if (m.checkId !== undefined && m.checkId !== checkId) return false;
  return true;
}

function describeMatchers(m: SubjectMatchers): string {
  return Object.entries(m)
    .map(([k, v]) => `${k}=${v}`)
    .join(", ");
}

export function toSilence(r: SilenceRow, now: number): Silence {
  return {
    id: r.id,
    matchers: r.matchers,
    startsAt: r.startsAt,
    endsAt: r.endsAt,
    comment: r.comment,
    author: r.author,
    createdAt: r.createdAt,
    active: r.startsAt <= now && now < r.endsAt,
  };
}

/**
 * The most a key without admin scope may silence: a deploy's worth, starting now or within the hour. A
 * leaked ingest key (it sits in deploy hooks) can then mute alerts for two hours at most, not for good.
 */
export const DEPLOY_SILENCE_LIMITS = { maxDurationMs: 2 * 60 * MIN, maxStartDelayMs: 60 * MIN };

export async function createSilence(
  db: Db,
  clock: Clock,
  projectId: string,
  input: CreateSilenceRequest,
  limits?: typeof DEPLOY_SILENCE_LIMITS,
): Promise<SilenceRow> {
  const now = clock.now();
  const startsAt = input.startsAt ?? now;
  const endsAt = input.endsAt ?? startsAt + (input.durationMinutes ?? 0) * MIN;
  if (endsAt <= startsAt) {
    throw new InvalidInputError("body.endsAt", "must be after startsAt");
  }
  if (limits && endsAt - startsAt > limits.maxDurationMs) {
    throw new InvalidInputError("body.endsAt", "a key without admin scope may silence for at most 2 hours");
  }
  if (limits && startsAt - now > limits.maxStartDelayMs) {
    throw new InvalidInputError(
      "body.startsAt",
      "a key without admin scope may only silence from within the next hour",
    );
  }
  await assertScopeHost(db, projectId, input.hostId);
  const [row] = await db
    .insert(silences)
    .values({
      id: crypto.randomUUID(),
      projectId,
      matchers: matchersOf(input),
      startsAt,
      endsAt,
      comment: input.comment,
      author: input.author,
      createdAt: now,
    })
    .returning();
  if (!row) throw new Error("silence insert returned nothing");
  return row;
}

/** Active and future silences, or all of them. */
export async function listSilences(
  db: Db,
  projectId: string,
  now: number,
  all = false,
): Promise<SilenceRow[]> {
  return db.query.silences.findMany({
    where: all
      ? eq(silences.projectId, projectId)
      : and(eq(silences.projectId, projectId), gt(silences.endsAt, now)),
    orderBy: [desc(silences.startsAt)],
    limit: 500,
  });
}

/** Ends a silence now (a silence that has not started yet ends before it starts). */
export async function expireSilence(
  db: Db,
  clock: Clock,
  projectId: string,
  silenceId: string,
): Promise<SilenceRow> {
  const row = await db.query.silences.findFirst({
    where: and(eq(silences.projectId, projectId), eq(silences.id, silenceId)),
  });
  if (!row) throw new NotFoundError("silence");
  const now = clock.now();
  if (row.endsAt <= now) return row;
  const endsAt = Math.max(now, row.startsAt);
  await db.update(silences).set({ endsAt }).where(eq(silences.id, silenceId));
  return { ...row, endsAt };
}

/** A weekly window is stored as the cron expression of its starts. */
export function weeklySchedule(days: readonly number[], start: string): string {
  const [hh = "0", mm = "0"] = start.split(":");
  return `${Number(mm)} ${Number(hh)} * * ${[...new Set(days)].sort().join(",")}`;
}

/** Whether an occurrence of the window started within its duration before `now`. */
export function windowOpen(
  w: Pick<MaintenanceWindowRow, "schedule" | "tz" | "durationMin">,
  now: number,
): boolean {
  const durationMs = w.durationMin * MIN;
  // The first start after (now - duration), if it is not after now, is an occurrence still open.
  const start = cronFor(w.schedule, w.tz).nextRun(new Date(now - durationMs));
  return start !== null && start.getTime() <= now;
}

export function toMaintenanceWindow(r: MaintenanceWindowRow, now: number): MaintenanceWindow {
  return {
    id: r.id,
    name: r.name,
    matchers: r.matchers,
    schedule: r.schedule,
    tz: r.tz,
    durationMinutes: r.durationMin,
    enabled: r.enabled,
    comment: r.comment,
    createdAt: r.createdAt,
    active: r.enabled && windowOpen(r, now),
  };
}

export async function createMaintenanceWindow(
  db: Db,
  clock: Clock,
  projectId: string,
  input: CreateMaintenanceWindowRequest,
): Promise<MaintenanceWindowRow> {
  const schedule = input.schedule ?? weeklySchedule(input.days ?? [], input.start ?? "00:00");
  assertValidSchedule(schedule, input.tz);
  await assertScopeHost(db, projectId, input.hostId);
  const [row] = await db
    .insert(maintenanceWindows)
    .values({
      id: crypto.randomUUID(),
      projectId,
      name: input.name,
      matchers: matchersOf(input),
      schedule,
      tz: input.tz,
      durationMin: input.durationMinutes,
      enabled: input.enabled,
      comment: input.comment,
      createdAt: clock.now(),
    })
    .returning();
  if (!row) throw new Error("maintenance window insert returned nothing");
  return row;
}

export async function listMaintenanceWindows(db: Db, projectId: string): Promise<MaintenanceWindowRow[]> {
  return db.query.maintenanceWindows.findMany({
    where: eq(maintenanceWindows.projectId, projectId),
    orderBy: [asc(maintenanceWindows.createdAt)],
  });
}

export async function deleteMaintenanceWindow(db: Db, projectId: string, windowId: string): Promise<void> {
  const deleted = await db
    .delete(maintenanceWindows)
    .where(and(eq(maintenanceWindows.projectId, projectId), eq(maintenanceWindows.id, windowId)))
    .returning({ id: maintenanceWindows.id });
  if (deleted.length === 0) throw new NotFoundError("maintenance window");
}

/**
 * Why a notice about `subject` should not go out at `now`, or null when it should. Silences first, then
 * maintenance windows, then inhibition by the subject's host being down (a host's own liveness check is
 * never inhibited by itself: it is the one notice that goes out).
 */
export async function suppressionFor(
  db: Db,
  projectId: string,
  subject: NotificationSubject,
  now: number,
): Promise<NotificationSuppression | null> {
  const activeSilences = await db.query.silences.findMany({
    where: and(eq(silences.projectId, projectId), gt(silences.endsAt, now), lte(silences.startsAt, now)),
  });
  const silence = activeSilences.find((s) => matchesSubject(s.matchers, subject));
  if (silence) {
    const note = silence.comment ? ` (${silence.comment})` : "";
    return {
      kind: "silence",
      reason: `silenced until ${utcText(silence.endsAt)} by ${describeMatchers(silence.matchers)}${note}`,
    };
  }
  const windows = await db.query.maintenanceWindows.findMany({
    where: and(eq(maintenanceWindows.projectId, projectId), eq(maintenanceWindows.enabled, true)),
  });
  const open = windows.find((w) => matchesSubject(w.matchers, subject) && windowOpen(w, now));
  if (open) return { kind: "maintenance", reason: `maintenance window "${open.name}"` };

  if (subject.hostId) {
    const [down] = await db
      .select({ id: checks.id, hostName: hosts.name })
      .from(checks)
      .innerJoin(hosts, eq(hosts.id, checks.hostId))
      .where(
        and(
          eq(checks.projectId, projectId),
          eq(checks.hostId, subject.hostId),
          eq(checks.kind, "host"),
          eq(checks.status, "down"),
        ),
      )
      .limit(1);
    if (down && !(subject.type === "check" && subject.id === down.id)) {
      return {
        kind: "inhibited",
        reason: `host ${down.hostName} is down`,
        inhibitedBy: { type: "check", id: down.id },
      };
    }
  }
  return null;
}
