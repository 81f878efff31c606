/**
 * The self-hosted runtime's way to reach check targets: fetch for HTTP, node:net for TCP, node:tls for
 * certificates (which only Node exposes), node:dns to vet the addresses a name resolves to.
 */
import { lookup } from "node:dns/promises";
import { isIP, connect as netConnect } from "node:net";
import { rootCertificates, connect as tlsConnect } from "node:tls";
import type { ProbeRunner } from "../checks/probes.ts";

/** Keyword checks read at most this much of a body. */
const MAX_BODY_BYTES = 1024 * 1024;

export interface NodeProbeOptions {
  /** extra trust anchors (PEM) for TLS checks, on top of Node's bundled roots: private CAs, tests */
  ca?: string[];
}

async function readCapped(res: Response, limit: number): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let size = 0;
  while (size < limit) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    text += decoder.decode(value, { stream: true });
  }
  await reader.cancel().catch(() => {});
  return text + decoder.decode();
}

export function nodeProbes(options: NodeProbeOptions = {}): ProbeRunner {
  const ca = options.ca?.length ? [...rootCertificates, ...options.ca] : undefined;
  return {
    async http(req) {
      const started = performance.now();
      // The signal also bounds reading the body, so a target that trickles cannot hold a run open.
      const res = await fetch(req.url, {
        method: req.method,
        headers: { "user-agent": "Vigil uptime check", ...req.headers },
        body: req.body,
        redirect: "manual",
        signal: AbortSignal.timeout(Math.ceil(req.timeoutMs)),
      });
      const text = req.readBody ? await readCapped(res, MAX_BODY_BYTES) : null;
      if (!req.readBody) await res.body?.cancel().catch(() => {});
      return {
        status: res.status,
        location: res.headers.get("location"),
        text,
        ms: performance.now() - started,
      };
    },

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
