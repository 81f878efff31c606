import { createTestDb } from "@vigil/db/testing";
import { manualClock } from "@vigil/engine/testing";
import { describe, expect, it } from "vitest";
import { defaultConfig } from "../src/deps.ts";
import { runScheduledJobs, scheduledJobs } from "../src/scheduler.ts";
import { bearer, jsonRequest, testApp } from "./helpers.ts";

describe("scheduled jobs", () => {
  it("runs every job in order and carries on past one that fails", async () => {
    const deps = { db: await createTestDb(), clock: manualClock(), config: defaultConfig };
    const ran: string[] = [];
    const failed = await runScheduledJobs(deps, [
      { name: "first", run: async () => void ran.push("first") },
      {
        name: "broken",
        run: async () => {
          throw new Error("boom");
        },
      },
      { name: "last", run: async () => void ran.push("last") },
    ]);
    expect(ran).toEqual(["first", "last"]);
    expect(failed).toEqual(["broken"]);
  });
});

describe("the checks job", () => {
  it("runs the engine tick, so a silent heartbeat goes late on the Node timer too", async () => {
    const { app, db, clock, adminKey } = await testApp();
    const created = await app.request(
      "/api/v1/checks",
      jsonRequest("POST", { kind: "heartbeat", name: "x", period: 60, grace: 60 }, adminKey),
    );
    const { id } = (await created.json()) as { id: string };
    await app.request(`/ping/${id}`);
    clock.advance(60_000);
    expect(await runScheduledJobs({ db, clock, config: defaultConfig }, scheduledJobs)).toEqual([]);
    const check = await app.request(`/api/v1/checks/${id}`, { headers: bearer(adminKey) });
    expect(await check.json()).toMatchObject({ status: "late" });
  });
});
