/**
 * Which IP addresses check targets and alert receivers may reach. Spellings are many (`127.1`,
 * `2130706433`, `[::ffff:7f00:1]`, `0:0::1`, `64:ff9b::a9fe:a9fe`), so addresses are parsed, never matched
 * as text: ipaddr.js parses every form the URL parser and the OS resolver accept and names the IANA
 * special-purpose range an address falls in. Only plain `unicast` is public; everything else (loopback,
 * private, link-local, CGNAT, TEST-NET, benchmarking, multicast, reserved, …) is refused.
 */
import ipaddr from "ipaddr.js";
import { InvalidInputError } from "../errors.ts";

/** 64:ff9b::/96, the well-known NAT64 prefix: the last 32 bits are the IPv4 address a translator reaches. */
const NAT64 = ipaddr.IPv6.parse("64:ff9b::");
/** ::/96, the deprecated IPv4-compatible form: ipaddr calls it unicast, but no public host is reached so. */
const IPV4_COMPATIBLE = ipaddr.IPv6.parse("::");

const unbracket = (host: string) => host.replace(/^\[|\]$/g, "");

function embeddedIpv4(parts: number[], at: number): ipaddr.IPv4 {
  const high = parts[at] ?? 0;
  const low = parts[at + 1] ?? 0;
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}

/**
 * The range an address is judged by: ipaddr's name for it, after unwrapping the forms that carry an IPv4
 * address to an IPv4 host (mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`, 6to4 `2002:AABB:CCDD::`),
 * so those are judged as the IPv4 address they lead to. Null when `address` is not an IP address.
 */
export function addressRange(address: string): string | null {
  const text = unbracket(address.trim());
  if (!ipaddr.isValid(text)) return null;
  // process() turns IPv4-mapped IPv6 into its IPv4 address.
  const ip = ipaddr.process(text);
  if (ip.kind() === "ipv4") return ip.range();
  const v6 = ip as ipaddr.IPv6;
  if (v6.match(NAT64, 96)) return embeddedIpv4(v6.parts, 6).range();
  const range = v6.range();
  if (range === "6to4") return embeddedIpv4(v6.parts, 1).range();
  if (range === "unicast" && v6.match(IPV4_COMPATIBLE, 96)) return "ipv4Compatible";
  return range;
}

/** True when `host` is an IP address in any spelling the URL parser or the resolver accepts. */
export const isIpLiteral = (host: string) => ipaddr.isValid(unbracket(host.trim()));

/**
 * True for every address that is not public unicast: loopback, private, link-local (cloud metadata),
 * CGNAT, TEST-NET, benchmarking, multicast, broadcast, reserved and the like. Host names are not
 * addresses: false (resolve them first).
 */
export function isPrivateAddress(address: string): boolean {
  const range = addressRange(address);
  return range !== null && range !== "unicast";
}

/** Names that never leave the machine, whatever a resolver says (RFC 6761, mDNS). */
export function isLocalName(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, "");
  return name === "localhost" || name.endsWith(".localhost") || name.endsWith(".local");
}

/** The refusal people read, naming the setting that lifts it. */
export const privateTargetRefusal = (host: string) =>
  `refused: ${host} is a private, loopback or link-local address (the operator can allow these: VIGIL_ALLOW_PRIVATE_TARGETS=1)`;

/**
 * Why a target host may not be reached, judged by its spelling alone (no DNS): a private IP literal.
 * Used at create time, where a refusal is an input error, and by runners as they connect, because Node
 * and undici skip the (guarded) lookup for literals.
 */
export function refusedLiteral(host: string, allowPrivate: boolean): string | null {
  if (allowPrivate) return null;
  const bare = unbracket(host.trim()).toLowerCase();
  return isPrivateAddress(bare) ? privateTargetRefusal(bare) : null;
}

/** What the operator allows targets to be (VIGIL_ALLOW_PRIVATE_TARGETS), for the domain's create/update rules. */
export interface TargetPolicy {
  allowPrivateTargets: boolean;
  /** the active kinds `edge` can run in this runtime (absent: all of http, tcp, tls, dns) */
  edgeKinds?: readonly string[];
}

/** Refuses a private IP literal as input, naming the field: such a target could never be reached. */
export function assertTargetAllowed(field: string, host: string, policy: TargetPolicy): void {
  const refusal = refusedLiteral(host, policy.allowPrivateTargets);
  if (refusal) throw new InvalidInputError(field, refusal);
}

/** A DNS check's resolver without its port: "1.2.3.4:53" → "1.2.3.4", "[::1]:53" → "::1", "::1" → "::1". */
export function serverAddress(server: string): string {
  const bracketed = /^\[([^\]]+)\]/.exec(server);
  if (bracketed?.[1]) return bracketed[1];
  const parts = server.split(":");
  return parts.length === 2 ? (parts[0] ?? server) : server;
}
