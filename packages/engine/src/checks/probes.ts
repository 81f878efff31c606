/**
 * How active checks reach the network. The engine decides what to request and what the answer means;
 * a `ProbeRunner` only performs one request, so each runtime brings its own (Node: fetch, node:net,
 * node:tls, node:dns; Workers: fetch and cloudflare:sockets, without certificates).
 */

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

export interface ProbeRunner {
  /** one HTTP exchange without following redirects; rejects on network errors and timeouts */
  http(req: HttpProbeRequest): Promise<HttpProbeResponse>;
  /** opens and closes a TCP connection; rejects when it cannot */
  tcp(host: string, port: number, timeoutMs: number): Promise<{ ms: number }>;
  /** absent where the runtime does not expose peer certificates (Workers) */
  tls?(host: string, port: number, timeoutMs: number): Promise<TlsProbeResult>;
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

function ipv4Parts(ip: string): number[] | null {
  const parts = ip.split(".");
  if (parts.length !== 4) return null;
  const nums = parts.map((p) => (/^\d{1,3}$/.test(p) ? Number(p) : Number.NaN));
  return nums.every((n) => n >= 0 && n <= 255) ? nums : null;
}

function privateV4([a, b]: number[]): boolean {
  if (a === undefined || b === undefined) return true;
  return (
    a === 0 || // "this" network
    a === 10 ||
    a === 127 || // loopback
    (a === 100 && b >= 64 && b <= 127) || // carrier-grade NAT
    (a === 169 && b === 254) || // link-local, cloud metadata
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 198 && (b === 18 || b === 19)) || // benchmarking
    a >= 224 // multicast, reserved, broadcast
  );
}

/** True for loopback, private, link-local, CGNAT, multicast and other non-public addresses. */
export function isPrivateAddress(address: string): boolean {
  const ip = address.replace(/^\[|\]$/g, "").toLowerCase();
  const v4 = ipv4Parts(ip);
  if (v4) return privateV4(v4);
  if (!ip.includes(":")) return false;
  const mapped = ip.match(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/);
  if (mapped?.[1]) return privateV4(ipv4Parts(mapped[1]) ?? []);
  if (ip === "::" || ip === "::1") return true;
  return /^(fc|fd|fe[89ab]|ff)/.test(ip); // unique local, link-local, multicast
}

export const isIpLiteral = (host: string) =>
  ipv4Parts(host) !== null || host.replace(/^\[|\]$/g, "").includes(":");

/**
 * Why a target may not be reached, or null when it may. Names are resolved where the runner can, and
 * refused when any address is private. A DNS answer can change before the request: the Node runner checks
 * again at connect time (runners/node.ts, `guardedLookup`); on Workers, Cloudflare refuses private ranges.
 */
export async function refusedTarget(
  hostname: string,
  probes: Pick<ProbeRunner, "resolve">,
  allowPrivate: boolean,
): Promise<string | null> {
  if (allowPrivate) return null;
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  const refusal = `refused: ${host} is a private, loopback or link-local address (the operator can allow these: VIGIL_ALLOW_PRIVATE_TARGETS=1)`;
  if (isIpLiteral(host)) return isPrivateAddress(host) ? refusal : null;
  if (host === "localhost" || host.endsWith(".localhost") || host.endsWith(".local")) return refusal;
  if (!probes.resolve) return null;
  let addresses: string[];
  try {
    addresses = await probes.resolve(host);
  } catch (err) {
    return `cannot resolve ${host}: ${probeError(err)}`;
  }
  return addresses.some(isPrivateAddress) ? refusal : null;
}
