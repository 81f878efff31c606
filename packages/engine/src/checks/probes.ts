/**
 * How active checks reach the network. The engine decides what to request and what the answer means;
 * a `ProbeRunner` only performs one request, so each runtime brings its own (Node: fetch, node:net,
 * node:tls, node:dns; Workers: fetch and cloudflare:sockets, without certificates).
 */

import {
  isIpLiteral,
  isLocalName,
  isPrivateAddress,
  privateTargetRefusal,
  refusedLiteral,
} from "./addresses.ts";

export interface HttpProbeRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | null;
  timeoutMs: number;
  /** read (up to 1 MiB of) the body, for keyword checks */
  readBody: boolean;
}

export interface HttpProbeResponse {
  status: number;
  /** for following redirects ourselves, one hop at a time, so each hop's address is vetted */
  location: string | null;
  text: string | null;
  ms: number;
}

export interface TlsProbeResult {
  /** certificate notAfter, epoch ms */
  validTo: number;
  /** the chain verified against the runtime's trust store */
  authorized: boolean;
  authorizationError: string | null;
  ms: number;
}

export interface DnsProbeRequest {
  name: string;
  type: "A" | "AAAA" | "CNAME" | "MX" | "TXT" | "NS";
  /** a resolver ("ip" or "ip:port"); null: the system's */
  server: string | null;
  timeoutMs: number;
}

export interface ProbeRunner {
  /** one HTTP exchange without following redirects; rejects on network errors and timeouts */
  http(req: HttpProbeRequest): Promise<HttpProbeResponse>;
  /** opens and closes a TCP connection; rejects when it cannot */
  tcp(host: string, port: number, timeoutMs: number): Promise<{ ms: number }>;
  /** absent where the runtime does not expose peer certificates (Workers) */
  tls?(host: string, port: number, timeoutMs: number): Promise<TlsProbeResult>;
  /** the records of one DNS lookup; absent where the runtime cannot send DNS queries (Workers) */
  dns?(req: DnsProbeRequest): Promise<{ values: string[]; ms: number }>;
  /** every address a name resolves to; absent where the runtime cannot resolve (then only literals are vetted) */
  resolve?(hostname: string): Promise<string[]>;
}

/** A message for people, from whatever a runner threw. */
export function probeError(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    if (err.name === "TimeoutError" || err.name === "AbortError") return "timed out";
    if (cause?.code) return `${cause.code}${cause.message ? `: ${cause.message}` : ""}`;
    return err.message;
  }
  return String(err);
}

/**
 * Why a target may not be reached, or null when it may. Names are resolved where the runner can, and
 * refused when any address is private. A DNS answer can change before the request: the Node runner checks
 * again at connect time (runners/node.ts, `guardedLookup`); on Workers, Cloudflare refuses private ranges.
 * `unresolvable: "allow"` passes names that do not resolve (yet), for settings saved ahead of their DNS.
 */
export async function refusedTarget(
  hostname: string,
  probes: Pick<ProbeRunner, "resolve">,
  allowPrivate: boolean,
  unresolvable: "refuse" | "allow" = "refuse",
): Promise<string | null> {
  if (allowPrivate) return null;
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (isIpLiteral(host)) return refusedLiteral(host, allowPrivate);
  if (isLocalName(host)) return privateTargetRefusal(host);
  if (!probes.resolve) return null;
  let addresses: string[];
  try {
    addresses = await probes.resolve(host);
  } catch (err) {
    return unresolvable === "allow" ? null : `cannot resolve ${host}: ${probeError(err)}`;
  }
  return addresses.some(isPrivateAddress) ? privateTargetRefusal(host) : null;
}
