import { createTestDb } from "@vigil/db/testing";
import { manualClock } from "@vigil/engine/testing";
import { describe, expect, it } from "vitest";
import { defaultConfig } from "../src/deps.ts";
import { runScheduledJobs, scheduledJobs } from "../src/scheduler.ts";
import { createRuntime } from "../src/self/runtime.ts";
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

describe("job intervals on the Node timer", () => {
  it("runs a job with an interval once per interval, and one without once per tick", async () => {
    const deps = { db: await createTestDb(), clock: manualClock(), config: defaultConfig };
    const ran: string[] = [];
    const jobs = [
      { name: "often", run: async () => void ran.push("often") },
      { name: "hourly", everyMs: 3_600_000, run: async () => void ran.push("hourly") },
    ];
    for (let tick = 0; tick < 12 * 60 + 1; tick++) {
      await runScheduledJobs(deps, jobs);
      deps.clock.advance(5_000);
    }
    expect(ran.filter((job) => job === "often")).toHaveLength(12 * 60 + 1);
    expect(ran.filter((job) => job === "hourly")).toHaveLength(2);
  });

  it("tries a failed job again on the next tick, however long its interval", async () => {
    const deps = { db: await createTestDb(), clock: manualClock(), config: defaultConfig };
    let attempts = 0;
    const flaky = {
      name: "retention",
      everyMs: 600_000,
      run: async () => {
        attempts++;
        if (attempts === 1) throw new Error("database is locked");
      },
    };
    const runtime = createRuntime(deps.clock.now());
    expect(await runScheduledJobs({ ...deps, runtime }, [flaky])).toEqual(["retention"]);
    deps.clock.advance(5_000);
    expect(await runScheduledJobs({ ...deps, runtime }, [flaky])).toEqual([]);
    deps.clock.advance(5_000);
    expect(await runScheduledJobs({ ...deps, runtime }, [flaky])).toEqual([]);
    expect(attempts).toBe(2);
    const count = (result: string) =>
      runtime.metrics.value("vigil_scheduler_jobs_total", { job: "retention", result });
    expect([count("failed"), count("ran"), count("skipped-not-due")]).toEqual([1, 1, 1]);
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
