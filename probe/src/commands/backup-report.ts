import type { BackupRun } from "@vigil/contract";
import { queueBackupRun } from "./backup.ts";
import type { CommandContext } from "./context.ts";

/** Epoch seconds, epoch milliseconds or an ISO date, as hooks tend to have one of them at hand. */
export function parseTime(value: string | undefined): number | undefined {
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) {
    const n = Number(value);
    return Math.round(n < 1e11 ? n * 1000 : n);
  }
  const parsed = Date.parse(value);
  return Number.isFinite(parsed) ? parsed : undefined;
}

/**
 * autorestic sets AUTORESTIC_* variables in its hooks, suffixed with the backend's name in upper case
 * (AUTORESTIC_SNAPSHOT_ID_<BACKEND>) and, in older versions, unsuffixed. Picks the named backend, else the first.
 */
export function autoresticVariable(
  env: NodeJS.ProcessEnv,
  name: string,
  backend?: string,
): string | undefined {
  const base = `AUTORESTIC_${name}`;
  if (backend) return env[`${base}_${backend.toUpperCase()}`] ?? env[base];
  if (env[base]) return env[base];
  const suffixed = Object.keys(env)
    .filter((key) => key.startsWith(`${base}_`))
    .sort();
  return suffixed[0] ? env[suffixed[0]] : undefined;
}

function wholeNumber(value: string | undefined): number | undefined {
  const n = Number(value);
  return value !== undefined && value !== "" && Number.isInteger(n) && n >= 0 ? n : undefined;
}

/**
 * `backup-report`: records a run that something else performed, typically an autorestic hook:
 *   hooks: { success: ["vigil-probe backup-report --status success"],
 *            failure: ["vigil-probe backup-report --status failure"] }
 * Flags win over the environment; the name defaults to AUTORESTIC_LOCATION.
 */
export async function backupReportCommand(ctx: CommandContext): Promise<number> {
  const flag = (name: string) =>
    typeof ctx.flags[name] === "string" ? (ctx.flags[name] as string) : undefined;
  const backend = flag("backend");
  const env = ctx.env;
  const name = flag("name") ?? env.AUTORESTIC_LOCATION;
  const exitCode = wholeNumber(flag("exit-code") ?? env.VIGIL_BACKUP_EXIT_CODE);
  const statusText =
    flag("status") ??
    env.VIGIL_BACKUP_STATUS ??
    (exitCode === undefined ? undefined : exitCode === 0 ? "success" : "failure");
  if (!name || (statusText !== "success" && statusText !== "failure")) {
    ctx.err(
      "usage: vigil-probe backup-report --name NAME --status success|failure [--started-at T] [--ended-at T] [--exit-code N] [--snapshot ID] [--error TEXT]\n",
    );
    return 2;
  }
  const now = ctx.clock();
  const endedAt = parseTime(flag("ended-at")) ?? now;
  const run: BackupRun = {
    name: name.slice(0, 128),
    tool:
      env.AUTORESTIC_LOCATION !== undefined || flag("tool") === "autorestic"
        ? "autorestic"
        : flag("tool") === "restic"
          ? "restic"
          : "other",
    status: statusText,
    startedAt: Math.min(parseTime(flag("started-at")) ?? endedAt, endedAt),
    endedAt,
  };
  if (exitCode !== undefined) run.exitCode = exitCode;
  const snapshot = flag("snapshot") ?? autoresticVariable(env, "SNAPSHOT_ID", backend);
  if (snapshot) run.snapshotId = snapshot.slice(0, 128);
  const filesNew = wholeNumber(autoresticVariable(env, "FILES_ADDED", backend));
  if (filesNew !== undefined) run.filesNew = filesNew;
  const filesChanged = wholeNumber(autoresticVariable(env, "FILES_CHANGED", backend));
  if (filesChanged !== undefined) run.filesChanged = filesChanged;
  const filesUnmodified = wholeNumber(autoresticVariable(env, "FILES_UNMODIFIED", backend));
  if (filesUnmodified !== undefined) run.filesUnmodified = filesUnmodified;
  const error = flag("error");
  if (error) run.error = error.slice(-8_192);
  return (await queueBackupRun(ctx, run)) ? 0 : 1;
}
