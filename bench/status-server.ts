/**
 * The status bench's server process: the self-hosted app on a libSQL file holding one status page of 50
 * components (40 heartbeats, 10 HTTP checks) with 90 days of daily uptime and response rows, a flip pair
 * and an incident every ten days per check, and a page in Europe/Berlin (so day cuts read flips too).
 * Serves the app twice on one Node server: `/status/…` through the in-process cache as `npm start` does,
 * `/uncached/status/…` rendering every time, and `/bare`. Prints one JSON line, then serves until killed.
 */
import { mkdtempSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAdaptorServer } from "@hono/node-server";
import { createApp, defaultConfig } from "@vigil/api";
import { tuneEmbeddedDb } from "@vigil/api/server";
import { memoryStatusCache } from "@vigil/api/status-cache";
import { createStatusPageSchema } from "@vigil/contract";
import { createDb } from "@vigil/db";
import { migrateDb } from "@vigil/db/migrate";
import { bootstrapProject, createStatusPage, systemClock } from "@vigil/engine";
import { Hono } from "hono";

const DAY = 86_400_000;
const COMPONENTS = 50;

const dir = mkdtempSync(join(tmpdir(), "vigil-bench-status-"));
const url = `file:${join(dir, "vigil.db")}`;
const db = createDb({ url });
await migrateDb(db);
await tuneEmbeddedDb(db, url);
const { project } = await bootstrapProject(db, systemClock);
const now = Date.now();
const today = now - (now % DAY);
const run = (sql: string, args: (string | number | null)[]) => db.$client.execute({ sql, args });

const components: { type: "check"; id: string; name: string; heading: string }[] = [];
for (let i = 0; i < COMPONENTS; i++) {
  const id = crypto.randomUUID();
  const http = i % 5 === 0;
  await run(
    `insert into checks (id, project_id, kind, name, public, status, status_changed_at, cas, period_sec, grace_sec,
     url, created_at, updated_at) values (?, ?, ?, ?, 1, 'up', ?, ?, 3600, 600, ?, ?, ?)`,
    [
      id,
      project.id,
      http ? "http" : "heartbeat",
      `service ${i}`,
      today - DAY,
      crypto.randomUUID(),
      http ? "https://example.com/" : null,
      today - 100 * DAY,
      today - 100 * DAY,
    ],
  );
  const statements: { sql: string; args: (string | number | null)[] }[] = [];
  for (let d = 90; d >= 1; d--) {
    const day = today - d * DAY;
    const down = d % 10 === i % 10 ? 20 * 60_000 : 0;
    statements.push({
      sql: "insert into uptime_daily (project_id, check_id, day, up_ms, down_ms) values (?, ?, ?, ?, ?)",
      args: [project.id, id, day, DAY - down, down],
    });
    if (http) {
      statements.push({
        sql: "insert into response_daily (project_id, check_id, day, runs, total_ms, max_ms) values (?, ?, ?, 1440, ?, 900)",
        args: [project.id, id, day, 1440 * (120 + ((d * 7) % 60))],
      });
    }
    if (down) {
      const at = day + 12 * 3_600_000;
      statements.push(
        {
          sql: `insert into flips (project_id, subject_type, subject_id, from_status, to_status, cause, at)
                values (?, 'check', ?, 'up', 'down', 'no ping', ?), (?, 'check', ?, 'down', 'up', 'ping', ?)`,
          args: [project.id, id, at, project.id, id, at + down],
        },
        {
          sql: `insert into incidents (id, project_id, subject_type, subject_id, cause, opened_at, resolved_at, resolution)
                values (?, ?, 'check', ?, 'no ping', ?, ?, 'ping')`,
          args: [crypto.randomUUID(), project.id, id, at, at + down],
        },
      );
    }
  }
  await db.$client.batch(statements, "write");
  components.push({ type: "check", id, name: `Service ${i}`, heading: `Group ${Math.floor(i / 10)}` });
}

const api = (cache: boolean) =>
  createApp({
    db,
    clock: systemClock,
    config: defaultConfig,
    ...(cache ? { statusCache: memoryStatusCache(systemClock, defaultConfig.statusCacheTtlMs) } : {}),
  });
await createStatusPage(
  db,
  systemClock,
  project.id,
  createStatusPageSchema.parse({ slug: "bench", title: "Bench", timezone: "Europe/Berlin", components }),
);

const root = new Hono();
root.get("/bare", (c) => c.text("OK"));
root.route("/uncached", api(false));
root.route("/", api(true));
const server = createAdaptorServer({ fetch: root.fetch });
await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
const { port } = server.address() as AddressInfo;
console.log(JSON.stringify({ url: `http://127.0.0.1:${port}`, slug: "bench" }));
