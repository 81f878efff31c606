/**
 * Custom metrics (issue 22): what 2,000 scraped series cost, against the same work without them, in one run.
 *
 * 1. Ingest: the engine stores host batches on a migrated file database (the self-hosted setup), one
 *    after another for one host, first the typical host-only batch (bench/ingest.ts), then the same batch
 *    carrying 2,000 custom series. Cost per batch, and per stored point.
 * 2. Push: the same 2,000 series as Prometheus text through the parser and `pushCustomMetrics`.
 * 3. Probe: the real probe bundle once a second against a local sink, with and without a scrape target
 *    serving 2,000 series (a local HTTP server): CPU (utime+stime) per cycle and gzip bytes per batch.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { gunzipSync } from "node:zlib";
import { tuneEmbeddedDb } from "@vigil/api/server";
import { probeBatchV1Schema } from "@vigil/contract";
import { parseExposition } from "@vigil/contract/exposition";
import { closeDb, createDb } from "@vigil/db";
import { migrateDb, migrationsFolder } from "@vigil/db/migrate";
import { createProject } from "@vigil/db/testing";
import {
  authenticateHost,
  createEngineState,
  createEnrollmentToken,
  enrollHost,
  flattenMetrics,
  ingestBatch,
  pushCustomMetrics,
} from "@vigil/engine";
import { manualClock } from "@vigil/engine/testing";
import { makeBatch } from "./ingest.ts";

const SERIES = 2_000;
const BATCHES = 200;
const START = Date.UTC(2026, 10, 1);

/** 2,000 series as an app exposes them: 40 families of 50 label sets; a tenth counters, a histogram. */
export function exposition(scrape: number): string {
  const lines: string[] = [];
  for (let f = 0; f < 40; f++) {
    const counter = f % 10 === 0;
    const name = counter ? `app_requests_${f}_total` : `app_queue_${f}_depth`;
    lines.push(
      `# HELP ${name} Family ${f} of the bench app.`,
      `# TYPE ${name} ${counter ? "counter" : "gauge"}`,
    );
    for (let k = 0; k < 50; k++) {
      const value = counter ? scrape * 10 + k : (k * 7 + scrape) % 100;
      lines.push(`${name}{route="/api/r${k}",method="GET",status="200"} ${value}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

function customSamples(ts: number, scrape: number) {
  return parseExposition(exposition(scrape)).flatMap((family) =>
    family.samples.map((s) => ({
      ts,
      name: s.name,
      labels: { ...s.labels, job: "app" },
      value: s.value,
      kind: family.type === "counter" ? "counter" : "gauge",
    })),
  );
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

export async function ingestCost() {
  const dir = mkdtempSync(join(tmpdir(), "vigil-bench-custom-"));
  const url = `file:${join(dir, "vigil.db")}`;
  const db = createDb({ url });
  await tuneEmbeddedDb(db, url);
  await migrateDb(db, migrationsFolder);
  const clock = manualClock(START);
  const project = await createProject(db);
  const { token } = await createEnrollmentToken(db, clock, project.id, { name: "bench" });
  const engine = createEngineState();
  const hosts = await Promise.all(
    ["plain", "custom"].map(async (name) => {
      const enrolled = await enrollHost(db, clock, { token, facts: { hostname: name, machineId: name } });
      const principal = await authenticateHost(db, enrolled.hostToken);
      if (!principal) throw new Error("host token not valid");
      return principal;
    }),
  );
  const run = async (withCustom: boolean) => {
    const host = hosts[withCustom ? 1 : 0];
    if (!host) throw new Error("no host");
    const times: number[] = [];
    let points = 0;
    for (let i = 0; i < BATCHES; i++) {
      const raw = makeBatch(withCustom ? 1 : 0, i, START);
      const batch = probeBatchV1Schema.parse(
        withCustom ? { ...raw, customMetrics: customSamples(raw.sentAt, i) } : raw,
      );
      clock.set(raw.sentAt);
      const t0 = performance.now();
      await ingestBatch(db, clock, host, batch, engine);
      times.push(performance.now() - t0);
      points = flattenMetrics(batch).length;
    }
    // The first batch of a host makes its series; steady state is what every later interval costs.
    return { ms: median(times.slice(5)), first: times[0] ?? 0, points };
  };
  const plain = await run(false);
  const custom = await run(true);

  const pushTimes: number[] = [];
  for (let i = 0; i < 50; i++) {
    clock.set(START + i * 30_000);
    const t0 = performance.now();
    const samples = parseExposition(exposition(i)).flatMap((family) =>
      family.samples.map((s) => ({
        name: s.name,
        labels: s.labels,
        value: s.value,
        kind: family.type === "counter" ? ("counter" as const) : ("gauge" as const),
      })),
    );
    await pushCustomMetrics(db, clock, engine, project.id, { job: "bench", samples });
    pushTimes.push(performance.now() - t0);
  }
  closeDb(db);
  rmSync(dir, { recursive: true, force: true });
  return { plain, custom, push: median(pushTimes.slice(5)) };
}

const TICKS_PER_SECOND = 100;
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

const listen = (server: Server) =>
  new Promise<string>((ok) =>
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      ok(`http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`);
    }),
  );

/** The probe bundle for `cycles` one-second cycles after a warm-up; CPU per cycle and gzip bytes per batch. */
async function probeCost(scrapeUrl: string | null, cycles: number) {
  const stateDir = mkdtempSync(join(tmpdir(), "vigil-bench-probe-"));
  const batches: { bytes: number; custom: number }[] = [];
  const sink = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const batch = JSON.parse(gunzipSync(body).toString()) as { batchId: string; customMetrics?: unknown[] };
      batches.push({ bytes: body.length, custom: batch.customMetrics?.length ?? 0 });
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ batchId: batch.batchId, accepted: true, duplicate: false }));
    });
  });
  const server = await listen(sink);
  writeFileSync(join(stateDir, "identity.json"), JSON.stringify({ server, hostId: "bench", hostToken: "t" }));
  const config = {
    stateDir,
    intervalSec: 1,
    ...(scrapeUrl ? { scrape: [{ name: "app", url: scrapeUrl, intervalSec: 1, timeoutSec: 1 }] } : {}),
  };
  writeFileSync(join(stateDir, "probe.json"), JSON.stringify(config));
  const bundle = resolve(import.meta.dirname, "../probe/dist/vigil-probe.mjs");
  const child = spawn(process.execPath, [bundle, "run", "--config", join(stateDir, "probe.json")], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  const pid = child.pid ?? 0;
  const waitFor = async (n: number) => {
    while (batches.length < n) await new Promise((ok) => setTimeout(ok, 50));
  };
  await waitFor(3);
  const from = batches.length;
  const cpu0 = cpuMs(pid);
  await waitFor(from + cycles);
  const cpu = (cpuMs(pid) - cpu0) / cycles;
  const measured = batches.slice(from, from + cycles);
  child.kill("SIGTERM");
  sink.close();
  rmSync(stateDir, { recursive: true, force: true });
  return {
    cpu,
    bytes: median(measured.map((b) => b.bytes)),
    custom: median(measured.map((b) => b.custom)),
  };
}

export async function runCustomMetricsBench(cycles = 30): Promise<string> {
  const ingest = await ingestCost();
  let scrapes = 0;
  const app = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
    res.end(exposition(scrapes++));
  });
  const appUrl = `${await listen(app)}/metrics`;
  const without = await probeCost(null, cycles);
  const withScrape = await probeCost(appUrl, cycles);
  app.close();
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
  return [
    `${SERIES.toLocaleString("en")} custom series per interval (40 families × 50 label sets, a tenth counters).`,
    "",
    "| what | without custom metrics | with 2,000 series | ratio |",
    "|---|---|---|---|",
    `| engine: store one host batch (median of ${BATCHES - 5}, file database) | ${ingest.plain.ms.toFixed(2)} ms (${ingest.plain.points} points) | ${ingest.custom.ms.toFixed(2)} ms (${ingest.custom.points} points) | ${ratio(ingest.custom.ms, ingest.plain.ms)} |`,
    `| engine: per stored point | ${((1000 * ingest.plain.ms) / ingest.plain.points).toFixed(1)} µs | ${((1000 * ingest.custom.ms) / ingest.custom.points).toFixed(1)} µs | ${ratio(ingest.custom.ms / ingest.custom.points, ingest.plain.ms / ingest.plain.points)} |`,
    `| engine: first batch of a host (makes its series) | ${ingest.plain.first.toFixed(1)} ms | ${ingest.custom.first.toFixed(1)} ms | |`,
    `| push: 2,000 samples as text, parsed and stored | | ${ingest.push.toFixed(2)} ms | |`,
    `| probe: CPU per 1 s cycle (${cycles} cycles) | ${without.cpu.toFixed(1)} ms | ${withScrape.cpu.toFixed(1)} ms | ${ratio(withScrape.cpu, without.cpu)} |`,
    `| probe: gzip bytes per batch | ${without.bytes.toLocaleString("en")} B | ${withScrape.bytes.toLocaleString("en")} B (${withScrape.custom} samples) | ${ratio(withScrape.bytes, without.bytes)} |`,
  ].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await runCustomMetricsBench());
