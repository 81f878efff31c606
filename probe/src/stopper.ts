import type { Sleep } from "./clock.ts";

/**
 * Lets SIGTERM cut a daemon's sleep short, so systemd's stop is prompt and nothing is half-written; and lets
 * work that finished in the background (a check run) wake the loop early without stopping it.
 */
export class Stopper {
  stopped = false;
  /** one per sleep under way: aborting it ends that sleep and clears its timer */
  private readonly sleeping = new Set<AbortController>();
  /** a wake that came while nothing slept: the next sleep returns at once */
  private wakePending = false;

  stop(): void {
    this.stopped = true;
    for (const controller of this.sleeping) controller.abort();
  }

  /** Ends the sleep under way early, or the next one if the loop is busy now, so nothing waits a full sleep. */
  wake(): void {
    if (this.sleeping.size === 0) this.wakePending = true;
    for (const controller of this.sleeping) controller.abort();
  }

  /**
   * Wraps a sleep so that stop() and wake() end it early. The sleep also gets a signal, so the real one
   * clears its timer: otherwise the process would linger after SIGTERM until the timer fired (up to an
   * interval), and every wake would leave a timer behind.
   */
  interruptible(sleep: Sleep): Sleep {
    return async (ms) => {
      if (this.stopped) return;
      if (this.wakePending) {
        this.wakePending = false;
        return;
      }
      const controller = new AbortController();
      this.sleeping.add(controller);
      try {
        await Promise.race([
          sleep(ms, controller.signal),
          new Promise<void>((resolve) =>
            controller.signal.addEventListener("abort", () => resolve(), { once: true }),
          ),
        ]);
      } finally {
        this.sleeping.delete(controller);
      }
    };
  }
}
