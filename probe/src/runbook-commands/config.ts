import type { HostFacts } from "@vigil/contract";
import { commandAllowed } from "@vigil/contract/runbook-rules";
import type { Flags, ProbeConfig } from "../config.ts";

export { commandAllowed };

/** probe.json `runbooks`: whether the server may have this host run commands of runbooks. */
export interface RunbooksConfig {
  /** default false: a host runs nothing for the server until its operator says so */
  enabled?: boolean;
  /** command prefixes a command must start with (an entry, or an entry and whitespace); empty: any */
  allow?: string[];
  /**
   * the root runner's socket (install.sh --runbooks-as-root): commands run there, as root, instead of as
   * the probe's user; see root-runner.ts
   */
  runner?: string;
}

export type RunbookSettings =
  | { enabled: false; why: string }
  | { enabled: true; allow: string[]; runner?: string; facts: NonNullable<HostFacts["runbooks"]> };

export class RunbookConfigError extends Error {}

const KNOWN_KEYS = new Set(["enabled", "allow", "runner"]);
/** The contract's hostFactsSchema.runbooks.allow bounds (kept here as plain numbers: no zod in the probe). */
const MAX_ENTRIES = 100;
const MAX_ENTRY_LENGTH = 256;

/** The reason a refused command's result gives; the server says the same when it refuses for this host. */
export const NOT_ENABLED = "runbooks are not enabled on this host (vigil-probe --enable-runbooks)";

function switchValue(value: string, source: string): boolean {
  const lower = value.trim().toLowerCase();
  if (["0", "false", "no", "off"].includes(lower)) return false;
  if (["1", "true", "yes", "on"].includes(lower)) return true;
  throw new RunbookConfigError(`${source} must be 0 or 1, got "${value}"`);
}

/**
 * Whether this host runs runbook commands, and which. Off unless turned on; rising precedence: probe.json
 * `runbooks.enabled`, VIGIL_RUNBOOKS, the flag --enable-runbooks. The allow-list comes from probe.json only
 * (trimmed; what the facts announce is what the probe applies). Throws RunbookConfigError for a malformed
 * setting, so the start stops with a message naming it instead of guessing in either direction.
 */
export function loadRunbookSettings(
  config: Pick<ProbeConfig, "runbooks">,
  flags: Flags,
  env: NodeJS.ProcessEnv,
): RunbookSettings {
  const file = config.runbooks ?? {};
  if (typeof file !== "object" || file === null || Array.isArray(file))
    throw new RunbookConfigError("runbooks in the config file must be an object");
  for (const key of Object.keys(file))
    if (!KNOWN_KEYS.has(key))
      throw new RunbookConfigError(
        `runbooks: unknown setting "${key}" (known: ${[...KNOWN_KEYS].join(", ")})`,
      );
  if (file.enabled !== undefined && typeof file.enabled !== "boolean")
    throw new RunbookConfigError("runbooks.enabled must be true or false");
  const allow = allowList(file.allow);
  if (file.runner !== undefined && (typeof file.runner !== "string" || !file.runner.startsWith("/")))
    throw new RunbookConfigError("runbooks.runner must be the absolute path of the root runner's socket");

  let enabled = file.enabled ?? false;
  let why =
    file.enabled === false
      ? "probe.json runbooks.enabled is false"
      : "the default; --enable-runbooks turns them on";
  if (env.VIGIL_RUNBOOKS !== undefined && env.VIGIL_RUNBOOKS !== "") {
    enabled = switchValue(env.VIGIL_RUNBOOKS, "VIGIL_RUNBOOKS");
    why = "VIGIL_RUNBOOKS=0";
  }
  if (flags["enable-runbooks"] === true) enabled = true;
  if (!enabled) return { enabled: false, why };
  if (file.runner === undefined) return { enabled: true, allow, facts: { allow } };
  return { enabled: true, allow, runner: file.runner, facts: { allow, asRoot: true } };
}

/** A list of command prefixes (probe.json runbooks.allow, runner.json allow), trimmed and without repeats. */
export function allowList(value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value))
    throw new RunbookConfigError("runbooks.allow must be a list of command prefixes");
  if (value.length > MAX_ENTRIES)
    throw new RunbookConfigError(`runbooks.allow has ${value.length} entries; at most ${MAX_ENTRIES}`);
  const entries: string[] = [];
  for (const entry of value) {
    if (typeof entry !== "string" || entry.trim() === "")
      throw new RunbookConfigError(`runbooks.allow: ${JSON.stringify(entry)} is not a command prefix`);
    const trimmed = entry.trim();
    if (trimmed.length > MAX_ENTRY_LENGTH)
      throw new RunbookConfigError(
        `runbooks.allow: "${trimmed.slice(0, 40)}…" is longer than ${MAX_ENTRY_LENGTH} characters`,
      );
    if (!entries.includes(trimmed)) entries.push(trimmed);
  }
  return entries;
}

/** Why this host will not run `command`, or undefined when it will. */
export function refusalOf(settings: RunbookSettings, command: string): string | undefined {
  if (!settings.enabled) return NOT_ENABLED;
  if (!commandAllowed(command, settings.allow))
    return `the command is outside this host's runbooks.allow list (${settings.allow.join(", ")})`;
  return undefined;
}

/** One line for the daemon's start and doctor. */
export function describeRunbooks(settings: RunbookSettings): string {
  if (!settings.enabled) return `runbook commands off (${settings.why})`;
  const asRoot = settings.runner ? `, as root through ${settings.runner}` : "";
  return settings.allow.length === 0
    ? `runbook commands on (any command: no runbooks.allow list${asRoot})`
    : `runbook commands on (allow ${settings.allow.join(", ")}${asRoot})`;
}
