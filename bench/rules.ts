/**
 * Rule evaluation per batch (issue 7) against the cost of storing the same batch, in the same run.
 * Run: `npx tsx bench/rules.ts` (or `npm run bench`).
 * 1. A libSQL file (WAL), one project with the built-in pack, HOSTS enrolled hosts.
 * 2. Each host sends BATCHES batches of the ingest bench's shape (1 host sample, 3 filesystems, 2 disks,
 *    2 interfaces, 10 log lines; state every 10th), hosts interleaved, one after another. For each batch
 *    `ingestBatch` (store) and then `evaluateBatchRules` (rules) are timed separately.
 * 3. Two runs: healthy hosts (no alert changes: reads only), and hosts whose root filesystem is above 90%
 *    (an alert per host that is pending, then firing, and rewritten with each new value).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { tuneEmbeddedDb } from "@vigil/api/server";
import { probeBatchV1Schema } from "@vigil/contract";
import { closeDb, createDb } from "@vigil/db";
import { migrateDb, migrationsFolder } from "@vigil/db/migrate";
import { createProject } from "@vigil/db/testing";
import {
  authenticateHost,
  createEngineState,
  createEnrollmentToken,
  enrollHost,
  ensureBuiltinRules,
  evaluateBatchRules,
  ingestBatch,
} from "@vigil/engine";
import { manualClock } from "@vigil/engine/testing";
import { makeBatch } from "./ingest.ts";

const quick = process.argv.includes("--quick");
const HOSTS = 10;
const BATCHES = quick ? 30 : 200;
const INTERVAL_MS = 30_000;
const START = Date.UTC(2026, 10, 1);

interface Timing {
  storeMs: number[];
  rulesMs: number[];
}

async function run(fillPct: number | null): Promise<Timing> {
  const url = `file:${join(mkdtempSync(join(tmpdir(), "vigil-bench-rules-")), "rules.db")}`;
  const db = createDb({ url });
  await tuneEmbeddedDb(db, url);
  await migrateDb(db, migrationsFolder);
  const clock = manualClock(START);
  const project = await createProject(db);
  await ensureBuiltinRules(db, project.id, clock.now());
  const { token } = await createEnrollmentToken(db, clock, project.id, { name: "bench" });
  const hosts = [];
  for (let h = 0; h < HOSTS; h++) {
    const { hostToken } = await enrollHost(db, clock, {
      token,
      facts: { hostname: `web-${h}`, machineId: `m-${h}`, cpuCount: 2 },
    });
    const principal = await authenticateHost(db, hostToken);
    if (!principal) throw new Error("host token rejected");
    hosts.push(principal);
  }
  const engine = createEngineState();
  const timing: Timing = { storeMs: [], rulesMs: [] };
  for (let i = 0; i < BATCHES; i++) {
    clock.set(START + i * INTERVAL_MS);
    for (let h = 0; h < HOSTS; h++) {
      const raw = makeBatch(h, i);
      if (fillPct !== null) {
        const root = raw.filesystems[0];
        if (root) {
          root.usedBytes = (root.sizeBytes * (fillPct + (i % 3))) / 100;
          root.availableBytes = root.sizeBytes - root.usedBytes;
        }
      }
      const batch = probeBatchV1Schema.parse(raw);
      const host = hosts[h];
      if (!host) continue;
      const t0 = performance.now();
      const result = await ingestBatch(db, clock, host, batch, engine);
      const t1 = performance.now();
      await evaluateBatchRules(db, clock, engine, host, { batch, ...result });
      const t2 = performance.now();
      // The first batches create series, the host check and the alerts: warm-up, not the steady state.
      if (i >= 5) {
        timing.storeMs.push(t1 - t0);
        timing.rulesMs.push(t2 - t1);
      }
    }
  }
  closeDb(db);
  return timing;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const p = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? 0;

function row(name: string, t: Timing): string {
  const ratio = mean(t.rulesMs) / mean(t.storeMs);
  return `| ${name} | ${mean(t.storeMs).toFixed(2)} | ${p(t.storeMs, 0.99).toFixed(2)} | ${mean(t.rulesMs).toFixed(2)} | ${p(t.rulesMs, 0.99).toFixed(2)} | **${ratio.toFixed(2)}×** |`;
}

export async function benchRules(): Promise<string> {
  const healthy = await run(null);
  const firing = await run(92);
  return [
    "## Rules (issue 7)",
    "",
    `${HOSTS} hosts × ${BATCHES} batches (the ingest bench's batch shape), libSQL file in WAL mode, the built-in`,
    "pack of 12 rules; per batch, the engine's store (`ingestBatch`) against rule evaluation (`evaluateBatchRules`)",
    "of the same batch, one after the other. Means and p99 in ms per batch:",
    "",
    "| hosts | store | store p99 | rules | rules p99 | rules / store |",
    "|---|---|---|---|---|---|",
    row("healthy (no alert changes)", healthy),
    row("root filesystem above 90% (an alert per host: pending, then firing)", firing),
    "",
    "Goal: rules ≤ 0.5× the store.",
    "",
  ].join("\n");
}

if (import.meta.url === `file://${resolve(process.argv[1] ?? "")}`) {
  console.log(await benchRules());
}
