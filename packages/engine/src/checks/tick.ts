/**
 * The scheduler's one entry point, shared by the Worker's cron trigger and the Node server's timer.
 * 1. Read the checks whose deadline (`alert_after`) has passed, oldest first, at most `limit` of them:
 *    an indexed range read, so the cost follows what is due, not how many checks exist.
 * 2. Heartbeats and host checks are evaluated from what is stored (late, down, silent host).
 * 3. Active checks (HTTP, TCP, TLS) are claimed with compare-and-set before they run, so an overlapping
 *    tick skips them; the result is written against the claim, with the flip in the same batch.
 * 4. Upkeep: uptime rows past their horizon are dropped.
 * Every state write is compare-and-set, so two overlapping ticks never record the same change twice.
 */
import { type CheckRow, checks, type Db, hosts, uptimeDaily } from "@vigil/db";
import { and, asc, eq, lt, lte, min, notInArray } from "drizzle-orm";
import type { Clock } from "../clock.ts";
import type { EngineState } from "../engine-state.ts";
import { runActiveCheck } from "./active.ts";
import { isActiveKind } from "./checks.ts";
import { evaluateHeartbeat } from "./heartbeat.ts";
import type { ProbeRunner } from "./probes.ts";
import { type CheckPatch, writeCheckState } from "./state.ts";

export interface TickContext {
  db: Db;
  clock: Clock;
  /** what this process or isolate keeps between ticks: here, the committer concurrent writes share */
  state: EngineState;
  /** how active checks reach their targets; without it they are left due */
  probes?: ProbeRunner;
  /** operator setting: let active checks reach private, loopback and link-local addresses */
  allowPrivateTargets?: boolean;
  /** due checks handled per tick (the rest wait for the next one) */
  limit?: number;
  /** active checks running at once */
  concurrency?: number;
  /**
   * Spread active runs over this many ms (each check at a stable offset), so targets are not all hit at
   * the top of the minute. For the Worker's once-a-minute cron; the Node timer ticks often enough without.
   */
  spreadMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface TickReport {
  due: number;
  flips: number;
  runs: number;
  /** lost a compare-and-set to another writer, left to it */
  skipped: number;
}

const DAY_MS = 86_400_000;
export const UPTIME_RETENTION_DAYS = 400;
/** A host check that cannot be decided yet (host never seen, or down) is looked at again after this. */
const HOST_RECHECK_MS = 60_000;

/** Host liveness: down after three silent intervals, and never sooner than two minutes. */
export function hostSilenceLimitMs(periodSec: number | null): number {
  return Math.max(3 * (periodSec ?? 30) * 1000, 120_000);
}

async function evaluateHost(
  db: Db,
  check: CheckRow,
  now: number,
): Promise<{ patch: CheckPatch; cause?: string }> {
  const host = await db.query.hosts.findFirst({
    where: and(eq(hosts.projectId, check.projectId), eq(hosts.id, check.hostId ?? "")),
    columns: { lastSeenAt: true },
  });
  const lastSeen = host?.lastSeenAt ?? null;
  if (lastSeen === null) {
    return { patch: { alertAfter: now + HOST_RECHECK_MS, lastError: host ? null : "host not found" } };
  }
  const limit = hostSilenceLimitMs(check.periodSec);
  const silent = now - lastSeen;
  const base: CheckPatch = { lastPingAt: lastSeen, lastError: null };
  if (silent >= limit) {
    const cause = `probe silent for ${Math.round(silent / 1000)} s (limit ${Math.round(limit / 1000)} s)`;
    return check.status === "down"
      ? { patch: { ...base, alertAfter: now + HOST_RECHECK_MS } }
      : { patch: { ...base, status: "down", alertAfter: now + HOST_RECHECK_MS, lastError: cause }, cause };
  }
  const patch: CheckPatch = { ...base, alertAfter: lastSeen + limit, nextDueAt: lastSeen + limit };
  if (check.status !== "up") {
    return { patch: { ...patch, status: "up" }, cause: "probe reporting again" };
  }
  return { patch };
}

/**
 * The earliest deadline among all checks (`alert_after`), or null when none has one: when the next tick has
 * work, read from the deadline index. The Workers check runner sets its next alarm by it.
 */
export async function nextCheckDeadline(db: Db): Promise<number | null> {
  const [row] = await db.select({ at: min(checks.alertAfter) }).from(checks);
  return row?.at ?? null;
}

function stableOffset(id: string, spreadMs: number): number {
  let h = 0;
  for (const ch of id) h = (h * 31 + ch.charCodeAt(0)) | 0;
  return Math.abs(h) % spreadMs;
}

export async function tick(ctx: TickContext, now = ctx.clock.now()): Promise<TickReport> {
  const { db } = ctx;
  const report: TickReport = { due: 0, flips: 0, runs: 0, skipped: 0 };
  // Without a runner, active checks are left out of the due query, or they would fill every tick's quota.
  const due = await db.query.checks.findMany({
    where: ctx.probes
      ? lte(checks.alertAfter, now)
      : and(lte(checks.alertAfter, now), notInArray(checks.kind, ["http", "tcp", "tls", "dns", "icmp"])),
    orderBy: [asc(checks.alertAfter)],
    limit: ctx.limit ?? 500,
  });
  report.due = due.length;

  const active = due.filter((c) => isActiveKind(c.kind));
  // Passive checks are written concurrently, so their writes share one group commit.
  const passive = await Promise.all(
    due
      .filter((c) => !isActiveKind(c.kind))
      .map(async (check) => {
        const next =
          check.kind === "host" ? await evaluateHost(db, check, now) : evaluateHeartbeat(check, now);
        const written = await writeCheckState(db, { check, now, ...next }, ctx.state);
        return { written, flipped: next.patch.status !== undefined && next.patch.status !== check.status };
      }),
  );
  for (const { written, flipped } of passive) {
    if (!written) report.skipped++;
    else if (flipped) report.flips++;
  }

  if (active.length > 0 && ctx.probes) {
    const probes = ctx.probes;
    const { spreadMs, sleep } = ctx;
    // With spreading, each check waits for its slot (a stable offset from the start of this tick); the
    // queue is in slot order, so a worker that frees up takes the next slot.
    const slot = (c: CheckRow) => (spreadMs ? stableOffset(c.id, spreadMs) : 0);
    const queue = [...active].sort((a, b) => slot(a) - slot(b));
    const start = ctx.clock.now();
    const waitForSlot = (c: CheckRow) =>
      spreadMs && sleep ? sleep(Math.max(0, start + slot(c) - ctx.clock.now())) : Promise.resolve();
    const worker = async () => {
      for (let check = queue.shift(); check; check = queue.shift()) {
        const outcome = await runActiveCheck(ctx, probes, check, now, waitForSlot);
        if (outcome === "skipped") report.skipped++;
        else {
          report.runs++;
          if (outcome === "flipped") report.flips++;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(ctx.concurrency ?? 16, active.length) }, worker));
  }

  const horizon = now - (now % DAY_MS) - UPTIME_RETENTION_DAYS * DAY_MS;
  await db.delete(uptimeDaily).where(lt(uptimeDaily.day, horizon));
  return report;
}
