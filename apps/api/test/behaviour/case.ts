import type { Runtime, Target } from "./target.ts";

/**
 * One behaviour, run on both runtimes. Where a runtime behaves otherwise on purpose, `differs` says why
 * for that runtime, and `run` branches on `t.runtime` to the alternative expectation.
 */
export interface BehaviourCase {
  /** a sentence */
  name: string;
  run(t: Target): Promise<void>;
  differs?: Partial<Record<Runtime, string>>;
}

/** Groups cases under an area's title. */
export function area(title: string, cases: BehaviourCase[]): { title: string; cases: BehaviourCase[] } {
  return { title, cases };
}
