/**
 * Status page benchmark (issue 8). Run: `npx tsx bench/status.ts` (or `npm run bench` for every bench).
 * Render time of one page with 50 components and 90 days of history on the self-hosted server over
 * loopback, one request at a time (latency, not throughput): uncached (rendered from the database every
 * time), cached (the in-process cache `npm start` uses), the JSON form uncached, and a bare Hono route on
 * the same server. Kinds alternate in rounds so each sees the same machine state.
 */
import { spawn } from "node:child_process";
import { Agent, request } from "node:http";
import { resolve } from "node:path";
import { createInterface } from "node:readline";

const quick = process.argv.includes("--quick");
const PER_ROUND = quick ? 20 : 100;
const ROUNDS = quick ? 1 : 4;

function get(agent: Agent, base: string, path: string): Promise<{ ms: number; bytes: number }> {
  const { hostname, port } = new URL(base);
  return new Promise((done, fail) => {
    const t0 = performance.now();
    const req = request({ agent, hostname, port, path, method: "GET" }, (res) => {
      let bytes = 0;
      res.on("data", (chunk: Buffer) => {
        bytes += chunk.length;
      });
      res.on("end", () => {
        if (res.statusCode !== 200) fail(new Error(`${path} answered ${res.statusCode}`));
        else done({ ms: performance.now() - t0, bytes });
      });
    });
    req.on("error", fail);
    req.end();
  });
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
const fmt = (n: number, digits = 2) => n.toFixed(digits);

export async function runStatusBench(): Promise<string> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", resolve(import.meta.dirname, "status-server.ts")],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  try {
    const line = await new Promise<string>((ok) => createInterface({ input: child.stdout }).once("line", ok));
    const { url, slug } = JSON.parse(line) as { url: string; slug: string };
    const kinds = [
      ["GET /bare (bare Hono route)", "/bare"],
      ["GET /status/<slug>, uncached", `/uncached/status/${slug}`],
      ["GET /status/<slug>, cached", `/status/${slug}`],
      ["GET /api/v1/status/<slug> (JSON), uncached", `/uncached/api/v1/status/${slug}`],
    ] as const;
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const times = new Map<string, number[]>(kinds.map(([name]) => [name, []]));
    const sizes = new Map<string, number>();
    for (const [, path] of kinds) for (let i = 0; i < 20; i++) await get(agent, url, path); // warm-up
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, path] of kinds) {
        for (let i = 0; i < PER_ROUND; i++) {
          const { ms, bytes } = await get(agent, url, path);
          times.get(name)?.push(ms);
          sizes.set(name, bytes);
        }
      }
    }
    agent.destroy();
    const rows = kinds.map(([name]) => {
      const sorted = (times.get(name) ?? []).sort((a, b) => a - b);
      return {
        name,
        n: sorted.length,
        p50: pct(sorted, 0.5),
        p95: pct(sorted, 0.95),
        kb: (sizes.get(name) ?? 0) / 1024,
      };
    });
    const uncached = rows[1];
    return [
      `One page, 50 components, 90 days of history, time zone Europe/Berlin; one request at a time over loopback, ${ROUNDS} alternating rounds of ${PER_ROUND} requests per kind:`,
      "",
      "| request | n | p50 ms | p95 ms | body kB |",
      "|---|---|---|---|---|",
      ...rows.map((r) => `| ${r.name} | ${r.n} | ${fmt(r.p50)} | ${fmt(r.p95)} | ${fmt(r.kb, 1)} |`),
      "",
      `Uncached p95: **${fmt(uncached?.p95 ?? 0)} ms** (goal < 50 ms: ${(uncached?.p95 ?? Infinity) < 50 ? "met" : "not met"}).`,
    ].join("\n");
  } finally {
    child.kill("SIGTERM");
  }
}

if (process.argv[1]?.endsWith("bench/status.ts")) {
  console.log(await runStatusBench());
}
