import { env } from "cloudflare:test";
import type { Env } from "../../src/worker.ts";

/**
 * The Worker's bindings for tests that hand the handlers their own env: without the check runner (their
 * cron runs the checks, once a minute, as a Worker without the binding does) and without the runner's
 * leave to reach private targets.
 */
export function cronOnlyEnv(): Env {
  const { CHECK_RUNNER, VIGIL_ALLOW_PRIVATE_TARGETS, ...bindings } = env as unknown as Env;
  return bindings as Env;
}
