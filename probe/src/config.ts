import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { ProbeRemoteConfig } from "@vigil/contract";
import type { BackupCheckConfig } from "./backup-checks.ts";
import type { CollectorName } from "./collect.ts";
import type { LocationChecksConfig } from "./location-checks/config.ts";
import type { RunbooksConfig } from "./runbook-commands/config.ts";
import type { ScrapeTargetConfig } from "./scrape-targets.ts";

export const DEFAULT_CONFIG_PATH = "/etc/vigil/probe.json";
export const DEFAULT_STATE_DIR = "/var/lib/vigil-probe";
export const DEFAULT_INTERVAL_SEC = 30;

/** /etc/vigil/probe.json: what the operator (or install.sh) sets. Secrets here are why it is mode 0600. */
export interface ProbeConfig {
  server?: string;
  /** enrollment token, used once to obtain a host token */
  token?: string;
  /** ping key for `exec --check SLUG` (the slug form of /ping) */
  pingKey?: string;
  stateDir: string;
  intervalSec: number;
  journal: { minPriority: number; units: string[] };
  disabledCollectors: CollectorName[];
  spoolMaxBytes?: number;
  dockerSocket?: string;
  /** read journal files from this directory instead of the system journal (containers, tests) */
  journalDirectory?: string;
  /** where /proc, /etc … are read from; "/" except for tests and containers with the host mounted */
  rootDir: string;
  /** Prometheus / OpenMetrics endpoints to scrape; checked by loadScrapeTargets (scrape-targets.ts) */
  scrape?: ScrapeTargetConfig[];
  /** restic repositories the daemon checks and drills; checked by loadBackupChecks (backup-checks.ts) */
  backupChecks?: BackupCheckConfig[];
  /** checks the server assigns, run as a private location; checked by loadLocationSettings */
  checks?: LocationChecksConfig;
  /** runbook commands the server may have this host run (off unless enabled); see loadRunbookSettings */
  runbooks?: RunbooksConfig;
}

/** Written by `enroll` in the state dir: the host's identity and secret. */
export interface Identity {
  server: string;
  hostId: string;
  hostToken: string;
}

/** Parsed flags; repeatable ones (`--scrape`) are lists. */
export type Flags = Record<string, string | boolean | string[] | undefined>;

function stringFlag(flags: Flags, name: string): string | undefined {
  const value = flags[name];
  return typeof value === "string" ? value : undefined;
}

/**
 * Settings come from, in rising precedence: defaults, the config file, the environment, command-line flags.
 * A missing config file is fine (flags and env can carry everything); an unreadable or invalid one is not.
 */
export async function loadConfig(
  flags: Flags,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ config: ProbeConfig; path: string; found: boolean }> {
  const path = stringFlag(flags, "config") ?? env.VIGIL_CONFIG ?? DEFAULT_CONFIG_PATH;
  let file: Partial<ProbeConfig> = {};
  let found = false;
  try {
    file = JSON.parse(await readFile(path, "utf8")) as Partial<ProbeConfig>;
    found = true;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== "ENOENT") throw new Error(`cannot read config ${path}: ${(error as Error).message}`);
  }
  const config: ProbeConfig = {
    stateDir: DEFAULT_STATE_DIR,
    intervalSec: DEFAULT_INTERVAL_SEC,
    journal: { minPriority: 4, units: [] },
    disabledCollectors: [],
    rootDir: "/",
    ...file,
  };
  const pick = (flag: string, envName: string) => stringFlag(flags, flag) ?? env[envName];
  const server = pick("server", "VIGIL_SERVER");
  if (server) config.server = server.replace(/\/+$/, "");
  const token = pick("token", "VIGIL_TOKEN");
  if (token) config.token = token;
  const pingKey = pick("ping-key", "VIGIL_PING_KEY");
  if (pingKey) config.pingKey = pingKey;
  const stateDir = pick("state-dir", "VIGIL_STATE_DIR");
  if (stateDir) config.stateDir = stateDir;
  const rootDir = pick("root", "VIGIL_ROOT");
  if (rootDir) config.rootDir = rootDir;
  const interval = Number(pick("interval", "VIGIL_INTERVAL"));
  if (Number.isFinite(interval) && interval >= 1) config.intervalSec = interval;
  return { config, path, found };
}

async function writeSecretFile(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, content, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, path);
}

const IDENTITY_FILE = "identity.json";
const REMOTE_CONFIG_FILE = "remote-config.json";

export async function loadIdentity(stateDir: string): Promise<Identity | undefined> {
  try {
    const identity = JSON.parse(await readFile(join(stateDir, IDENTITY_FILE), "utf8")) as Partial<Identity>;
    if (identity.server && identity.hostId && identity.hostToken) return identity as Identity;
  } catch {
    // not enrolled yet
  }
  return undefined;
}

export async function saveIdentity(stateDir: string, identity: Identity): Promise<void> {
  await writeSecretFile(join(stateDir, IDENTITY_FILE), `${JSON.stringify(identity, null, 2)}\n`);
}

/**
 * The server's last word on interval, journal filters, check assignments and runbook commands, kept so a
 * restart applies it (and runs its checks) before reconnecting.
 */
export async function loadRemoteConfig(stateDir: string): Promise<ProbeRemoteConfig | undefined> {
  try {
    return JSON.parse(await readFile(join(stateDir, REMOTE_CONFIG_FILE), "utf8")) as ProbeRemoteConfig;
  } catch {
    return undefined;
  }
}

export async function saveRemoteConfig(stateDir: string, config: ProbeRemoteConfig): Promise<void> {
  await writeSecretFile(join(stateDir, REMOTE_CONFIG_FILE), `${JSON.stringify(config)}\n`);
}

export function spoolDir(stateDir: string): string {
  return join(stateDir, "spool");
}
