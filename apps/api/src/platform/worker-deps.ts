/**
 * What a Worker invocation runs with: the bindings (Env) and the deps built from them per invocation (no
 * module-scope clients: an isolate is reused across requests, and a client made at import time would
 * outlive its env). Shared by the fetch and cron handlers and the check runner (a Durable Object).
 */

import { connect } from "cloudflare:sockets";
import { createDb, WriterGate } from "@vigil/db";
import { systemClock } from "@vigil/engine";
import { type Mailer, socketSmtpMailer } from "@vigil/notify";
import { defaultConfig } from "../app.ts";
import { mailerFor, settingsFromEnvironment } from "../config.ts";
import {
  type AppDeps,
  defaultSelfWatch,
  type ProbeAssets,
  type StatusCache,
  type WebAssets,
} from "../deps.ts";
import type { IngestQueue } from "../ingest-queue.ts";
import { createRuntime, type Runtime } from "../self/runtime.ts";
import { workerProbes } from "../worker-probes.ts";
import type { CheckRunner } from "./check-runner.ts";

export interface Env {
  LIBSQL_URL: string;
  LIBSQL_AUTH_TOKEN?: string;
  VIGIL_VERSION?: string;
  /** ms over which each minute's HTTP/TCP runs are spread when the cron runs them (no CHECK_RUNNER); default 45000 */
  VIGIL_CHECK_SPREAD_MS?: string;
  /** seals webhook signing secrets (a Worker secret: `wrangler secret put VIGIL_SECRET_KEY`) */
  VIGIL_SECRET_KEY?: string;
  /** alert email through an HTTP email API (Workers have no SMTP client here) */
  VIGIL_EMAIL_API_URL?: string;
  VIGIL_EMAIL_API_KEY?: string;
  VIGIL_MAIL_FROM?: string;
  VIGIL_PUBLIC_URL?: string;
  /** SMTP from the Worker over `cloudflare:sockets` (smtp://… STARTTLS, smtps://… TLS) */
  VIGIL_SMTP_URL?: string;
  /** "1" lets webhooks and checks reach private addresses (local development and tests only) */
  VIGIL_ALLOW_PRIVATE_TARGETS?: string;
  /** who may create an account: open, invite (default) or closed (only the setup link) */
  VIGIL_SIGNUP?: string;
  /** comma-separated origins whose pages may call with a session cookie */
  VIGIL_TRUSTED_ORIGINS?: string;
  /** the dashboard, the probe's installer and bundle (wrangler.toml [assets]) */
  ASSETS?: Fetcher;
  /** dead-man switch: fetched after a healthy cron tick, at most once a minute */
  VIGIL_HEARTBEAT_URL?: string;
  /** bearer token for the self-metrics on /metrics (a Worker secret); unset: nobody reads them */
  VIGIL_METRICS_TOKEN?: string;
  /**
   * the check runner (wrangler.toml [[durable_objects.bindings]]): its alarm runs HTTP/TCP checks at their
   * period, under a minute too; without it the cron runs them once a minute
   */
  CHECK_RUNNER?: DurableObjectNamespace<CheckRunner>;
  /**
   * "off": the cron runs the checks once a minute although CHECK_RUNNER is bound (a switch back without
   * changing bindings; bench/edge.ts uses it to time a whole tick as the self-hosted server runs one)
   */
  VIGIL_CHECK_RUNNER?: string;
  /**
   * Optional: the queue probe batches wait in (wrangler.toml [env.queued]); with it the batch endpoint
   * answers 202 once a batch is queued, and the Worker's `queue` handler stores them in groups.
   */
  INGEST_QUEUE?: Queue;
  /** rate limits and caps: VIGIL_LIMIT_* and VIGIL_MAX_* (see limits.ts and the README) */
  [limit: `VIGIL_LIMIT_${string}` | `VIGIL_MAX_${string}`]: string | undefined;
}

/** install.sh and the bundle from the Worker's static assets; the standalone executable is not among them. */
function assetsFrom(assets: Fetcher): ProbeAssets {
  return {
    async read(name) {
      const res = await assets.fetch(new Request(`https://assets.invalid/${name}`));
      // The single-page fallback answers a missing file with the dashboard's index.html.
      const html = res.headers.get("content-type")?.startsWith("text/html");
      return res.ok && !html ? res.text() : null;
    },
  };
}

/** SMTP from a Worker: the socket client over `cloudflare:sockets` (nodemailer needs Node's net). */
function socketSmtp(options: { url: string; from: string }): Mailer {
  return socketSmtpMailer({
    ...options,
    connect: (hostname, port, tls) =>
      connect({ hostname, port }, { secureTransport: tls, allowHalfOpen: false }),
  });
}

/** JSON, not the default structured clone: the consumer validates plain data, whatever wrote it. */
function queueProducer(queue: Queue): IngestQueue {
  return {
    send: async (message) => {
      await queue.send(message, { contentType: "json" });
    },
  };
}

const DEFAULT_SPREAD_MS = 45_000;

/**
 * Status page renders in the Cache API of the data centre serving the request. Keys carry the page's
 * version, so after a state change the next request misses and renders afresh; old entries expire.
 */
function edgeStatusCache(ttlMs: number): StatusCache {
  const url = (key: string) => `https://status-cache.vigil.invalid/${encodeURIComponent(key)}`;
  return {
    async get(key) {
      const res = await caches.default.match(url(key));
      if (!res) return null;
      return { body: await res.text(), contentType: res.headers.get("content-type") ?? "text/plain" };
    },
    async put(key, render) {
      const headers = {
        "content-type": render.contentType,
        "cache-control": `max-age=${Math.ceil(ttlMs / 1000)}`,
      };
      await caches.default.put(url(key), new Response(render.body, { headers }));
    },
  };
}

/**
 * What this isolate keeps between the requests and cron runs it serves (DESIGN: the entry owns it): the
 * engine's caches, turn queues and group committers, rate limit windows and self-metrics. One per
 * database URL, since an engine state must not mix two databases (tests point one isolate at several).
 * Limits are those of `createRuntime` and EngineState; counters are per isolate, while rate limit counts
 * meet in the database, and the gauges on /metrics and /readyz are read from it. Caches are shared by
 * the isolate's requests, turns and group commits are not (the runtime forbids waiting across requests).
 * Beside it, the gate that caps the isolate's writes in flight to that database (@vigil/db writers.ts).
 */
const isolateRuntimes = new Map<string, { runtime: Runtime; writers: WriterGate }>();

/** The isolate's runtime and write gate for a database (the gate's size from the first request's settings). */
function isolateRuntime(databaseUrl: string, maxWriters: number) {
  let held = isolateRuntimes.get(databaseUrl);
  if (!held) {
    held = { runtime: createRuntime(Date.now(), "request"), writers: new WriterGate({ max: maxWriters }) };
    isolateRuntimes.set(databaseUrl, held);
  }
  return held;
}

/**
 * The Worker's dependencies from its bindings. `overrides` replaces single parts (the check runner and the
 * behaviour suite inject a clock); everything else stays the Worker's own.
 */
export function workerDeps(env: Env, overrides: Partial<AppDeps> = {}): AppDeps {
  // A Worker has no start to refuse: a setting that does not parse is logged and its default used.
  const { settings, problems } = settingsFromEnvironment(
    env as unknown as Record<string, string | undefined>,
  );
  for (const problem of problems) console.error(`vigil: ${problem}; using the default`);
  const mailer = mailerFor(settings.mail, socketSmtp);
  const { allowPrivateTargets } = settings;
  const { runtime, writers } = isolateRuntime(env.LIBSQL_URL, settings.maxWriters);
  return {
    db: createDb({ url: env.LIBSQL_URL, authToken: env.LIBSQL_AUTH_TOKEN, writers }),
    clock: systemClock,
    config: {
      ...defaultConfig,
      version: env.VIGIL_VERSION ?? defaultConfig.version,
      checkSpreadMs: env.VIGIL_CHECK_SPREAD_MS ? Number(env.VIGIL_CHECK_SPREAD_MS) : DEFAULT_SPREAD_MS,
      ...(settings.secretKey ? { secretKey: settings.secretKey } : {}),
      allowPrivateTargets,
      ...(settings.publicUrl ? { publicUrl: settings.publicUrl } : {}),
      signUpMode: settings.signUpMode,
      limits: settings.limits,
      selfWatch: {
        ...defaultSelfWatch,
        ...(settings.heartbeatUrl ? { heartbeatUrl: settings.heartbeatUrl } : {}),
        ...(settings.metricsToken ? { metricsToken: settings.metricsToken } : {}),
      },
      ...(settings.trustedOrigins.length > 0 ? { trustedOrigins: settings.trustedOrigins } : {}),
    },
    probes: workerProbes(allowPrivateTargets),
    // Cloudflare sets this header itself, replacing whatever a client sent.
    clientAddress: (request) => request.headers.get("cf-connecting-ip"),
    ...(env.ASSETS ? { probeAssets: assetsFrom(env.ASSETS), webAssets: env.ASSETS as WebAssets } : {}),
    ...(mailer ? { mailer } : {}),
    ...(env.INGEST_QUEUE ? { ingestQueue: queueProducer(env.INGEST_QUEUE) } : {}),
    statusCache: edgeStatusCache(defaultConfig.statusCacheTtlMs),
    runtime,
    ...overrides,
  };
}
