/**
 * Step 1 of the alert pipeline (dispatch.ts): each claimed flip becomes one notification per channel that
 * routes its subject and wants its event, queued or suppressed with the reason.
 */
import type {
  NotificationChange,
  NotificationEvent,
  NotificationSubject,
  NotificationSuppression,
} from "@vigil/contract";
import { type ChannelRow, channels, type Db, type FlipRow, type InStatement } from "@vigil/db";
import { changeTitle } from "@vigil/notify";
import { and, eq } from "drizzle-orm";
import {
  type AlertDeps,
  type DispatchReport,
  emptyReport,
  errorText,
  isDatabaseError,
  subjectKey,
} from "./deps.ts";
import { describeFlip } from "./describe.ts";
import { claimFlips, unclaimFlip } from "./outbox.ts";
import { suppressionFor } from "./silences.ts";

/**
 * The notice a transition deserves, or null for history-only changes (new → up, pauses, rule alerts
 * entering or leaving pending without firing).
 */
export function eventOf(from: string, to: string): NotificationEvent | null {
  if (to === "down" || to === "firing") return "down";
  if (to === "late" || to === "degraded") return to;
  if ((to === "up" || to === "inactive") && ["down", "firing", "late", "degraded"].includes(from))
    return "up";
  return null;
}

export const stillBad = (status: string) => status === "down" || status === "firing";

/**
 * True when `channel` wants this kind of change: one of its events, or a certificate nearing expiry (a TLS
 * check going degraded), which channels take unless they opted out, since an expiring certificate is an
 * outage on a known date.
 */
export function wantsEvent(
  channel: ChannelRow,
  event: NotificationEvent,
  subject: NotificationSubject,
): boolean {
  if (channel.events.includes(event)) return true;
  return event === "degraded" && subject.checkKind === "tls" && channel.tlsExpiry;
}

/** True when `channel` wants notices of `subject`: the project default, a shared tag, or the subject by id. */
export function routes(channel: ChannelRow, subject: NotificationSubject): boolean {
  if (channel.isDefault) return true;
  if (channel.tags.some((t) => subject.tags.includes(t))) return true;
  return [subject.id, subject.checkId, subject.ruleId].some(
    (id) => id !== null && channel.subjectIds.includes(id),
  );
}

/** When the subject entered the state it leaves now: the previous flip of the same subject. */
async function enteredFromAt(db: Db, flip: FlipRow): Promise<number | null> {
  const result = await db.$client.execute({
    sql: `select at from flips where project_id = ? and subject_type = ? and subject_id = ? and id < ?
          order by id desc limit 1`,
    args: [flip.projectId, flip.subjectType, flip.subjectId, flip.id],
  });
  const at = result.rows[0]?.at;
  return typeof at === "number" ? at : null;
}

export async function queueFlipNotifications(
  deps: AlertDeps,
  report = emptyReport(),
): Promise<DispatchReport> {
  const { db } = deps;
  const now = deps.clock.now();
  const claimed = await claimFlips(db, now);
  const channelsOf = new Map<string, ChannelRow[]>();
  const enabledChannels = async (projectId: string) => {
    let found = channelsOf.get(projectId);
    if (!found) {
      found = await db.query.channels.findMany({
        where: and(eq(channels.projectId, projectId), eq(channels.enabled, true)),
      });
      channelsOf.set(projectId, found);
    }
    return found;
  };
  for (const flip of claimed) {
    report.flips++;
    const attempt: FlipAttempt = { targets: null };
    try {
      await queueFlip(deps, flip, now, enabledChannels, attempt, report);
    } catch (err) {
      // A database hiccup is no fault of the flip: it is handed back for the next run (or, should even
      // that fail, stays claimed until the lease runs out).
      if (isDatabaseError(err)) await unclaimFlip(db, flip).catch(() => {});
      else await failFlip(deps, flip, now, enabledChannels, attempt.targets, err, report);
    }
  }
  return report;
}

/** What queueing a flip had found out before it failed: the channels it routes to, once known. */
interface FlipAttempt {
  targets: ChannelRow[] | null;
}

async function queueFlip(
  deps: AlertDeps,
  flip: FlipRow,
  now: number,
  enabledChannels: (projectId: string) => Promise<ChannelRow[]>,
  attempt: FlipAttempt,
  report: DispatchReport,
): Promise<void> {
  const { db } = deps;
  const statements: InStatement[] = [];
  // Counted once the batch is written, so a flip that fails half-way is counted as failed only.
  let queued = 0;
  let suppressed = 0;
  if (!stillBad(flip.toStatus)) {
    statements.push({
      sql: "delete from reminders where project_id = ? and subject_type = ? and subject_id = ?",
      args: [flip.projectId, flip.subjectType, flip.subjectId],
    });
  }
  const event = eventOf(flip.fromStatus, flip.toStatus);
  const subject = event ? await describeFlip(db, flip) : null;
  if (event && subject) {
    const projectChannels = await enabledChannels(flip.projectId);
    const targets = projectChannels.filter((c) => wantsEvent(c, event, subject) && routes(c, subject));
    attempt.targets = targets;
    if (targets.length > 0) {
      const suppression = await suppressionFor(db, flip.projectId, subject, now);
      const enteredAt = event === "up" ? await enteredFromAt(db, flip) : null;
      const change: NotificationChange = {
        event,
        subject,
        from: flip.fromStatus,
        to: flip.toStatus,
        cause: flip.cause,
        at: flip.at,
        downForMs: enteredAt === null ? null : Math.max(0, flip.at - enteredAt),
        reminder: false,
        heldBack: [],
      };
      for (const channel of targets) {
        statements.push(insertNotification(channel, "change", flip.id, change, suppression, now));
        if (suppression) suppressed++;
        else queued++;
        if (event === "down" && channel.reminderSec && !suppression) {
          statements.push({
            sql: `insert into reminders (project_id, channel_id, subject_type, subject_id, flip_id, next_at)
                  values (?, ?, ?, ?, ?, ?)
                  on conflict (channel_id, subject_type, subject_id)
                  do update set flip_id = excluded.flip_id, next_at = excluded.next_at, sent = 0`,
            args: [
              flip.projectId,
              channel.id,
              flip.subjectType,
              flip.subjectId,
              flip.id,
              now + channel.reminderSec * 1000,
            ],
          });
        }
      }
    }
  }
  // Only the claimant marks it done; a dispatcher whose claim was taken over changes nothing.
  statements.push({
    sql: "update flips set processed_at = ? where id = ? and claimed_at = ?",
    args: [now, flip.id, flip.claimedAt],
  });
  await db.$client.batch(statements, "write");
  report.queued += queued;
  report.suppressed += suppressed;
}

/**
 * A flip that could not be queued is done with all the same: each channel it was for (or, when its subject
 * could not even be described, each enabled channel that wants the event) gets a `failed` notice carrying
 * the error, and the flip is marked processed so it does not come back every lease. Should recording the
 * failure fail too (the database is gone), the flip stays claimed and is retried after the lease.
 */
async function failFlip(
  deps: AlertDeps,
  flip: FlipRow,
  now: number,
  enabledChannels: (projectId: string) => Promise<ChannelRow[]>,
  targets: ChannelRow[] | null,
  err: unknown,
  report: DispatchReport,
): Promise<void> {
  const event = eventOf(flip.fromStatus, flip.toStatus);
  const error = `could not be queued: ${errorText(err)}`;
  try {
    const channelsFor = event
      ? (targets ?? (await enabledChannels(flip.projectId)).filter((c) => c.events.includes(event)))
      : [];
    const statements: InStatement[] = channelsFor.map((channel) => ({
      sql: `insert or ignore into notifications (project_id, channel_id, kind, flip_id, subject_type, subject_id,
              event, title, change, state, suppressed_reason, due_at, created_at)
            values (?, ?, 'change', ?, ?, ?, ?, ?, ?, 'failed', ?, ?, ?)`,
      args: [
        flip.projectId,
        channel.id,
        flip.id,
        flip.subjectType,
        flip.subjectId,
        event ?? flip.toStatus,
        `${(event ?? flip.toStatus).toUpperCase()}: ${flip.subjectType} ${flip.subjectId}`,
        JSON.stringify({ from: flip.fromStatus, to: flip.toStatus, cause: flip.cause, at: flip.at }),
        error,
        now,
        now,
      ],
    }));
    statements.push({
      sql: "update flips set processed_at = ? where id = ? and claimed_at = ?",
      args: [now, flip.id, flip.claimedAt],
    });
    await deps.db.$client.batch(statements, "write");
    report.failed += channelsFor.length;
  } catch {
    // nothing more to do here: the claim lapses and the next dispatcher tries the flip again
  }
}

export function insertNotification(
  channel: ChannelRow,
  kind: "change" | "reminder",
  flipId: number,
  change: NotificationChange,
  suppression: NotificationSuppression | null,
  now: number,
  guard = "",
): InStatement {
  return {
    sql: `insert or ignore into notifications (project_id, channel_id, kind, flip_id, subject_type, subject_id,
            event, title, change, state, suppressed_reason, inhibited_by, due_at, created_at)
          select ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? ${guard}`,
    args: [
      channel.projectId,
      channel.id,
      kind,
      flipId,
      change.subject.type,
      change.subject.id,
      change.event,
      changeTitle(change),
      JSON.stringify(change),
      suppression ? "suppressed" : "queued",
      suppression?.reason ?? null,
      suppression?.inhibitedBy ? subjectKey(suppression.inhibitedBy) : null,
      now + channel.groupWindowSec * 1000,
      now,
    ],
  };
}
