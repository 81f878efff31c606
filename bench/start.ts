/**
 * `npm start` to a healthy `/healthz` on a warm checkout (issue 20): the start command as users run it,
 * against the same start after the build records are removed, which rebuilds the server bundle and the
 * probe (its bundle and standalone executable) as every start did before builds were skipped when nothing
 * changed. Each start gets a fresh data directory and port; the median of three is reported.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");
const records = [join(root, "apps/api/dist/node.inputs.json"), join(root, "probe/dist/inputs.json")];

async function startOnce(): Promise<number> {
  const port = 20_000 + Math.floor(Math.random() * 10_000);
  const dataDir = mkdtempSync(join(tmpdir(), "vigil-start-bench-"));
  const started = performance.now();
  const child = spawn("npm", ["start"], {
    cwd: root,
    env: { ...process.env, VIGIL_DATA_DIR: dataDir, VIGIL_PORT: String(port) },
    stdio: "ignore",
    detached: true,
  });
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  try {
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return performance.now() - started;
      // Polling a process that is starting: there is no event to wait for from outside it.
      await new Promise((done) => setTimeout(done, 20));
    }
  } finally {
    if (child.pid) process.kill(-child.pid, "SIGTERM");
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

async function medianOf(runs: number, before?: () => void): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    before?.();
    times.push(await startOnce());
  }
  return median(times);
}

export async function runStartBench(): Promise<string> {
  await startOnce(); // builds whatever a fresh checkout lacks, so both rows start warm
  const warm = await medianOf(3);
  const rebuilt = await medianOf(3, () => {
    for (const r of records) rmSync(r, { force: true });
  });
  return [
    "| start | to /healthz (median of 3) | ratio |",
    "|---|---|---|",
    `| \`npm start\`, nothing changed (builds skipped) | ${Math.round(warm)} ms | ${(warm / rebuilt).toFixed(2)}× |`,
    `| \`npm start\` rebuilding server and probe (every start before) | ${Math.round(rebuilt)} ms | 1.00× |`,
  ].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await runStartBench());
