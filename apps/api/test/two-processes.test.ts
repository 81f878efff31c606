// Two self-hosted servers on one database: a restart that overlaps the old process, or two replicas on
// one sqld/Turso database (which is what Worker isolates are). The servers are child processes (src/node.ts),
// not two startServer calls in this process: libSQL's embedded driver is synchronous, so two clients in one
// process never hold the file's lock at the same moment and the contention under test would not happen.
// Pings and probe batches go to both at once; every answer must be a 2xx, and everything answered 2xx
// must be in the database exactly once.

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closeDb, createDb } from "@vigil/db";
import { afterEach, describe, expect, it } from "vitest";
import { type ServerProcess, savedAdminKey, startServerProcess } from "../scripts/server-process.ts";
import { type Sqld, startSqld } from "../scripts/sqld.ts";
import { createHeartbeats, enrolledHost, pool, post, probeBatch, sendProbeBatch } from "./multi-process.ts";

const running: (ServerProcess | Sqld)[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
});

const freshDir = () => mkdtempSync(join(tmpdir(), "vigil-two-"));
const PINGS = 600;
const BATCHES = 60;

async function server(env: Record<string, string>) {
  const started = await startServerProcess({ VIGIL_TICK_MS: "500", ...env });
  running.push(started);
  return started;
}

/** Pings and batches spread over the servers, all in flight together; answers by request. */
async function driveTraffic(urls: string[], key: string) {
  const checks = await createHeartbeats(urls[0] ?? "", key, 20);
  const hostToken = await enrolledHost(urls[0] ?? "", key);
  const now = Date.now();
  const [pings, batches] = await Promise.all([
    pool(PINGS, 24, (i) =>
      post(`${urls[i % urls.length]}/ping/${checks[i % checks.length]}`, `ping-${i}`).then((a) => ({
        ...a,
        body: `ping-${i}`,
      })),
    ),
    pool(BATCHES, 6, async (i) => {
      const id = `batch-${String(i).padStart(4, "0")}`;
      return {
        ...(await sendProbeBatch(urls[i % urls.length] ?? "", hostToken, probeBatch(id, now + i))),
        id,
      };
    }),
  ]);
  return { pings, batches };
}

async function expectEverythingStored(dbUrl: string, traffic: Awaited<ReturnType<typeof driveTraffic>>) {
  const statuses = [...traffic.pings, ...traffic.batches].map((a) => a.status);
  expect(statuses.filter((s) => s >= 500 || s === 0)).toEqual([]);
  expect(statuses.every((s) => s === 200)).toBe(true);

  const db = createDb({ url: dbUrl });
  try {
    const stored = await db.$client.execute("select body from pings where body like 'ping-%'");
    const bodies = stored.rows.map((r) => String(r.body));
    expect(bodies.length).toBe(new Set(bodies).size);
    expect(new Set(bodies)).toEqual(new Set(traffic.pings.map((p) => p.body)));

    const batches = await db.$client.execute("select batch_id from ingested_batches");
    expect(batches.rows.map((r) => String(r.batch_id)).sort()).toEqual(
      traffic.batches.map((b) => b.id).sort(),
    );
    const lines = await db.$client.execute(
      "select count(*) as n from log_entries where message like 'batch-%'",
    );
    expect(Number(lines.rows[0]?.n)).toBe(BATCHES * 20);
  } finally {
    closeDb(db);
  }
}

describe("two server processes on one database", () => {
  it("two servers on one libSQL file answer concurrent pings and batches without a 5xx and store each once", {
    timeout: 120_000,
  }, async () => {
    const dir = freshDir();
    const dbUrl = `file:${join(dir, "vigil.db")}`;
    const first = await server({ VIGIL_DATA_DIR: dir });
    // The same data dir, as a restart overlapping the old process would have.
    const second = await server({ VIGIL_DATA_DIR: dir });
    const traffic = await driveTraffic([first.url, second.url], savedAdminKey(dir));
    await expectEverythingStored(dbUrl, traffic);
  });

  it("two servers on one sqld answer concurrent pings and batches without a 5xx and store each once", {
    timeout: 120_000,
  }, async () => {
    const sqld = await startSqld();
    running.push(sqld);
    const [dirA, dirB] = [freshDir(), freshDir()];
    const env = { VIGIL_DB_URL: sqld.url, VIGIL_SECRET_KEY: "two-replicas-share-this-secret-key" };
    const first = await server({ ...env, VIGIL_DATA_DIR: dirA });
    const second = await server({ ...env, VIGIL_DATA_DIR: dirB });
    const traffic = await driveTraffic([first.url, second.url], savedAdminKey(dirA));
    await expectEverythingStored(sqld.url, traffic);
  });
});
