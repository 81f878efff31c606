import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { defaultConfig } from "../src/deps.ts";
import { batch, bearer, enrollHost, jsonRequest, sendBatch, testApp } from "./helpers.ts";

const T0 = Date.UTC(2026, 10, 27, 12);

async function json<T>(res: Response | Promise<Response>): Promise<T> {
  return (await (await res).json()) as T;
}

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

describe("host state and its history", () => {
  it("keeps the latest snapshot and records what changed", async () => {
    const { app, adminKey } = await testApp();
    const host = await enrollHost(app, adminKey);
    const base = {
      reboot: { required: false },
      updates: { manager: "apt", pending: 3, security: 0 },
      failedUnits: [],
      containers: [
        {
          id: "a",
          name: "web-1",
          image: "app:1",
          state: "running",
          restartCount: 0,
          labels: { service: "app", role: "web" },
        },
      ],
      sshKeys: [{ user: "root", fingerprints: ["SHA256:aaa"] }],
    };
    await sendBatch(app, host.hostToken, batch({ state: { collectedAt: T0, ...base } }));
    await sendBatch(
      app,
      host.hostToken,
      batch({
        state: {
          collectedAt: T0 + 60_000,
          reboot: { required: true, packages: ["linux-image-amd64"] },
          updates: { manager: "apt", pending: 4, security: 2 },
          failedUnits: ["backup.service"],
          containers: [{ ...base.containers[0], restartCount: 2 }],
          sshKeys: [{ user: "root", fingerprints: ["SHA256:aaa", "SHA256:bbb"] }],
        },
      }),
    );
    const state = await json<{ state: { reboot: { required: boolean } } }>(
      app.request(`/api/v1/hosts/${host.hostId}/state`, { headers: bearer(adminKey) }),
    );
    expect(state.state.reboot.required).toBe(true);
    const { events } = await json<{
      events: { kind: string; message: string; details: Record<string, unknown> }[];
    }>(app.request(`/api/v1/hosts/${host.hostId}/events`, { headers: bearer(adminKey) }));
    expect(events.map((e) => e.kind).sort()).toEqual(
      [
        "container.restarted",
        "reboot.required",
        "ssh_keys.changed",
        "unit.failed",
        "updates.security",
      ].sort(),
    );
    expect(events.find((e) => e.kind === "container.restarted")?.message).toBe(
      "container web-1 restarted 2 times",
    );
    expect(events.find((e) => e.kind === "container.restarted")?.details.labels).toEqual({
      service: "app",
      role: "web",
    });
    expect(events.find((e) => e.kind === "ssh_keys.changed")?.details.added).toEqual(["SHA256:bbb"]);
  });

  it("notices a reboot from a new boot id", async () => {
    const { app, adminKey } = await testApp();
    const host = await enrollHost(app, adminKey, { bootId: "boot-1" });
    await sendBatch(
      app,
      host.hostToken,
      batch({ facts: { hostname: "web-1", bootId: "boot-2", bootedAt: T0 } }),
    );
    const { events } = await json<{ events: { kind: string; at: number }[] }>(
      app.request(`/api/v1/hosts/${host.hostId}/events`, { headers: bearer(adminKey) }),
    );
    expect(events).toMatchObject([{ kind: "host.rebooted", at: T0 }]);
  });
});

describe("filesystems on the host page", () => {
  it("tells each filesystem's use and when a filling one will be full at its trend", async () => {
    const { app, adminKey, clock } = await testApp();
    const host = await enrollHost(app, adminKey);
    const GB = 1e9;
    // Six hours, one batch every 10 minutes: "/" loses 1 GB an hour from 20 GB free; "/boot" holds still.
    for (let i = 0; i <= 36; i++) {
      const ts = T0 - 6 * 3_600_000 + i * 600_000;
      const fs = (mount: string, available: number) => ({
        ts,
        mount,
        device: mount === "/" ? "/dev/vda1" : "/dev/vda2",
        fstype: "ext4",
        sizeBytes: 100 * GB,
        usedBytes: 100 * GB - available,
        availableBytes: available,
      });
      await sendBatch(
        app,
        host.hostToken,
        batch({ sentAt: ts, filesystems: [fs("/", 26 * GB - (i / 6) * GB), fs("/boot", 50 * GB)] }),
      );
    }
    clock.set(T0);
    const body = await json<{ lookbackHours: number; filesystems: Record<string, unknown>[] }>(
      app.request(`/api/v1/hosts/${host.hostId}/filesystems`, { headers: bearer(adminKey) }),
    );
    expect(body.lookbackHours).toBe(6);
    expect(body.filesystems).toEqual([
      expect.objectContaining({ mount: "/", usedPct: 80, trend: "filling", hoursUntilFull: 20 }),
      expect.objectContaining({ mount: "/boot", usedPct: 50, trend: "steady", hoursUntilFull: null }),
    ]);
  });
});

describe("backups", () => {
  it("puts each host's newest successful and failed backup on the host, for the overview's cards", async () => {
    const { app, adminKey } = await testApp();
    const host = await enrollHost(app, adminKey);
    const quiet = await enrollHost(app, adminKey, { hostname: "quiet" });
    const run = (name: string, status: string, endedAt: number) => ({
      name,
      tool: "restic",
      status,
      startedAt: endedAt - 5000,
      endedAt,
      exitCode: status === "success" ? 0 : 1,
    });
    await sendBatch(
      app,
      host.hostToken,
      batch({
        backups: [
          run("home", "success", T0),
          run("db", "success", T0 + 500),
          run("home", "failure", T0 + 900),
        ],
      }),
    );
    const { hosts } = await json<{ hosts: { id: string; lastBackup: unknown }[] }>(
      app.request("/api/v1/hosts", { headers: bearer(adminKey) }),
    );
    const byId = new Map(hosts.map((h) => [h.id, h.lastBackup]));
    expect(byId.get(host.hostId)).toEqual({ successAt: T0 + 500, failureAt: T0 + 900 });
    expect(byId.get(quiet.hostId)).toEqual({ successAt: null, failureAt: null });
  });

  it("lists runs and tells the last success and the last failure per backup", async () => {
    const { app, adminKey } = await testApp();
    const host = await enrollHost(app, adminKey);
    const run = (name: string, status: string, endedAt: number) => ({
      name,
      tool: "restic",
      status,
      startedAt: endedAt - 5000,
      endedAt,
      exitCode: status === "success" ? 0 : 1,
      ...(status === "failure"
        ? { error: "Fatal: wrong password" }
        : { snapshotId: "cbe48975", bytesAdded: 301041 }),
    });
    await sendBatch(
      app,
      host.hostToken,
      batch({
        backups: [
          run("home", "success", T0),
          run("home", "failure", T0 + 1000),
          run("db", "success", T0 + 500),
        ],
      }),
    );
    const body = await json<{ backups: unknown[]; runs: { durationMs: number }[] }>(
      app.request(`/api/v1/hosts/${host.hostId}/backups`, { headers: bearer(adminKey) }),
    );
    expect(body.backups).toEqual([
      {
        name: "db",
        lastStatus: "success",
        lastRunAt: T0 + 500,
        lastSuccessAt: T0 + 500,
        lastFailureAt: null,
        runs: 1,
      },
      {
        name: "home",
        lastStatus: "failure",
        lastRunAt: T0 + 1000,
        lastSuccessAt: T0,
        lastFailureAt: T0 + 1000,
        runs: 2,
      },
    ]);
    expect(body.runs[0]).toMatchObject({
      name: "home",
      status: "failure",
      error: "Fatal: wrong password",
      durationMs: 5000,
    });
  });
});

describe("logs", () => {
  it("filter by unit, priority and text and page back by cursor", async () => {
    const { app, adminKey } = await testApp();
    const host = await enrollHost(app, adminKey);
    const logs = [
      { ts: T0, priority: 3, unit: "app.service", message: "disk 93% full" },
      { ts: T0 + 1, priority: 6, unit: "app.service", message: "request served" },
      { ts: T0 + 2, priority: 2, unit: "kernel", message: "Out of memory: Killed process 42" },
      { ts: T0 + 3, priority: 4, unit: "app.service", message: "50%_done literal" },
    ];
    await sendBatch(app, host.hostToken, batch({ logs }));
    const get = (q: string) =>
      json<{ entries: { message: string }[]; nextBefore: number | null }>(
        app.request(`/api/v1/hosts/${host.hostId}/logs?${q}`, { headers: bearer(adminKey) }),
      );
    expect((await get("unit=app.service&priority=4")).entries.map((e) => e.message)).toEqual([
      "50%_done literal",
      "disk 93% full",
    ]);
    expect((await get("q=out%20of%20MEMORY")).entries.map((e) => e.message)).toEqual([
      "Out of memory: Killed process 42",
    ]);
    expect((await get("q=%25_")).entries.map((e) => e.message)).toEqual(["50%_done literal"]);
    const page1 = await get("limit=2");
    expect(page1.entries).toHaveLength(2);
    const page2 = await get(`limit=2&before=${page1.nextBefore}`);
    expect(page2.entries.map((e) => e.message)).toEqual(["request served", "disk 93% full"]);
    const bad = await app.request(`/api/v1/hosts/${host.hostId}/logs?priority=9`, {
      headers: bearer(adminKey),
    });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("query.priority");
  });

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

describe("deploy markers", () => {
  it("record a deploy with an ingest key and show it in host history and metric queries", async () => {
    const { app, adminKey } = await testApp();
    const host = await enrollHost(app, adminKey);
    const ingest = await json<{ key: string }>(
      app.request("/api/v1/api-keys", jsonRequest("POST", { name: "kamal", scopes: ["ingest"] }, adminKey)),
    );
    const created = await app.request(
      "/api/v1/events",
      jsonRequest(
        "POST",
        { service: "app", version: "abc123", performer: "ana", host: "web-1", at: T0 },
        ingest.key,
      ),
    );
    expect(created.status).toBe(201);
    expect(await json(created)).toMatchObject({
      kind: "deploy",
      message: "deployed app abc123 by ana",
      hostId: host.hostId,
    });
    await app.request(
      "/api/v1/events",
      jsonRequest("POST", { service: "app", version: "def456", at: T0 + 10 }, ingest.key),
    );

    const metrics = await json<{ events: { message: string }[] }>(
      app.request(`/api/v1/hosts/${host.hostId}/metrics?from=${T0 - 1000}&to=${T0 + 1000}`, {
        headers: bearer(adminKey),
      }),
    );
    expect(metrics.events.map((e) => e.message)).toEqual([
      "deployed app def456",
      "deployed app abc123 by ana",
    ]);
    const unknown = await app.request("/api/v1/events", jsonRequest("POST", { host: "nope" }, ingest.key));
    expect(unknown.status).toBe(404);
  });
});

describe("central probe configuration", () => {
  it("hands each probe the project's settings with its host's overrides", async () => {
    const { app, adminKey } = await testApp();
    const host = await enrollHost(app, adminKey);
    await app.request(
      "/api/v1/projects/current/settings",
      jsonRequest("PATCH", { probe: { intervalSec: 60, journal: { units: ["app.service"] } } }, adminKey),
    );
    await app.request(
      `/api/v1/hosts/${host.hostId}`,
      jsonRequest("PATCH", { config: { journal: { minPriority: 3 } } }, adminKey),
    );
    const res = await json<{ config: unknown }>(sendBatch(app, host.hostToken, batch()));
    expect(res.config).toEqual({ intervalSec: 60, journal: { minPriority: 3, units: ["app.service"] } });
    const bad = await app.request(
      "/api/v1/projects/current/settings",
      jsonRequest("PATCH", { probe: { intervalSec: 1 } }, adminKey),
    );
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("body.probe.intervalSec");
  });

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
