import { readFileSync } from "node:fs";
import { basename } from "node:path";
import type { BackupSource } from "@vigil/contract";
import { PROBE_BATCH_LIMITS, TIME_BOUNDS } from "./limits.ts";

/**
 * What the probe learns from the base command of `backup-check` / `backup-drill` (everything after `--`):
 * restic with its repository flags (`restic -r /srv/restic --password-file F`) or autorestic's exec form
 * (`autorestic -c /etc/autorestic.yml exec -b nas --`). The probe appends restic's subcommand to it.
 */
export interface BaseCommand {
  command: string[];
  tool: "restic" | "autorestic";
  /** the repository as restic names it, credentials removed; `autorestic:<backend>` for autorestic */
  location: string;
}

const UNKNOWN_LOCATION = "unknown";

export function describeBaseCommand(command: string[], env: NodeJS.ProcessEnv): BaseCommand {
  const tool = basename(command[0] ?? "") === "autorestic" ? "autorestic" : "restic";
  if (tool === "autorestic") {
    const backend = flagValue(command, ["-b", "--backend"], /^-[A-Za-z]*b$/);
    return {
      command: completeAutoresticCommand(command),
      tool,
      location: backend ? `autorestic:${backend}` : "autorestic",
    };
  }
  const fromFlag = flagValue(command, ["-r", "--repo"], /^-r$/);
  const fileFlag = flagValue(command, ["--repository-file"]);
  let location = fromFlag ?? (fileFlag ? firstLineOf(fileFlag) : undefined);
  if (!location && !fileFlag) {
    location =
      env.RESTIC_REPOSITORY ||
      (env.RESTIC_REPOSITORY_FILE ? firstLineOf(env.RESTIC_REPOSITORY_FILE) : undefined);
  }
  return { command, tool, location: withoutCredentials(location || UNKNOWN_LOCATION) };
}

/**
 * autorestic (≥ 1.7) shows restic's output from `exec` only with --verbose, in colour unless --ci: both are
 * added when missing. A closing `--` is added too, so the restic flags the probe appends
 * (`--read-data-subset`, `--json`) are not taken for autorestic's own.
 */
function completeAutoresticCommand(command: string[]): string[] {
  const [program = "autorestic", ...args] = command;
  const separator = args.indexOf("--");
  const own = separator < 0 ? args : args.slice(0, separator);
  const added: string[] = [];
  if (!own.includes("--ci")) added.push("--ci");
  if (!own.some((arg) => arg === "--verbose" || /^-[A-Za-z]*v[A-Za-z]*$/.test(arg))) added.push("--verbose");
  return [program, ...added, ...args, ...(separator < 0 ? ["--"] : [])];
}

/**
 * The value of a flag in `--name value`, `--name=value` or, for a short flag, `-rVALUE` form; `cluster`
 * matches a group of short flags ending in this one (`-vb nas`). Stops at `--`.
 */
function flagValue(args: string[], names: string[], cluster?: RegExp): string | undefined {
  for (let i = 1; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (arg === "--") break;
    if (names.includes(arg) || cluster?.test(arg)) return args[i + 1];
    for (const name of names) {
      if (arg.startsWith(`${name}=`)) return arg.slice(name.length + 1);
      if (name.length === 2 && arg.startsWith(name) && !arg.startsWith("--")) return arg.slice(2);
    }
  }
  return undefined;
}

function firstLineOf(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8").split("\n")[0]?.trim() || undefined;
  } catch {
    // not readable by the probe: the location stays unknown, restic says why it cannot open it
    return undefined;
  }
}

/**
 * Drops `user:password@` from a URL-style location (rest:https://u:p@host/, s3:https://KEY:SECRET@host/b).
 * A user name alone stays (sftp:backup@nas:/restic names an account, not a secret).
 */
export function withoutCredentials(location: string): string {
  const slashes = location.indexOf("//");
  if (slashes < 0) return location.slice(0, 1024);
  const hostStart = slashes + 2;
  const pathStart = location.indexOf("/", hostStart);
  const end = pathStart < 0 ? location.length : pathStart;
  const authority = location.slice(hostStart, end);
  const at = authority.lastIndexOf("@");
  if (at < 0 || !authority.slice(0, at).includes(":")) return location.slice(0, 1024);
  return (location.slice(0, hostStart) + authority.slice(at + 1) + location.slice(end)).slice(0, 1024);
}

/**
 * Hides passwords in URLs anywhere in a text (restic's error output names the repository), in case a
 * tool printed `rest:https://user:password@host/` as it was given.
 */
export function scrubCredentials(text: string): string {
  return text.replace(/(\/\/[^\s/:@]+):[^\s/@]+@/g, "$1:***@");
}

const ANSI_ESCAPE = new RegExp(`${String.fromCharCode(27)}\\[[0-9;?]*[A-Za-z]`, "g");

/** Text without terminal colour codes (autorestic colours what it passes through). */
export function withoutColours(text: string): string {
  return text.replace(ANSI_ESCAPE, "");
}

/**
 * The first JSON value in `text` that `accept` takes. restic prints its JSON alone, but autorestic's exec
 * wraps it in lines of its own ("Using config: …", `Executing on "nas"`, colour codes), and restic may put
 * warnings before it: every line that starts with `{` or `[` is tried, up to its matching bracket.
 */
export function findJson<T>(text: string, accept: (value: unknown) => value is T): T | undefined {
  const clean = withoutColours(text);
  let lineStart = 0;
  while (lineStart < clean.length) {
    let first = lineStart;
    while (first < clean.length && " \t\r".includes(clean[first] ?? "")) first++;
    if (clean[first] === "{" || clean[first] === "[") {
      const end = matchingBracket(clean, first);
      if (end > 0) {
        try {
          const value: unknown = JSON.parse(clean.slice(first, end + 1));
          if (accept(value)) return value;
        } catch {
          // a decoration line that only looks like JSON ("[0:00] 100.00%")
        }
      }
    }
    const newline = clean.indexOf("\n", lineStart);
    if (newline < 0) break;
    lineStart = newline + 1;
  }
  return undefined;
}

/** The index of the bracket that closes the one at `start`, strings skipped; -1 when it never closes. */
function matchingBracket(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

/** One element of `restic snapshots --json` (and the first line of `restic ls --json`). */
export interface ResticSnapshot {
  time: string;
  paths?: string[];
  hostname?: string;
  id?: string;
  short_id?: string;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function isSnapshotList(value: unknown): value is ResticSnapshot[] {
  return Array.isArray(value) && value.every((s) => isObject(s) && typeof s.time === "string");
}

export function isStats(value: unknown): value is { total_size: number } {
  return isObject(value) && typeof value.total_size === "number";
}

export function isRepositoryConfig(value: unknown): value is { id: string; version?: number } {
  return isObject(value) && typeof value.id === "string" && "chunker_polynomial" in value;
}

/** restic's RFC 3339 times with nanoseconds and any offset, as epoch ms within the wire's bounds. */
export function resticTime(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const ms = Date.parse(text);
  if (!Number.isFinite(ms)) return undefined;
  const rounded = Math.floor(ms);
  return rounded >= TIME_BOUNDS.minMs && rounded <= TIME_BOUNDS.maxMs ? rounded : undefined;
}

/** A short id: restic's own, else the first 8 characters of the full one. */
export function shortId(snapshot: ResticSnapshot): string | undefined {
  const id = snapshot.short_id ?? snapshot.id?.slice(0, 8);
  return id ? id.slice(0, 128) : undefined;
}

export interface SnapshotSummary {
  count: number;
  newestAt?: number;
  oldestAt?: number;
  sources: BackupSource[];
}

/**
 * Groups `restic snapshots --json` by what was backed up: host name and sorted set of paths, as restic's
 * own `--group-by host,paths`. Keeps the most recently backed-up sources when there are more than a check
 * may report (PROBE_BATCH_LIMITS.backupSources): a source nobody backs up any more matters least.
 */
export function summarizeSnapshots(
  snapshots: ResticSnapshot[],
  maxSources: number = PROBE_BATCH_LIMITS.backupSources,
): SnapshotSummary {
  const summary: SnapshotSummary = { count: snapshots.length, sources: [] };
  const groups = new Map<string, BackupSource>();
  for (const snapshot of snapshots) {
    const at = resticTime(snapshot.time);
    if (at === undefined) continue;
    summary.newestAt = Math.max(summary.newestAt ?? at, at);
    summary.oldestAt = Math.min(summary.oldestAt ?? at, at);
    const paths = [...new Set((snapshot.paths ?? []).filter((p) => typeof p === "string" && p.length > 0))]
      .map((p) => p.slice(0, 4096))
      .sort()
      .slice(0, PROBE_BATCH_LIMITS.backupSourcePaths);
    if (paths.length === 0) continue;
    const hostname = (snapshot.hostname || "unknown").slice(0, 253);
    const key = JSON.stringify([hostname, paths]);
    const group = groups.get(key);
    const id = shortId(snapshot);
    if (!group) {
      const source: BackupSource = { hostname, paths, snapshots: 1, newestAt: at, oldestAt: at };
      if (id) source.newestId = id;
      groups.set(key, source);
      continue;
    }
    group.snapshots++;
    group.oldestAt = Math.min(group.oldestAt, at);
    if (at >= group.newestAt) {
      group.newestAt = at;
      if (id) group.newestId = id;
      else delete group.newestId;
    }
  }
  summary.sources = [...groups.values()].sort((a, b) => b.newestAt - a.newestAt).slice(0, maxSources);
  return summary;
}

/**
 * `restic restore --include` takes patterns (`*`, `?`, `[…]`, `\` escapes), not paths: a file named
 * `report[1].pdf` would not match itself. Escaped, each pattern names exactly one path.
 */
export function includePattern(path: string): string {
  return path.replace(/[\\*?[\]]/g, "\\$&");
}
