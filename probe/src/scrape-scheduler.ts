import type { CustomSample, ProbeNote } from "@vigil/contract";
import { keepAliveAgents, type ScrapeAgents, type ScrapeOutcome, scrapeTarget } from "./collectors/scrape.ts";
import { NoteSink } from "./notes.ts";
import type { ScrapeTarget } from "./scrape-targets.ts";

interface TargetState {
  target: ScrapeTarget;
  nextAt: number;
  inFlight: Promise<void> | undefined;
  /** notes without a count ("connection refused") from the last finished scrape, replayed every cycle */
  standing: ProbeNote[];
}

export type ScrapeFunction = (
  target: ScrapeTarget,
  now: number,
  notes: NoteSink,
  options: { stop: AbortSignal; agents: ScrapeAgents },
) => Promise<ScrapeOutcome>;

/**
 * Scrapes each target on its own interval, apart from the collection cycle, and holds the results until the
 * next batch takes them.
 * 1. `startDue(now)` starts the targets whose time has come, without waiting for them; a target still busy
 *    with its last scrape skips the slot. Slots stay on each target's grid; missed ones are skipped.
 * 2. A finished scrape adds its samples; its counted notes (drops) add up until taken, its other notes
 *    replace the target's standing ones.
 * 3. `take()` hands over the samples and drop counts since the last take, plus every standing note: replayed
 *    each time, so the collector's "send notes when they change" logic sees no flapping.
 */
export class ScrapeScheduler {
  private readonly states: TargetState[];
  private samples: CustomSample[] = [];
  private drops = new Map<string, ProbeNote>();
  private readonly stopper = new AbortController();
  private readonly agents = keepAliveAgents();

  constructor(
    targets: ScrapeTarget[],
    private defaultIntervalMs: number,
    private readonly scrape: ScrapeFunction = scrapeTarget,
  ) {
    this.states = targets.map((target) => ({
      target,
      nextAt: Number.NEGATIVE_INFINITY,
      inFlight: undefined,
      standing: [],
    }));
  }

  /** Targets without an interval of their own follow the probe's, which the server may change. */
  setDefaultInterval(ms: number): void {
    this.defaultIntervalMs = ms;
  }

  nextDueAt(): number {
    let next = Number.POSITIVE_INFINITY;
    for (const state of this.states) next = Math.min(next, state.nextAt);
    return next;
  }

  startDue(now: number): void {
    if (this.stopper.signal.aborted) return;
    for (const state of this.states) {
      if (now < state.nextAt) continue;
      const intervalMs = state.target.intervalMs ?? this.defaultIntervalMs;
      state.nextAt = Number.isFinite(state.nextAt) ? state.nextAt + intervalMs : now + intervalMs;
      if (state.nextAt <= now) state.nextAt = now + intervalMs;
      if (!state.inFlight) state.inFlight = this.run(state, now);
    }
  }

  private async run(state: TargetState, now: number): Promise<void> {
    const notes = new NoteSink();
    try {
      const outcome = await this.scrape(state.target, now, notes, {
        stop: this.stopper.signal,
        agents: this.agents,
      });
      for (const sample of outcome.samples) this.samples.push(sample);
    } catch (error) {
      // scrapeTarget turns every failure into a note; this only guards the loop against a bug.
      notes.failed("scrape", `${state.target.name}: scrape`, error);
    } finally {
      state.inFlight = undefined;
    }
    const standing: ProbeNote[] = [];
    for (const note of notes.notes) {
      if (note.dropped === undefined) {
        standing.push(note);
        continue;
      }
      const key = note.message;
      const earlier = this.drops.get(key);
      this.drops.set(key, earlier ? { ...note, dropped: (earlier.dropped ?? 0) + note.dropped } : note);
    }
    state.standing = standing;
  }

  /** Resolves once every scrape under way has finished (each is bounded by its target's timeout). */
  async settled(): Promise<void> {
    await Promise.all(this.states.map((state) => state.inFlight));
  }

  take(notes: NoteSink): CustomSample[] {
    for (const state of this.states) notes.notes.push(...state.standing);
    notes.notes.push(...this.drops.values());
    this.drops = new Map();
    const samples = this.samples;
    this.samples = [];
    return samples;
  }

  /** Aborts the scrapes under way (shutdown) and starts no more. */
  stop(): void {
    this.stopper.abort();
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}
