/**
 * The database side of a Worker deployment, shared by `npm run deploy`, `npm run setup-url` and
 * `npm run dev:worker`: apply the migrations, then (while nobody has an account) mint the one-time link
 * that creates the owner. No SQL by hand, and the same link the self-hosted server prints.
 */
import { closeDb, createDb } from "@vigil/db";
import { migrateDb } from "@vigil/db/migrate";
import { issueSetupToken, setupUrl, systemClock } from "@vigil/engine";

export interface DeploymentTarget {
  /** libsql://… (Turso) or http://… (sqld) */
  dbUrl: string;
  authToken?: string;
  /** where people open Vigil, e.g. https://vigil.example.workers.dev */
  publicUrl: string;
}

export interface PreparedDeployment {
  /** the setup link, or null when an owner exists already */
  setupUrl: string | null;
  signInUrl: string;
}

export async function prepareDeployment(target: DeploymentTarget): Promise<PreparedDeployment> {
  const db = createDb({ url: target.dbUrl, ...(target.authToken ? { authToken: target.authToken } : {}) });
  try {
    await migrateDb(db);
    const base = target.publicUrl.replace(/\/+$/, "");
    const token = await issueSetupToken(db, systemClock);
    return { setupUrl: token ? setupUrl(base, token) : null, signInUrl: `${base}/` };
  } finally {
    closeDb(db);
  }
}

/** What to print at the end of a deploy: the link to open next. */
export function nextStep(prepared: PreparedDeployment): string {
  return prepared.setupUrl
    ? `Open this link to create the owner account (it works once):\n\n  ${prepared.setupUrl}\n`
    : `An owner exists already: sign in at ${prepared.signInUrl}`;
}

/** The settings every script needs, from the environment, or a one-line reason it cannot go on. */
export function targetFromEnv(env: NodeJS.ProcessEnv): DeploymentTarget {
  const dbUrl = env.VIGIL_DB_URL ?? env.LIBSQL_URL;
  if (!dbUrl) throw new Error("set VIGIL_DB_URL to the database (libsql://<db>-<org>.turso.io)");
  if (!env.VIGIL_PUBLIC_URL) throw new Error("set VIGIL_PUBLIC_URL to the Worker's URL (https://…)");
  return {
    dbUrl,
    publicUrl: env.VIGIL_PUBLIC_URL,
    ...(env.LIBSQL_AUTH_TOKEN ? { authToken: env.LIBSQL_AUTH_TOKEN } : {}),
  };
}

/** The Worker secrets a deploy looks after; others (say VIGIL_SMTP_URL) the operator puts by hand. */
export const DEPLOY_SECRETS = ["VIGIL_SECRET_KEY", "LIBSQL_AUTH_TOKEN", "VIGIL_METRICS_TOKEN"] as const;
type DeploySecret = (typeof DEPLOY_SECRETS)[number];

export interface SecretPlan {
  /** what `wrangler secret put` stores, name and value */
  put: Array<[DeploySecret, string]>;
  /** one line each for the operator: what was generated and must be kept */
  notes: string[];
}

/**
 * Which secrets to upload: every one given in the environment (it replaces the stored one), and a
 * generated VIGIL_SECRET_KEY when the Worker has none yet, so a first deploy needs no `openssl` step.
 * A Turso database (libsql://) without a stored or given token cannot be reached: that is an error
 * before anything is deployed, not a Worker that answers 500.
 */
export function planSecrets(input: {
  existing: ReadonlySet<string>;
  given: NodeJS.ProcessEnv;
  dbUrl: string;
  generate: () => string;
}): SecretPlan {
  const put: SecretPlan["put"] = [];
  const notes: string[] = [];
  for (const name of DEPLOY_SECRETS) {
    const value = input.given[name];
    if (value) put.push([name, value]);
  }
  const has = (name: DeploySecret) => input.existing.has(name) || put.some(([n]) => n === name);
  if (!has("VIGIL_SECRET_KEY")) {
    put.push(["VIGIL_SECRET_KEY", input.generate()]);
    notes.push(
      "generated VIGIL_SECRET_KEY and stored it as a Worker secret (it seals webhook secrets and signs sessions; it stays with the Worker)",
    );
  }
  if (input.dbUrl.startsWith("libsql://") && !has("LIBSQL_AUTH_TOKEN")) {
    throw new Error("set LIBSQL_AUTH_TOKEN (turso db tokens create <db>): the Worker has none stored");
  }
  return { put, notes };
}

/** The names `wrangler secret list --format json` prints, or none when the Worker does not exist yet. */
export function secretNames(listed: string): Set<string> {
  try {
    const parsed = JSON.parse(listed) as unknown;
    if (!Array.isArray(parsed)) return new Set();
    return new Set(parsed.map((s: { name?: unknown }) => (typeof s?.name === "string" ? s.name : "")));
  } catch {
    return new Set();
  }
}

/** `--env <name>` for every wrangler command when VIGIL_WRANGLER_ENV names one of wrangler.toml's environments. */
export function wranglerEnvArgs(env: NodeJS.ProcessEnv): string[] {
  const name = env.VIGIL_WRANGLER_ENV;
  if (!name) return [];
  if (!/^[a-z][a-z0-9-]*$/.test(name))
    throw new Error(`VIGIL_WRANGLER_ENV must name a wrangler.toml environment, not "${name}"`);
  return ["--env", name];
}
