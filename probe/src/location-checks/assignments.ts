import type { CheckAssignment, LocationCheckKind } from "@vigil/contract";
import { PROBE_BATCH_LIMITS } from "../limits.ts";

const KINDS: readonly LocationCheckKind[] = ["http", "tcp", "tls", "dns", "icmp"];
const DNS_TYPES = ["A", "AAAA", "CNAME", "MX", "TXT", "NS"] as const;

type Loose = Record<string, unknown>;

const isObject = (value: unknown): value is Loose =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const text = (value: unknown, max: number): value is string =>
  typeof value === "string" && value.length <= max;
const whole = (value: unknown, min: number, max: number): value is number =>
  typeof value === "number" && Number.isInteger(value) && value >= min && value <= max;

function httpSettings(value: unknown): CheckAssignment["http"] | undefined {
  if (!isObject(value) || !text(value.url, 2000) || !text(value.method, 16)) return undefined;
  if (typeof value.followRedirects !== "boolean") return undefined;
  if (!(value.body === null || text(value.body, 65_536))) return undefined;
  if (!(value.keyword === null || text(value.keyword, 200))) return undefined;
  if (!isObject(value.headers)) return undefined;
  const headers: Record<string, string> = {};
  for (const [name, header] of Object.entries(value.headers)) {
    if (name.length > 256 || !text(header, 4096)) return undefined;
    headers[name] = header;
  }
  return {
    url: value.url,
    method: value.method,
    headers,
    body: value.body,
    followRedirects: value.followRedirects,
    keyword: value.keyword,
  };
}

function targetSettings(value: unknown): CheckAssignment["target"] | undefined {
  if (!isObject(value) || !text(value.host, 253) || value.host === "") return undefined;
  if (value.port === undefined) return { host: value.host };
  return whole(value.port, 1, 65_535) ? { host: value.host, port: value.port } : undefined;
}

function dnsSettings(value: unknown): CheckAssignment["dns"] | undefined {
  if (!isObject(value) || !text(value.name, 253) || value.name === "") return undefined;
  const type = DNS_TYPES.find((t) => t === value.type);
  if (!type) return undefined;
  if (value.server === undefined) return { name: value.name, type };
  return text(value.server, 64) ? { name: value.name, type, server: value.server } : undefined;
}

/** One assignment as the contract describes it, or undefined when it is not one this probe can run. */
export function validAssignment(value: unknown): CheckAssignment | undefined {
  if (!isObject(value)) return undefined;
  const { id, rev, kind, intervalSec, timeoutMs } = value;
  if (!text(id, 64) || id === "" || !text(rev, 64)) return undefined;
  const known = KINDS.find((k) => k === kind);
  if (!known || !whole(intervalSec, 10, 86_400) || !whole(timeoutMs, 100, 120_000)) return undefined;
  const assignment: CheckAssignment = { id, rev, kind: known, intervalSec, timeoutMs };
  if (known === "http") {
    const http = httpSettings(value.http);
    if (!http) return undefined;
    assignment.http = http;
  } else if (known === "dns") {
    const dns = dnsSettings(value.dns);
    if (!dns) return undefined;
    assignment.dns = dns;
  } else {
    const target = targetSettings(value.target);
    if (!target || (known === "tcp" && target.port === undefined)) return undefined;
    assignment.target = target;
  }
  return assignment;
}

/**
 * The assignments in a batch answer's (or the saved) config that this probe can run: malformed ones and
 * repeated ids are left out one by one, so one bad entry from a newer server does not stop the others.
 */
export function validAssignments(value: unknown): CheckAssignment[] {
  if (!Array.isArray(value)) return [];
  const byId = new Map<string, CheckAssignment>();
  for (const raw of value.slice(0, PROBE_BATCH_LIMITS.checkAssignments)) {
    const assignment = validAssignment(raw);
    if (assignment && !byId.has(assignment.id)) byId.set(assignment.id, assignment);
  }
  return [...byId.values()];
}
