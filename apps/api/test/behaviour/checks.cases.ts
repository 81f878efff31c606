import { errorBodySchema } from "@vigil/contract";
import { expect } from "vitest";
import { area } from "./case.ts";
import { bearer, createKey, jsonRequest, legacy, type Requester } from "./client.ts";

type CheckBody = Record<string, unknown> & { id: string; status: string; pingUrl: string | null };

async function createCheck(app: Requester, key: string, body: unknown) {
  const res = await app.request("/api/v1/checks", jsonRequest("POST", body, key));
  expect(res.status).toBe(201);
  return (await res.json()) as CheckBody;
}

const checks1 = area("the checks API", [
  {
    name: "creates a heartbeat with a period and answers 201 with id, pingUrl and status",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      const res = await app.request(
        "http://vigil.test/api/v1/checks",
        jsonRequest(
          "POST",
          { kind: "heartbeat", name: "Nightly backup", slug: "backup", period: 86400, grace: 3600 },
          adminKey,
        ),
      );
      expect(res.status).toBe(201);
      const check = (await res.json()) as CheckBody;
      expect(check.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(check).toMatchObject({
        status: "new",
        pingUrl: `http://vigil.test/ping/${check.id}`,
        kind: "heartbeat",
        slug: "backup",
        period: 86400,
        grace: 3600,
        lastPingAt: null,
        nextDueAt: null,
      });
    },
  },

  {
    name: "never shows an HTTP check's header values, and keeps them when a client sends the mask back",
    run: async (t) => {
      const { app, adminKey, clock } = legacy(t);
      const check = await createCheck(app, adminKey, {
        kind: "http",
        name: "private api",
        url: t.outside.url("health"),
        headers: { Authorization: "Bearer health-s3cret", "X-Region": "eu" },
      });
      expect(check.headers).toEqual({ Authorization: "********", "X-Region": "********" });
      const one = await app.request(`/api/v1/checks/${check.id}`, { headers: bearer(adminKey) });
      const list = await app.request("/api/v1/checks", { headers: bearer(adminKey) });
      for (const body of [JSON.stringify(check), await one.text(), await list.text()]) {
        expect(body).toContain("Authorization");
        expect(body).not.toContain("health-s3cret");
      }

      const patched = await app.request(
        `/api/v1/checks/${check.id}`,
        jsonRequest(
          "PATCH",
          { headers: { Authorization: "********", "X-Region": "us" }, name: "api" },
          adminKey,
        ),
      );
      expect(patched.status).toBe(200);
      const renamed = await app.request(
        `/api/v1/checks/${check.id}`,
        jsonRequest("PATCH", { period: 120 }, adminKey),
      );
      expect(renamed.status).toBe(200);
      // What the target receives is what was stored.
      clock.advance(120_000);
      await t.tick();
      const [run] = await t.outside.requests("health");
      expect(run?.headers).toMatchObject({ authorization: "Bearer health-s3cret", "x-region": "us" });
    },
  },

  {
    name: "refuses a runbook link that is not http(s), on creation and on change, naming the field",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      const links = [
        "javascript:alert(document.cookie)",
        "data:text/html,<script>alert(1)</script>",
        "file:///etc/passwd",
      ];
      for (const runbookUrl of links) {
        const res = await app.request(
          "/api/v1/checks",
          jsonRequest("POST", { kind: "heartbeat", name: "x", runbookUrl }, adminKey),
        );
        expect(res.status, runbookUrl).toBe(400);
        expect(errorBodySchema.parse(await res.json()).error.message, runbookUrl).toContain("runbookUrl");
      }
      const check = await createCheck(app, adminKey, {
        kind: "heartbeat",
        name: "x",
        runbookUrl: "https://wiki.test.example/backups",
      });
      for (const runbookUrl of links) {
        const res = await app.request(
          `/api/v1/checks/${check.id}`,
          jsonRequest("PATCH", { runbookUrl }, adminKey),
        );
        expect(res.status, runbookUrl).toBe(400);
        expect(errorBodySchema.parse(await res.json()).error.message, runbookUrl).toContain("runbookUrl");
      }
    },
  },

  {
    name: "creates a heartbeat on a cron schedule in a time zone",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      const check = await createCheck(app, adminKey, {
        kind: "heartbeat",
        name: "db dump",
        schedule: "0 3 * * *",
        tz: "Europe/Tallinn",
        grace: 3600,
      });
      expect(check).toMatchObject({ schedule: "0 3 * * *", tz: "Europe/Tallinn", slug: "db-dump" });
      expect(check.period).toBeUndefined();
    },
  },

  {
    name: "refuses a cron expression or time zone that does not parse, naming the field",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      for (const [body, path] of [
        [{ schedule: "every day" }, "body.schedule"],
        [{ schedule: "0 3 * * *", tz: "Mars/Olympus" }, "body.tz"],
      ] as const) {
        const res = await app.request(
          "/api/v1/checks",
          jsonRequest("POST", { kind: "heartbeat", name: "x", ...body }, adminKey),
        );
        expect(res.status).toBe(400);
        const { error } = errorBodySchema.parse(await res.json());
        expect(error.code).toBe("VALIDATION_FAILED");
        expect(error.fields?.[0]?.path).toBe(path);
      }
    },
  },

  {
    name: "refuses both a period and a schedule",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      const res = await app.request(
        "/api/v1/checks",
        jsonRequest("POST", { kind: "heartbeat", name: "x", period: 60, schedule: "* * * * *" }, adminKey),
      );
      expect(res.status).toBe(400);
    },
  },

  {
    name: "shows status, lastPingAt and nextDueAt after a ping",
    run: async (t) => {
      const { app, adminKey, clock } = legacy(t);
      const check = await createCheck(app, adminKey, {
        kind: "heartbeat",
        name: "x",
        period: 600,
        grace: 60,
      });
      await app.request(`/ping/${check.id}`);
      const res = await app.request(`/api/v1/checks/${check.id}`, { headers: bearer(adminKey) });
      expect(await res.json()).toMatchObject({
        status: "up",
        lastPingAt: clock.now(),
        nextDueAt: clock.now() + 600_000,
      });
    },
  },

  {
    name: "lists, updates, pauses, resumes and deletes",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      const check = await createCheck(app, adminKey, { kind: "heartbeat", name: "x", period: 600 });
      const list = (await (await app.request("/api/v1/checks", { headers: bearer(adminKey) })).json()) as {
        checks: CheckBody[];
      };
      expect(list.checks.map((c) => c.id)).toEqual([check.id]);

      const patched = await app.request(
        `/api/v1/checks/${check.id}`,
        jsonRequest("PATCH", { name: "renamed", grace: 120, tags: ["prod"] }, adminKey),
      );
      expect(await patched.json()).toMatchObject({
        name: "renamed",
        grace: 120,
        tags: ["prod"],
        period: 600,
      });

      const paused = await app.request(`/api/v1/checks/${check.id}/pause`, {
        method: "POST",
        headers: bearer(adminKey),
      });
      expect(await paused.json()).toMatchObject({ status: "paused", paused: true });
      const resumed = await app.request(`/api/v1/checks/${check.id}/resume`, {
        method: "POST",
        headers: bearer(adminKey),
      });
      expect(await resumed.json()).toMatchObject({ status: "new", paused: false });

      const flips = (await (
        await app.request(`/api/v1/checks/${check.id}/flips`, { headers: bearer(adminKey) })
      ).json()) as { flips: { from: string; to: string }[] };
      expect(flips.flips.map((f) => `${f.from}→${f.to}`)).toEqual(["paused→new", "new→paused"]);

      const del = await app.request(`/api/v1/checks/${check.id}`, {
        method: "DELETE",
        headers: bearer(adminKey),
      });
      expect(del.status).toBe(204);
      const gone = await app.request(`/api/v1/checks/${check.id}`, { headers: bearer(adminKey) });
      expect(gone.status).toBe(404);
    },
  },

  {
    name: "refuses an update that breaks the kind's rules, naming the field",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      const check = await createCheck(app, adminKey, { kind: "heartbeat", name: "x", period: 600 });
      const res = await app.request(
        `/api/v1/checks/${check.id}`,
        jsonRequest("PATCH", { grace: 5 }, adminKey),
      );
      expect(res.status).toBe(400);
      expect(errorBodySchema.parse(await res.json()).error.fields?.[0]?.path).toBe("body.grace");
      const unknown = await app.request(
        `/api/v1/checks/${check.id}`,
        jsonRequest("PATCH", { kind: "http" }, adminKey),
      );
      expect(unknown.status).toBe(400);
    },
  },

  {
    name: "lets a read key read but not write",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      const read = { key: await createKey(t, ["read"]) };
      const check = await createCheck(app, adminKey, { kind: "heartbeat", name: "x" });
      expect((await app.request(`/api/v1/checks/${check.id}`, { headers: bearer(read.key) })).status).toBe(
        200,
      );
      expect(
        (await app.request(`/api/v1/checks/${check.id}/pings`, { headers: bearer(read.key) })).status,
      ).toBe(200);
      const write = await app.request(
        "/api/v1/checks",
        jsonRequest("POST", { kind: "heartbeat", name: "y" }, read.key),
      );
      expect(write.status).toBe(403);
      const pause = await app.request(`/api/v1/checks/${check.id}/pause`, {
        method: "POST",
        headers: bearer(read.key),
      });
      expect(pause.status).toBe(403);
    },
  },

  {
    name: "never shows or touches another project's checks",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      const other = await t.otherProject();
      const theirs = await createCheck(app, other.adminKey, { kind: "heartbeat", name: "theirs" });
      const list = await (await app.request("/api/v1/checks", { headers: bearer(adminKey) })).text();
      expect(list).not.toContain(theirs.id);
      for (const [method, path] of [
        ["GET", ""],
        ["GET", "/pings"],
        ["POST", "/pause"],
        ["DELETE", ""],
      ] as const) {
        const res = await app.request(`/api/v1/checks/${theirs.id}${path}`, {
          method,
          headers: bearer(adminKey),
        });
        expect(res.status).toBe(404);
      }
    },
  },

  {
    name: "shows incidents, flips and daily uptime of a check",
    run: async (t) => {
      const { app, adminKey, clock } = legacy(t);
      const check = await createCheck(app, adminKey, { kind: "heartbeat", name: "x", period: 600 });
      await app.request(`/ping/${check.id}`);
      clock.advance(30 * 60_000);
      await app.request(`/ping/${check.id}/fail`);
      clock.advance(30 * 60_000);
      await app.request(`/ping/${check.id}`);
      const get = async (path: string) =>
        (await app.request(`/api/v1/checks/${check.id}${path}`, { headers: bearer(adminKey) })).json();
      const { incidents } = (await get("/incidents")) as {
        incidents: { cause: string; resolvedAt: number }[];
      };
      expect(incidents).toEqual([expect.objectContaining({ cause: "fail ping", resolvedAt: clock.now() })]);
      const { days } = (await get("/uptime?days=2")) as { days: { day: string; uptime: number | null }[] };
      expect(days).toEqual([
        expect.objectContaining({ day: "2026-11-26", uptime: null }),
        expect.objectContaining({ day: "2026-11-27", uptime: 0.5 }),
      ]);
      const bad = await app.request(`/api/v1/checks/${check.id}/uptime?days=0`, {
        headers: bearer(adminKey),
      });
      expect(bad.status).toBe(400);
    },
  },

  {
    name: "creates an HTTP check with defaults filled in",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      const check = await createCheck(app, adminKey, {
        kind: "http",
        name: "site",
        url: "https://example.com/",
      });
      expect(check).toMatchObject({
        kind: "http",
        method: "GET",
        expectedStatus: ["200-299"],
        followRedirects: true,
        failuresToDown: 2,
        successesToUp: 1,
        period: 60,
        pingUrl: null,
      });
    },
  },
  {
    name: "runs an HTTP check against a real server and takes it down when its host no longer resolves",
    run: async (t) => {
      const { app, adminKey, clock } = legacy(t);
      const up = await createCheck(app, adminKey, { kind: "http", name: "site", url: t.outside.url("site") });
      const gone = await createCheck(app, adminKey, {
        kind: "http",
        name: "gone",
        url: "http://no-such-host.invalid/",
      });
      for (let i = 0; i < 2; i++) {
        await t.tick();
        clock.advance(61_000);
      }
      const status = async (id: string) =>
        (
          (await (
            await app.request(`/api/v1/checks/${id}`, { headers: bearer(adminKey) })
          ).json()) as CheckBody
        ).status;
      expect(await status(up.id)).toBe("up");
      expect(await t.outside.requests("site")).toHaveLength(2);
      expect(await status(gone.id)).toBe("down");
      const { runs } = (await (
        await app.request(`/api/v1/checks/${gone.id}/runs`, { headers: bearer(adminKey) })
      ).json()) as { runs: { ok: boolean; error: string | null }[] };
      expect(runs).toHaveLength(2);
      expect(runs.every((r) => !r.ok && r.error)).toBe(true);
    },
  },
]);

export const checksCases = [checks1];
