/**
 * Ingest throughput of the self-hosted server over loopback, against the raw libSQL insert rate of the
 * same rows on the same kind of database file, measured in the same run; plus bytes stored per host.
 *
 * 1. Start the real server (embedded file database, no local probe) and enroll N simulated probes.
 * 2. Each probe sends B gzip batches one after another (all probes at once), like a probe catching up on
 *    its spool: one host sample, 3 filesystems, 2 disks, 2 interfaces, 10 log lines, state every 10th.
 * 3. Baseline: the same sample and log rows inserted straight into a migrated file database, one
 *    transaction per batch, no HTTP, no validation, no dedup.
 * 4. Storage: one host-day (2,880 batches at the default 30 s) ingested through the engine, rolled up,
 *    measured with SQLite's dbstat; the steady state under default retention is derived from it.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { tuneEmbeddedDb } from "@vigil/api/server";
import { probeBatchV1Schema } from "@vigil/contract";
import { closeDb, createDb, type Db } from "@vigil/db";
import { migrateDb, migrationsFolder } from "@vigil/db/migrate";
import { createProject } from "@vigil/db/testing";
import {
  authenticateHost,
  createEngineState,
  createEnrollmentToken,
  enrollHost,
  flattenMetrics,
  ingestBatch,
  rollUpDirtyHours,
} from "@vigil/engine";
import { manualClock } from "@vigil/engine/testing";

const PROBES = 20;
const BATCHES_PER_PROBE = 50;
const INTERVAL_MS = 30_000;
const START = Date.UTC(2026, 10, 1);

export function makeBatch(probe: number, i: number, start = START) {
  const ts = start + i * INTERVAL_MS;
  return {
    v: 1,
    batchId: `p${probe}-b${i}-${Math.random().toString(36).slice(2, 10)}`,
    sentAt: ts,
    samples: [
      {
        ts,
        cpu: { userPct: 10 + (i % 7), systemPct: 3, iowaitPct: 0.4, stealPct: 0, idlePct: 86 - (i % 7) },
        load1: 0.3,
        load5: 0.2,
        load15: 0.1,
        procsRunning: 2,
        procsTotal: 180,
        threadsTotal: 420,
        contextSwitchesPerSec: 1500,
        pressure: { cpuSomePct: 0.1, memorySomePct: 0, memoryFullPct: 0, ioSomePct: 0.2, ioFullPct: 0.1 },
        memory: {
          totalBytes: 4e9,
          availableBytes: 2.5e9,
          usedBytes: 1.2e9,
          buffersBytes: 1e8,
          cachedBytes: 9e8,
          swapTotalBytes: 1e9,
          swapUsedBytes: 0,
        },
        uptimeSec: 86_400 + i * 30,
        openFds: 2048,
      },
    ],
    filesystems: ["/", "/var/lib/docker", "/boot"].map((mount, k) => ({
      ts,
      mount,
      device: `/dev/vda${k + 1}`,
      fstype: "ext4",
      sizeBytes: 5e10,
      usedBytes: 2e10 + i * 1000,
      availableBytes: 2.8e10 - i * 1000,
      inodesTotal: 3e6,
      inodesUsed: 2e5,
    })),
    disks: ["vda", "vdb"].map((device) => ({
      ts,
      device,
      readBytesPerSec: 4096,
      writeBytesPerSec: 65536,
      readOpsPerSec: 1,
      writeOpsPerSec: 12,
      busyPct: 2,
    })),
    interfaces: ["eth0", "docker0"].map((name) => ({
      ts,
      name,
      rxBytesPerSec: 2000,
      txBytesPerSec: 3000,
      rxErrorsPerSec: 0,
      txErrorsPerSec: 0,
      rxDropsPerSec: 0,
      txDropsPerSec: 0,
    })),
    logs: Array.from({ length: 10 }, (_, k) => ({
      ts: ts + k,
      priority: 4,
      unit: "app.service",
      identifier: "app",
      message: `GET /api/orders/${i * 10 + k} 502 upstream timed out after 30000 ms`,
      pid: 4242,
    })),
    ...(i % 10 === 0
      ? {
          state: {
            collectedAt: ts,
            reboot: { required: false },
            updates: { manager: "apt", pending: 3, security: 1 },
            failedUnits: [],
          },
        }
      : {}),
    notes: [],
  };
}

const rowsOf = (b: ReturnType<typeof makeBatch>) =>
  flattenMetrics(probeBatchV1Schema.parse(b)).length + b.logs.length;

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

/** The built self-hosted server in its own process, as it runs for real (and off the client's CPU). */
async function startServerProcess(dataDir: string) {
  const root = resolve(import.meta.dirname, "..");
  execFileSync(process.execPath, ["scripts/build.mjs"], { cwd: join(root, "apps/api") });
  // `--server-args "--cpu-prof --cpu-prof-dir=/tmp/prof"` passes node flags to the server, to profile it.
  const at = process.argv.indexOf("--server-args");
  const nodeArgs = at > 0 ? (process.argv[at + 1] ?? "").split(" ").filter(Boolean) : [];
  const child = spawn(process.execPath, [...nodeArgs, join(root, "apps/api/dist/node.js")], {
    env: {
      ...process.env,
      VIGIL_DATA_DIR: dataDir,
      VIGIL_PORT: "0",
      VIGIL_TICK_MS: "3600000",
      VIGIL_LOCAL_PROBE: "0",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise<string>((ok, fail) => {
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const match = out.match(/listening on (http:\/\/[\d.:]+)/);
      if (match?.[1]) ok(match[1]);
    });
    child.once("exit", (code) => fail(new Error(`server exited with ${code}: ${out}`)));
  });
  const { adminKey } = JSON.parse(readFileSync(join(dataDir, "credentials.json"), "utf8")) as {
    adminKey: string;
  };
  return {
    url,
    adminKey,
    close: async () => {
      const exited = new Promise((ok) => child.once("exit", ok));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

// node:http with keep-alive, like the probe's own transport: lighter on the shared CPU than fetch, so the
// load generator is not what limits the server.
const agent = new Agent({ keepAlive: true, maxSockets: PROBES });
function post(url: string, token: string, body: Buffer): Promise<{ status: number; text: string }> {
  return new Promise((resolveRequest, reject) => {
    const req = request(
      url,
      {
        method: "POST",
        agent,
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": "application/json",
          "content-encoding": "gzip",
          "content-length": body.length,
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => {
          text += chunk;
        });
        res.on("end", () => resolveRequest({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

async function serverIngest() {
  const dataDir = mkdtempSync(join(tmpdir(), "vigil-bench-ingest-"));
  const server = await startServerProcess(dataDir);
  try {
    return await driveProbes(server);
  } finally {
    await server.close();
  }
}

async function driveProbes(server: { url: string; adminKey: string }) {
  const auth = { authorization: `Bearer ${server.adminKey}`, "content-type": "application/json" };
  const tokens: string[] = [];
  for (let p = 0; p < PROBES; p++) {
    const { token } = (await (
      await fetch(`${server.url}/api/v1/enrollment-tokens`, {
        method: "POST",
        headers: auth,
        body: JSON.stringify({ name: `p${p}` }),
      })
    ).json()) as { token: string };
    const enrolled = (await (
      await fetch(`${server.url}/api/v1/probe/enroll`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ token, facts: { hostname: `host-${p}`, machineId: `m-${p}` } }),
      })
    ).json()) as { hostToken: string };
    tokens.push(enrolled.hostToken);
  }
  const batches = tokens.map((_, p) => Array.from({ length: BATCHES_PER_PROBE }, (_, i) => makeBatch(p, i)));
  const bodies = batches.map((list) => list.map((b) => gzipSync(JSON.stringify(b))));
  const rows = batches.flat().reduce((n, b) => n + rowsOf(b), 0);
  const latencies: number[] = [];
  const started = performance.now();
  await Promise.all(
    tokens.map(async (token, p) => {
      for (const body of bodies[p] ?? []) {
        const t0 = performance.now();
        const { status, text } = await post(`${server.url}/api/v1/probe/batches`, token, body);
        if (status !== 200) throw new Error(`batch answered ${status}: ${text}`);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    batches: PROBES * BATCHES_PER_PROBE,
    rows,
    seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    batchesList: batches,
  };
}

async function rawInsert(batchesList: ReturnType<typeof makeBatch>[][]) {
  const db = createDb({ url: `file:${join(mkdtempSync(join(tmpdir(), "vigil-bench-raw-")), "raw.db")}` });
  await migrateDb(db, migrationsFolder);
  await tuneEmbeddedDb(db, "file:"); // the same journal mode and sync settings as the server's file
  const project = await createProject(db);
  // Series ids and hosts exist up front: the baseline is the bare row inserts.
  const { hosts, series } = await import("@vigil/db");
  const seriesIds = new Map<string, number>();
  let rows = 0;
  const prepared = [];
  for (const [p, list] of batchesList.entries()) {
    const hostId = crypto.randomUUID();
    await db.insert(hosts).values({
      id: hostId,
      projectId: project.id,
      name: `h${p}`,
      tokenPrefix: `x${p}`,
      tokenHash: "x",
      createdAt: 0,
    });
    for (const b of list) {
      const points = flattenMetrics(probeBatchV1Schema.parse(b));
      for (const pt of points) {
        const key = `${hostId}|${pt.name}|${pt.labels}`;
        if (!seriesIds.has(key)) {
          const [row] = await db
            .insert(series)
            .values({ projectId: project.id, hostId, name: pt.name, labels: pt.labels })
            .returning({ id: series.id });
          seriesIds.set(key, row?.id ?? 0);
        }
      }
      prepared.push({
        samples: points.map((pt) => ({
          seriesId: seriesIds.get(`${hostId}|${pt.name}|${pt.labels}`) ?? 0,
          ts: pt.ts,
          value: pt.value,
        })),
        logs: b.logs.map((l) => ({
          projectId: project.id,
          hostId,
          ts: l.ts,
          priority: l.priority,
          unit: l.unit,
          identifier: l.identifier,
          message: l.message,
          pid: l.pid,
        })),
      });
      rows += points.length + b.logs.length;
    }
  }
  // Plain SQL through the libSQL client, statements built before the clock starts: the floor for these rows.
  const statements = prepared.map((batch) => [
    {
      sql: `insert into samples (series_id, ts, value) values ${batch.samples.map(() => "(?,?,?)").join(",")}`,
      args: batch.samples.flatMap((r) => [r.seriesId, r.ts, r.value]),
    },
    {
      sql: `insert into log_entries (project_id, host_id, ts, priority, unit, identifier, message, pid) values ${batch.logs
        .map(() => "(?,?,?,?,?,?,?,?)")
        .join(",")}`,
      args: batch.logs.flatMap((l) => [
        l.projectId,
        l.hostId,
        l.ts,
        l.priority,
        l.unit,
        l.identifier,
        l.message,
        l.pid,
      ]),
    },
  ]);
  const started = performance.now();
  for (const batch of statements) await db.$client.batch(batch, "write");
  const seconds = (performance.now() - started) / 1000;
  closeDb(db);
  return { rows, seconds };
}

async function storagePerHostDay() {
  const db: Db = createDb({
    url: `file:${join(mkdtempSync(join(tmpdir(), "vigil-bench-size-")), "size.db")}`,
  });
  await migrateDb(db, migrationsFolder);
  const clock = manualClock(START);
  const project = await createProject(db);
  const { token } = await createEnrollmentToken(db, clock, project.id, { name: "size" });
  const { hostToken } = await enrollHost(db, clock, {
    token,
    facts: { hostname: "size", machineId: "size" },
  });
  const perDay = 86_400_000 / INTERVAL_MS;
  const engine = createEngineState();
  for (let i = 0; i < perDay; i++) {
    const host = await authenticateHost(db, hostToken);
    if (!host) throw new Error("host token rejected");
    await ingestBatch(db, clock, host, probeBatchV1Schema.parse(makeBatch(0, i)), engine);
  }
  clock.set(START + 2 * 86_400_000);
  while ((await rollUpDirtyHours(db, clock.now(), 1000)) > 0) {}
  const result = await db.$client.execute("select name, sum(pgsize) as bytes from dbstat group by name");
  const size = new Map(result.rows.map((r) => [String(r.name), Number(r.bytes)]));
  const sum = (prefixes: string[]) =>
    [...size]
      .filter(([name]) =>
        prefixes.some(
          (p) => name === p || name.startsWith(`sqlite_autoindex_${p}`) || name.startsWith(`${p}_`),
        ),
      )
      .reduce((n, [, b]) => n + b, 0);
  const raw = sum(["samples"]);
  const logs = sum(["log_entries"]);
  const hourly = sum(["rollups_hourly"]);
  const daily = sum(["rollups_daily"]);
  closeDb(db);
  return { raw, logs, hourly, daily };
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MB`;

export async function benchIngest(): Promise<string> {
  const server = await serverIngest();
  const raw = await rawInsert(server.batchesList);
  const serverRate = server.rows / server.seconds;
  const rawRate = raw.rows / raw.seconds;
  const size = await storagePerHostDay();
  // Default retention: raw samples 7 days, logs 14 days (capped at 100,000 per host), hourly 90 days, daily 730.
  const logDays = Math.min(14, 100_000 / (10 * 2880));
  const steady = size.raw * 7 + size.logs * logDays + size.hourly * 90 + size.daily * 730;
  return [
    "## Ingest (issue 4)",
    "",
    `${PROBES} simulated probes × ${BATCHES_PER_PROBE} gzip batches each, all probes at once, over loopback to the`,
    "self-hosted server (embedded libSQL file). A batch is one interval of a typical host: 1 host sample,",
    "3 filesystems, 2 disks, 2 interfaces (" +
      `${rowsOf(makeBatch(0, 1)) - 10}` +
      " series points) and 10 log lines; state every 10th.",
    "",
    "| path | batches/s | rows/s | p50 | p99 |",
    "|---|---|---|---|---|",
    `| POST /api/v1/probe/batches (HTTP, auth, gzip, zod, dedup, one transaction) | ${(server.batches / server.seconds).toFixed(0)} | ${serverRate.toFixed(0)} | ${server.p50.toFixed(1)} ms | ${server.p99.toFixed(1)} ms |`,
    `| baseline: the same rows inserted straight into libSQL, one transaction per batch | ${(server.batches / raw.seconds).toFixed(0)} | ${rawRate.toFixed(0)} | | |`,
    "",
    `**Ratio: ${(serverRate / rawRate).toFixed(2)}× the raw insert rate** (goal ≥ 0.5×).`,
    "",
    "Storage for one host at a 30 s interval (measured: one simulated day ingested and rolled up, sizes from SQLite's dbstat, tables with their indexes):",
    "",
    "| what | per host per day | kept (default) | steady state |",
    "|---|---|---|---|",
    `| raw samples | ${mb(size.raw)} | 7 days | ${mb(size.raw * 7)} |`,
    `| log entries (10 per interval) | ${mb(size.logs)} | 14 days, ≤ 100,000 per host | ${mb(size.logs * logDays)} |`,
    `| hourly rollups | ${mb(size.hourly)} | 90 days | ${mb(size.hourly * 90)} |`,
    `| daily rollups | ${mb(size.daily)} | 730 days | ${mb(size.daily * 730)} |`,
    `| **total** | | | **${mb(steady)}** |`,
    "",
  ].join("\n");
}

if (import.meta.url === `file://${resolve(process.argv[1] ?? "")}`) {
  console.log(await benchIngest());
}
