import { gzipSync } from "node:zlib";
import { expect } from "vitest";
import { area } from "./case.ts";
import { bearer, createKey, enrollHost, jsonRequest, legacy, sendBatch } from "./client.ts";
import { batch } from "./probe.ts";

const T0 = Date.UTC(2026, 10, 27, 12);
const MIN = 60_000;
const HOUR = 60 * MIN;

const sample = (ts: number, fields: Record<string, unknown> = {}) => ({
  ts,
  cpu: { userPct: 10, systemPct: 5, iowaitPct: 1, idlePct: 84 },
  load1: 0.5,
  memory: { totalBytes: 4e9, availableBytes: 1e9 },
  ...fields,
});

async function json<T>(res: Response | Promise<Response>): Promise<T> {
  return (await (await res).json()) as T;
}

const ingest1 = area("enrollment", [
  {
    name: "gives a new machine a host and a token, and the same machine its host back when it shows its host token",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      const first = await enrollHost(app, adminKey, { machineId: "m-1" });
      const { token } = await json<{ token: string }>(
        app.request("/api/v1/enrollment-tokens", jsonRequest("POST", { name: "again" }, adminKey)),
      );
      const res = await app.request(
        "/api/v1/probe/enroll",
        jsonRequest("POST", {
          token,
          hostToken: first.hostToken,
          facts: { hostname: "web-1", machineId: "m-1" },
        }),
      );
      expect(res.status).toBe(200);
      const back = await json<{ hostId: string; hostToken: string }>(res);
      expect(back.hostId).toBe(first.hostId);
      expect(back.hostToken).not.toBe(first.hostToken);
      expect((await sendBatch(app, first.hostToken, batch())).status).toBe(401);
      expect((await sendBatch(app, back.hostToken, batch())).status).toBe(200);

      const fresh = await app.request(
        "/api/v1/probe/enroll",
        jsonRequest("POST", { token, facts: { hostname: "web-1", machineId: "m-1" }, forceNew: true }),
      );
      expect(fresh.status).toBe(201);
      expect((await json<{ hostId: string }>(fresh)).hostId).not.toBe(first.hostId);
    },
  },

  {
    name: "refuses an enrollment naming another host's machine id without that host's token, and the host and its probe keep going",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      const victim = await enrollHost(app, adminKey, { machineId: "m-victim" });
      // The machine id is no secret: any read key sees it.
      const listed = await json<{ hosts: { id: string; machineId: string | null }[] }>(
        app.request("/api/v1/hosts", { headers: bearer(adminKey) }),
      );
      expect(listed.hosts.find((h) => h.id === victim.hostId)?.machineId).toBe("m-victim");
      const attacker = await enrollHost(app, adminKey, { hostname: "evil" });
      const { token } = await json<{ token: string }>(
        app.request("/api/v1/enrollment-tokens", jsonRequest("POST", { name: "leaked" }, adminKey)),
      );
      for (const hostToken of [
        undefined,
        attacker.hostToken,
        "vgl_hst_madeupmadeupmadeupmadeupmadeupmadeupmadeupmade",
      ]) {
        const res = await app.request(
          "/api/v1/probe/enroll",
          jsonRequest("POST", {
            token,
            ...(hostToken ? { hostToken } : {}),
            facts: { hostname: "evil", machineId: "m-victim" },
          }),
        );
        // Another host's token re-enrolls that host (its own), never the victim.
        if (hostToken === attacker.hostToken) {
          expect(res.status).toBe(200);
          expect((await json<{ hostId: string }>(res)).hostId).toBe(attacker.hostId);
        } else {
          expect(res.status).toBe(409);
          expect((await json<{ error: { code: string; message: string } }>(res)).error).toMatchObject({
            code: "CONFLICT",
            message: expect.stringContaining("force"),
          });
        }
      }
      expect((await sendBatch(app, victim.hostToken, batch())).status).toBe(200);
      const host = await json<{ name: string; machineId: string }>(
        app.request(`/api/v1/hosts/${victim.hostId}`, { headers: bearer(adminKey) }),
      );
      expect(host).toMatchObject({ name: "web-1", machineId: "m-victim" });
    },
  },

  {
    name: "a host's batch cannot give it another host's machine id",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      const victim = await enrollHost(app, adminKey, { machineId: "m-victim" });
      const other = await enrollHost(app, adminKey, { hostname: "other", machineId: undefined });
      const res = await sendBatch(
        app,
        other.hostToken,
        batch({ facts: { hostname: "other", machineId: "m-victim" } }),
      );
      expect(res.status).toBe(200);
      const host = await json<{ machineId: string | null }>(
        app.request(`/api/v1/hosts/${other.hostId}`, { headers: bearer(adminKey) }),
      );
      expect(host.machineId).toBeNull();
      const { token } = await json<{ token: string }>(
        app.request("/api/v1/enrollment-tokens", jsonRequest("POST", { name: "again" }, adminKey)),
      );
      const again = await app.request(
        "/api/v1/probe/enroll",
        jsonRequest("POST", { token, hostToken: other.hostToken, facts: { hostname: "other" } }),
      );
      expect((await json<{ hostId: string }>(again)).hostId).toBe(other.hostId);
      expect((await sendBatch(app, victim.hostToken, batch())).status).toBe(200);
    },
  },

  {
    name: "refuses a revoked, an expired and a made-up enrollment token alike",
    run: async (t) => {
      const { app, adminKey, clock } = legacy(t);
      const created = await json<{ id: string; token: string }>(
        app.request(
          "/api/v1/enrollment-tokens",
          jsonRequest("POST", { name: "short", expiresInSec: 600 }, adminKey),
        ),
      );
      const enroll = (token: string) =>
        app.request("/api/v1/probe/enroll", jsonRequest("POST", { token, facts: { hostname: "x" } }));
      clock.advance(601_000);
      expect((await enroll(created.token)).status).toBe(401);

      const other = await json<{ id: string; token: string }>(
        app.request("/api/v1/enrollment-tokens", jsonRequest("POST", { name: "revoked" }, adminKey)),
      );
      await app.request(`/api/v1/enrollment-tokens/${other.id}`, {
        method: "DELETE",
        headers: bearer(adminKey),
      });
      expect((await enroll(other.token)).status).toBe(401);
      expect((await enroll("vgl_enr_madeupmadeupmadeupmadeupmadeupmadeupmadeupmade")).status).toBe(401);

      const list = await json<{ enrollmentTokens: { id: string; revokedAt: number | null }[] }>(
        app.request("/api/v1/enrollment-tokens", { headers: bearer(adminKey) }),
      );
      expect(list.enrollmentTokens.find((t) => t.id === other.id)?.revokedAt).toBe(clock.now());
    },
  },
]);

const ingest2 = area("batch ingest", [
  {
    name: "stores a batch and answers with the host's remote config",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      const host = await enrollHost(app, adminKey);
      const res = await sendBatch(
        app,
        host.hostToken,
        batch({
          samples: [sample(T0)],
          logs: [{ ts: T0, priority: 3, message: "disk almost full", unit: "app.service" }],
        }),
      );
      expect(res.status).toBe(200);
      const body = await json<{
        duplicate: boolean;
        config: { intervalSec: number };
        stored: { logs: number };
      }>(res);
      expect(body).toMatchObject({
        duplicate: false,
        config: { intervalSec: 30, journal: { minPriority: 4 } },
      });
      expect(body.stored.logs).toBe(1);

      const hostView = await json<{
        lastSeenAt: number;
        latest: { cpuBusyPct: number; memoryAvailablePct: number };
      }>(app.request(`/api/v1/hosts/${host.hostId}`, { headers: bearer(adminKey) }));
      expect(hostView.latest).toMatchObject({ cpuBusyPct: 16, memoryAvailablePct: 25 });
      expect(hostView.lastSeenAt).not.toBeNull();
    },
  },

  {
    name: "stores nothing twice when the same batch arrives again",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      const host = await enrollHost(app, adminKey);
      const once = batch({ samples: [sample(T0)], logs: [{ ts: T0, priority: 4, message: "once" }] });
      const first = await json<{ duplicate: boolean; stored: unknown }>(sendBatch(app, host.hostToken, once));
      const second = await json<{ duplicate: boolean; stored: unknown }>(
        sendBatch(app, host.hostToken, once),
      );
      expect(first.duplicate).toBe(false);
      expect(second).toMatchObject({ duplicate: true, stored: first.stored });
      const logs = await json<{ entries: unknown[] }>(
        app.request(`/api/v1/hosts/${host.hostId}/logs`, { headers: bearer(adminKey) }),
      );
      expect(logs.entries).toHaveLength(1);
    },
  },

  {
    name: "takes plain JSON as well as gzip",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      const host = await enrollHost(app, adminKey);
      expect(
        (await sendBatch(app, host.hostToken, batch({ samples: [sample(T0)] }), { gzip: false })).status,
      ).toBe(200);
    },
  },

  {
    name: "answers a malformed batch with 400 naming the field, and keeps what was accepted before",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      const host = await enrollHost(app, adminKey);
      await sendBatch(app, host.hostToken, batch({ logs: [{ ts: T0, priority: 3, message: "kept" }] }));
      const res = await sendBatch(
        app,
        host.hostToken,
        batch({ samples: [{ ts: "yesterday" }], logs: [{ ts: T0, priority: 9 }] }),
      );
      expect(res.status).toBe(400);
      const { error } = await json<{ error: { code: string; fields: { path: string }[] } }>(res);
      expect(error.code).toBe("VALIDATION_FAILED");
      expect(error.fields.map((f) => f.path)).toEqual(
        expect.arrayContaining(["body.samples.0.ts", "body.logs.0.priority", "body.logs.0.message"]),
      );
      const logs = await json<{ entries: { message: string }[] }>(
        app.request(`/api/v1/hosts/${host.hostId}/logs`, { headers: bearer(adminKey) }),
      );
      expect(logs.entries.map((e) => e.message)).toEqual(["kept"]);
    },
  },

  {
    name: "refuses a batch over the row limit with 400 and one that inflates too far with 413",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      const host = await enrollHost(app, adminKey);
      const logs = Array.from({ length: 5001 }, (_, i) => ({ ts: T0 + i, priority: 4, message: "x" }));
      const tooMany = await sendBatch(app, host.hostToken, batch({ logs }));
      expect(tooMany.status).toBe(400);
      expect(await tooMany.text()).toContain("body.logs");

      // 20 MB of zeros gzip to ~20 kB: small on the wire, refused once inflating passes the limit.
      const bomb = gzipSync(Buffer.alloc(20 * 1024 * 1024));
      const res = await app.request("/api/v1/probe/batches", {
        method: "POST",
        headers: {
          authorization: `Bearer ${host.hostToken}`,
          "content-type": "application/json",
          "content-encoding": "gzip",
        },
        body: bomb,
      });
      expect(res.status).toBe(413);
      expect(await json<{ error: { code: string } }>(res)).toMatchObject({
        error: { code: "PAYLOAD_TOO_LARGE" },
      });
    },
  },

  {
    name: "answers broken gzip, broken JSON and an unknown encoding with a 4xx",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      const host = await enrollHost(app, adminKey);
      const post = (body: BodyInit, headers: Record<string, string>) =>
        app.request("/api/v1/probe/batches", {
          method: "POST",
          headers: {
            authorization: `Bearer ${host.hostToken}`,
            "content-type": "application/json",
            ...headers,
          },
          body,
        });
      expect((await post("not gzip", { "content-encoding": "gzip" })).status).toBe(400);
      expect((await post(gzipSync("{nope"), { "content-encoding": "gzip" })).status).toBe(400);
      expect((await post("{}", { "content-encoding": "br" })).status).toBe(415);
      expect((await post("{}", {})).status).toBe(400);
    },
  },

  {
    name: "refuses a batch without a valid host token, and an API key in its place",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      expect((await sendBatch(app, "", batch())).status).toBe(401);
      expect((await sendBatch(app, adminKey, batch())).status).toBe(401);
    },
  },
]);

const ingest3 = area("tenancy of host data", [
  {
    name: "keeps each project's hosts and data to itself, even for guessed ids",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      const mine = await enrollHost(app, adminKey);
      const otherAdmin = { key: (await t.otherProject()).adminKey };
      const theirs = await enrollHost(app, otherAdmin.key, { hostname: "theirs" });
      await sendBatch(
        app,
        theirs.hostToken,
        batch({ samples: [sample(T0)], logs: [{ ts: T0, priority: 2, message: "secret" }] }),
      );
      await sendBatch(app, mine.hostToken, batch({ samples: [sample(T0)] }));

      const read = { key: await createKey(t, ["read"]) };
      const hosts = await json<{ hosts: { id: string }[] }>(
        app.request("/api/v1/hosts", { headers: bearer(read.key) }),
      );
      expect(hosts.hosts.map((h) => h.id)).toEqual([mine.hostId]);
      for (const path of ["", "/metrics", "/logs", "/backups", "/state", "/events"]) {
        const res = await app.request(`/api/v1/hosts/${theirs.hostId}${path}`, { headers: bearer(read.key) });
        expect(res.status, path).toBe(404);
      }
      const logs = await app.request("/api/v1/logs", { headers: bearer(read.key) });
      expect(await logs.text()).not.toContain("secret");
      const metrics = await app.request("/metrics", { headers: bearer(read.key) });
      expect(await metrics.text()).not.toContain(theirs.hostId);
    },
  },

  {
    name: "writes a batch only to the host its token belongs to",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      const mine = await enrollHost(app, adminKey);
      const otherAdmin = { key: (await t.otherProject()).adminKey };
      const theirs = await enrollHost(app, otherAdmin.key);
      // A hostId smuggled into the body is not part of the contract and changes nothing.
      await sendBatch(
        app,
        mine.hostToken,
        batch({ hostId: theirs.hostId, logs: [{ ts: T0, priority: 3, message: "mine" }] }),
      );
      const theirLogs = await json<{ entries: unknown[] }>(
        app.request(`/api/v1/hosts/${theirs.hostId}/logs`, { headers: bearer(otherAdmin.key) }),
      );
      expect(theirLogs.entries).toEqual([]);
    },
  },
]);

const ingest4 = area("rollups and retention", [
  {
    name: "roll up hours into min, avg and max that agree with the raw samples",
    run: async (t) => {
      const { app, adminKey, clock } = legacy(t);
      const host = await enrollHost(app, adminKey);
      const start = Date.UTC(2026, 10, 20, 0);
      const samples = Array.from({ length: 120 }, (_, i) => sample(start + i * MIN, { load1: i }));
      await sendBatch(app, host.hostToken, batch({ samples }));
      clock.set(start + 3 * HOUR);
      await t.tick();

      const hourly = await json<{
        resolution: string;
        series: { points: { ts: number; avg: number; min: number; max: number }[] }[];
      }>(
        app.request(
          `/api/v1/hosts/${host.hostId}/metrics?names=load.1&from=${start}&to=${start + 2 * HOUR}&step=3600`,
          {
            headers: bearer(adminKey),
          },
        ),
      );
      expect(hourly.resolution).toBe("hour");
      expect(hourly.series[0]?.points).toEqual([
        { ts: start, avg: 29.5, min: 0, max: 59 },
        { ts: start + HOUR, avg: 89.5, min: 60, max: 119 },
      ]);
      const raw = await json<{ resolution: string; series: { points: { avg: number }[] }[] }>(
        app.request(
          `/api/v1/hosts/${host.hostId}/metrics?names=load.1&from=${start}&to=${start + 2 * HOUR}&step=600`,
          {
            headers: bearer(adminKey),
          },
        ),
      );
      expect(raw.resolution).toBe("raw");
      expect(raw.series[0]?.points).toHaveLength(12);
      expect(raw.series[0]?.points[0]?.avg).toBe(4.5);

      const daily = await json<{
        resolution: string;
        series: { points: { avg: number; min: number; max: number }[] }[];
      }>(
        app.request(
          `/api/v1/hosts/${host.hostId}/metrics?names=load.1&from=${start}&to=${start + 86_400_000}&step=86400`,
          {
            headers: bearer(adminKey),
          },
        ),
      );
      expect(daily.resolution).toBe("day");
      expect(daily.series[0]?.points).toEqual([{ ts: start, avg: 59.5, min: 0, max: 119 }]);
    },
  },

  {
    name: "recompute an hour when late samples arrive from a probe's spool",
    run: async (t) => {
      const { app, adminKey, clock } = legacy(t);
      const host = await enrollHost(app, adminKey);
      const start = Date.UTC(2026, 10, 20, 0);
      await sendBatch(app, host.hostToken, batch({ samples: [sample(start, { load1: 1 })] }));
      clock.set(start + 2 * HOUR);
      await t.tick();
      await sendBatch(app, host.hostToken, batch({ samples: [sample(start + 10 * MIN, { load1: 3 })] }));
      // the next tick comes later: a second tick at the same moment is the same firing, and runs nothing
      clock.advance(5_000);
      await t.tick();
      const hourly = await json<{ resolution: string; series: { points: unknown[] }[] }>(
        app.request(
          `/api/v1/hosts/${host.hostId}/metrics?names=load.1&from=${start}&to=${start + 2 * HOUR}&step=3600`,
          { headers: bearer(adminKey) },
        ),
      );
      expect(hourly.resolution).toBe("hour");
      expect(hourly.series[0]?.points).toEqual([{ ts: start, avg: 2, min: 1, max: 3 }]);
    },
  },

  {
    name: "reads long ranges from rollups, never from raw samples",
    run: async (t) => {
      const { app, adminKey, clock } = legacy(t);
      const host = await enrollHost(app, adminKey);
      const res = await json<{ resolution: string }>(
        app.request(`/api/v1/hosts/${host.hostId}/metrics?from=${clock.now() - 30 * 86_400_000}`, {
          headers: bearer(adminKey),
        }),
      );
      expect(res.resolution).not.toBe("raw");
    },
  },
]);

const ingest5 = area("concurrent batches", [
  {
    name: "stores batches that arrive together once each, and a repeat among them fails none of the others",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      const hosts = await Promise.all(
        [1, 2, 3].map((n) => enrollHost(app, adminKey, { hostname: `web-${n}` })),
      );
      const first = batch({ logs: [{ ts: T0, priority: 4, message: "first" }] });
      await sendBatch(app, hosts[0]?.hostToken ?? "", first);
      const answers = await Promise.all([
        sendBatch(app, hosts[0]?.hostToken ?? "", first),
        ...hosts.map((h, i) =>
          sendBatch(
            app,
            h.hostToken,
            batch({ samples: [sample(T0 + i)], logs: [{ ts: T0, priority: 4, message: `m${i}` }] }),
          ),
        ),
      ]);
      const bodies = await Promise.all(answers.map((r) => json<{ duplicate: boolean }>(r)));
      expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200]);
      expect(bodies.map((b) => b.duplicate)).toEqual([true, false, false, false]);
      const logs = await json<{ entries: { message: string }[] }>(
        app.request("/api/v1/logs", { headers: bearer(adminKey) }),
      );
      expect(logs.entries.map((e) => e.message).sort()).toEqual(["first", "m0", "m1", "m2"]);
    },
  },
]);

const ingest7 = area("host checks and ingest", [
  {
    name: "bring a down host check back up on the tick after the host's next batch",
    run: async (t) => {
      const { app, adminKey, clock } = legacy(t);
      const host = await enrollHost(app, adminKey);
      await sendBatch(app, host.hostToken, batch());
      const created = await app.request(
        "/api/v1/checks",
        jsonRequest("POST", { kind: "host", name: "web-1 alive", hostId: host.hostId }, adminKey),
      );
      expect(created.status).toBe(201);
      const { id } = await json<{ id: string }>(created);
      const status = async () =>
        (await json<{ status: string }>(app.request(`/api/v1/checks/${id}`, { headers: bearer(adminKey) })))
          .status;

      await t.tick();
      expect(await status()).toBe("up");
      clock.advance(10 * MIN);
      await t.tick();
      expect(await status()).toBe("down");

      clock.advance(1_000);
      await sendBatch(app, host.hostToken, batch());
      await t.tick();
      expect(await status()).toBe("up");
    },
  },
]);

export const ingestCases = [ingest1, ingest2, ingest3, ingest4, ingest5, ingest7];
