/**
 * What the database does for each request: a TCP relay in front of a local sqld that counts the HTTP
 * requests (Hrana pipelines: one per round trip from the app) and bytes each way, beside sqld's own CPU
 * time from /proc. Dividing the change over a load round by the requests the app answered gives the cost
 * of one ping, batch or tick in database round trips and sqld CPU milliseconds — the figures the capacity
 * plan (docs/capacity.md) is built on. Linux only (/proc), as the benches are.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { connect, createServer, type Socket } from "node:net";
import type { Sqld } from "@vigil/api/scripts/sqld.ts";

export interface DbCounters {
  /** HTTP requests the app sent to sqld (each is one round trip) */
  requests: number;
  bytesToDb: number;
  bytesFromDb: number;
  /** user + system CPU time sqld has used since it started */
  cpuMs: number;
}

export interface DbMeter {
  /** point the app here instead of at sqld */
  url: string;
  read(): DbCounters;
  stop(): Promise<void>;
}

const ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;

function cpuMsOf(pid: number): number {
  // /proc/<pid>/stat: the command name may hold spaces, so count fields after its closing parenthesis.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) / ticksPerSecond) * 1000;
}

/**
 * Counts request lines in the client-to-sqld stream. A keep-alive connection sends the next request right
 * after the previous body (no line break between), so the line is found by its own shape. A line split
 * across two chunks is counted once: the kept tail (15 characters) is shorter than the shortest request
 * line ("GET / HTTP/1.1\r\n"), so it never holds one that was counted already.
 */
function requestCounter() {
  let tail = "";
  return (chunk: Buffer): number => {
    const text = tail + chunk.toString("latin1");
    tail = text.slice(-15);
    return text.match(/(POST|GET) \/\S* HTTP\/1\.1\r\n/g)?.length ?? 0;
  };
}

export async function meterSqld(sqld: Sqld): Promise<DbMeter> {
  const pid = sqld.process.pid;
  if (pid === undefined) throw new Error("sqld has no process id");
  const target = new URL(sqld.url);
  const counters = { requests: 0, bytesToDb: 0, bytesFromDb: 0 };
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    const count = requestCounter();
    sockets.add(client).add(upstream);
    client.on("data", (chunk: Buffer) => {
      counters.requests += count(chunk);
      counters.bytesToDb += chunk.length;
    });
    upstream.on("data", (chunk: Buffer) => {
      counters.bytesFromDb += chunk.length;
    });
    client.pipe(upstream).pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("error", close).on("close", close);
    upstream.on("error", close).on("close", close);
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    read: () => ({ ...counters, cpuMs: cpuMsOf(pid) }),
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((ok) => server.close(ok));
    },
  };
}

/** The change between two readings, per operation. */
export function perOperation(before: DbCounters, after: DbCounters, operations: number): DbCounters {
  const per = (k: keyof DbCounters) => (operations > 0 ? (after[k] - before[k]) / operations : 0);
  return {
    requests: per("requests"),
    bytesToDb: per("bytesToDb"),
    bytesFromDb: per("bytesFromDb"),
    cpuMs: per("cpuMs"),
  };
}
