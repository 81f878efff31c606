import { connect } from "node:net";
import { abortReason, deadline, failureOf, type Observation, type RunContext } from "./observation.ts";

/**
 * A TCP check: connect to host:port and report the time to connect. The host is judged by name (an IP
 * literal by address) before, and every address it resolves to by the socket's lookup hook.
 */
export async function runTcp(
  host: string,
  port: number,
  timeoutMs: number,
  ctx: RunContext,
): Promise<Observation> {
  const verdict = ctx.rules.judgeName(host);
  if ("refused" in verdict) return { refused: verdict.refused };
  const { signal, done } = deadline(timeoutMs, ctx.signal);
  try {
    const ms = await new Promise<number>((resolve, reject) => {
      if (signal.aborted) return reject(abortReason(signal));
      const started = performance.now();
      const socket = connect({ host: host.replace(/^\[(.*)\]$/, "$1"), port, lookup: ctx.rules.lookup });
      const onAbort = () => socket.destroy(abortReason(signal));
      signal.addEventListener("abort", onAbort, { once: true });
      socket.once("connect", () => {
        const elapsed = performance.now() - started;
        signal.removeEventListener("abort", onAbort);
        socket.destroy();
        resolve(elapsed);
      });
      socket.once("error", (error) => {
        signal.removeEventListener("abort", onAbort);
        reject(signal.aborted ? abortReason(signal) : error);
      });
    });
    return { ms };
  } catch (error) {
    return failureOf(error);
  } finally {
    done();
  }
}
