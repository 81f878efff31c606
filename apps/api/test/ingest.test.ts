import { gzipSync } from "node:zlib";
import { applyRetention, rollUpDirtyHours } from "@vigil/engine";
import { describe, expect, it } from "vitest";
import { createApp } from "../src/app.ts";
import { defaultConfig } from "../src/deps.ts";
import { nodeGunzip } from "../src/platform/node-gunzip.ts";
import { batch, enrollHost, jsonRequest, sendBatch, testApp } from "./helpers.ts";

const T0 = Date.UTC(2026, 10, 27, 12);
const MIN = 60_000;

const sample = (ts: number, fields: Record<string, unknown> = {}) => ({
  ts,
  cpu: { userPct: 10, systemPct: 5, iowaitPct: 1, idlePct: 84 },
  load1: 0.5,
  memory: { totalBytes: 4e9, availableBytes: 1e9 },
  ...fields,
});

describe("rollups and retention", () => {
  it("keep raw samples and logs within their bounds while rollups stay", async () => {
    const { app, adminKey, db, clock } = await testApp();
    const host = await enrollHost(app, adminKey);
    await app.request(
      "/api/v1/projects/current/settings",
      jsonRequest("PATCH", { retention: { rawDays: 1, logsPerHost: 1000 } }, adminKey),
    );
    const start = Date.UTC(2026, 10, 20, 0);
    const samples = Array.from({ length: 60 }, (_, i) => sample(start + i * MIN));
    const logs = Array.from({ length: 1500 }, (_, i) => ({
      ts: start + i,
      priority: 4,
      message: `line ${i}`,
    }));
    await sendBatch(app, host.hostToken, batch({ samples, logs }));
    clock.set(start + 2 * 86_400_000);
    await rollUpDirtyHours(db, clock.now());
    const count = async (table: string) =>
      Number((await db.$client.execute(`select count(*) as n from ${table}`)).rows[0]?.n);
    const rawBefore = await count("samples");
    expect(rawBefore).toBeGreaterThan(0);
    await applyRetention(db, clock.now(), { rowsPerStatement: 100, statements: 10_000 });
    expect(await count("samples")).toBe(0);
    expect(await count("rollups_hourly")).toBeGreaterThan(0);
    expect(await count("log_entries")).toBe(1000);
    const oldest = await db.$client.execute(
      "select min(message) as m from log_entries where message = 'line 499'",
    );
    expect(oldest.rows[0]?.m).toBeNull();
  });

  it("delete in bounded steps and finish over later calls", async () => {
    const { app, adminKey, db, clock } = await testApp();
    const host = await enrollHost(app, adminKey);
    const start = Date.UTC(2026, 10, 1, 0);
    const samples = Array.from({ length: 100 }, (_, i) => sample(start + i * MIN));
    await sendBatch(app, host.hostToken, batch({ samples }));
    clock.set(start + 30 * 86_400_000);
    const total = Number((await db.$client.execute("select count(*) as n from samples")).rows[0]?.n);
    const first = await applyRetention(db, clock.now(), { rowsPerStatement: 50, statements: 3 });
    expect(first).toBe(150);
    let rest = 0;
    for (let i = 0; i < 100; i++)
      rest += await applyRetention(db, clock.now(), { rowsPerStatement: 50, statements: 3 });
    expect(first + rest).toBe(total);
  });
});

describe("the Node server's inflater", () => {
  it("refuses a gzip bomb with 413 and broken gzip with 400, and inflates a good batch", async () => {
    const { db, clock, adminKey } = await testApp();
    const app = createApp({ db, clock, config: defaultConfig, gunzip: nodeGunzip });
    const host = await enrollHost(app, adminKey);
    expect((await sendBatch(app, host.hostToken, batch({ samples: [sample(T0)] }))).status).toBe(200);
    const post = (body: BodyInit) =>
      app.request("/api/v1/probe/batches", {
        method: "POST",
        headers: {
          authorization: `Bearer ${host.hostToken}`,
          "content-type": "application/json",
          "content-encoding": "gzip",
        },
        body,
      });
    expect((await post(gzipSync(Buffer.alloc(20 * 1024 * 1024)))).status).toBe(413);
    expect((await post("not gzip")).status).toBe(400);
  });
});
