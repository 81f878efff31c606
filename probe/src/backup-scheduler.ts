import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BackupCheck, BackupDrill } from "@vigil/contract";
import type { BackupCheckTarget, BackupRunContext, ScheduledBackupCheck } from "./backup-checks.ts";
import type { Clock } from "./clock.ts";
import { type CheckOutcome, describeCheck, runBackupCheck } from "./commands/backup-check.ts";
import { type DrillOutcome, describeDrill, runBackupDrill } from "./commands/backup-drill.ts";
import { describeError } from "./notes.ts";

export const SCHEDULE_FILE = "backup-schedule.json";
const HOUR_MS = 3_600_000;
const INTERRUPTED_RETRY_MS = HOUR_MS;

type JobKind = "check" | "drill";

interface Job {
  entry: ScheduledBackupCheck;
  kind: JobKind;
  everyMs: number;
  dueAt: number;
}

/**
 * What survives a restart, per job ("nas/check"): when it last ran, when its first run is due, and when
 * a run last started (newer than `lastAt`: it never finished).
 */
interface ScheduleState {
  jobs: Record<string, { lastAt?: number; firstAt?: number; attemptAt?: number }>;
}

export interface BackupSchedulerOptions {
  entries: ScheduledBackupCheck[];
  stateDir: string;
  clock: Clock;
  /**
   * The wait before the first run of a job that never ran (default: random within the first hour), so a
   * fleet installed at once does not hammer one repository together.
   */
  firstDelayMs?: () => number;
  runCheck?: (target: BackupCheckTarget, context: BackupRunContext) => Promise<CheckOutcome>;
  runDrill?: (target: BackupCheckTarget, context: BackupRunContext) => Promise<DrillOutcome>;
  random?: () => number;
  log?: (message: string) => void;
}

/**
 * Runs repository checks and restore drills on their own schedules, one at a time, in the background.
 * 1. Each configured repository gives a check job and a drill job (either off with an interval of 0).
 *    A job's due time is its last run plus its interval; a job that never ran is due after the first
 *    delay, remembered so that restarts do not push it back.
 * 2. `startDue(now)` starts the most overdue job unless one is running, without waiting for it; when it
 *    ends, the next due job starts at once. Collection and sending never wait for a job.
 * 3. A job's start and end are written to the state dir (atomically); its record waits for `take()`. A job
 *    stopped by `stop()` (or killed with the probe) leaves no record and runs again an hour after a restart.
 */
export class BackupScheduler {
  private readonly jobs: Job[] = [];
  private inFlight: Promise<void> | undefined;
  private checks: BackupCheck[] = [];
  private drills: BackupDrill[] = [];
  private readonly stopper = new AbortController();
  private readonly statePath: string;

  private constructor(
    private readonly options: BackupSchedulerOptions,
    private readonly state: ScheduleState,
  ) {
    this.statePath = join(options.stateDir, SCHEDULE_FILE);
  }

  static async create(options: BackupSchedulerOptions): Promise<BackupScheduler> {
    const scheduler = new BackupScheduler(options, readState(join(options.stateDir, SCHEDULE_FILE)));
    scheduler.plan();
    return scheduler;
  }

  private plan(): void {
    const now = this.options.clock();
    const firstDelay = this.options.firstDelayMs ?? (() => Math.random() * HOUR_MS);
    let changed = false;
    for (const entry of this.options.entries) {
      for (const [kind, everyMs] of [
        ["check", entry.checkEveryMs],
        ["drill", entry.drillEveryMs],
      ] as const) {
        if (everyMs <= 0) continue;
        const key = jobKey(entry.target.name, kind);
        const saved = this.state.jobs[key] ?? {};
        let dueAt: number;
        if (saved.lastAt !== undefined) dueAt = saved.lastAt + everyMs;
        else if (saved.firstAt !== undefined) dueAt = saved.firstAt;
        else {
          dueAt = now + Math.max(0, Math.round(firstDelay()));
          this.state.jobs[key] = { firstAt: dueAt };
          changed = true;
        }
        // A run that started and never finished (the probe stopped, or was killed with restic by the OOM
        // killer): try again, but not before an hour has passed, so a crash loop cannot hammer a repository.
        if (saved.attemptAt !== undefined && saved.attemptAt > (saved.lastAt ?? Number.NEGATIVE_INFINITY))
          dueAt = Math.max(dueAt, saved.attemptAt + INTERRUPTED_RETRY_MS);
        this.jobs.push({ entry, kind, everyMs, dueAt });
      }
    }
    if (changed) this.save();
  }

  /** When the next job is due; +Infinity while one runs (its end starts the next) or when there is none. */
  nextDueAt(): number {
    if (this.inFlight || this.stopper.signal.aborted) return Number.POSITIVE_INFINITY;
    return Math.min(Number.POSITIVE_INFINITY, ...this.jobs.map((job) => job.dueAt));
  }

  /** Whether a job is running now. */
  get busy(): boolean {
    return this.inFlight !== undefined;
  }

  startDue(now: number): void {
    if (this.inFlight || this.stopper.signal.aborted) return;
    let next: Job | undefined;
    for (const job of this.jobs) if (job.dueAt <= now && (!next || job.dueAt < next.dueAt)) next = job;
    if (next) this.inFlight = this.run(next);
  }

  private async run(job: Job): Promise<void> {
    const { target } = job.entry;
    const startedAt = this.options.clock();
    const context: BackupRunContext = {
      clock: this.options.clock,
      signal: this.stopper.signal,
      warn: (message) => this.options.log?.(`backup ${job.kind} ${target.name}: ${message}`),
    };
    if (this.options.random) context.random = this.options.random;
    const key = jobKey(target.name, job.kind);
    try {
      this.state.jobs[key] = { ...this.state.jobs[key], attemptAt: startedAt };
      this.save();
      if (job.kind === "check") {
        const outcome = await (this.options.runCheck ?? runBackupCheck)(target, context);
        if (outcome.stopped) return;
        this.checks.push(outcome.record);
        this.options.log?.(describeCheck(outcome.record));
      } else {
        const drillTarget = { ...target, timeoutMs: job.entry.drillTimeoutMs };
        const outcome = await (this.options.runDrill ?? runBackupDrill)(drillTarget, context);
        if (outcome.stopped) return;
        this.drills.push(outcome.record);
        this.options.log?.(describeDrill(outcome.record));
      }
      job.dueAt = startedAt + job.everyMs;
      this.state.jobs[key] = { lastAt: startedAt };
      this.save();
    } catch (error) {
      // A bug, not a failed check (those are records): try again in an hour rather than in a loop.
      this.options.log?.(`backup ${job.kind} ${target.name} failed: ${describeError(error)}`);
      job.dueAt = this.options.clock() + Math.min(job.everyMs, HOUR_MS);
    } finally {
      this.inFlight = undefined;
      this.startDue(this.options.clock());
    }
  }

  /** The records finished since the last take, as a part of a batch; undefined when there are none. */
  take(): { backupChecks?: BackupCheck[]; backupDrills?: BackupDrill[] } | undefined {
    if (this.checks.length === 0 && this.drills.length === 0) return undefined;
    const taken: { backupChecks?: BackupCheck[]; backupDrills?: BackupDrill[] } = {};
    if (this.checks.length > 0) taken.backupChecks = this.checks;
    if (this.drills.length > 0) taken.backupDrills = this.drills;
    this.checks = [];
    this.drills = [];
    return taken;
  }

  /** Resolves when the job under way (if any) has ended. */
  async settled(): Promise<void> {
    while (this.inFlight) await this.inFlight;
  }

  /** Stops the job under way (its restic gets SIGTERM) and starts no more. */
  stop(): void {
    this.stopper.abort();
  }

  /**
   * Synchronous, like the spool's writes: a few bytes, and a job starts only once its attempt is on disk.
   * A failure is logged: at worst a job runs once more than needed after a restart.
   */
  private save(): void {
    try {
      mkdirSync(this.options.stateDir, { recursive: true, mode: 0o750 });
      const temporary = `${this.statePath}.${process.pid}.tmp`;
      writeFileSync(temporary, `${JSON.stringify(this.state)}\n`, { mode: 0o640 });
      renameSync(temporary, this.statePath);
    } catch (error) {
      this.options.log?.(`backup schedule: could not save ${this.statePath}: ${describeError(error)}`);
    }
  }
}

function jobKey(name: string, kind: JobKind): string {
  return `${name}/${kind}`;
}

/** A missing or unreadable file is a fresh start: at worst a check runs once more than needed. */
function readState(path: string): ScheduleState {
  try {
    const parsed = JSON.parse(readFileSync(path, "utf8")) as Partial<ScheduleState>;
    if (parsed && typeof parsed.jobs === "object" && parsed.jobs !== null) return { jobs: parsed.jobs };
  } catch {
    // first start, or a damaged file
  }
  return { jobs: {} };
}
