// The behaviour suite (test/behaviour/) against the self-hosted server's app: the deps server.ts builds,
// on a fresh libSQL :memory: database per case, with a clock the cases move.
import { resolve } from "node:path";
import { closeDb, type Db } from "@vigil/db";
import { createApiKey, createProject, createTestDb } from "@vigil/db/testing";
import { issueSetupToken } from "@vigil/engine";
import { guardedFetch, nodeProbes } from "@vigil/engine/node";
import { manualClock } from "@vigil/engine/testing";
import { smtpMailer } from "@vigil/notify/node";
import { afterAll, beforeAll, describe, it } from "vitest";
import { createApp, defaultConfig } from "../src/app.ts";
import { type AppDeps, defaultSelfWatch } from "../src/deps.ts";
import { nodeClientAddress } from "../src/platform/client-address.ts";
import { nodeGunzip } from "../src/platform/node-gunzip.ts";
import { webAssetsFrom } from "../src/platform/web-assets.ts";
import { scheduledJobs } from "../src/scheduler.ts";
import { createRuntime } from "../src/self/runtime.ts";
import { runWatchedTick } from "../src/self/watched-tick.ts";
import { memoryStatusCache } from "../src/status/memory-cache.ts";
import { areas } from "./behaviour/cases.ts";
import { type Fixtures, startFixtures } from "./behaviour/fixtures.ts";
import { Outside, START, type Target } from "./behaviour/target.ts";

const webDir = resolve(import.meta.dirname, "../../web/dist");

let fixtures: Fixtures;
beforeAll(async () => {
  fixtures = await startFixtures();
});
afterAll(async () => {
  await fixtures?.stop();
});

async function nodeTarget(): Promise<{ target: Target; db: Db }> {
  const outside = await Outside.connect(fixtures.controlUrl);
  const db = await createTestDb();
  const clock = manualClock(START);
  const deps: AppDeps = {
    db,
    clock,
    config: {
      ...defaultConfig,
      allowPrivateTargets: true,
      secretKey: "behaviour-secret-key-0123456789abcdef",
      siteUrl: "http://localhost",
      selfWatch: { ...defaultSelfWatch, schedulerInProcess: true },
    },
    runtime: createRuntime(clock.now()),
    probes: nodeProbes({ allowPrivate: true }),
    fetch: guardedFetch(true),
    mailer: smtpMailer({ url: outside.smtpUrl, from: "Vigil <vigil@localhost>" }),
    gunzip: nodeGunzip,
    statusCache: memoryStatusCache(clock, defaultConfig.statusCacheTtlMs),
    clientAddress: nodeClientAddress(false),
  };
  // The dashboard, as node.ts serves it (the Worker has it from its ASSETS binding).
  const webAssets = webAssetsFrom(webDir);
  if (webAssets) deps.webAssets = webAssets;
  const app = createApp(deps);
  const project = await createProject(db);
  const admin = await createApiKey(db, project.id, ["admin"]);
  const target: Target = {
    runtime: "node",
    request: async (path, init) => app.request(path, init),
    clock,
    async tick() {
      // As server.ts does: links in alerts name the listen URL (here the one app.request uses).
      const scheduler = { ...deps, config: { ...deps.config, publicUrl: "http://localhost" } };
      const { failed } = await runWatchedTick(scheduler, scheduledJobs);
      if (failed.length) throw new Error(`scheduled jobs failed: ${failed.join(", ")}`);
    },
    adminKey: admin.key,
    projectId: project.id,
    pingKey: project.pingKey,
    async otherProject() {
      const other = await createProject(db);
      return { projectId: other.id, adminKey: (await createApiKey(db, other.id, ["admin"])).key };
    },
    async setupToken() {
      const token = await issueSetupToken(db, clock);
      if (!token) throw new Error("no setup token on a fresh database");
      return token;
    },
    outside,
  };
  return { target, db };
}

for (const { title, cases } of areas) {
  describe(title, () => {
    for (const c of cases) {
      it(c.differs?.node ? `${c.name} (differs on Node: ${c.differs.node})` : c.name, async () => {
        const { target, db } = await nodeTarget();
        try {
          await c.run(target);
        } finally {
          closeDb(db);
        }
      });
    }
  });
}
