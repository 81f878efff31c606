/**
 * Cloudflare Workers entry: the fetch, cron and ingest queue handlers, and the check runner (a Durable
 * Object) whose alarm runs HTTP/TCP checks at their period. Deps are built per invocation from the bindings (worker-deps.ts).
 */

import { createApp } from "./app.ts";
import { withRuntime } from "./deps.ts";
import { consumeQueuedBatches } from "./ingest-queue.ts";
import { cronTick } from "./platform/check-runner.ts";
import { type Env, workerDeps } from "./platform/worker-deps.ts";

export { CheckRunner } from "./platform/check-runner.ts";
export type { Env } from "./platform/worker-deps.ts";

export default {
  async fetch(request, env, _ctx) {
    return createApp(workerDeps(env)).fetch(request);
  },
  async scheduled(controller, env, ctx) {
    // The scheduled time, not now: two invocations of one firing then find the same jobs done.
    const runner = env.VIGIL_CHECK_RUNNER === "off" ? undefined : env.CHECK_RUNNER;
    ctx.waitUntil(cronTick(workerDeps(env), runner, controller.scheduledTime));
  },
  /** Deliveries of the ingest queue (consumer settings in wrangler.toml [env.queued]). */
  async queue(batch, env, _ctx) {
    await consumeQueuedBatches(withRuntime(workerDeps(env)), batch);
  },
} satisfies ExportedHandler<Env>;
