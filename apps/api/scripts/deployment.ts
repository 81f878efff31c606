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
