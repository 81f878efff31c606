/**
 * The alert outbox. Each run (a scheduler tick) moves state changes one step further; every step is a
 * compare-and-set, so two dispatchers racing, or one dying half-way, neither lose nor double a notice.
 * 1. Queue: claim flips, describe the subject, pick the channels that route it and want the event, and
 *    insert one notification per channel (queued, or suppressed with the reason: silence, maintenance,
 *    inhibition). A unique index on (flip, channel) makes a re-claimed flip a no-op.
 * 2. Remind: due reminders of subjects still down queue a "still down" notification and move on.
 * 3. Group: per channel whose oldest queued notification is due, render one message from all its queued
 *    notifications and store it as a delivery, in one batch that succeeds only if all are still queued.
 * 4. Send: claim due deliveries with a lease, send, and record the attempt. Sent → done; transient failure
 *    → retry with exponential backoff for up to a day; permanent failure → stop, channel marked failing.
 *    A dispatcher that dies while sending loses its lease after SEND_LEASE_MS and the message goes out
 *    again with the same id (`Vigil-Delivery`, Message-ID), so a receiver can drop the copy.
 * Every step handles its rows one by one: a row that cannot be described, rendered or sent is marked
 * `failed` with its error (visible in the delivery log) and the rest go on, so one bad row never holds
 * back every other notice of the run.
 */
import {
  type NotificationChange,
  type NotificationEvent,
  type NotificationPayloadV1,
  type NotificationSubject,
  type NotificationSuppression,
  notificationChangeSchema,
} from "@vigil/contract";
import {
  type ChannelRow,
  channels,
  type Db,
  type DeliveryRow,
  deliveries,
  type FlipRow,
  type InStatement,
  type NotificationRow,
  notifications,
  openSecret,
  projects,
  type ReminderRow,
  reminders,
} from "@vigil/db";
import { and, asc, eq, inArray, lte } from "drizzle-orm";
import { TransportError } from "./errors.ts";
import { claimFlips, unclaimFlip } from "./outbox.ts";
import { changeTitle, groupTitle, renderAll } from "./render.ts";
import { type SendResult, sendToChannel, type TransportDeps } from "./transports.ts";

export const SEND_TIMEOUT_MS = 10_000;
/** Longer than a send may take, so a live dispatcher's lease never expires under it. */
export const SEND_LEASE_MS = 2 * 60_000;
export const RETRY_BASE_MS = 30_000;
export const RETRY_MAX_MS = 60 * 60_000;
/** Transient failures are retried this long after the message was composed; then it is given up. */
export const GIVE_UP_AFTER_MS = 24 * 60 * 60_000;
/** Deliveries sent at once; a receiver that times out holds up no one else. */
const SEND_CONCURRENCY = 8;
/** Notifications one message carries at most; the rest go in the next. */
const MAX_PER_MESSAGE = 50;

export interface DispatchDeps extends Omit<TransportDeps, "timeoutMs" | "now"> {
  db: Db;
  clock: { now(): number };
  /** what a flip is about, described by its owner (checks, rules); null when the subject is gone */
  describe(db: Db, flip: FlipRow): Promise<NotificationSubject | null>;
  /** why a notice of this subject must not go out now (silence, maintenance, inhibition), or null */
  suppress?(
    db: Db,
    projectId: string,
    subject: NotificationSubject,
    now: number,
  ): Promise<NotificationSuppression | null>;
  /** opens webhook signing secrets; without it signed channels cannot send */
  secretKey?: string;
  /** absolute base for dashboard links */
  publicUrl?: string | null;
  timeoutMs?: number;
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

const emptyReport = (): DispatchReport => ({
  flips: 0,
  queued: 0,
  suppressed: 0,
  reminders: 0,
  deliveries: 0,
  sent: 0,
  retrying: 0,
  failed: 0,
});

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

const stillBad = (status: string) => status === "down" || status === "firing";

/** True when `channel` wants notices of `subject`: the project default, a shared tag, or the subject by id. */
export function routes(channel: ChannelRow, subject: NotificationSubject): boolean {
  if (channel.isDefault) return true;
  if (channel.tags.some((t) => subject.tags.includes(t))) return true;
  return [subject.id, subject.checkId, subject.ruleId].some(
    (id) => id !== null && channel.subjectIds.includes(id),
  );
}

const subjectKey = (subject: { type: string; id: string }) => `${subject.type}:${subject.id}`;

/** Runs every step once; the scheduler calls this after the checks tick. */
export async function dispatch(deps: DispatchDeps): Promise<DispatchReport> {
  const report = emptyReport();
  await queueFlipNotifications(deps, report);
  await queueReminders(deps, report);
  await composeDeliveries(deps, report);
  await sendDueDeliveries(deps, report);
  return report;
}

// ---- 1. Queue ------------------------------------------------------------------------------------------

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
  deps: DispatchDeps,
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
  deps: DispatchDeps,
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
  const subject = event ? await deps.describe(db, flip) : null;
  if (event && subject) {
    const projectChannels = await enabledChannels(flip.projectId);
    const targets = projectChannels.filter((c) => c.events.includes(event) && routes(c, subject));
    attempt.targets = targets;
    if (targets.length > 0) {
      const suppression = (await deps.suppress?.(db, flip.projectId, subject, now)) ?? null;
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
                  do update set flip_id = excluded.flip_id, next_at = excluded.next_at`,
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
  deps: DispatchDeps,
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

/** libSQL's own failures (busy, I/O, a lost connection), told apart from a row that cannot be handled. */
function isDatabaseError(err: unknown): boolean {
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
function errorText(err: unknown): string {
  if (err instanceof Error)
    return `${err.name === "Error" ? "" : `${err.name}: `}${err.message}`.slice(0, 1000);
  return String(err).slice(0, 1000);
}

function insertNotification(
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

// ---- 2. Remind -----------------------------------------------------------------------------------------

async function latestStatus(
  db: Db,
  reminder: ReminderRow,
): Promise<{ flip: FlipRow | undefined; to: string | null }> {
  const flip = await db.query.flips.findFirst({ where: (f, { eq }) => eq(f.id, reminder.flipId) });
  const latest = await db.$client.execute({
    sql: `select to_status from flips where project_id = ? and subject_type = ? and subject_id = ?
          order by id desc limit 1`,
    args: [reminder.projectId, reminder.subjectType, reminder.subjectId],
  });
  const to = latest.rows[0]?.to_status;
  return { flip, to: typeof to === "string" ? to : null };
}

export async function queueReminders(deps: DispatchDeps, report = emptyReport()): Promise<DispatchReport> {
  const { db } = deps;
  const now = deps.clock.now();
  const due = await db.query.reminders.findMany({
    where: lte(reminders.nextAt, now),
    orderBy: [asc(reminders.nextAt)],
    limit: 100,
  });
  for (const reminder of due) {
    const forget: InStatement = {
      sql: "delete from reminders where channel_id = ? and subject_type = ? and subject_id = ? and next_at = ?",
      args: [reminder.channelId, reminder.subjectType, reminder.subjectId, reminder.nextAt],
    };
    const channel = await db.query.channels.findFirst({ where: eq(channels.id, reminder.channelId) });
    const { flip, to } = await latestStatus(db, reminder);
    const subject = flip && to && stillBad(to) ? await deps.describe(db, flip) : null;
    if (!channel?.enabled || !channel.reminderSec || !flip || !subject) {
      await db.$client.execute(forget);
      continue;
    }
    const suppression = (await deps.suppress?.(db, reminder.projectId, subject, now)) ?? null;
    const change: NotificationChange = {
      event: "down",
      subject,
      from: flip.fromStatus,
      to: flip.toStatus,
      cause: flip.cause,
      at: flip.at,
      downForMs: now - flip.at,
      reminder: true,
      heldBack: [],
    };
    // `changes()` is 1 only when this dispatcher moved the reminder on, so a racing one queues nothing.
    await db.$client.batch(
      [
        {
          sql: `update reminders set next_at = ? where channel_id = ? and subject_type = ? and subject_id = ?
                and next_at = ?`,
          args: [
            now + channel.reminderSec * 1000,
            channel.id,
            reminder.subjectType,
            reminder.subjectId,
            reminder.nextAt,
          ],
        },
        insertNotification(channel, "reminder", flip.id, change, suppression, now, "where changes() = 1"),
      ],
      "write",
    );
    report.reminders++;
  }
  return report;
}

// ---- 3. Group ------------------------------------------------------------------------------------------

/** Titles of the notices held back because `change`'s subject (a host) was down. */
async function heldBackBy(db: Db, projectId: string, change: NotificationChange): Promise<string[]> {
  if (change.event !== "down" && change.event !== "up") return [];
  const since = change.event === "up" ? change.at - (change.downForMs ?? 0) : change.at;
  const result = await db.$client.execute({
    sql: `select title from notifications where project_id = ? and inhibited_by = ? and created_at >= ?
          order by id limit 21`,
    args: [projectId, subjectKey(change.subject), since],
  });
  const titles = [...new Set(result.rows.map((r) => String(r.title)))];
  return titles.length > 20 ? [...titles.slice(0, 20), "…"] : titles;
}

async function projectName(db: Db, projectId: string): Promise<string> {
  const project = await db.query.projects.findFirst({ where: eq(projects.id, projectId) });
  return project?.name ?? projectId;
}

export async function composeDeliveries(deps: DispatchDeps, report = emptyReport()): Promise<DispatchReport> {
  const { db } = deps;
  const now = deps.clock.now();
  const ready = await db.$client.execute({
    sql: `select channel_id from notifications where state = 'queued'
          group by channel_id having min(due_at) <= ? limit 100`,
    args: [now],
  });
  for (const row of ready.rows) {
    const channelId = String(row.channel_id);
    const queued = await db.query.notifications.findMany({
      where: and(eq(notifications.channelId, channelId), eq(notifications.state, "queued")),
      orderBy: [asc(notifications.id)],
      limit: MAX_PER_MESSAGE,
    });
    await composeDelivery(deps, channelId, queued, now, report);
  }
  return report;
}

/** Marks queued notifications `failed` with the error, unless another dispatcher has taken them meanwhile. */
async function failNotifications(db: Db, rows: NotificationRow[], err: unknown): Promise<void> {
  if (rows.length === 0) return;
  const ids = rows.map((n) => n.id);
  await db.$client.execute({
    sql: `update notifications set state = 'failed', suppressed_reason = ?
          where id in (${ids.map(() => "?").join(", ")}) and state = 'queued'`,
    args: [`could not be rendered: ${errorText(err)}`, ...ids],
  });
}

/**
 * Why `payload` cannot be shown (what rendering it throws), or null. Database errors are not caught here:
 * they are no fault of a row, and the next run tries again.
 */
function renderProblem(payload: Omit<NotificationPayloadV1, "title">): unknown {
  try {
    renderAll({ ...payload, title: groupTitle(payload.changes) });
    return null;
  } catch (err) {
    return err;
  }
}

async function composeDelivery(
  deps: DispatchDeps,
  channelId: string,
  queued: NotificationRow[],
  now: number,
  report: DispatchReport,
): Promise<void> {
  const { db } = deps;
  const changes: NotificationChange[] = [];
  const good: NotificationRow[] = [];
  const bare = { version: 1 as const, id: "", test: false, url: deps.publicUrl ?? null, sentAt: now };
  // Each notice is read and rendered alone first, so one that cannot be fails by itself.
  for (const n of queued) {
    const parsed = notificationChangeSchema.safeParse(n.change);
    const change = parsed.success
      ? { ...parsed.data, heldBack: await heldBackBy(db, n.projectId, parsed.data) }
      : null;
    const problem = change
      ? renderProblem({ ...bare, project: { id: n.projectId, name: n.projectId }, changes: [change] })
      : parsed.error;
    if (!change || problem) {
      await failNotifications(db, [n], problem);
      report.failed++;
      continue;
    }
    changes.push(change);
    good.push(n);
  }
  const [first] = good;
  if (!first) return;
  const id = crypto.randomUUID();
  const payload: NotificationPayloadV1 = {
    ...bare,
    id,
    project: { id: first.projectId, name: await projectName(db, first.projectId) },
    title: groupTitle(changes),
    changes,
    sentAt: now,
  };
  const problem = renderProblem(payload);
  if (problem) {
    await failNotifications(db, good, problem);
    report.failed += good.length;
    return;
  }
  const ids = good.map((n) => n.id);
  const marks = ids.map(() => "?").join(", ");
  // All or nothing: the delivery exists only if every notification was still queued, and they are
  // marked only if the delivery was made; a racing dispatcher's batch changes nothing.
  await db.$client.batch(
    [
      {
        sql: `insert into deliveries (id, project_id, channel_id, state, title, payload, attempts, next_attempt_at,
                created_at)
              select ?, ?, ?, 'pending', ?, ?, 0, ?, ?
              where (select count(*) from notifications where id in (${marks}) and state = 'queued') = ?`,
        args: [
          id,
          first.projectId,
          channelId,
          payload.title,
          JSON.stringify(payload),
          now,
          now,
          ...ids,
          ids.length,
        ],
      },
      {
        sql: `update notifications set state = 'batched', delivery_id = ?
              where id in (${marks}) and state = 'queued' and exists (select 1 from deliveries where id = ?)`,
        args: [id, ...ids, id],
      },
    ],
    "write",
  );
  report.deliveries++;
}

// ---- 4. Send -------------------------------------------------------------------------------------------

export function retryDelayMs(attempts: number, retryAfterMs: number | null): number {
  const backoff = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.max(0, attempts - 1));
  return Math.min(RETRY_MAX_MS, Math.max(backoff, retryAfterMs ?? 0));
}

/**
 * Claims due deliveries with compare-and-set. The claim compares the attempt count as well as state and
 * claim time: a delivery that another dispatcher sent and put back to pending (a failed try, retry later)
 * looks exactly as it did when read, except that its attempts went up, and must not be sent again now.
 */
async function claimDeliveries(db: Db, now: number): Promise<DeliveryRow[]> {
  const candidates = await db.$client.execute({
    sql: `select id, state, claimed_at, attempts from deliveries
          where (state = 'pending' and next_attempt_at <= ?) or (state = 'sending' and claimed_at < ?)
          order by next_attempt_at limit 50`,
    args: [now, now - SEND_LEASE_MS],
  });
  if (candidates.rows.length === 0) return [];
  const results = await db.$client.batch(
    candidates.rows.map((r) => ({
      sql: `update deliveries set state = 'sending', claimed_at = ?
            where id = ? and state = ? and coalesce(claimed_at, -1) = ? and attempts = ?`,
      args: [now, String(r.id), String(r.state), Number(r.claimed_at ?? -1), Number(r.attempts)],
    })),
    "write",
  );
  const won = candidates.rows.filter((_, i) => results[i]?.rowsAffected === 1).map((r) => String(r.id));
  if (won.length === 0) return [];
  return db.query.deliveries.findMany({ where: inArray(deliveries.id, won) });
}

export interface AttemptOutcome {
  outcome: "sent" | "transient" | "permanent";
  status: number | null;
  error: string | null;
  latencyMs: number;
  /** how long the receiver asked us to wait */
  retryAfterMs: number | null;
}

async function attemptSend(
  deps: DispatchDeps,
  delivery: DeliveryRow,
  channel: ChannelRow,
): Promise<AttemptOutcome> {
  const started = deps.clock.now();
  const wallStart = performance.now();
  const latency = () => Math.round(performance.now() - wallStart);
  try {
    let secret: string | null = null;
    if (channel.secretSealed) {
      if (!deps.secretKey) throw new TransportError("the server has no VIGIL_SECRET_KEY to sign with", true);
      secret = await openSecret(channel.secretSealed, deps.secretKey).catch(() => {
        throw new TransportError(
          "the signing secret cannot be opened with this server's VIGIL_SECRET_KEY",
          true,
        );
      });
    }
    const result: SendResult = await sendToChannel(
      channel,
      secret,
      delivery.payload as NotificationPayloadV1,
      {
        fetch: deps.fetch,
        ...(deps.mailer ? { mailer: deps.mailer } : {}),
        ...(deps.refuseUrl ? { refuseUrl: deps.refuseUrl } : {}),
        now: () => Math.max(started, deps.clock.now()),
        timeoutMs: deps.timeoutMs ?? SEND_TIMEOUT_MS,
      },
    );
    return { outcome: "sent", status: result.status, error: null, latencyMs: latency(), retryAfterMs: null };
  } catch (err) {
    const failure =
      err instanceof TransportError
        ? err
        : // Transports wrap every I/O failure in a TransportError; anything else is our own rendering or
          // signing failing on this message, which no retry can mend.
          new TransportError(`could not be sent: ${errorText(err)}`, true);
    return {
      outcome: failure.permanent ? "permanent" : "transient",
      status: failure.status,
      error: failure.message,
      latencyMs: latency(),
      retryAfterMs: failure.retryAfterMs,
    };
  }
}

/**
 * Records one attempt and moves the delivery and its channel on, guarded by this dispatcher's lease.
 * `retry: false` (test sends) records a transient failure as final without marking the channel failing.
 */
async function recordAttempt(
  db: Db,
  delivery: DeliveryRow,
  attempt: AttemptOutcome,
  now: number,
  retry = true,
): Promise<DeliveryRow["state"]> {
  const attempts = delivery.attempts + 1;
  let state: DeliveryRow["state"] = "sent";
  let nextAttemptAt = delivery.nextAttemptAt;
  let error = attempt.error;
  const channelFails = attempt.outcome === "permanent" || retry;
  if (attempt.outcome === "transient" && !retry) {
    state = "failed";
  } else if (attempt.outcome === "transient") {
    nextAttemptAt = now + retryDelayMs(attempts, attempt.retryAfterMs);
    state = nextAttemptAt - delivery.createdAt > GIVE_UP_AFTER_MS ? "failed" : "pending";
    if (state === "failed") error = `gave up after ${attempts} attempts over a day: ${attempt.error}`;
  } else if (attempt.outcome === "permanent") {
    state = "failed";
  }
  const statements: InStatement[] = [
    {
      sql: `insert into delivery_attempts (project_id, delivery_id, at, outcome, status, error, latency_ms)
            values (?, ?, ?, ?, ?, ?, ?)`,
      args: [
        delivery.projectId,
        delivery.id,
        now,
        attempt.outcome,
        attempt.status,
        attempt.error,
        attempt.latencyMs,
      ],
    },
    {
      sql: `update deliveries set state = ?, attempts = ?, next_attempt_at = ?, last_error = ?, sent_at = ?,
              claimed_at = null
            where id = ? and claimed_at = ?`,
      args: [
        state,
        attempts,
        nextAttemptAt,
        error,
        state === "sent" ? now : null,
        delivery.id,
        delivery.claimedAt,
      ],
    },
  ];
  if (state === "sent") {
    statements.push({
      sql: "update channels set failing_since = null, last_error = null, last_sent_at = ? where id = ?",
      args: [now, delivery.channelId],
    });
  } else if (state === "failed" && channelFails) {
    statements.push({
      sql: "update channels set failing_since = coalesce(failing_since, ?), last_error = ? where id = ?",
      args: [now, error, delivery.channelId],
    });
  } else {
    statements.push({
      sql: "update channels set last_error = ? where id = ?",
      args: [error, delivery.channelId],
    });
  }
  await db.$client.batch(statements, "write");
  return state;
}

/** Sends one claimed delivery and records the attempt; returns where it stands now. */
export async function sendDelivery(deps: DispatchDeps, delivery: DeliveryRow): Promise<DeliveryRow["state"]> {
  const channel = await deps.db.query.channels.findFirst({ where: eq(channels.id, delivery.channelId) });
  if (!channel) return "failed"; // deleted meanwhile; its deliveries went with it
  const attempt = await attemptSend(deps, delivery, channel);
  return recordAttempt(deps.db, delivery, attempt, deps.clock.now());
}

export async function sendDueDeliveries(deps: DispatchDeps, report = emptyReport()): Promise<DispatchReport> {
  const claimed = await claimDeliveries(deps.db, deps.clock.now());
  let next = 0;
  const worker = async () => {
    while (next < claimed.length) {
      const delivery = claimed[next++];
      if (!delivery) break;
      // A delivery whose attempt cannot even be recorded keeps its lease and is taken over later; the
      // others in this run still go out.
      const state = await sendDelivery(deps, delivery).catch(() => "pending" as const);
      if (state === "sent") report.sent++;
      else if (state === "failed") report.failed++;
      else report.retrying++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(SEND_CONCURRENCY, claimed.length) }, worker));
  return report;
}

// ---- Test sends ----------------------------------------------------------------------------------------

/**
 * Sends a test notice to one channel right away and answers how it went. It is logged like any other
 * delivery but tried once: the operator is watching and can try again. A permanent refusal marks the
 * channel failing (it is broken); a timeout does not.
 */
export async function sendTestNotification(
  deps: DispatchDeps,
  channel: ChannelRow,
): Promise<{ deliveryId: string; state: DeliveryRow["state"]; attempt: AttemptOutcome }> {
  const { db } = deps;
  const now = deps.clock.now();
  const id = crypto.randomUUID();
  const change: NotificationChange = {
    event: "down",
    subject: {
      type: "check",
      id: "test",
      name: "test notice",
      summary: `test notice for channel "${channel.name}"`,
      tags: [],
      checkId: null,
      ruleId: null,
      hostId: null,
      hostName: null,
      runbookUrl: null,
      path: `/api/v1/channels/${channel.id}`,
      facts: [{ label: "Channel", value: `${channel.name} (${channel.kind})` }],
    },
    from: "up",
    to: "down",
    cause: "a test send asked for over the API",
    at: now,
    downForMs: null,
    reminder: false,
    heldBack: [],
  };
  const payload: NotificationPayloadV1 = {
    version: 1,
    id,
    project: { id: channel.projectId, name: await projectName(db, channel.projectId) },
    test: true,
    title: `TEST: Vigil channel "${channel.name}"`,
    changes: [change],
    url: deps.publicUrl ?? null,
    sentAt: now,
  };
  const delivery: DeliveryRow = {
    id,
    projectId: channel.projectId,
    channelId: channel.id,
    state: "sending",
    title: payload.title,
    payload,
    attempts: 0,
    nextAttemptAt: now,
    claimedAt: now,
    createdAt: now,
    sentAt: null,
    lastError: null,
  };
  await db.insert(deliveries).values(delivery);
  await db.insert(notifications).values({
    projectId: channel.projectId,
    channelId: channel.id,
    kind: "test",
    flipId: null,
    subjectType: null,
    subjectId: null,
    event: "down",
    title: payload.title,
    change,
    state: "batched",
    deliveryId: id,
    dueAt: now,
    createdAt: now,
  } satisfies Omit<NotificationRow, "id" | "suppressedReason" | "inhibitedBy">);
  const attempt = await attemptSend(deps, delivery, channel);
  const state = await recordAttempt(db, delivery, attempt, deps.clock.now(), false);
  return { deliveryId: id, state, attempt };
}

// ---- Upkeep --------------------------------------------------------------------------------------------

/** How long the delivery log keeps finished messages and their notices. */
export const DELIVERY_LOG_DAYS = 90;

/**
 * Deletes finished deliveries (sent or given up) and their notices older than DELIVERY_LOG_DAYS, in bounded
 * steps like the other retention work. Queued and pending ones are never touched.
 */
export async function pruneDeliveryLog(db: Db, now: number, batch = 5000): Promise<number> {
  const before = now - DELIVERY_LOG_DAYS * 86_400_000;
  const results = await db.$client.batch(
    [
      {
        sql: `delete from notifications where id in (select id from notifications
                where created_at < ? and (state = 'suppressed' or delivery_id in
                  (select id from deliveries where state in ('sent', 'failed') and created_at < ?))
                limit ?)`,
        args: [before, before, batch],
      },
      {
        sql: `delete from deliveries where id in (select id from deliveries
                where state in ('sent', 'failed') and created_at < ? limit ?)`,
        args: [before, batch],
      },
    ],
    "write",
  );
  return results.reduce((n, r) => n + r.rowsAffected, 0);
}
