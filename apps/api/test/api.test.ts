// The health answer when the database is gone; the rest of the API's basics are behaviour cases
// (test/behaviour/api.cases.ts), and the Worker's unreachable database is in test/workers/worker.test.ts.
import { describe, expect, it } from "vitest";
import { testApp } from "./helpers.ts";

describe("health", () => {
  it("answers 503 in the error-free health shape when the database is gone", async () => {
    const { app, db } = await testApp();
    db.$client.close();
    const res = await app.request("/healthz");
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: "degraded", db: "unreachable" });
  });
});
