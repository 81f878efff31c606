/**
 * The API calls behind each dashboard screen, self-hosted (issue 13: p95 ≤ 50 ms). The real server on a
 * libSQL file, signed in through the setup link with a session cookie as the browser is, holding 12 hosts
 * with the last 3 hours of 30-second batches (ingested through the engine, rolled up; the first host with
 * a week of 15-minute batches before that, for the 7-day charts), 30 heartbeats with
 * 20 pings each and a webhook channel. Two figures per screen, over 40 rounds: the p95 of each call
 * made alone (the server's time per call), and the p95 of the whole screen's calls made at most six at a
 * time, as a browser on HTTP/1.1 makes them (until the screen has all its data). Baseline in the same
 * run: `/healthz`, alone.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { settingsFromEnv, startServer, tuneEmbeddedDb } from "@vigil/api/server";
import { probeBatchV1Schema } from "@vigil/contract";
import { closeDb, createDb } from "@vigil/db";
import { migrateDb, migrationsFolder } from "@vigil/db/migrate";
import {
  authenticateHost,
  bootstrapProject,
  createEngineState,
  createEnrollmentToken,
  enrollHost,
  ingestBatch,
  rollUpDirtyHours,
  systemClock,
} from "@vigil/engine";
import { makeBatch } from "./ingest.ts";

const HOSTS = 12;
const HOURS = 3;
/** the first host also has a week of history, one batch every 15 minutes, for the 7-day chart */
const WEEK_STEP_MS = 15 * 60_000;
const CHECKS = 30;
const ROUNDS = 40;
/** connections a browser opens to one origin over HTTP/1.1 */
const CONNECTIONS = 6;
const INTERVAL_MS = 30_000;

const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.ceil(xs.length * 0.95) - 1] ?? 0;

async function seedHosts(dir: string): Promise<string[]> {
  const url = `file:${join(dir, "vigil.db")}`;
  const db = createDb({ url });
  try {
    await migrateDb(db, migrationsFolder);
    await tuneEmbeddedDb(db, url);
    const { project } = await bootstrapProject(db, systemClock);
    const { token } = await createEnrollmentToken(db, systemClock, project.id, { name: "bench" });
    const start = Date.now() - HOURS * 3_600_000;
    const ids: string[] = [];
    const engine = createEngineState();
    for (let h = 0; h < HOSTS; h++) {
      const { hostToken, hostId } = await enrollHost(db, systemClock, {
        token,
        facts: { hostname: `web-${h}`, machineId: `bench-machine-${h}` },
      });
      ids.push(hostId);
      const host = await authenticateHost(db, hostToken);
      if (!host) throw new Error("host token rejected");
      if (h === 0) {
        const weekStart = start - 7 * 86_400_000;
        for (let t = weekStart; t < start; t += WEEK_STEP_MS) {
          await ingestBatch(db, systemClock, host, probeBatchV1Schema.parse(makeBatch(h, 0, t)), engine);
        }
      }
      for (let i = 0; i < (HOURS * 3_600_000) / INTERVAL_MS; i++) {
        await ingestBatch(db, systemClock, host, probeBatchV1Schema.parse(makeBatch(h, i, start)), engine);
      }
    }
    while ((await rollUpDirtyHours(db, Date.now(), 1000)) > 0) {}
    return ids;
  } finally {
    closeDb(db);
  }
}

export async function runDashboardApiBench(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "vigil-bench-dash-api-"));
  const hostIds = await seedHosts(dir);
  const lines: string[] = [];
  const server = await startServer(
    settingsFromEnv({ VIGIL_DATA_DIR: dir, VIGIL_PORT: "0", VIGIL_LOCAL_PROBE: "0" }),
    { migrationsFolder, log: (line) => lines.push(line) },
  );
  try {
    const link = lines.join("\n").match(/\/setup\?token=(\S+)/)?.[1];
    if (!link) throw new Error(`no setup link in:\n${lines.join("\n")}`);
    const setup = await fetch(`${server.url}/api/v1/setup`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: server.url },
      body: JSON.stringify({
        token: decodeURIComponent(link),
        name: "Bench Owner",
        email: "bench@example.test",
        password: "a long enough bench password",
        organizationName: "Bench",
      }),
    });
    if (setup.status !== 201) throw new Error(`setup answered ${setup.status}: ${await setup.text()}`);
    const cookie = setup.headers
      .getSetCookie()
      .map((c) => c.split(";")[0])
      .join("; ");
    const { organizations } = (await setup.json()) as { organizations: { projects: { id: string }[] }[] };
    const projectId = organizations[0]?.projects[0]?.id;
    if (!projectId) throw new Error("setup gave no project");
    const base = `${server.url}/api/v1/projects/${projectId}`;
    const call = async (path: string, init?: RequestInit) => {
      const started = performance.now();
      const res = await fetch(path.startsWith("/healthz") ? `${server.url}${path}` : `${base}${path}`, {
        ...init,
        headers: { cookie, origin: server.url, "content-type": "application/json", ...init?.headers },
      });
      const body = await res.text();
      if (res.status >= 300) throw new Error(`${path} answered ${res.status}: ${body.slice(0, 200)}`);
      return { ms: performance.now() - started, body };
    };

    const checkIds: string[] = [];
    for (let i = 0; i < CHECKS; i++) {
      const { body } = await call("/checks", {
        method: "POST",
        body: JSON.stringify({ kind: "heartbeat", name: `job ${i}`, periodSec: 3600, graceSec: 600 }),
      });
      const check = JSON.parse(body) as { id: string; pingUrl: string };
      checkIds.push(check.id);
      for (let k = 0; k < 20; k++) await fetch(check.pingUrl.replace(/^https?:\/\/[^/]+/, server.url));
    }
    await call("/channels", {
      method: "POST",
      body: JSON.stringify({ kind: "webhook", name: "ops hook", url: "https://hooks.example.test/x" }),
    });

    const host = hostIds[0];
    const to = Math.ceil(Date.now() / 10_000) * 10_000;
    const week = Math.ceil(Date.now() / 3_600_000) * 3_600_000;
    const names =
      "cpu.idle_pct,cpu.iowait_pct,load.1,load.5,load.15,mem.available_pct,swap.used_bytes,fs.used_pct," +
      "disk.read_bytes_per_sec,disk.write_bytes_per_sec,net.rx_bytes_per_sec,net.tx_bytes_per_sec," +
      "psi.cpu_some_pct,psi.memory_some_pct,psi.io_some_pct";
    const minute = Math.floor(Date.now() / 60_000) * 60_000;
    // What each screen asks for on arrival (the overview's first 12 cards are the ones in view).
    const screens: [string, string[]][] = [
      [
        "overview (hosts, firing alerts, checks, 12 visible cards' load)",
        [
          "/hosts",
          "/alerts?state=firing",
          "/checks",
          ...hostIds
            .slice(0, 12)
            .map((id) => `/hosts/${id}/metrics?names=load.1&from=${minute - 3_600_000}&step=60`),
        ],
      ],
      [
        "host, 1 h (15 series)",
        [
          `/hosts/${host}`,
          `/hosts/${host}/metrics?names=${names}&from=${to - 3_600_000}&to=${to}&step=10`,
          `/hosts/${host}/events`,
        ],
      ],
      [
        "host, 7 d (15 series from hourly rollups)",
        [`/hosts/${host}/metrics?names=${names}&from=${week - 7 * 86_400_000}&to=${week}&step=3600`],
      ],
      ["checks", ["/checks"]],
      ["a check (with its ping log)", [`/checks/${checkIds[0]}`, `/checks/${checkIds[0]}/pings`]],
      ["channels (with the delivery log)", ["/channels", "/deliveries?limit=50"]],
      ["settings (tokens, keys)", ["/enrollment-tokens", "/api-keys"]],
    ];
    /** The screen's calls with at most `CONNECTIONS` in flight: the time until the last one answers. */
    const loadScreen = async (paths: string[]) => {
      const started = performance.now();
      const queue = [...paths];
      const worker = async () => {
        for (let p = queue.shift(); p !== undefined; p = queue.shift()) await call(p);
      };
      await Promise.all(Array.from({ length: Math.min(CONNECTIONS, paths.length) }, worker));
      return performance.now() - started;
    };
    const baseline: number[] = [];
    const alone = new Map<string, number[]>(screens.map(([name]) => [name, []]));
    const whole = new Map<string, number[]>(screens.map(([name]) => [name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      baseline.push((await call("/healthz")).ms);
      for (const [name, paths] of screens) {
        for (const p of paths) alone.get(name)?.push((await call(p)).ms);
        whole.get(name)?.push(await loadScreen(paths));
      }
    }
    const base95 = p95(baseline);
    const rows = screens.map(([name, paths]) => {
      const each = p95(alone.get(name) ?? []);
      const screen = p95(whole.get(name) ?? []);
      return `| ${name} | ${paths.length} | ${each.toFixed(1)} ms | ${(each / base95).toFixed(1)}× | ${screen.toFixed(1)} ms | ≤ 50 ms |`;
    });
    return [
      `${HOSTS} hosts × ${HOURS} h of 30 s batches (one with a week more), ${CHECKS} heartbeats × 20 pings; ${ROUNDS} rounds, signed in with a session cookie.`,
      "",
      "| screen | calls | p95 per call, alone | vs `/healthz` p95 | p95 whole screen, ≤ 6 at a time | budget (per call) |",
      "|---|---|---|---|---|---|",
      ...rows,
      `| baseline: \`/healthz\` | 1 | ${base95.toFixed(2)} ms | 1× | | |`,
    ].join("\n");
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await runDashboardApiBench());
