/**
 * The self-hosted runtime's way to reach check targets: fetch for HTTP, node:net for TCP, node:tls for
 * certificates (which only Node exposes), node:dns to vet the addresses a name resolves to.
 */
import { lookup } from "node:dns/promises";
import { isIP, connect as netConnect } from "node:net";
import { rootCertificates, connect as tlsConnect } from "node:tls";
import { fetchHttpProbe } from "../checks/fetch-probe.ts";
import type { ProbeRunner } from "../checks/probes.ts";

export interface NodeProbeOptions {
  /** extra trust anchors (PEM) for TLS checks, on top of Node's bundled roots: private CAs, tests */
  ca?: string[];
}

export function nodeProbes(options: NodeProbeOptions = {}): ProbeRunner {
  const ca = options.ca?.length ? [...rootCertificates, ...options.ca] : undefined;
  return {
    http: fetchHttpProbe,

    tcp(host, port, timeoutMs) {
      return new Promise((resolve, reject) => {
        const started = performance.now();
        const socket = netConnect({ host, port });
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
