/**
 * What alert delivery (the engine's alerts area) takes from this runtime's deps: the database and clock, how
 * to reach receivers (fetch, the mailer, the address rule and name resolution of active checks), the key that
 * opens webhook signing secrets, and the public URL for links.
 */
import type { AlertDeps } from "@vigil/engine";
import type { AppDeps } from "./deps.ts";

/** `baseUrl` stands in for links when no public URL is configured (the request's origin, the listen URL). */
export function alertDeps(deps: AppDeps, baseUrl?: string): AlertDeps {
  const { db, clock, config } = deps;
  return {
    db,
    clock,
    fetch: deps.fetch ?? ((input, init) => fetch(input, init)),
    ...(deps.mailer ? { mailer: deps.mailer } : {}),
    ...(config.secretKey ? { secretKey: config.secretKey } : {}),
    publicUrl: config.publicUrl ?? baseUrl ?? null,
    allowPrivateTargets: config.allowPrivateTargets,
    ...(deps.probes ? { probes: deps.probes } : {}),
  };
}
