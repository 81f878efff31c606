import { writeFile } from "node:fs/promises";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { type AddressInfo, createServer as createTcpServer, type Socket } from "node:net";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { type CheckAssignment, type ProbeBatchV1, probeBatchV1Schema } from "@vigil/contract";
import { afterEach, describe, expect, it } from "vitest";
import { realSleep } from "../src/clock.ts";
import type { CommandContext } from "../src/commands/context.ts";
import { spoolDir } from "../src/config.ts";
import { runAssignment } from "../src/location-checks/run-assignment.ts";
import { TargetRules } from "../src/location-checks/target-rules.ts";
import { Spool } from "../src/spool.ts";
import { Stopper } from "../src/stopper.ts";
import { acceptBatch, FIXTURES, probeConfig, runCli, runDaemonFor } from "./helpers.ts";

const T0 = 1_795_800_000_000;
const MINUTE = 60_000;

const closers: (() => void)[] = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

const clock = { now: T0 };

function listen(server: Server | ReturnType<typeof createTcpServer>): Promise<number> {
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => sockets.add(socket));
  closers.push(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)),
  );
}

/**
 * The server's batch endpoint: a real HTTP server on 127.0.0.1 that validates each batch with the contract,
 * notes the daemon's clock when it arrived, and answers with a config assigning `checks`.
 */
async function receiver(checks: CheckAssignment[], upAfter = 0) {
  const received: { at: number; batch: ProbeBatchV1 }[] = [];
  let refused = 0;
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (clock.now < upAfter) {
      refused++;
      return void res.writeHead(503).end();
    }
    const batch = probeBatchV1Schema.parse(JSON.parse(gunzipSync(Buffer.concat(chunks)).toString()));
    received.push({ at: clock.now, batch });
    acceptBatch(res, batch, { checks });
  });
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}`, received, refused: () => refused };
}

/** A probe state dir, enrolled with `server`, collecting from the fixture tree only what is cheap. */
async function probeFor(server: string, savedChecks?: CheckAssignment[]) {
  const { stateDir, configPath } = await probeConfig({
    rootDir: join(FIXTURES, "debian12"),
    disabledCollectors: ["journal", "updates", "docker", "systemd", "ssh"],
  });
  await writeFile(join(stateDir, "identity.json"), JSON.stringify({ server, hostId: "h1", hostToken: "t" }));
  if (savedChecks)
    await writeFile(
      join(stateDir, "remote-config.json"),
      JSON.stringify({ intervalSec: 30, journal: { minPriority: 4, units: [] }, checks: savedChecks }),
    );
  return { stateDir, configPath };
}

/**
 * Runs the daemon for `minutes` of its clock. Time stands still while a check runs, and a run that ends
 * wakes the daemon before time moves on (as the real sleep would be cut short).
 */
async function daemon(configPath: string, minutes: number, flags: CommandContext["flags"] = {}) {
  let runs = 0;
  const { log } = await runDaemonFor(
    clock,
    minutes,
    { config: configPath, location: "lab-1", ...flags },
    (track) => ({
      // The shortest backoff each time, so when delivery retries after an outage is known, not drawn.
      deliveryRandom: () => 0,
      checks: {
        ping: { usable: false, detail: "not tried in tests" },
        run: (assignment, signal) => {
          runs++;
          return track(
            runAssignment(assignment, {
              rules: new TargetRules(),
              location: "lab-1",
              pingUsable: false,
              signal,
            }),
          );
        },
      },
    }),
  );
  return { log, runs };
}

function httpCheck(url: string): CheckAssignment {
  return {
    id: "chk_web",
    rev: "r1",
    kind: "http",
    intervalSec: 10,
    timeoutMs: 2_000,
    http: { url, method: "GET", headers: {}, body: null, followRedirects: true, keyword: "hello" },
  };
}

describe("the daemon as a location", () => {
  it("announces its location and reports check results within a second, in small batches of their own", async () => {
    clock.now = T0;
    const agents: (string | undefined)[] = [];
    const target = createServer((req, res) => {
      agents.push(req.headers["user-agent"] as IncomingHttpHeaders["user-agent"]);
      res.end("hello from the app");
    });
    const targetPort = await listen(target);
    const api = await receiver([httpCheck(`http://127.0.0.1:${targetPort}/health`)]);
    const { configPath } = await probeFor(api.url);

    const { log } = await daemon(configPath, 2);

    expect(api.received[0]?.batch.facts?.location).toEqual({
      name: "lab-1",
      kinds: ["http", "tcp", "tls", "dns"],
    });
    expect(log).toContain("location lab-1 (http, tcp, tls, dns;");
    expect(log).toContain("location lab-1: running 1 check");
    const withResults = api.received.filter((r) => r.batch.checkResults.length > 0);
    const results = withResults.flatMap((r) => r.batch.checkResults);
    expect(results.length).toBeGreaterThanOrEqual(10);
    expect(new Set(results.map((r) => r.at)).size).toBe(results.length);
    for (const { at, batch } of withResults) {
      expect(batch.samples).toEqual([]);
      expect(batch.facts).toBeUndefined();
      for (const result of batch.checkResults) {
        expect(result).toMatchObject({ checkId: "chk_web", rev: "r1", httpStatus: 200, keywordFound: true });
        // Sent a second after the run, not with the next collection (every 30 s).
        expect(at - result.at).toBeLessThanOrEqual(1_000);
      }
    }
    expect(agents[0]).toBe("Vigil uptime check (location lab-1)");
  });

  it("runs its saved assignments while the server is down and delivers every result once it is back", async () => {
    clock.now = T0;
    let connections = 0;
    const port = await listen(createTcpServer((socket) => socket.end(() => connections++)));
    const check: CheckAssignment = {
      id: "chk_db",
      rev: "r7",
      kind: "tcp",
      intervalSec: 10,
      timeoutMs: 1_000,
      target: { host: "127.0.0.1", port },
    };
    const api = await receiver([check], T0 + 3 * MINUTE);
    const { stateDir, configPath } = await probeFor(api.url, [check]);

    const { log, runs } = await daemon(configPath, 6);

    expect(log).toContain("running 1 check");
    const results = api.received.flatMap((r) => r.batch.checkResults);
    // A run that ended in the last second before the stop waits in the spool for the next start.
    const spool = new Spool({ dir: spoolDir(stateDir), clock: () => clock.now });
    const left = await Promise.all((await spool.list()).map((entry) => spool.readBatch(entry)));
    expect(results.length + left.flatMap((batch) => batch.checkResults ?? []).length).toBe(runs);
    expect(runs).toBeGreaterThanOrEqual(30);
    expect(new Set(results.map((r) => r.at)).size).toBe(results.length);
    expect(results.filter((r) => r.at < T0 + 3 * MINUTE).length).toBeGreaterThanOrEqual(15);
    expect(results.every((r) => r.checkId === "chk_db" && r.rev === "r7" && r.error === undefined)).toBe(
      true,
    );
    // Results do not cut delivery's backoff short: far fewer attempts than results while the server was down.
    expect(api.refused()).toBeLessThan(12);
  });

  it("with --no-checks sends no location in its facts and runs nothing", async () => {
    clock.now = T0;
    const check = httpCheck("http://127.0.0.1:9/");
    const api = await receiver([check]);
    const { configPath } = await probeFor(api.url, [check]);

    const { log, runs } = await daemon(configPath, 1, { "no-checks": true });

    expect(runs).toBe(0);
    expect(api.received[0]?.batch.facts).toBeDefined();
    expect(api.received[0]?.batch.facts?.location).toBeUndefined();
    expect(api.received.flatMap((r) => r.batch.checkResults)).toEqual([]);
    expect(log).toContain("location checks off (--no-checks)");
  });

  it("stops the start with a message naming a bad location name", async () => {
    clock.now = T0;
    const api = await receiver([]);
    const { configPath } = await probeFor(api.url);
    await expect(daemon(configPath, 1, { location: "Lab 1" })).rejects.toThrow(
      '--location "Lab 1": a location name must be lower-case letters',
    );
    expect(api.received).toEqual([]);
  });
});

describe("the daemon's sleep", () => {
  it("ends early on a wake without stopping, and a wake between sleeps ends the next one at once", async () => {
    const stopper = new Stopper();
    const sleep = stopper.interruptible(realSleep);
    const sleeping = sleep(3_600_000);
    stopper.wake();
    await sleeping;
    stopper.wake();
    await sleep(3_600_000);
    expect(stopper.stopped).toBe(false);
    const last = sleep(3_600_000);
    stopper.stop();
    await last;
    expect(stopper.stopped).toBe(true);
  });
});

describe("doctor", () => {
  it("names the location, its kinds, rules and assignments, and whether ping works", async () => {
    const check = httpCheck("http://app.lab/");
    const { stateDir, configPath } = await probeFor("http://127.0.0.1:9", [
      check,
      {
        id: "chk_db",
        rev: "r1",
        kind: "tcp",
        intervalSec: 60,
        timeoutMs: 1_000,
        target: { host: "db.lab", port: 5432 },
      },
    ]);
    await writeFile(
      configPath,
      JSON.stringify({ stateDir, checks: { location: "lab-1", allow: ["*.lab"], deny: ["10.9.0.0/16"] } }),
      { mode: 0o600 },
    );
    const env = { VIGIL_CONFIG: configPath };
    const { out } = await runCli(["doctor"], env);
    expect(out).toContain(
      "[ok  ] location: lab-1 (from the settings), runs http, tcp, tls, dns, icmp; allow *.lab; deny 10.9.0.0/16; 2 checks assigned (1 http, 1 tcp)\n",
    );
    expect(out).toMatch(/\[ok {2}\] ping: ping answers \(as \w+\): icmp checks offered\n/);
    expect((await runCli(["doctor", "--no-checks"], env)).out).toContain(
      "[ok  ] location: checks off: --no-checks\n",
    );
    expect((await runCli(["doctor", "--location", "edge"], env)).out).toContain(
      '[FAIL] location: --location "edge": a location name "edge" is the server\'s own location\n',
    );
  });
});
