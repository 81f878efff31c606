import type { Sleep } from "./clock.ts";

/** Lets SIGTERM cut a daemon's sleep short, so systemd's stop is prompt and nothing is half-written. */
export class Stopper {
  stopped = false;
  private wake: (() => void) | undefined;

  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  /** Wraps a sleep so that stop() ends it early. */
  interruptible(sleep: Sleep): Sleep {
    return async (ms) => {
      if (this.stopped) return;
      await Promise.race([sleep(ms), new Promise<void>((resolve) => (this.wake = resolve))]);
      this.wake = undefined;
    };
  }
}
