import {
  applyRetention,
  dispatch,
  evaluateAbsentSeries,
  evaluateDueAlerts,
  evaluateForecasts,
  expireUnreportedCommands,
  pruneAudit,
  pruneDeliveryLog,
  pruneRateLimits,
  purgeDeletedProjects,
  removeEmptyOrganizations,
  rollUpDirtyHours,
  sendDueWeeklyReports,
  tick,
  withLease,
} from "@vigil/engine";
import { alertDeps } from "./alert-deps.ts";
import { type AppDeps, type LiveDeps, withRuntime } from "./deps.ts";
import { runbookEnvOf } from "./runbook-env.ts";

/** One unit of periodic work (checks, rules, alert delivery, rollups, retention). */
export interface ScheduledJob {
  name: string;
  /**
   * Least time between two successful runs, wherever they ran (job_leases.last_run_at); without it a job
   * runs once per firing of the scheduler.
   */
  everyMs?: number;
  run(deps: LiveDeps): Promise<unknown>;
}

/**
 * How long a job's lease lasts without renewal. A running job renews it every third of this, so only a
 * scheduler that died (or lost the database) lets it lapse; then another takes the job within this long.
 */
export const JOB_LEASE_MS = 60_000;

export interface ScheduledRun {
  /**
   * The moment this run was fired for: a cron trigger's scheduled time (the same for two invocations of one
   * firing, so the second finds every job done), or the clock's now on the Node timer.
   */
  firedAt?: number;
}

/**
 * The periodic work both runtimes share: the Worker's cron trigger and check runner and the Node interval
 * call this. Jobs run one after another, each under its lease (job_leases), so two processes or isolates
 * on one database never run the same job at once, and a job runs only when due: its last successful run is
 * at least its interval (or, without one, this firing) behind. A job found held or not due is skipped.
 * A failing job is logged and does not stop the others; it is not recorded as run, so it is tried again
 * on the next firing.
 */
export async function runScheduledJobs(
  given: AppDeps,
  jobs: readonly ScheduledJob[],
  { firedAt }: ScheduledRun = {},
): Promise<string[]> {
  const deps = withRuntime(given);
  const failed: string[] = [];
  const fired = firedAt ?? deps.clock.now();
  // One owner per run: a lease this run took is released before the next run starts.
  const owner = crypto.randomUUID();
  const count = (job: string, result: "ran" | "skipped-not-due" | "skipped-leased" | "failed") =>
    deps.runtime.metrics.count("vigil_scheduler_jobs_total", { job, result });
  for (const job of jobs) {
    try {
      const outcome = await withLease(
        deps.db,
        { job: job.name, owner },
        {
          now: () => deps.clock.now(),
          ttlMs: JOB_LEASE_MS,
          due: { firedAt: fired, everyMs: job.everyMs ?? 0 },
        },
        () => job.run(deps),
      );
      count(job.name, outcome.ran ? "ran" : `skipped-${outcome.reason}`);
    } catch (err) {
      failed.push(job.name);
      count(job.name, "failed");
      console.error(`scheduled job ${job.name} failed`, err);
    }
  }
  return failed;
}

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

/** Evaluates every check whose deadline has passed: heartbeats, HTTP/TCP/TLS runs, host liveness. */
export const checksJob: ScheduledJob = {
  name: "checks",
  async run({ db, clock, probes, config, runtime }) {
    await tick({
      db,
      clock,
      state: runtime.engine,
      ...(probes ? { probes } : {}),
      allowPrivateTargets: config.allowPrivateTargets,
      ...(config.checkSpreadMs ? { spreadMs: config.checkSpreadMs, sleep } : {}),
    });
  },
};

/** Turns the flips of this tick (and earlier ones not yet done) into notices, and sends what is due. */
export const notifyJob: ScheduledJob = {
  name: "notify",
  run: async (deps) => {
    const report = await dispatch(alertDeps(deps));
    for (const result of ["sent", "retrying", "failed"] as const) {
      deps.runtime?.metrics.count("vigil_deliveries_total", { result }, report[result]);
    }
    return report;
  },
};

// Order matters: whatever flips in checks, rules and forecasts is notified in the same run.
export const scheduledJobs: readonly ScheduledJob[] = [
  checksJob,
  /** Alerts whose deadline passed: for-durations ending, keep-firing-for running out, ages growing. */
  { name: "rules", run: (deps) => evaluateDueAlerts(deps.db, deps.clock.now()) },
  { name: "forecasts", everyMs: 5 * 60_000, run: (deps) => evaluateForecasts(deps.db, deps.clock.now()) },
  /** Series that stopped reporting (metric_absent rules): silence is never in a batch. */
  { name: "absent", everyMs: 60_000, run: (deps) => evaluateAbsentSeries(deps.db, deps.clock.now()) },
  /** Runbook commands whose host went silent while they ran: their runs move on (the step fails). */
  {
    name: "runbook-commands",
    everyMs: 60_000,
    run: (deps) => expireUnreportedCommands(runbookEnvOf(deps)),
  },
  notifyJob,
  { name: "rollups", run: (deps) => rollUpDirtyHours(deps.db, deps.clock.now()) },
  {
    name: "retention",
    everyMs: 10 * 60_000,
    run: async ({ db, clock }) => {
      await applyRetention(db, clock.now());
      await pruneDeliveryLog(db, clock.now());
      await pruneAudit(db, clock.now());
      await pruneRateLimits(db, clock.now());
      await removeEmptyOrganizations(db);
    },
  },
  /** Weekly reports whose moment came (each project's own weekday, hour and time zone), once each. */
  {
    name: "reports",
    everyMs: 5 * 60_000,
    run: (deps) => sendDueWeeklyReports(alertDeps(deps), crypto.randomUUID()),
  },
  /** Deleted projects go in bounded steps: at most 20 statements of 5,000 rows a tick. */
  { name: "purge", run: ({ db }) => purgeDeletedProjects(db) },
];

/**
 * The Node side: ticks every `intervalMs`, never overlapping itself. Returns a stop function that waits for
 * a running tick at most `graceMs`: a check or webhook timing out must not hold up Ctrl-C for seconds, and
 * what a cut-short tick had claimed is taken over by the next one when its lease runs out.
 */
export function startInterval(
  tick: () => Promise<unknown>,
  intervalMs: number,
): (graceMs?: number) => Promise<void> {
  let running: Promise<unknown> | null = null;
  const timer = setInterval(() => {
    if (running) return;
    running = tick().finally(() => {
      running = null;
    });
  }, intervalMs);
  return async (graceMs = Number.POSITIVE_INFINITY) => {
    clearInterval(timer);
    if (!running) return;
    let timeout: NodeJS.Timeout | undefined;
    await Promise.race([
      running.catch(() => undefined),
      new Promise<void>((done) => {
        if (Number.isFinite(graceMs)) timeout = setTimeout(done, graceMs);
      }),
    ]);
    clearTimeout(timeout);
  };
}
