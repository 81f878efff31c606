import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [cloudflareTest({ main: "./src/worker.ts", wrangler: { configPath: "../../wrangler.toml" } })],
  test: {
    include: ["test/workers/**/*.test.ts"],
    globalSetup: ["test/workers/global-setup.ts"],
    // The behaviour suite starts a fresh sqld per case and runs real checks and deliveries: a budget per
    // test, not a timing assert.
    testTimeout: 20_000,
  },
});
