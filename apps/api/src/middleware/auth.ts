import type { ApiKeyScope } from "@vigil/contract";
import {
  authenticateApiKey,
  authenticateHost,
  ForbiddenError,
  grants,
  UnauthorizedError,
} from "@vigil/engine";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env.ts";

function bearer(header: string | undefined): string | null {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return match?.[1] ?? null;
}

/** Requires an API key carrying `scope` (admin carries every scope) and puts its project on `c.var`. */
export function requireScope(scope: ApiKeyScope) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const token = bearer(c.req.header("authorization"));
    if (!token) throw new UnauthorizedError();
    const { db, clock } = c.var.deps;
    const principal = await authenticateApiKey(db, clock, token);
    if (!principal) throw new UnauthorizedError("the API key is not valid");
    if (!grants(principal.scopes, scope)) {
      throw new ForbiddenError(`this API key lacks the "${scope}" scope`);
    }
    c.set("principal", principal);
    await next();
  });
}

/** Requires a probe's host token and puts the host on `c.var`. */
export const requireHost = createMiddleware<AppEnv>(async (c, next) => {
  const token = bearer(c.req.header("authorization"));
  if (!token) throw new UnauthorizedError("a host token is required: Authorization: Bearer <host token>");
  const host = await authenticateHost(c.var.deps.db, token);
  if (!host) throw new UnauthorizedError("the host token is not valid; enroll the probe again");
  c.set("host", host);
  await next();
});
