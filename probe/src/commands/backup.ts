import { basename } from "node:path";
import type { BackupRun } from "@vigil/contract";
import type { Collection } from "../collect.ts";
import { loadConfig, spoolDir } from "../config.ts";
import { runWrapped, TailBuffer } from "../platform/wrap-command.ts";
import { ResticOutputWatcher, summaryToRunFields } from "../restic-summary.ts";
import { Spool } from "../spool.ts";
import type { CommandContext } from "./context.ts";

const ERROR_TAIL_BYTES = 8_192;

/**
 * Queues records (a backup run, a repository check, a restore drill) for the daemon to send; failing to
 * queue is reported but never hides the exit code.
 */
export async function queueRecords(ctx: CommandContext, records: Collection, what: string): Promise<boolean> {
  try {
    const { config } = await loadConfig(ctx.flags, ctx.env);
    const spool = new Spool({
      dir: spoolDir(config.stateDir),
      clock: ctx.clock,
      ...(config.spoolMaxBytes ? { maxBytes: config.spoolMaxBytes } : {}),
    });
    await spool.add(records);
    return true;
  } catch (error) {
    ctx.err(`vigil-probe: could not queue the ${what}: ${(error as Error).message}\n`);
    return false;
  }
}

export function queueBackupRun(ctx: CommandContext, run: BackupRun): Promise<boolean> {
  return queueRecords(ctx, { backups: [run] }, "backup report");
}

/**
 * `backup --name NAME -- restic backup … --json`: runs the backup with its output passed through, reads
 * restic's summary line on the way, and queues a run record. A non-zero exit is a failure (restic's 3 means
 * "snapshot made but some files unreadable": incomplete, so also a failure) with the tail of stderr.
 */
export async function backupCommand(ctx: CommandContext): Promise<number> {
  const name = ctx.flags.name;
  if (typeof name !== "string" || !name || ctx.rest.length === 0) {
    ctx.err("usage: vigil-probe backup --name NAME -- restic backup … --json\n");
    return 2;
  }
  const startedAt = ctx.clock();
  const watcher = new ResticOutputWatcher();
  const stderrTail = new TailBuffer(ERROR_TAIL_BYTES);
  const run = await runWrapped(ctx.rest, {
    ...ctx.passThrough,
    env: ctx.env,
    onStdout: (c) => watcher.push(c),
    onStderr: (c) => stderrTail.push(c),
  });
  watcher.finish();
  const program = basename(ctx.rest[0] ?? "");
  const record: BackupRun = {
    name: name.slice(0, 128),
    tool: program === "restic" ? "restic" : program === "autorestic" ? "autorestic" : "other",
    status: run.exitCode === 0 ? "success" : "failure",
    startedAt,
    endedAt: ctx.clock(),
    exitCode: run.exitCode,
    ...(watcher.summary ? summaryToRunFields(watcher.summary) : {}),
  };
  if (record.status === "failure") {
    const parts = [run.spawnError?.message, watcher.errors.join("\n"), stderrTail.toString().trim()].filter(
      Boolean,
    );
    const error = parts.join("\n") || `exited with ${run.exitCode}`;
    record.error = error.slice(-ERROR_TAIL_BYTES);
  } else if (!watcher.summary && record.tool === "restic") {
    ctx.err(
      "vigil-probe: no restic summary seen; add --json to the restic command for file and byte counts\n",
    );
  }
  await queueBackupRun(ctx, record);
  return run.exitCode;
}
