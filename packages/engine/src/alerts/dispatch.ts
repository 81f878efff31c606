/**
 * The alert pipeline: state changes (flips, written by checks and rules with their state: transitions.ts)
 * become notices, messages and sends. Each run (a scheduler tick) moves every change one step further;
 * every step is a compare-and-set, so two dispatchers racing, or one dying half-way, neither lose nor double
 * a notice.
 * 1. Queue (queue.ts): claim flips (outbox.ts), describe the subject (describe.ts), pick the channels that
 *    route it and want the event, and insert one notification per channel (queued, or suppressed with the
 *    reason: silence, maintenance, inhibition; silences.ts). A unique index on (flip, channel) makes a
 *    re-claimed flip a no-op.
 * 2. Remind (reminders.ts): due reminders of subjects still down queue a "still down" notification.
 * 3. Group (compose.ts): per channel whose oldest queued notification is due, render one message from all
 *    its queued notifications and store it as a delivery, in one batch that succeeds only if all are still
 *    queued.
 * 4. Send (send.ts): claim due deliveries with a lease, send through @vigil/notify's transports, and record
 *    the attempt. Sent → done; transient failure → retry with exponential backoff for up to a day; permanent
 *    failure → stop, channel marked failing. A dispatcher that dies while sending loses its lease after
 *    SEND_LEASE_MS and the message goes out again with the same id (`Vigil-Delivery`, Message-ID), so a
 *    receiver can drop the copy.
 * 5. Status page subscribers' notices (status/subscribers.ts) are sent the same way, from their own outbox.
 * Every step handles its rows one by one: a row that cannot be described, rendered or sent is marked
 * `failed` with its error (visible in the delivery log, delivery-log.ts) and the rest go on, so one bad row
 * never holds back every other notice of the run.
 */

import { sendStatusNotices } from "../status/subscribers.ts";
import { composeDeliveries } from "./compose.ts";
import { type AlertDeps, type DispatchReport, emptyReport } from "./deps.ts";
import { queueFlipNotifications } from "./queue.ts";
import { queueReminders } from "./reminders.ts";
import { sendDueDeliveries } from "./send.ts";

/** Runs every step once; the scheduler calls this after the checks tick. */
export async function dispatch(deps: AlertDeps): Promise<DispatchReport> {
  const report = emptyReport();
  await queueFlipNotifications(deps, report);
  await queueReminders(deps, report);
  await composeDeliveries(deps, report);
  await sendDueDeliveries(deps, report);
  // Status page subscribers' notices ride the same run (status/subscribers.ts).
  await sendStatusNotices(deps, report);
  return report;
}
