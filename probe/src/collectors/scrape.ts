import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { gunzipSync } from "node:zlib";
import type { CustomSample } from "@vigil/contract";
import {
  ExpositionError,
  type ExpositionFamily,
  type ExpositionType,
  isOpenMetricsContentType,
  parseExposition,
  storedKind,
} from "@vigil/contract/exposition";
import { CUSTOM_METRIC_LIMITS, TIME_BOUNDS } from "../limits.ts";
import { describeError, type NoteSink } from "../notes.ts";
import { patternMatcher, type ScrapeTarget, shownUrl } from "../scrape-targets.ts";
import { PROBE_VERSION } from "../version.ts";

/**
 * Cap on a scrape's body, after decompression. The probe runs with a 64 MB heap (the unit's NODE_OPTIONS) and
 * the page is held as text and then as parsed samples, several times its size; 8 MB is over 100 times a
 * node_exporter page, and more text than that holds far more series than `maxSeries` (at most 5,000) keeps.
 */
export const MAX_SCRAPE_BYTES = 8 * 1024 * 1024;

/** What Prometheus sends: OpenMetrics preferred, the classic text format accepted. */
const ACCEPT = "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4";

/** Families whose `<name>_created` sample is a creation time (OpenMetrics), not a reading worth a series. */
const HAS_CREATED = new Set<ExpositionType>(["counter", "histogram", "summary", "gaugehistogram"]);

export interface ScrapeOutcome {
  /** the kept samples, then `up`, `scrape_duration_seconds` and `scrape_samples_scraped` */
  samples: CustomSample[];
  up: boolean;
  durationSec: number;
  /** samples the page exposed, before filters and caps */
  scraped: number;
}

class ScrapeFailure extends Error {}

function failureReason(error: unknown): string {
  if (error instanceof ScrapeFailure) return error.message;
  const code = (error as { code?: string }).code;
  if (code === "ECONNREFUSED") return "connection refused (ECONNREFUSED)";
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return `host not found (${code})`;
  if (code === "ECONNRESET") return "connection reset (ECONNRESET)";
  return describeError(error);
}

/**
 * Kept-alive connections to the targets, one set per daemon (ScrapeScheduler): reusing the connection saved
 * about a fifth of a scrape's CPU in a measurement (a 2,000-series page, 127.0.0.1). Idle sockets do not
 * keep the process alive (node unrefs them); `destroy()` closes them on shutdown.
 */
export interface ScrapeAgents {
  http: HttpAgent;
  https: HttpsAgent;
}

export function keepAliveAgents(): ScrapeAgents {
  return { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };
}

/**
 * One GET with node:http(s), as the batch sender does: undici's fetch costs several times the CPU for a
 * small body, and scrapes repeat every interval. The whole exchange, body included, ends when `signal`
 * fires. A kept-alive socket the target closed while idle fails at once with ECONNRESET: that request is
 * made again once on a new connection (as Go's client does), or it would be a false `up 0`.
 */
function fetchPage(
  target: ScrapeTarget,
  signal: AbortSignal,
  agents: ScrapeAgents | undefined,
): Promise<{ text: string; contentType?: string }> {
  const url = new URL(target.url);
  const secure = url.protocol === "https:";
  const send = secure ? httpsRequest : httpRequest;
  const agent = agents ? (secure ? agents.https : agents.http) : false;
  return new Promise((resolve, reject) => {
    let settled = false;
    let retried = false;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      reject(signal.aborted ? signal.reason : error);
    };
    const start = (): void => {
      const req = send(
        url,
        {
          method: "GET",
          agent,
          signal,
          headers: {
            Accept: ACCEPT,
            "Accept-Encoding": "gzip",
            "User-Agent": `vigil-probe/${PROBE_VERSION}`,
            ...target.headers,
          },
        },
        (res) => {
          const status = res.statusCode ?? 0;
          if (status >= 300) {
            const location = res.headers.location;
            fail(
              new ScrapeFailure(
                status < 400 && location
                  ? `HTTP ${status} redirect to ${location} (set the url to where it points)`
                  : `HTTP ${status}`,
              ),
            );
            req.destroy();
            return;
          }
          const gzipped = /^\s*(x-)?gzip\s*$/i.test(String(res.headers["content-encoding"] ?? ""));
          const chunks: Buffer[] = [];
          let size = 0;
          res.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_SCRAPE_BYTES) {
              fail(new ScrapeFailure(`answer larger than ${MAX_SCRAPE_BYTES / 1_048_576} MB`));
              req.destroy();
            } else chunks.push(chunk);
          });
          res.on("error", fail);
          res.on("close", () => {
            if (!res.complete) fail(new ScrapeFailure("connection closed before the answer was complete"));
          });
          res.on("end", () => {
            if (settled) return;
            let body = Buffer.concat(chunks);
            try {
              // One synchronous inflate of a small buffer is cheaper than a zlib stream; capped like the plain body.
              if (gzipped) body = gunzipSync(body, { maxOutputLength: MAX_SCRAPE_BYTES });
            } catch (error) {
              const code = (error as { code?: string }).code;
              return fail(
                new ScrapeFailure(
                  code === "ERR_BUFFER_TOO_LARGE"
                    ? `answer larger than ${MAX_SCRAPE_BYTES / 1_048_576} MB once inflated`
                    : `gzip body unreadable: ${describeError(error)}`,
                ),
              );
            }
            settled = true;
            const contentType = res.headers["content-type"];
            resolve(
              contentType ? { text: body.toString("utf8"), contentType } : { text: body.toString("utf8") },
            );
          });
        },
      );
      req.on("error", (error: Error & { code?: string }) => {
        if (req.reusedSocket && error.code === "ECONNRESET" && !retried && !settled && !signal.aborted) {
          retried = true;
          start();
        } else fail(error);
      });
      req.end();
    };
    start();
  });
}

/** Counts of what one pass left out, for the notes. */
interface Tally {
  scraped: number;
  filtered: number;
  overCap: number;
  nonFinite: number;
  outOfBounds: number;
  badTime: number;
  created: number;
  cutValues: number;
}

/**
 * Turns parsed families into contract samples in one pass, reusing each parsed sample's label object.
 * 1. Skip `_created` samples, then what allow/deny leaves out (matched on the family's or the sample's name).
 * 2. Keep the first `maxSeries` series in the page's order; a NaN/±Inf series holds its place though it is
 *    not sent (JSON cannot carry it), so the kept set does not shift when a value turns NaN.
 * 3. Drop what the contract refuses (long names, too many labels, times outside 2000-2200); cut long label
 *    values. The parser admits only the classic name syntax, which is the contract's: lengths remain.
 * 4. Add `job=<target>`; an exposed `job` moves to `exported_job`, as Prometheus does with honor_labels off.
 */
export function toCustomSamples(
  families: ExpositionFamily[],
  target: ScrapeTarget,
  now: number,
  tally: Tally,
  out: CustomSample[] = [],
): CustomSample[] {
  const allow = patternMatcher(target.allow);
  const deny = patternMatcher(target.deny);
  const job = target.name;
  let series = 0;
  for (const family of families) {
    const kind = storedKind(family.type);
    const created = HAS_CREATED.has(family.type) ? `${family.name}_created` : undefined;
    const familyAllowed = !allow || allow.test(family.name);
    const familyDenied = deny?.test(family.name) ?? false;
    let lastName = "";
    let lastKept = false;
    let lastNameFits = false;
    for (const sample of family.samples) {
      tally.scraped++;
      const name = sample.name;
      if (name !== lastName) {
        lastName = name;
        lastKept =
          name !== created &&
          !familyDenied &&
          !(name !== family.name && deny?.test(name)) &&
          (familyAllowed || (name !== family.name && allow?.test(name) === true));
        lastNameFits = name.length <= CUSTOM_METRIC_LIMITS.name;
      }
      if (!lastKept) {
        if (name === created) tally.created++;
        else tally.filtered++;
        continue;
      }
      if (series >= target.maxSeries) {
        tally.overCap++;
        continue;
      }
      series++;
      const value = sample.value;
      if (!Number.isFinite(value)) {
        tally.nonFinite++;
        continue;
      }
      let ts = now;
      if (sample.timestampMs !== undefined) {
        ts = Math.round(sample.timestampMs);
        if (!(ts >= TIME_BOUNDS.minMs && ts <= TIME_BOUNDS.maxMs)) {
          tally.badTime++;
          continue;
        }
      }
      const labels = sample.labels;
      let count = 1; // job
      let fits = lastNameFits;
      for (const key in labels) {
        count++;
        if (key.length > CUSTOM_METRIC_LIMITS.labelName) fits = false;
        const text = labels[key] as string;
        if (text.length > CUSTOM_METRIC_LIMITS.labelValue) {
          labels[key] = text.slice(0, CUSTOM_METRIC_LIMITS.labelValue);
          tally.cutValues++;
        }
      }
      if (!fits || count > CUSTOM_METRIC_LIMITS.labels) {
        tally.outOfBounds++;
        continue;
      }
      const exposedJob = labels.job;
      if (exposedJob !== undefined) {
        let key = "exported_job";
        while (key in labels) key = `exported_${key}`;
        labels[key] = exposedJob;
      }
      labels.job = job;
      out.push({ ts, name, labels, value, kind });
    }
  }
  return out;
}

function noteDrops(notes: NoteSink, target: ScrapeTarget, tally: Tally): void {
  const about = `${target.name}:`;
  if (tally.overCap > 0)
    notes.add(
      "scrape",
      `${about} series beyond maxSeries ${target.maxSeries} left out (the first ${target.maxSeries} in the page's order are kept)`,
      tally.overCap,
    );
  if (tally.nonFinite > 0)
    notes.add(
      "scrape",
      `${about} samples with NaN or ±Inf values left out (JSON cannot carry them)`,
      tally.nonFinite,
    );
  if (tally.outOfBounds > 0)
    notes.add(
      "scrape",
      `${about} samples left out for a name or labels the server refuses (names up to ${CUSTOM_METRIC_LIMITS.name} characters, at most ${CUSTOM_METRIC_LIMITS.labels} labels with job, label names up to ${CUSTOM_METRIC_LIMITS.labelName})`,
      tally.outOfBounds,
    );
  if (tally.badTime > 0)
    notes.add(
      "scrape",
      `${about} samples with a timestamp outside the years 2000-2200 left out`,
      tally.badTime,
    );
  if (tally.cutValues > 0)
    notes.add(
      "scrape",
      `${about} label values longer than ${CUSTOM_METRIC_LIMITS.labelValue} characters cut to that length`,
    );
}

/**
 * Scrapes one target once.
 * 1. GET the page within the target's timeout (gzip accepted, at most MAX_SCRAPE_BYTES).
 * 2. Parse it, as OpenMetrics when the Content-Type says so; the first malformed line fails the scrape.
 * 3. Build the samples (toCustomSamples) and note what was left out, naming the target.
 * 4. Append `up` (1, or 0 with a note giving the reason), `scrape_duration_seconds` and
 *    `scrape_samples_scraped`, as Prometheus does: the server alerts on `up` when an endpoint stops answering.
 */
export async function scrapeTarget(
  target: ScrapeTarget,
  now: number,
  notes: NoteSink,
  options: { stop?: AbortSignal; agents?: ScrapeAgents } = {},
): Promise<ScrapeOutcome> {
  const { stop, agents } = options;
  const started = performance.now();
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new ScrapeFailure(`no answer within ${target.timeoutMs / 1000} s`)),
    target.timeoutMs,
  );
  const onStop = () => controller.abort(new ScrapeFailure("stopped"));
  stop?.addEventListener("abort", onStop, { once: true });
  const tally: Tally = {
    scraped: 0,
    filtered: 0,
    overCap: 0,
    nonFinite: 0,
    outOfBounds: 0,
    badTime: 0,
    created: 0,
    cutValues: 0,
  };
  const samples: CustomSample[] = [];
  let up = false;
  try {
    const page = await fetchPage(target, controller.signal, agents);
    // As Prometheus, the Content-Type says OpenMetrics; otherwise the text decides (a final `# EOF` line), so
    // an OpenMetrics page served as text/plain keeps its counters' and histograms' types.
    const families = parseExposition(
      page.text,
      isOpenMetricsContentType(page.contentType) ? { openMetrics: true } : undefined,
    );
    toCustomSamples(families, target, now, tally, samples);
    up = true;
  } catch (error) {
    const where = shownUrl(target.url);
    const reason =
      // The parser's message starts with the line: "line 12: invalid value …".
      error instanceof ExpositionError ? error.message : failureReason(error);
    notes.add("scrape", `${target.name}: scrape of ${where} failed: ${reason}`);
  } finally {
    clearTimeout(timer);
    stop?.removeEventListener("abort", onStop);
  }
  if (up) noteDrops(notes, target, tally);
  const durationSec = (performance.now() - started) / 1000;
  const labels = () => ({ job: target.name });
  samples.push(
    { ts: now, name: "up", labels: labels(), value: up ? 1 : 0, kind: "gauge" },
    { ts: now, name: "scrape_duration_seconds", labels: labels(), value: durationSec, kind: "gauge" },
    { ts: now, name: "scrape_samples_scraped", labels: labels(), value: tally.scraped, kind: "gauge" },
  );
  return { samples, up, durationSec, scraped: tally.scraped };
}
