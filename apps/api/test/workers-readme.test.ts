// The README's "Cloudflare Workers" section, followed as a reader would: `npm run dev:worker` (a local sqld,
// migrated and bootstrapped, and `wrangler dev` offline: real workerd, each request its own), then traffic
// from separate connections at once, the cron fired by hand, and `wrangler deploy --dry-run` for the
// bundle a deploy would upload. The workerd tests (test/workers) call the Worker inside one test request;
// only separate requests show what the runtime forbids between them (waiting on another request's promise).

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { gzipSync } from "node:zlib";
import { closeDb, createDb, type Db } from "@vigil/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../scripts/sqld.ts";
import { createHeartbeats, enrolledHost, pool, post, probeBatch, sendProbeBatch } from "./multi-process.ts";

const root = resolve(import.meta.dirname, "../../..");
/** The Worker's upload, gzipped, at most: a third of the Workers Free plan's 3 MiB, so growth is noticed. */
const BUNDLE_BUDGET_BYTES = 1024 * 1024;

interface DevWorker {
  url: string;
  adminKey: string;
  setupUrl: string;
  db: Db;
  child: ChildProcess;
}

let dev: DevWorker;
let output = "";

beforeAll(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "vigil-dev-worker-"));
  const port = await freePort();
  // The README's command, with the data dir and port an operator may set.
  const child = spawn("npm", ["run", "dev:worker"], {
    cwd: root,
    env: { ...process.env, VIGIL_DATA_DIR: dataDir, VIGIL_PORT: String(port) },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  child.stderr?.on("data", (chunk) => {
    output = (output + chunk).slice(-20_000);
  });
  const ready = await new Promise<{ url: string }>((ok, fail) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on("line", (line) => {
      output = `${output}${line}\n`.slice(-20_000);
      const found = line.match(/^The Worker is ready on (\S+)/);
      if (found?.[1]) ok({ url: found[1] });
    });
    child.once("exit", (code) => fail(new Error(`npm run dev:worker exited (${code}):\n${output}`)));
  });
  const adminKey = output.match(/admin API key \(shown once\):\s+(\S+)/)?.[1] ?? "";
  const setupUrl = output.match(/create the owner account \(it works once\):\s+(\S+)/)?.[1] ?? "";
  const sqldUrl = output.match(/^sqld on (\S+), migrated/m)?.[1] ?? "";
  dev = { ...ready, adminKey, setupUrl, db: createDb({ url: sqldUrl }), child };
}, 180_000);

afterAll(async () => {
  if (!dev) return;
  closeDb(dev.db);
  const exited = new Promise((done) => dev.child.once("exit", done));
  // npm runs the script in a child: signal the whole group so wrangler and sqld stop with it.
  if (dev.child.pid) process.kill(-dev.child.pid, "SIGTERM");
  await exited;
});

const count = async (sql: string, args: string[] = []) =>
  Number((await dev.db.$client.execute({ sql, args })).rows[0]?.n ?? 0);

describe("the README's Cloudflare Workers section, run offline", () => {
  it("prints an admin key and a one-time setup link that opens the owner's first-run page", async () => {
    expect(dev.adminKey).toMatch(/^vgl_key_/);
    expect(dev.setupUrl.startsWith(dev.url)).toBe(true);
    const page = await fetch(dev.setupUrl);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
  });

  it("serves install.sh naming this Worker as the server, and answers health and readiness as JSON", async () => {
    const install = await fetch(`${dev.url}/install.sh`);
    expect(install.status).toBe(200);
    expect(await install.text()).toContain(dev.url);
    const health = await fetch(`${dev.url}/healthz`);
    expect(health.headers.get("content-type")).toContain("application/json");
    // /readyz must reach the Worker, not the dashboard's fallback page.
    const ready = await fetch(`${dev.url}/readyz`);
    expect(ready.headers.get("content-type")).toContain("application/json");
  });

  it("accepts and records pings sent at once from separate connections, to one check and spread over many", async () => {
    const ids = await createHeartbeats(dev.url, dev.adminKey, 10);
    const spread = await pool(40, 20, (i) => post(`${dev.url}/ping/${ids[i % ids.length]}`, `spread-${i}`));
    const fleet = await pool(20, 20, (i) => post(`${dev.url}/ping/${ids[0]}`, `fleet-${i}`));
    expect([...spread, ...fleet].map((a) => a.status)).toEqual(Array(60).fill(200));
    const stored = await count(
      "select count(*) as n from pings where body like 'spread-%' or body like 'fleet-%'",
    );
    expect(stored).toBe(60);
  });

  it("stores probe batches sent at once by several hosts, each once", async () => {
    const hosts = await Promise.all(
      Array.from({ length: 5 }, (_, i) => enrolledHost(dev.url, dev.adminKey, `edge-${i}`)),
    );
    const now = Date.now();
    const answers = await pool(20, 20, (i) =>
      sendProbeBatch(dev.url, hosts[i % hosts.length] ?? "", probeBatch(`dev-worker-${i}`, now)),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect(await count("select count(*) as n from ingested_batches where batch_id like 'dev-worker-%'")).toBe(
      20,
    );
  });

  it("runs the scheduled jobs when the cron is fired as the README says", async () => {
    const before = await count("select count(*) as n from rate_limits where key = 'mark:scheduler-tick'");
    expect(before).toBe(0);
    const fired = await fetch(`${dev.url}/__scheduled?cron=*+*+*+*+*`);
    expect(fired.status).toBe(200);
    // The handler hands the tick to waitUntil; the mark it writes at the end shows it ran to completion.
    await expect
      .poll(() => count("select count(*) as n from rate_limits where key = 'mark:scheduler-tick'"), {
        timeout: 20_000,
      })
      .toBe(1);
  });
});

/** `wrangler deploy --dry-run` into a fresh directory: what it printed and the bundle it wrote. */
function dryRun(envArgs: string[]): { printed: string; bundle: string } {
  const outdir = mkdtempSync(join(tmpdir(), "vigil-dry-run-"));
  const run = spawnSync(
    resolve(root, "node_modules/.bin/wrangler"),
    ["deploy", "--dry-run", "--outdir", outdir, ...envArgs],
    { cwd: root, encoding: "utf8", env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
  );
  expect(run.status, run.stderr).toBe(0);
  return { printed: run.stdout, bundle: join(outdir, "worker.js") };
}

describe("wrangler deploy --dry-run", () => {
  let defaultRun: ReturnType<typeof dryRun> | undefined;
  const byDefault = () => {
    defaultRun ??= dryRun([]);
    return defaultRun;
  };

  it(`bundles the Worker within its budget of ${BUNDLE_BUDGET_BYTES / 1024} KiB gzipped`, () => {
    const gzipped = gzipSync(readFileSync(byDefault().bundle)).length;
    expect(gzipped).toBeGreaterThan(0);
    expect(gzipped).toBeLessThanOrEqual(BUNDLE_BUDGET_BYTES);
  }, 120_000);

  it.each(["staging", "production"])(
    "gives the %s environment the bindings of the default one",
    (name) => {
      const bindings = (printed: string) => [...printed.matchAll(/^env\.(\w+)/gm)].map((m) => m[1]).sort();
      expect(bindings(dryRun(["--env", name]).printed)).toEqual(bindings(byDefault().printed));
    },
    120_000,
  );
});
