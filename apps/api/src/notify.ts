/**
 * What alert delivery needs from the app: the subjects' owners describe them (checks, rules' alerts) and
 * decide what is held back (silences, maintenance windows, a down host's own notices); outbound requests
 * obey the same private-address rule as active checks, and links use the public URL.
 */
import type { FlipRow } from "@vigil/db";
import { describeAlertSubject, describeCheckSubject, refusedTarget, suppressionFor } from "@vigil/engine";
import type { DispatchDeps } from "@vigil/notify";
import type { AppDeps } from "./deps.ts";

/** `baseUrl` stands in for links when no public URL is configured (the request's origin, the listen URL). */
export function notifyDeps(deps: AppDeps, baseUrl?: string): DispatchDeps {
  const { db, clock, config } = deps;
  return {
    db,
    clock,
    fetch: deps.fetch ?? ((input, init) => fetch(input, init)),
    ...(deps.mailer ? { mailer: deps.mailer } : {}),
    describe: (db, flip: FlipRow) =>
      flip.subjectType === "check"
        ? describeCheckSubject(db, flip.projectId, flip.subjectId)
        : describeAlertSubject(db, flip.projectId, flip.subjectId),
    suppress: suppressionFor,
    refuseUrl: (url) => refusedTarget(url.hostname, deps.probes ?? {}, config.allowPrivateTargets),
    ...(config.secretKey ? { secretKey: config.secretKey } : {}),
    publicUrl: config.publicUrl ?? baseUrl ?? null,
  };
}
