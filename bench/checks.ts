/**
 * Checks benchmarks (issue 5). Run: `npx tsx bench/checks.ts` (or `npm run bench` for every bench).
 * 1. Ping throughput over loopback: the self-hosted server in its own process, keep-alive HTTP clients
 *    with fixed concurrency, GET /ping/<uuid> against GET /bare (a bare Hono route on the same server),
 *    alternated in rounds so both see the same machine state. Reports pings/s, p50/p99 and the ratio.
 * 2. Tick cost: 10,000 and 100,000 heartbeat checks in a libSQL file, a handful due per tick.
 */
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { tuneEmbeddedDb } from "@vigil/api/server";
import { closeDb, createDb } from "@vigil/db";
import { migrateDb } from "@vigil/db/migrate";
import { createProject } from "@vigil/db/testing";
import { createEngineState, systemClock, tick } from "@vigil/engine";

/** `--quick` for a smoke run while developing; the recorded figures use the defaults. */
const quick = process.argv.includes("--quick");
const CONCURRENCY = 32;
const ROUND_MS = quick ? 1000 : 3000;
const ROUNDS = quick ? 1 : 3;

interface LoadResult {
  requests: number;
  errors: number;
  ms: number;
  latencies: number[];
}

/** Keeps CONCURRENCY requests in flight for `durationMs`, each on a kept-alive connection. */
async function load(base: string, paths: () => string, durationMs: number): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const { hostname, port } = new URL(base);
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  const one = () =>
    new Promise<void>((done) => {
      const t0 = performance.now();
      const req = request({ agent, hostname, port, path: paths(), method: "GET" }, (res) => {
        res.resume();
        res.on("end", () => {
          if (res.statusCode !== 200) errors++;
          latencies.push(performance.now() - t0);
          done();
        });
      });
      req.on("error", () => {
        errors++;
        done();
      });
      req.end();
    });
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < deadline) await one();
    }),
  );
  const ms = performance.now() - started;
  agent.destroy();
  return { requests: latencies.length, errors, ms, latencies };
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;

function summarise(results: LoadResult[]) {
  const requests = results.reduce((n, r) => n + r.requests, 0);
  const ms = results.reduce((n, r) => n + r.ms, 0);
  const sorted = results.flatMap((r) => r.latencies).sort((a, b) => a - b);
  return {
    perSec: (requests / ms) * 1000,
    p50: pct(sorted, 0.5),
    p99: pct(sorted, 0.99),
    errors: results.reduce((n, r) => n + r.errors, 0),
  };
}

async function pingThroughput() {
  const child = spawn(
    process.execPath,
    [
      // --trace: the server times its database statements and prints them when it ends.
      ...(process.argv.includes("--trace")
        ? ["--require", resolve(import.meta.dirname, "trace-statements.cjs")]
        : []),
      "--import",
      "tsx",
      resolve(import.meta.dirname, "checks-server.ts"),
    ],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const line = await new Promise<string>((ok) => createInterface({ input: child.stdout }).once("line", ok));
  const server = JSON.parse(line) as { url: string; ids: string[] };
  let i = 0;
  const pingPath = () => `/ping/${server.ids[i++ % server.ids.length]}`;
  try {
    await load(server.url, () => "/bare", 1000); // warm-up: JIT, connections, page cache
    await load(server.url, pingPath, 1000);
    const bare: LoadResult[] = [];
    const pings: LoadResult[] = [];
    const oneCheck: LoadResult[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      bare.push(await load(server.url, () => "/bare", ROUND_MS));
      pings.push(await load(server.url, pingPath, ROUND_MS));
      oneCheck.push(await load(server.url, () => `/ping/${server.ids[0]}`, ROUND_MS));
    }
    return { bare: summarise(bare), ping: summarise(pings), oneCheck: summarise(oneCheck) };
  } finally {
    child.kill("SIGTERM");
  }
}

/** Inserts `total` heartbeats, all up with a deadline an hour away; `due` of them already past it. */
async function seedChecks(total: number) {
  const dir = mkdtempSync(join(tmpdir(), "vigil-bench-tick-"));
  const url = `file:${join(dir, "vigil.db")}`;
  const db = createDb({ url });
  await migrateDb(db);
  await tuneEmbeddedDb(db, url);
  const project = await createProject(db);
  const now = Date.now();
  const chunk = 500;
  for (let start = 0; start < total; start += chunk) {
    const rows = Math.min(chunk, total - start);
    const values: string[] = [];
    const args: (string | number)[] = [];
    for (let k = 0; k < rows; k++) {
      values.push("(?, ?, 'heartbeat', ?, 'up', ?, ?, ?, 3600, 600, ?, ?, ?, ?)");
      const due = now + 3600_000 + ((start + k) % 3600) * 1000;
      args.push(
        crypto.randomUUID(),
        project.id,
        `job ${start + k}`,
        now,
        crypto.randomUUID(),
        due,
        now,
        due,
        now,
        now,
      );
    }
    await db.$client.execute({
      sql: `insert into checks (id, project_id, kind, name, status, status_changed_at, cas, alert_after,
            period_sec, grace_sec, last_ping_at, next_due_at, created_at, updated_at) values ${values.join(", ")}`,
      args,
    });
  }
  return { db, project };
}

async function tickCost(total: number, duePerTick: number, ticks: number) {
  const { db } = await seedChecks(total);
  const times: number[] = [];
  const state = createEngineState();
  for (let t = 0; t < ticks + 2; t++) {
    // Make a few checks due: their deadline passes a moment before the tick.
    const now = Date.now();
    await db.$client.execute({
      sql: `update checks set alert_after = ?, next_due_at = ? where id in
            (select id from checks where status = 'up' order by random() limit ?)`,
      args: [now - 1, now - 1, duePerTick],
    });
    const t0 = performance.now();
    const report = await tick({ db, clock: systemClock, state }, now);
    const ms = performance.now() - t0;
    if (report.due !== duePerTick) throw new Error(`expected ${duePerTick} due, got ${report.due}`);
    if (t >= 2) times.push(ms); // the first ticks warm caches and the JIT
  }
  closeDb(db);
  const sorted = times.sort((a, b) => a - b);
  return { total, duePerTick, ticks, p50: pct(sorted, 0.5), p99: pct(sorted, 0.99), max: sorted.at(-1) ?? 0 };
}

const fmt = (n: number, digits = 1) => n.toFixed(digits);

export async function runChecksBench(): Promise<string> {
  const throughput = await pingThroughput();
  const ratio = throughput.ping.perSec / throughput.bare.perSec;
  // The last row is the worst case the bound allows: a full tick of 500 due heartbeats all going late.
  const ticks = [
    await tickCost(10_000, 10, 30),
    await tickCost(100_000, 10, 30),
    await tickCost(100_000, 500, 10),
  ];
  const lines = [
    `Ping throughput over loopback (${CONCURRENCY} keep-alive connections, ${ROUNDS} alternating rounds of ${ROUND_MS} ms each):`,
    "",
    "| route | req/s | p50 ms | p99 ms | errors |",
    "|---|---|---|---|---|",
    `| GET /bare (bare Hono route) | ${fmt(throughput.bare.perSec, 0)} | ${fmt(throughput.bare.p50, 2)} | ${fmt(throughput.bare.p99, 2)} | ${throughput.bare.errors} |`,
    `| GET /ping/<uuid> | ${fmt(throughput.ping.perSec, 0)} | ${fmt(throughput.ping.p50, 2)} | ${fmt(throughput.ping.p99, 2)} | ${throughput.ping.errors} |`,
    `| GET /ping/<uuid>, all to one check | ${fmt(throughput.oneCheck.perSec, 0)} | ${fmt(throughput.oneCheck.p50, 2)} | ${fmt(throughput.oneCheck.p99, 2)} | ${throughput.oneCheck.errors} |`,
    "",
    `Ping / bare ratio: **${fmt(ratio, 2)}×** (goal ≥ 0.5×); one check: **${fmt(throughput.oneCheck.perSec, 0)}/s** (goal ≥ 5,000/s).`,
    "",
    "Tick cost, heartbeat checks in a libSQL file (WAL), a few due per tick, and a full tick (500, the per-tick bound):",
    "",
    "| checks | due per tick | ticks | p50 ms | p99 ms | max ms |",
    "|---|---|---|---|---|---|",
    ...ticks.map(
      (t) =>
        `| ${t.total.toLocaleString("en")} | ${t.duePerTick} | ${t.ticks} | ${fmt(t.p50, 2)} | ${fmt(t.p99, 2)} | ${fmt(t.max, 2)} |`,
    ),
    "",
    "Goal: under 50 ms per tick at 100,000.",
  ];
  return lines.join("\n");
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith("bench/checks.ts")) {
  console.log(await runChecksBench());
}
