import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import { type ProbeBatchV1, probeBatchV1Schema } from "@vigil/contract";
import { afterEach, describe, expect, it } from "vitest";
import type { Collection } from "../src/collect.ts";
import { Delivery } from "../src/delivery.ts";
import { Spool } from "../src/spool.ts";
import { parseRetryAfter, sendBatch } from "../src/transport.ts";
import { defined, temporaryDirectory } from "./helpers.ts";

type Behaviour =
  | "ok"
  | "queued"
  | "fail"
  | "reset"
  | "store-then-reset"
  | "throttle"
  | "unauthorized"
  | "reject";

/** Sample times are written as small offsets from T0: the server takes times from the year 2000 on only. */
const T0 = 1_795_000_000_000;

/**
 * A stand-in for the ingest endpoint on 127.0.0.1: validates with the real contract, stores each batchId once,
 * answers 413 for batches with more than `maxSamples` samples, and plays scripted misbehaviour first.
 */
class IngestServer {
  readonly stored = new Map<string, ProbeBatchV1>();
  readonly requests: string[] = [];
  resentAfterStored = 0;
  script: Behaviour[] = [];
  maxSamples = Number.POSITIVE_INFINITY;
  private server: Server | undefined;
  url = "";

  async start(port = 0): Promise<void> {
    const server = createServer((req, res) => void this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  get port(): number {
    return Number(new URL(this.url).port);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = gunzipSync(Buffer.concat(chunks));
    const tooLarge = (JSON.parse(body.toString("utf8")) as ProbeBatchV1).samples.length > this.maxSamples;
    const behaviour = tooLarge ? "ok" : (this.script.shift() ?? "ok");
    if (req.headers.authorization !== "Bearer host-token" || behaviour === "unauthorized") {
      res.writeHead(401, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ error: { code: "UNAUTHORIZED", message: "bad token", requestId: "r1" } }));
      return;
    }
    expect(req.headers["content-encoding"]).toBe("gzip");
    const batch = probeBatchV1Schema.parse(JSON.parse(body.toString("utf8")));
    this.requests.push(batch.batchId);
    if (this.stored.has(batch.batchId)) this.resentAfterStored++;
    if (behaviour === "fail") return void res.writeHead(500).end("{}");
    if (behaviour === "reset") return void req.socket.destroy();
    if (behaviour === "throttle") return void res.writeHead(429, { "Retry-After": "7" }).end();
    if (behaviour === "reject") {
      res.writeHead(400, { "Content-Type": "application/json" });
      res.end(
        JSON.stringify({
          error: { code: "VALIDATION_FAILED", message: "samples.0.ts: bad", requestId: "r2" },
        }),
      );
      return;
    }
    if (tooLarge) return void res.writeHead(413).end();
    const duplicate = this.stored.has(batch.batchId);
    if (!duplicate) this.stored.set(batch.batchId, batch);
    if (behaviour === "store-then-reset") return void req.socket.destroy();
    // "queued": a Worker with an ingest queue answers 202 once the batch is in the queue.
    res.writeHead(behaviour === "queued" ? 202 : 200, { "Content-Type": "application/json" });
    res.end(
      JSON.stringify({
        batchId: batch.batchId,
        accepted: true,
        duplicate: behaviour === "queued" ? false : duplicate,
        ...(behaviour === "queued" ? { queued: true } : {}),
        config: { intervalSec: 60, journal: { minPriority: 3, units: ["web.service"] } },
      }),
    );
  }

  /** sample times as the test wrote them: offsets from T0 */
  storedSampleTimes(): number[] {
    return [...this.stored.values()].flatMap((batch) => batch.samples.map((sample) => sample.ts - T0));
  }
}

const servers: IngestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

async function startServer(): Promise<IngestServer> {
  const server = new IngestServer();
  servers.push(server);
  await server.start();
  return server;
}

function collectionWithSamples(times: number[]): Collection {
  return {
    samples: times.map((ts) => ({ ts: T0 + ts, load1: 0.5 })),
    logs: [{ ts: T0 + (times[0] ?? 0), priority: 3, message: "m" }],
  };
}

/** The probe's side with a fake clock and a sleep that only records how long it was asked to wait. */
async function probe(server: IngestServer, spoolDir?: string, maxBytes?: number, rescanMs?: number) {
  let now = 1_795_800_000_000;
  const sleeps: number[] = [];
  const configs: unknown[] = [];
  const dir = spoolDir ?? (await temporaryDirectory());
  const clock = () => now;
  const spool = new Spool({
    dir,
    clock,
    ...(maxBytes ? { maxBytes } : {}),
    ...(rescanMs ? { rescanMs } : {}),
  });
  const delivery = new Delivery({
    spool,
    clock,
    send: (body) => sendBatch({ server: server.url, hostToken: "host-token", clock }, body),
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
    random: () => 0.5,
    onConfig: (config) => configs.push(config),
  });
  return { spool, delivery, sleeps, configs, dir, advance: (ms: number) => (now += ms) };
}

describe("spool and delivery", () => {
  it("delivers every sample exactly once through failures, throttling, 413 splits and lost responses", async () => {
    const server = await startServer();
    server.maxSamples = 2;
    server.script = ["fail", "reset", "store-then-reset", "throttle", "fail"];
    const { spool, delivery, sleeps, configs } = await probe(server);
    const expected: number[] = [];
    for (let batch = 0; batch < 6; batch++) {
      const times = [0, 1, 2, 3, 4].map((i) => 1_000 * (batch * 10 + i));
      expected.push(...times);
      await spool.add(collectionWithSamples(times));
    }

    await delivery.drainUntilEmpty();

    expect((await spool.list()).length).toBe(0);
    expect(server.storedSampleTimes().sort((a, b) => a - b)).toEqual(expected);
    // The batch stored before its response was lost went again with the same id (throttled, failed, then
    // answered as a duplicate) and was stored once.
    expect(server.resentAfterStored).toBe(3);
    // Exponential backoff with jitter (random() is fixed at 0.5 here), then the server's Retry-After.
    expect(sleeps).toEqual([750, 1_500, 3_000, 7_000, 12_000]);
    expect(configs.at(-1)).toEqual({ intervalSec: 60, journal: { minPriority: 3, units: ["web.service"] } });
  });

  it("takes a 202 (queued on the server) as delivered: the batch leaves the spool and is never sent again", async () => {
    const server = await startServer();
    server.script = ["queued", "queued"];
    const { spool, delivery, configs } = await probe(server);
    await spool.add(collectionWithSamples([0]));
    await spool.add(collectionWithSamples([1_000]));

    await delivery.drainUntilEmpty();

    expect((await spool.list()).length).toBe(0);
    expect(server.requests).toHaveLength(2);
    expect(new Set(server.requests).size).toBe(2);
    expect(configs).toHaveLength(2);
  });

  it("sends oldest first and keeps the order of split halves", async () => {
    const server = await startServer();
    server.maxSamples = 1;
    const { spool, delivery, advance } = await probe(server);
    await spool.add(collectionWithSamples([1, 2, 3]));
    advance(1);
    await spool.add(collectionWithSamples([4]));
    await delivery.drainUntilEmpty();
    expect(server.storedSampleTimes()).toEqual([1, 2, 3, 4]);
  });

  it("keeps batches on disk while the server is down and resumes after a restart", async () => {
    const server = await startServer();
    const port = server.port;
    await server.stop();
    const first = await probe(server);
    await first.spool.add(collectionWithSamples([10]));
    await first.spool.add(collectionWithSamples([20]));
    const result = await first.delivery.drain();
    expect(result.waitMs).toBeGreaterThan(0);
    expect(await first.spool.list()).toHaveLength(2);

    // A new process on the same spool directory, with the server back on the same port.
    await server.start(port);
    const restarted = await probe(server, first.dir);
    await restarted.delivery.drainUntilEmpty();
    expect(server.storedSampleTimes()).toEqual([10, 20]);
    expect(await restarted.spool.list()).toEqual([]);
  });

  it("sends a batch another process added to the spool once the directory is read again", async () => {
    const server = await startServer();
    const daemon = await probe(server, undefined, undefined, 60_000);
    expect(await daemon.spool.list()).toEqual([]);
    const backup = await probe(server, daemon.dir);
    await backup.spool.add(collectionWithSamples([7]));

    // The daemon trusts its in-memory index until the rescan is due.
    expect(await daemon.spool.list()).toEqual([]);
    daemon.advance(60_000);
    await daemon.delivery.drainUntilEmpty();
    expect(server.storedSampleTimes()).toEqual([7]);
    expect(await daemon.spool.list()).toEqual([]);
  });

  it("reads the spool directory again when the clock steps back", async () => {
    const server = await startServer();
    const daemon = await probe(server, undefined, undefined, 60_000);
    expect(await daemon.spool.list()).toEqual([]);
    await (await probe(server, daemon.dir)).spool.add(collectionWithSamples([8]));
    daemon.advance(-1_000);
    expect(await daemon.spool.list()).toHaveLength(1);
  });

  it("skips a batch another process sent meanwhile and sends the rest", async () => {
    const server = await startServer();
    const daemon = await probe(server);
    await daemon.spool.add(collectionWithSamples([1]));
    await daemon.spool.add(collectionWithSamples([2]));
    const other = await probe(server, daemon.dir);
    const [first] = await other.spool.list();
    await other.spool.remove(defined(first, "first batch"));

    await daemon.delivery.drainUntilEmpty();
    expect(server.storedSampleTimes()).toEqual([2]);
    expect(await daemon.spool.list()).toEqual([]);
  });

  it("drops the oldest batches when the spool is full and reports how many", async () => {
    const server = await startServer();
    const { spool, delivery, advance } = await probe(server, undefined, 2_000);
    for (let i = 0; i < 30; i++) {
      advance(1_000);
      await spool.add(collectionWithSamples([i]));
    }
    const remaining = await spool.list();
    expect(remaining.reduce((sum, e) => sum + e.bytes, 0)).toBeLessThanOrEqual(2_000);
    await delivery.drainUntilEmpty();
    const times = server.storedSampleTimes();
    expect(times.at(-1)).toBe(29);
    const droppedNotes = [...server.stored.values()].flatMap((b) =>
      b.notes.filter((n) => n.collector === "spool"),
    );
    const droppedTotal = droppedNotes.reduce((sum, note) => sum + (note.dropped ?? 0), 0);
    // Every sample is either delivered or counted as dropped; none vanish silently.
    expect(times.length + droppedTotal).toBe(30);
    expect(droppedTotal).toBeGreaterThan(0);
  });

  it("drops a batch the server rejects as invalid and says so in the next batch", async () => {
    const server = await startServer();
    server.script = ["reject"];
    const { spool, delivery } = await probe(server);
    await spool.add(collectionWithSamples([1]));
    await delivery.drainUntilEmpty();
    await spool.add(collectionWithSamples([2]));
    await delivery.drainUntilEmpty();
    expect(server.storedSampleTimes()).toEqual([2]);
    const [next] = server.stored.values();
    expect(next?.notes).toEqual([
      { collector: "transport", message: expect.stringContaining("VALIDATION_FAILED"), dropped: 1 },
    ]);
  });

  it("keeps the spool and waits long when the host token is refused", async () => {
    const server = await startServer();
    server.script = ["unauthorized"];
    const { spool, delivery } = await probe(server);
    await spool.add(collectionWithSamples([1]));
    expect(await delivery.drain()).toEqual({ sent: 0, waitMs: 300_000, reason: "unauthorized" });
    expect(await spool.list()).toHaveLength(1);
  });

  it("gives up on a single sample too large for the server and reports it", async () => {
    const server = await startServer();
    server.maxSamples = 0;
    const { spool, delivery } = await probe(server);
    await spool.add({ samples: [{ ts: T0 + 5 }] });
    await delivery.drainUntilEmpty();
    expect(await spool.list()).toEqual([]);
    server.maxSamples = 10;
    await spool.add(collectionWithSamples([6]));
    await delivery.drainUntilEmpty();
    const notes = [...server.stored.values()].flatMap((b) => b.notes);
    expect(notes).toEqual([expect.objectContaining({ collector: "transport", dropped: 1 })]);
  });
});

describe("Retry-After", () => {
  it("accepts seconds and HTTP dates", () => {
    expect(parseRetryAfter("120", 0)).toBe(120_000);
    expect(parseRetryAfter("Fri, 27 Nov 2026 10:00:30 GMT", Date.parse("2026-11-27T10:00:00Z"))).toBe(30_000);
    expect(parseRetryAfter("soon", 0)).toBeUndefined();
  });
});
