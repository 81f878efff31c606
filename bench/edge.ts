/**
 * The edge path beside the self-hosted one (issue 16). Run: `npx tsx bench/edge.ts` (or `npm run bench`).
 * Three targets in one run, each a real server over loopback:
 *   - self-hosted: the Node server on its libSQL file (what `npm start` runs), the baseline;
 *   - Node + sqld: the same server on a local libSQL server, so the database's cost shows on its own;
 *   - Worker: the Worker in workerd under `wrangler dev` (offline) on sqld, as a deployment on Turso runs.
 * For each: POST pings to one check from 10 and from 20 clients at once (a fleet's cron job), pings spread
 * over 20 checks, probe batches from 20 hosts, the status page under 16 clients, and the scheduler's whole
 * tick with 100,000 heartbeat checks (10 due per tick), read from the tick mark the scheduler writes. Then
 * the hit rate of each runtime's caches from its /metrics. Ratios are against the self-hosted server.
 * The per-check and per-address rate limits are off (all load comes from 127.0.0.1); the Worker's checks
 * run on the cron (VIGIL_CHECK_RUNNER=off) and are not spread over the minute (VIGIL_CHECK_SPREAD_MS=0), so
 * a tick is timed whole. The Node servers tick every second and the Worker's cron is fired every second
 * during load, so all three carry the same work.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ServerProcess, savedAdminKey, startServerProcess } from "@vigil/api/scripts/server-process.ts";
import { type Sqld, startSqld } from "@vigil/api/scripts/sqld.ts";
import { startWorkerProcess, type WorkerProcess } from "@vigil/api/scripts/worker-process.ts";
import { closeDb, createDb, type Db } from "@vigil/db";
import { migrateDb } from "@vigil/db/migrate";
import { bootstrapProject, systemClock } from "@vigil/engine";
import { type DbCounters, type DbMeter, meterSqld, perOperation } from "./db-meter.ts";
import { answered, drive, type LoadReport, percentile } from "./http-load.ts";
import { makeBatch } from "./ingest.ts";

const quick = process.argv.includes("--quick");
/** `--queued`: only the queued-ingest measurement (the others take minutes and do not change with it) */
const queuedOnly = process.argv.includes("--queued");
const ROUND_MS = quick ? 1000 : 3000;
const WARM_MS = 500;
const TICK_CHECKS = quick ? 10_000 : 100_000;
const TICKS = quick ? 4 : 10;
const METRICS_TOKEN = "bench-metrics-token";
const SECRET_KEY = "bench-secret-key-0123456789abcdefghijklmnop";

/** What every target runs with: limits meant for the internet are off, the self-metrics readable. */
const sharedEnv = {
  VIGIL_LIMIT_PINGS_PER_CHECK: "0",
  VIGIL_LIMIT_PINGS_PER_ADDRESS: "0",
  VIGIL_LIMIT_STATUS_PER_ADDRESS: "0",
  VIGIL_LIMIT_API_PER_KEY: "0",
  VIGIL_METRICS_TOKEN: METRICS_TOKEN,
  VIGIL_SECRET_KEY: SECRET_KEY,
};

interface Target {
  name: string;
  url: string;
  db: Db;
  adminKey: string;
  /** on sqld: the app's round trips and sqld's CPU time (the bench's own queries bypass it) */
  meter?: DbMeter;
  /** what sqld does per ms with no requests, measured when the bench starts on this target */
  idle?: DbCounters;
  /** makes the scheduler tick as production would while load runs (the Node servers tick on their own) */
  keepTicking(): () => void;
  /** lets one tick happen (fires the cron on the Worker; waits for the next on Node) */
  nudge(): Promise<void>;
  stop(): Promise<void>;
}

async function nodeTarget(name: string, sqld: Sqld | null): Promise<Target> {
  const dataDir = mkdtempSync(join(tmpdir(), "vigil-bench-edge-"));
  const meter = sqld ? await meterSqld(sqld) : undefined;
  const server: ServerProcess = await startServerProcess({
    ...sharedEnv,
    VIGIL_DATA_DIR: dataDir,
    VIGIL_TICK_MS: "1000",
    ...(meter ? { VIGIL_DB_URL: meter.url } : {}),
  });
  return {
    name,
    url: server.url,
    db: createDb({ url: sqld?.url ?? `file:${join(dataDir, "vigil.db")}` }),
    adminKey: savedAdminKey(dataDir),
    ...(meter ? { meter } : {}),
    keepTicking: () => () => undefined,
    nudge: async () => undefined,
    stop: async () => {
      await server.stop();
      await meter?.stop();
    },
  };
}

async function workerTarget(sqld: Sqld, env?: string): Promise<Target> {
  const setup = createDb({ url: sqld.url });
  await migrateDb(setup);
  const boot = await bootstrapProject(setup, systemClock);
  closeDb(setup);
  if (!boot.adminKey) throw new Error("a fresh database must give an admin key");
  const meter = await meterSqld(sqld);
  const worker: WorkerProcess = await startWorkerProcess({
    // The checks on the cron, unspread, so one fired cron is one whole tick, timed as on Node.
    vars: { ...sharedEnv, LIBSQL_URL: meter.url, VIGIL_CHECK_SPREAD_MS: "0", VIGIL_CHECK_RUNNER: "off" },
    ...(env ? { env } : {}),
  });
  const fire = () => worker.scheduled().then((res) => res.body?.cancel());
  return {
    name: env ? `Worker [env.${env}]` : "Worker (workerd + sqld)",
    url: worker.url,
    db: createDb({ url: sqld.url }),
    adminKey: boot.adminKey,
    meter,
    keepTicking() {
      const timer = setInterval(() => void fire().catch(() => undefined), 1000);
      return () => clearInterval(timer);
    },
    nudge: fire,
    stop: async () => {
      await worker.stop();
      await meter.stop();
    },
  };
}

async function api<T>(target: Target, path: string, body: unknown): Promise<T> {
  const res = await fetch(`${target.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${target.adminKey}`, "content-type": "application/json" },
    body: JSON.stringify(body),
    // a wedged database fails the bench with a reason instead of hanging it
    signal: AbortSignal.timeout(60_000),
  });
  if (!res.ok) throw new Error(`POST ${path} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

const heartbeats = (target: Target, n: number, tag: string, extra: object = {}) =>
  Promise.all(
    Array.from({ length: n }, (_, i) =>
      api<{ id: string }>(target, "/api/v1/checks", {
        kind: "heartbeat",
        name: `${tag} ${i}`,
        period: 3600,
        ...extra,
      }).then((c) => c.id),
    ),
  );

/**
 * A load round and, on sqld, what the database did per accepted request: during the round (`db`, the
 * scheduler's ticks included), and with one client and no cron fired (`dbAlone`, less what the database
 * does idle in that time), which is the operation's own cost.
 */
type Round = LoadReport & { db?: DbCounters; dbAlone?: DbCounters };

/** What sqld does with no requests coming in (a Node server still ticks), per millisecond. */
async function idleRate(meter: DbMeter): Promise<DbCounters> {
  const before = meter.read();
  await new Promise((r) => setTimeout(r, 2000));
  return perOperation(before, meter.read(), 2000);
}

async function aloneCost(
  target: Target,
  meter: DbMeter,
  idle: DbCounters,
  next: Parameters<typeof drive>[3],
) {
  const before = meter.read();
  const started = performance.now();
  const report = await drive(target.url, 1, ROUND_MS, next);
  const after = meter.read();
  const elapsed = performance.now() - started;
  const less = (k: keyof DbCounters) => Math.max(0, after[k] - idle[k] * elapsed);
  const corrected = {
    requests: less("requests"),
    bytesToDb: less("bytesToDb"),
    bytesFromDb: less("bytesFromDb"),
    cpuMs: less("cpuMs"),
  };
  return perOperation(before, corrected, report.accepted.length);
}

/** Warm-up, then the measured round, with the scheduler ticking as in production. */
async function measure(target: Target, clients: number, next: Parameters<typeof drive>[3]): Promise<Round> {
  const stopTicking = target.keepTicking();
  let round: Round;
  try {
    await drive(target.url, clients, WARM_MS, next);
    const before = target.meter?.read();
    round = await drive(target.url, clients, ROUND_MS, next);
    const after = target.meter?.read();
    if (before && after) round.db = perOperation(before, after, round.accepted.length);
  } finally {
    stopTicking();
  }
  if (target.meter && target.idle) round.dbAlone = await aloneCost(target, target.meter, target.idle, next);
  return round;
}

const pingTo = (ids: string[], tag: string) => (client: number, n: number) => ({
  path: `/ping/${ids[n % ids.length]}`,
  method: "POST",
  headers: { "content-type": "text/plain" },
  body: `${tag} client ${client} ping ${n}`,
});

async function enrolledHosts(target: Target, n: number): Promise<string[]> {
  const { token } = await api<{ token: string }>(target, "/api/v1/enrollment-tokens", { name: "bench" });
  const tokens: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${target.url}/api/v1/probe/enroll`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token, facts: { hostname: `bench-${i}`, machineId: crypto.randomUUID() } }),
    });
    if (res.status !== 201) throw new Error(`enroll answered ${res.status}: ${await res.text()}`);
    tokens.push(((await res.json()) as { hostToken: string }).hostToken);
  }
  return tokens;
}

/** Inserts heartbeats straight into the database (the API caps a project at 10,000 checks). */
async function seedHeartbeats(db: Db, total: number) {
  const { rows } = await db.$client.execute("select id from projects limit 1");
  const projectId = String(rows[0]?.id);
  const now = Date.now();
  for (let start = 0; start < total; start += 500) {
    const values: string[] = [];
    const args: (string | number)[] = [];
    for (let k = 0; k < Math.min(500, total - start); k++) {
      const due = now + 3600_000 + ((start + k) % 3600) * 1000;
      values.push("(?, ?, 'heartbeat', ?, 'up', ?, ?, ?, 3600, 600, ?, ?, ?, ?)");
      args.push(crypto.randomUUID(), projectId, `seeded ${start + k}`, now, crypto.randomUUID());
      args.push(due, now, due, now, now);
    }
    await db.$client.execute({
      sql: `insert into checks (id, project_id, kind, name, status, status_changed_at, cas, alert_after,
            period_sec, grace_sec, last_ping_at, next_due_at, created_at, updated_at) values ${values.join(", ")}`,
      args,
    });
  }
}

/** The mark each completed tick writes: when, and how long the whole tick took (ms). */
async function tickMark(db: Db): Promise<{ at: number; ms: number }> {
  const { rows } = await db.$client.execute(
    "select window_start, count from rate_limits where key = 'mark:scheduler-tick'",
  );
  return { at: Number(rows[0]?.window_start ?? 0), ms: Number(rows[0]?.count ?? 0) };
}

async function nextTick(target: Target, after: number): Promise<{ at: number; ms: number }> {
  const deadline = Date.now() + 30_000;
  await target.nudge();
  for (;;) {
    const mark = await tickMark(target.db);
    if (mark.at > after) return mark;
    if (Date.now() > deadline) throw new Error(`${target.name}: no tick completed within 30 s`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Whole-tick times with TICK_CHECKS heartbeats, 10 made due before each tick; the first two warm up. On
 * sqld, the database's work per measured tick too (the bench's own polling for the mark bypasses the
 * meter's count but not sqld's CPU: a few cheap reads per tick).
 */
async function tickTimes(target: Target): Promise<{ times: number[]; db?: DbCounters }> {
  await seedHeartbeats(target.db, TICK_CHECKS);
  let last = (await nextTick(target, (await tickMark(target.db)).at)).at;
  const times: number[] = [];
  let before: DbCounters | undefined;
  for (let t = 0; t < TICKS + 2; t++) {
    if (t === 2) before = target.meter?.read();
    const now = Date.now();
    await target.db.$client.execute({
      sql: `update checks set alert_after = ?, next_due_at = ? where id in
            (select id from checks where status = 'up' and name like 'seeded %' order by random() limit 10)`,
      args: [now - 1, now - 1],
    });
    const mark = await nextTick(target, last);
    last = mark.at;
    if (t >= 2) times.push(mark.ms);
  }
  const after = target.meter?.read();
  times.sort((a, b) => a - b);
  return before && after ? { times, db: perOperation(before, after, TICKS) } : { times };
}

/** Hit rate per cache from /metrics (vigil_cache_lookups_total). */
async function cacheHitRates(target: Target): Promise<Map<string, { hits: number; lookups: number }>> {
  const res = await fetch(`${target.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  const text = await res.text();
  const rates = new Map<string, { hits: number; lookups: number }>();
  for (const m of text.matchAll(
    /^vigil_cache_lookups_total\{cache="([^"]+)",result="(hit|miss)"\} (\d+)/gm,
  )) {
    const [, cache = "", result, n] = m;
    const rate = rates.get(cache) ?? { hits: 0, lookups: 0 };
    rate.lookups += Number(n);
    if (result === "hit") rate.hits += Number(n);
    rates.set(cache, rate);
  }
  return rates;
}

interface Figures {
  name: string;
  loads: Record<string, Round>;
  tick: number[];
  tickDb?: DbCounters;
  caches: Map<string, { hits: number; lookups: number }>;
}

/** Progress on stderr, so a long run shows where it is. */
const step = (target: { name: string }, what: string) => console.error(`edge bench: ${target.name}: ${what}`);

async function benchTarget(target: Target): Promise<Figures> {
  const loads: Record<string, Round> = {};
  try {
    if (target.meter) target.idle = await idleRate(target.meter);
    step(target, "pings");
    const [fleetCheck] = await heartbeats(target, 1, "fleet job");
    for (const clients of [10, 20]) {
      loads[`ping1x${clients}`] = await measure(
        target,
        clients,
        pingTo([fleetCheck ?? ""], `one ${clients}`),
      );
    }
    const spread = await heartbeats(target, 20, "job");
    loads.ping20 = await measure(target, 20, pingTo(spread, "spread"));
    step(target, "batches");
    const hosts = await enrolledHosts(target, 20);
    loads.batches = await measure(target, 20, (client, n) => ({
      path: "/api/v1/probe/batches",
      method: "POST",
      headers: { authorization: `Bearer ${hosts[client]}`, "content-type": "application/json" },
      body: JSON.stringify(makeBatch(client, n, Date.now() - 3600_000)),
    }));
    step(target, "status page");
    const shown = await heartbeats(target, 20, "service", { public: true });
    await api(target, "/api/v1/status-pages", {
      slug: "bench",
      title: "Bench",
      components: shown.map((id, i) => ({ type: "check", id, name: `service ${i}` })),
    });
    loads.status = await measure(target, 16, () => ({ path: "/status/bench" }));
    const caches = await cacheHitRates(target);
    step(target, `tick with ${int(TICK_CHECKS)} checks`);
    const tick = await tickTimes(target);
    return { name: target.name, loads, tick: tick.times, ...(tick.db ? { tickDb: tick.db } : {}), caches };
  } finally {
    closeDb(target.db);
    await target.stop();
  }
}

const int = (n: number) => Math.round(n).toLocaleString("en");
const ms = (n: number) => n.toFixed(1);

function table(all: Figures[]): string {
  const base = all[0] as Figures;
  const ratio = (f: Figures, value: (x: Figures) => number) =>
    f === base ? "1.00×" : `${(value(f) / value(base)).toFixed(2)}×`;
  const row = (label: string, value: (f: Figures) => number, show: (n: number) => string) =>
    `| ${label} | ${all.map((f) => `${show(value(f))} (${ratio(f, value)})`).join(" | ")} |`;
  const rejected = (key: string) => (f: Figures) => {
    const r = f.loads[key] as LoadReport;
    return `${answered(r, 409, 409)} / ${answered(r, 500, 599) + answered(r, 0, 0)}`;
  };
  const perSec = (key: string) => (f: Figures) => (f.loads[key] as LoadReport).perSec;
  const p95 = (key: string) => (f: Figures) => percentile((f.loads[key] as LoadReport).latencies, 0.95);
  const caches = [...new Set(all.flatMap((f) => [...f.caches.keys()]))].sort();
  return [
    `${ROUND_MS} ms per scenario after ${WARM_MS} ms of warm-up, closed-loop keep-alive clients; ratios against the self-hosted server:`,
    "",
    `| measure | ${all.map((f) => f.name).join(" | ")} |`,
    `|---|${all.map(() => "---").join("|")}|`,
    row("pings/s, 1 check, 10 clients", perSec("ping1x10"), int),
    `| 409 / 5xx+errors, 1 check, 10 clients | ${all.map(rejected("ping1x10")).join(" | ")} |`,
    row("pings/s, 1 check, 20 clients", perSec("ping1x20"), int),
    `| 409 / 5xx+errors, 1 check, 20 clients | ${all.map(rejected("ping1x20")).join(" | ")} |`,
    row("pings/s, 20 checks, 20 clients", perSec("ping20"), int),
    `| 409 / 5xx+errors, 20 checks | ${all.map(rejected("ping20")).join(" | ")} |`,
    row("ping p95 ms, 20 checks", p95("ping20"), ms),
    row("batches/s, 20 hosts", perSec("batches"), int),
    row("batch p95 ms", p95("batches"), ms),
    `| batch 5xx+errors | ${all.map((f) => answered(f.loads.batches as LoadReport, 500, 599) + answered(f.loads.batches as LoadReport, 0, 0)).join(" | ")} |`,
    row("status page req/s, 16 clients", perSec("status"), int),
    row("status page p95 ms", p95("status"), ms),
    row(`whole tick p50 ms, ${int(TICK_CHECKS)} checks`, (f) => percentile(f.tick, 0.5), ms),
    row(`whole tick max ms, ${int(TICK_CHECKS)} checks`, (f) => f.tick.at(-1) ?? 0, ms),
    ...caches.map(
      (cache) =>
        `| cache hit rate: ${cache} | ${all
          .map((f) => {
            const c = f.caches.get(cache);
            return c?.lookups ? `${((c.hits / c.lookups) * 100).toFixed(1)} % of ${int(c.lookups)}` : "–";
          })
          .join(" | ")} |`,
    ),
    "",
    dbCostTable(all.filter((f) => f.tickDb)),
  ].join("\n");
}

/**
 * The database's work per accepted request on sqld, under the load above (the scheduler ticking once a
 * second is included), and per whole tick. "ceiling" is how many of that operation one sqld core could
 * serve if it did nothing else: 1000 / CPU ms. Input for docs/capacity.md.
 */
function dbCostTable(metered: Figures[]): string {
  const operations: Array<[string, (f: Figures) => Round | undefined]> = [
    ["ping, 1 check", (f) => f.loads.ping1x20],
    ["ping, 20 checks", (f) => f.loads.ping20],
    ["probe batch", (f) => f.loads.batches],
    ["status page view", (f) => f.loads.status],
  ];
  const cost = (c: DbCounters | undefined) =>
    c
      ? `${c.requests.toFixed(2)} · ${c.cpuMs.toFixed(2)} ms · ${(c.bytesToDb / 1024).toFixed(1)} KiB · ${c.cpuMs > 0 ? int(1000 / c.cpuMs) : "∞"}/s`
      : "–";
  const underLoad = (c: DbCounters | undefined) =>
    c ? `${c.requests.toFixed(2)} · ${c.cpuMs.toFixed(2)} ms` : "–";
  return [
    "Database work per operation on sqld: alone (one client, no cron fired, less sqld's idle work) as round trips · sqld CPU · bytes sent to it · what one sqld core could serve at that CPU; then under the load above (ticks included):",
    "",
    `| operation | ${metered.map((f) => `${f.name}, alone | under load`).join(" | ")} |`,
    `|---|${metered.map(() => "---|---").join("|")}|`,
    ...operations.map(
      ([label, of]) =>
        `| ${label} | ${metered.map((f) => `${cost(of(f)?.dbAlone)} | ${underLoad(of(f)?.db)}`).join(" | ")} |`,
    ),
    `| whole tick, ${int(TICK_CHECKS)} checks | ${metered.map((f) => `${cost(f.tickDb)} | –`).join(" | ")} |`,
  ].join("\n");
}

/** hosts behind the queued measurement: more than a delivery's worth, so deliveries mix many hosts */
const QUEUED_HOSTS = 200;

interface QueuedFigures {
  /** batches answered 202 per second by the endpoint */
  acceptedPerSec: number;
  /** batches stored per second, from the first send until the queue was drained */
  storedPerSec: number;
  accepted: number;
  /** the database's work per stored batch, less what sqld does idle */
  db: DbCounters;
}

/**
 * Queued ingest ([env.queued] under wrangler dev, miniflare's queue): 20 clients send batches of 200 hosts
 * (each host's first batch sent and stored before, as in a running fleet) for one round,
 * answered 202 once queued; the consumer stores deliveries of up to 100 in one transaction. Measured until
 * every accepted batch is in the database.
 */
async function queuedBatches(): Promise<QueuedFigures> {
  const sqld = await startSqld();
  const target = await workerTarget(sqld, "queued");
  try {
    const meter = target.meter as DbMeter;
    const idle = await idleRate(meter);
    const hosts = await enrolledHosts(target, QUEUED_HOSTS);
    const stored = async () =>
      Number((await target.db.$client.execute("select count(*) as n from ingested_batches")).rows[0]?.n);
    const drained = async (count: number) => {
      const deadline = Date.now() + 120_000;
      while ((await stored()) < count) {
        if (Date.now() > deadline) throw new Error("the queue was not drained within 120 s");
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    // Rules are evaluated after a delivery is stored: its work is done when the app stops asking sqld.
    const settled = async () => {
      let last = -1;
      while (meter.read().requests !== last) {
        last = meter.read().requests;
        await new Promise((r) => setTimeout(r, 500));
      }
    };
    // Each host's first batch makes its built-in rules' checks: a once-per-host cost, paid before measuring.
    for (let i = 0; i < QUEUED_HOSTS; i += 20) {
      await Promise.all(
        hosts.slice(i, i + 20).map((token, k) =>
          fetch(`${target.url}/api/v1/probe/batches`, {
            method: "POST",
            headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
            body: JSON.stringify(makeBatch(i + k, 0, Date.now() - 7200_000)),
          }).then((r) => r.arrayBuffer()),
        ),
      );
    }
    await drained(QUEUED_HOSTS);
    await settled();
    const already = await stored();
    const before = meter.read();
    const started = performance.now();
    // 20 clients take turns over the hosts, so a delivery holds many hosts, as a fleet's does.
    const report = await drive(target.url, 20, ROUND_MS, (client, n) => ({
      path: "/api/v1/probe/batches",
      method: "POST",
      headers: {
        authorization: `Bearer ${hosts[(n * 20 + client) % QUEUED_HOSTS]}`,
        "content-type": "application/json",
      },
      body: JSON.stringify(makeBatch(client, n + 1, Date.now() - 3600_000)),
    }));
    const accepted = answered(report, 202, 202);
    await drained(already + accepted);
    await settled();
    const elapsed = performance.now() - started;
    const after = meter.read();
    const less = (k: keyof DbCounters) => Math.max(0, after[k] - idle[k] * elapsed);
    const db = perOperation(
      before,
      {
        requests: less("requests"),
        bytesToDb: less("bytesToDb"),
        bytesFromDb: less("bytesFromDb"),
        cpuMs: less("cpuMs"),
      },
      accepted,
    );
    return { acceptedPerSec: report.perSec, storedPerSec: (accepted / elapsed) * 1000, accepted, db };
  } finally {
    closeDb(target.db);
    await target.stop();
    await sqld.stop();
  }
}

function queuedTable(q: QueuedFigures): string {
  return [
    `Queued ingest ([env.queued], 20 clients over ${QUEUED_HOSTS} hosts for ${ROUND_MS} ms, then until the queue is drained; deliveries of up to 100 batches per transaction):`,
    "",
    "| measure | Worker [env.queued] |",
    "|---|---|",
    `| batches answered 202/s | ${int(q.acceptedPerSec)} |`,
    `| batches stored/s, first send to drained | ${int(q.storedPerSec)} (${int(q.accepted)} batches) |`,
    `| per stored batch: round trips · sqld CPU · bytes sent | ${q.db.requests.toFixed(2)} · ${q.db.cpuMs.toFixed(2)} ms · ${(q.db.bytesToDb / 1024).toFixed(1)} KiB |`,
    `| one sqld core at that CPU | ${q.db.cpuMs > 0 ? int(1000 / q.db.cpuMs) : "∞"} batches/s |`,
  ].join("\n");
}

export async function runEdgeBench(): Promise<string> {
  if (queuedOnly) return queuedTable(await queuedBatches());
  const all: Figures[] = [];
  const selfHosted = await nodeTarget("self-hosted (Node + file)", null);
  all.push(await benchTarget(selfHosted));
  for (const worker of [false, true]) {
    const sqld = await startSqld();
    try {
      const target = worker ? await workerTarget(sqld) : await nodeTarget("Node + sqld", sqld);
      all.push(await benchTarget(target));
    } finally {
      await sqld.stop();
    }
  }
  step({ name: "Worker [env.queued]" }, "queued batches");
  const queued = await queuedBatches();
  return `${table(all)}\n\n${queuedTable(queued)}`;
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith("bench/edge.ts")) {
  console.log(await runEdgeBench());
}
