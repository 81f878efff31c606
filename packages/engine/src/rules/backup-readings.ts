/**
 * Readings of the backup assurance rules (issue 18), one per repository the host checks (`backup_check`,
 * `backup_drill`, `backup_size`) or per backed-up source of the host (`backup_copies`). They read the
 * repository rows the ingest keeps current, so a batch and the scheduler's re-check see the same thing;
 * time alone makes a check or drill overdue, so each reading names when to look again (`recheckAt`).
 */
import type { BackupRepositoryOut, RuleParams } from "@vigil/contract";
import type { RuleRow } from "@vigil/db";
import { gradeBackupSources, listBackupRepositories } from "../queries/backup-assurance.ts";
import { formatBytes } from "./format.ts";
import type { Reading } from "./lifecycle.ts";
import type { EvalContext } from "./readings.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const round1 = (n: number) => Math.round(n * 10) / 10;
const daysText = (ms: number) => `${round1(ms / DAY)} d`;

/** The first line of a tool's output, for the one-line observation (the alert quotes the rest). */
function firstLine(output: string | null): string {
  const line = output?.split("\n").find((l) => l.trim() !== "");
  return line ? `: ${line.trim().slice(0, 200)}` : "";
}

async function repositoriesOf(ctx: EvalContext, name: string | null): Promise<BackupRepositoryOut[]> {
  const all = await listBackupRepositories(ctx.db, ctx.host.projectId, { hostId: ctx.host.hostId });
  return name ? all.filter((r) => r.name === name) : all;
}

function target(repo: BackupRepositoryOut) {
  return {
    targetKey: `repository=${repo.name}`,
    labels: { repository: repo.name },
    label: `repository ${repo.name}`,
  };
}

export async function backupCheckReadings(ctx: EvalContext, rule: RuleRow): Promise<Reading[]> {
  const p = rule.params as RuleParams<"backup_check">;
  const limit = p.maxAgeDays * DAY;
  const readings: Reading[] = [];
  for (const repo of await repositoriesOf(ctx, p.name)) {
    const last = repo.lastCheck;
    if (!last) continue; // only drills so far: nothing to say about checks
    const failed = p.failed && last.status !== "ok";
    const age = ctx.now - last.at;
    const overdue = age > limit;
    const observed = failed
      ? last.status === "damaged"
        ? `repository ${repo.name} damaged${firstLine(last.output)}`
        : `repository ${repo.name} could not be checked${firstLine(last.output)}`
      : `repository ${repo.name} last checked ${daysText(age)} ago`;
    readings.push({
      ...target(repo),
      breach: failed || overdue,
      value: round1(age / DAY),
      observed,
      valueText: failed ? last.status : daysText(age),
      condition: overdue ? `(limit ${p.maxAgeDays} d)` : "",
      conditionSince: failed ? last.at : overdue ? last.at + limit : null,
      recheckAt: overdue ? null : last.at + limit + 1,
    });
  }
  return readings;
}

export async function backupDrillReadings(ctx: EvalContext, rule: RuleRow): Promise<Reading[]> {
  const p = rule.params as RuleParams<"backup_drill">;
  const limit = p.maxAgeDays * DAY;
  const readings: Reading[] = [];
  for (const repo of await repositoriesOf(ctx, p.name)) {
    const last = repo.lastDrill;
    const failed = p.failed && last !== null && last.status !== "ok";
    // Never drilled: counted from when the repository was first seen, so a new one gets its grace period.
    const since = repo.lastOkDrillAt ?? repo.firstSeenAt;
    const age = ctx.now - since;
    const overdue = age > limit;
    const what =
      repo.lastOkDrillAt === null
        ? `no good restore drill of ${repo.name} in ${daysText(age)}`
        : `last good restore drill of ${repo.name} ${daysText(age)} ago`;
    const observed =
      failed && last
        ? `restore drill of ${repo.name} ${last.status === "mismatch" ? "restored files that differ" : "failed"}${firstLine(last.output)}`
        : what;
    readings.push({
      ...target(repo),
      breach: failed || overdue,
      value: round1(age / DAY),
      observed,
      valueText: failed && last ? last.status : daysText(age),
      condition: overdue ? `(limit ${p.maxAgeDays} d)` : "",
      conditionSince: failed && last ? last.at : overdue ? since + limit : null,
      recheckAt: overdue ? null : since + limit + 1,
    });
  }
  return readings;
}

export async function backupSizeReadings(ctx: EvalContext, rule: RuleRow): Promise<Reading[]> {
  const p = rule.params as RuleParams<"backup_size">;
  const readings: Reading[] = [];
  for (const repo of await repositoriesOf(ctx, p.name)) {
    // The two newest good checks that measured the repository: a failed check measures nothing.
    const result = await ctx.db.$client.execute({
      sql: `select size_bytes from backup_checks
            where repository_id = ? and status = 'ok' and size_bytes is not null
            order by ended_at desc, id desc limit 2`,
      args: [repo.id],
    });
    const [newest, previous] = result.rows.map((r) => Number(r.size_bytes));
    if (newest === undefined) continue;
    const shrunkPct = previous !== undefined && previous > 0 ? ((previous - newest) / previous) * 100 : 0;
    const shrank = p.shrinkPct !== null && shrunkPct > p.shrinkPct;
    const tooBig = p.maxBytes !== null && newest > p.maxBytes;
    const size = formatBytes(newest);
    readings.push({
      ...target(repo),
      breach: shrank || tooBig,
      value: newest,
      observed: shrank
        ? `repository ${repo.name} shrank by ${round1(shrunkPct)}% to ${size} since the check before`
        : `repository ${repo.name} holds ${size}`,
      valueText: shrank ? `−${round1(shrunkPct)}%` : size,
      condition: tooBig && p.maxBytes !== null ? `(limit ${formatBytes(p.maxBytes)})` : "",
    });
  }
  return readings;
}

export async function backupCopiesReadings(ctx: EvalContext, rule: RuleRow): Promise<Reading[]> {
  const p = rule.params as RuleParams<"backup_copies">;
  const grades = await gradeBackupSources(ctx.db, { now: () => ctx.now }, ctx.host.projectId, {
    hostId: ctx.host.hostId,
  });
  const readings: Reading[] = [];
  for (const grade of grades) {
    const counted = grade.repositories.filter((r) => r.counts);
    const backupCopies = grade.copies - 1;
    const short = p.minCopies > 0 && backupCopies < p.minCopies;
    const noOffsite = p.offsite && grade.offsite === 0;
    const limit = p.maxAgeHours === null ? null : p.maxAgeHours * HOUR;
    const stale = limit === null ? [] : counted.filter((r) => ctx.now - r.newestAt > limit);
    const problems = [
      short ? `${backupCopies} backup ${backupCopies === 1 ? "copy" : "copies"} (want ${p.minCopies})` : null,
      noOffsite ? "no copy off site" : null,
      ...stale.map((r) => `copy in ${r.name} ${round1((ctx.now - r.newestAt) / HOUR)} h old`),
    ].filter((x): x is string => x !== null);
    const freshest = counted.map((r) => r.newestAt);
    const paths = grade.paths.join(", ");
    readings.push({
      targetKey: `source=${JSON.stringify(grade.paths)}`,
      labels: { source: paths },
      label: `backup of ${paths}`,
      breach: problems.length > 0,
      value: backupCopies,
      observed:
        problems.length > 0
          ? `backup of ${paths}: ${problems.join(", ")}`
          : `backup of ${paths}: ${grade.summary}`,
      valueText: `${grade.copies} copies, ${grade.offsite} off site`,
      condition: "",
      // The next copy to go stale by time alone, if none is yet.
      recheckAt:
        limit !== null && stale.length === 0 && freshest.length > 0
          ? Math.min(...freshest) + limit + 1
          : null,
    });
  }
  return readings;
}
