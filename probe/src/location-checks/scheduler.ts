import type { CheckAssignment, CheckResult } from "@vigil/contract";
import type { Clock } from "../clock.ts";
import { failureOf, type Observation, withinContract } from "./observation.ts";

/** Runs one assignment; `signal` fires when the run must end (stop, withdrawal, far past its timeout). */
export type AssignmentRunner = (assignment: CheckAssignment, signal: AbortSignal) => Promise<Observation>;

export interface LocationCheckSchedulerOptions {
  clock: Clock;
  run: AssignmentRunner;
  /** runs under way at most (default 8) */
  maxConcurrent?: number;
  /** a new assignment first runs within this (default 5 s), at a point its id picks */
  firstRunWithinMs?: number;
  /** a run still going this long after its timeout is abandoned as timed out (default 10 s) */
  graceMs?: number;
  /** called when a result lands and none were waiting: the daemon wakes up to send it */
  onResult?: () => void;
}

interface Entry {
  assignment: CheckAssignment;
  intervalMs: number;
  /** where in each interval this assignment's runs fall, from its id */
  offsetMs: number;
  nextAt: number;
  running: boolean;
}

const DEFAULT_CONCURRENCY = 8;
const FIRST_RUN_WITHIN_MS = 5_000;
const GRACE_MS = 10_000;

/** FNV-1a: a stable number from an id, so an assignment's slot survives restarts and config updates. */
function hash(text: string): number {
  let value = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    value ^= text.charCodeAt(i);
    value = Math.imul(value, 0x01000193);
  }
  return value >>> 0;
}

class Withdrawn extends Error {}

/**
 * Runs the checks the server assigns to this probe's location, each on its own interval, apart from
 * collection.
 * 1. Each assignment runs at a fixed offset within its interval, derived from its id, so a probe's runs are
 *    spread out and keep their slots across restarts. A new assignment (also every one after a start)
 *    first runs within a few seconds, then on its slots.
 * 2. `startDue(now)` starts what is due, at most 8 at once; what waits for a free place starts when a run
 *    ends. An assignment still running when its slot comes skips the slot.
 * 3. `update` replaces the set: an id seen before keeps its timing (a new rev just uses the new
 *    definition; a new interval may only bring its next run closer); a withdrawn one is stopped and its
 *    result dropped.
 * 4. Results wait, with check id, rev and start time, until `take()`.
 */
export class LocationCheckScheduler {
  private entries = new Map<string, Entry>();
  private results: CheckResult[] = [];
  private firstWaitingAt = Number.POSITIVE_INFINITY;
  private runningCount = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly controllers = new Map<Entry, AbortController>();
  private stopped = false;
  private readonly maxConcurrent: number;

  constructor(
    private readonly options: LocationCheckSchedulerOptions,
    assignments: CheckAssignment[] = [],
  ) {
    this.maxConcurrent = options.maxConcurrent ?? DEFAULT_CONCURRENCY;
    this.update(assignments);
  }

  /** How many assignments it holds. */
  get size(): number {
    return this.entries.size;
  }

  /** Runs under way. */
  get running(): number {
    return this.runningCount;
  }

  /** Results waiting for `take()`. */
  get pending(): number {
    return this.results.length;
  }

  /** When the oldest waiting result landed (+Infinity when none waits). */
  pendingSince(): number {
    return this.firstWaitingAt;
  }

  update(assignments: CheckAssignment[]): void {
    const now = this.options.clock();
    const next = new Map<string, Entry>();
    for (const assignment of assignments) {
      const intervalMs = assignment.intervalSec * 1000;
      const offsetMs = hash(assignment.id) % intervalMs;
      const known = this.entries.get(assignment.id);
      if (known) {
        known.assignment = assignment;
        if (known.intervalMs !== intervalMs) {
          known.intervalMs = intervalMs;
          known.offsetMs = offsetMs;
          known.nextAt = Math.min(known.nextAt, this.slotAfter(known, now));
        }
        next.set(assignment.id, known);
        continue;
      }
      const firstWithin = Math.min(this.options.firstRunWithinMs ?? FIRST_RUN_WITHIN_MS, intervalMs);
      const firstAt = now + (firstWithin > 0 ? hash(`first:${assignment.id}`) % firstWithin : 0);
      next.set(assignment.id, { assignment, intervalMs, offsetMs, nextAt: firstAt, running: false });
    }
    for (const [id, entry] of this.entries)
      if (!next.has(id)) this.controllers.get(entry)?.abort(new Withdrawn("withdrawn"));
    this.entries = next;
  }

  /** The first slot strictly after `t` on the entry's grid. */
  private slotAfter(entry: Pick<Entry, "intervalMs" | "offsetMs">, t: number): number {
    const { intervalMs, offsetMs } = entry;
    const into = (((t - offsetMs) % intervalMs) + intervalMs) % intervalMs;
    return t - into + intervalMs;
  }

  /** When a run is next due; +Infinity when stopped, when none is held, or while every place is taken. */
  nextDueAt(): number {
    if (this.stopped || this.runningCount >= this.maxConcurrent) return Number.POSITIVE_INFINITY;
    let next = Number.POSITIVE_INFINITY;
    for (const entry of this.entries.values()) next = Math.min(next, entry.nextAt);
    return next;
  }

  startDue(now: number): void {
    if (this.stopped) return;
    const due = [...this.entries.values()].filter((e) => e.nextAt <= now).sort((a, b) => a.nextAt - b.nextAt);
    for (const entry of due) {
      if (entry.running) {
        entry.nextAt = this.slotAfter(entry, now);
        continue;
      }
      if (this.runningCount >= this.maxConcurrent) break;
      this.start(entry, now);
    }
  }

  private start(entry: Entry, now: number): void {
    // Half an interval ahead: a late start (a full queue, the first run) does not run again right away.
    entry.nextAt = this.slotAfter(entry, now + entry.intervalMs / 2);
    entry.running = true;
    this.runningCount++;
    const assignment = entry.assignment;
    const controller = new AbortController();
    this.controllers.set(entry, controller);
    const run = this.runOnce(entry, assignment, controller, now);
    this.inFlight.add(run);
    void run.finally(() => this.inFlight.delete(run));
  }

  private async runOnce(
    entry: Entry,
    assignment: CheckAssignment,
    controller: AbortController,
    at: number,
  ): Promise<void> {
    // Runners keep their own timeouts; this only frees the place of one that hangs regardless.
    const graceMs = this.options.graceMs ?? GRACE_MS;
    let abandon: NodeJS.Timeout | undefined;
    const abandoned = new Promise<Observation>((resolve) => {
      abandon = setTimeout(() => resolve({ error: "timed out" }), assignment.timeoutMs + graceMs);
      controller.signal.addEventListener("abort", () => resolve({ error: "stopped" }), { once: true });
    });
    let observation: Observation;
    try {
      observation = await Promise.race([this.options.run(assignment, controller.signal), abandoned]);
    } catch (error) {
      observation = failureOf(error);
    } finally {
      clearTimeout(abandon);
      if (!controller.signal.aborted) controller.abort();
      this.controllers.delete(entry);
      entry.running = false;
      this.runningCount--;
    }
    // Stopped or withdrawn: nobody wants the result; a withdrawn check is history on the server.
    const dropped = this.stopped || controller.signal.reason instanceof Withdrawn;
    if (!dropped && this.entries.get(assignment.id) === entry) {
      this.results.push({ checkId: assignment.id, rev: assignment.rev, at, ...withinContract(observation) });
      if (this.results.length === 1) {
        this.firstWaitingAt = this.options.clock();
        this.options.onResult?.();
      }
    }
    this.startDue(this.options.clock());
  }

  /** The results finished since the last take, oldest first. */
  take(): CheckResult[] {
    const taken = this.results;
    this.results = [];
    this.firstWaitingAt = Number.POSITIVE_INFINITY;
    return taken;
  }

  /** Stops the runs under way (their results are dropped) and starts no more. */
  stop(): void {
    this.stopped = true;
    for (const controller of this.controllers.values()) controller.abort();
  }

  /** Resolves once every run under way has ended. */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }
}
