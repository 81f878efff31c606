import { access, readFile, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { join } from "node:path";
import { type ProbeBatchV1, type ProbeRemoteConfig, probeBatchV1Schema } from "@vigil/contract";
import { afterEach, describe, expect, it } from "vitest";
import type { CommandContext } from "../src/commands/context.ts";
import { runDaemon } from "../src/commands/run.ts";
import { runShellCommand } from "../src/runbook-commands/run-command.ts";
import { Stopper } from "../src/stopper.ts";
import { acceptBatch, FIXTURES, probeConfig, readBatch, runCli, runDaemonFor } from "./helpers.ts";

const T0 = 1_795_800_000_000;
const _MINUTE = 60_000;
const clock = { now: T0 };

type Commands = NonNullable<ProbeRemoteConfig["commands"]>;

const closers: (() => void)[] = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

function listen(server: Server): Promise<number> {
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
 * notes the daemon's clock when it arrived, and hands out `commands` in every answer, as the server does
 * until it has stored their results.
 */
async function receiver(commands: Commands) {
  const received: { at: number; batch: ProbeBatchV1 }[] = [];
  const server = createServer(async (req, res) => {
    const batch = await readBatch(req);
    received.push({ at: clock.now, batch });
    acceptBatch(res, batch, { commands });
  });
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}`, received };
}

/** A probe state dir, enrolled with `server`, collecting from the fixture tree only what is cheap. */
async function probeFor(server: string, extra: Record<string, unknown> = {}) {
  const { stateDir, configPath } = await probeConfig({
    rootDir: join(FIXTURES, "debian12"),
    disabledCollectors: ["journal", "updates", "docker", "systemd", "ssh"],
    ...extra,
  });
  await writeFile(join(stateDir, "identity.json"), JSON.stringify({ server, hostId: "h1", hostToken: "t" }));
  return { stateDir, configPath };
}

/**
 * Runs the daemon for `minutes` of its clock. Time stands still while a command runs (a real process), and
 * a command that ends wakes the daemon before time moves on (as the real sleep would be cut short).
 */
async function daemon(configPath: string, minutes: number, flags: CommandContext["flags"] = {}) {
  let runs = 0;
  const { log } = await runDaemonFor(
    clock,
    minutes,
    { config: configPath, "no-checks": true, ...flags },
    (track) => ({
      commands: {
        run: (command, signal) => {
          runs++;
          return track(
            runShellCommand(command.command, { timeoutMs: command.timeoutSec * 1000, env: {}, signal }),
          );
        },
      },
    }),
  );
  return { log, runs };
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

describe("the daemon with runbooks enabled", () => {
  it("announces them, runs a handed-out command once and reports it within a second in a batch of its own", async () => {
    clock.now = T0;
    const { stateDir: scratch } = await probeConfig({});
    const marker = join(scratch, "ran");
    // An allow-listed command is a plain command line (no redirection): a script does the appending.
    const script = join(scratch, "append-ran");
    await writeFile(script, `#!/bin/sh\nprintf 'ran\\n' >> ${marker}\n`, { mode: 0o755 });
    const api = await receiver([{ id: "cmd_1", command: script, timeoutSec: 30 }]);
    const { configPath } = await probeFor(api.url, { runbooks: { allow: [script] } });

    const { log, runs } = await daemon(configPath, 2, { "enable-runbooks": true });

    expect(api.received[0]?.batch.facts?.runbooks).toEqual({ allow: [script] });
    expect(log).toContain(`runbook commands on (allow ${script})`);
    expect(runs).toBe(1);
    expect(await readFile(marker, "utf8")).toBe("ran\n");
    const withResults = api.received.filter((r) => r.batch.commandResults.length > 0);
    expect(withResults).toHaveLength(1);
    const [{ at, batch }] = withResults as [(typeof withResults)[number]];
    expect(batch.samples).toEqual([]);
    expect(batch.facts).toBeUndefined();
    expect(batch.commandResults).toEqual([
      { id: "cmd_1", status: "done", exitCode: 0, output: "", startedAt: T0, endedAt: T0 },
    ]);
    // Sent a second after it ended, not with the next collection (every 30 s).
    expect(at - T0).toBeLessThanOrEqual(1_000);
    // The server went on handing it out with every answer; it ran once all the same.
    expect(api.received.length).toBeGreaterThan(3);
  });

  it("does not run a command again after a restart, though the server still hands it out", async () => {
    clock.now = T0;
    const { stateDir: scratch } = await probeConfig({});
    const marker = join(scratch, "ran");
    const api = await receiver([{ id: "cmd_1", command: `echo ran >> ${marker}`, timeoutSec: 30 }]);
    const { configPath } = await probeFor(api.url);

    await daemon(configPath, 1, { "enable-runbooks": true });
    const afterRestart = await daemon(configPath, 1, { "enable-runbooks": true });

    expect(afterRestart.runs).toBe(0);
    expect(await readFile(marker, "utf8")).toBe("ran\n");
    expect(api.received.flatMap((r) => r.batch.commandResults).map((result) => result.id)).toEqual(["cmd_1"]);
  });

  it("ends a command under way when it stops, reports it stopped, and does not run it again", async () => {
    clock.now = T0;
    const api = await receiver([{ id: "cmd_long", command: "sleep 30", timeoutSec: 60 }]);
    const { configPath } = await probeFor(api.url);
    const stopper = new Stopper();
    const log: string[] = [];
    let started = false;
    const ctx: CommandContext = {
      flags: { config: configPath, "no-checks": true, "enable-runbooks": true },
      rest: [],
      env: {},
      clock: () => clock.now,
      // The first pause after the command started is when the operator stops the probe.
      sleep: async (ms) => {
        await new Promise((resolve) => setImmediate(resolve));
        if (started) stopper.stop();
        clock.now += ms;
      },
      out: () => undefined,
      err: (text) => log.push(text),
      fetch,
    };
    await runDaemon(ctx, {
      stopper,
      commands: {
        run: (command, signal) => {
          started = true;
          return runShellCommand(command.command, { timeoutMs: 60_000, env: {}, signal, killGraceMs: 1_000 });
        },
      },
    });
    // The result waits in the spool; the next start sends it, and does not run the command again.
    const again = await daemon(configPath, 1, { "enable-runbooks": true });
    expect(again.runs).toBe(0);
    expect(api.received.flatMap((r) => r.batch.commandResults)).toEqual([
      expect.objectContaining({
        id: "cmd_long",
        status: "failed",
        output: "[killed: the probe stopped while the command ran]\n",
      }),
    ]);
  });
});

describe("the daemon with runbooks off (the default)", () => {
  it("sends no runbooks in its facts, runs nothing and reports a handed-out command refused", async () => {
    clock.now = T0;
    const { stateDir: scratch } = await probeConfig({});
    const marker = join(scratch, "ran");
    const api = await receiver([{ id: "cmd_1", command: `touch ${marker}`, timeoutSec: 30 }]);
    const { configPath } = await probeFor(api.url);

    const { log, runs } = await daemon(configPath, 2);

    expect(api.received[0]?.batch.facts).toBeDefined();
    expect(api.received[0]?.batch.facts?.runbooks).toBeUndefined();
    expect(log).toContain("runbook commands off (the default; --enable-runbooks turns them on)");
    expect(runs).toBe(0);
    expect(await exists(marker)).toBe(false);
    const results = api.received.flatMap((r) => r.batch.commandResults);
    expect(results).toEqual([
      {
        id: "cmd_1",
        status: "refused",
        output: "runbooks are not enabled on this host (vigil-probe --enable-runbooks)",
        endedAt: expect.any(Number),
      },
    ]);
  });
});

describe("once", () => {
  it("announces runbooks in its facts exactly as the daemon does", async () => {
    const { configPath } = await probeConfig({
      rootDir: join(FIXTURES, "debian12"),
      disabledCollectors: ["journal", "updates", "docker", "systemd", "ssh"],
      runbooks: { enabled: true, allow: ["systemctl restart"] },
    });
    const env = { VIGIL_CONFIG: configPath };
    const on = await runCli(["once", "--print", "--no-checks"], env);
    expect(probeBatchV1Schema.parse(JSON.parse(on.out)).facts?.runbooks).toEqual({
      allow: ["systemctl restart"],
    });
    const off = await runCli(["once", "--print", "--no-checks"], { ...env, VIGIL_RUNBOOKS: "0" });
    const facts = probeBatchV1Schema.parse(JSON.parse(off.out)).facts;
    expect(facts).toBeDefined();
    expect(facts?.runbooks).toBeUndefined();
  });
});

describe("doctor", () => {
  it("says whether runbook commands are on, and which", async () => {
    const { stateDir, configPath } = await probeConfig({});
    const env = { VIGIL_CONFIG: configPath };
    expect((await runCli(["doctor", "--no-checks"], env)).out).toContain(
      "[ok  ] runbooks: off (the default; --enable-runbooks turns them on)\n",
    );
    expect((await runCli(["doctor", "--no-checks", "--enable-runbooks"], env)).out).toContain(
      "[warn] runbooks: on for any command (no runbooks.allow list); 0 commands on record (runbook-commands.json)\n",
    );
    await writeFile(
      configPath,
      JSON.stringify({ stateDir, runbooks: { enabled: true, allow: ["apt-get"] } }),
      {
        mode: 0o600,
      },
    );
    expect((await runCli(["doctor", "--no-checks"], env)).out).toContain(
      "[ok  ] runbooks: on, allowed: apt-get; 0 commands on record (runbook-commands.json)\n",
    );
    await writeFile(configPath, JSON.stringify({ stateDir, runbooks: { enabled: "yes" } }), { mode: 0o600 });
    expect((await runCli(["doctor", "--no-checks"], env)).out).toContain(
      "[FAIL] runbooks: runbooks.enabled must be true or false\n",
    );
  });
});
