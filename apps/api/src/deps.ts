import type { Db } from "@vigil/db";
import type { Clock, ProbeRunner, SignUpMode } from "@vigil/engine";
import type { Mailer } from "@vigil/notify";
import type { IngestQueue } from "./ingest-queue.ts";
import { defaultLimits, type Limits } from "./limits.ts";
import type { Gunzip } from "./platform/gunzip.ts";
import { createRuntime, type Runtime } from "./self/runtime.ts";

/** Everything the app needs from the outside world; each entry (Node, Worker, tests) builds its own. */
export interface AppDeps {
  db: Db;
  clock: Clock;
  config: AppConfig;
  /** how active checks reach their targets (Node: fetch, net, tls, dns; Workers: fetch, sockets) */
  probes?: ProbeRunner;
  /** inflates gzip bodies within a size limit; DecompressionStream when absent */
  gunzip?: Gunzip;
  /** the probe installer and bundle this server hands out; absent where they were not built */
  probeAssets?: ProbeAssets;
  /** sends alert email (SMTP on Node, an HTTP email API anywhere); email channels fail without one */
  mailer?: Mailer;
  /** how webhooks and chat notices leave; the global fetch when absent */
  fetch?: typeof fetch;
  /** rendered status pages (Node: in-process; Workers: the Cache API); absent: every request renders */
  statusCache?: StatusCache;
  /**
   * Who sent a request (recorded with pings): CF-Connecting-IP on Workers, the socket on Node (see
   * `nodeClientAddress`); absent: the socket's peer where there is one.
   */
  clientAddress?: ClientAddress;
  /** the dashboard's built files (apps/web/dist); absent: the server answers API paths only */
  webAssets?: WebAssets;
  /**
   * Where probe batches wait to be stored in groups (Workers: the INGEST_QUEUE binding). Present: the batch
   * endpoint answers 202 once a batch is queued (batches too large for a message are written directly);
   * absent: every batch is written before the answer.
   */
  ingestQueue?: IngestQueue;
  /**
   * What this process or isolate keeps between requests (engine caches and committers, rate limits,
   * self-metrics). Each entry makes one and passes it in; absent (tests), `withRuntime` makes a fresh one.
   */
  runtime?: Runtime;
}

/** Deps as the app and the scheduler use them: with the runtime state in place. */
export type LiveDeps = AppDeps & { runtime: Runtime };

export function withRuntime(deps: AppDeps): LiveDeps {
  return deps.runtime ? (deps as LiveDeps) : { ...deps, runtime: createRuntime(deps.clock.now()) };
}

/**
 * The dashboard, a single-page app: a file for its path, or index.html for any client-side route
 * (Node: read from disk; Workers: the ASSETS binding with single-page-application fallback).
 */
export interface WebAssets {
  fetch(request: Request): Promise<Response>;
}

/** The caller's address from the request and the runtime's bindings, or null when unknown. */
export type ClientAddress = (request: Request, env: unknown) => string | null;

/** A rendered status page, feed, badge or JSON body. */
export interface CachedRender {
  body: string;
  contentType: string;
}

/**
 * Short-lived storage of status page renders. Keys carry the page's version (page edits, the newest flip),
 * so a state change makes the old entries unreachable at once; the TTL bounds what time alone changes
 * (maintenance starting, a host going quiet).
 */
export interface StatusCache {
  get(key: string): Promise<CachedRender | null>;
  put(key: string, render: CachedRender): Promise<void>;
}

export type ProbeAssetName = "install.sh" | "vigil-probe.mjs";

export interface ProbeAssets {
  /** the file's text, or null when it is not there */
  read(name: ProbeAssetName): Promise<string | null>;
  /** the standalone probe executable for a CPU architecture ("x64", "arm64"), streamed; null when not built */
  executable?(arch: string): Promise<{ body: ReadableStream<Uint8Array>; size: number } | null>;
}

export interface AppConfig {
  /** reported by /healthz */
  version: string;
  /** the URL probes and browsers reach this server at, when it differs from what requests show (a proxy) */
  publicUrl?: string;
  /** largest request body under /api/ as sent (compressed for probe batches), in bytes */
  maxJsonBodyBytes: number;
  /** largest probe batch once inflated, in bytes: a gzip bomb stops here */
  maxBatchInflatedBytes: number;
  /** how often a live log tail looks for new entries */
  tailPollMs: number;
  /** how long one live tail stream lasts before the client reconnects (EventSource does so itself) */
  tailMaxMs: number;
  /** let active checks reach private, loopback and link-local addresses (self-hosted only) */
  allowPrivateTargets: boolean;
  /**
   * Spread active check runs over this many ms of each tick. The Worker's cron fires once a minute, so it
   * spreads them over most of the minute; the Node timer ticks every few seconds and needs none.
   */
  checkSpreadMs?: number;
  /** seals webhook signing secrets in the database (VIGIL_SECRET_KEY); signed webhooks need it */
  secretKey?: string;
  /** how long a rendered status page may be served from cache (and what browsers and CDNs may keep) */
  statusCacheTtlMs: number;
  /** who may create an account: anyone (open), invited emails (invite), nobody but the setup link (closed) */
  signUpMode: SignUpMode;
  /**
   * The origin account emails link to and signed-in writes must come from, when VIGIL_PUBLIC_URL is unset:
   * the Node server sets its listen URL, so a forged Host header never reaches a password-reset link.
   */
  siteUrl?: string;
  /** other origins whose pages may call with a session cookie (e.g. a dashboard dev server) */
  trustedOrigins?: string[];
  /** rate limits and per-project caps (limits.ts: defaults and environment variables) */
  limits: Limits;
  /** readiness thresholds, the dead-man switch and who may read the self-metrics */
  selfWatch: SelfWatchConfig;
}

export interface SelfWatchConfig {
  /** VIGIL_HEARTBEAT_URL: fetched (GET) after a healthy tick, at most once per `heartbeatEveryMs` */
  heartbeatUrl?: string;
  heartbeatEveryMs: number;
  heartbeatTimeoutMs: number;
  /** VIGIL_METRICS_TOKEN: the bearer token that reads the self-metrics on /metrics; unset: nobody can */
  metricsToken?: string;
  /** /readyz answers 503 past any of these */
  maxTickLagMs: number;
  maxOutboxDelayMs: number;
  maxDbLatencyMs: number;
  maxSpoolAgeMs: number;
  /**
   * The scheduler runs in this process (Node), so its lag counts from this process's start at the
   * earliest: a restart after downtime is not unready before its first tick could have run.
   */
  schedulerInProcess: boolean;
}

export const defaultSelfWatch: SelfWatchConfig = {
  heartbeatEveryMs: 60_000,
  heartbeatTimeoutMs: 10_000,
  maxTickLagMs: 3 * 60_000,
  maxOutboxDelayMs: 10 * 60_000,
  maxDbLatencyMs: 1_000,
  maxSpoolAgeMs: 10 * 60_000,
  schedulerInProcess: false,
};

export const defaultConfig: AppConfig = {
  version: "0.1.0",
  maxJsonBodyBytes: 1024 * 1024,
  maxBatchInflatedBytes: 16 * 1024 * 1024,
  tailPollMs: 1000,
  tailMaxMs: 5 * 60_000,
  allowPrivateTargets: false,
  statusCacheTtlMs: 30_000,
  signUpMode: "invite",
  limits: defaultLimits,
  selfWatch: defaultSelfWatch,
};
