/** Time is injected everywhere so tests move a clock instead of sleeping. */
export type Clock = () => number;
/** `signal` ends the sleep early; a sleep may ignore it (tests' fake sleeps return at once anyway). */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export const systemClock: Clock = () => Date.now();

/** Clears its timer when `signal` fires: a pending timer would keep the process alive after SIGTERM. */
export const realSleep: Sleep = (ms, signal) =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
