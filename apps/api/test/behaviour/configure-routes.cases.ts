/**
 * Routes the dashboard's configuration screens read: every check's daily uptime in one answer (the list's
 * 90-day bars) and a cron expression read back in words with its next runs (the heartbeat form).
 */
import { errorBodySchema, projectUptimeSchema } from "@vigil/contract";
import { expect } from "vitest";
import { area } from "./case.ts";
import { bearer, jsonRequest, legacy, type Requester } from "./client.ts";

type App = Requester;

async function createCheck(app: App, key: string, body: unknown): Promise<{ id: string }> {
  const res = await app.request("/api/v1/checks", jsonRequest("POST", body, key));
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string };
}

const configure1 = area("the project's uptime in one answer", [
  {
    name: "gives every check of the project its days, oldest first, the same as each check's own uptime",
    run: async (t) => {
      const { app, adminKey, clock } = legacy(t);
      const beat = await createCheck(app, adminKey, { kind: "heartbeat", name: "beat", period: 600 });
      const quiet = await createCheck(app, adminKey, { kind: "heartbeat", name: "quiet", period: 600 });
      await app.request(`/ping/${beat.id}`);
      clock.advance(30 * 60_000);
      await app.request(`/ping/${beat.id}/fail`);
      clock.advance(30 * 60_000);
      await app.request(`/ping/${beat.id}`);

      const res = await app.request("/api/v1/checks/uptime?days=2", { headers: bearer(adminKey) });
      expect(res.status).toBe(200);
      const { checks } = projectUptimeSchema.parse(await res.json());
      const days = new Map(checks.map((c) => [c.checkId, c.days]));
      expect([...days.keys()].sort()).toEqual([beat.id, quiet.id].sort());
      const own = await app.request(`/api/v1/checks/${beat.id}/uptime?days=2`, { headers: bearer(adminKey) });
      expect(days.get(beat.id)).toEqual(((await own.json()) as { days: unknown }).days);
      expect(days.get(beat.id)?.map((d) => [d.day, d.uptime])).toEqual([
        ["2026-11-26", null],
        ["2026-11-27", 0.5],
      ]);
      expect(days.get(quiet.id)?.every((d) => d.uptime === null)).toBe(true);
    },
  },

  {
    name: "shows 90 days by default and nothing of another project's checks",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      const mine = await createCheck(app, adminKey, { kind: "heartbeat", name: "mine" });
      const other = { key: (await t.otherProject()).adminKey };
      const theirs = await createCheck(app, other.key, { kind: "heartbeat", name: "theirs" });
      const res = await app.request("/api/v1/checks/uptime", { headers: bearer(adminKey) });
      const body = await res.text();
      expect(body).not.toContain(theirs.id);
      const { checks } = projectUptimeSchema.parse(JSON.parse(body));
      expect(checks).toHaveLength(1);
      expect(checks[0]?.checkId).toBe(mine.id);
      expect(checks[0]?.days).toHaveLength(90);
    },
  },

  {
    name: "refuses a number of days out of range with a 400 naming the field",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      const res = await app.request("/api/v1/checks/uptime?days=401", { headers: bearer(adminKey) });
      expect(res.status).toBe(400);
      expect(errorBodySchema.parse(await res.json()).error.message).toContain("days");
    },
  },
]);

const preview = async (app: App, key: string, query: string) => {
  const res = await app.request(`/api/v1/checks/schedule-preview?${query}`, { headers: bearer(key) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

const configure2 = area("reading a cron schedule back", [
  {
    name: "says a weekday schedule in words and lists its next runs in the schedule's time zone",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      // The test clock stands at Friday 2026-11-27 12:00 UTC, 14:00 in Tallinn.
      const { status, body } = await preview(
        app,
        adminKey,
        `schedule=${encodeURIComponent("30 3 * * 1-5")}&tz=Europe/Tallinn&count=3`,
      );
      expect(status).toBe(200);
      expect(body).toEqual({
        schedule: "30 3 * * 1-5",
        tz: "Europe/Tallinn",
        description: "at 03:30, on Monday to Friday",
        nextRuns: [Date.UTC(2026, 10, 30, 1, 30), Date.UTC(2026, 11, 1, 1, 30), Date.UTC(2026, 11, 2, 1, 30)],
      });
    },
  },

  {
    name: "reads common cron expressions in words, each with its next five runs",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      for (const [schedule, description] of [
        ["* * * * *", "every minute, every day"],
        ["*/15 * * * *", "every 15 minutes, every day"],
        ["5 * * * *", "at minute 5 of every hour, every day"],
        ["0 */6 * * *", "at minute 0 of every 6th hour, every day"],
        ["0 9,17 * * MON-FRI", "at 09:00 and 17:00, on Monday to Friday"],
        ["0 4 1,15 * *", "at 04:00, on days 1 and 15 of the month"],
        ["0 0 1 1 *", "at 00:00, on day 1 of the month in January"],
        ["*/10 9-17 * * 1", "at minute every 10th past hour 9 to 17, on Monday"],
      ]) {
        const { body } = await preview(app, adminKey, `schedule=${encodeURIComponent(schedule ?? "")}`);
        expect(body.description, schedule).toBe(description);
        expect(body.nextRuns).toHaveLength(5);
      }
    },
  },

  {
    name: "refuses an expression or a time zone a check would refuse, with a 400 naming the field",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      const badCron = await preview(app, adminKey, `schedule=${encodeURIComponent("61 * * * *")}`);
      expect(badCron.status).toBe(400);
      expect(errorBodySchema.parse(badCron.body).error.message).toContain("query.schedule");
      const badZone = await preview(
        app,
        adminKey,
        `schedule=${encodeURIComponent("0 3 * * *")}&tz=Mars/Base`,
      );
      expect(badZone.status).toBe(400);
      expect(errorBodySchema.parse(badZone.body).error.message).toContain("query.tz");
      const missing = await preview(app, adminKey, "");
      expect(missing.status).toBe(400);
      expect(errorBodySchema.parse(missing.body).error.message).toContain("schedule");
    },
  },

  {
    name: "needs a key or a session like every project route",
    run: async (t) => {
      const { app } = legacy(t);
      const res = await app.request(
        `/api/v1/checks/schedule-preview?schedule=${encodeURIComponent("0 3 * * *")}`,
      );
      expect(res.status).toBe(401);
    },
  },
]);

export const configureCases = [configure1, configure2];
