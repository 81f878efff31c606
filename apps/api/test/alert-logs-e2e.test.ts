// The email for a failed unit shows why it failed: the real probe reads a real journal file, the real
// self-hosted server fires its built-in failed-units rule and mails a real SMTP sink.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { migrationsFolder } from "@vigil/db/migrate";
import { startSmtpSink } from "@vigil/notify/testing";
import { buildJournal } from "@vigil/probe/testing/journal";
import { describe, expect, it } from "vitest";
import { settingsFromEnv, startServer } from "../src/server.ts";

const run = promisify(execFile);
const probeDir = resolve(import.meta.dirname, "../../../probe");
const bundle = join(probeDir, "dist", "vigil-probe.mjs");

describe("log lines in a real alert email", () => {
  it("quotes a failed unit's last lines from the host's journal, with its password redacted, and nothing of other units", async () => {
    const sink = await startSmtpSink();
    const dataDir = mkdtempSync(join(tmpdir(), "vigil-alert-logs-"));
    const stateDir = mkdtempSync(join(tmpdir(), "vigil-alert-logs-probe-"));
    // Written a minute ago, as journald would have: the probe's first run reads the last minute.
    const journal = await buildJournal(
      [
        {
          message: "upstream auth failed: password=hunter2",
          priority: 4,
          unit: "nginx.service",
          identifier: "nginx",
        },
        { message: "cron job exploded", priority: 3, unit: "cron.service", identifier: "CRON" },
        {
          message: "bind() to 0.0.0.0:80 failed (98: Address already in use)",
          priority: 3,
          unit: "nginx.service",
          identifier: "nginx",
        },
        {
          message: "nginx.service: Failed with result 'exit-code'.",
          priority: 3,
          unit: "init.scope",
          identifier: "systemd",
          extra: { UNIT: "nginx.service" },
        },
      ],
      { baseUs: (Date.now() - 50_000) * 1000 },
    );
    writeFileSync(
      join(stateDir, "probe.json"),
      JSON.stringify({ disabledCollectors: ["updates"], journalDirectory: journal }),
    );
    const settings = {
      ...settingsFromEnv({
        VIGIL_DATA_DIR: dataDir,
        VIGIL_PORT: "0",
        VIGIL_SMTP_URL: sink.url,
        VIGIL_TICK_MS: "200",
      }),
      localProbe: false,
    };
    const server = await startServer(settings, { migrationsFolder, probeDir, log: () => {} });
    const admin = { authorization: `Bearer ${server.adminKey}`, "content-type": "application/json" };
    const post = (path: string, body: unknown, headers: Record<string, string> = admin) =>
      fetch(`${server.url}${path}`, { method: "POST", headers, body: JSON.stringify(body) });
    try {
      const channel = await post("/api/v1/channels", {
        kind: "email",
        name: "ops",
        to: ["ops@test.example"],
        isDefault: true,
      });
      expect(channel.status).toBe(201);
      const { token } = (await (await post("/api/v1/enrollment-tokens", { name: "e2e" })).json()) as {
        token: string;
      };
      const env = { ...process.env, VIGIL_STATE_DIR: stateDir, VIGIL_CONFIG: join(stateDir, "probe.json") };
      await run(process.execPath, [bundle, "enroll", "--server", server.url, "--token", token], { env });
      const sent = await run(process.execPath, [bundle, "once"], { env });
      expect(sent.stdout).toContain("sent 1 batches");

      // No systemd runs here to fail a unit, so the host's next snapshot says it, as the probe would.
      const { hostToken } = JSON.parse(readFileSync(join(stateDir, "identity.json"), "utf8")) as {
        hostToken: string;
      };
      const now = Date.now();
      const snapshot = await post(
        "/api/v1/probe/batches",
        {
          v: 1,
          batchId: `failed-unit-${now}`,
          sentAt: now,
          state: { collectedAt: now, failedUnits: ["nginx.service"] },
        },
        { authorization: `Bearer ${hostToken}`, "content-type": "application/json" },
      );
      expect(snapshot.status).toBe(200);

      const [mail] = await sink.waitFor(1);
      expect(mail?.subject).toMatch(/^DOWN: .+ unit nginx\.service failed$/);
      const text = mail?.text ?? "";
      expect(text).toContain("Log, the last lines of nginx.service");
      expect(text).toContain("warning nginx: upstream auth failed: password=[redacted]");
      expect(text).toContain("err nginx: bind() to 0.0.0.0:80 failed (98: Address already in use)");
      expect(text).toContain("err systemd: nginx.service: Failed with result 'exit-code'.");
      expect(text).not.toMatch(/hunter2|cron job exploded/);
    } finally {
      await server.close();
      await sink.close();
    }
  }, 60_000);
});
