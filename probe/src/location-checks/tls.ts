import { isIP } from "node:net";
import { connect } from "node:tls";
import { abortReason, deadline, failureOf, type Observation, type RunContext } from "./observation.ts";

/**
 * A TLS check: a handshake with host:port, unverified on purpose, so that an untrusted or expired
 * certificate is reported (authorized false, the reason, its notAfter) rather than failing the run. `ms` is
 * the time from the start to the end of the handshake. Targets are judged as for TCP.
 */
export async function runTls(
  host: string,
  port: number,
  timeoutMs: number,
  ctx: RunContext,
): Promise<Observation> {
  const verdict = ctx.rules.judgeName(host);
  if ("refused" in verdict) return { refused: verdict.refused };
  const bare = host.replace(/^\[(.*)\]$/, "$1");
  const { signal, done } = deadline(timeoutMs, ctx.signal);
  try {
    return await new Promise<Observation>((resolve, reject) => {
      if (signal.aborted) return reject(abortReason(signal));
      const started = performance.now();
      const socket = connect({
        host: bare,
        port,
        // SNI carries names only; an IP literal gets none.
        ...(isIP(bare) ? {} : { servername: bare }),
        rejectUnauthorized: false,
        lookup: ctx.rules.lookup,
      });
      const onAbort = () => socket.destroy(abortReason(signal));
      signal.addEventListener("abort", onAbort, { once: true });
      socket.once("secureConnect", () => {
        const ms = performance.now() - started;
        signal.removeEventListener("abort", onAbort);
        const certificate = socket.getPeerCertificate();
        const authorized = socket.authorized;
        const reason = socket.authorizationError;
        socket.destroy();
        const validTo = certificate?.valid_to ? Date.parse(certificate.valid_to) : Number.NaN;
        if (!Number.isFinite(validTo)) return resolve({ ms, error: "the server sent no certificate" });
        resolve({
          ms,
          tls: {
            validTo,
            authorized,
            ...(reason ? { authorizationError: String(reason).slice(0, 512) } : {}),
          },
        });
      });
      socket.once("error", (error) => {
        signal.removeEventListener("abort", onAbort);
        reject(signal.aborted ? abortReason(signal) : error);
      });
    });
  } catch (error) {
    return failureOf(error);
  } finally {
    done();
  }
}
