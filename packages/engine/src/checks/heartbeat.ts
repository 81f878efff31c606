/**
 * The heartbeat state machine, as pure functions of a check row and a time (Healthchecks.io semantics):
 * - up until the due time, late from the due time (inclusive), down from due + grace (inclusive);
 * - degraded (the last run was slower than usual) keeps time as up does;
 * - a `start` opens a run; no end within the start grace (the grace unless set) makes the check down too;
 * - new, down and paused checks wait for a ping: time alone never changes them.
 */
import type { CheckRow, CheckStatus } from "@vigil/db";
import type { CheckPatch } from "./state.ts";

const graceMs = (c: Pick<CheckRow, "graceSec">) => (c.graceSec ?? 3600) * 1000;
/** How long a started run may stay open: its own grace when set, else the check's. */
const startGraceMs = (c: Pick<CheckRow, "graceSec" | "startGraceSec">) =>
  c.startGraceSec !== null ? c.startGraceSec * 1000 : graceMs(c);

type HeartbeatFields = Pick<CheckRow, "status" | "nextDueAt" | "lastStartAt" | "graceSec" | "startGraceSec">;

/** The next moment time alone changes this heartbeat, or null when only a ping can. */
export function heartbeatDeadline(c: HeartbeatFields): number | null {
  if (c.status === "paused") return null;
  let deadline = c.lastStartAt !== null ? c.lastStartAt + startGraceMs(c) : Number.POSITIVE_INFINITY;
  if (c.nextDueAt !== null) {
    if (c.status === "up" || c.status === "degraded") deadline = Math.min(deadline, c.nextDueAt);
    if (c.status === "late") deadline = Math.min(deadline, c.nextDueAt + graceMs(c));
  }
  return Number.isFinite(deadline) ? deadline : null;
}

export interface HeartbeatChange {
  patch: CheckPatch;
  cause?: string;
}

export function describeMs(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} days`;
}

/** What time alone does to a heartbeat at `now`; the patch is empty when nothing changes. */
export function evaluateHeartbeat(c: CheckRow, now: number): HeartbeatChange {
  if (c.status === "paused") return { patch: { alertAfter: null } };
  const grace = graceMs(c);
  const startGrace = startGraceMs(c);
  let status: CheckStatus = c.status;
  let cause: string | undefined;
  const patch: CheckPatch = {};

  if (c.lastStartAt !== null && now >= c.lastStartAt + startGrace) {
    status = "down";
    cause = `a started run did not finish within ${describeMs(startGrace)}`;
    patch.lastStartAt = null;
    patch.lastStartRid = null;
  } else if ((c.status === "up" || c.status === "degraded" || c.status === "late") && c.nextDueAt !== null) {
    if (c.status === "late" && now < c.nextDueAt) {
      status = "up";
      cause = "the due time moved later (settings changed)";
    } else if (now >= c.nextDueAt + grace) {
      status = "down";
      cause = `no ping for ${describeMs(now - (c.lastPingAt ?? c.nextDueAt))}, grace of ${describeMs(grace)} over`;
    } else if (c.status !== "late" && now >= c.nextDueAt) {
      status = "late";
      cause = "no ping by the due time";
    }
  }
  if (status !== c.status) patch.status = status;
  if (status === "down") patch.nextDueAt = null;
  patch.alertAfter = heartbeatDeadline({ ...c, ...patch, status } as HeartbeatFields);
  return cause ? { patch, cause } : { patch };
}
