import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { BlockList, isIP, type LookupFunction } from "node:net";

/** Thrown (or handed to a socket's lookup callback) when the operator's rules forbid a target. */
export class RefusedTargetError extends Error {
  readonly code = "EVIGILREFUSED";
}

export class TargetRuleError extends Error {}

/** One list (allow or deny): host-name globs, and IP addresses and ranges in a BlockList. */
interface RuleList {
  entries: string[];
  globs: { entry: string; pattern: RegExp }[];
  addresses: BlockList;
  hasAddresses: boolean;
}

const GLOB = /^[a-z0-9*_-]+(\.[a-z0-9*_-]+)*$/;

/** A host as rules compare it: lower case, no IPv6 brackets, no root's trailing dot. */
export function normalHost(host: string): string {
  return host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, "$1")
    .replace(/\.$/, "");
}

function family(address: string): "ipv4" | "ipv6" {
  return isIP(address) === 6 ? "ipv6" : "ipv4";
}

function ruleList(entries: unknown, setting: string): RuleList {
  if (entries === undefined) entries = [];
  if (!Array.isArray(entries))
    throw new TargetRuleError(`${setting} must be a list of host names or addresses`);
  const list: RuleList = { entries: [], globs: [], addresses: new BlockList(), hasAddresses: false };
  for (const raw of entries) {
    if (typeof raw !== "string" || raw.trim() === "")
      throw new TargetRuleError(`${setting}: ${JSON.stringify(raw)} is not a host name or address`);
    const entry = normalHost(raw);
    const bad = (why: string) => new TargetRuleError(`${setting}: "${raw}" ${why}`);
    list.entries.push(entry);
    if (entry.includes("://")) throw bad("is a URL: give its host name only (e.g. example.com)");
    const slash = entry.indexOf("/");
    if (slash >= 0) {
      const address = entry.slice(0, slash);
      const bitsText = entry.slice(slash + 1);
      const version = isIP(address);
      const max = version === 6 ? 128 : 32;
      if (version === 0) throw bad("is not a CIDR range (address/prefix, e.g. 10.0.0.0/8 or fd00::/8)");
      if (!/^\d{1,3}$/.test(bitsText) || Number(bitsText) > max)
        throw bad(`has a prefix length outside 0-${max}`);
      list.addresses.addSubnet(address, Number(bitsText), family(address));
      list.hasAddresses = true;
    } else if (isIP(entry)) {
      list.addresses.addAddress(entry, family(entry));
      list.hasAddresses = true;
    } else {
      if (!GLOB.test(entry))
        throw bad("is neither an IP address, a CIDR range nor a host name (letters, digits, '-', '.', '*')");
      // `*` stands for any run of characters, dots included: `*.example.com` covers every name below it.
      const source = entry.replaceAll(".", "\\.").replaceAll("*", ".*");
      list.globs.push({ entry, pattern: new RegExp(`^${source}$`) });
    }
  }
  return list;
}

/** What the name alone says: refused, allowed by an allow rule, or left to the addresses it resolves to. */
export type NameVerdict = { refused: string } | { allowedByName: boolean };

/**
 * The operator's rules for the targets this probe checks as a location (probe.json `checks.allow` and
 * `checks.deny`). Entries are host-name globs or IP addresses and CIDR ranges.
 * 1. Deny wins: a target whose name matches a deny glob, or that resolves to any address in a denied range,
 *    is refused.
 * 2. With a non-empty allow list, a target must be allowed: by its name (an allow glob), or else by every
 *    address it resolves to (an allowed address or range).
 * 3. Addresses are judged as each connection is made, through the socket's `lookup` hook, so a name that
 *    resolves differently by then (DNS rebinding) is still judged by the address really connected to.
 * Private addresses are not refused by default: a private location exists to reach internal services.
 */
export class TargetRules {
  private readonly allow: RuleList;
  private readonly deny: RuleList;

  constructor(allow: unknown = [], deny: unknown = [], setting = "checks") {
    this.allow = ruleList(allow, `${setting}.allow`);
    this.deny = ruleList(deny, `${setting}.deny`);
  }

  get allowEntries(): string[] {
    return this.allow.entries;
  }

  get denyEntries(): string[] {
    return this.deny.entries;
  }

  /** The rules on one line, for the start message and doctor. */
  describe(): string {
    const parts: string[] = [];
    if (this.allow.entries.length > 0) parts.push(`allow ${this.allow.entries.join(", ")}`);
    if (this.deny.entries.length > 0) parts.push(`deny ${this.deny.entries.join(", ")}`);
    return parts.length > 0 ? parts.join("; ") : "no allow/deny rules (every target may be checked)";
  }

  /** The verdict on a host by its name, or on an IP literal by its address (then it is final). */
  judgeName(host: string): NameVerdict {
    const name = normalHost(host);
    if (isIP(name)) {
      const refused = this.refusedAddress(name, name);
      return refused ? { refused } : { allowedByName: true };
    }
    const denied = this.deny.globs.find((glob) => glob.pattern.test(name));
    if (denied) return { refused: `checks.deny "${denied.entry}" matches ${name}` };
    return {
      allowedByName: this.allow.entries.length === 0 || this.allow.globs.some((g) => g.pattern.test(name)),
    };
  }

  /**
   * Why `host` may not be reached at `addresses` (what it resolved to), or undefined when it may.
   * The name's verdict comes first; then every address must pass.
   */
  refusal(host: string, addresses: string[]): string | undefined {
    const verdict = this.judgeName(host);
    if ("refused" in verdict) return verdict.refused;
    const name = normalHost(host);
    for (const address of addresses) {
      const refused = this.refusedAddress(address, name, verdict.allowedByName);
      if (refused) return refused;
    }
    return undefined;
  }

  /** A target judged by its name only (DNS checks: the name is looked up, not connected to). */
  refusalByName(host: string): string | undefined {
    const verdict = this.judgeName(host);
    if ("refused" in verdict) return verdict.refused;
    if (!verdict.allowedByName) return `${normalHost(host)} matches nothing in checks.allow`;
    return undefined;
  }

  private refusedAddress(address: string, name: string, allowedByName = false): string | undefined {
    const shown = name === address ? address : `${name} (${address})`;
    if (this.deny.hasAddresses && this.deny.addresses.check(address, family(address)))
      return `checks.deny covers ${shown}`;
    if (
      this.allow.entries.length > 0 &&
      !allowedByName &&
      !this.allow.addresses.check(address, family(address))
    )
      return `${shown} matches nothing in checks.allow`;
    return undefined;
  }

  /**
   * A `dns.lookup` for net, tls and http connections that fails with a RefusedTargetError when the rules
   * refuse the name or any address it resolves to. Node skips the lookup for IP literals: callers judge
   * those first (`judgeName`).
   */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, found) => {
      const addresses = (found ?? []) as LookupAddress[];
      const first = addresses[0];
      if (error || !first) {
        const failure =
          error ?? Object.assign(new Error(`cannot resolve ${hostname}`), { code: "ENOTFOUND" });
        callback(failure, "", 0);
        return;
      }
      const refused = this.refusal(
        hostname,
        addresses.map((a) => a.address),
      );
      if (refused) {
        callback(new RefusedTargetError(refused), "", 0);
        return;
      }
      if (options.all) (callback as unknown as (e: null, all: LookupAddress[]) => void)(null, addresses);
      else callback(null, first.address, first.family);
    });
  };
}
