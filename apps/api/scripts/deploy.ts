/**
 * `npm run deploy` — the whole Workers + Turso deploy, ending at the setup link:
 * 1. build the dashboard and the probe, and merge them into the Worker's [assets] directory;
 * 2. apply the migrations to the database (before the new code runs against it);
 * 3. `wrangler secret put` VIGIL_SECRET_KEY and LIBSQL_AUTH_TOKEN when given, then `wrangler deploy`
 *    with LIBSQL_URL and VIGIL_PUBLIC_URL as vars;
 * 4. print the one-time link that creates the owner (or where to sign in).
 *   VIGIL_DB_URL=libsql://… LIBSQL_AUTH_TOKEN=… VIGIL_PUBLIC_URL=https://… VIGIL_SECRET_KEY=… npm run deploy
 */
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { nextStep, prepareDeployment, targetFromEnv } from "./deployment.ts";

const root = resolve(import.meta.dirname, "../../..");
const wrangler = resolve(root, "node_modules/.bin/wrangler");

function run(command: string, args: string[], input?: string): void {
  const done = spawnSync(command, args, {
    cwd: root,
    stdio: [input ? "pipe" : "inherit", "inherit", "inherit"],
    input,
  });
  if (done.status !== 0) {
    console.error(`vigil: ${[command, ...args.filter((a) => !a.includes("="))].join(" ")} failed`);
    process.exit(done.status ?? 1);
  }
}

let target: ReturnType<typeof targetFromEnv>;
try {
  target = targetFromEnv(process.env);
} catch (err) {
  console.error(`vigil: ${(err as Error).message}`);
  process.exit(1);
}

run("npm", ["run", "build", "-w", "@vigil/probe"]);
run("npm", ["run", "build", "-w", "@vigil/web"]);
run("npm", ["run", "assets", "-w", "@vigil/api"]);
const prepared = await prepareDeployment(target);
for (const secret of ["VIGIL_SECRET_KEY", "LIBSQL_AUTH_TOKEN"]) {
  const value = process.env[secret];
  if (value) run(wrangler, ["secret", "put", secret], value);
}
run(wrangler, [
  "deploy",
  "--var",
  `LIBSQL_URL:${target.dbUrl}`,
  "--var",
  `VIGIL_PUBLIC_URL:${target.publicUrl}`,
]);
console.log(`\n${nextStep(prepared)}`);
