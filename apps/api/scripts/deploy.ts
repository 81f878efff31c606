/**
 * `npm run deploy` — the whole Workers + Turso deploy, ending at the setup link:
 * 1. build the dashboard and the probe, and merge them into the Worker's [assets] directory;
 * 2. apply the migrations to the database (before the new code runs against it);
 * 3. `wrangler deploy` with LIBSQL_URL and VIGIL_PUBLIC_URL as vars and, in the same step, the secrets
 *    that are given or missing (`wrangler secret list` says which the Worker holds; a missing
 *    VIGIL_SECRET_KEY is generated);
 * 4. print the one-time link that creates the owner (or where to sign in).
 *   VIGIL_DB_URL=libsql://… LIBSQL_AUTH_TOKEN=… VIGIL_PUBLIC_URL=https://… npm run deploy
 * VIGIL_WRANGLER_ENV=staging|production picks one of wrangler.toml's environments (`--env`).
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import {
  nextStep,
  planSecrets,
  prepareDeployment,
  secretNames,
  targetFromEnv,
  wranglerEnvArgs,
} from "./deployment.ts";

const root = resolve(import.meta.dirname, "../../..");
const wrangler = resolve(root, "node_modules/.bin/wrangler");

function run(command: string, args: string[]): void {
  const done = spawnSync(command, args, { cwd: root, stdio: "inherit" });
  if (done.status !== 0) {
    console.error(`vigil: ${[command, ...args.filter((a) => !a.includes("="))].join(" ")} failed`);
    process.exit(done.status ?? 1);
  }
}

function fail(err: unknown): never {
  console.error(`vigil: ${(err as Error).message}`);
  process.exit(1);
}

let target: ReturnType<typeof targetFromEnv>;
let envArgs: string[];
try {
  target = targetFromEnv(process.env);
  envArgs = wranglerEnvArgs(process.env);
} catch (err) {
  fail(err);
}

/** The secrets the Worker holds already; a Worker that does not exist yet lists none. */
function storedSecrets(): Set<string> {
  const listed = spawnSync(wrangler, ["secret", "list", "--format", "json", ...envArgs], {
    cwd: root,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  return listed.status === 0 ? secretNames(listed.stdout) : new Set();
}

// Secrets first: a deploy that cannot reach its database stops before anything is built or changed.
let secrets: ReturnType<typeof planSecrets>;
try {
  secrets = planSecrets({
    existing: storedSecrets(),
    given: process.env,
    dbUrl: target.dbUrl,
    generate: () => randomBytes(32).toString("base64url"),
  });
} catch (err) {
  fail(err);
}

run("npm", ["run", "build", "-w", "@vigil/probe"]);
run("npm", ["run", "build", "-w", "@vigil/web"]);
run("npm", ["run", "assets", "-w", "@vigil/api"]);
const prepared = await prepareDeployment(target);

// The secrets go up with the deployment itself (--secrets-file), so no version runs without them; the
// file lives in a private temporary directory only for as long as wrangler reads it.
const secretsDir = mkdtempSync(join(tmpdir(), "vigil-deploy-"));
const secretsFile = join(secretsDir, "secrets.json");
writeFileSync(secretsFile, JSON.stringify(Object.fromEntries(secrets.put)), { mode: 0o600 });
try {
  run(wrangler, [
    "deploy",
    ...envArgs,
    "--secrets-file",
    secretsFile,
    "--var",
    `LIBSQL_URL:${target.dbUrl}`,
    "--var",
    `VIGIL_PUBLIC_URL:${target.publicUrl}`,
  ]);
} finally {
  rmSync(secretsDir, { recursive: true, force: true });
}
for (const note of secrets.notes) console.log(`vigil: ${note}`);
console.log(`\n${nextStep(prepared)}`);
