/**
 * Status page subscribers: visitors follow a page by email (double opt-in) or webhook, for all its
 * components or some, and hear of incidents and maintenance the page shows.
 * - Subscribing queues a confirmation mail; nothing else is sent to an address until its link is opened.
 *   Asking again answers the same whatever the address's state, so the form tells no one who subscribed.
 * - Announcing (a new incident, an update, new maintenance) queues one notice per confirmed subscriber that
 *   it concerns; the dispatcher sends them (sendStatusNotices), retrying like alert deliveries.
 * - Every mail carries a fresh link token, stored hashed; any of a subscriber's tokens unsubscribes it.
 */
import type {
  IncidentProgressName,
  Maintenance,
  StatusIncident,
  StatusSubscriber,
  SubscribeRequest,
} from "@vigil/contract";
import {
  type Db,
  type InStatement,
  randomBase62,
  type StatusNoticeRow,
  type StatusPageRow,
  type StatusSubscriberRow,
  sha256Hex,
  statusNotices,
  statusPages,
  statusSubscribers,
  statusSubscriberTokens,
} from "@vigil/db";
import {
  type StatusNoticeContent,
  type StatusNoticeLinks,
  sendStatusNotice,
  TransportError,
} from "@vigil/notify";
import { and, asc, eq, inArray } from "drizzle-orm";
import { type AlertDeps, type DispatchReport, emptyReport, errorText, refuseUrl } from "../alerts/deps.ts";
import { claimDue, GIVE_UP_AFTER_MS, retryDelayMs, SEND_TIMEOUT_MS } from "../alerts/send.ts";
import { assertTargetAllowed, type TargetPolicy } from "../checks/addresses.ts";
import type { Clock } from "../clock.ts";
import { InvalidInputError, NotFoundError } from "../errors.ts";
import { assertBelowCap, type Cap } from "../limits/caps.ts";
import { loadComponents } from "./subjects.ts";

/** A repeated subscription re-sends the confirmation mail at most this often. */
export const CONFIRM_RESEND_MS = 10 * 60_000;
/** A confirmation link works this long. */
export const CONFIRM_TTL_MS = 7 * 86_400_000;
/** Notices claimed and sent per dispatcher run. */
const NOTICE_BATCH = 50;
/** Rows per insert when an announcement fans out to many subscribers. */
const INSERT_CHUNK = 100;

export interface SubscribeOptions {
  /** where links in mails point: the public URL, or the origin this request came through */
  baseUrl: string;
  policy: TargetPolicy;
  cap: Cap;
  /** false when this server cannot send mail: email subscriptions are refused */
  canMail: boolean;
}

export type SubscribeOutcome = "confirmation_sent" | "subscribed";

export async function subscribe(
  db: Db,
  clock: Clock,
  page: StatusPageRow,
  input: SubscribeRequest,
  options: SubscribeOptions,
): Promise<SubscribeOutcome> {
  const known = new Set((await loadComponents(db, [page.id])).map((c) => c.id));
  input.components.forEach((id, i) => {
    if (!known.has(id)) throw new InvalidInputError(`body.components.${i}`, "not a component of this page");
  });
  const components = [...new Set(input.components)];
  const now = clock.now();
  if (input.webhook !== undefined) {
    assertTargetAllowed("body.webhook", new URL(input.webhook).hostname, options.policy);
    await assertBelowCap(db, page.projectId, "subscribers", options.cap);
    // A webhook has no inbox to confirm from; what it may reach is bounded by the address rule instead.
    await db
      .insert(statusSubscribers)
      .values({
        id: crypto.randomUUID(),
        projectId: page.projectId,
        pageId: page.id,
        kind: "webhook",
        address: input.webhook,
        components,
        baseUrl: options.baseUrl,
        confirmedAt: now,
        createdAt: now,
      })
      .onConflictDoUpdate({
        target: [statusSubscribers.pageId, statusSubscribers.address],
        set: { components },
      });
    return "subscribed";
  }
  if (!options.canMail) {
    throw new InvalidInputError(
      "body.email",
      "this server sends no email; subscribe with a webhook or the feed",
    );
  }
  const address = (input.email ?? "").trim().toLowerCase();
  const existing = await db.query.statusSubscribers.findFirst({
    where: and(eq(statusSubscribers.pageId, page.id), eq(statusSubscribers.address, address)),
  });
  if (existing) {
    // Confirmed: nothing changes without the owner's link. Pending: mail the link again, not too often.
    const due = existing.confirmSentAt === null || now - existing.confirmSentAt >= CONFIRM_RESEND_MS;
    if (existing.confirmedAt === null && due) {
      await db.batch([
        db
          .update(statusSubscribers)
          .set({ components, confirmSentAt: now, baseUrl: options.baseUrl })
          .where(eq(statusSubscribers.id, existing.id)),
        db.insert(statusNotices).values(confirmNotice(existing, page, now)),
      ]);
    }
    return "confirmation_sent";
  }
  await assertBelowCap(db, page.projectId, "subscribers", options.cap);
  const row = {
    id: crypto.randomUUID(),
    projectId: page.projectId,
    pageId: page.id,
    kind: "email" as const,
    address,
    components,
    baseUrl: options.baseUrl,
    confirmedAt: null,
    confirmSentAt: now,
    createdAt: now,
  };
  // Two requests racing for one address: the unique index keeps one row, and only its insert queues a mail.
  const inserted = await db.insert(statusSubscribers).values(row).onConflictDoNothing().returning();
  if (inserted.length > 0) await db.insert(statusNotices).values(confirmNotice(row, page, now));
  return "confirmation_sent";
}

function confirmNotice(
  subscriber: Pick<StatusSubscriberRow, "id" | "projectId">,
  page: StatusPageRow,
  now: number,
) {
  const content: StatusNoticeContent = {
    type: "confirm",
    page: { slug: page.slug, title: page.title, timezone: page.timezone },
    incident: null,
    maintenance: null,
    components: [],
  };
  return {
    id: crypto.randomUUID(),
    projectId: subscriber.projectId,
    subscriberId: subscriber.id,
    kind: "confirm" as const,
    content: content as unknown as Record<string, unknown>,
    nextAttemptAt: now,
    createdAt: now,
  };
}

/** The subscriber a link token of this page belongs to, or null (unknown, another page's, or expired). */
async function subscriberByToken(
  db: Db,
  page: StatusPageRow,
  token: string,
  now: number,
  purpose?: "confirm",
): Promise<StatusSubscriberRow | null> {
  if (!/^[A-Za-z0-9]{20,100}$/.test(token)) return null;
  const found = await db.query.statusSubscriberTokens.findFirst({
    where: eq(statusSubscriberTokens.tokenHash, await sha256Hex(token)),
  });
  if (!found || (purpose && found.purpose !== purpose)) return null;
  if (found.purpose === "confirm" && now - found.createdAt > CONFIRM_TTL_MS) return null;
  const subscriber = await db.query.statusSubscribers.findFirst({
    where: and(eq(statusSubscribers.id, found.subscriberId), eq(statusSubscribers.pageId, page.id)),
  });
  return subscriber ?? null;
}

/** Opens a confirmation link: the subscriber hears of what comes next. Null when the link is not valid. */
export async function confirmSubscription(
  db: Db,
  clock: Clock,
  page: StatusPageRow,
  token: string,
): Promise<StatusSubscriberRow | null> {
  const now = clock.now();
  const subscriber = await subscriberByToken(db, page, token, now, "confirm");
  if (!subscriber) return null;
  if (subscriber.confirmedAt === null) {
    await db
      .update(statusSubscribers)
      .set({ confirmedAt: now })
      .where(eq(statusSubscribers.id, subscriber.id));
  }
  return { ...subscriber, confirmedAt: subscriber.confirmedAt ?? now };
}

/** Who a link would unsubscribe, for the page that asks "stop notices to …?" before doing it. */
export async function findSubscriberByLink(
  db: Db,
  clock: Clock,
  page: StatusPageRow,
  token: string,
): Promise<StatusSubscriberRow | null> {
  return subscriberByToken(db, page, token, clock.now());
}

/** One-click unsubscribe: the subscriber and all it had pending go. False when the link is not valid. */
export async function unsubscribeByLink(
  db: Db,
  clock: Clock,
  page: StatusPageRow,
  token: string,
): Promise<boolean> {
  const subscriber = await subscriberByToken(db, page, token, clock.now());
  if (!subscriber) return false;
  await removeSubscribers(db, page.projectId, [subscriber.id]);
  return true;
}

/** Foreign-key cascades are not relied on (remote libSQL does not promise them): children go first. */
function removeSubscribers(db: Db, projectId: string, ids: string[]) {
  if (ids.length === 0) return Promise.resolve();
  return db.batch([
    db.delete(statusNotices).where(inArray(statusNotices.subscriberId, ids)),
    db.delete(statusSubscriberTokens).where(inArray(statusSubscriberTokens.subscriberId, ids)),
    db
      .delete(statusSubscribers)
      .where(and(eq(statusSubscribers.projectId, projectId), inArray(statusSubscribers.id, ids))),
  ]);
}

/** Everything a deleted page's subscribers left behind. */
export async function removePageSubscribers(db: Db, projectId: string, pageId: string): Promise<void> {
  const rows = await db
    .select({ id: statusSubscribers.id })
    .from(statusSubscribers)
    .where(and(eq(statusSubscribers.projectId, projectId), eq(statusSubscribers.pageId, pageId)));
  await removeSubscribers(
    db,
    projectId,
    rows.map((r) => r.id),
  );
}

export function toStatusSubscriber(row: StatusSubscriberRow): StatusSubscriber {
  return {
    id: row.id,
    kind: row.kind,
    address: row.address,
    components: row.components,
    confirmedAt: row.confirmedAt,
    createdAt: row.createdAt,
  };
}

export async function listSubscribers(
  db: Db,
  projectId: string,
  pageId: string,
): Promise<StatusSubscriber[]> {
  const rows = await db.query.statusSubscribers.findMany({
    where: and(eq(statusSubscribers.projectId, projectId), eq(statusSubscribers.pageId, pageId)),
    orderBy: [asc(statusSubscribers.createdAt), asc(statusSubscribers.id)],
  });
  return rows.map(toStatusSubscriber);
}

export async function deleteSubscriber(
  db: Db,
  projectId: string,
  pageId: string,
  subscriberId: string,
): Promise<void> {
  const row = await db.query.statusSubscribers.findFirst({
    where: and(
      eq(statusSubscribers.projectId, projectId),
      eq(statusSubscribers.pageId, pageId),
      eq(statusSubscribers.id, subscriberId),
    ),
  });
  if (!row) throw new NotFoundError("subscriber");
  await removeSubscribers(db, projectId, [row.id]);
}

// ---- Announcing ----------------------------------------------------------------------------------------

export type Announcement =
  /** `update` is the one just posted: what the notice says, whatever else was posted that millisecond */
  | { type: "incident"; incident: StatusIncident; update: { status: IncidentProgressName; message: string } }
  | { type: "maintenance"; maintenance: Maintenance };

/**
 * Queues a notice for each confirmed subscriber of each page of the project that shows the announcement
 * (it affects the whole project, or one of the page's components) and that follows what it affects.
 * Returns how many were queued.
 */
export async function announce(db: Db, clock: Clock, projectId: string, what: Announcement): Promise<number> {
  const now = clock.now();
  const affects = what.type === "incident" ? what.incident.affects : what.maintenance.affects;
  const pages = await db.query.statusPages.findMany({ where: eq(statusPages.projectId, projectId) });
  const subscribers = await db.query.statusSubscribers.findMany({
    where: eq(statusSubscribers.projectId, projectId),
    columns: { id: true, pageId: true, components: true, confirmedAt: true },
  });
  const allComponents = await loadComponents(
    db,
    pages.map((p) => p.id),
  );
  const rows: (typeof statusNotices.$inferInsert)[] = [];
  for (const page of pages) {
    const following = subscribers.filter((s) => s.pageId === page.id && s.confirmedAt !== null);
    if (following.length === 0) continue;
    const components = allComponents.filter((c) => c.pageId === page.id);
    const concerned = components.filter(
      (c) => affects.length === 0 || affects.some((a) => a.type === c.subjectType && a.id === c.subjectId),
    );
    // Not on this page: its readers never see it there, so they are not told of it either.
    if (affects.length > 0 && concerned.length === 0) continue;
    const concernedIds = new Set(concerned.map((c) => c.id));
    const content: StatusNoticeContent = {
      type: what.type,
      page: { slug: page.slug, title: page.title, timezone: page.timezone },
      incident:
        what.type === "incident"
          ? {
              id: what.incident.id,
              title: what.incident.title,
              impact: what.incident.impact,
              status: what.update.status,
              message: what.update.message,
              startedAt: what.incident.startedAt,
              resolvedAt: what.incident.resolvedAt,
            }
          : null,
      maintenance:
        what.type === "maintenance"
          ? {
              id: what.maintenance.id,
              title: what.maintenance.title,
              description: what.maintenance.description,
              startsAt: what.maintenance.startsAt,
              endsAt: what.maintenance.endsAt,
            }
          : null,
      components: affects.length === 0 ? [] : concerned.map((c) => c.displayName),
    };
    for (const s of following) {
      const follows =
        affects.length === 0 || s.components.length === 0 || s.components.some((id) => concernedIds.has(id));
      if (!follows) continue;
      rows.push({
        id: crypto.randomUUID(),
        projectId,
        subscriberId: s.id,
        kind: what.type,
        content: content as unknown as Record<string, unknown>,
        nextAttemptAt: now,
        createdAt: now,
      });
    }
  }
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    await db.insert(statusNotices).values(rows.slice(i, i + INSERT_CHUNK));
  }
  return rows.length;
}

// ---- Sending -------------------------------------------------------------------------------------------

/** Claims due notices as alert deliveries are claimed (send.ts), in the order they were announced. */
async function claimNotices(db: Db, now: number): Promise<StatusNoticeRow[]> {
  const won = await claimDue(db, "status_notices", now, NOTICE_BATCH);
  if (won.length === 0) return [];
  const rows = await db.query.statusNotices.findMany({ where: inArray(statusNotices.id, won) });
  // In the order they were announced: an incident's updates reach a subscriber as they were written.
  const order = new Map(won.map((id, i) => [id, i]));
  return rows.sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
}

/** A fresh link token for one mail, stored hashed; the plain token goes into the mail only. */
async function issueLinkToken(
  subscriber: StatusSubscriberRow,
  purpose: "confirm" | "manage",
  now: number,
): Promise<{ token: string; statement: InStatement }> {
  const token = randomBase62(43);
  return {
    token,
    statement: {
      sql: `insert into status_subscriber_tokens (token_hash, project_id, subscriber_id, purpose, created_at)
            values (?, ?, ?, ?, ?)`,
      args: [await sha256Hex(token), subscriber.projectId, subscriber.id, purpose, now],
    },
  };
}

type NoticeOutcome = "sent" | "retrying" | "failed" | "dropped";

async function sendNotice(
  deps: AlertDeps,
  notice: StatusNoticeRow,
  now: number,
): Promise<{ outcome: NoticeOutcome; statements: InStatement[] }> {
  const { db } = deps;
  const subscriber = await db.query.statusSubscribers.findFirst({
    where: eq(statusSubscribers.id, notice.subscriberId),
  });
  // Unsubscribed since it was queued: nothing to send.
  if (!subscriber) {
    return {
      outcome: "dropped",
      statements: [{ sql: "delete from status_notices where id = ?", args: [notice.id] }],
    };
  }
  const content = notice.content as unknown as StatusNoticeContent;
  const pagePath = `${subscriber.baseUrl}/status/${content.page.slug}`;
  const manage = await issueLinkToken(subscriber, "manage", now);
  const confirm = notice.kind === "confirm" ? await issueLinkToken(subscriber, "confirm", now) : null;
  const links: StatusNoticeLinks = {
    pageUrl: pagePath,
    unsubscribeUrl: `${pagePath}/unsubscribe/${manage.token}`,
    ...(confirm ? { confirmUrl: `${pagePath}/confirm/${confirm.token}` } : {}),
  };
  // The tokens are stored before the mail goes, so a link is never sent that would not work.
  await db.$client.batch([manage.statement, ...(confirm ? [confirm.statement] : [])], "write");
  const target =
    subscriber.kind === "email"
      ? { kind: "email" as const, address: subscriber.address }
      : { kind: "webhook" as const, url: subscriber.address };
  const attempts = notice.attempts + 1;
  try {
    await sendStatusNotice(target, notice.id, content, links, {
      fetch: deps.fetch,
      ...(deps.mailer ? { mailer: deps.mailer } : {}),
      now: () => deps.clock.now(),
      refuseUrl: refuseUrl(deps),
      timeoutMs: deps.timeoutMs ?? SEND_TIMEOUT_MS,
    });
    const sent = {
      sql: `update status_notices set state = 'sent', attempts = ?, sent_at = ?, last_error = null
            where id = ? and claimed_at = ?`,
      args: [attempts, now, notice.id, notice.claimedAt],
    };
    return { outcome: "sent", statements: [sent] };
  } catch (err) {
    const permanent = err instanceof TransportError ? err.permanent : false;
    const retryAfter = err instanceof TransportError ? err.retryAfterMs : null;
    const giveUp = permanent || now - notice.createdAt >= GIVE_UP_AFTER_MS;
    const failed = {
      sql: `update status_notices set state = ?, attempts = ?, next_attempt_at = ?, last_error = ?
            where id = ? and claimed_at = ?`,
      args: [
        giveUp ? "failed" : "pending",
        attempts,
        now + retryDelayMs(attempts, retryAfter),
        errorText(err),
        notice.id,
        notice.claimedAt,
      ],
    };
    return { outcome: giveUp ? "failed" : "retrying", statements: [failed] };
  }
}

/** Sends due subscriber notices (a step of the alert dispatcher); counts go into the run's report. */
export async function sendStatusNotices(deps: AlertDeps, report = emptyReport()): Promise<DispatchReport> {
  const now = deps.clock.now();
  const claimed = await claimNotices(deps.db, now);
  for (const notice of claimed) {
    const { outcome, statements } = await sendNotice(deps, notice, now);
    await deps.db.$client.batch(statements, "write");
    if (outcome === "sent") report.sent++;
    else if (outcome === "retrying") report.retrying++;
    else if (outcome === "failed") report.failed++;
  }
  return report;
}
