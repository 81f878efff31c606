/**
 * The API behind the dashboard's observe screens: the project's backups with staleness against the
 * backup rules, and log pages ending at a moment (the lines around a deploy or an alert).
 */
import { expect } from "vitest";
import { area } from "./case.ts";
import { bearer, enrollHost, jsonRequest, legacy, sendBatch } from "./client.ts";
import { batch } from "./probe.ts";

const T0 = Date.UTC(2026, 10, 27, 12);
const HOUR = 3_600_000;

async function json<T>(res: Response | Promise<Response>): Promise<T> {
  return (await (await res).json()) as T;
}

interface BackupRow {
  hostName: string;
  name: string;
  lastStatus: string;
  lastSuccessAt: number | null;
  lastFailureAt: number | null;
  runs: number;
  lastRun: { durationMs: number; bytesAdded: number | null; error: string | null };
  maxAgeHours: number | null;
  stale: boolean | null;
}

const observe1 = area("the project's backups", [
  {
    name: "list every host's backup names with last success, last failure, size, duration and staleness",
    run: async (t) => {
      const { app, clock, adminKey } = legacy(t);
      const web = await enrollHost(app, adminKey, { hostname: "web-1" });
      const db = await enrollHost(app, adminKey, { hostname: "db-1" });
      const run = (name: string, status: "success" | "failure", endedAt: number, extra = {}) => ({
        name,
        tool: "restic",
        status,
        startedAt: endedAt - 90_000,
        endedAt,
        ...extra,
      });
      await sendBatch(
        app,
        web.hostToken,
        batch({
          backups: [
            run("files", "success", T0 - 30 * HOUR, { bytesAdded: 5_000_000 }),
            run("files", "failure", T0 - 2 * HOUR, { error: "repository is locked" }),
          ],
        }),
      );
      await sendBatch(
        app,
        db.hostToken,
        batch({
          backups: [run("postgres", "success", T0 - HOUR, { bytesAdded: 42_000, bytesProcessed: 9e9 })],
        }),
      );
      clock.set(T0);

      const { backups } = await json<{ backups: BackupRow[] }>(
        app.request("/api/v1/backups", { headers: bearer(adminKey) }),
      );
      expect(backups.map((b) => `${b.hostName} ${b.name}`)).toEqual(["db-1 postgres", "web-1 files"]);
      const [postgres, files] = backups;
      expect(postgres).toMatchObject({
        lastStatus: "success",
        runs: 1,
        lastRun: { durationMs: 90_000, bytesAdded: 42_000 },
        maxAgeHours: 26,
        stale: false,
      });
      expect(files).toMatchObject({
        lastStatus: "failure",
        lastSuccessAt: T0 - 30 * HOUR,
        lastFailureAt: T0 - 2 * HOUR,
        runs: 2,
        lastRun: { error: "repository is locked" },
        stale: true,
      });
    },
  },

  {
    name: "take the tightest interval of the backup rules covering a name, and none when every rule is off",
    run: async (t) => {
      const { app, clock, adminKey } = legacy(t);
      const host = await enrollHost(app, adminKey);
      await sendBatch(
        app,
        host.hostToken,
        batch({
          backups: [
            {
              name: "db",
              tool: "restic",
              status: "success",
              startedAt: T0 - 3 * HOUR,
              endedAt: T0 - 2 * HOUR,
            },
          ],
        }),
      );
      clock.set(T0);
      await app.request(
        "/api/v1/rules",
        jsonRequest(
          "POST",
          { name: "db hourly", kind: "backup", params: { name: "db", maxAgeHours: 1 } },
          adminKey,
        ),
      );
      const tight = await json<{ backups: BackupRow[] }>(
        app.request("/api/v1/backups", { headers: bearer(adminKey) }),
      );
      expect(tight.backups[0]).toMatchObject({ maxAgeHours: 1, stale: true });

      const { rules } = await json<{ rules: { id: string; kind: string }[] }>(
        app.request("/api/v1/rules", { headers: bearer(adminKey) }),
      );
      for (const rule of rules.filter((r) => r.kind === "backup")) {
        await app.request(`/api/v1/rules/${rule.id}`, jsonRequest("PATCH", { enabled: false }, adminKey));
      }
      const none = await json<{ backups: BackupRow[] }>(
        app.request("/api/v1/backups", { headers: bearer(adminKey) }),
      );
      expect(none.backups[0]).toMatchObject({ maxAgeHours: null, stale: null });
    },
  },

  {
    name: "answer an empty list for a project without backups",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      expect(await json(app.request("/api/v1/backups", { headers: bearer(adminKey) }))).toEqual({
        backups: [],
      });
    },
  },
]);

const observe2 = area("log pages ending at a moment", [
  {
    name: "return the lines at or before `to`, newest first, with the cursor to page older",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      const host = await enrollHost(app, adminKey);
      const logs = Array.from({ length: 6 }, (_, i) => ({
        ts: T0 + i * 60_000,
        priority: 6,
        message: `line ${i}`,
      }));
      await sendBatch(app, host.hostToken, batch({ logs }));

      const page = await json<{ entries: { message: string; id: number }[]; nextBefore: number | null }>(
        app.request(`/api/v1/logs?to=${T0 + 3 * 60_000}&limit=2`, { headers: bearer(adminKey) }),
      );
      expect(page.entries.map((e) => e.message)).toEqual(["line 3", "line 2"]);
      expect(page.nextBefore).toBe(page.entries[1]?.id);
      const older = await json<{ entries: { message: string }[] }>(
        app.request(`/api/v1/hosts/${host.hostId}/logs?to=${T0 + 3 * 60_000}&before=${page.nextBefore}`, {
          headers: bearer(adminKey),
        }),
      );
      expect(older.entries.map((e) => e.message)).toEqual(["line 1", "line 0"]);
    },
  },

  {
    name: "refuse a `to` that is no time with a 400 naming the field",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      const res = await app.request("/api/v1/logs?to=yesterday", { headers: bearer(adminKey) });
      expect(res.status).toBe(400);
      expect(await res.text()).toContain("query.to");
    },
  },
]);

export const observeCases = [observe1, observe2];
