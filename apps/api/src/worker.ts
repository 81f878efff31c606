/**
 * Cloudflare Workers entry. Builds deps per invocation from the bindings (no module-scope clients: a
 * Worker isolate is reused across requests, and a client created at import time would outlive its env).
 */
import { createDb } from "@vigil/db";
import { systemClock } from "@vigil/engine";
import { httpMailer } from "@vigil/notify";
import { createApp, defaultConfig } from "./app.ts";
import type { AppDeps } from "./deps.ts";
import { runScheduledJobs, scheduledJobs } from "./scheduler.ts";
import { workerProbes } from "./worker-probes.ts";

export interface Env {
  LIBSQL_URL: string;
  LIBSQL_AUTH_TOKEN?: string;
  VIGIL_VERSION?: string;
  /** ms over which each minute's HTTP/TCP runs are spread; default 45000 */
  VIGIL_CHECK_SPREAD_MS?: string;
  /** seals webhook signing secrets (a Worker secret: `wrangler secret put VIGIL_SECRET_KEY`) */
  VIGIL_SECRET_KEY?: string;
  /** alert email through an HTTP email API (Workers have no SMTP client here) */
  VIGIL_EMAIL_API_URL?: string;
  VIGIL_EMAIL_API_KEY?: string;
  VIGIL_MAIL_FROM?: string;
  VIGIL_PUBLIC_URL?: string;
}

const DEFAULT_SPREAD_MS = 45_000;

function depsFor(env: Env): AppDeps {
  return {
    db: createDb({ url: env.LIBSQL_URL, authToken: env.LIBSQL_AUTH_TOKEN }),
    clock: systemClock,
    config: {
      ...defaultConfig,
      version: env.VIGIL_VERSION ?? defaultConfig.version,
      checkSpreadMs: env.VIGIL_CHECK_SPREAD_MS ? Number(env.VIGIL_CHECK_SPREAD_MS) : DEFAULT_SPREAD_MS,
      ...(env.VIGIL_SECRET_KEY ? { secretKey: env.VIGIL_SECRET_KEY } : {}),
      ...(env.VIGIL_PUBLIC_URL ? { publicUrl: env.VIGIL_PUBLIC_URL.replace(/\/+$/, "") } : {}),
    },
    probes: workerProbes,
    ...(env.VIGIL_EMAIL_API_URL && env.VIGIL_EMAIL_API_KEY
      ? {
          mailer: httpMailer({
            url: env.VIGIL_EMAIL_API_URL,
            key: env.VIGIL_EMAIL_API_KEY,
            from: env.VIGIL_MAIL_FROM ?? "Vigil <vigil@localhost>",
          }),
        }
      : {}),
  };
}

export default {
  async fetch(request, env, _ctx) {
    return createApp(depsFor(env)).fetch(request);
  },
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(runScheduledJobs(depsFor(env), scheduledJobs));
  },
} satisfies ExportedHandler<Env>;
