// Node-only host data: the SSE tail on a fast-polling app, a host deleted with everything (counted in the
// database) and the Prometheus export linted by promtool; the rest is behaviour cases (test/behaviour/).
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { defaultConfig } from "../src/deps.ts";
import { batch, bearer, enrollHost, sendBatch, testApp } from "./helpers.ts";

const T0 = Date.UTC(2026, 10, 27, 12);

const fullSample = {
  ts: T0,
  cpu: { userPct: 12.5, systemPct: 3, iowaitPct: 0.5, stealPct: 0, idlePct: 84 },
  load1: 0.4,
  load5: 0.3,
  load15: 0.2,
  memory: { totalBytes: 4e9, availableBytes: 2e9, usedBytes: 1.5e9, swapTotalBytes: 0, swapUsedBytes: 0 },
  pressure: { ioSomePct: 1.5 },
  uptimeSec: 3600,
};

describe("logs", () => {
  it("tail new entries in order as server-sent events", async () => {
    const { app, db, clock, adminKey } = await testApp();
    const { createApp } = await import("../src/app.ts");
    const fast = createApp({ db, clock, config: { ...defaultConfig, tailPollMs: 5, tailMaxMs: 60_000 } });
    const host = await enrollHost(app, adminKey);
    await sendBatch(
      app,
      host.hostToken,
      batch({ logs: [{ ts: T0, priority: 3, message: "before the tail" }] }),
    );

    const controller = new AbortController();
    const res = await fast.request(`/api/v1/hosts/${host.hostId}/logs/tail`, {
      headers: bearer(adminKey),
      signal: controller.signal,
    });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = "";
    const readUntil = async (needle: string) => {
      while (!text.includes(needle)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${needle}`);
        text += decoder.decode(value, { stream: true });
      }
    };
    await readUntil("event: ready");
    for (const message of ["first", "second", "third"]) {
      await sendBatch(app, host.hostToken, batch({ logs: [{ ts: T0, priority: 3, message }] }));
    }
    await readUntil('"message":"third"');
    controller.abort();
    await reader.cancel();
    const messages = [...text.matchAll(/"message":"([^"]+)"/g)].map((m) => m[1]);
    expect(messages).toEqual(["first", "second", "third"]);
    const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
  });
});

describe("central probe configuration", () => {
  it("deletes a host with everything it reported, its alerts and their incidents", async () => {
    const { app, adminKey, db, clock } = await testApp();
    const host = await enrollHost(app, adminKey);
    await sendBatch(
      app,
      host.hostToken,
      batch({ samples: [fullSample], logs: [{ ts: T0, priority: 3, message: "x" }] }),
    );
    // A full disk for 6 minutes: the built-in rule fires and opens an incident.
    for (let i = 0; i < 2; i++) {
      const ts = clock.now();
      const disk = {
        ts,
        mount: "/",
        device: "/dev/vda1",
        fstype: "ext4",
        sizeBytes: 100,
        usedBytes: 99,
        availableBytes: 1,
      };
      await sendBatch(app, host.hostToken, batch({ sentAt: ts, filesystems: [disk] }));
      clock.advance(6 * 60_000);
    }
    const open = await db.$client.execute("select count(*) as n from incidents where subject_type = 'alert'");
    expect(open.rows[0]?.n).toBe(1);
    const res = await app.request(`/api/v1/hosts/${host.hostId}`, {
      method: "DELETE",
      headers: bearer(adminKey),
    });
    expect(res.status).toBe(204);
    for (const table of [
      "hosts",
      "series",
      "samples",
      "log_entries",
      "ingested_batches",
      "alerts",
      "incidents",
    ]) {
      const n = (await db.$client.execute(`select count(*) as n from ${table}`)).rows[0]?.n;
      expect(n, table).toBe(0);
    }
    const flips = await db.$client.execute("select count(*) as n from flips where subject_type = 'alert'");
    expect(flips.rows[0]?.n).toBe(0);
    expect((await sendBatch(app, host.hostToken, batch())).status).toBe(401);
  });
});

describe("Prometheus export", () => {
  it("serves the latest values in the text format, clean under promtool", async () => {
    const { app, adminKey, clock } = await testApp();
    clock.set(T0 + 30_000);
    const host = await enrollHost(app, adminKey, { hostname: 'web "1"' });
    await sendBatch(
      app,
      host.hostToken,
      batch({
        samples: [fullSample],
        filesystems: [
          {
            ts: T0,
            mount: "/",
            device: "/dev/vda1",
            fstype: "ext4",
            sizeBytes: 100,
            usedBytes: 90,
            availableBytes: 5,
          },
        ],
        interfaces: [{ ts: T0, name: "eth0", rxBytesPerSec: 100, txBytesPerSec: 50 }],
        backups: [{ name: "home", tool: "restic", status: "success", startedAt: T0 - 5000, endedAt: T0 }],
        state: {
          collectedAt: T0,
          updates: { manager: "apt", pending: 2, security: 1 },
          reboot: { required: true },
        },
      }),
    );
    expect((await app.request("/metrics")).status).toBe(401);
    const res = await app.request("/metrics", { headers: bearer(adminKey) });
    expect(res.headers.get("content-type")).toContain("text/plain; version=0.0.4");
    const text = await res.text();
    expect(text).toContain(`vigil_cpu_user_percent{host="web \\"1\\"",host_id="${host.hostId}"} 12.5`);
    expect(text).toContain('mountpoint="/"');
    expect(text).toMatch(/vigil_filesystem_used_percent\{[^}]*\} 94\.7/);
    expect(text).toContain(`vigil_host_up{host="web \\"1\\"",host_id="${host.hostId}"} 1`);
    expect(text).toMatch(/vigil_updates_security_pending\{[^}]*\} 1/);
    expect(text).toMatch(/vigil_backup_last_run_success\{[^}]*backup="home"\} 1/);

    const lint = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
    expect(lint.error, "promtool must be installed (Debian package prometheus)").toBeUndefined();
    expect(`${lint.stdout}${lint.stderr}`).toBe("");
    expect(lint.status).toBe(0);
  });
});
