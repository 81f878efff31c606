import type { ApiKeyScope } from "@vigil/contract";
import {
  authenticateApiKey,
  authenticateHost,
  authenticateHostCached,
  ForbiddenError,
  grants,
  type HostPrincipal,
  InvalidInputError,
  NotFoundError,
  projectMembership,
  scopesOfRole,
  UnauthorizedError,
} from "@vigil/engine";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { accountsBaseUrl } from "../accounts.ts";
import type { AppEnv } from "../env.ts";
import { enforceRate } from "../limits.ts";

function bearer(header: string | undefined): string | null {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return match?.[1] ?? null;
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** The origins whose pages may act with a session: this site's, and any the operator trusts. */
export function allowedOrigins(c: Context<AppEnv>): string[] {
  return [accountsBaseUrl(c.var.deps, c.req.raw), ...(c.var.deps.config.trustedOrigins ?? [])].map(
    (u) => new URL(u).origin,
  );
}

/**
 * Cookies ride along on cross-site requests; a write carrying one must come from a page of this server
 * (or an origin the operator trusts). Browsers send Origin on every cross-origin and every non-GET fetch.
 */
function refuseCrossSiteWrite(c: Context<AppEnv>): void {
  if (SAFE_METHODS.has(c.req.method)) return;
  const origin = c.req.header("origin");
  if (!origin || origin === "null" || !allowedOrigins(c).includes(origin)) {
    throw new ForbiddenError(
      "cross-site request refused: a signed-in write must come from Vigil's own pages",
    );
  }
}

/**
 * Requires `scope` on the route's project and puts who is asking on `c.var.principal`. Two ways in:
 * - `Authorization: Bearer <api key>`: the key's project; under `/api/v1/projects/:projectId/…` the id must
 *   be the key's own project (or `current`);
 * - a session cookie: the project is named in the path (`/api/v1/projects/:projectId/…`) and the person's
 *   role in its organisation gives the scopes.
 * A project the caller has no part in answers 404, the same as one that does not exist.
 */
export function requireScope(scope: ApiKeyScope) {
  return createMiddleware<AppEnv>(async (c, next) => {
    await authenticate(c, scope);
    await next();
  });
}

/** `requireScope` as a call, for handlers that choose between a key and a session themselves. */
export async function authenticate(c: Context<AppEnv>, scope: ApiKeyScope): Promise<void> {
  const { db, clock } = c.var.deps;
  const named = c.req.param("projectId");
  const token = bearer(c.req.header("authorization"));
  if (token) {
    const key = await authenticateApiKey(db, clock, token);
    if (!key) throw new UnauthorizedError("the API key is not valid");
    if (named && named !== "current" && named !== key.projectId) throw new NotFoundError("project");
    if (!grants(key.scopes, scope)) throw new ForbiddenError(`this API key lacks the "${scope}" scope`);
    await enforceRate(c, "apiPerKey", key.keyId);
    c.set("principal", {
      projectId: key.projectId,
      scopes: key.scopes,
      actor: { type: "api_key", id: key.keyId, label: key.keyName },
    });
    return;
  }
  const session = await c.var.session();
  if (!session) {
    throw new UnauthorizedError("sign in, or send an API key: Authorization: Bearer <key>");
  }
  if (!named || named === "current") {
    throw new InvalidInputError(
      "path.projectId",
      "a signed-in request names its project: /api/v1/projects/<projectId>/…",
    );
  }
  const membership = await projectMembership(db, session.user.id, named);
  if (!membership) throw new NotFoundError("project");
  const scopes = scopesOfRole(membership.role);
  if (!grants(scopes, scope)) {
    throw new ForbiddenError(`your role in this organisation (${membership.role}) cannot do this`);
  }
  refuseCrossSiteWrite(c);
  c.set("principal", {
    projectId: named,
    scopes,
    actor: { type: "user", id: session.user.id, label: session.user.email },
    role: membership.role,
  });
}

/** Requires a signed-in person (account and organisation routes); cookie writes must be same-origin. */
export const requireSession = createMiddleware<AppEnv>(async (c, next) => {
  const session = await c.var.session();
  if (!session) throw new UnauthorizedError("sign in first");
  refuseCrossSiteWrite(c);
  c.set("user", session.user);
  await next();
});

function hostToken(c: Context<AppEnv>): string {
  const token = bearer(c.req.header("authorization"));
  if (!token) throw new UnauthorizedError("a host token is required: Authorization: Bearer <host token>");
  return token;
}

const INVALID_HOST_TOKEN = "the host token is not valid; enroll the probe again";

/**
 * Requires a probe's host token and puts the host on `c.var`. With an ingest queue, the host may come from
 * the isolate's cache (`authenticateHostCached`, and `c.var.hostCached` is set): the queue consumer checks
 * the host again, and a batch written directly instead must first re-read it (`freshHost`).
 */
export const requireHost = createMiddleware<AppEnv>(async (c, next) => {
  const token = hostToken(c);
  const { db, clock, runtime, ingestQueue } = c.var.deps;
  const host = ingestQueue
    ? await authenticateHostCached(db, runtime.engine, token, clock.now())
    : await authenticateHost(db, token);
  if (!host) throw new UnauthorizedError(INVALID_HOST_TOKEN);
  c.set("host", host);
  c.set("hostCached", ingestQueue !== undefined);
  await next();
});

/** The request's host as the database has it now (after `requireHost` answered from its cache). */
export async function freshHost(c: Context<AppEnv>): Promise<HostPrincipal> {
  if (!c.var.hostCached) return c.var.host;
  const host = await authenticateHost(c.var.deps.db, hostToken(c));
  if (!host) throw new UnauthorizedError(INVALID_HOST_TOKEN);
  return host;
}
