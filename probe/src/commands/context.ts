import type { Clock, Sleep } from "../clock.ts";
import type { Flags } from "../config.ts";

/** What a command may touch of the outside world; tests pass their own clock, sleep and output. */
export interface CommandContext {
  flags: Flags;
  /** arguments after "--" */
  rest: string[];
  env: NodeJS.ProcessEnv;
  clock: Clock;
  sleep: Sleep;
  out: (text: string) => void;
  err: (text: string) => void;
  fetch: typeof fetch;
  /** where wrapped commands' output goes (exec, backup); the probe's own streams unless a test says otherwise */
  passThrough?: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream };
  /** [0, 1), Math.random unless a test fixes it: which files a restore drill picks */
  random?: () => number;
}
