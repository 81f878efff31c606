import { CUSTOM_METRIC_LIMITS } from "@vigil/contract/limits";
import type { Flags, ProbeConfig } from "./config.ts";

/** A Prometheus / OpenMetrics endpoint as the operator writes it in probe.json (`scrape: [...]`). */
export interface ScrapeTargetConfig {
  /** becomes the `job` label of every series; lower-case letters, digits, `_` and `-` */
  name: string;
  url: string;
  /** default: the probe's collection interval (the server's, once it has answered) */
  intervalSec?: number;
  timeoutSec?: number;
  maxSeries?: number;
  /** metric-name patterns with `*`; when given, only matching metrics are kept */
  allow?: string[];
  /** metric-name patterns with `*`; a match is left out even if `allow` matches too */
  deny?: string[];
  /** sent with every scrape, e.g. `{"Authorization": "Bearer …"}` */
  headers?: Record<string, string>;
}

/** A checked target with its defaults filled in. */
export interface ScrapeTarget {
  name: string;
  url: string;
  /** undefined: follow the probe's collection interval */
  intervalMs?: number;
  timeoutMs: number;
  maxSeries: number;
  allow: string[];
  deny: string[];
  headers: Record<string, string>;
}

export const DEFAULT_SCRAPE_TIMEOUT_SEC = 5;
export const DEFAULT_MAX_SERIES = 2_000;

const KNOWN_KEYS = new Set([
  "name",
  "url",
  "intervalSec",
  "timeoutSec",
  "maxSeries",
  "allow",
  "deny",
  "headers",
]);
const TARGET_NAME = /^[a-z0-9_-]{1,64}$/;
const NAME_PATTERN = /^[a-zA-Z0-9_:*]+$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Only `name=http…` starts the next entry, so a comma inside a URL's query survives.
const ENTRY_SEPARATOR = /,(?=\s*[a-z0-9_-]+=https?:)/;

export class ScrapeConfigError extends Error {}

/** `NAME=URL`, as `--scrape` and VIGIL_SCRAPE take it. */
export function parseScrapeSpec(spec: string, source: string): ScrapeTargetConfig {
  const at = spec.indexOf("=");
  if (at <= 0) throw new ScrapeConfigError(`${source} expects NAME=URL, got "${spec}"`);
  return { name: spec.slice(0, at).trim(), url: spec.slice(at + 1).trim() };
}

function fail(name: unknown, message: string): never {
  throw new ScrapeConfigError(`scrape target ${JSON.stringify(name)}: ${message}`);
}

function seconds(name: string, key: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0 || value > 3600)
    fail(name, `${key} must be a number of seconds between 0 and 3600`);
  return value;
}

function patterns(name: string, key: string, value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((p) => typeof p === "string" && NAME_PATTERN.test(p)))
    fail(name, `${key} must be a list of metric names, * matching any run of characters`);
  return value as string[];
}

/** Checks one target as written and fills in its defaults; the message names the target and the setting. */
export function checkScrapeTarget(raw: unknown): ScrapeTarget {
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) fail(raw, "must be an object with name and url");
  const given = raw as Record<string, unknown>;
  const name = given.name;
  if (typeof name !== "string" || !TARGET_NAME.test(name))
    fail(name, "name must be 1-64 lower-case letters, digits, _ or - (it becomes the job label)");
  // A typo (`timeout`) must not pass silently as the default, as with the command-line flags.
  for (const key of Object.keys(given))
    if (!KNOWN_KEYS.has(key)) fail(name, `unknown setting "${key}" (known: ${[...KNOWN_KEYS].join(", ")})`);
  let url: URL;
  try {
    url = new URL(String(given.url ?? ""));
  } catch {
    fail(name, `url ${JSON.stringify(given.url ?? "")} is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") fail(name, "url must be http:// or https://");
  const intervalSec = seconds(name, "intervalSec", given.intervalSec);
  if (intervalSec !== undefined && intervalSec < 1) fail(name, "intervalSec must be at least 1");
  const timeoutSec = seconds(name, "timeoutSec", given.timeoutSec) ?? DEFAULT_SCRAPE_TIMEOUT_SEC;
  // As Prometheus: a scrape that may outlast its interval would overlap the next one.
  if (intervalSec !== undefined && timeoutSec > intervalSec)
    fail(name, `timeoutSec (${timeoutSec}) must not exceed intervalSec (${intervalSec})`);
  const maxSeries = given.maxSeries ?? DEFAULT_MAX_SERIES;
  if (typeof maxSeries !== "number" || !Number.isInteger(maxSeries) || maxSeries < 1)
    fail(name, "maxSeries must be a whole number of at least 1");
  const headers: Record<string, string> = {};
  if (given.headers !== undefined) {
    if (!given.headers || typeof given.headers !== "object" || Array.isArray(given.headers))
      fail(name, "headers must be an object of header names to values");
    for (const [header, value] of Object.entries(given.headers)) {
      if (!HEADER_NAME.test(header) || typeof value !== "string" || /[\r\n]/.test(value))
        fail(name, `header ${JSON.stringify(header)} must be a header name with a one-line text value`);
      headers[header] = value;
    }
  }
  // Credentials in the URL become a Basic header: node's HTTP client would not send them otherwise.
  if (
    (url.username || url.password) &&
    !Object.keys(headers).some((h) => h.toLowerCase() === "authorization")
  ) {
    const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    headers.Authorization = `Basic ${Buffer.from(credentials).toString("base64")}`;
  }
  url.username = "";
  url.password = "";
  const target: ScrapeTarget = {
    name,
    url: url.href,
    timeoutMs: timeoutSec * 1000,
    // The server keeps at most this many series per host; more from one target could never all be stored.
    maxSeries: Math.min(maxSeries, CUSTOM_METRIC_LIMITS.seriesPerHost),
    allow: patterns(name, "allow", given.allow),
    deny: patterns(name, "deny", given.deny),
    headers,
  };
  if (intervalSec !== undefined) target.intervalMs = intervalSec * 1000;
  return target;
}

function flagValues(flags: Flags, name: string): string[] {
  const value = flags[name];
  if (typeof value === "string") return [value];
  return Array.isArray(value) ? value : [];
}

/**
 * The scrape targets, from (rising precedence) the config file's `scrape`, VIGIL_SCRAPE
 * ("app=http://127.0.0.1:3000/metrics,db=…") and repeated `--scrape NAME=URL` flags; a later target with
 * the same name replaces an earlier one whole. Throws ScrapeConfigError naming the target and the setting.
 * Apart from loadConfig, so that `exec` and `backup` still run the job when a target is misconfigured.
 */
export function loadScrapeTargets(
  config: Pick<ProbeConfig, "scrape">,
  flags: Flags,
  env: NodeJS.ProcessEnv,
): ScrapeTarget[] {
  const file = config.scrape ?? [];
  if (!Array.isArray(file))
    throw new ScrapeConfigError("scrape in the config file must be a list of targets");
  const byName = new Map<string, ScrapeTarget>();
  for (const raw of file) {
    const target = checkScrapeTarget(raw);
    if (byName.has(target.name)) fail(target.name, "named twice in the config file");
    byName.set(target.name, target);
  }
  const fromEnv = (env.VIGIL_SCRAPE ?? "")
    .split(ENTRY_SEPARATOR)
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => parseScrapeSpec(entry, "VIGIL_SCRAPE"));
  const fromFlags = flagValues(flags, "scrape").map((spec) => parseScrapeSpec(spec, "--scrape"));
  for (const raw of [...fromEnv, ...fromFlags]) {
    const target = checkScrapeTarget(raw);
    byName.set(target.name, target);
  }
  return [...byName.values()];
}

/** One regular expression for a list of `*` patterns; undefined for an empty list. */
export function patternMatcher(list: string[]): RegExp | undefined {
  if (list.length === 0) return undefined;
  // Metric names hold only [a-zA-Z0-9_:], none of them special in a regular expression.
  return new RegExp(`^(?:${list.map((p) => p.replaceAll("*", ".*")).join("|")})$`);
}

/** The URL as notes and output may show it: no credentials, no query (tokens travel there too). */
export function shownUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}
