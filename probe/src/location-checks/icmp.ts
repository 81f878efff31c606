import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { runBounded } from "../platform/run-bounded.ts";
import { failureOf, type Observation, type RunContext } from "./observation.ts";

const PINGS = 3;

/**
 * Whether `ping` can be used here: one echo to 127.0.0.1 must come back. Unprivileged ping needs either
 * the binary's capability or the kernel's ping_group_range; a hardened unit may have neither.
 */
export async function pingUsable(ping = "ping"): Promise<{ usable: boolean; detail: string }> {
  const run = await runBounded([ping, "-n", "-c", "1", "-W", "1", "127.0.0.1"], {
    env: process.env,
    timeoutMs: 5_000,
    killGraceMs: 500,
  });
  if (run.exitCode === 0) return { usable: true, detail: `${ping} answers` };
  if (run.spawnError) return { usable: false, detail: `${ping} not found (${run.spawnError.message})` };
  const why = run.tail.trim().split("\n").pop() || `exit ${run.exitCode ?? run.signal}`;
  return { usable: false, detail: `${ping} -c 1 127.0.0.1 failed: ${why}` };
}

/** Sent and received counts and the average round trip from iputils' or busybox's summary. */
export function parsePingSummary(
  text: string,
): { sent: number; received: number; avgMs?: number } | undefined {
  const counts = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(text);
  if (!counts) return undefined;
  const summary: { sent: number; received: number; avgMs?: number } = {
    sent: Number(counts[1]),
    received: Number(counts[2]),
  };
  // iputils: "rtt min/avg/max/mdev = 0.02/0.03/0.04/0.01 ms"; busybox: "round-trip min/avg/max = …"
  const rtt = /min\/avg\/max(?:\/[a-z]+)? = [\d.]+\/([\d.]+)\//.exec(text);
  if (rtt) summary.avgMs = Number(rtt[1]);
  return summary;
}

/**
 * An ICMP check: three echoes 0.2 s apart, each waited for up to the timeout (whole seconds, at least 1).
 * The host is resolved here and judged by name and address, and ping is handed the address, so it cannot
 * resolve the name to something else. `ms` is the average round trip.
 */
export async function runIcmp(host: string, timeoutMs: number, ctx: RunContext): Promise<Observation> {
  if (!ctx.pingUsable) return { error: "ping is not available on this host" };
  const verdict = ctx.rules.judgeName(host);
  if ("refused" in verdict) return { refused: verdict.refused };
  const bare = host.replace(/^\[(.*)\]$/, "$1");
  let address: string;
  try {
    if (isIP(bare)) address = bare;
    else {
      const found = await lookup(bare, { all: true });
      const refused = ctx.rules.refusal(
        bare,
        found.map((a) => a.address),
      );
      if (refused) return { refused };
      const first = found[0];
      if (!first) return { error: `ENOTFOUND ${bare}` };
      address = first.address;
    }
  } catch (error) {
    const code = (error as { code?: string }).code;
    return code ? { error: `${code} ${bare}` } : failureOf(error);
  }
  const waitSec = Math.max(1, Math.ceil(timeoutMs / 1000));
  // Older pings need -6 for an IPv6 address; an IPv4 one needs nothing.
  const family = isIP(address) === 6 ? ["-6"] : [];
  const run = await runBounded(
    [ctx.ping ?? "ping", ...family, "-n", "-c", String(PINGS), "-i", "0.2", "-W", String(waitSec), address],
    {
      env: process.env,
      // The echoes take 0.4 s apart, then ping waits up to -W for the last replies.
      timeoutMs: waitSec * 1000 + 3_000,
      killGraceMs: 500,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    },
  );
  if (run.spawnError) return { error: `ping did not start: ${run.spawnError.message}` };
  if (run.stopped) return { error: "stopped" };
  const summary = parsePingSummary(run.stdout);
  if (!summary) {
    if (run.timedOut) return { error: "timed out" };
    const why = run.tail.trim().split("\n").pop() || `ping exited with ${run.exitCode ?? run.signal}`;
    return { error: why.slice(0, 1024) };
  }
  const observation: Observation = { icmp: { sent: summary.sent, received: summary.received } };
  if (summary.received > 0 && summary.avgMs !== undefined) observation.ms = summary.avgMs;
  return observation;
}
