/**
 * Alerting, one area: the flips and incidents state changes record (transitions.ts), the outbox that hands
 * them on (outbox.ts), what a notice says (describe.ts), what holds it back (silences.ts), queueing,
 * reminders, grouping into messages and sending (dispatch.ts and its steps), channels, test sends and the
 * delivery log. I/O (transports, rendering, signing, mailers) is @vigil/notify's, called from here.
 */
export {
  type ChannelEnvironment,
  createChannel,
  deleteChannel,
  findChannel,
  listChannels,
  toChannel,
  updateChannel,
} from "./channels.ts";
export { composeDeliveries } from "./compose.ts";
export { DELIVERY_LOG_DAYS, type DeliveryLogEntry, deliveryLog, pruneDeliveryLog } from "./delivery-log.ts";
export type { AlertDeps, DispatchReport } from "./deps.ts";
export { describeCheckSubject } from "./describe.ts";
export { dispatch } from "./dispatch.ts";
export { claimFlips, FLIP_CLAIM_LEASE_MS } from "./outbox.ts";
export { queueFlipNotifications } from "./queue.ts";
export {
  type AttemptOutcome,
  GIVE_UP_AFTER_MS,
  RETRY_BASE_MS,
  SEND_LEASE_MS,
  sendDueDeliveries,
} from "./send.ts";
export {
  createMaintenanceWindow,
  createSilence,
  DEPLOY_SILENCE_LIMITS,
  deleteMaintenanceWindow,
  expireSilence,
  listMaintenanceWindows,
  listSilences,
  suppressionFor,
  toMaintenanceWindow,
  toSilence,
} from "./silences.ts";
export { sendTestNotification } from "./test-send.ts";
