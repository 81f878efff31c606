import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [cloudflareTest({ main: "./src/worker.ts", wrangler: { configPath: "../../wrangler.toml" } })],
  test: {
    include: ["test/workers/**/*.test.ts"],
    // the queued ingest path needs [env.queued]'s queue bindings: vitest.queue.config.ts
    exclude: ["test/workers/queue/**"],
    globalSetup: ["test/workers/global-setup.ts"],
  },
});
