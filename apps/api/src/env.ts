import type { ApiKeyScope } from "@vigil/contract";
import type { Actor, Auth, HostPrincipal, Role } from "@vigil/engine";
import type { LiveDeps } from "./deps.ts";

/** Who a request acts for in one project: an API key, or a person through their role. */
export interface Principal {
  projectId: string;
  scopes: ApiKeyScope[];
  actor: Actor;
  /** set when a person signed in (not for API keys) */
  role?: Role;
}

/** The signed-in person, as better-auth reports them. */
export interface SessionUser {
  id: string;
  email: string;
  name: string;
  emailVerified: boolean;
}

/** Hono's typed context: what middleware puts on `c.var`. */
export interface AppEnv {
  Variables: {
    deps: LiveDeps;
    requestId: string;
    principal: Principal;
    host: HostPrincipal;
    /** `host` came from the isolate's cache (queued ingest); see `requireHost` */
    hostCached: boolean;
    user: SessionUser;
    /** this app's better-auth, made on first use */
    auth: () => Promise<Auth>;
    /** the request's session (looked up once, on first ask), or null when it carries none */
    session: () => Promise<{ user: SessionUser } | null>;
  };
}
