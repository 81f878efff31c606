import { spawn } from "node:child_process";
import { constants } from "node:os";

/** Keeps only the last `limit` bytes written to it: the tail of a job's output for a ping or error. */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.chunks.length > 1 && this.size - (this.chunks[0]?.length ?? 0) >= this.limit) {
      this.size -= this.chunks.shift()?.length ?? 0;
    }
  }

  toString(): string {
    const all = Buffer.concat(this.chunks);
    return all
      .subarray(Math.max(0, all.length - this.limit))
      .toString("utf8")
      .replace(/^\uFFFD+/, "");
  }
}

export interface WrappedRun {
  /** the exit code, or 128 + signal number when the command was killed, as shells report it */
  exitCode: number;
  /** set when the command could not be started at all */
  spawnError?: Error;
}

export interface WrapOptions {
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
  env?: NodeJS.ProcessEnv;
  /** where the command's output is passed through to; the probe's own stdout/stderr by default */
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
}

/**
 * Runs a user's command (cron job, backup) with stdin inherited and stdout/stderr passed through, so wrapping
 * it changes nothing for whoever reads its output. SIGINT/SIGTERM are forwarded to it.
 */
export function runWrapped(command: string[], options: WrapOptions = {}): Promise<WrappedRun> {
  const [file, ...args] = command;
  if (!file) return Promise.resolve({ exitCode: 127, spawnError: new Error("no command given") });
  return new Promise((resolve) => {
    const child = spawn(file, args, { stdio: ["inherit", "pipe", "pipe"], env: options.env ?? process.env });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on("SIGINT", forward);
    process.on("SIGTERM", forward);
    const done = (result: WrappedRun) => {
      process.off("SIGINT", forward);
      process.off("SIGTERM", forward);
      resolve(result);
    };
    child.stdout.on("data", (chunk: Buffer) => {
      (options.stdout ?? process.stdout).write(chunk);
      options.onStdout?.(chunk);
    });
    child.stderr.on("data", (chunk: Buffer) => {
      (options.stderr ?? process.stderr).write(chunk);
      options.onStderr?.(chunk);
    });
    child.on("error", (error) => {
      // ENOENT/EACCES: the shell's "command not found" (127) / "not executable" (126)
      const code = (error as { code?: string }).code === "ENOENT" ? 127 : 126;
      done({ exitCode: code, spawnError: error });
    });
    child.on("close", (code, signal) => {
      if (code !== null) done({ exitCode: code });
      else done({ exitCode: 128 + (signal ? (constants.signals[signal] ?? 0) : 0) });
    });
  });
}
