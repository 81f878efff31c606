/**
 * The bench's server process: the self-hosted app on a libSQL file, plus one bare Hono route on the same
 * Node server, so pings and the bare route are measured through the same stack in the same run.
 * Prints one JSON line with the URL, the ping key and check ids, then serves until killed.
 */
import { mkdtempSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAdaptorServer } from "@hono/node-server";
import { createApp, defaultConfig } from "@vigil/api";
import { tuneEmbeddedDb } from "@vigil/api/server";
import { createCheckRequestSchema } from "@vigil/contract";
import { createDb } from "@vigil/db";
import { migrateDb } from "@vigil/db/migrate";
import { bootstrapProject, createCheck, systemClock } from "@vigil/engine";
import { Hono } from "hono";

const dir = mkdtempSync(join(tmpdir(), "vigil-bench-"));
const url = `file:${join(dir, "vigil.db")}`;
const db = createDb({ url });
await migrateDb(db);
await tuneEmbeddedDb(db, url);
const boot = await bootstrapProject(db, systemClock);
const ids: string[] = [];
for (let i = 0; i < 100; i++) {
  const settings = createCheckRequestSchema.parse({
    kind: "heartbeat",
    name: `job ${i}`,
    slug: `job-${i}`,
    period: 3600,
    grace: 600,
  });
  const row = await createCheck(db, systemClock, boot.project.id, settings);
  ids.push(row.id);
}

const root = new Hono();
root.get("/bare", (c) => c.text("OK"));
// Pings to one check are measured too (the engine's rate, not the limiter's: 2,000 a minute by default).
const config = {
  ...defaultConfig,
  limits: { ...defaultConfig.limits, pingsPerCheck: { max: 1_000_000_000, window: 60 } },
};
root.route("/", createApp({ db, clock: systemClock, config }));
const server = createAdaptorServer({ fetch: root.fetch });
await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
const { port } = server.address() as AddressInfo;
console.log(
  JSON.stringify({ url: `http://127.0.0.1:${port}`, pingKey: boot.project.pingKey, ids, dbUrl: url }),
);
