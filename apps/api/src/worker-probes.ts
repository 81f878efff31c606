/**
 * How the Worker reaches check targets: fetch for HTTP and `cloudflare:sockets` for TCP. Workers expose
 * no peer certificates and no DNS answers, so TLS checks are reported as unsupported here (run them from
 * the self-hosted scheduler or a probe) and only literal addresses are vetted; Cloudflare itself refuses
 * to connect to private ranges from its edge. Literals are vetted again here, as each connection is
 * opened, because workerd outside Cloudflare's edge (local development, tests, self-run) reaches them.
 */
import { connect } from "cloudflare:sockets";
import { fetchHttpProbe, type ProbeRunner, refusedLiteral } from "@vigil/engine";

function assertReachable(host: string, allowPrivate: boolean): void {
  const refusal = refusedLiteral(host, allowPrivate);
  if (refusal) throw new Error(refusal);
}

export function workerProbes(allowPrivate: boolean): ProbeRunner {
  return {
    async http(req) {
      assertReachable(new URL(req.url).hostname, allowPrivate);
      return fetchHttpProbe(req);
    },
    async tcp(host, port, timeoutMs) {
      assertReachable(host, allowPrivate);
      const started = performance.now();
      const socket = connect({ hostname: host, port });
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("timed out")), timeoutMs);
      });
      try {
        await Promise.race([socket.opened, timeout]);
        return { ms: performance.now() - started };
      } finally {
        clearTimeout(timer);
        await socket.close().catch(() => {});
      }
    },
  };
}
