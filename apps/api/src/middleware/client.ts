import type { Context } from "hono";
import type { AppEnv } from "../env.ts";
import { socketAddress } from "../platform/client-address.ts";

/**
 * The caller's address as the runtime knows it (`deps.clientAddress`: CF-Connecting-IP on Workers, the
 * socket on Node), never a header anyone could send.
 */
export function clientAddress(c: Context<AppEnv>): string | null {
  return (c.var.deps.clientAddress ?? socketAddress)(c.req.raw, c.env);
}
