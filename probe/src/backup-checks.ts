import { isAbsolute } from "node:path";
import type { BackupMediaKind, BackupSite } from "@vigil/contract";
import type { Clock } from "./clock.ts";
import type { CommandContext } from "./commands/context.ts";
import type { ProbeConfig } from "./config.ts";

/** A repository the daemon checks and drills, as the operator writes it in probe.json (`backupChecks`). */
export interface BackupCheckConfig {
  /** the repository's name in reports (an autorestic backend's name, say) */
  name: string;
  /** restic with its repository flags, or `autorestic -c FILE exec -b BACKEND --` */
  command: string[];
  /** added to the probe's environment for the command: RESTIC_PASSWORD_FILE, AWS_ACCESS_KEY_ID … */
  env?: Record<string, string>;
  kind?: BackupMediaKind;
  site?: BackupSite;
  /** the forget policy as configured, reported as is */
  retention?: string;
  /** 0: no scheduled checks (default 168, weekly) */
  checkEveryHours?: number;
  readDataSubset?: string;
  /** 0: no drills (default 168, weekly) */
  drillEveryHours?: number;
  drillFiles?: number;
  canary?: string;
  /** where drills restore to (default: the OS temporary directory) */
  tmpDir?: string;
  /** per check or drill (default 120) */
  timeoutMin?: number;
}

/** What a check or drill runs with, checked and with defaults filled in. */
export interface BackupCheckTarget {
  name: string;
  command: string[];
  /** the whole environment of the command: the probe's own plus the entry's */
  env: NodeJS.ProcessEnv;
  kind?: BackupMediaKind;
  site?: BackupSite;
  retention?: string;
  readDataSubset?: string;
  timeoutMs: number;
  drillFiles: number;
  canary?: string;
  tmpDir?: string;
}

/** A configured repository with its schedule; 0 turns checks or drills off. */
export interface ScheduledBackupCheck {
  target: BackupCheckTarget;
  /** the drill's own timeout (the check's default is longer: it may read data) */
  drillTimeoutMs: number;
  checkEveryMs: number;
  drillEveryMs: number;
}

/** What a check or drill may touch besides its target: time, a stop signal, a place for warnings. */
export interface BackupRunContext {
  clock: Clock;
  signal?: AbortSignal;
  warn?: (message: string) => void;
  /** [0, 1): picks the files a drill restores */
  random?: () => number;
}

const MEDIA_KINDS = ["local", "host", "object", "other"] as const satisfies readonly BackupMediaKind[];
const SITES = ["onsite", "offsite"] as const satisfies readonly BackupSite[];
const HOUR_MS = 3_600_000;
export const DEFAULT_EVERY_HOURS = 168;
export const DEFAULT_CHECK_TIMEOUT_MIN = 120;
export const DEFAULT_DRILL_TIMEOUT_MIN = 60;
export const DEFAULT_DRILL_FILES = 20;
const MAX_DRILL_FILES = 1_000;
const MAX_TIMEOUT_MIN = 7 * 24 * 60;
const MAX_EVERY_HOURS = 24 * 366;

const KNOWN_KEYS = new Set([
  "name",
  "command",
  "env",
  "kind",
  "site",
  "retention",
  "checkEveryHours",
  "readDataSubset",
  "drillEveryHours",
  "drillFiles",
  "canary",
  "tmpDir",
  "timeoutMin",
]);
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// As restic 0.14 takes it: n/t (one part of t), x% or x.y% (a random share), or a size (500M, 2G).
const READ_DATA_SUBSET = /^(?:[1-9]\d*\/[1-9]\d*|\d+(?:\.\d+)?%|\d+(?:\.\d+)?[kKmMgGtT]?)$/;

export class BackupConfigError extends Error {}

/** Line breaks, tabs and other control characters, which have no place in a name or a one-line setting. */
function hasControlCharacters(text: string): boolean {
  for (let i = 0; i < text.length; i++)
    if (text.charCodeAt(i) < 0x20 || text.charCodeAt(i) === 0x7f) return true;
  return false;
}

function fail(name: unknown, message: string): never {
  throw new BackupConfigError(`backup check ${JSON.stringify(name)}: ${message}`);
}

/** The reason a `--read-data-subset` value is refused, or undefined when restic will take it. */
export function readDataSubsetProblem(value: string): string | undefined {
  if (!READ_DATA_SUBSET.test(value) || value.length > 32)
    return `read-data-subset ${JSON.stringify(value)} must be n/t (e.g. 1/10), a percentage (5%) or a size (500M)`;
  const part = /^(\d+)\/(\d+)$/.exec(value);
  if (part && Number(part[1]) > Number(part[2]))
    return `read-data-subset ${value}: the part must not exceed the number of parts`;
  if (value.endsWith("%") && (Number(value.slice(0, -1)) <= 0 || Number(value.slice(0, -1)) > 100))
    return `read-data-subset ${value}: the percentage must be above 0 and at most 100`;
  return undefined;
}

function optionalText(name: string, key: string, value: unknown, max: number): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value.length > max || hasControlCharacters(value))
    fail(name, `${key} must be one line of text, at most ${max} characters`);
  return value;
}

function hours(name: string, key: string, value: unknown): number {
  if (value === undefined) return DEFAULT_EVERY_HOURS;
  if (
    typeof value !== "number" ||
    !Number.isFinite(value) ||
    (value !== 0 && value < 1) ||
    value > MAX_EVERY_HOURS
  )
    fail(name, `${key} must be 0 (never) or a number of hours from 1 to ${MAX_EVERY_HOURS}`);
  return value;
}

function oneOf<T extends string>(
  name: string,
  key: string,
  value: unknown,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !allowed.includes(value as T))
    fail(name, `${key} must be one of ${allowed.join(", ")}`);
  return value as T;
}

/** Checks one entry as written and fills in its defaults; every message names the entry and the setting. */
export function checkBackupEntry(raw: unknown, probeEnv: NodeJS.ProcessEnv): ScheduledBackupCheck {
  if (!raw || typeof raw !== "object" || Array.isArray(raw))
    fail(raw, "must be an object with name and command");
  const given = raw as Record<string, unknown>;
  const name = given.name;
  if (typeof name !== "string" || name.trim() === "" || name.length > 128 || hasControlCharacters(name))
    fail(name, "name must be 1-128 characters of one line");
  // A typo (`timeout`) must not pass silently as the default.
  for (const key of Object.keys(given))
    if (!KNOWN_KEYS.has(key)) fail(name, `unknown setting "${key}" (known: ${[...KNOWN_KEYS].join(", ")})`);
  const command = given.command;
  if (
    !Array.isArray(command) ||
    command.length === 0 ||
    !command.every((part) => typeof part === "string") ||
    !command[0]
  )
    fail(
      name,
      'command must be a list of strings: the program and its repository flags, e.g. ["restic", "-r", "/srv/restic"]',
    );
  const env: Record<string, string> = {};
  if (given.env !== undefined) {
    if (!given.env || typeof given.env !== "object" || Array.isArray(given.env))
      fail(name, "env must be an object of variable names to text values");
    for (const [variable, value] of Object.entries(given.env)) {
      if (!ENV_NAME.test(variable) || typeof value !== "string")
        fail(name, `env ${JSON.stringify(variable)} must be a variable name with a text value`);
      env[variable] = value;
    }
  }
  const readDataSubset = optionalText(name, "readDataSubset", given.readDataSubset, 32);
  const subsetProblem = readDataSubset === undefined ? undefined : readDataSubsetProblem(readDataSubset);
  if (subsetProblem) fail(name, subsetProblem);
  const drillFiles = given.drillFiles ?? DEFAULT_DRILL_FILES;
  if (
    typeof drillFiles !== "number" ||
    !Number.isInteger(drillFiles) ||
    drillFiles < 1 ||
    drillFiles > MAX_DRILL_FILES
  )
    fail(name, `drillFiles must be a whole number from 1 to ${MAX_DRILL_FILES}`);
  const canary = optionalText(name, "canary", given.canary, 4096);
  if (canary !== undefined && !isAbsolute(canary))
    fail(name, "canary must be an absolute path inside the backed-up directories");
  const tmpDir = optionalText(name, "tmpDir", given.tmpDir, 4096);
  if (tmpDir !== undefined && !isAbsolute(tmpDir)) fail(name, "tmpDir must be an absolute path");
  const timeoutMin = given.timeoutMin;
  if (
    timeoutMin !== undefined &&
    (typeof timeoutMin !== "number" || !(timeoutMin > 0) || timeoutMin > MAX_TIMEOUT_MIN)
  )
    fail(name, `timeoutMin must be a number of minutes above 0 and at most ${MAX_TIMEOUT_MIN}`);
  const target: BackupCheckTarget = {
    name,
    command: command as string[],
    env: { ...probeEnv, ...env },
    timeoutMs: ((timeoutMin as number | undefined) ?? DEFAULT_CHECK_TIMEOUT_MIN) * 60_000,
    drillFiles,
  };
  const kind = oneOf(name, "kind", given.kind, MEDIA_KINDS);
  if (kind) target.kind = kind;
  const site = oneOf(name, "site", given.site, SITES);
  if (site) target.site = site;
  const retention = optionalText(name, "retention", given.retention, 512);
  if (retention) target.retention = retention;
  if (readDataSubset) target.readDataSubset = readDataSubset;
  if (canary) target.canary = canary;
  if (tmpDir) target.tmpDir = tmpDir;
  return {
    target,
    drillTimeoutMs: ((timeoutMin as number | undefined) ?? DEFAULT_DRILL_TIMEOUT_MIN) * 60_000,
    checkEveryMs: hours(name, "checkEveryHours", given.checkEveryHours) * HOUR_MS,
    drillEveryMs: hours(name, "drillEveryHours", given.drillEveryHours) * HOUR_MS,
  };
}

/**
 * The `backupChecks` of the config file, checked. Throws BackupConfigError naming the entry and the setting;
 * apart from loadConfig, so that `exec` and `backup` still run their job when an entry is wrong.
 */
export function loadBackupChecks(
  config: Pick<ProbeConfig, "backupChecks">,
  probeEnv: NodeJS.ProcessEnv,
): ScheduledBackupCheck[] {
  const entries = config.backupChecks ?? [];
  if (!Array.isArray(entries)) throw new BackupConfigError("backupChecks in the config file must be a list");
  const names = new Set<string>();
  return entries.map((raw) => {
    const entry = checkBackupEntry(raw, probeEnv);
    if (names.has(entry.target.name)) fail(entry.target.name, "named twice in the config file");
    names.add(entry.target.name);
    return entry;
  });
}

/**
 * The target of a `backup-check` / `backup-drill` command line, or a one-line reason it is refused.
 * The same rules as a config entry, so a command line that works also works in probe.json.
 */
export function backupFlags(ctx: CommandContext, command: "check" | "drill"): BackupCheckTarget | string {
  const flag = (name: string) =>
    typeof ctx.flags[name] === "string" ? (ctx.flags[name] as string) : undefined;
  const name = flag("name");
  if (!name) return "--name is required";
  if (ctx.rest.length === 0) return "the restic (or autorestic exec) command goes after --";
  const timeout = flag("timeout-min");
  const files = flag("files");
  const raw: Record<string, unknown> = { name, command: ctx.rest };
  const take = (key: string, value: unknown) => {
    if (value !== undefined) raw[key] = value;
  };
  take("kind", flag("kind"));
  take("site", flag("site"));
  take("retention", flag("retention"));
  take("readDataSubset", flag("read-data-subset"));
  take("canary", flag("canary"));
  take("tmpDir", flag("tmp-dir"));
  take("timeoutMin", timeout === undefined ? undefined : Number(timeout));
  take("drillFiles", files === undefined ? undefined : Number(files));
  try {
    const entry = checkBackupEntry(raw, ctx.env);
    if (command === "drill") entry.target.timeoutMs = entry.drillTimeoutMs;
    return entry.target;
  } catch (error) {
    // The entry's wording, with flag names instead of config keys.
    return (error as Error).message
      .replace(/^backup check "[^"]*": /, "")
      .replace(/readDataSubset|read-data-subset/, "--read-data-subset")
      .replace(/timeoutMin/, "--timeout-min")
      .replace(/drillFiles/, "--files")
      .replace(/tmpDir/, "--tmp-dir")
      .replace(/^(kind|site|retention|canary)\b/, "--$1");
  }
}
