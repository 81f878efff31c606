// Runbook command steps end to end: real probe daemons (the built bundle) against the real self-hosted
// server. One host enabled runbooks with an allow-list, the other did not; the run records what ran where.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { migrationsFolder } from "@vigil/db/migrate";
import { describe, expect, it } from "vitest";
import { settingsFromEnv, startServer } from "../src/server.ts";
import { callApi, until } from "./helpers.ts";

const run = promisify(execFile);
const probeDir = resolve(import.meta.dirname, "../../../probe");
const bundle = join(probeDir, "dist", "vigil-probe.mjs");

interface RunView {
  status: string;
  steps: {
    status: string;
    commands: { hostId: string; status: string; exitCode: number | null; output: string }[];
  }[];
}

describe("runbook commands with real probes and the real server", () => {
  it("runs allowed commands on the enabled host only, and records what each host did", async () => {
    const work = mkdtempSync(join(tmpdir(), "vigil-runbooks-e2e-"));
    const server = await startServer(
      {
        ...settingsFromEnv({ VIGIL_DATA_DIR: join(work, "server"), VIGIL_PORT: "0", VIGIL_TICK_MS: "200" }),
        localProbe: false,
      },
      { migrationsFolder, probeDir, log: () => {} },
    );
    // The key is shown at the first start only; a restarted server keeps it.
    const adminKey = server.adminKey ?? "";
    const call = <T>(method: string, path: string, body?: unknown) =>
      callApi<T>(server.url, adminKey, method, path, body);
    const daemons: ChildProcess[] = [];
    try {
      await call("PATCH", "/projects/current/settings", { probe: { intervalSec: 5 } });
      const { token } = await call<{ token: string }>("POST", "/enrollment-tokens", { name: "e2e" });
      const marker = join(work, "touched");
      for (const [name, runbooks] of [
        ["ops-1", { enabled: true, allow: ["uname", "touch"] }],
        ["ops-2", undefined],
      ] as const) {
        const stateDir = join(work, name);
        mkdirSync(stateDir);
        writeFileSync(
          join(stateDir, "probe.json"),
          JSON.stringify({
            disabledCollectors: ["updates", "journal", "docker", "ssh", "systemd"],
            checks: { enabled: false },
            ...(runbooks ? { runbooks } : {}),
          }),
        );
        const env = { ...process.env, VIGIL_STATE_DIR: stateDir, VIGIL_CONFIG: join(stateDir, "probe.json") };
        await run(
          process.execPath,
          [bundle, "enroll", "--server", server.url, "--token", token, "--force-new"],
          {
            env,
          },
        );
        const daemon = spawn(process.execPath, [bundle, "run"], { env, stdio: ["ignore", "ignore", "pipe"] });
        daemon.stderr?.resume();
        daemons.push(daemon);
      }
      const { hosts: listed } = await until(
        "both hosts reporting",
        () => call<{ hosts: { id: string; name: string; facts: { runbooks?: unknown } }[] }>("GET", "/hosts"),
        (h) => h.hosts.length === 2 && h.hosts.some((x) => x.facts.runbooks),
      );
      const ids = listed.map((h) => h.id);
      // Both probes run on this machine under one host name: the facts tell them apart.
      const opsOne = listed.find((h) => h.facts.runbooks)?.id ?? "";
      const opsTwo = listed.find((h) => !h.facts.runbooks)?.id ?? "";

      const book = await call<{ id: string }>("POST", "/runbooks", {
        name: "look around",
        steps: [
          { kind: "command", title: "Kernel", command: "uname -s", timeoutSec: 30 },
          { kind: "command", title: "Leave a mark", command: `touch ${marker}`, timeoutSec: 30 },
        ],
      });
      const started = await call<{ id: string }>("POST", `/runbooks/${book.id}/runs`, {
        hostIds: ids,
      });
      const ended = await until(
        "the run to end",
        () => call<RunView>("GET", `/runbook-runs/${started.id}`),
        (r) => r.status !== "running" && r.status !== "waiting",
      );
      // ops-2 never enabled runbooks: refused at once, so the first step fails and nothing more is sent.
      expect(ended.status).toBe("failed");
      const first = Object.fromEntries(ended.steps[0]?.commands.map((c) => [c.hostId, c]) ?? []);
      expect(first[opsTwo]).toMatchObject({ status: "refused" });
      expect(first[opsOne]).toMatchObject({ status: "done", exitCode: 0, output: "Linux\n" });
      expect(ended.steps[1]?.status).toBe("pending");
      expect(existsSync(marker)).toBe(false);

      // On the enabled host alone: an allowed command runs, one outside the allow-list does not.
      const second = await call<{ id: string }>("POST", `/runbooks/${book.id}/runs`, {
        hostIds: [opsOne],
      });
      const done = await until(
        "the second run to end",
        () => call<RunView>("GET", `/runbook-runs/${second.id}`),
        (r) => r.status !== "running" && r.status !== "waiting",
      );
      expect(done.status).toBe("succeeded");
      expect(existsSync(marker)).toBe(true);
      const sneaky = await call<{ id: string }>("POST", "/runbooks", {
        name: "sneaky",
        steps: [{ kind: "command", title: "x", command: `uname -s; rm -f ${marker}` }],
      });
      const refused = await call<RunView>("POST", `/runbooks/${sneaky.id}/runs`, {
        hostIds: [opsOne],
      });
      expect(refused.status).toBe("failed");
      expect(refused.steps[0]?.commands[0]?.status).toBe("refused");
      expect(existsSync(marker)).toBe(true);
    } finally {
      for (const daemon of daemons) daemon.kill("SIGTERM");
      await server.close();
    }
  }, 120_000);
});
