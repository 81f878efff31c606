import type { Sleep } from "./clock.ts";

/** Lets SIGTERM cut a daemon's sleep short, so systemd's stop is prompt and nothing is half-written. */
export class Stopper {
  stopped = false;
  private wake: (() => void) | undefined;
  private readonly controller = new AbortController();

  stop(): void {
    this.stopped = true;
    this.controller.abort();
    this.wake?.();
  }

  /**
   * Wraps a sleep so that stop() ends it early. The sleep also gets the stop signal, so the real one clears
   * its timer: otherwise the process would linger after SIGTERM until the timer fired (up to an interval).
   */
  interruptible(sleep: Sleep): Sleep {
    return async (ms) => {
      if (this.stopped) return;
      await Promise.race([
        sleep(ms, this.controller.signal),
        new Promise<void>((resolve) => (this.wake = resolve)),
      ]);
      this.wake = undefined;
    };
  }
}
