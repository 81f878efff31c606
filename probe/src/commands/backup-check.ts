import type { BackupCheck } from "@vigil/contract";
import { type BackupCheckTarget, type BackupRunContext, backupFlags } from "../backup-checks.ts";
import { type BoundedRun, lowPriorityPrefix, runBounded } from "../platform/run-bounded.ts";
import {
  describeBaseCommand,
  findJson,
  isRepositoryConfig,
  isSnapshotList,
  isStats,
  scrubCredentials,
  summarizeSnapshots,
  withoutColours,
} from "../restic-repository.ts";
import { queueRecords } from "./backup.ts";
import type { CommandContext } from "./context.ts";

const OUTPUT_LIMIT = 8_192;

/**
 * How restic 0.14 tells "the repository is damaged" from "could not look at it": both exit with 1, so the
 * text decides. These lines appear only after restic opened the repository and read it:
 * - `Fatal: repository contains errors`: check found a bad pack, tree, blob or snapshot (also with
 *   `--read-data-subset`: "Pack ID does not match", "ciphertext verification failed" before it);
 * - `Fatal: LoadIndex returned errors`: an index file that does not decrypt or parse;
 * - `Fatal: config or key … is damaged`: the password opened a key, but the config fails its MAC.
 * Everything else is `error`: "wrong password or no key found", "unable to open config file … Is there a
 * repository at the following location?", "unable to open repository at sftp:…", "repository is already
 * locked", "an empty password is not a password", a missing program (exit 126/127), the timeout. Newer
 * restic versions add exit codes 10 (no repository), 11 (lock failed) and 12 (wrong password): all `error`.
 */
const DAMAGE_MARKERS = [
  /Fatal: repository contains errors/,
  /Fatal: LoadIndex returned errors/,
  /Fatal: config or key \S+ is damaged/,
];

const LOCKED = /repository is already locked/;

export function checkStatus(run: BoundedRun): BackupCheck["status"] {
  if (run.spawnError || run.timedOut || run.stopped) return "error";
  if (run.exitCode === 0) return "ok";
  return DAMAGE_MARKERS.some((marker) => marker.test(run.tail)) ? "damaged" : "error";
}

/** Why a bounded run ended without an answer, as a line for `output`; undefined when restic answered. */
export function failureReason(run: BoundedRun, timeoutMs: number, what: string): string | undefined {
  if (run.spawnError) return `could not start ${what}: ${run.spawnError.message}`;
  if (run.timedOut)
    return `${what} timed out after ${formatMinutes(timeoutMs)}: stopped it and everything it started (SIGTERM, SIGKILL 10 s later)`;
  if (run.stopped) return `${what} was stopped (the probe is shutting down)`;
  // Not ours: under systemd most likely the kernel's OOM killer at the unit's MemoryMax.
  if (run.signal)
    return `${what} was killed by ${run.signal}${run.signal === "SIGKILL" ? " (out of memory? see MemoryMax of the probe's unit)" : ""}`;
  return undefined;
}

function formatMinutes(ms: number): string {
  const minutes = ms / 60_000;
  return minutes >= 1 ? `${Math.round(minutes * 10) / 10} min` : `${Math.round(ms / 100) / 10} s`;
}

/** The line of restic's output that says why: its first "Fatal:" line, else the last line. */
export function resticReason(output: string): string {
  const lines = scrubCredentials(withoutColours(output))
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
  return (lines.find((line) => line.startsWith("Fatal:")) ?? lines.at(-1) ?? "").slice(0, 300);
}

/** The tail of restic's output with the probe's own explanation last, within the contract's 8 KiB. */
export function outputTail(tail: string, reason?: string): string {
  const lines = scrubCredentials(withoutColours(tail))
    .split("\n")
    // restic's progress lines ("[0:00] 100.00%  5 / 5 packs") say nothing in an alert, and its stderr and
    // stdout interleave, so one may land after the "Fatal:" line that does.
    .filter((line) => !PROGRESS.test(line));
  const text = [lines.join("\n").trim(), reason].filter(Boolean).join("\n");
  return text.slice(-OUTPUT_LIMIT);
}

const PROGRESS = /^\s*\[\d+:\d+(:\d+)?\]\s/;

/** A run of the base command plus restic arguments, at low priority and within what is left of the budget. */
export function resticRunner(target: BackupCheckTarget, context: BackupRunContext) {
  const { command } = describeBaseCommand(target.command, target.env);
  const low = lowPriorityPrefix(target.env);
  for (const message of low.missing) context.warn?.(message);
  const deadline = performance.now() + target.timeoutMs;
  return {
    remainingMs: () => Math.max(0, deadline - performance.now()),
    run: (args: string[], options: { keepStdout?: boolean; onStdout?: (chunk: Buffer) => void } = {}) =>
      runBounded([...low.prefix, ...command, ...args], {
        env: target.env,
        timeoutMs: Math.max(1, deadline - performance.now()),
        ...(context.signal ? { signal: context.signal } : {}),
        ...options,
      }),
  };
}

/** The repository a check or drill reports: its location, restic's id when read, and what was declared. */
export function repositoryOf(target: BackupCheckTarget, location: string, id?: string) {
  const repository: BackupCheck["repository"] = { location };
  if (id) repository.id = id.slice(0, 128);
  if (target.kind) repository.kind = target.kind;
  if (target.site) repository.site = target.site;
  return repository;
}

export interface CheckOutcome {
  record: BackupCheck;
  /** stopped by the caller's signal: not worth reporting, the next start runs it again */
  stopped: boolean;
}

/**
 * One repository check.
 * 1. `check [--read-data-subset X]`: ok / damaged / error (see DAMAGE_MARKERS).
 * 2. When the check ran (ok, damaged) or met only a lock: `cat config` (repository id), `snapshots --json`
 *    (count, times, sources) and `stats --json --mode raw-data` (stored size), each within what is left of
 *    the timeout. Their failures only leave their fields out.
 */
export async function runBackupCheck(
  target: BackupCheckTarget,
  context: BackupRunContext,
): Promise<CheckOutcome> {
  const startedAt = context.clock();
  const base = describeBaseCommand(target.command, target.env);
  const restic = resticRunner(target, context);
  const check = await restic.run([
    "check",
    ...(target.readDataSubset ? ["--read-data-subset", target.readDataSubset] : []),
  ]);
  const status = checkStatus(check);
  let repositoryId: string | undefined;
  let snapshotSummary: ReturnType<typeof summarizeSnapshots> | undefined;
  let sizeBytes: number | undefined;
  // After "wrong password" or "unable to open", the same calls would only fail again (slowly, over a
  // network); a lock held by a running backup or prune does not keep snapshots and stats from answering.
  if (status !== "error" || (check.exitCode !== null && LOCKED.test(check.tail))) {
    const config = await restic.run(["cat", "config"]);
    if (config.exitCode === 0) repositoryId = findJson(config.stdout, isRepositoryConfig)?.id;
    if (restic.remainingMs() > 0) {
      const snapshots = await restic.run(["snapshots", "--json"]);
      const list = snapshots.exitCode === 0 ? findJson(snapshots.stdout, isSnapshotList) : undefined;
      if (list) snapshotSummary = summarizeSnapshots(list);
    }
    if (restic.remainingMs() > 0) {
      const stats = await restic.run(["stats", "--json", "--mode", "raw-data"]);
      const parsed = stats.exitCode === 0 ? findJson(stats.stdout, isStats) : undefined;
      if (parsed && parsed.total_size >= 0) sizeBytes = parsed.total_size;
    }
  }
  const record: BackupCheck = {
    name: target.name,
    tool: base.tool,
    status,
    startedAt,
    endedAt: Math.max(context.clock(), startedAt),
    repository: repositoryOf(target, base.location, repositoryId),
    sources: snapshotSummary?.sources ?? [],
  };
  if (check.exitCode !== null) record.exitCode = check.exitCode;
  if (target.readDataSubset) record.readDataSubset = target.readDataSubset;
  if (status !== "ok")
    record.output = outputTail(check.tail, failureReason(check, target.timeoutMs, "restic check"));
  if (sizeBytes !== undefined) record.sizeBytes = sizeBytes;
  if (snapshotSummary) {
    record.snapshotCount = snapshotSummary.count;
    if (snapshotSummary.newestAt !== undefined) record.newestSnapshotAt = snapshotSummary.newestAt;
    if (snapshotSummary.oldestAt !== undefined) record.oldestSnapshotAt = snapshotSummary.oldestAt;
  }
  if (target.retention) record.retention = target.retention;
  return { record, stopped: check.stopped };
}

function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/** One line for a person reading a cron mail or a terminal. */
export function describeCheck(record: BackupCheck): string {
  const parts = [`backup-check ${record.name}: ${record.status}`, record.repository.location];
  if (record.snapshotCount !== undefined) {
    const newest =
      record.newestSnapshotAt !== undefined
        ? `, newest ${new Date(record.newestSnapshotAt).toISOString()}`
        : "";
    parts.push(`${record.snapshotCount} snapshots${newest}`);
  }
  if (record.sizeBytes !== undefined) parts.push(formatBytes(record.sizeBytes));
  if (record.status !== "ok" && record.output) parts.push(resticReason(record.output));
  return parts.join(", ");
}

/**
 * `backup-check --name NAME [--read-data-subset 5%] [--kind K] [--site S] [--retention="…"]
 * [--timeout-min 120] -- restic -r REPO …`: checks the repository, queues the record for the daemon, prints
 * one line; exit 0 when the check passed, 1 otherwise.
 */
export async function backupCheckCommand(ctx: CommandContext): Promise<number> {
  const target = backupFlags(ctx, "check");
  if (typeof target === "string") {
    ctx.err(
      `${target}\nusage: vigil-probe backup-check --name NAME [--read-data-subset 5%] [--kind local|host|object|other] [--site onsite|offsite] [--retention="--keep-daily 7 …"] [--timeout-min 120] -- restic -r REPO …\n`,
    );
    return 2;
  }
  return untilInterrupted(async (signal) => {
    const { record, stopped } = await runBackupCheck(target, {
      clock: ctx.clock,
      signal,
      warn: (message) => ctx.err(`vigil-probe: ${message}\n`),
    });
    if (stopped) {
      ctx.err("vigil-probe: backup-check stopped before it finished; nothing queued\n");
      return 1;
    }
    ctx.out(`${describeCheck(record)}\n`);
    await queueRecords(ctx, { backupChecks: [record] }, "backup check");
    return record.status === "ok" ? 0 : 1;
  });
}

/** Runs `work` with a signal that SIGINT or SIGTERM (Ctrl-C, a stopping unit) fires, so restic stops too. */
export async function untilInterrupted<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const stop = new AbortController();
  const forward = () => stop.abort();
  process.on("SIGINT", forward);
  process.on("SIGTERM", forward);
  try {
    return await work(stop.signal);
  } finally {
    process.off("SIGINT", forward);
    process.off("SIGTERM", forward);
  }
}
