/**
 * The self-hosted runtime's way to reach check targets and alert receivers: fetch for HTTP, node:net for
 * TCP, node:tls for certificates (which only Node exposes), node:dns to vet the addresses a name resolves to.
 *
 * Private addresses are refused twice: before a run, by name (`refusedTarget`), and again as each connection
 * is made, by the address it is made to (`guardedLookup`). The second closes DNS rebinding: a name that
 * resolved to a public address for the first check and to 127.0.0.1 for the connection is still refused.
 */
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { lookup } from "node:dns/promises";
import { isIP, type LookupFunction, connect as netConnect } from "node:net";
import { rootCertificates, connect as tlsConnect } from "node:tls";
import { Agent } from "undici";
import { fetchHttpProbe } from "../checks/fetch-probe.ts";
import { isPrivateAddress, type ProbeRunner } from "../checks/probes.ts";

export interface NodeProbeOptions {
  /** extra trust anchors (PEM) for TLS checks, on top of Node's bundled roots: private CAs, tests */
  ca?: string[];
  /** let connections reach private, loopback and link-local addresses (VIGIL_ALLOW_PRIVATE_TARGETS) */
  allowPrivate?: boolean;
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
        const refusal = Object.assign(
          new Error(`refused: ${hostname} resolves to a private, loopback or link-local address`),
          { code: "EPRIVATEADDRESS" },
        );
        callback(refusal, "", 0);
        return;
      }
      if (options.all) (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      else callback(null, first.address, first.family);
    });
  };
}

/**
 * `fetch` whose connections go through `guardedLookup`. One connection pool per call of this function:
 * make it once per process.
 */
export function guardedFetch(allowPrivate: boolean): typeof fetch {
  const dispatcher = new Agent({ connect: { lookup: guardedLookup(allowPrivate) } });
  return (input, init) => fetch(input, { ...init, dispatcher } as RequestInit);
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

    async resolve(hostname) {
      return (await lookup(hostname, { all: true })).map((a) => a.address);
    },
  };
}
