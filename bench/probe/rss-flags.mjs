#!/usr/bin/env node
// What the probe daemon's resident memory is made of, and what V8 flags and the Bun executable change.
//
//   node bench/probe/rss-flags.mjs [--cycles 20]
//
// Needs the probe bundle (probe/scripts/build.mjs) and, for the Bun row, the standalone executable beside it.
// 1. The floor: an idle runtime (`setInterval` and nothing else), Node and Bun, VmRSS after 2 s.
// 2. The daemon, collecting every second against a local sink, under each set of flags: CPU per cycle
//    (utime+stime, children included) and VmRSS after the cycles (and its peak meanwhile).
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startProbeDaemon } from "./daemon.mjs";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const bundle = join(repo, "probe", "dist", "vigil-probe.mjs");
const executable = join(repo, "probe", "dist", "vigil-probe");
const bun = join(repo, "node_modules", ".bin", "bun");
const cyclesFlag = process.argv.indexOf("--cycles");
const CYCLES = cyclesFlag > 0 ? Number(process.argv[cyclesFlag + 1]) : 20;
const TICKS_PER_SECOND = 100;
const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  return (ticks * 1000) / TICKS_PER_SECOND;
}

const rssMb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]) / 1024;

async function idle(command) {
  const child = spawn(command[0], [...command.slice(1), "-e", "setInterval(() => {}, 1000)"], {
    stdio: "ignore",
  });
  await wait(2000);
  const rss = rssMb(child.pid);
  child.kill("SIGTERM");
  await new Promise((resolve) => child.once("exit", resolve));
  return rss;
}

async function daemon(command) {
  const { child, batches, stop } = await startProbeDaemon(command);
  while (batches.length < 3) await wait(50);
  const before = cpuMs(child.pid);
  const start = batches.length;
  let peak = 0;
  while (batches.length < start + CYCLES) {
    await wait(200);
    peak = Math.max(peak, rssMb(child.pid));
  }
  const result = { cpu: (cpuMs(child.pid) - before) / (batches.length - start), rss: rssMb(child.pid), peak };
  await stop();
  return result;
}

const rows = [
  ["Node, no flags", [process.execPath, bundle]],
  ["Node, the unit's --max-old-space-size=64", [process.execPath, "--max-old-space-size=64", bundle]],
  [
    "… plus --max-semi-space-size=1 --v8-pool-size=1",
    [process.execPath, "--max-old-space-size=64", "--max-semi-space-size=1", "--v8-pool-size=1", bundle],
  ],
  ["… plus --lite-mode", [process.execPath, "--max-old-space-size=64", "--lite-mode", bundle]],
  ["… plus --jitless", [process.execPath, "--max-old-space-size=64", "--jitless", bundle]],
];
if (existsSync(executable)) rows.push(["Bun standalone executable", [executable]]);

const lines = [
  `Idle runtimes (VmRSS): Node ${process.version} ${(await idle([process.execPath])).toFixed(1)} MB${
    existsSync(bun) ? `, Bun ${(await idle([bun])).toFixed(1)} MB` : ""
  }.`,
  "",
  `| probe daemon, 1 s interval, ${CYCLES} cycles | CPU per cycle | VmRSS | peak |`,
  "|---|---|---|---|",
];
for (const [name, command] of rows) {
  const r = await daemon(command);
  lines.push(`| ${name} | ${r.cpu.toFixed(2)} ms | ${r.rss.toFixed(1)} MB | ${r.peak.toFixed(1)} MB |`);
}
console.log(lines.join("\n"));
