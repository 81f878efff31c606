import { spawn } from "node:child_process";

export interface CommandResult {
  /** null when the command could not start or was killed */
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** set when the command could not be started (ENOENT …) or timed out */
  error?: Error;
}

export interface CommandOptions {
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** stop collecting output beyond this many bytes per stream, so a chatty tool cannot exhaust memory */
  maxOutputBytes?: number;
}

/** Runs a helper tool (apt-get, systemctl, journalctl) without a shell and never throws. */
export function runCommand(
  command: string,
  args: string[],
  options: CommandOptions = {},
): Promise<CommandResult> {
  const { timeoutMs = 60_000, maxOutputBytes = 8 * 1024 * 1024 } = options;
  return new Promise((resolve) => {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let stdoutBytes = 0;
    let stderrBytes = 0;
    let settled = false;
    let failure: Error | undefined;
    const child = spawn(command, args, {
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const timer = setTimeout(() => {
      failure = new Error(`${command} timed out after ${timeoutMs} ms`);
      child.kill("SIGKILL");
    }, timeoutMs);
    child.stdout.on("data", (chunk: Buffer) => {
      if (stdoutBytes < maxOutputBytes) stdout.push(chunk);
      stdoutBytes += chunk.length;
    });
    child.stderr.on("data", (chunk: Buffer) => {
      if (stderrBytes < maxOutputBytes) stderr.push(chunk);
      stderrBytes += chunk.length;
    });
    const finish = (exitCode: number | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const result: CommandResult = {
        exitCode,
        stdout: Buffer.concat(stdout).toString("utf8"),
        stderr: Buffer.concat(stderr).toString("utf8"),
      };
      if (failure) result.error = failure;
      resolve(result);
    };
    child.on("error", (error) => {
      failure = error;
      finish(null);
    });
    child.on("close", (code) => finish(code));
  });
}
