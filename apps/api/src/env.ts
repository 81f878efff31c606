import type { ApiKeyPrincipal, HostPrincipal } from "@vigil/engine";
import type { AppDeps } from "./deps.ts";

/** Hono's typed context: what middleware puts on `c.var`. */
export interface AppEnv {
  Variables: {
    deps: AppDeps;
    requestId: string;
    principal: ApiKeyPrincipal;
    host: HostPrincipal;
  };
}
