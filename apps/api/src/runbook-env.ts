import type { RunbookEnv } from "@vigil/engine";
import type { LiveDeps } from "./deps.ts";

/** What runs need of the deps: the database, the clock, how HTTP steps go out and open secrets. */
export function runbookEnvOf({ db, clock, probes, config, runtime }: LiveDeps): RunbookEnv {
  return {
    db,
    clock,
    engine: runtime.engine,
    ...(probes ? { probes } : {}),
    allowPrivateTargets: config.allowPrivateTargets,
    ...(config.secretKey ? { serverKey: config.secretKey } : {}),
  };
}
