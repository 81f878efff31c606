import { hostname as osHostname } from "node:os";
import type { LocationCheckKind } from "@vigil/contract";
import type { Flags, ProbeConfig } from "../config.ts";
import { readTextIfPresent } from "../platform/files.ts";
import { TargetRuleError, TargetRules } from "./target-rules.ts";

/** probe.json `checks`: whether and as what this probe runs checks for the server as a location. */
export interface LocationChecksConfig {
  /** default true */
  enabled?: boolean;
  /** default: the host name, lower-cased, characters outside [a-z0-9._-] replaced by '-' */
  location?: string;
  /** host-name globs, IP addresses or CIDR ranges; when given, a target must match one */
  allow?: string[];
  /** host-name globs, IP addresses or CIDR ranges; a match is refused even if allow matches too */
  deny?: string[];
}

export type LocationSettings =
  | { enabled: false; why: string }
  | { enabled: true; name: string; rules: TargetRules; nameFrom: "config" | "host name" };

export class LocationConfigError extends Error {}

/** The contract's locationNameSchema (kept here as plain rules: the probe bundles no zod). */
const LOCATION_NAME = /^[a-z0-9][a-z0-9._-]*$/;
const MAX_NAME_LENGTH = 63;
/** The name of the API's own runtime; a probe may not pose as it. */
const EDGE_LOCATION = "edge";
const KNOWN_KEYS = new Set(["enabled", "location", "allow", "deny"]);

/** Why `name` cannot name a location, or undefined when it can. */
export function badLocationName(name: string): string | undefined {
  if (name.length === 0 || name.length > MAX_NAME_LENGTH) return `must be 1-${MAX_NAME_LENGTH} characters`;
  if (!LOCATION_NAME.test(name))
    return "must be lower-case letters, digits, '.', '_' and '-', starting with a letter or digit";
  if (name === EDGE_LOCATION) return `"${EDGE_LOCATION}" is the server's own location`;
  return undefined;
}

/** A host name made into a location name: lower case, anything else than [a-z0-9._-] becomes '-'. */
export function locationNameFromHost(host: string): string {
  return host
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9._-]/g, "-")
    .replace(/^[._-]+/, "")
    .slice(0, MAX_NAME_LENGTH);
}

function switchValue(value: string, source: string): boolean {
  const lower = value.trim().toLowerCase();
  if (["0", "false", "no", "off"].includes(lower)) return false;
  if (["1", "true", "yes", "on"].includes(lower)) return true;
  throw new LocationConfigError(`${source} must be 0 or 1, got "${value}"`);
}

/** The host name as the facts report it: the kernel's under the root dir, else the OS's. */
async function hostName(rootDir: string): Promise<string> {
  try {
    const text = await readTextIfPresent(rootDir, "/proc/sys/kernel/hostname");
    const line = text?.split("\n")[0]?.trim();
    if (line) return line;
  } catch {
    // fall back to the OS's
  }
  return osHostname();
}

/**
 * Whether this probe runs checks as a location, under which name and with which rules. Rising precedence:
 * probe.json `checks`, the environment (VIGIL_CHECKS=0, VIGIL_LOCATION), the flags (--no-checks,
 * --location). Throws LocationConfigError for a bad name or rule, so the start stops with a message naming
 * the setting. A host name that makes no valid name (e.g. "edge") turns checks off, with the reason: the
 * host's own monitoring must not stop over it.
 */
export async function loadLocationSettings(
  config: Pick<ProbeConfig, "checks" | "rootDir">,
  flags: Flags,
  env: NodeJS.ProcessEnv,
): Promise<LocationSettings> {
  const file = config.checks ?? {};
  if (typeof file !== "object" || file === null || Array.isArray(file))
    throw new LocationConfigError("checks in the config file must be an object");
  for (const key of Object.keys(file))
    if (!KNOWN_KEYS.has(key))
      throw new LocationConfigError(
        `checks: unknown setting "${key}" (known: ${[...KNOWN_KEYS].join(", ")})`,
      );
  if (file.enabled !== undefined && typeof file.enabled !== "boolean")
    throw new LocationConfigError("checks.enabled must be true or false");

  let enabled = file.enabled ?? true;
  let why = "probe.json checks.enabled is false";
  if (env.VIGIL_CHECKS !== undefined && env.VIGIL_CHECKS !== "") {
    enabled = switchValue(env.VIGIL_CHECKS, "VIGIL_CHECKS");
    why = "VIGIL_CHECKS=0";
  }
  if (flags["no-checks"] === true) {
    enabled = false;
    why = "--no-checks";
  }

  let rules: TargetRules;
  try {
    rules = new TargetRules(file.allow, file.deny);
  } catch (error) {
    if (error instanceof TargetRuleError) throw new LocationConfigError(error.message);
    throw error;
  }

  const flagName = typeof flags.location === "string" ? flags.location : undefined;
  const configured = flagName ?? (env.VIGIL_LOCATION || undefined) ?? file.location;
  const source =
    flagName !== undefined ? "--location" : env.VIGIL_LOCATION ? "VIGIL_LOCATION" : "checks.location";
  if (configured !== undefined) {
    if (typeof configured !== "string") throw new LocationConfigError(`${source} must be a text`);
    const problem = badLocationName(configured);
    if (problem) throw new LocationConfigError(`${source} "${configured}": a location name ${problem}`);
  }
  if (!enabled) return { enabled: false, why };
  if (configured !== undefined) return { enabled: true, name: configured, rules, nameFrom: "config" };

  const host = await hostName(config.rootDir);
  const derived = locationNameFromHost(host);
  const problem = badLocationName(derived);
  if (problem)
    return {
      enabled: false,
      why: `the host name "${host}" makes no location name (${problem}); set one with --location or checks.location`,
    };
  return { enabled: true, name: derived, rules, nameFrom: "host name" };
}

/** The check kinds this probe runs: icmp only where a usable `ping` was found. */
export function locationKinds(pingUsable: boolean): LocationCheckKind[] {
  return pingUsable ? ["http", "tcp", "tls", "dns", "icmp"] : ["http", "tcp", "tls", "dns"];
}
