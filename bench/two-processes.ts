/**
 * Two server processes on one database (issue 14). Run: `npx tsx bench/two-processes.ts` (or `npm run bench`).
 * 1. Start one self-hosted server (src/node.ts as a child process) on a fresh libSQL file, make 100
 *    heartbeat checks, and drive POST pings (each with a unique body) at it for a few rounds.
 * 2. Start a second server on the same file and drive the same load split over both.
 * 3. The same with two servers on one local sqld (what Worker isolates on one Turso database are).
 * For each: pings/s, answers by class (2xx, 4xx, 5xx, connection errors), and pings answered 2xx that are
 * not in the database afterwards (lost). The figure that matters is the 5xx and lost count (must be 0);
 * the two-process / one-process ratio shows what sharing the file's write lock costs.
 */
import { mkdtempSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ServerProcess, savedAdminKey, startServerProcess } from "@vigil/api/scripts/server-process.ts";
import { startSqld } from "@vigil/api/scripts/sqld.ts";
import { closeDb, createDb } from "@vigil/db";

const quick = process.argv.includes("--quick");
const CONCURRENCY = 32;
const ROUND_MS = quick ? 1000 : 3000;
const CHECKS = 100;

interface LoadResult {
  ok: number;
  client: number;
  server: number;
  failed: number;
  ms: number;
  /** bodies of the pings answered 2xx */
  accepted: string[];
}

/** Keeps CONCURRENCY pings in flight for `durationMs`, spread evenly over the servers. */
async function load(urls: string[], ids: string[], durationMs: number, tag: string): Promise<LoadResult> {
  const agents = urls.map(() => new Agent({ keepAlive: true, maxSockets: CONCURRENCY }));
  const result: LoadResult = { ok: 0, client: 0, server: 0, failed: 0, ms: 0, accepted: [] };
  let n = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  const one = (worker: number) =>
    new Promise<void>((done) => {
      const i = n++;
      const server = worker % urls.length;
      const { hostname, port } = new URL(urls[server] ?? "");
      const body = `${tag}-${i}`;
      const req = request(
        {
          agent: agents[server],
          hostname,
          port,
          path: `/ping/${ids[i % ids.length]}`,
          method: "POST",
          headers: { "content-type": "text/plain", "content-length": Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on("end", () => {
            const status = res.statusCode ?? 0;
            if (status >= 500) result.server++;
            else if (status >= 400) result.client++;
            else {
              result.ok++;
              result.accepted.push(body);
            }
            done();
          });
        },
      );
      req.on("error", () => {
        result.failed++;
        done();
      });
      req.end(body);
    });
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, worker) => {
      while (performance.now() < deadline) await one(worker);
    }),
  );
  result.ms = performance.now() - started;
  for (const agent of agents) agent.destroy();
  return result;
}

async function makeChecks(url: string, key: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < CHECKS; i++) {
    const res = await fetch(`${url}/api/v1/checks`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ kind: "heartbeat", name: `job ${i}`, period: 3600 }),
    });
    if (res.status !== 201) throw new Error(`creating a check answered ${res.status}: ${await res.text()}`);
    ids.push(((await res.json()) as { id: string }).id);
  }
  return ids;
}

/** Accepted pings whose body is not in the database. */
async function lostPings(dbUrl: string, accepted: string[]): Promise<number> {
  const db = createDb({ url: dbUrl });
  try {
    const { rows } = await db.$client.execute("select body from pings");
    const stored = new Set(rows.map((r) => String(r.body)));
    return accepted.filter((b) => !stored.has(b)).length;
  } finally {
    closeDb(db);
  }
}

export interface Scenario {
  name: string;
  processes: number;
  perSec: number;
  ok: number;
  client: number;
  server: number;
  failed: number;
  lost: number;
}

async function scenario(
  name: string,
  dbUrl: string,
  processes: number,
  dataDirs: string[],
  extraEnv: Record<string, string> = {},
): Promise<Scenario> {
  const servers: ServerProcess[] = [];
  try {
    for (let i = 0; i < processes; i++) {
      // Scheduler ticks run as in production, so they contend for the database too. The per-address ping
      // limit is off: every ping here comes from 127.0.0.1, which is the load generator, not abuse.
      servers.push(
        await startServerProcess({
          VIGIL_DATA_DIR: dataDirs[i] ?? "",
          VIGIL_DB_URL: dbUrl,
          VIGIL_TICK_MS: "1000",
          VIGIL_LIMIT_PINGS_PER_ADDRESS: "0",
          ...extraEnv,
        }),
      );
    }
    const urls = servers.map((s) => s.url);
    const key = savedAdminKey(dataDirs[0] ?? "");
    const ids = await makeChecks(urls[0] ?? "", key);
    const tag = `${name}-${processes}`;
    await load(urls, ids, 500, `${tag}-warm`);
    const result = await load(urls, ids, ROUND_MS, tag);
    const lost = await lostPings(dbUrl, result.accepted);
    return {
      name,
      processes,
      perSec: ((result.ok + result.client + result.server) / result.ms) * 1000,
      ok: result.ok,
      client: result.client,
      server: result.server,
      failed: result.failed,
      lost,
    };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

const fresh = () => mkdtempSync(join(tmpdir(), "vigil-bench-two-"));

export async function runTwoProcessesBench(): Promise<{ table: string; scenarios: Scenario[] }> {
  const scenarios: Scenario[] = [];
  const one = fresh();
  scenarios.push(await scenario("libSQL file", `file:${join(one, "vigil.db")}`, 1, [one]));
  const shared = fresh();
  scenarios.push(await scenario("libSQL file", `file:${join(shared, "vigil.db")}`, 2, [shared, shared]));
  for (const processes of [1, 2]) {
    const sqld = await startSqld();
    try {
      const dirs = [fresh(), fresh()];
      // Both processes must share the secret key; on sqld the credentials land in the first one's dir.
      scenarios.push(
        await scenario("sqld", sqld.url, processes, dirs, { VIGIL_SECRET_KEY: "bench-secret-0123456789" }),
      );
    } finally {
      await sqld.stop();
    }
  }
  const ratio = (db: string) => {
    const [a, b] = [1, 2].map((p) => scenarios.find((s) => s.name === db && s.processes === p)?.perSec ?? 0);
    return a ? (b ?? 0) / a : 0;
  };
  const table = [
    `POST pings with a unique body, ${CONCURRENCY} keep-alive connections split over the processes, ${ROUND_MS} ms after a 500 ms warm-up, ${CHECKS} heartbeat checks, scheduler ticking every second in each process:`,
    "",
    "| database | processes | pings/s | 2xx | 4xx | 5xx | connection errors | 2xx but not stored |",
    "|---|---|---|---|---|---|---|---|",
    ...scenarios.map(
      (s) =>
        `| ${s.name} | ${s.processes} | ${s.perSec.toFixed(0)} | ${s.ok} | ${s.client} | ${s.server} | ${s.failed} | ${s.lost} |`,
    ),
    "",
    `Two processes / one: libSQL file **${ratio("libSQL file").toFixed(2)}×**, sqld **${ratio("sqld").toFixed(2)}×**.`,
  ].join("\n");
  return { table, scenarios };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log((await runTwoProcessesBench()).table);
}
