import { createTestDb } from "@vigil/db/testing";
import { manualClock } from "@vigil/engine/testing";
import { describe, expect, it } from "vitest";
import { defaultConfig } from "../src/deps.ts";
import { runScheduledJobs } from "../src/scheduler.ts";

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
