import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/workers/**"],
    // Account tests hash real passwords (scrypt, ~70 ms of CPU each) and CI shares two cores among turbo's
    // tasks: a budget per test, not a timing assert.
    testTimeout: 20_000,
  },
});
