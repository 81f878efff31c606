/**
 * `npm run setup-url` — migrates the Worker's database and prints the one-time setup link (a fresh one
 * each run, while nobody has an account):
 *   VIGIL_DB_URL=libsql://… LIBSQL_AUTH_TOKEN=… VIGIL_PUBLIC_URL=https://… npm run setup-url
 */
import { nextStep, prepareDeployment, targetFromEnv } from "./deployment.ts";

try {
  console.log(nextStep(await prepareDeployment(targetFromEnv(process.env))));
} catch (err) {
  console.error(`vigil: ${(err as Error).message}`);
  process.exit(1);
}
