/**
 * The self-hosted runtime's way to reach check targets and alert receivers: fetch for HTTP, node:net for
 * TCP, node:tls for certificates (which only Node exposes), node:dns to vet the addresses a name resolves to.
 *
 * Private addresses are refused twice: before a run, by name (`refusedTarget`), and again as each connection
 * is made, by the address it is made to (`guardedLookup`). The second closes DNS rebinding: a name that
 * resolved to a public address for the first check and to 127.0.0.1 for the connection is still refused.
 * Node and undici skip the lookup for IP literals, so those are vetted where the connection is opened
 * (`refusedConnect`), whoever asked for it.
 */
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { lookup, Resolver } from "node:dns/promises";
import { isIP, type LookupFunction, connect as netConnect } from "node:net";
import { rootCertificates, connect as tlsConnect } from "node:tls";
import { Agent, buildConnector, fetch as undiciFetch } from "undici";
import { isPrivateAddress, refusedLiteral } from "../checks/addresses.ts";
import { fetchHttpProbe } from "../checks/fetch-probe.ts";
import type { DnsProbeRequest, ProbeRunner } from "../checks/probes.ts";

export interface NodeProbeOptions {
  /** extra trust anchors (PEM) for TLS checks, on top of Node's bundled roots: private CAs, tests */
  ca?: string[];
  /** let connections reach private, loopback and link-local addresses (VIGIL_ALLOW_PRIVATE_TARGETS) */
  allowPrivate?: boolean;
}

/** The error a refused connection fails with; `code` lets callers tell it from network failures. */
function privateAddressError(message: string): Error {
  return Object.assign(new Error(message), { code: "EPRIVATEADDRESS" });
}

/** An error when `host` is a private IP literal that may not be reached, else null (names go to the lookup). */
function refusedConnect(host: string, allowPrivate: boolean): Error | null {
  const refusal = refusedLiteral(host, allowPrivate);
  return refusal ? privateAddressError(refusal) : null;
}

/** `dns.lookup` for net/tls/undici connections that fails for private addresses unless they are allowed. */
export function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, found) => {
      const addresses = (found ?? []) as LookupAddress[];
      const first = addresses[0];
      if (err || !first) {
        callback(err ?? Object.assign(new Error(`cannot resolve ${hostname}`), { code: "ENOTFOUND" }), "", 0);
        return;
      }
      if (!allowPrivate && addresses.some((a) => isPrivateAddress(a.address))) {
        const refusal = `refused: ${hostname} resolves to a private, loopback or link-local address`;
        callback(privateAddressError(refusal), "", 0);
        return;
      }
      if (options.all) (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      else callback(null, first.address, first.family);
    });
  };
}

/**
 * undici's own `fetch` whose connections go through `guardedLookup`, and literals through `refusedConnect`.
 * undici's fetch with undici's Agent: Node's global fetch bundles another undici copy, and newer Node
 * releases refuse a dispatcher from a different copy. One connection pool per call of this function:
 * make it once per process.
 */
export function guardedFetch(allowPrivate: boolean): typeof fetch {
  const connect = buildConnector({ lookup: guardedLookup(allowPrivate) });
  const dispatcher = new Agent({
    connect(options, callback) {
      const refused = refusedConnect(options.hostname, allowPrivate);
      if (refused) callback(refused, null);
      else connect(options, callback);
    },
  });
  return ((input: Parameters<typeof undiciFetch>[0], init?: Parameters<typeof undiciFetch>[1]) =>
    undiciFetch(input, { ...init, dispatcher })) as unknown as typeof fetch;
}

export function nodeProbes(options: NodeProbeOptions = {}): ProbeRunner {
  const ca = options.ca?.length ? [...rootCertificates, ...options.ca] : undefined;
  const allowPrivate = options.allowPrivate ?? false;
  const connectLookup = guardedLookup(allowPrivate);
  const guarded = guardedFetch(allowPrivate);
  return {
    http: (req) => fetchHttpProbe(req, guarded),

    tcp(host, port, timeoutMs) {
      return new Promise((resolve, reject) => {
        const refused = refusedConnect(host, allowPrivate);
        if (refused) return reject(refused);
        const started = performance.now();
        const socket = netConnect({ host, port, lookup: connectLookup });
        socket.setTimeout(timeoutMs, () => {
          socket.destroy();
          reject(new Error("timed out"));
        });
        socket.once("connect", () => {
          const ms = performance.now() - started;
          socket.destroy();
          resolve({ ms });
        });
        socket.once("error", (err) => reject(err));
      });
    },

    tls(host, port, timeoutMs) {
      return new Promise((resolve, reject) => {
        const refused = refusedConnect(host, allowPrivate);
        if (refused) return reject(refused);
        const started = performance.now();
        // Unverified on purpose: an untrusted certificate is reported (authorized: false), not a crash.
        const socket = tlsConnect({
          host,
          port,
          ...(isIP(host) ? {} : { servername: host }),
          rejectUnauthorized: false,
          lookup: connectLookup,
          ...(ca ? { ca } : {}),
        });
        socket.setTimeout(timeoutMs, () => {
          socket.destroy();
          reject(new Error("timed out"));
        });
        socket.once("secureConnect", () => {
          const cert = socket.getPeerCertificate();
          const ms = performance.now() - started;
          socket.destroy();
          if (!cert?.valid_to) return reject(new Error("the server sent no certificate"));
          resolve({
            validTo: Date.parse(cert.valid_to),
            authorized: socket.authorized,
            authorizationError: socket.authorizationError ? String(socket.authorizationError) : null,
            ms,
          });
        });
        socket.once("error", (err) => reject(err));
      });
    },

    dns: lookupRecords,

    async resolve(hostname) {
      return (await lookup(hostname, { all: true })).map((a) => a.address);
    },
  };
}

/** One DNS lookup of a DNS check, through the system's resolvers or the one the check names. */
async function lookupRecords(req: DnsProbeRequest): Promise<{ values: string[]; ms: number }> {
  const resolver = new Resolver({ timeout: req.timeoutMs, tries: 1 });
  if (req.server) resolver.setServers([req.server]);
  const started = performance.now();
  const values = await (async (): Promise<string[]> => {
    switch (req.type) {
      case "A":
        return resolver.resolve4(req.name);
      case "AAAA":
        return resolver.resolve6(req.name);
      case "CNAME":
        return resolver.resolveCname(req.name);
      case "NS":
        return resolver.resolveNs(req.name);
      case "MX":
        return (await resolver.resolveMx(req.name)).map((mx) => mx.exchange);
      case "TXT":
        return (await resolver.resolveTxt(req.name)).map((chunks) => chunks.join(""));
    }
  })();
  return { values, ms: performance.now() - started };
}
