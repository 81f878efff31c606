/** Time as the domain sees it. Injected everywhere so tests move time instead of sleeping. */
export interface Clock {
  /** milliseconds since epoch UTC */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
