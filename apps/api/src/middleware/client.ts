import type { Context } from "hono";
import type { AppEnv } from "../env.ts";

/**
 * The caller's address. Behind Cloudflare the edge sets `CF-Connecting-IP` and clients cannot forge it;
 * a Node server reads its own socket, since there any client could send that header.
 */
export function clientAddress(c: Context<AppEnv>): string | null {
  const header = c.var.deps.config.clientIpHeader;
  if (header) return c.req.header(header) ?? null;
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress ?? null;
}
