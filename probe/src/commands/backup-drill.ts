import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { chmod, lstat, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import type { BackupDrill } from "@vigil/contract";
import { type BackupCheckTarget, type BackupRunContext, backupFlags } from "../backup-checks.ts";
import {
  describeBaseCommand,
  includePattern,
  type ResticSnapshot,
  resticTime,
  shortId,
  withoutColours,
} from "../restic-repository.ts";
import { LineSplitter } from "../restic-summary.ts";
import { queueRecords } from "./backup.ts";
import { failureReason, outputTail, repositoryOf, resticRunner, untilInterrupted } from "./backup-check.ts";
import type { CommandContext } from "./context.ts";

/**
 * Files larger than this are not drawn for a drill: restoring a sample must not fill the temporary
 * directory (often a tmpfs in memory). 20 files at most 64 MiB each stay under 1.3 GiB.
 */
export const DRILL_MAX_FILE_BYTES = 64 * 1024 * 1024;
const MAX_DIFFERENCES = 20;
const CANARY_LINE = /^vigil canary [0-9a-f]{16,}$/;

/** A regular file as `restic ls --json` lists it. */
interface ListedFile {
  path: string;
  size: number;
  /** restic's RFC 3339 time with nanoseconds */
  mtime: string;
}

interface Listing {
  snapshot?: ResticSnapshot & { id: string };
  sample: ListedFile[];
  canary?: ListedFile;
  /** regular files the sample was drawn from */
  eligible: number;
}

/**
 * Reads `restic ls --json` as a stream (a snapshot may list millions of files) and draws `size` regular
 * files uniformly at random (reservoir sampling), remembering the canary when it passes by.
 */
class ListingReader extends LineSplitter {
  readonly listing: Listing = { sample: [], eligible: 0 };

  constructor(
    private readonly size: number,
    private readonly random: () => number,
    private readonly canaryPath: string | undefined,
  ) {
    super();
  }

  protected line(line: string): void {
    const trimmed = withoutColours(line).trim();
    // autorestic's decoration lines and restic's warnings are not JSON objects: skipped.
    if (!trimmed.startsWith("{")) return;
    let node: Record<string, unknown>;
    try {
      node = JSON.parse(trimmed) as Record<string, unknown>;
    } catch {
      return;
    }
    if (node.struct_type === "snapshot" || (node.tree !== undefined && typeof node.time === "string")) {
      if (!this.listing.snapshot && typeof node.id === "string" && typeof node.time === "string")
        this.listing.snapshot = node as unknown as ResticSnapshot & { id: string };
      return;
    }
    if (node.type !== "file" || typeof node.path !== "string" || typeof node.size !== "number") return;
    const file: ListedFile = { path: node.path, size: node.size, mtime: String(node.mtime ?? "") };
    if (file.path === this.canaryPath) {
      this.listing.canary = file;
      return;
    }
    if (file.size > DRILL_MAX_FILE_BYTES) return;
    const seen = this.listing.eligible++;
    if (seen < this.size) this.listing.sample.push(file);
    else {
      const slot = Math.floor(this.random() * (seen + 1));
      if (slot < this.size) this.listing.sample[slot] = file;
    }
  }
}

/** restic's "2026-12-03T06:41:14.790782935Z" (or with an offset) as nanoseconds, to compare with lstat's. */
export function resticTimeNs(text: string): bigint | undefined {
  const match = /^(.+T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(text);
  if (!match?.[1] || !match[3]) return undefined;
  const wholeSecondsMs = Date.parse(`${match[1]}${match[3]}`);
  if (!Number.isFinite(wholeSecondsMs)) return undefined;
  const fraction = (match[2] ?? "").padEnd(9, "0").slice(0, 9);
  return BigInt(wholeSecondsMs) * 1_000_000n + BigInt(fraction);
}

async function sha256(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Stat without throwing: undefined for a path that is not there. */
async function statOf(path: string) {
  try {
    return await lstat(path, { bigint: true });
  } catch {
    return undefined;
  }
}

/**
 * Removes the temporary directory. Restored directories keep their modes from the snapshot; one without
 * write permission would stop a non-root probe from deleting what is inside, so those are opened first.
 */
async function removeRestored(directory: string): Promise<void> {
  try {
    await rm(directory, { recursive: true, force: true });
    return;
  } catch {
    // below
  }
  const openUp = async (dir: string): Promise<void> => {
    await chmod(dir, 0o700).catch(() => undefined);
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) if (entry.isDirectory()) await openUp(join(dir, entry.name));
  };
  await openUp(directory);
  await rm(directory, { recursive: true, force: true });
}

/** `vigil canary <hex>` and the SHA-256 of that line: any copy proves itself intact, live file or not. */
export function canaryContent(token = randomBytes(16).toString("hex")): string {
  const first = `vigil canary ${token}`;
  return `${first}\n${createHash("sha256").update(first).digest("hex")}\n`;
}

export function canaryIntact(content: string): boolean {
  const [first, digest] = content.split("\n");
  return (
    first !== undefined &&
    CANARY_LINE.test(first) &&
    digest === createHash("sha256").update(first).digest("hex")
  );
}

interface CanaryState {
  /** the live file's mtime (ns) before the drill; undefined when the probe just created it */
  mtimeNs?: bigint;
  created: boolean;
  problem?: string;
}

/** Makes sure the canary exists (creating it when absent); never overwrites one. */
async function prepareCanary(path: string): Promise<CanaryState> {
  const existing = await statOf(path);
  if (existing) return { created: false, mtimeNs: existing.mtimeNs };
  try {
    await writeFile(path, canaryContent(), { flag: "wx", mode: 0o644 });
    return { created: true };
  } catch (error) {
    return { created: false, problem: `could not create it: ${(error as Error).message}` };
  }
}

export interface DrillOutcome {
  record: BackupDrill;
  stopped: boolean;
  /** what a person should know that is not a failure (the canary not yet in a snapshot …) */
  remarks: string[];
}

/**
 * One restore drill.
 * 1. The canary (if configured): created when absent, so a later snapshot carries it.
 * 2. `restic ls latest --json`: the newest snapshot and a random sample of its regular files.
 * 3. `restic restore <id> --target TMP --verify --include <file>…` into a fresh mkdtemp directory; --verify
 *    has restic re-read every restored file and compare it with the repository's own hashes.
 * 4. Each sampled file: restored at all (else missing), of the recorded size, and, where the live file
 *    still has the size and mtime the snapshot recorded (on the host the snapshot came from), of the live
 *    file's SHA-256; otherwise restic's verification stands alone.
 * 5. The canary's restored copy must verify on its own (its second line is the SHA-256 of its first).
 *    A canary newer than the snapshot and not in it yet is not a failure: the next backup takes it.
 * 6. The temporary directory is removed whatever happened.
 */
export async function runBackupDrill(
  target: BackupCheckTarget,
  context: BackupRunContext,
): Promise<DrillOutcome> {
  const startedAt = context.clock();
  const base = describeBaseCommand(target.command, target.env);
  const restic = resticRunner(target, context);
  const remarks: string[] = [];
  const differences: string[] = [];
  const record: BackupDrill = {
    name: target.name,
    tool: base.tool,
    status: "error",
    repository: repositoryOf(target, base.location),
    startedAt,
    endedAt: startedAt,
    files: 0,
    bytes: 0,
    mismatched: 0,
    missing: 0,
  };
  const finish = (outcome: Partial<BackupDrill>, stopped = false): DrillOutcome => {
    Object.assign(record, outcome);
    record.endedAt = Math.max(context.clock(), startedAt);
    return { record, stopped, remarks };
  };

  const canary = target.canary ? await prepareCanary(target.canary) : undefined;
  if (canary?.created) remarks.push(`created the canary ${target.canary}; the next backup takes it in`);

  const reader = new ListingReader(target.drillFiles, context.random ?? Math.random, target.canary);
  const ls = await restic.run(["ls", "latest", "--json"], {
    keepStdout: false,
    onStdout: (chunk) => reader.push(chunk),
  });
  reader.finish();
  const listing = reader.listing;
  const lsFailure = failureReason(ls, target.timeoutMs, "restic ls");
  if (lsFailure || ls.exitCode !== 0) return finish({ output: outputTail(ls.tail, lsFailure) }, ls.stopped);
  if (!listing.snapshot)
    return finish({ output: outputTail(ls.tail, "the repository holds no snapshot to restore from") });
  const snapshot = listing.snapshot;
  const snapshotId = shortId(snapshot);
  if (snapshotId) record.snapshotId = snapshotId;
  const snapshotAt = resticTime(snapshot.time);
  if (snapshotAt !== undefined) record.snapshotAt = snapshotAt;
  const wanted = [...listing.sample, ...(listing.canary ? [listing.canary] : [])];
  if (wanted.length === 0) remarks.push("the newest snapshot holds no regular files to restore");

  let directory: string;
  try {
    directory = await mkdtemp(join(target.tmpDir ?? tmpdir(), "vigil-drill-"));
  } catch (error) {
    return finish({ output: `could not create a temporary directory: ${(error as Error).message}` });
  }
  try {
    let restoreErrors = new Map<string, string>();
    if (wanted.length > 0) {
      const restore = await restic.run([
        "restore",
        snapshot.id,
        "--target",
        directory,
        "--verify",
        ...wanted.flatMap((file) => ["--include", includePattern(file.path)]),
      ]);
      const restoreFailure = failureReason(restore, target.timeoutMs, "restic restore");
      if (restoreFailure)
        return finish({ output: outputTail(restore.tail, restoreFailure) }, restore.stopped);
      // restic prints this once it has opened the snapshot; without it, it never started restoring.
      if (restore.exitCode !== 0 && !restore.stdout.includes("restoring <Snapshot"))
        return finish({ output: outputTail(restore.tail) });
      // An error about a file of the sample is counted below; any other (a directory's times …) is shown.
      const wantedPaths = new Set(wanted.map((file) => file.path));
      restoreErrors = restoreErrorsByPath(restore.tail, wantedPaths);
      if (restore.exitCode !== 0 && ![...restoreErrors.keys()].some((path) => wantedPaths.has(path))) {
        const [firstError] = restoreErrors.entries();
        differences.push(
          `restic restore exited with ${restore.exitCode}: ${firstError ? `${firstError[0]}: ${firstError[1]}` : lastLine(restore.tail)}`,
        );
      }
    }
    const sameHost = snapshot.hostname === hostname();
    for (const file of listing.sample) {
      const restoredPath = join(directory, file.path);
      const restored = await statOf(restoredPath);
      const resticError = restoreErrors.get(file.path);
      if (!restored?.isFile()) {
        record.missing = (record.missing ?? 0) + 1;
        differences.push(`missing ${file.path}: not restored${resticError ? ` (${resticError})` : ""}`);
        continue;
      }
      record.files++;
      record.bytes += Number(restored.size);
      if (resticError) {
        record.mismatched = (record.mismatched ?? 0) + 1;
        differences.push(`mismatch ${file.path}: ${resticError}`);
        continue;
      }
      if (Number(restored.size) !== file.size) {
        record.mismatched = (record.mismatched ?? 0) + 1;
        differences.push(
          `mismatch ${file.path}: restored ${restored.size} bytes, the snapshot recorded ${file.size}`,
        );
        continue;
      }
      const live = sameHost ? await statOf(file.path) : undefined;
      const recordedMtime = resticTimeNs(file.mtime);
      if (live?.isFile() && Number(live.size) === file.size && recordedMtime === live.mtimeNs) {
        const hashes = await Promise.all([sha256(restoredPath), sha256(file.path)]).catch(() => undefined);
        // Unreadable to the probe (a drill run as another user): restic's verification stands alone.
        if (hashes && hashes[0] !== hashes[1]) {
          record.mismatched = (record.mismatched ?? 0) + 1;
          differences.push(
            `mismatch ${file.path}: restored sha256 ${hashes[0].slice(0, 16)}… but the unchanged live file has ${hashes[1].slice(0, 16)}…`,
          );
        }
      }
    }
    if (target.canary) {
      const verdict = await judgeCanary(target.canary, canary, listing, directory, snapshot, restoreErrors);
      if (verdict.canary !== undefined) record.canary = verdict.canary;
      if (verdict.difference) differences.push(verdict.difference);
      if (verdict.remark) remarks.push(verdict.remark);
    }
  } finally {
    await removeRestored(directory);
  }
  const failed = (record.mismatched ?? 0) > 0 || (record.missing ?? 0) > 0 || record.canary === false;
  const status: BackupDrill["status"] = failed ? "mismatch" : differences.length > 0 ? "error" : "ok";
  const outcome: Partial<BackupDrill> = { status };
  if (differences.length > 0) {
    const shown = differences.slice(0, MAX_DIFFERENCES);
    if (differences.length > shown.length) shown.push(`… and ${differences.length - shown.length} more`);
    outcome.output = shown.join("\n").slice(0, 8_192);
  }
  return finish(outcome);
}

async function judgeCanary(
  path: string,
  state: CanaryState | undefined,
  listing: Listing,
  directory: string,
  snapshot: ResticSnapshot,
  restoreErrors: Map<string, string>,
): Promise<{ canary?: boolean; difference?: string; remark?: string }> {
  if (state?.problem) return { canary: false, difference: `canary ${path}: ${state.problem}` };
  if (listing.canary) {
    let content: string | undefined;
    try {
      content = await readFile(join(directory, path), "utf8");
    } catch {
      content = undefined;
    }
    if (content !== undefined && canaryIntact(content)) return { canary: true };
    const why =
      restoreErrors.get(path) ??
      (content === undefined ? "not restored" : "restored, but its content does not verify");
    return { canary: false, difference: `canary ${path}: ${why}` };
  }
  // Not in the snapshot: expected when the canary is newer than the snapshot (just created, or recreated).
  const snapshotNs = resticTimeNs(snapshot.time);
  if (
    state?.created ||
    state?.mtimeNs === undefined ||
    snapshotNs === undefined ||
    state.mtimeNs >= snapshotNs
  )
    return { remark: `canary ${path} is not yet in a snapshot` };
  return {
    canary: false,
    difference: `canary ${path} is older than the newest snapshot but not in it: is it inside the backed-up paths, and not excluded?`,
  };
}

/**
 * restic 0.14 reports a file it could not restore or verify as "ignoring error for PATH: REASON". A path
 * may itself hold ": ", so the sampled paths are matched first.
 */
function restoreErrorsByPath(output: string, paths: Set<string>): Map<string, string> {
  const errors = new Map<string, string>();
  const prefix = "ignoring error for ";
  for (const raw of output.split("\n")) {
    const line = withoutColours(raw).trim();
    if (!line.startsWith(prefix)) continue;
    const rest = line.slice(prefix.length);
    let path = [...paths].find((candidate) => rest.startsWith(`${candidate}: `));
    if (path === undefined) path = rest.split(": ")[0] ?? rest;
    const reason = rest.slice(path.length + 2).slice(0, 300);
    if (!errors.has(path)) errors.set(path, reason);
  }
  return errors;
}

function lastLine(text: string): string {
  return (
    text
      .split("\n")
      .map((line) => line.trim())
      .filter(Boolean)
      .at(-1) ?? ""
  ).slice(0, 300);
}

export function describeDrill(record: BackupDrill): string {
  const parts = [`backup-drill ${record.name}: ${record.status}`, record.repository.location];
  if (record.snapshotId) parts.push(`snapshot ${record.snapshotId}`);
  parts.push(`${record.files} files (${record.bytes} bytes) restored`);
  if (record.mismatched) parts.push(`${record.mismatched} mismatched`);
  if (record.missing) parts.push(`${record.missing} missing`);
  if (record.canary !== undefined) parts.push(record.canary ? "canary intact" : "canary FAILED");
  if (record.status !== "ok" && record.output) parts.push(lastLine(record.output.split("\n")[0] ?? ""));
  return parts.join(", ");
}

/**
 * `backup-drill --name NAME [--files 20] [--canary PATH] [--tmp-dir DIR] [--timeout-min 60] -- restic …`:
 * restores a random sample of the newest snapshot into a temporary directory, compares it, removes it;
 * queues the record, prints one line; exit 0 when everything matched, 1 otherwise.
 */
export async function backupDrillCommand(ctx: CommandContext): Promise<number> {
  const target = backupFlags(ctx, "drill");
  if (typeof target === "string") {
    ctx.err(
      `${target}\nusage: vigil-probe backup-drill --name NAME [--files 20] [--canary PATH] [--tmp-dir DIR] [--timeout-min 60] -- restic -r REPO …\n`,
    );
    return 2;
  }
  return untilInterrupted(async (signal) => {
    const { record, stopped, remarks } = await runBackupDrill(target, {
      clock: ctx.clock,
      signal,
      warn: (message) => ctx.err(`vigil-probe: ${message}\n`),
      ...(ctx.random ? { random: ctx.random } : {}),
    });
    if (stopped) {
      ctx.err("vigil-probe: backup-drill stopped before it finished; nothing queued\n");
      return 1;
    }
    for (const remark of remarks) ctx.err(`vigil-probe: ${remark}\n`);
    ctx.out(`${describeDrill(record)}\n`);
    await queueRecords(ctx, { backupDrills: [record] }, "restore drill");
    return record.status === "ok" ? 0 : 1;
  });
}
