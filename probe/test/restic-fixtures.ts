import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmod, mkdir, open, readdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { type ProbeBatchV1, probeBatchV1Schema } from "@vigil/contract";
import type { BackupCheckTarget } from "../src/backup-checks.ts";
import type { CommandContext } from "../src/commands/context.ts";
import { spoolDir } from "../src/config.ts";
import { Spool } from "../src/spool.ts";
import { defined, runCli } from "./helpers.ts";

// Real restic repositories and a stand-in for autorestic, for the backup-check and backup-drill tests.

export const execFileAsync = promisify(execFile);
export const NOW = 1_795_800_000_000;
export const PASSWORD = "correct horse battery";
export const HOUR = 3_600_000;

/** A seeded generator, so a drill picks the same files every run. */
export function seeded(seed = 7): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

export interface Repository {
  dir: string;
  data: string;
  repo: string;
  /** restic's environment: the password and a cache of its own, nothing from the developer's shell */
  env: NodeJS.ProcessEnv;
}

export async function restic(repository: Repository, args: string[]): Promise<string> {
  const { stdout } = await execFileAsync("restic", ["-r", repository.repo, ...args], { env: repository.env });
  return stdout;
}

/**
 * A real restic repository in `dir`: one snapshot of another host's directory, then two of `data` (five
 * files, one with pattern characters in its name, one of random bytes so that its pack is the largest).
 */
export async function makeRepository(dir: string): Promise<Repository> {
  const data = join(dir, "data");
  await mkdir(join(data, "sub"), { recursive: true });
  await writeFile(join(data, "notes.txt"), "hello\n".repeat(200));
  await writeFile(join(data, "random.bin"), randomBytes(300_000));
  await writeFile(join(data, "sub", "deep.txt"), "deep\n");
  await writeFile(join(data, "odd [1]*?.txt"), "odd\n");
  await writeFile(join(data, "empty.txt"), "");
  const other = join(dir, "other");
  await mkdir(other);
  await writeFile(join(other, "elsewhere.txt"), "elsewhere\n");
  const repository: Repository = {
    dir,
    data,
    repo: join(dir, "repo"),
    env: { PATH: process.env.PATH, RESTIC_PASSWORD: PASSWORD, RESTIC_CACHE_DIR: join(dir, "cache") },
  };
  await restic(repository, ["init"]);
  await restic(repository, ["backup", other, "--host", "elsewhere"]);
  await restic(repository, ["backup", data]);
  await restic(repository, ["backup", data]);
  return repository;
}

/** Overwrites bytes in the largest pack file under data/ (the one holding random.bin's content). */
export async function damageLargestPack(repo: string): Promise<void> {
  const packs: { path: string; size: number }[] = [];
  for (const sub of await readdir(join(repo, "data"))) {
    for (const file of await readdir(join(repo, "data", sub))) {
      const path = join(repo, "data", sub, file);
      packs.push({ path, size: (await stat(path)).size });
    }
  }
  const largest = defined(packs.sort((a, b) => b.size - a.size)[0], "a pack file");
  await chmod(largest.path, 0o600);
  const handle = await open(largest.path, "r+");
  await handle.write(Buffer.alloc(64, "X"), 0, 64, 1_000);
  await handle.close();
}

/** Runs the CLI in-process with captured output and a fixed clock. */
export function cli(argv: string[], env: NodeJS.ProcessEnv, extra: Partial<CommandContext> = {}) {
  return runCli(argv, env, { clock: () => NOW, ...extra });
}

/** The batches in a state dir's spool, each parsed by the contract's schema (so they are valid). */
export async function spooled(stateDir: string): Promise<ProbeBatchV1[]> {
  const spool = new Spool({ dir: spoolDir(stateDir), clock: () => NOW });
  return Promise.all(
    (await spool.list()).map(async (entry) => probeBatchV1Schema.parse(await spool.readBatch(entry))),
  );
}

/**
 * A stand-in for autorestic, which cannot be installed here. It implements only
 * `autorestic [--ci] [--verbose] -c FILE exec -b BACKEND -- ARGS…` the way autorestic 1.8 does: it runs
 * restic with the backend's `path` and `key` from the YAML file, prints its decoration lines first,
 * restic's output only with --verbose, and restic's stderr (on stdout) when restic fails.
 */
export const FAKE_AUTORESTIC = `#!/bin/sh
config=""; backend=""; verbose=""
while [ $# -gt 0 ]; do
  case "$1" in
    --ci) shift ;;
    -v|--verbose) verbose=1; shift ;;
    -c) config="$2"; shift 2 ;;
    exec) shift ;;
    -b) backend="$2"; shift 2 ;;
    --) shift; break ;;
    *) echo "fake autorestic: unsupported argument $1" >&2; exit 2 ;;
  esac
done
section=$(sed -n "/^  $backend:\\$/,/^  [^ ]/p" "$config")
repo=$(printf '%s\\n' "$section" | sed -n 's/^    path: //p')
key=$(printf '%s\\n' "$section" | sed -n 's/^    key: //p')
printf 'Using config: \\t %s\\n' "$config"
printf '\\n  Executing on "%s"  \\n' "$backend"
[ -n "$verbose" ] && echo "> Executing: restic $*"
out=$(mktemp); err=$(mktemp)
RESTIC_REPOSITORY="$repo" RESTIC_PASSWORD="$key" restic "$@" >"$out" 2>"$err"
code=$?
if [ $code -ne 0 ]; then cat "$err"; rm -f "$out" "$err"; exit 1; fi
[ -n "$verbose" ] && cat "$out"
rm -f "$out" "$err"
exit 0
`;

export async function fakeAutorestic(
  repository: Repository,
): Promise<{ env: NodeJS.ProcessEnv; config: string }> {
  const bin = join(repository.dir, "bin");
  await mkdir(bin, { recursive: true });
  await writeFile(join(bin, "autorestic"), FAKE_AUTORESTIC, { mode: 0o755 });
  const config = join(repository.dir, ".autorestic.yml");
  await writeFile(
    config,
    `version: 2\nbackends:\n  nas:\n    type: local\n    path: ${repository.repo}\n    key: ${PASSWORD}\n  other:\n    type: local\n    path: /nonexistent\n    key: x\n`,
  );
  return {
    env: { PATH: `${bin}:${process.env.PATH}`, RESTIC_CACHE_DIR: join(repository.dir, "cache") },
    config,
  };
}

export function target(repository: Repository): BackupCheckTarget {
  return {
    name: "local",
    command: ["restic", "-r", repository.repo],
    env: repository.env,
    timeoutMs: 60_000,
    drillFiles: 3,
  };
}
