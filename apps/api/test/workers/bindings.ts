import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import worker, { type Env } from "../../src/worker.ts";

/**
 * The Worker's bindings for tests that hand the handlers their own env: without the check runner (their
 * cron runs the checks, once a minute, as a Worker without the binding does) and without the runner's
 * leave to reach private targets.
 */
export function cronOnlyEnv(): Env {
  const { CHECK_RUNNER, VIGIL_ALLOW_PRIVATE_TARGETS, ...bindings } = env as unknown as Env;
  return bindings as Env;
}

/** One request through the Worker's own fetch export with the given bindings, its waitUntil work done. */
export async function callWorker(bindings: Env, path: string, init?: RequestInit): Promise<Response> {
  const ctx = createExecutionContext();
  const request = new Request(`https://vigil.test${path}`, init) as Request<
    unknown,
    IncomingRequestCfProperties
  >;
  const res = await worker.fetch(request, bindings, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}
