// The queued ingest path in workerd: wrangler.toml's [env.queued] (INGEST_QUEUE producer and consumer) on
// miniflare's Queues emulation, the Worker's `queue` handler consuming what its `fetch` queued, against a
// local sqld. The queue consumer is invoked by miniflare with the configured bindings, not a test's env, so
// the sqld port is chosen here and handed to the global setup that starts it.
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { freePort } from "./scripts/sqld.ts";

process.env.VIGIL_TEST_SQLD_PORT ??= String(await freePort());
const sqldUrl = `http://127.0.0.1:${process.env.VIGIL_TEST_SQLD_PORT}`;

export default defineConfig({
  plugins: [
    cloudflareTest({
      main: "./src/worker.ts",
      wrangler: { configPath: "../../wrangler.toml", environment: "queued" },
      miniflare: {
        bindings: { LIBSQL_URL: sqldUrl, VIGIL_METRICS_TOKEN: "queue-metrics-token-0123456789" },
        // A delivery waits at most 1 s for more messages here (2 s in wrangler.toml): the tests poll for it.
        queueConsumers: { "vigil-ingest": { maxBatchSize: 100, maxBatchTimeout: 1, maxRetries: 10 } },
      },
    }),
  ],
  test: {
    include: ["test/workers/queue/**/*.test.ts"],
    globalSetup: ["test/workers/global-setup.ts"],
  },
});
