/**
 * Is this Vigil doing its job? /readyz and the self-metrics read the same report.
 * 1. The database answers `select 1`, within `maxDbLatencyMs`.
 * 2. Some scheduler completed a tick within `maxTickLagMs` (from the database: any process or cron).
 * 3. Nothing in the outbox has waited past its due time longer than `maxOutboxDelayMs`.
 * 4. Self-hosted: the local probe runs, and its spool holds nothing older than `maxSpoolAgeMs`.
 */
import { databaseLatencyMs, lastTickCompletedAt, type OutboxBacklog, outboxBacklog } from "@vigil/engine";
import type { AppDeps } from "../deps.ts";
import type { LocalProbeReport } from "./runtime.ts";

export interface Readiness {
  status: "ready" | "unready";
  /** why not ready, one line each; empty when ready */
  reasons: string[];
  db: { ok: boolean; latencyMs: number | null };
  scheduler: { lastTickAt: number | null; lagMs: number | null };
  outbox: (OutboxBacklog & { delayMs: number }) | null;
  localProbe: LocalProbeReport | null;
  time: number;
}

const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;

export async function readiness(deps: AppDeps): Promise<Readiness> {
  const { db, clock, config, runtime } = deps;
  const limits = config.selfWatch;
  const now = clock.now();
  const reasons: string[] = [];
  const report: Readiness = {
    status: "ready",
    reasons,
    db: { ok: false, latencyMs: null },
    scheduler: { lastTickAt: null, lagMs: null },
    outbox: null,
    localProbe: null,
    time: now,
  };

  try {
    const latencyMs = await databaseLatencyMs(db);
    report.db = { ok: true, latencyMs: Math.round(latencyMs * 100) / 100 };
    if (latencyMs > limits.maxDbLatencyMs) {
      reasons.push(`database answered in ${Math.round(latencyMs)} ms (limit ${limits.maxDbLatencyMs} ms)`);
    }
  } catch {
    reasons.push("database unreachable");
  }

  if (report.db.ok) {
    const [lastTickAt, backlog] = await Promise.all([lastTickCompletedAt(db), outboxBacklog(db, now)]);
    // Until a tick could have run, a fresh process or isolate counts from its own start.
    const since =
      limits.schedulerInProcess && runtime
        ? Math.max(lastTickAt ?? 0, runtime.startedAt)
        : (lastTickAt ?? runtime?.startedAt ?? now);
    const lagMs = Math.max(0, now - since);
    report.scheduler = { lastTickAt, lagMs };
    if (lagMs > limits.maxTickLagMs) {
      reasons.push(
        lastTickAt === null
          ? `the scheduler has not completed a tick (waiting ${seconds(lagMs)}, limit ${seconds(limits.maxTickLagMs)})`
          : `the scheduler last completed a tick ${seconds(lagMs)} ago (limit ${seconds(limits.maxTickLagMs)})`,
      );
    }
    const delayMs = backlog.oldestDueAt === null ? 0 : Math.max(0, now - backlog.oldestDueAt);
    report.outbox = { ...backlog, delayMs };
    if (delayMs > limits.maxOutboxDelayMs) {
      reasons.push(
        `the outbox has notices waiting ${seconds(delayMs)} past their due time (limit ${seconds(limits.maxOutboxDelayMs)})`,
      );
    }
  }

  if (runtime?.localProbe) {
    const probe = await runtime.localProbe();
    report.localProbe = probe;
    if (!probe.running) reasons.push("the local probe is not running");
    if (probe.oldestSpooledAt !== null && now - probe.oldestSpooledAt > limits.maxSpoolAgeMs) {
      const last = probe.lastError ? `; last error: ${probe.lastError.message}` : "";
      reasons.push(
        `the local probe's spool holds ${probe.spooled} batches, the oldest ${seconds(now - probe.oldestSpooledAt)} old${last}`,
      );
    }
  }

  report.status = reasons.length ? "unready" : "ready";
  return report;
}
