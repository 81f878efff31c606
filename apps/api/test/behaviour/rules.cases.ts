import { expect } from "vitest";
import { area } from "./case.ts";
import { bearer, enrollHost, jsonRequest, legacy, sendBatch } from "./client.ts";
import { hostBatch } from "./probe.ts";

const MIN = 60_000;

async function json<T>(res: Response | Promise<Response>): Promise<T> {
  return (await (await res).json()) as T;
}

type Rule = {
  id: string;
  name: string;
  builtin: string | null;
  enabled: boolean;
  kind: string;
  forSec: number;
};
type Alert = { id: string; state: string; name: string; cause: string; ruleId: string };

/** The root filesystem `pct` percent full. */
const diskBatch = (ts: number, pct: number) => hostBatch(ts, pct);

const rules1 = area("rules over the API", [
  {
    name: "lists the built-in pack on a project that never saw a rule, each one tunable and switchable off",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      const { rules } = await json<{ rules: Rule[] }>(
        app.request("/api/v1/rules", { headers: bearer(adminKey) }),
      );
      expect(rules).toHaveLength(16);
      const fsFull = rules.find((r) => r.builtin === "fs-full");
      expect(fsFull).toMatchObject({ kind: "metric", forSec: 300, enabled: true });

      const tuned = await app.request(
        `/api/v1/rules/${fsFull?.id}`,
        jsonRequest("PATCH", { params: { value: 85, clearValue: 80 }, forSec: 600 }, adminKey),
      );
      expect(tuned.status).toBe(200);
      expect(await tuned.json()).toMatchObject({
        forSec: 600,
        params: { metric: "fs.used_pct", value: 85, clearValue: 80 },
      });
      const off = await json<Rule>(
        app.request(`/api/v1/rules/${fsFull?.id}`, jsonRequest("PATCH", { enabled: false }, adminKey)),
      );
      expect(off.enabled).toBe(false);

      const del = await app.request(`/api/v1/rules/${fsFull?.id}`, {
        method: "DELETE",
        headers: bearer(adminKey),
      });
      expect(del.status).toBe(409);
    },
  },

  {
    name: "creates every kind of rule, scoped to all hosts, a tag or one host, and deletes its own",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      const { hostId } = await enrollHost(app, adminKey);
      const kinds: Record<string, Record<string, unknown>> = {
        metric: {
          metric: "disk.busy_pct",
          labels: { device: "vda" },
          aggregation: "avg",
          windowSec: 600,
          op: ">",
          value: 80,
        },
        reboot_required: { days: 3 },
        security_updates: { days: 1 },
        failed_units: { units: ["nginx.service"] },
        container: { container: "web", restarts: 5, windowMinutes: 10 },
        ssh_keys: {},
        backup: { name: "db", maxAgeHours: 2 },
        log: { unit: "app.service", maxPriority: 3, text: "panic", windowSec: 300, above: 2 },
        forecast: { mount: "/var", withinHours: 48 },
        host_down: { periodSec: 60 },
        backup_check: { name: "nas", maxAgeDays: 2 },
        backup_drill: { maxAgeDays: 14, failed: false },
        backup_copies: { minCopies: 1, offsite: false, maxAgeHours: null },
        backup_size: { shrinkPct: null, maxBytes: 5e11 },
      };
      const scopes = [{ scope: "all" }, { scope: "tag", tag: "db" }, { scope: "host", hostId }];
      let i = 0;
      for (const [kind, params] of Object.entries(kinds)) {
        const res = await app.request(
          "/api/v1/rules",
          jsonRequest("POST", { name: `my ${kind}`, kind, params, ...scopes[i++ % 3] }, adminKey),
        );
        expect(res.status, `${kind}: ${await res.clone().text()}`).toBe(201);
        const rule = await json<Rule & { params: Record<string, unknown> }>(res);
        expect(rule.params).toMatchObject(params);
      }
      const { rules } = await json<{ rules: Rule[] }>(
        app.request("/api/v1/rules", { headers: bearer(adminKey) }),
      );
      const mine = rules.filter((r) => !r.builtin);
      expect(mine).toHaveLength(14);
      const gone = await app.request(`/api/v1/rules/${mine[0]?.id}`, {
        method: "DELETE",
        headers: bearer(adminKey),
      });
      expect(gone.status).toBe(204);
    },
  },

  {
    name: "refuses bad parameters naming the field, and a host of another project",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      const bad = async (body: unknown) => {
        const res = await app.request("/api/v1/rules", jsonRequest("POST", body, adminKey));
        expect(res.status).toBe(400);
        return ((await res.json()) as { error: { message: string } }).error.message;
      };
      expect(
        await bad({ name: "x", kind: "metric", params: { metric: "fs.used_pct", op: "!=", value: 1 } }),
      ).toContain("body.params.op");
      expect(await bad({ name: "x", kind: "nope" })).toContain("body.kind");
      expect(await bad({ name: "x", kind: "failed_units", scope: "tag" })).toContain(
        "body.scope: scope tag needs `tag`",
      );
      expect(
        await bad({
          name: "x",
          kind: "failed_units",
          scope: "host",
          hostId: "00000000-0000-4000-8000-000000000000",
        }),
      ).toContain("body.hostId");
    },
  },

  {
    name: "refuses a runbook link that is not http(s), on creation and on change, naming the field",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      const links = ["javascript:alert(document.cookie)", "data:text/html,<script>alert(1)</script>"];
      for (const runbookUrl of links) {
        const res = await app.request(
          "/api/v1/rules",
          jsonRequest("POST", { name: "x", kind: "ssh_keys", params: {}, runbookUrl }, adminKey),
        );
        expect(res.status, runbookUrl).toBe(400);
        expect(await res.text(), runbookUrl).toContain("runbookUrl");
      }
      const rule = await json<Rule>(
        app.request(
          "/api/v1/rules",
          jsonRequest(
            "POST",
            { name: "x", kind: "ssh_keys", runbookUrl: "https://wiki.test.example/ssh" },
            adminKey,
          ),
        ),
      );
      for (const runbookUrl of links) {
        const res = await app.request(
          `/api/v1/rules/${rule.id}`,
          jsonRequest("PATCH", { runbookUrl }, adminKey),
        );
        expect(res.status, runbookUrl).toBe(400);
        expect(await res.text(), runbookUrl).toContain("runbookUrl");
      }
    },
  },

  {
    name: "needs admin to write rules and read to list them",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      const { key } = await json<{ key: string }>(
        app.request("/api/v1/api-keys", jsonRequest("POST", { name: "ro", scopes: ["read"] }, adminKey)),
      );
      expect((await app.request("/api/v1/rules", { headers: bearer(key) })).status).toBe(200);
      const res = await app.request(
        "/api/v1/rules",
        jsonRequest("POST", { name: "x", kind: "ssh_keys" }, key),
      );
      expect(res.status).toBe(403);
    },
  },
]);

const rules2 = area("a probe batch that crosses a threshold", [
  {
    name: "raises a firing alert with its flip, written once, and shows it under /alerts",
    run: async (t) => {
      const { app, adminKey, clock } = legacy(t);
      const { hostToken, hostId } = await enrollHost(app, adminKey);
      expect((await sendBatch(app, hostToken, diskBatch(clock.now(), 50))).status).toBe(200);
      for (let i = 0; i <= 5; i++) {
        const res = await sendBatch(app, hostToken, diskBatch(clock.now(), 95));
        expect(res.status).toBe(200);
        clock.advance(MIN);
      }
      const { alerts } = await json<{ alerts: Alert[] }>(
        app.request(`/api/v1/alerts?hostId=${hostId}`, { headers: bearer(adminKey) }),
      );
      expect(alerts.map((a) => [a.name, a.state])).toEqual([["web-1 disk /", "firing"]]);
      expect(alerts[0]?.cause).toBe("disk / at 95% > 90% for 5 min");

      // The same batch again (a probe retry) changes nothing.
      const again = diskBatch(clock.now(), 95);
      await sendBatch(app, hostToken, again);
      await sendBatch(app, hostToken, again);

      const one = await json<Alert & { flips: { from: string; to: string; cause: string }[] }>(
        app.request(`/api/v1/alerts/${alerts[0]?.id}`, { headers: bearer(adminKey) }),
      );
      expect(one.flips.map((f) => `${f.from}→${f.to}`)).toEqual(["pending→firing", "inactive→pending"]);
      expect(one.flips.filter((f) => f.to === "firing")).toHaveLength(1);

      const firing = await json<{ alerts: Alert[] }>(
        app.request("/api/v1/alerts?state=firing", { headers: bearer(adminKey) }),
      );
      expect(firing.alerts).toHaveLength(1);
      const none = await json<{ alerts: Alert[] }>(
        app.request("/api/v1/alerts?state=pending", { headers: bearer(adminKey) }),
      );
      expect(none.alerts).toHaveLength(0);
    },
  },

  {
    name: "turns the pending alert firing from the scheduled jobs when the for-duration ends between batches",
    run: async (t) => {
      const { app, adminKey, clock } = legacy(t);
      const { hostToken } = await enrollHost(app, adminKey);
      await sendBatch(app, hostToken, diskBatch(clock.now(), 97));
      clock.advance(5 * MIN);
      await t.tick();
      const { alerts } = await json<{ alerts: Alert[] }>(
        app.request("/api/v1/alerts", { headers: bearer(adminKey) }),
      );
      expect(alerts.map((a) => [a.name, a.state])).toEqual([["web-1 disk /", "firing"]]);
    },
  },

  {
    name: "raises nothing for a rule that is switched off",
    run: async (t) => {
      const { app, adminKey, clock } = legacy(t);
      const { rules } = await json<{ rules: Rule[] }>(
        app.request("/api/v1/rules", { headers: bearer(adminKey) }),
      );
      const fsFull = rules.find((r) => r.builtin === "fs-full");
      await app.request(`/api/v1/rules/${fsFull?.id}`, jsonRequest("PATCH", { enabled: false }, adminKey));
      const { hostToken } = await enrollHost(app, adminKey);
      await sendBatch(app, hostToken, diskBatch(clock.now(), 99));
      const { alerts } = await json<{ alerts: Alert[] }>(
        app.request("/api/v1/alerts?state=all", { headers: bearer(adminKey) }),
      );
      expect(alerts).toEqual([]);
    },
  },

  {
    name: "makes the host a liveness check through the host-down rule",
    run: async (t) => {
      const { app, adminKey, clock } = legacy(t);
      const { hostToken, hostId } = await enrollHost(app, adminKey);
      await sendBatch(app, hostToken, diskBatch(clock.now(), 10));
      const { checks } = await json<{ checks: { kind: string; hostId?: string; tags: string[] }[] }>(
        app.request("/api/v1/checks", { headers: bearer(adminKey) }),
      );
      expect(checks.map((c) => [c.kind, c.tags])).toEqual([["host", ["host-down-rule"]]]);
      expect(JSON.stringify(checks[0])).toContain(hostId);
    },
  },
]);

const rules3 = area("silences and maintenance windows over the API", [
  {
    name: "opens a silence from a deploy hook in one request with an ingest key, lists it and expires it",
    run: async (t) => {
      const { app, adminKey, clock } = legacy(t);
      const { hostId } = await enrollHost(app, adminKey);
      const { key: ingestKey } = await json<{ key: string }>(
        app.request(
          "/api/v1/api-keys",
          jsonRequest("POST", { name: "deploy", scopes: ["ingest"] }, adminKey),
        ),
      );
      const res = await app.request(
        "/api/v1/silences",
        jsonRequest("POST", { hostId, durationMinutes: 10, comment: "kamal deploy" }, ingestKey),
      );
      expect(res.status).toBe(201);
      const created = await json<{ id: string; endsAt: number; active: boolean }>(res);
      expect(created).toMatchObject({ endsAt: clock.now() + 10 * MIN, active: true });

      const list = await json<{ silences: { id: string }[] }>(
        app.request("/api/v1/silences", { headers: bearer(adminKey) }),
      );
      expect(list.silences.map((s) => s.id)).toEqual([created.id]);
      const expired = await app.request(`/api/v1/silences/${created.id}/expire`, {
        method: "POST",
        headers: bearer(adminKey),
      });
      expect(await expired.json()).toMatchObject({ active: false, endsAt: clock.now() });
      const after = await json<{ silences: unknown[] }>(
        app.request("/api/v1/silences", { headers: bearer(adminKey) }),
      );
      expect(after.silences).toEqual([]);
      const all = await json<{ silences: unknown[] }>(
        app.request("/api/v1/silences?all=1", { headers: bearer(adminKey) }),
      );
      expect(all.silences).toHaveLength(1);
    },
  },

  {
    name: "lets an ingest key silence for a deploy's length only, and an admin key for longer",
    run: async (t) => {
      const { app, adminKey, clock } = legacy(t);
      const { key: ingestKey } = await json<{ key: string }>(
        app.request(
          "/api/v1/api-keys",
          jsonRequest("POST", { name: "deploy", scopes: ["ingest"] }, adminKey),
        ),
      );
      const silence = (body: unknown, key: string) =>
        app.request("/api/v1/silences", jsonRequest("POST", body, key));
      const long = await silence({ tag: "web", durationMinutes: 24 * 60, comment: "x" }, ingestKey);
      expect(long.status).toBe(400);
      expect(JSON.stringify(await long.json())).toContain("at most 2 hours");
      const later = await silence(
        { tag: "web", startsAt: clock.now() + 3 * 60 * MIN, durationMinutes: 10 },
        ingestKey,
      );
      expect(later.status).toBe(400);
      expect((await silence({ tag: "web", durationMinutes: 120 }, ingestKey)).status).toBe(201);
      expect((await silence({ tag: "web", durationMinutes: 24 * 60 }, adminKey)).status).toBe(201);
    },
  },

  {
    name: "refuses a silence without matchers or without an end",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      for (const body of [
        { durationMinutes: 10 },
        { tag: "x" },
        { tag: "x", durationMinutes: 5, endsAt: 1 },
      ]) {
        expect((await app.request("/api/v1/silences", jsonRequest("POST", body, adminKey))).status).toBe(400);
      }
    },
  },

  {
    name: "creates weekly and cron-like maintenance windows, refuses a bad zone or cron, and deletes them",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      const weekly = await app.request(
        "/api/v1/maintenance-windows",
        jsonRequest(
          "POST",
          {
            name: "patching",
            tag: "prod",
            days: [0, 6],
            start: "03:00",
            tz: "Europe/Tallinn",
            durationMinutes: 60,
          },
          adminKey,
        ),
      );
      expect(weekly.status).toBe(201);
      expect(await weekly.json()).toMatchObject({
        schedule: "0 3 * * 0,6",
        tz: "Europe/Tallinn",
        durationMinutes: 60,
      });
      const cron = await json<{ id: string }>(
        app.request(
          "/api/v1/maintenance-windows",
          jsonRequest(
            "POST",
            { name: "vacuum", tag: "db", schedule: "30 2 * * *", durationMinutes: 20 },
            adminKey,
          ),
        ),
      );
      for (const body of [
        { name: "x", tag: "a", schedule: "not a cron", durationMinutes: 5 },
        { name: "x", tag: "a", schedule: "0 3 * * *", tz: "Mars/Olympus", durationMinutes: 5 },
        { name: "x", tag: "a", days: [1], durationMinutes: 5 },
      ]) {
        expect(
          (await app.request("/api/v1/maintenance-windows", jsonRequest("POST", body, adminKey))).status,
        ).toBe(400);
      }
      const list = await json<{ maintenanceWindows: unknown[] }>(
        app.request("/api/v1/maintenance-windows", { headers: bearer(adminKey) }),
      );
      expect(list.maintenanceWindows).toHaveLength(2);
      const del = await app.request(`/api/v1/maintenance-windows/${cron.id}`, {
        method: "DELETE",
        headers: bearer(adminKey),
      });
      expect(del.status).toBe(204);
    },
  },
]);

export const rulesCases = [rules1, rules2, rules3];
