/**
 * `npm run dev:worker` — the Worker path locally and offline: a local sqld (data in ./data/sqld),
 * migrated and bootstrapped like the self-hosted server, then `wrangler dev` pointed at it.
 * Fire the cron tick with: curl "http://127.0.0.1:8787/__scheduled?cron=*+*+*+*+*"
 * VIGIL_WRANGLER_ENV names a wrangler.toml environment to run instead of the top level (e.g. queued).
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { closeDb, createDb } from "@vigil/db";
import { migrateDb } from "@vigil/db/migrate";
import { bootstrapProject, systemClock } from "@vigil/engine";
import { nextStep, prepareDeployment } from "./deployment.ts";
import { startSqld } from "./sqld.ts";
import { startWorkerProcess } from "./worker-process.ts";

const root = resolve(import.meta.dirname, "../../..");
const dataDir = resolve(process.env.VIGIL_DATA_DIR ?? resolve(root, "data"));
mkdirSync(dataDir, { recursive: true });

const sqld = await startSqld({ dbPath: resolve(dataDir, "sqld") });
const db = createDb({ url: sqld.url });
await migrateDb(db);
const boot = await bootstrapProject(db, systemClock, process.env.VIGIL_ADMIN_KEY || undefined);
closeDb(db);
console.log(`sqld on ${sqld.url}, migrated`);
if (boot.adminKey)
  console.log(
    `\nCreated project "${boot.project.slug}"; admin API key (shown once):\n\n  ${boot.adminKey}\n`,
  );
const port = process.env.VIGIL_PORT ?? "8787";
const publicUrl = `http://127.0.0.1:${port}`;
console.log(nextStep(await prepareDeployment({ dbUrl: sqld.url, publicUrl })));

// Accounts need a secret key; the local Worker keeps one in the data dir like the self-hosted server.
const keyFile = resolve(dataDir, "worker-secret.key");
if (!existsSync(keyFile))
  writeFileSync(keyFile, `${randomBytes(32).toString("base64url")}\n`, { mode: 0o600 });
const secretKey = readFileSync(keyFile, "utf8").trim();

// wrangler.toml's [assets] (the dashboard, install.sh and the probe bundle) must exist before wrangler starts.
const steps = [
  ["probe/dist/assets/install.sh", ["run", "build", "-w", "@vigil/probe"]],
  ["apps/web/dist/index.html", ["run", "build", "-w", "@vigil/web"]],
] as const;
for (const [file, args] of steps) {
  if (existsSync(resolve(root, file))) continue;
  const built = spawnSync("npm", args, { cwd: root, stdio: "inherit" });
  if (built.status !== 0) process.exit(built.status ?? 1);
}
const merged = spawnSync("npm", ["run", "assets", "-w", "@vigil/api"], { cwd: root, stdio: "inherit" });
if (merged.status !== 0) process.exit(merged.status ?? 1);

const worker = await startWorkerProcess({
  port: Number(port),
  persistTo: resolve(dataDir, "wrangler"),
  inherit: true,
  // `VIGIL_WRANGLER_ENV=queued` runs wrangler.toml's [env.queued] (queued ingest on miniflare's queue)
  ...(process.env.VIGIL_WRANGLER_ENV ? { env: process.env.VIGIL_WRANGLER_ENV } : {}),
  vars: { LIBSQL_URL: sqld.url, VIGIL_SECRET_KEY: secretKey, VIGIL_PUBLIC_URL: publicUrl },
});
console.log(`\nThe Worker is ready on ${worker.url}`);

const stop = async () => {
  await worker.stop();
  await sqld.stop();
  process.exit(0);
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
worker.process.once("exit", async (code) => {
  await sqld.stop();
  process.exit(code ?? 0);
});
