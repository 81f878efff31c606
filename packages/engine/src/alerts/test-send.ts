/** Test sends: one notice to one channel, right away, logged like any other delivery. */
import type { NotificationChange, NotificationPayloadV1 } from "@vigil/contract";
import {
  type ChannelRow,
  type DeliveryRow,
  deliveries,
  type NotificationRow,
  notifications,
} from "@vigil/db";
import { type AlertDeps, projectName } from "./deps.ts";
import { type AttemptOutcome, attemptSend, recordAttempt } from "./send.ts";

/**
 * Sends a test notice to one channel right away and answers how it went. It is logged like any other
 * delivery but tried once: the operator is watching and can try again. A permanent refusal marks the
 * channel failing (it is broken); a timeout does not.
 */
export async function sendTestNotification(
  deps: AlertDeps,
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
      checkKind: null,
      ruleId: null,
      hostId: null,
      hostName: null,
      runbookUrl: null,
      path: `/api/v1/channels/${channel.id}`,
      facts: [{ label: "Channel", value: `${channel.name} (${channel.kind})` }],
      logs: null,
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
