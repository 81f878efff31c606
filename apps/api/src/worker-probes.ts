/**
 * How the Worker reaches check targets: fetch for HTTP and `cloudflare:sockets` for TCP. Workers expose
 * no peer certificates and no DNS answers, so TLS checks are reported as unsupported here (run them from
 * the self-hosted scheduler or a probe) and only literal addresses are vetted; Cloudflare itself refuses
 * to connect to private ranges from its edge.
 */
import { connect } from "cloudflare:sockets";
import { fetchHttpProbe, type ProbeRunner } from "@vigil/engine";

export const workerProbes: ProbeRunner = {
  http: fetchHttpProbe,
  async tcp(host, port, timeoutMs) {
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
