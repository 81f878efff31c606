import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [
    // The check runner (a Durable Object) sees only the bindings: its own sqld (from global-setup), and
    // private targets allowed, since the test's HTTP target is on 127.0.0.1. Tests that pass their own env
    // to the handlers leave CHECK_RUNNER out of it, so the cron runs their checks as before.
    cloudflareTest(({ inject }) => ({
      main: "./src/worker.ts",
      wrangler: { configPath: "../../wrangler.toml" },
      miniflare: {
        bindings: { LIBSQL_URL: inject("runnerSqldUrl"), VIGIL_ALLOW_PRIVATE_TARGETS: "1" },
      },
    })),
  ],
  test: {
    include: ["test/workers/**/*.test.ts"],
    // the queued ingest path needs [env.queued]'s queue bindings: vitest.queue.config.ts
    exclude: ["test/workers/queue/**"],
    globalSetup: ["test/workers/global-setup.ts"],
    // The behaviour suite starts a fresh sqld per case and runs real checks and deliveries: a budget per
    // test, not a timing assert.
    testTimeout: 20_000,
  },
});
