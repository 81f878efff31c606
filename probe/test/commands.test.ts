import { execFile } from "node:child_process";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { promisify } from "node:util";
import { gunzipSync } from "node:zlib";
import { backupRunSchema, enrollRequestSchema, type ProbeBatchV1, probeBatchV1Schema } from "@vigil/contract";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { main } from "../src/cli.ts";
import type { CommandContext } from "../src/commands/context.ts";
import { runDaemon } from "../src/commands/run.ts";
import { loadIdentity, spoolDir } from "../src/config.ts";
import { Spool } from "../src/spool.ts";
import { Stopper } from "../src/stopper.ts";
import { defined, FIXTURES, temporaryDirectory } from "./helpers.ts";

const run = promisify(execFile);

/** Runs the CLI in-process with captured output, a fake clock and a recording sleep. */
async function cli(argv: string[], env: NodeJS.ProcessEnv, start = 1_795_800_000_000) {
  let now = start;
  const out: string[] = [];
  const err: string[] = [];
  const passed = { stdout: new PassThrough(), stderr: new PassThrough() };
  const passedText = { stdout: "", stderr: "" };
  passed.stdout.on("data", (c: Buffer) => (passedText.stdout += c.toString()));
  passed.stderr.on("data", (c: Buffer) => (passedText.stderr += c.toString()));
  const code = await main(argv, {
    env,
    clock: () => now,
    sleep: async (ms) => {
      now += ms;
    },
    out: (text) => out.push(text),
    err: (text) => err.push(text),
    passThrough: passed,
  });
  return { code, out: out.join(""), err: err.join(""), passed: passedText };
}

async function spooledBatches(stateDir: string): Promise<ProbeBatchV1[]> {
  const spool = new Spool({ dir: spoolDir(stateDir), clock: Date.now });
  return Promise.all(
    (await spool.list()).map(async (e) => probeBatchV1Schema.parse(await spool.readBatch(e))),
  );
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

interface Recorded {
  method: string;
  url: string;
  body: Buffer;
  headers: Record<string, string | string[] | undefined>;
}

/** A real HTTP server on 127.0.0.1 that records requests and answers with `respond`. */
async function recordingServer(
  respond: (req: Recorded) => { status: number; body?: unknown } = () => ({ status: 200 }),
) {
  const requests: Recorded[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const recorded = {
      method: req.method ?? "",
      url: req.url ?? "",
      body: Buffer.concat(chunks),
      headers: req.headers,
    };
    requests.push(recorded);
    const answer = respond(recorded);
    res.writeHead(answer.status, { "Content-Type": "application/json" });
    res.end(answer.body === undefined ? "" : JSON.stringify(answer.body));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, server };
}

describe("command-line flags", () => {
  it("refuses an unknown flag with exit code 2 and one line naming it, before doing anything", async () => {
    const stateDir = await temporaryDirectory();
    const env = { VIGIL_STATE_DIR: stateDir, VIGIL_CONFIG: "/nonexistent/probe.json" };
    for (const [argv, named] of [
      [["once", "--servr", "https://vigil.test"], "unknown flag --servr"],
      [["once", "--print", "--prety"], "unknown flag --prety"],
      [["run", "-x"], "unknown flag -x"],
      [["enroll", "--server"], "--server needs a value"],
      [["enroll", "--server", "--token", "t"], "--server needs a value"],
      [["once", "--print=yes"], "--print takes no value"],
    ] as const) {
      const result = await cli([...argv], env);
      expect(result.code, argv.join(" ")).toBe(2);
      expect(result.err, argv.join(" ")).toBe(`vigil-probe: ${named} (vigil-probe --help lists the flags)\n`);
      expect(result.out, argv.join(" ")).toBe("");
    }
    expect(await spooledBatches(stateDir)).toEqual([]);
  });

  it("leaves whatever follows a bare -- to the wrapped command", async () => {
    const result = await cli(["exec", "--check", "x", "--", "sh", "-c", "exit 0", "--servr"], {
      VIGIL_CONFIG: "/nonexistent/probe.json",
    });
    expect(result.err).not.toContain("unknown flag");
  });
});

describe("exec", () => {
  it("sends start, runs the command, then its exit code with the output tail under one run id", async () => {
    const ping = await recordingServer();
    const result = await cli(
      ["exec", "--check", "nightly-report", "--", "sh", "-c", "echo working; echo oops >&2; exit 3"],
      { VIGIL_SERVER: ping.url, VIGIL_PING_KEY: "pk_123", VIGIL_CONFIG: "/nonexistent/probe.json" },
    );
    expect(result.code).toBe(3);
    expect(result.passed).toEqual({ stdout: "working\n", stderr: "oops\n" });
    const [start, end] = ping.requests;
    expect(start?.url).toMatch(/^\/ping\/pk_123\/nightly-report\/start\?rid=[0-9a-f-]{36}$/);
    expect(end?.url).toBe(start?.url.replace("/start?", "/3?"));
    expect(end?.body.toString()).toBe("working\noops\n");
  });

  it("uses the UUID form and reports success as exit code 0", async () => {
    const ping = await recordingServer();
    const uuid = "5f0e4c1a-2b3d-4e5f-8a9b-0c1d2e3f4a5b";
    const result = await cli(["exec", "--check", uuid, "--create", "--", "true"], {
      VIGIL_SERVER: ping.url,
      VIGIL_CONFIG: "/nonexistent/probe.json",
    });
    expect(result.code).toBe(0);
    expect(ping.requests.map((r) => r.url.replace(/rid=[^&]+/, "rid=R"))).toEqual([
      `/ping/${uuid}/start?rid=R&create=1`,
      `/ping/${uuid}/0?rid=R&create=1`,
    ]);
  });

  it("still runs the job and keeps its exit code when the ping server is down", async () => {
    const ping = await recordingServer();
    await new Promise((resolve) => ping.server.close(resolve));
    const result = await cli(["exec", "--check", "job", "--", "sh", "-c", "exit 0"], {
      VIGIL_SERVER: ping.url,
      VIGIL_PING_KEY: "pk",
      VIGIL_CONFIG: "/nonexistent/probe.json",
    });
    expect(result.code).toBe(0);
    expect(result.err).toMatch(/ping failed/);
  });

  it("reports a command that does not exist as exit code 127", async () => {
    const ping = await recordingServer();
    const result = await cli(["exec", "--check", "job", "--", "/nonexistent/cmd"], {
      VIGIL_SERVER: ping.url,
      VIGIL_PING_KEY: "pk",
      VIGIL_CONFIG: "/nonexistent/probe.json",
    });
    expect(result.code).toBe(127);
    expect(ping.requests[1]?.url).toMatch(/\/ping\/pk\/job\/127\?rid=/);
  });
});

describe("backup with a real restic repository", () => {
  let resticEnv: NodeJS.ProcessEnv;
  let source: string;

  beforeAll(async () => {
    const dir = await temporaryDirectory("vigil-restic-");
    source = join(dir, "data");
    await mkdir(source);
    await writeFile(join(source, "a.txt"), "hello\n".repeat(1000));
    await writeFile(join(source, "b.bin"), Buffer.alloc(50_000, 7));
    resticEnv = {
      PATH: process.env.PATH,
      RESTIC_REPOSITORY: join(dir, "repo"),
      RESTIC_PASSWORD: "correct horse",
      RESTIC_CACHE_DIR: join(dir, "cache"),
      VIGIL_CONFIG: "/nonexistent/probe.json",
    };
    await run("restic", ["init"], { env: resticEnv });
  }, 30_000);

  it("passes restic's output through and queues a success with the summary's figures", async () => {
    const stateDir = await temporaryDirectory();
    const result = await cli(["backup", "--name", "app-data", "--", "restic", "backup", source, "--json"], {
      ...resticEnv,
      VIGIL_STATE_DIR: stateDir,
    });
    expect(result.code).toBe(0);
    expect(result.passed.stdout).toContain('"message_type":"summary"');
    const [batch] = await spooledBatches(stateDir);
    const backup = backupRunSchema.parse(batch?.backups[0]);
    expect(backup).toMatchObject({
      name: "app-data",
      tool: "restic",
      status: "success",
      exitCode: 0,
      filesNew: 2,
      filesChanged: 0,
      snapshotId: expect.stringMatching(/^[0-9a-f]{8}$/),
    });
    expect(backup.bytesAdded).toBeGreaterThan(0);
    expect(backup.bytesProcessed).toBe(6000 + 50_000);
  }, 30_000);

  it("queues a failure with the exit code and the tail of stderr", async () => {
    const stateDir = await temporaryDirectory();
    const result = await cli(
      ["backup", "--name", "app-data", "--", "restic", "backup", join(source, "missing"), "--json"],
      {
        ...resticEnv,
        VIGIL_STATE_DIR: stateDir,
      },
    );
    expect(result.code).toBe(1);
    const [batch] = await spooledBatches(stateDir);
    expect(batch?.backups[0]).toMatchObject({ status: "failure", exitCode: 1, tool: "restic" });
    expect(batch?.backups[0]?.error).toMatch(/do not exist/);
    expect(result.passed.stderr).toMatch(/do not exist/);
  }, 30_000);
});

describe("backup-report", () => {
  it("records an autorestic hook's run from its environment", async () => {
    const stateDir = await temporaryDirectory();
    const result = await cli(["backup-report", "--status", "success", "--started-at", "1795799000"], {
      VIGIL_STATE_DIR: stateDir,
      VIGIL_CONFIG: "/nonexistent/probe.json",
      AUTORESTIC_LOCATION: "www",
      AUTORESTIC_SNAPSHOT_ID_B2: "1a2b3c4d",
      AUTORESTIC_FILES_ADDED_B2: "12",
      AUTORESTIC_FILES_CHANGED_B2: "3",
      AUTORESTIC_FILES_UNMODIFIED_B2: "400",
    });
    expect(result.code).toBe(0);
    const [batch] = await spooledBatches(stateDir);
    expect(batch?.backups).toEqual([
      {
        name: "www",
        tool: "autorestic",
        status: "success",
        startedAt: 1_795_799_000_000,
        endedAt: 1_795_800_000_000,
        snapshotId: "1a2b3c4d",
        filesNew: 12,
        filesChanged: 3,
        filesUnmodified: 400,
      },
    ]);
  });

  it("derives a failure from a non-zero exit code given as an argument", async () => {
    const stateDir = await temporaryDirectory();
    const result = await cli(
      [
        "backup-report",
        "--name",
        "db",
        "--exit-code",
        "2",
        "--ended-at",
        "2026-11-27T10:00:00Z",
        "--error",
        "repo locked",
      ],
      { VIGIL_STATE_DIR: stateDir, VIGIL_CONFIG: "/nonexistent/probe.json" },
    );
    expect(result.code).toBe(0);
    const [batch] = await spooledBatches(stateDir);
    expect(batch?.backups[0]).toMatchObject({
      name: "db",
      status: "failure",
      exitCode: 2,
      error: "repo locked",
      endedAt: Date.parse("2026-11-27T10:00:00Z"),
    });
  });

  it("refuses to guess when neither status nor exit code is given", async () => {
    const result = await cli(["backup-report", "--name", "db"], { VIGIL_CONFIG: "/nonexistent/probe.json" });
    expect(result.code).toBe(2);
  });
});

describe("enroll", () => {
  it("enrolls with the host's facts, keeps the host token at mode 0600, and does not enroll twice", async () => {
    const api = await recordingServer(() => ({
      status: 201,
      body: {
        hostId: "host_1",
        hostToken: "vht_secret",
        config: { intervalSec: 60, journal: { minPriority: 3, units: [] } },
      },
    }));
    const stateDir = await temporaryDirectory();
    const env = { VIGIL_STATE_DIR: stateDir, VIGIL_CONFIG: "/nonexistent/probe.json" };
    const first = await cli(["enroll", "--server", api.url, "--token", "enroll_token_1"], env);
    expect(first).toMatchObject({ code: 0, out: `enrolled as host host_1 at ${api.url}\n` });
    const request = enrollRequestSchema.parse(JSON.parse(defined(api.requests[0]).body.toString()));
    expect(request.token).toBe("enroll_token_1");
    expect(request.facts.hostname).toBeTruthy();
    expect(await loadIdentity(stateDir)).toEqual({
      server: api.url,
      hostId: "host_1",
      hostToken: "vht_secret",
    });
    expect((await stat(join(stateDir, "identity.json"))).mode & 0o777).toBe(0o600);

    const again = await cli(["enroll", "--server", api.url, "--token", "enroll_token_1"], env);
    expect(again.out).toMatch(/already enrolled as host host_1/);
    expect(api.requests).toHaveLength(1);
  });

  it("enrolls again at a new server address with the host token it holds, and not with --force-new", async () => {
    const answer = (hostToken: string) => () => ({
      status: 200,
      body: {
        hostId: "host_1",
        hostToken,
        config: { intervalSec: 60, journal: { minPriority: 3, units: [] } },
      },
    });
    const before = await recordingServer(answer("vht_first"));
    const moved = await recordingServer(answer("vht_second"));
    const stateDir = await temporaryDirectory();
    const env = { VIGIL_STATE_DIR: stateDir, VIGIL_CONFIG: "/nonexistent/probe.json" };
    await cli(["enroll", "--server", before.url, "--token", "enroll_token_1"], env);
    expect(
      enrollRequestSchema.parse(JSON.parse(defined(before.requests[0]).body.toString())).hostToken,
    ).toBeUndefined();

    await cli(["enroll", "--server", moved.url, "--token", "enroll_token_1"], env);
    const again = enrollRequestSchema.parse(JSON.parse(defined(moved.requests[0]).body.toString()));
    expect(again.hostToken).toBe("vht_first");
    expect((await loadIdentity(stateDir))?.hostToken).toBe("vht_second");

    await cli(["enroll", "--server", moved.url, "--token", "enroll_token_1", "--force-new"], env);
    const fresh = enrollRequestSchema.parse(JSON.parse(defined(moved.requests[1]).body.toString()));
    expect(fresh).toMatchObject({ forceNew: true });
    expect(fresh.hostToken).toBeUndefined();
  });

  it("explains a refused token", async () => {
    const api = await recordingServer(() => ({
      status: 401,
      body: { error: { code: "INVALID_TOKEN", message: "unknown token", requestId: "r" } },
    }));
    const result = await cli(["enroll", "--server", api.url, "--token", "bad_token_1"], {
      VIGIL_STATE_DIR: await temporaryDirectory(),
      VIGIL_CONFIG: "/nonexistent/probe.json",
    });
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/INVALID_TOKEN: unknown token/);
  });
});

describe("once --print", () => {
  it("prints one contract-valid batch and touches no network", async () => {
    const stateDir = await temporaryDirectory();
    await writeFile(join(stateDir, "probe.json"), JSON.stringify({ disabledCollectors: ["updates"] }));
    const result = await cli(["once", "--print", "--root", join(FIXTURES, "debian12")], {
      VIGIL_STATE_DIR: stateDir,
      VIGIL_CONFIG: join(stateDir, "probe.json"),
      VIGIL_SERVER: "http://127.0.0.1:9",
    });
    expect(result.code).toBe(0);
    const batch = probeBatchV1Schema.parse(JSON.parse(result.out));
    // The fixture's counters do not move between the two readings, so there is load but no CPU split.
    expect(batch.samples[0]?.load1).toBe(0.85);
    expect(batch.facts?.machineId).toBe("0b5d1c4f2e8a4b7f9c3d6e1a2b4c8d90");
    expect(batch.state).toBeDefined();
  });
});

describe("the daemon", () => {
  it("loses nothing while the server is down for minutes and applies the config the server returns", async () => {
    const stored = new Map<string, ProbeBatchV1>();
    let up = false;
    const api = await recordingServer((req) => {
      if (!up) return { status: 503 };
      const batch = probeBatchV1Schema.parse(JSON.parse(gunzipSync(req.body).toString()));
      const duplicate = stored.has(batch.batchId);
      stored.set(batch.batchId, batch);
      return {
        status: 200,
        body: {
          batchId: batch.batchId,
          accepted: true,
          duplicate,
          config: { intervalSec: 60, journal: { minPriority: 4, units: [] } },
        },
      };
    });
    const stateDir = await temporaryDirectory();
    const configPath = join(stateDir, "probe.json");
    await writeFile(
      configPath,
      JSON.stringify({
        rootDir: join(FIXTURES, "debian12"),
        disabledCollectors: ["journal", "updates", "docker", "systemd", "ssh"],
      }),
    );
    await writeFile(
      join(stateDir, "identity.json"),
      JSON.stringify({ server: api.url, hostId: "h1", hostToken: "t" }),
    );

    let now = 1_795_800_000_000;
    const start = now;
    const stopper = new Stopper();
    const ctx: CommandContext = {
      flags: { config: configPath, "state-dir": stateDir },
      rest: [],
      env: {},
      clock: () => now,
      // Time passes only in sleeps; the server comes back after five minutes and the test ends at fifteen.
      sleep: async (ms) => {
        now += ms;
        if (now - start >= 5 * 60_000) up = true;
        if (now - start >= 15 * 60_000) stopper.stop();
      },
      out: () => undefined,
      err: () => undefined,
      fetch,
    };
    await runDaemon(ctx, { stopper });

    const sampleTimes = [...stored.values()].flatMap((b) => b.samples.map((s) => s.ts)).sort((a, b) => a - b);
    // 30 s until the server's config arrives (after 5 min), 60 s after; each collection arrives exactly once.
    expect(new Set(sampleTimes).size).toBe(sampleTimes.length);
    const gaps = sampleTimes.slice(1).map((t, i) => t - (sampleTimes[i] ?? 0));
    expect(gaps.filter((g) => g === 30_000).length).toBeGreaterThanOrEqual(10);
    expect(gaps.every((g) => g === 30_000 || g === 60_000)).toBe(true);
    expect(sampleTimes[0]).toBe(start);
    expect(await new Spool({ dir: spoolDir(stateDir), clock: () => now }).list()).toEqual([]);
    expect(JSON.parse(await readFile(join(stateDir, "remote-config.json"), "utf8"))).toMatchObject({
      intervalSec: 60,
    });
  });
});

describe("doctor", () => {
  it("checks config, enrollment, server, state dir, journal and Docker, one line each", async () => {
    const api = await recordingServer(() => ({ status: 200, body: { ok: true } }));
    const stateDir = await temporaryDirectory();
    await writeFile(join(stateDir, "probe.json"), "{}", { mode: 0o644 });
    await writeFile(
      join(stateDir, "identity.json"),
      JSON.stringify({ server: api.url, hostId: "h9", hostToken: "t" }),
    );
    const result = await cli(["doctor"], {
      VIGIL_CONFIG: join(stateDir, "probe.json"),
      VIGIL_STATE_DIR: stateDir,
    });
    expect(result.out).toMatch(/\[FAIL\] config: .* is mode 644; it holds secrets, make it 600/);
    expect(result.out).toMatch(/\[ok {2}\] enrollment: host h9/);
    expect(result.out).toMatch(/\[ok {2}\] server: .*answered HTTP 200/);
    expect(result.out).toMatch(/\[ok {2}\] state dir: .* 0 batches/);
    expect(result.out).toMatch(/\] journal: /);
    expect(result.out).toMatch(/\] docker: /);
    expect(api.requests[0]?.url).toBe("/healthz");
    expect(result.code).toBe(1);
  });
});
