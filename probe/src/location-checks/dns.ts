import { Resolver } from "node:dns/promises";
import { isIP } from "node:net";
import type { CheckAssignment } from "@vigil/contract";
import { abortReason, deadline, failureOf, type Observation, type RunContext } from "./observation.ts";

export type DnsSettings = NonNullable<CheckAssignment["dns"]>;

/** The address of a resolver given as "ip", "ip:port", "[ipv6]" or "[ipv6]:port"; undefined if none. */
export function resolverAddress(server: string): string | undefined {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(server);
  if (bracketed?.[1]) return isIP(bracketed[1]) ? bracketed[1] : undefined;
  if (isIP(server)) return server;
  const withPort = /^([^:]+):\d+$/.exec(server);
  return withPort?.[1] && isIP(withPort[1]) === 4 ? withPort[1] : undefined;
}

async function query(resolver: Resolver, settings: DnsSettings): Promise<string[]> {
  switch (settings.type) {
    case "A":
      return resolver.resolve4(settings.name);
    case "AAAA":
      return resolver.resolve6(settings.name);
    case "CNAME":
      return resolver.resolveCname(settings.name);
    case "NS":
      return resolver.resolveNs(settings.name);
    case "MX":
      return (await resolver.resolveMx(settings.name)).map((mx) => mx.exchange);
    case "TXT":
      // A TXT record may come in several strings; they make one value.
      return (await resolver.resolveTxt(settings.name)).map((parts) => parts.join(""));
  }
}

/**
 * A DNS check: one lookup of a name and record type, through the system's resolvers or the one the check
 * names. The name is judged by the rules by name (it is looked up, not connected to), and a named resolver
 * by its address, since that is what the query goes to.
 */
export async function runDns(
  settings: DnsSettings,
  timeoutMs: number,
  ctx: RunContext,
): Promise<Observation> {
  const refusedName = ctx.rules.refusalByName(settings.name);
  if (refusedName) return { refused: refusedName };
  const resolver = new Resolver({ timeout: Math.max(1, timeoutMs), tries: 1 });
  if (settings.server) {
    const address = resolverAddress(settings.server);
    if (!address) return { error: `the resolver "${settings.server}" is not an ip or ip:port` };
    const refusedServer = ctx.rules.refusal(address, [address]);
    if (refusedServer) return { refused: `resolver: ${refusedServer}` };
    try {
      resolver.setServers([settings.server]);
    } catch (error) {
      return failureOf(error);
    }
  }
  const { signal, done } = deadline(timeoutMs, ctx.signal);
  const started = performance.now();
  try {
    const values = await new Promise<string[]>((resolve, reject) => {
      const onAbort = () => {
        resolver.cancel();
        reject(abortReason(signal));
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      query(resolver, settings).then(resolve, reject);
    });
    return { ms: performance.now() - started, dns: { values } };
  } catch (error) {
    if (signal.aborted) return failureOf(abortReason(signal));
    const code = (error as { code?: string }).code;
    if (code === "ETIMEOUT") return { error: "timed out" };
    // "ENOTFOUND example.invalid", "ENODATA example.com": the code and the name, as dig users read them.
    if (code) return { error: `${code} ${settings.name}`.slice(0, 1024) };
    return failureOf(error);
  } finally {
    done();
  }
}
