#!/usr/bin/env node
// Side-by-side cost of the Vigil probe and Debian's prometheus-node-exporter on this machine.
//
//   node bench/probe/compare-node-exporter.mjs [--cycles 30]
//
// Needs: the probe bundle (built here with probe/scripts/build.mjs), `prometheus-node-exporter` on PATH
// (apt-get install prometheus-node-exporter), and bun in node_modules/.bin for the Bun row (optional).
// What it measures, per tool, after a warm-up:
// 1. CPU: utime+stime from /proc/<pid>/stat (plus children's, for tools the probe spawns) over N cycles;
// 2. steady RSS (VmRSS) after the cycles;
// 3. bytes on the wire: the probe's gzip'd batch per interval vs one scrape (plain and gzip'd);
// 4. agreement: memory, root filesystem and load as each tool reports them.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { startProbeDaemon } from "./daemon.mjs";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const cyclesFlag = process.argv.indexOf("--cycles");
const CYCLES = cyclesFlag > 0 ? Number(process.argv[cyclesFlag + 1]) : 30;
const WARMUP = 3;
const TICKS_PER_SECOND = Number(spawnSync("getconf", ["CLK_TCK"]).stdout.toString().trim()) || 100;

function cpuMs(pid, withChildren) {
  // Fields after the ")" of comm: state is index 0, utime 11, stime 12, cutime 13, cstime 14.
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  const ticks =
    Number(fields[11]) + Number(fields[12]) + (withChildren ? Number(fields[13]) + Number(fields[14]) : 0);
  return (ticks * 1000) / TICKS_PER_SECOND;
}

function rssMb(pid) {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);
  return kb / 1024;
}

const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function benchProbe(runtime, command) {
  const { child, batches, stop } = await startProbeDaemon(command);
  while (batches.length < WARMUP) await wait(50);
  const cpuBefore = cpuMs(child.pid, true);
  const ownBefore = cpuMs(child.pid, false);
  const startCount = batches.length;
  while (batches.length < startCount + CYCLES) await wait(50);
  const cycles = batches.length - startCount;
  const result = {
    runtime,
    cpuMsPerCycle: (cpuMs(child.pid, true) - cpuBefore) / cycles,
    ownCpuMsPerCycle: (cpuMs(child.pid, false) - ownBefore) / cycles,
    rssMb: rssMb(child.pid),
    bytesPerInterval: batches.slice(startCount).reduce((sum, b) => sum + b.bytes, 0) / cycles,
    firstBatchBytes: batches[0].bytes,
    last: batches.at(-1).batch,
    facts: batches[0].batch,
  };
  await stop();
  return result;
}

async function benchNodeExporter() {
  const port = 9100 + Math.floor(Math.random() * 500);
  const child = spawn(
    "prometheus-node-exporter",
    ["--no-collector.systemd", `--web.listen-address=127.0.0.1:${port}`, "--log.level=error"],
    { stdio: ["ignore", "ignore", "ignore"] },
  );
  const url = `http://127.0.0.1:${port}/metrics`;
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(url);
      break;
    } catch {
      await wait(100);
    }
  }
  for (let i = 0; i < WARMUP; i++) await (await fetch(url)).text();
  const before = cpuMs(child.pid, true);
  let text = "";
  for (let i = 0; i < CYCLES; i++)
    text = await (await fetch(url, { headers: { "Accept-Encoding": "identity" } })).text();
  const result = {
    cpuMsPerScrape: (cpuMs(child.pid, true) - before) / CYCLES,
    rssMb: rssMb(child.pid),
    scrapeBytes: Buffer.byteLength(text),
    scrapeGzipBytes: gzipSync(text).length,
    text,
  };
  child.kill("SIGTERM");
  await new Promise((resolve) => child.once("exit", resolve));
  return result;
}

function metric(text, name, labels = "") {
  for (const line of text.split("\n")) {
    if (line.startsWith(`${name}{`) && labels && line.includes(labels)) return Number(line.split(" ").at(-1));
    if (!labels && (line.startsWith(`${name} `) || line.startsWith(`${name}{`)))
      return Number(line.split(" ").at(-1));
  }
  return Number.NaN;
}

const bundle = join(repo, "probe", "dist", "vigil-probe.mjs");
spawnSync(process.execPath, [join(repo, "probe", "scripts", "build.mjs")], { stdio: "inherit" });
if (!existsSync(bundle)) throw new Error("probe bundle missing");

const exporter = await benchNodeExporter();
const rows = [await benchProbe(`node ${process.versions.node}`, [process.execPath, bundle])];
const bun = join(repo, "node_modules", ".bin", "bun");
if (existsSync(bun)) rows.push(await benchProbe("bun", [bun, bundle]));

const pct = (a, b) => `${(((a - b) / b) * 100).toFixed(2)}%`;
console.log(
  `\n${CYCLES} cycles/scrapes after ${WARMUP} warm-up, probe interval 1 s, CLK_TCK ${TICKS_PER_SECOND}\n`,
);
console.log("| tool | CPU ms per cycle/scrape | ratio to node_exporter | RSS MB | bytes per interval |");
console.log("|---|---|---|---|---|");
console.log(
  `| node_exporter (--no-collector.systemd) | ${exporter.cpuMsPerScrape.toFixed(2)} | 1 | ${exporter.rssMb.toFixed(1)} | ${exporter.scrapeBytes} plain, ${exporter.scrapeGzipBytes} gzip |`,
);
for (const row of rows) {
  console.log(
    `| vigil-probe on ${row.runtime} | ${row.cpuMsPerCycle.toFixed(2)} (own ${row.ownCpuMsPerCycle.toFixed(2)}) | ${(row.cpuMsPerCycle / exporter.cpuMsPerScrape).toFixed(2)} | ${row.rssMb.toFixed(1)} | ${row.bytesPerInterval.toFixed(0)} gzip (${((row.bytesPerInterval / exporter.scrapeBytes) * 100).toFixed(2)}% of a plain scrape; first batch ${row.firstBatchBytes}) |`,
  );
}
if (!existsSync(bun)) console.log("\nbun row skipped: node_modules/.bin/bun not installed");

// What each form puts on the host's disk: the installer takes the bundle when Node >= 20 is there, else the
// standalone executable (its own runtime inside).
const mb = (path) => `${(statSync(realpathSync(path)).size / 1e6).toFixed(2)} MB`;
const which = (name) =>
  spawnSync("sh", ["-c", `command -v ${name}`])
    .stdout.toString()
    .trim();
const standalone = join(repo, "probe", "dist", "vigil-probe");
console.log("\ninstalled size:\n");
console.log("| form | size on disk |");
console.log("|---|---|");
console.log(
  `| node_exporter (${which("prometheus-node-exporter")}) | ${mb(which("prometheus-node-exporter"))} |`,
);
console.log(
  `| vigil-probe one-file bundle (vigil-probe.mjs) | ${mb(bundle)}, plus the host's Node (node ${process.versions.node}: ${mb(process.execPath)}) |`,
);
console.log(
  existsSync(standalone)
    ? `| vigil-probe standalone executable (Bun inside, for hosts without Node) | ${mb(standalone)} |`
    : "| vigil-probe standalone executable | not built here (needs bun in node_modules) |",
);

const probe = rows[0].last;
const sample = probe.samples[0];
const root = probe.filesystems.find((fs) => fs.mount === "/");
const t = exporter.text;
console.log("\nagreement (probe vs node_exporter, taken seconds apart):");
const compare = [
  ["MemTotal", sample.memory.totalBytes, metric(t, "node_memory_MemTotal_bytes")],
  ["MemAvailable", sample.memory.availableBytes, metric(t, "node_memory_MemAvailable_bytes")],
  ["root fs size", root?.sizeBytes, metric(t, "node_filesystem_size_bytes", 'mountpoint="/"')],
  ["root fs available", root?.availableBytes, metric(t, "node_filesystem_avail_bytes", 'mountpoint="/"')],
  ["load1", sample.load1, metric(t, "node_load1")],
];
for (const [name, ours, theirs] of compare)
  console.log(`  ${name}: probe ${ours} node_exporter ${theirs} (${pct(ours, theirs)})`);
