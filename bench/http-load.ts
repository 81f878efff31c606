/**
 * A closed-loop HTTP load generator for the benches: `clients` keep-alive connections, each sending its
 * next request as soon as the previous one is answered, for `durationMs`. Answers are counted by status,
 * so a bench can report 409s and 5xxs beside the rate, and every latency is kept for percentiles.
 */
import { Agent, request } from "node:http";

export interface LoadRequest {
  path: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface LoadReport {
  requests: number;
  perSec: number;
  /** answers by status code; 0 counts connection errors */
  byStatus: Map<number, number>;
  /** sorted, in ms */
  latencies: number[];
  /** the requests answered 2xx, in the order they were answered */
  accepted: LoadRequest[];
}

const REQUEST_TIMEOUT_MS = 30_000;

/** `next(client, n)` gives the n-th request overall, sent by client number `client`. */
export async function drive(
  base: string,
  clients: number,
  durationMs: number,
  next: (client: number, n: number) => LoadRequest,
): Promise<LoadReport> {
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const { hostname, port } = new URL(base);
  const byStatus = new Map<number, number>();
  const latencies: number[] = [];
  const accepted: LoadRequest[] = [];
  let n = 0;
  const count = (status: number) => byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
  const one = (client: number) =>
    new Promise<void>((done) => {
      const spec = next(client, n++);
      const started = performance.now();
      const headers = { ...spec.headers };
      if (spec.body !== undefined) headers["content-length"] = String(Buffer.byteLength(spec.body));
      const req = request(
        { agent, hostname, port, path: spec.path, method: spec.method ?? "GET", headers },
        (res) => {
          res.resume();
          res.on("end", () => {
            const status = res.statusCode ?? 0;
            count(status);
            latencies.push(performance.now() - started);
            if (status >= 200 && status < 300) accepted.push(spec);
            done();
          });
        },
      );
      // A request that hangs counts as a connection error instead of stalling its client for good.
      req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error("timed out")));
      req.on("error", () => {
        count(0);
        done();
      });
      req.end(spec.body);
    });
  const started = performance.now();
  const deadline = started + durationMs;
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      while (performance.now() < deadline) await one(client);
    }),
  );
  const ms = performance.now() - started;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    perSec: (latencies.length / ms) * 1000,
    byStatus,
    latencies,
    accepted,
  };
}

/** The p-th percentile (0–1) of sorted values; 0 for none. */
export const percentile = (sorted: readonly number[], p: number): number =>
  sorted.length ? (sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0) : 0;

/** How many answers fell in a status range, e.g. (500, 599). */
export function answered(report: LoadReport, from: number, to: number): number {
  let total = 0;
  for (const [status, n] of report.byStatus) if (status >= from && status <= to) total += n;
  return total;
}
