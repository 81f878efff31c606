/** Who sent a request, as the runtime knows it. No Node imports: the ping route is shared with Workers. */
import type { ClientAddress } from "../deps.ts";

/**
 * The caller's address on Node. X-Forwarded-For is believed only when the operator says a proxy stands in
 * front (VIGIL_TRUST_PROXY=1), and then only its last entry: the one that proxy added; the rest was sent by
 * the client and proves nothing. CF-Connecting-IP is never read here: on Node anyone can send it.
 */
export function nodeClientAddress(trustProxy: boolean): ClientAddress {
  return (request, env) => {
    if (trustProxy) {
      const hops = request.headers.get("x-forwarded-for")?.split(",") ?? [];
      const last = hops[hops.length - 1]?.trim();
      if (last) return last;
    }
    return socketAddress(request, env);
  };
}

/** The peer of the socket the request came on, when there is one (not for in-process `app.request`). */
export const socketAddress: ClientAddress = (_request, env) =>
  (env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket
    ?.remoteAddress ?? null;
