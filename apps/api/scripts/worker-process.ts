/**
 * The Worker under `wrangler dev` (workerd, offline) as a child process, for `npm run dev:worker`, the
 * README's Workers exercise and bench/edge.ts. The database is a libSQL server (sqld) given by URL, as a
 * deployed Worker is given Turso; wrangler.toml's [assets] must be built first (`npm run assets -w @vigil/api`).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { freePort } from "./sqld.ts";

const root = resolve(import.meta.dirname, "../../..");
const wranglerBin = resolve(root, "node_modules/.bin/wrangler");

export interface WorkerProcess {
  url: string;
  process: ChildProcess;
  /** the last 20 kB wrangler and the Worker printed */
  output(): string;
  /** fires the cron trigger once and resolves when the scheduled handler has finished */
  scheduled(): Promise<Response>;
  stop(): Promise<void>;
}

export interface WorkerOptions {
  /** Worker variables (`--var NAME:value`), LIBSQL_URL among them */
  vars: Record<string, string>;
  /** default: a free port */
  port?: number;
  /** wrangler's local state (Cache API, etc.); default: a fresh temporary directory */
  persistTo?: string;
  /** print wrangler's output as it comes (dev:worker) instead of only keeping it */
  inherit?: boolean;
  /** one of wrangler.toml's environments (`--env`), e.g. "queued" */
  env?: string;
}

export async function startWorkerProcess(options: WorkerOptions): Promise<WorkerProcess> {
  const port = options.port ?? (await freePort());
  const vars = Object.entries(options.vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
  const args = [
    "dev",
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    // Two Workers side by side (tests, benches) would otherwise both want the default inspector port.
    "--inspector-port",
    String(await freePort()),
    "--test-scheduled",
    "--show-interactive-dev-session=false",
    "--persist-to",
    options.persistTo ?? mkdtempSync(join(tmpdir(), "vigil-wrangler-")),
    ...(options.env ? ["--env", options.env] : []),
    ...vars,
  ];
  const child = spawn(wranglerBin, args, {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
    // Offline: no usage metrics and no request for Cloudflare's request.cf data.
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
  });
  let output = "";
  const keep = (chunk: Buffer | string) => {
    output = (output + chunk).slice(-20_000);
    if (options.inherit) process.stdout.write(chunk);
  };
  child.stderr?.on("data", keep);
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  const url = `http://127.0.0.1:${port}`;
  await new Promise<void>((ok, fail) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on("line", (line) => {
      keep(`${line}\n`);
      if (line.includes(`Ready on ${url}`)) ok();
    });
    child.once("exit", (code, signal) =>
      fail(new Error(`wrangler dev exited (${code ?? signal}) before it was ready:\n${output}`)),
    );
  });
  return {
    url,
    process: child,
    output: () => output,
    scheduled: () => fetch(`${url}/__scheduled?cron=${encodeURIComponent("* * * * *")}`),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}
