import { expect } from "vitest";
import { area } from "./case.ts";
import { bearer, enrollHost, jsonRequest, legacy, sendBatch } from "./client.ts";
import { batch } from "./probe.ts";

const T0 = Date.UTC(2026, 10, 27, 12);

async function json<T>(res: Response | Promise<Response>): Promise<T> {
  return (await (await res).json()) as T;
}

const hostData1 = area("host state and its history", [
  {
    name: "keeps the latest snapshot and records what changed",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
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
    },
  },

  {
    name: "notices a reboot from a new boot id",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
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
    },
  },
]);

const hostData2 = area("filesystems on the host page", [
  {
    name: "tells each filesystem's use and when a filling one will be full at its trend",
    run: async (t) => {
      const { app, adminKey, clock } = legacy(t);
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
    },
  },
]);

const hostData3 = area("backups", [
  {
    name: "puts each host's newest successful and failed backup on the host, for the overview's cards",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
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
    },
  },

  {
    name: "lists runs and tells the last success and the last failure per backup",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
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
    },
  },
]);

const hostData4 = area("logs", [
  {
    name: "filter by unit, priority and text and page back by cursor",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
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
    },
  },

  {
    name: "streams a host's lines to a live tail as they arrive, after the newest line when it opened",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      const host = await enrollHost(app, adminKey);
      const line = (ts: number, message: string) => ({ ts, priority: 3, unit: "app.service", message });
      await sendBatch(app, host.hostToken, batch({ logs: [line(T0, "before the tail")] }));
      // Closing the tail is what a browser leaving the page does: the request is aborted.
      const leave = new AbortController();
      const res = await app.request(`/api/v1/hosts/${host.hostId}/logs/tail`, {
        headers: bearer(adminKey),
        signal: leave.signal,
      });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toContain("text/event-stream");
      const events = serverSentEvents(res);
      try {
        expect((await events.next()).event).toBe("ready");
        await sendBatch(app, host.hostToken, batch({ logs: [line(T0 + 1, "after the tail opened")] }));
        const next = await events.next();
        expect(next.event).toBe("log");
        expect(JSON.parse(next.data)).toMatchObject({
          message: "after the tail opened",
          unit: "app.service",
        });
        expect(Number(next.id)).toBeGreaterThan(0);
      } finally {
        // Leaving ends the stream on the server's side too: reading on finds its end (a tail that polled on
        // for nobody would hold this read until the test times out).
        leave.abort();
        await events.rest();
      }
    },
  },
]);

/** Reads a `text/event-stream` body one event at a time (the fields a tail sends: event, id, data). */
function serverSentEvents(res: Response) {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  return {
    async next(): Promise<{ event: string; id: string; data: string }> {
      for (;;) {
        const end = buffered.indexOf("\n\n");
        if (end >= 0) {
          const block = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const field = (name: string) =>
            block
              .split("\n")
              .filter((l) => l.startsWith(`${name}:`))
              .map((l) => l.slice(name.length + 1).trimStart())
              .join("\n");
          return { event: field("event") || "message", id: field("id"), data: field("data") };
        }
        const { value, done } = await reader.read();
        if (done) throw new Error("the stream ended before the next event");
        buffered += decoder.decode(value, { stream: true });
      }
    },
    /** reads what is left, up to the end of the stream */
    async rest(): Promise<void> {
      while (!(await reader.read()).done) {}
    },
  };
}

const hostData5 = area("deploy markers", [
  {
    name: "record a deploy with an ingest key and show it in host history and metric queries",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
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
    },
  },
]);

const hostData6 = area("central probe configuration", [
  {
    name: "hands each probe the project's settings with its host's overrides",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
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
    },
  },
]);

const customMetrics = area("custom metrics", [
  {
    name: "stores scraped and pushed series, reads a counter as a rate, and rolls the project's own up",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      const host = await enrollHost(app, adminKey);
      const start = t.clock.now();
      for (let i = 0; i <= 10; i++) {
        const ts = start + i * 60_000;
        const customMetrics = [
          { ts, name: "jobs_total", labels: { job: "app" }, value: i * 60, kind: "counter" },
        ];
        expect((await sendBatch(app, host.hostToken, batch({ customMetrics }))).status).toBe(200);
      }
      const push = await app.request("/api/v1/metrics?job=deploy", {
        method: "POST",
        headers: { ...bearer(adminKey), "content-type": "text/plain" },
        body: `# TYPE deploy_seconds gauge\ndeploy_seconds{app="shop"} 42 ${start}\n`,
      });
      expect(await json(push)).toEqual({ stored: 1, series: 1, created: 1, skipped: 0 });
      const rate = await json<{ series: { points: { value: number | null }[] }[] }>(
        app.request(
          `/api/v1/metrics/query?name=jobs_total&host=${host.hostId}&fn=rate&window=300&from=${start + 300_000}&to=${start + 600_000}&step=60`,
          { headers: bearer(adminKey) },
        ),
      );
      const values = rate.series[0]?.points.map((p) => p.value) ?? [];
      expect(values.length).toBeGreaterThan(0);
      for (const v of values) expect(v).toBeCloseTo(1, 9);
      t.clock.advance(2 * 3_600_000);
      await t.tick();
      const rolled = await json<{ resolution: string; series: { points: { value: number }[] }[] }>(
        app.request(
          `/api/v1/metrics/query?name=deploy_seconds&from=${start - 3_600_000}&to=${start + 3_600_000}&step=3600`,
          { headers: bearer(adminKey) },
        ),
      );
      expect(rolled.resolution).toBe("hour");
      expect(rolled.series[0]?.points.map((p) => p.value)).toEqual([42]);
    },
  },
]);

const backupAssurance = area("backup assurance", [
  {
    name: "grades a host's data from repository checks and drills, takes the operator's word on a repository, and alerts on damage",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      const host = await enrollHost(app, adminKey);
      const now = t.clock.now();
      const source = {
        hostname: "web-1",
        paths: ["/srv/app"],
        snapshots: 7,
        newestAt: now - 3_600_000,
        oldestAt: now - 7 * 86_400_000,
      };
      const checkOf = (name: string, location: string, id: string, status = "ok") => ({
        name,
        tool: "restic",
        status,
        startedAt: now - 60_000,
        endedAt: now,
        repository: { location, id },
        sizeBytes: 2e9,
        snapshotCount: 7,
        sources: [source],
        ...(status === "ok" ? {} : { output: "Fatal: repository contains errors" }),
      });
      const drill = {
        name: "nas",
        tool: "restic",
        status: "ok",
        repository: { location: "sftp:backup@nas:/restic", id: "r1" },
        startedAt: now - 30_000,
        endedAt: now,
        files: 20,
        bytes: 40_000,
        canary: true,
      };
      const sent = await sendBatch(
        app,
        host.hostToken,
        batch({
          facts: { hostname: "web-1" },
          backupChecks: [
            checkOf("nas", "sftp:backup@nas:/restic", "r1"),
            checkOf("usb", "/mnt/usb/restic", "r2"),
          ],
          backupDrills: [drill],
        }),
      );
      expect(sent.status).toBe(200);
      const hostBackups = await json<{
        repositories: { id: number; name: string; kind: string; site: string }[];
        sources: { copies: number; media: number; offsite: number; summary: string }[];
      }>(app.request(`/api/v1/hosts/${host.hostId}/backups`, { headers: bearer(adminKey) }));
      expect(hostBackups.repositories.map((r) => [r.name, r.kind, r.site])).toEqual([
        ["nas", "host", "onsite"],
        ["usb", "local", "onsite"],
      ]);
      expect(hostBackups.sources).toEqual([
        expect.objectContaining({
          copies: 3,
          media: 2,
          offsite: 0,
          summary: expect.stringMatching(
            /^3 copies, 2 media, 0 off site, last drill restored 20 files identical/,
          ),
        }),
      ]);

      // The NAS sits in another building: the operator says so.
      const nas = hostBackups.repositories[0];
      const patched = await app.request(
        `/api/v1/backups/repositories/${nas?.id}`,
        jsonRequest("PATCH", { site: "offsite" }, adminKey),
      );
      expect(await json(patched)).toMatchObject({ site: "offsite", siteSource: "set" });
      const bad = await app.request(
        `/api/v1/backups/repositories/${nas?.id}`,
        jsonRequest("PATCH", { kind: "tape" }, adminKey),
      );
      expect(bad.status).toBe(400);
      const { sources } = await json<{ sources: { offsite: number }[] }>(
        app.request("/api/v1/backups/sources", { headers: bearer(adminKey) }),
      );
      expect(sources[0]?.offsite).toBe(1);

      t.clock.advance(3_600_000);
      const damaged = await sendBatch(
        app,
        host.hostToken,
        batch({
          backupChecks: [{ ...checkOf("usb", "/mnt/usb/restic", "r2", "damaged"), endedAt: t.clock.now() }],
        }),
      );
      expect(damaged.status).toBe(200);
      const { alerts } = await json<{ alerts: { targetKey: string; state: string; cause: string }[] }>(
        app.request(`/api/v1/alerts?hostId=${host.hostId}`, { headers: bearer(adminKey) }),
      );
      expect(alerts.filter((a) => a.targetKey === "repository=usb")).toEqual([
        expect.objectContaining({
          state: "firing",
          cause: "repository usb damaged: Fatal: repository contains errors",
        }),
      ]);
      const history = await json<{ checks: { status: string }[]; drills: unknown[] }>(
        app.request(`/api/v1/backups/repositories/${hostBackups.repositories[1]?.id}`, {
          headers: bearer(adminKey),
        }),
      );
      expect(history.checks.map((c) => c.status)).toEqual(["damaged", "ok"]);
    },
  },
]);

export const hostDataCases = [
  hostData1,
  hostData2,
  hostData3,
  hostData4,
  hostData5,
  hostData6,
  customMetrics,
  backupAssurance,
];
