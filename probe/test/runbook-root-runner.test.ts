import { type ChildProcess, execFile, spawn } from "node:child_process";
import { access, chmod, chown, copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { createServer as createHttpServer } from "node:http";
import { type AddressInfo, createServer, type Server } from "node:net";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { promisify } from "node:util";
import type { ProbeBatchV1, ProbeCommandResult } from "@vigil/contract";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadRunbookSettings, RunbookConfigError } from "../src/runbook-commands/config.ts";
import {
  helloRunner,
  loadRunnerPolicy,
  type RunnerHello,
  runThroughRunner,
  serveRunnerRequest,
} from "../src/runbook-commands/root-runner.ts";
import type { CommandOutcome } from "../src/runbook-commands/run-command.ts";
import { acceptBatch, FIXTURES, readBatch, temporaryDirectory } from "./helpers.ts";

const PROBE_DIR = join(FIXTURES, "..", "..");
const BUNDLE = join(PROBE_DIR, "dist", "vigil-probe.mjs");
const IS_ROOT = process.getuid?.() === 0;
/** `nobody`: the unprivileged user the probe runs as in the end-to-end test when this test runs as root. */
const NOBODY = 65_534;

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

beforeAll(async () => {
  await promisify(execFile)(process.execPath, [join(PROBE_DIR, "scripts", "build.mjs")]);
});

async function runnerConfig(dir: string, config: unknown, mode = 0o644): Promise<string> {
  const path = join(dir, "runner.json");
  await writeFile(path, typeof config === "string" ? config : JSON.stringify(config), { mode });
  await chmod(path, mode);
  return path;
}

/** Serves `request` in-process as the runner would on its socket, and gives back its parsed answer. */
async function serve(configPath: string, request: unknown, keepOpen?: (input: PassThrough) => Promise<void>) {
  const input = new PassThrough();
  const output = new PassThrough();
  let answer = "";
  output.on("data", (chunk) => {
    answer += chunk.toString();
  });
  const served = serveRunnerRequest({
    input,
    output,
    configPath,
    env: { PATH: process.env.PATH },
    uid: process.getuid?.(),
  });
  // The probe keeps its side open while it waits: closing it asks the runner to stop.
  input.write(`${JSON.stringify(request)}\n`);
  if (keepOpen) await keepOpen(input);
  await served;
  input.end();
  return JSON.parse(answer.split("\n")[0] ?? "") as CommandOutcome & RunnerHello;
}

async function until(what: string, condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

describe("the root runner", () => {
  it("runs a command its own allow-list names and answers with the exit status and output", async () => {
    const config = await runnerConfig(await temporaryDirectory(), { allow: ["echo", "false"] });
    expect(await serve(config, { command: "echo upgraded 3 packages", timeoutSec: 10 })).toEqual({
      status: "done",
      exitCode: 0,
      output: "upgraded 3 packages\n",
    });
    expect(await serve(config, { command: "false", timeoutSec: 10 })).toMatchObject({
      status: "failed",
      exitCode: 1,
    });
  });

  it("refuses a command outside its allow-list, whatever the probe allows, and runs nothing", async () => {
    const dir = await temporaryDirectory();
    const config = await runnerConfig(dir, { allow: ["apt-get"] });
    const marker = join(dir, "ran");
    const answer = await serve(config, { command: `touch ${marker}`, timeoutSec: 10 });
    expect(answer.status).toBe("refused");
    expect(answer.output).toContain(`outside the root runner's allow list in ${config} (apt-get)`);
    const chained = await serve(config, { command: `apt-get update; touch ${marker}`, timeoutSec: 10 });
    expect(chained.status).toBe("refused");
    expect(await exists(marker)).toBe(false);
  });

  it("runs nothing without an allow-list, with a malformed one, or without its config", async () => {
    const dir = await temporaryDirectory();
    for (const [config, why] of [
      [{ allow: [] }, 'lists no command prefixes in "allow"'],
      [{}, 'lists no command prefixes in "allow"'],
      [{ allow: "echo" }, "runbooks.allow must be a list"],
      ["{not json", "runner.json is not valid JSON"],
    ] as const) {
      const path = await runnerConfig(dir, config);
      const answer = await serve(path, { command: "echo hi", timeoutSec: 10 });
      expect(answer).toMatchObject({ status: "refused" });
      expect(answer.output).toContain(why);
    }
    const missing = await serve(join(dir, "absent.json"), { command: "echo hi", timeoutSec: 10 });
    expect(missing.output).toContain("cannot read");
  });

  it("as root, refuses a config anyone but root could have written", async () => {
    const path = await runnerConfig(await temporaryDirectory(), { allow: ["echo"] }, 0o666);
    expect(loadRunnerPolicy(path, 0)).toEqual({
      allow: [],
      problem: `${path} must belong to root and be writable by root alone`,
    });
    if (IS_ROOT) {
      await chmod(path, 0o644);
      expect(loadRunnerPolicy(path, 0)).toEqual({ allow: ["echo"] });
    }
  });

  it("refuses a malformed request", async () => {
    const config = await runnerConfig(await temporaryDirectory(), { allow: ["echo"] });
    for (const request of [
      { command: "echo hi" },
      { command: 3, timeoutSec: 10 },
      { command: "echo", timeoutSec: 0 },
    ])
      expect(await serve(config, request)).toEqual({
        status: "refused",
        output: "the root runner got a malformed request",
      });
  });

  it("ends the command when the probe hangs up, and still says what it printed", async () => {
    const dir = await temporaryDirectory();
    const config = await runnerConfig(dir, { allow: ["sh"] });
    const started = join(dir, "started");
    const script = join(dir, "work.sh");
    await writeFile(script, `echo working\ntouch ${started}\nsleep 30\n`);
    const answer = await serve(config, { command: `sh ${script}`, timeoutSec: 60 }, async (input) => {
      await until("the command to start", () => exists(started));
      input.end();
    });
    expect(answer.status).toBe("failed");
    expect(answer.output).toBe("working\n[killed: the probe stopped while the command ran]\n");
  });

  it("says who it runs as and what it allows", async () => {
    const config = await runnerConfig(await temporaryDirectory(), { allow: ["apt-get", " docker system "] });
    expect(await serve(config, { hello: true })).toEqual({
      uid: process.getuid?.(),
      allow: ["apt-get", "docker system"],
    });
  });
});

describe("runbooks.runner in probe.json", () => {
  it("sends commands to the runner and announces that they run as root", () => {
    const settings = loadRunbookSettings(
      { runbooks: { enabled: true, allow: ["apt-get"], runner: "/run/vigil-probe-runner.sock" } },
      {},
      {},
    );
    expect(settings).toEqual({
      enabled: true,
      allow: ["apt-get"],
      runner: "/run/vigil-probe-runner.sock",
      facts: { allow: ["apt-get"], asRoot: true },
    });
  });

  it("must be an absolute socket path", () => {
    expect(() => loadRunbookSettings({ runbooks: { enabled: true, runner: "runner.sock" } }, {}, {})).toThrow(
      new RunbookConfigError("runbooks.runner must be the absolute path of the root runner's socket"),
    );
  });

  it("names the missing runner and how to set it up when nothing listens", async () => {
    const socket = join(await temporaryDirectory(), "runner.sock");
    expect(await runThroughRunner(socket, "apt-get -y upgrade", { timeoutMs: 5_000 })).toEqual({
      status: "failed",
      output: `no root runner at ${socket} (install.sh --runbooks-as-root sets up vigil-probe-runner.socket): ENOENT`,
    });
  });
});

/**
 * systemd's `Accept=yes` socket, as the installer's vigil-probe-runner.socket sets it up: a Unix socket
 * the probe's group may open, and per connection one `vigil-probe runner` process (as this test's user)
 * with the connection as its stdin and stdout.
 */
async function systemdSocket(dir: string, configPath: string, probeGid: number): Promise<string> {
  const path = join(dir, "runner.sock");
  const runners: ChildProcess[] = [];
  const server: Server = createServer({ pauseOnConnect: true }, (connection) => {
    const runner = spawn(process.execPath, [BUNDLE, "runner", "--runner-config", configPath], {
      stdio: [connection, connection, "inherit"],
      env: { PATH: process.env.PATH },
    });
    runners.push(runner);
    // The runner holds its own copy of the connection, as a socket-activated service does.
    connection.destroy();
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  if (IS_ROOT) await chown(path, 0, probeGid);
  await chmod(path, 0o660);
  cleanups.push(() => {
    server.close();
    for (const runner of runners) runner.kill("SIGKILL");
  });
  return path;
}

/** The server's batch endpoint, handing out `commands` until their results arrive. */
async function batchReceiver(commands: { id: string; command: string; timeoutSec: number }[]) {
  const results: ProbeCommandResult[] = [];
  const batches: ProbeBatchV1[] = [];
  const server = createHttpServer(async (req, res) => {
    const batch = await readBatch(req);
    batches.push(batch);
    results.push(...(batch.commandResults ?? []));
    const reported = new Set(results.map((result) => result.id));
    acceptBatch(res, batch, { commands: commands.filter((command) => !reported.has(command.id)) });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(() => server.close());
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, results, batches };
}

describe("a probe with a root runner", () => {
  it(`has the runner run allow-listed commands${IS_ROOT ? " as root while the probe runs as nobody" : ""}, and the runner's list decides`, async () => {
    // Everything the unprivileged probe reads sits in a directory it may enter; its state is its own.
    const dir = await temporaryDirectory();
    await chmod(dir, 0o755);
    const bundle = join(dir, "vigil-probe.mjs");
    await copyFile(BUNDLE, bundle);
    await chmod(bundle, 0o644);
    const stateDir = join(dir, "state");
    await mkdir(stateDir, { mode: 0o700 });
    const runnerJson = await runnerConfig(dir, { allow: ["id -u", "touch"] });
    const socket = await systemdSocket(dir, runnerJson, NOBODY);
    const rootOnly = join(dir, "root-only");
    await mkdir(rootOnly, { mode: 0o700 });

    const receiver = await batchReceiver([
      { id: "c1", command: "id -u", timeoutSec: 30 },
      { id: "c2", command: `touch ${rootOnly}/upgraded`, timeoutSec: 30 },
      // probe.json allows any command; the runner's own list does not name this one
      { id: "c3", command: "hostname", timeoutSec: 30 },
    ]);
    await writeFile(
      join(stateDir, "identity.json"),
      JSON.stringify({ server: receiver.url, hostId: "h1", hostToken: "t" }),
    );
    const configPath = join(dir, "probe.json");
    await writeFile(
      configPath,
      JSON.stringify({
        stateDir,
        rootDir: join(FIXTURES, "debian12"),
        disabledCollectors: ["journal", "updates", "docker", "systemd", "ssh"],
        checks: { enabled: false },
        runbooks: { enabled: true, runner: socket },
      }),
    );
    if (IS_ROOT) {
      await chown(stateDir, NOBODY, NOBODY);
      await chown(join(stateDir, "identity.json"), NOBODY, NOBODY);
      await chown(configPath, NOBODY, NOBODY);
    }

    const probe = spawn(process.execPath, [bundle, "run", "--config", configPath], {
      stdio: ["ignore", "ignore", "pipe"],
      env: { PATH: process.env.PATH },
      ...(IS_ROOT ? { uid: NOBODY, gid: NOBODY } : {}),
    });
    let log = "";
    probe.stderr?.on("data", (chunk) => {
      log += chunk.toString();
    });
    cleanups.push(() => probe.kill("SIGKILL"));

    await until(
      `three command results (probe log: ${log})`,
      async () => receiver.results.length >= 3,
      30_000,
    );
    const byId = new Map(receiver.results.map((result) => [result.id, result]));
    const runnerUid = String(process.getuid?.());
    expect(byId.get("c1")).toMatchObject({ status: "done", exitCode: 0, output: `${runnerUid}\n` });
    expect(byId.get("c2")).toMatchObject({ status: "done", exitCode: 0 });
    expect(await exists(join(rootOnly, "upgraded"))).toBe(true);
    expect(byId.get("c3")).toMatchObject({ status: "refused" });
    expect(byId.get("c3")?.output).toContain("outside the root runner's allow list");
    expect(receiver.batches[0]?.facts?.runbooks).toEqual({ allow: [], asRoot: true });
    if (IS_ROOT) {
      // The probe itself never was root: it could not have made that file.
      const status = await readFile(`/proc/${probe.pid}/status`, "utf8");
      expect(status).toMatch(new RegExp(`^Uid:\\s+${NOBODY}\\s`, "m"));
    }

    expect(await helloRunner(socket)).toEqual({ uid: process.getuid?.(), allow: ["id -u", "touch"] });
  }, 60_000);
});
