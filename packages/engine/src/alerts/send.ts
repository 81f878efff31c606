/**
 * Step 4 of the alert pipeline (dispatch.ts): due deliveries are claimed with a lease, sent through
 * @vigil/notify's transports and each attempt recorded; the channel is marked failing or mended.
 */
import type { NotificationPayloadV1 } from "@vigil/contract";
import {
  type ChannelRow,
  channels,
  type Db,
  type DeliveryRow,
  deliveries,
  type InStatement,
  openSecret,
} from "@vigil/db";
import { type SendResult, sendToChannel, TransportError } from "@vigil/notify";
import { eq, inArray } from "drizzle-orm";
import { type AlertDeps, type DispatchReport, emptyReport, errorText, refuseUrl } from "./deps.ts";

export const SEND_TIMEOUT_MS = 10_000;
/** Longer than a send may take, so a live dispatcher's lease never expires under it. */
export const SEND_LEASE_MS = 2 * 60_000;
export const RETRY_BASE_MS = 30_000;
export const RETRY_MAX_MS = 60 * 60_000;
/** Transient failures are retried this long after the message was composed; then it is given up. */
export const GIVE_UP_AFTER_MS = 24 * 60 * 60_000;
/** Deliveries sent at once; a receiver that times out holds up no one else. */
const SEND_CONCURRENCY = 8;

export function retryDelayMs(attempts: number, retryAfterMs: number | null): number {
  const backoff = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.max(0, attempts - 1));
  return Math.min(RETRY_MAX_MS, Math.max(backoff, retryAfterMs ?? 0));
}

/**
 * Claims due rows of an outbox (alert deliveries, subscriber notices) with compare-and-set, oldest due first,
 * and returns the ids this dispatcher won, in that order. The claim compares the attempt count as well as
 * state and claim time: a row that another dispatcher sent and put back to pending (a failed try, retry
 * later) looks exactly as it did when read, except that its attempts went up, and must not be sent again now.
 * A row claimed by a dispatcher that died is taken over once its lease (SEND_LEASE_MS) has run out.
 */
export async function claimDue(
  db: Db,
  table: "deliveries" | "status_notices",
  now: number,
  limit = 50,
): Promise<string[]> {
  const candidates = await db.$client.execute({
    sql: `select id, state, claimed_at, attempts from ${table}
          where (state = 'pending' and next_attempt_at <= ?) or (state = 'sending' and claimed_at < ?)
          order by next_attempt_at, rowid limit ?`,
    args: [now, now - SEND_LEASE_MS, limit],
  });
  if (candidates.rows.length === 0) return [];
  const results = await db.$client.batch(
    candidates.rows.map((r) => ({
      sql: `update ${table} set state = 'sending', claimed_at = ?
            where id = ? and state = ? and coalesce(claimed_at, -1) = ? and attempts = ?`,
      args: [now, String(r.id), String(r.state), Number(r.claimed_at ?? -1), Number(r.attempts)],
    })),
    "write",
  );
  return candidates.rows.filter((_, i) => results[i]?.rowsAffected === 1).map((r) => String(r.id));
}

async function claimDeliveries(db: Db, now: number): Promise<DeliveryRow[]> {
  const won = await claimDue(db, "deliveries", now);
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

export async function attemptSend(
  deps: AlertDeps,
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
        refuseUrl: refuseUrl(deps),
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
export async function recordAttempt(
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
export async function sendDelivery(deps: AlertDeps, delivery: DeliveryRow): Promise<DeliveryRow["state"]> {
  const channel = await deps.db.query.channels.findFirst({ where: eq(channels.id, delivery.channelId) });
  if (!channel) return "failed"; // deleted meanwhile; its deliveries went with it
  const attempt = await attemptSend(deps, delivery, channel);
  return recordAttempt(deps.db, delivery, attempt, deps.clock.now());
}

export async function sendDueDeliveries(deps: AlertDeps, report = emptyReport()): Promise<DispatchReport> {
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
