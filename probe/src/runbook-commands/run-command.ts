import type { ProbeCommandResult } from "@vigil/contract";
import { PROBE_BATCH_LIMITS } from "../limits.ts";
import { runBounded } from "../platform/run-bounded.ts";

/** What became of a command, before the runner adds its id and times. */
export type CommandOutcome = Pick<ProbeCommandResult, "status" | "exitCode" | "output">;

export interface RunCommandOptions {
  timeoutMs: number;
  /** the probe's environment; its VIGIL_* settings (tokens) are left out */
  env: NodeJS.ProcessEnv;
  /** fires when the probe stops: the command's process group is ended */
  signal?: AbortSignal;
  /** between SIGTERM and SIGKILL to the group (default 5 s) */
  killGraceMs?: number;
}

const OUTPUT_LIMIT = PROBE_BATCH_LIMITS.commandOutput;
/**
 * A shell that points its stderr at its stdout and becomes `/bin/sh -c COMMAND`: both streams share one
 * pipe, so the output keeps the order it was written in (two pipes read apart would not).
 */
const MERGED_SHELL = 'exec 2>&1; exec /bin/sh -c "$1"';
const KILL_GRACE_MS = 5_000;
/** where `sh` looks for programs when the probe's environment has no PATH (tests, minimal units) */
const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * Runs one runbook command: `/bin/sh -c COMMAND` in a process group of its own, stdin from /dev/null, in `/`,
 * stdout and stderr captured together, in order. At the timeout (or when the probe stops) the group gets SIGTERM, then
 * SIGKILL. Exit 0 is `done`, anything else `failed` with its exit code, killed at the timeout `timed-out`.
 * Never throws.
 */
export async function runShellCommand(command: string, options: RunCommandOptions): Promise<CommandOutcome> {
  const run = await runBounded(["/bin/sh", "-c", MERGED_SHELL, "vigil-runbook", command], {
    env: commandEnv(options.env),
    cwd: "/",
    timeoutMs: options.timeoutMs,
    keepStdout: false,
    tailBytes: OUTPUT_LIMIT,
    killGraceMs: options.killGraceMs ?? KILL_GRACE_MS,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const exit = run.exitCode !== null ? { exitCode: run.exitCode } : {};
  if (run.spawnError)
    return { status: "failed", output: `could not start /bin/sh: ${run.spawnError.message}` };
  if (run.timedOut)
    return {
      status: "timed-out",
      ...exit,
      output: outputTail(
        run.tail,
        run.outputBytes,
        `[killed at the timeout of ${options.timeoutMs / 1000} s]`,
      ),
    };
  if (run.stopped)
    return {
      status: "failed",
      ...exit,
      output: outputTail(run.tail, run.outputBytes, "[killed: the probe stopped while the command ran]"),
    };
  if (run.exitCode === 0)
    return { status: "done", exitCode: 0, output: outputTail(run.tail, run.outputBytes) };
  return {
    status: "failed",
    ...exit,
    output: outputTail(run.tail, run.outputBytes, run.signal ? `[killed by ${run.signal}]` : undefined),
  };
}

/**
 * The last of a command's output as the contract takes it (at most OUTPUT_LIMIT characters, which no more
 * than as many UTF-8 bytes ever make), with "[… N bytes cut …]" on top when the start was left out and
 * `note` (why it ended) at the bottom.
 */
export function outputTail(tail: string, totalBytes: number, note?: string): string {
  const suffix = note ? `${tail === "" || tail.endsWith("\n") ? "" : "\n"}${note}\n` : "";
  const tailBytes = Buffer.byteLength(tail);
  if (totalBytes <= tailBytes && tailBytes + Buffer.byteLength(suffix) <= OUTPUT_LIMIT) return tail + suffix;
  // The header for the largest possible count is the longest, so the budget below always holds.
  const budget = OUTPUT_LIMIT - Buffer.byteLength(cutHeader(totalBytes)) - Buffer.byteLength(suffix);
  const kept = Buffer.from(tail)
    .subarray(Math.max(0, tailBytes - budget))
    .toString("utf8")
    .replace(/^\uFFFD+/, "");
  const cut = Math.max(0, totalBytes - Buffer.byteLength(kept));
  return `${cutHeader(cut)}${kept}${suffix}`;
}

function cutHeader(bytes: number): string {
  return `[… ${bytes} bytes cut …]\n`;
}

/** The probe's settings stay out of the commands' reach: VIGIL_TOKEN and friends are the probe's own. */
function commandEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const clean: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) if (!name.startsWith("VIGIL_")) clean[name] = value;
  if (!clean.PATH) clean.PATH = DEFAULT_PATH;
  // Commands have no terminal and no stdin: package tools must not stop to ask (apt's debconf).
  clean.DEBIAN_FRONTEND ??= "noninteractive";
  return clean;
}
