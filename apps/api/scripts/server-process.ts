/**
 * The self-hosted server (src/node.ts, through tsx) as a child process, for tests and benches that need
 * what one process cannot show: two servers contending for one database file, or a server killed with
 * SIGKILL. Settings come from the environment exactly as an operator would give them.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";

const entry = resolve(import.meta.dirname, "../src/node.ts");

export interface ServerProcess {
  url: string;
  process: ChildProcess;
  /** everything the server wrote to stdout and stderr so far (the last 20 kB) */
  output(): string;
  /** SIGTERM and wait for the exit */
  stop(): Promise<void>;
  /** SIGKILL and wait for the exit: no shutdown code runs */
  kill(): Promise<void>;
}

/** Starts the server and resolves once it listens. `VIGIL_PORT` defaults to 0 (any free port). */
export async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", entry], {
    env: { ...process.env, VIGIL_PORT: "0", VIGIL_LOCAL_PROBE: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const keep = (chunk: Buffer | string) => {
    output = (output + chunk).slice(-20_000);
  };
  child.stderr?.on("data", keep);
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  const url = await new Promise<string>((ok, fail) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on("line", (line) => {
      keep(`${line}\n`);
      const found = line.match(/^Vigil is listening on (\S+)/);
      if (found?.[1]) ok(found[1]);
    });
    child.once("exit", (code, signal) =>
      fail(new Error(`server exited (${code ?? signal}) before listening:\n${output}`)),
    );
  });
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return {
    url,
    process: child,
    output: () => output,
    stop: () => end("SIGTERM"),
    kill: () => end("SIGKILL"),
  };
}

/** The admin key the first start saved in the data dir. */
export function savedAdminKey(dataDir: string): string {
  const saved = JSON.parse(readFileSync(join(dataDir, "credentials.json"), "utf8")) as { adminKey: string };
  return saved.adminKey;
}
