import type { EnrollResponse, HostFacts, ProbeBatchResponse, ProbeRemoteConfig } from "@vigil/contract";
import type { Clock } from "./clock.ts";
import { validAssignments } from "./location-checks/assignments.ts";
import { type HttpAnswer, httpPost } from "./platform/http-client.ts";
import { validCommands } from "./runbook-commands/commands.ts";
import { PROBE_VERSION } from "./version.ts";

/** What a send attempt means for the spool; the HTTP details stop here. */
export type SendOutcome =
  | { kind: "accepted"; duplicate: boolean; config?: unknown }
  | { kind: "too-large" }
  | { kind: "throttled"; retryAfterMs?: number }
  | { kind: "unauthorized"; message: string }
  | { kind: "rejected"; status: number; message: string }
  | { kind: "retry"; reason: string };

export interface TransportOptions {
  server: string;
  hostToken: string;
  clock: Clock;
  timeoutMs?: number;
}

export function apiUrl(server: string, path: string): string {
  return `${server.replace(/\/+$/, "")}${path}`;
}

/** Retry-After is either delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value.trim());
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined;
}

/** The error body the API returns for every 4xx/5xx: {"error":{"code","message","requestId"}}. */
function errorMessageOf(status: number, text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: { code?: string; message?: string } };
    if (parsed.error) return `${parsed.error.code ?? status}: ${parsed.error.message ?? ""}`.slice(0, 500);
  } catch {
    // not JSON: a proxy's HTML error page, say
  }
  return `HTTP ${status} ${text.slice(0, 200)}`;
}

async function errorMessage(response: Response): Promise<string> {
  return errorMessageOf(response.status, await response.text().catch(() => ""));
}

function isBatchResponse(value: unknown): value is ProbeBatchResponse {
  const v = value as Partial<ProbeBatchResponse> | null;
  return typeof v?.batchId === "string" && typeof v.accepted === "boolean";
}

/** Posts one spooled (already gzip'd) batch. Never throws: network failures are a `retry` outcome. */
export async function sendBatch(options: TransportOptions, gzippedBody: Buffer): Promise<SendOutcome> {
  let answer: HttpAnswer;
  try {
    answer = await httpPost(
      apiUrl(options.server, "/api/v1/probe/batches"),
      {
        Authorization: `Bearer ${options.hostToken}`,
        "Content-Type": "application/json",
        "Content-Encoding": "gzip",
        "User-Agent": `vigil-probe/${PROBE_VERSION}`,
      },
      gzippedBody,
      options.timeoutMs ?? 30_000,
    );
  } catch (error) {
    const { code, message } = error as { code?: string; message?: string };
    return { kind: "retry", reason: code ?? message ?? "network error" };
  }
  const { status } = answer;
  if (status >= 200 && status < 300) {
    let body: unknown;
    try {
      body = JSON.parse(answer.body);
    } catch {
      body = undefined;
    }
    // A 2xx means the batch is durable on the server even if its body is odd: never resend it. That
    // includes 202 (a Worker with an ingest queue: the batch waits there and is stored exactly once).
    if (isBatchResponse(body)) return { kind: "accepted", duplicate: body.duplicate, config: body.config };
    return { kind: "accepted", duplicate: false };
  }
  if (status === 413) return { kind: "too-large" };
  if (status === 429 || status === 503) {
    const header = answer.headers["retry-after"];
    const retryAfterMs = parseRetryAfter(typeof header === "string" ? header : null, options.clock());
    if (status === 503 && retryAfterMs === undefined) return { kind: "retry", reason: "HTTP 503" };
    return retryAfterMs === undefined ? { kind: "throttled" } : { kind: "throttled", retryAfterMs };
  }
  const message = errorMessageOf(status, answer.body);
  if (status === 401 || status === 403) return { kind: "unauthorized", message };
  if (status >= 400 && status < 500 && status !== 408) return { kind: "rejected", status, message };
  return { kind: "retry", reason: message };
}

export interface EnrollOptions {
  server: string;
  token: string;
  facts: HostFacts;
  forceNew?: boolean;
  /** the token of an earlier enrollment: the server re-enrolls that host instead of refusing a known machine */
  hostToken?: string;
  fetch?: typeof fetch;
}

export class EnrollError extends Error {}

export async function enroll(options: EnrollOptions): Promise<EnrollResponse> {
  const doFetch = options.fetch ?? fetch;
  const body: Record<string, unknown> = { token: options.token, facts: options.facts };
  if (options.forceNew) body.forceNew = true;
  if (options.hostToken) body.hostToken = options.hostToken;
  let response: Response;
  try {
    response = await doFetch(apiUrl(options.server, "/api/v1/probe/enroll"), {
      method: "POST",
      headers: { "Content-Type": "application/json", "User-Agent": `vigil-probe/${PROBE_VERSION}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    throw new EnrollError(`cannot reach ${options.server}: ${cause?.code ?? (error as Error).message}`);
  }
  if (!response.ok) throw new EnrollError(`enrollment refused: ${await errorMessage(response)}`);
  const result = (await response.json()) as Partial<EnrollResponse>;
  if (typeof result.hostId !== "string" || typeof result.hostToken !== "string") {
    throw new EnrollError("enrollment answer lacks hostId/hostToken");
  }
  return result as EnrollResponse;
}

/** Accepts the server's config only if it has the shape we rely on; a bad one is ignored, not fatal. */
export function validRemoteConfig(value: unknown): ProbeRemoteConfig | undefined {
  const config = value as Partial<ProbeRemoteConfig> | null;
  if (
    !config ||
    typeof config.intervalSec !== "number" ||
    config.intervalSec < 5 ||
    config.intervalSec > 3600
  ) {
    return undefined;
  }
  const journal = config.journal;
  if (!journal || typeof journal.minPriority !== "number" || !Array.isArray(journal.units)) return undefined;
  if (!journal.units.every((unit) => typeof unit === "string")) return undefined;
  const valid: ProbeRemoteConfig = {
    intervalSec: Math.round(config.intervalSec),
    journal: { minPriority: journal.minPriority, units: journal.units },
  };
  // Checks to run as a location; an entry this probe cannot read is left out, not the whole config.
  if (config.checks !== undefined) valid.checks = validAssignments(config.checks);
  // Runbook commands likewise; whether this host runs them is the probe's own decision (runner.ts).
  if (config.commands !== undefined) valid.commands = validCommands(config.commands);
  return valid;
}
