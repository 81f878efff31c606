import { spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { TailBuffer } from "./wrap-command.ts";

export interface BoundedRun {
  /** null when the command did not start or was killed by a signal */
  exitCode: number | null;
  /** the signal that killed it (SIGKILL from the kernel's OOM killer, say) */
  signal?: NodeJS.Signals;
  /** stdout as text, unless `keepStdout` was false; cut at `maxStdoutBytes` */
  stdout: string;
  /** the last bytes of stdout and stderr, in the order they arrived: what an error report shows */
  tail: string;
  /** bytes of stdout and stderr together, so a caller can say how much of it the tail left out */
  outputBytes: number;
  /** killed at the timeout */
  timedOut: boolean;
  /** killed because `signal` fired (the daemon stopping, SIGTERM) */
  stopped: boolean;
  /** the command could not be started at all (ENOENT …) */
  spawnError?: Error;
}

export interface BoundedOptions {
  env: NodeJS.ProcessEnv;
  /** the working directory (default: the probe's) */
  cwd?: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** every stdout chunk as it arrives (large listings are read as a stream) */
  onStdout?: (chunk: Buffer) => void;
  /** keep stdout in memory for the caller (default true) */
  keepStdout?: boolean;
  maxStdoutBytes?: number;
  tailBytes?: number;
  /** how long a process group has between SIGTERM and SIGKILL (restic removes its lock on SIGTERM) */
  killGraceMs?: number;
}

const DEFAULT_MAX_STDOUT = 64 * 1024 * 1024;
const DEFAULT_TAIL = 8_192;
const KILL_GRACE_MS = 10_000;
/** after SIGKILL, stop waiting for pipes that something outside the group may still hold open */
const PIPE_GRACE_MS = 2_000;

/**
 * Runs a long tool (restic check, restore) with its output captured, no shell and a bounded runtime.
 * 1. The command gets a process group of its own, so a timeout or stop reaches everything it started
 *    (autorestic's restic, a shell's sleep), not only the first process.
 * 2. At the timeout or on `signal`: SIGTERM to the group, SIGKILL after a grace period.
 * 3. Never throws: a failure to start is `spawnError`.
 */
export function runBounded(command: string[], options: BoundedOptions): Promise<BoundedRun> {
  const [file, ...args] = command;
  const tail = new TailBuffer(options.tailBytes ?? DEFAULT_TAIL);
  const empty = { stdout: "", tail: "", outputBytes: 0, timedOut: false, stopped: false };
  if (!file) return Promise.resolve({ ...empty, exitCode: null, spawnError: new Error("no command given") });
  if (options.signal?.aborted) return Promise.resolve({ ...empty, exitCode: null, stopped: true });
  const keepStdout = options.keepStdout ?? true;
  const maxStdout = options.maxStdoutBytes ?? DEFAULT_MAX_STDOUT;
  return new Promise((resolve) => {
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let outputBytes = 0;
    let timedOut = false;
    let stopped = false;
    let spawnError: Error | undefined;
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const child = spawn(file, args, {
      env: options.env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
      ...(options.cwd ? { cwd: options.cwd } : {}),
    });

    const killGroup = (signal: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, signal);
      } catch {
        child.kill(signal);
      }
    };
    const terminate = () => {
      killGroup("SIGTERM");
      timers.push(setTimeout(() => killGroup("SIGKILL"), options.killGraceMs ?? KILL_GRACE_MS));
    };
    const onAbort = () => {
      stopped = true;
      terminate();
    };
    const finish = (exitCode: number | null, signal?: NodeJS.Signals | null) => {
      if (settled) return;
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      const result: BoundedRun = {
        exitCode,
        stdout: Buffer.concat(stdout).toString("utf8"),
        tail: tail.toString(),
        outputBytes,
        timedOut,
        stopped,
      };
      if (spawnError) result.spawnError = spawnError;
      if (signal) result.signal = signal;
      resolve(result);
    };

    timers.push(
      setTimeout(() => {
        timedOut = true;
        terminate();
      }, options.timeoutMs),
    );
    options.signal?.addEventListener("abort", onAbort, { once: true });
    child.stdout.on("data", (chunk: Buffer) => {
      tail.push(chunk);
      outputBytes += chunk.length;
      options.onStdout?.(chunk);
      if (keepStdout && stdoutBytes < maxStdout) stdout.push(chunk);
      stdoutBytes += chunk.length;
    });
    child.stderr.on("data", (chunk: Buffer) => {
      tail.push(chunk);
      outputBytes += chunk.length;
    });
    child.on("error", (error) => {
      spawnError = error;
      finish(null);
    });
    child.on("exit", (code, signal) => {
      if (settled || (!timedOut && !stopped)) return;
      // Killed: a grandchild outside the group could hold the pipes open; do not wait on it for ever.
      timers.push(
        setTimeout(() => {
          child.stdout.destroy();
          child.stderr.destroy();
          finish(code, signal);
        }, PIPE_GRACE_MS),
      );
    });
    child.on("close", (code, signal) => finish(code, signal));
  });
}

/** The full path of a program on PATH, or undefined. */
export function findOnPath(program: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, program);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/**
 * `nice -n 19 ionice -c 3 -t` in front of a command, as far as they exist: a check reads the whole
 * repository's metadata and must not slow the applications the server is there for. `-t`: run anyway where
 * the idle I/O class is refused (some containers). Says what it could not do, for a note.
 */
export function lowPriorityPrefix(env: NodeJS.ProcessEnv): { prefix: string[]; missing: string[] } {
  const prefix: string[] = [];
  const missing: string[] = [];
  const nice = findOnPath("nice", env);
  if (nice) prefix.push(nice, "-n", "19");
  else missing.push("nice not found on PATH: restic runs at normal CPU priority");
  const ionice = findOnPath("ionice", env);
  if (ionice) prefix.push(ionice, "-c", "3", "-t");
  else missing.push("ionice not found on PATH: restic runs at normal I/O priority");
  return { prefix, missing };
}
