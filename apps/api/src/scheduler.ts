import { tick } from "@vigil/engine";
import type { AppDeps } from "./deps.ts";

/** One unit of periodic work (evaluating checks, retention, dispatching the outbox …). */
export interface ScheduledJob {
  name: string;
  run(deps: AppDeps): Promise<void>;
}

/**
 * The periodic work both runtimes share: the Worker's cron trigger and the Node interval call this.
 * Jobs run one after another; a failing job is logged and does not stop the others, since the next tick
 * retries it anyway. Later issues add their jobs to `scheduledJobs`.
 */
export async function runScheduledJobs(deps: AppDeps, jobs: readonly ScheduledJob[]): Promise<string[]> {
  const failed: string[] = [];
  for (const job of jobs) {
    try {
      await job.run(deps);
    } catch (err) {
      failed.push(job.name);
      console.error(`scheduled job ${job.name} failed`, err);
    }
  }
  return failed;
}

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

/** Evaluates every check whose deadline has passed: heartbeats, HTTP/TCP/TLS runs, host liveness. */
export const checksJob: ScheduledJob = {
  name: "checks",
  async run({ db, clock, probes, config }) {
    await tick({
      db,
      clock,
      ...(probes ? { probes } : {}),
      allowPrivateTargets: config.allowPrivateTargets,
      ...(config.checkSpreadMs ? { spreadMs: config.checkSpreadMs, sleep } : {}),
    });
  },
};

export const scheduledJobs: readonly ScheduledJob[] = [checksJob];

/** The Node side: ticks every `intervalMs`, never overlapping itself. Returns a stop function. */
export function startInterval(tick: () => Promise<unknown>, intervalMs: number): () => Promise<void> {
  let running: Promise<unknown> | null = null;
  const timer = setInterval(() => {
    if (running) return;
    running = tick().finally(() => {
      running = null;
    });
  }, intervalMs);
  return async () => {
    clearInterval(timer);
    await running;
  };
}
