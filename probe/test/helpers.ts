import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { type ProbeBatchV1, probeBatchV1Schema } from "@vigil/contract";
import { afterEach } from "vitest";
import { main } from "../src/cli.ts";
import type { CommandContext } from "../src/commands/context.ts";
import { type DaemonOptions, runDaemon } from "../src/commands/run.ts";
import { Stopper } from "../src/stopper.ts";

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "fixtures");

const created: string[] = [];

/** A fresh temporary directory, removed after the test. */
export async function temporaryDirectory(prefix = "vigil-probe-"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}

/** A writable copy of a fixture tree, so a test can edit files (remove PSI, bump counters) in isolation. */
export async function fixtureCopy(name: string): Promise<string> {
  const dir = await temporaryDirectory(`vigil-${name}-`);
  await cp(join(FIXTURES, name), dir, { recursive: true });
  return dir;
}

afterEach(async () => {
  await Promise.all(created.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** Narrows away undefined with a clear failure, where a test has already checked the value exists. */
export function defined<T>(value: T | undefined | null, what = "value"): T {
  if (value === undefined || value === null) throw new Error(`expected ${what} to be defined`);
  return value;
}

/** Runs the CLI in-process with captured output and no real sleeping; `context` fixes the clock and the rest. */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv, context: Partial<CommandContext> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, {
    env: { VIGIL_CONFIG: "/nonexistent/probe.json", ...env },
    sleep: async () => undefined,
    out: (text) => out.push(text),
    err: (text) => err.push(text),
    ...context,
  });
  return { code, out: out.join(""), err: err.join("") };
}

/** A fresh state dir holding a probe.json (mode 0600, as the installer writes it) of `config` and the dir. */
export async function probeConfig(config: Record<string, unknown>) {
  const stateDir = await temporaryDirectory();
  const configPath = join(stateDir, "probe.json");
  await writeFile(configPath, JSON.stringify({ stateDir, ...config }), { mode: 0o600 });
  return { stateDir, configPath };
}

/** A batch as the server's endpoint gets it: the gzip'd body read whole and checked against the contract. */
export async function readBatch(req: IncomingMessage): Promise<ProbeBatchV1> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return probeBatchV1Schema.parse(JSON.parse(gunzipSync(Buffer.concat(chunks)).toString()));
}

/** The server's answer to a stored batch, with its config (interval 30 s, the journal at warning) and `config`. */
export function acceptBatch(res: ServerResponse, batch: ProbeBatchV1, config: Record<string, unknown>): void {
  res.writeHead(200, { "Content-Type": "application/json" });
  res.end(
    JSON.stringify({
      batchId: batch.batchId,
      accepted: true,
      duplicate: false,
      config: { intervalSec: 30, journal: { minPriority: 4, units: [] }, ...config },
    }),
  );
}

/**
 * Runs the daemon for `minutes` of `clock`, a clock the test moves by hand. Time stands still while tracked
 * work (a check or a command: a real request or process) runs, and work that ends wakes the daemon before
 * time moves on, as the real sleep would be cut short. `options` gets `track` to wrap the work it hands the
 * daemon; the daemon's stderr comes back as `log`.
 */
export async function runDaemonFor(
  clock: { now: number },
  minutes: number,
  flags: CommandContext["flags"],
  options: (track: <T>(work: Promise<T>) => Promise<T>) => Omit<DaemonOptions, "stopper">,
): Promise<{ log: string }> {
  const start = clock.now;
  const inFlight = new Set<Promise<unknown>>();
  const log: string[] = [];
  const stopper = new Stopper();
  const track = <T>(work: Promise<T>): Promise<T> => {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
    return work;
  };
  await runDaemon(
    {
      flags,
      rest: [],
      env: {},
      clock: () => clock.now,
      sleep: async (ms, signal) => {
        await Promise.all(inFlight);
        await new Promise((resolve) => setImmediate(resolve));
        if (signal?.aborted) return;
        clock.now += ms;
        if (clock.now - start >= minutes * 60_000) stopper.stop();
      },
      out: () => undefined,
      err: (text) => log.push(text),
      fetch,
    },
    { ...options(track), stopper },
  );
  return { log: log.join("") };
}
