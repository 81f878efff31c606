import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createTcpServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { createServer as createTlsServer } from "node:tls";
import { createChannelRequestSchema, type NotificationPayloadV1 } from "@vigil/contract";
import { checkRuns, checks, flips, hosts } from "@vigil/db";
import { createProject, createTestDb } from "@vigil/db/testing";
import { startWebhookReceiver } from "@vigil/notify/testing";
import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  createChannel,
  createEngineState,
  dispatch,
  findCheckRow,
  type ProbeRunner,
  refusedTarget,
  type TickContext,
  tick,
} from "../src/index.ts";
import { guardedFetch, nodeProbes } from "../src/runners/node.ts";
import { createTestCheck, manualClock } from "../src/testing.ts";

const servers: Server[] = [];
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
  for (const s of servers.splice(0)) {
    (s as { closeAllConnections?: () => void }).closeAllConnections?.();
    await new Promise((done) => s.close(done));
  }
});

async function listen(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return (server.address() as { port: number }).port;
}

/** A real HTTP server on 127.0.0.1 that counts its requests. */
async function httpServer(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const hits: string[] = [];
  const server = createHttpServer((req, res) => {
    hits.push(req.url ?? "");
    handler(req, res);
  });
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}`, hits };
}

/** A port nothing listens on: bound, then released. */
async function deadPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address() as { port: number };
  await new Promise((ok) => server.close(ok));
  return port;
}

/**
 * One HTTP handler on loopback in both families (127.0.0.1 and ::1, one port), so that every spelling of
 * loopback would reach it if it were let through. Counts what it serves.
 */
async function loopbackServer(body: string) {
  const hits: string[] = [];
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    hits.push(req.url ?? "");
    res.end(body);
  };
  const port = await listen(createHttpServer(handler));
  const v6 = createHttpServer(handler);
  servers.push(v6);
  await new Promise<void>((ok) => v6.listen({ port, host: "::1", ipv6Only: true }, ok));
  return { port, hits };
}

/** A TCP listener on 127.0.0.1 and ::1 (one port) that counts the connections it accepts. */
async function loopbackTcp() {
  const accepted: string[] = [];
  const onConnection = (socket: Socket) => {
    accepted.push(socket.remoteAddress ?? "");
    socket.end();
  };
  const port = await listen(createTcpServer(onConnection));
  const v6 = createTcpServer(onConnection);
  servers.push(v6);
  await new Promise<void>((ok) => v6.listen({ port, host: "::1", ipv6Only: true }, ok));
  return { port, accepted };
}

/** Other ways to write 127.0.0.1 or ::1 in a URL host, as the URL parser leaves them. */
const loopbackSpellings = [
  "[::ffff:7f00:1]",
  "[0::1]",
  "[::0:1]",
  "[0:0:0:0:0:0:0:1]",
  "127.1",
  "2130706433",
];

async function setup(tickOptions: Partial<TickContext> = {}) {
  const db = await createTestDb();
  const clock = manualClock(Date.UTC(2026, 0, 10, 12));
  const project = await createProject(db);
  const allowPrivateTargets = tickOptions.allowPrivateTargets ?? true;
  const probes = nodeProbes({ allowPrivate: allowPrivateTargets });
  const ctx: TickContext = {
    db,
    clock,
    state: createEngineState(),
    probes,
    allowPrivateTargets,
    ...tickOptions,
  };
  const add = (input: Parameters<typeof createTestCheck>[3]) => createTestCheck(db, clock, project.id, input);
  const status = (checkId: string) => findCheckRow(db, project.id, checkId);
  /** one tick, then the clock moves to the next slot */
  const step = async () => {
    const report = await tick(ctx);
    clock.advance(60_000);
    return report;
  };
  const run = async (checkId: string) => {
    await step();
    return status(checkId);
  };
  const runsOf = (checkId: string) =>
    db.query.checkRuns.findMany({
      where: eq(checkRuns.checkId, checkId),
      orderBy: (r, { asc }) => [asc(r.id)],
    });
  const flipsOf = (checkId: string) =>
    db.query.flips.findMany({ where: eq(flips.subjectId, checkId), orderBy: (f, { asc }) => [asc(f.id)] });
  return { db, clock, project, ctx, add, run, step, status, runsOf, flipsOf };
}

describe("HTTP checks against a real local server", () => {
  it("are up when the status is expected, recording status and response time", async () => {
    const target = await httpServer((_req, res) => res.end("hello"));
    const { add, run, runsOf } = await setup();
    const check = await add({ kind: "http", name: "site", url: `${target.url}/` });
    expect((await run(check.id)).status).toBe("up");
    const [only] = await runsOf(check.id);
    expect(only).toMatchObject({ result: "up", httpStatus: 200, error: null });
    expect(only?.responseMs).toBeGreaterThanOrEqual(0);
  });

  it("confirm a failure only after N consecutive failed runs", async () => {
    const target = await httpServer((_req, res) => {
      res.statusCode = 503;
      res.end("maintenance");
    });
    const { add, run, flipsOf } = await setup();
    const check = await add({ kind: "http", name: "site", url: target.url, failuresToDown: 3 });
    expect((await run(check.id)).status).toBe("new");
    expect((await run(check.id)).status).toBe("new");
    const third = await run(check.id);
    expect(third.status).toBe("down");
    expect(third.lastError).toBe("HTTP 503, expected 200-299");
    expect((await flipsOf(check.id)).map((f) => f.cause)).toEqual([
      "HTTP 503, expected 200-299 (3 failed runs in a row)",
    ]);
  });

  it("catch a server that dies and need M good runs to recover", async () => {
    let alive = true;
    const target = await httpServer((req, res) => {
      if (alive) return res.end("ok");
      req.socket.destroy();
    });
    const { add, run, flipsOf } = await setup();
    const check = await add({ kind: "http", name: "site", url: target.url, successesToUp: 2 });
    // New checks also need M good runs before they count as up.
    await run(check.id);
    expect((await run(check.id)).status).toBe("up");
    alive = false;
    expect((await run(check.id)).status).toBe("up");
    expect((await run(check.id)).status).toBe("down");
    alive = true;
    expect((await run(check.id)).status).toBe("down");
    expect((await run(check.id)).status).toBe("up");
    expect((await flipsOf(check.id)).map((f) => `${f.fromStatus}→${f.toStatus}`)).toEqual([
      "new→up",
      "up→down",
      "down→up",
    ]);
  });

  it("accept the statuses they are told to expect", async () => {
    const target = await httpServer((_req, res) => {
      res.statusCode = 418;
      res.end();
    });
    const { add, run } = await setup();
    const check = await add({ kind: "http", name: "teapot", url: target.url, expectedStatus: ["400-499"] });
    expect((await run(check.id)).status).toBe("up");
  });

  it("look for a keyword that must be present or absent", async () => {
    const target = await httpServer((_req, res) => res.end("<h1>All systems operational</h1>"));
    const { add, step, status } = await setup();
    const once = { kind: "http", url: target.url, failuresToDown: 1 } as const;
    const present = await add({ ...once, name: "a", keyword: "operational" });
    const missing = await add({ ...once, name: "b", keyword: "Welcome" });
    const absent = await add({ ...once, name: "c", keyword: "error", keywordMode: "absent" });
    const forbidden = await add({ ...once, name: "d", keyword: "operational", keywordMode: "absent" });
    await step();
    expect(await status(present.id)).toMatchObject({ status: "up" });
    expect(await status(missing.id)).toMatchObject({
      status: "down",
      lastError: 'keyword "Welcome" not found',
    });
    expect(await status(absent.id)).toMatchObject({ status: "up" });
    expect(await status(forbidden.id)).toMatchObject({
      status: "down",
      lastError: 'keyword "operational" is present',
    });
  });

  it("follow redirects, or not when told", async () => {
    const target = await httpServer((req, res) => {
      if (req.url === "/old") {
        res.writeHead(302, { location: "/new" });
        return res.end();
      }
      res.end("new place");
    });
    const { add, step, status } = await setup();
    const follows = await add({ kind: "http", name: "a", url: `${target.url}/old`, failuresToDown: 1 });
    const stops = await add({
      kind: "http",
      name: "b",
      url: `${target.url}/old`,
      followRedirects: false,
      failuresToDown: 1,
    });
    const expects302 = await add({
      kind: "http",
      name: "c",
      url: `${target.url}/old`,
      followRedirects: false,
      expectedStatus: ["302"],
    });
    await step();
    expect(await status(follows.id)).toMatchObject({ status: "up" });
    expect(await status(stops.id)).toMatchObject({ status: "down", lastError: "HTTP 302, expected 200-299" });
    expect(await status(expects302.id)).toMatchObject({ status: "up" });
    expect(target.hits.filter((h) => h === "/new")).toHaveLength(1);
  });

  it("time out on a server that never answers", async () => {
    const target = await httpServer(() => {});
    const { add, step, status } = await setup();
    const check = await add({
      kind: "http",
      name: "slow",
      url: target.url,
      timeoutMs: 150,
      failuresToDown: 1,
    });
    await step();
    expect(await status(check.id)).toMatchObject({ status: "down", lastError: "timed out" });
  });

  it("are degraded when a good answer is slower than the limit", async () => {
    const target = await httpServer((_req, res) => setTimeout(() => res.end("ok"), 30));
    const { add, step, status } = await setup();
    const check = await add({ kind: "http", name: "slow", url: target.url, degradedAfterMs: 1 });
    await step();
    const row = await status(check.id);
    expect(row.status).toBe("degraded");
    expect(row.lastError).toMatch(/^response took \d+ ms \(limit 1 ms\)$/);
  });

  it("send the method, headers and body they are given", async () => {
    let seen = "";
    const target = await httpServer((req, res) => {
      let body = "";
      req.on("data", (c) => {
        body += c;
      });
      req.on("end", () => {
        seen = `${req.method} ${req.headers["x-token"]} ${body}`;
        res.end();
      });
    });
    const { add, step } = await setup();
    await add({
      kind: "http",
      name: "api",
      url: target.url,
      method: "POST",
      headers: { "x-token": "t1" },
      body: "{}",
    });
    await step();
    expect(seen).toBe("POST t1 {}");
  });
});

describe("private targets", () => {
  it("are refused unless the operator allows them, without sending anything", async () => {
    const target = await httpServer((_req, res) => res.end("ok"));
    const { add, step, status } = await setup({ allowPrivateTargets: false });
    const check = await add({ kind: "http", name: "internal", url: target.url, failuresToDown: 1 });
    const tcp = await add({
      kind: "tcp",
      name: "internal tcp",
      host: "127.0.0.1",
      port: 22,
      failuresToDown: 1,
    });
    await step();
    expect(await status(check.id)).toMatchObject({ status: "down" });
    expect((await status(check.id)).lastError).toMatch(
      /^refused: 127\.0\.0\.1 is a private, loopback or link-local address/,
    );
    expect((await status(tcp.id)).lastError).toMatch(/^refused/);
    expect(target.hits).toHaveLength(0);
  });

  it("are refused when a public target redirects to one", async () => {
    const runner: ProbeRunner = {
      http: async (req) =>
        req.url.startsWith("http://public.example/")
          ? { status: 302, location: "http://169.254.169.254/latest/meta-data", text: null, ms: 1 }
          : { status: 200, location: null, text: "secret", ms: 1 },
      tcp: async () => ({ ms: 1 }),
      resolve: async (host) => (host === "public.example" ? ["93.184.215.14"] : []),
    };
    const { add, step, status } = await setup({ allowPrivateTargets: false, probes: runner });
    const check = await add({ kind: "http", name: "x", url: "http://public.example/", failuresToDown: 1 });
    await step();
    expect((await status(check.id)).lastError).toMatch(/^refused: 169\.254\.169\.254/);
  });

  it("are refused again as the connection is made, so a name that turns private after the first look is caught (DNS rebinding)", async () => {
    const target = await httpServer((_req, res) => res.end("internal"));
    const port = new URL(target.url).port;
    const tcpPort = await listen(createTcpServer((socket) => socket.end()));
    // As if the first look had seen a public address: straight to the runner, which resolves "localhost" itself.
    const request = {
      url: `http://localhost:${port}/`,
      method: "GET",
      headers: {},
      body: null,
      timeoutMs: 2000,
      readBody: true,
    };
    const strict = nodeProbes({ allowPrivate: false });
    const refused = await strict.http(request).catch((err: Error & { cause?: Error }) => err.cause ?? err);
    expect(String(refused)).toMatch(/refused: localhost resolves to a private/);
    await expect(strict.tcp("localhost", tcpPort, 2000)).rejects.toThrow(/refused: localhost/);
    const webhook = await guardedFetch(false)(`http://localhost:${port}/`).catch(
      (err: Error & { cause?: Error }) => err.cause,
    );
    expect(String(webhook)).toMatch(/refused/);
    expect(target.hits).toEqual([]);

    const lenient = nodeProbes({ allowPrivate: true });
    expect(await lenient.http(request)).toMatchObject({ status: 200, text: "internal" });
    await expect(lenient.tcp("localhost", tcpPort, 2000)).resolves.toMatchObject({ ms: expect.any(Number) });
    expect((await guardedFetch(true)(`http://localhost:${port}/`)).status).toBe(200);
  });

  it("do not reach a listener on loopback through other spellings of its address, unless allowed", async () => {
    const target = await loopbackServer("internal secret");
    const strict = await setup({ allowPrivateTargets: false });
    const urls = loopbackSpellings.map((host) => `http://${host}:${target.port}/`);
    const checks = [];
    for (const url of urls) {
      checks.push(await strict.add({ kind: "http", name: url, url, keyword: "secret", failuresToDown: 1 }));
    }
    await strict.step();
    for (const check of checks) {
      expect((await strict.status(check.id)).lastError, check.name).toMatch(/^refused: /);
    }
    expect(target.hits).toEqual([]);

    // The runner refuses them too when asked directly: Node connects to literals without a lookup.
    const runner = nodeProbes({ allowPrivate: false });
    for (const url of urls) {
      const request = { url, method: "GET", headers: {}, body: null, timeoutMs: 2000, readBody: true };
      const failure = await runner.http(request).catch((err: Error & { cause?: Error }) => err.cause ?? err);
      expect(String(failure), url).toMatch(/refused/);
      const webhook = await guardedFetch(false)(url).catch((err: Error & { cause?: Error }) => err.cause);
      expect(String(webhook), url).toMatch(/refused/);
    }
    expect(target.hits).toEqual([]);

    const lenient = await setup({ allowPrivateTargets: true });
    const allowed = [];
    for (const url of urls)
      allowed.push(await lenient.add({ kind: "http", name: url, url, keyword: "secret" }));
    await lenient.step();
    for (const check of allowed) {
      expect(await lenient.status(check.id), check.name).toMatchObject({ status: "up", lastError: null });
    }
    expect(target.hits).toHaveLength(urls.length);
  });

  it("do not connect TCP or TLS checks to loopback through other spellings, unless allowed", async () => {
    const target = await loopbackTcp();
    const hosts = ["::ffff:7f00:1", "0::1", "::0:1", "0:0:0:0:0:0:0:1", "127.1", "2130706433"];
    const strict = await setup({ allowPrivateTargets: false });
    const checks = [];
    for (const host of hosts) {
      checks.push(await strict.add({ kind: "tcp", name: host, host, port: target.port, failuresToDown: 1 }));
      checks.push(await strict.add({ kind: "tls", name: host, host, port: target.port, failuresToDown: 1 }));
    }
    await strict.step();
    for (const check of checks) {
      expect((await strict.status(check.id)).lastError, check.name).toMatch(/^refused: /);
    }
    const runner = nodeProbes({ allowPrivate: false });
    for (const host of hosts) {
      await expect(runner.tcp(host, target.port, 2000), host).rejects.toThrow(/refused/);
      await expect(runner.tls?.(host, target.port, 2000), host).rejects.toThrow(/refused/);
    }
    expect(target.accepted).toEqual([]);

    const lenient = await setup({ allowPrivateTargets: true });
    const allowed = [];
    for (const host of hosts)
      allowed.push(await lenient.add({ kind: "tcp", name: host, host, port: target.port }));
    await lenient.step();
    // Up means connected: the listener's own count may lag the client's close.
    for (const check of allowed)
      expect(await lenient.status(check.id), check.name).toMatchObject({ status: "up" });
  });

  it("are not reached through a redirect to another spelling of loopback, unless allowed", async () => {
    const target = await loopbackServer("internal secret");
    const redirector = await httpServer((req, res) => {
      const host = req.url?.slice(1) ?? "";
      res.writeHead(302, { location: `http://${decodeURIComponent(host)}:${target.port}/meta-data` });
      res.end();
    });
    // "public.test" stands for a public site (it resolves to a public address); it is served locally.
    const throughPublicSite = (allowPrivate: boolean): ProbeRunner => {
      const real = nodeProbes({ allowPrivate });
      const local = nodeProbes({ allowPrivate: true });
      return {
        ...real,
        http: (req) =>
          req.url.startsWith("http://public.test/")
            ? local.http({ ...req, url: req.url.replace("http://public.test", redirector.url) })
            : real.http(req),
        resolve: async (host) => (host === "public.test" ? ["93.184.215.14"] : (real.resolve?.(host) ?? [])),
      };
    };
    const strict = await setup({ allowPrivateTargets: false, probes: throughPublicSite(false) });
    const lenient = await setup({ allowPrivateTargets: true, probes: throughPublicSite(true) });
    const refused = [];
    for (const host of [...loopbackSpellings, "[::ffff:a9fe:a9fe]"]) {
      const url = `http://public.test/${encodeURIComponent(host)}`;
      refused.push(await strict.add({ kind: "http", name: host, url, keyword: "secret", failuresToDown: 1 }));
    }
    await strict.step();
    for (const check of refused) {
      expect((await strict.status(check.id)).lastError, check.name).toMatch(/^refused: /);
    }
    expect(redirector.hits).toHaveLength(loopbackSpellings.length + 1);
    expect(target.hits).toEqual([]);

    const allowed = await lenient.add({
      kind: "http",
      name: "allowed",
      url: `http://public.test/${encodeURIComponent("[::ffff:7f00:1]")}`,
      keyword: "secret",
    });
    expect(await lenient.run(allowed.id)).toMatchObject({ status: "up" });
    expect(target.hits).toEqual(["/meta-data"]);
  });

  it("send webhooks through undici's own fetch, so they do not depend on the runtime's global fetch", async () => {
    const target = await httpServer((_req, res) => res.end("ok"));
    const guarded = guardedFetch(true);
    // Newer Node releases refuse a dispatcher from another undici copy in their global fetch.
    vi.stubGlobal("fetch", () => Promise.reject(new Error("the global fetch was used")));
    try {
      expect((await guarded(`${target.url}/hook`, { method: "POST", body: "{}" })).status).toBe(200);
    } finally {
      vi.unstubAllGlobals();
    }
    expect(target.hits).toEqual(["/hook"]);
  });

  it("include names that resolve to private addresses", async () => {
    const probes = nodeProbes();
    expect(await refusedTarget("localhost", probes, false)).toMatch(/^refused/);
    expect(await refusedTarget("localhost", probes, true)).toBeNull();
    expect(await refusedTarget("93.184.215.14", probes, false)).toBeNull();
  });
});

describe("TCP checks", () => {
  it("are up when a connection opens and down after N refused ones", async () => {
    const open = await listen(createTcpServer((socket) => socket.end()));
    const closed = await deadPort();
    const { add, step, status } = await setup();
    const up = await add({ kind: "tcp", name: "db", host: "127.0.0.1", port: open });
    const down = await add({ kind: "tcp", name: "gone", host: "127.0.0.1", port: closed });
    await step();
    expect(await status(up.id)).toMatchObject({ status: "up" });
    expect(await status(down.id)).toMatchObject({ status: "new" });
    await step();
    expect(await status(down.id)).toMatchObject({ status: "down" });
    expect((await status(down.id)).lastError).toMatch(/ECONNREFUSED/);
  });
});

describe("TLS checks", () => {
  // A self-signed certificate for 127.0.0.1 kept as a fixture (test-only key); the injected clock is moved
  // relative to its expiry, so the test needs no certificate tooling (it is valid until 2036).
  const fixture = (name: string) => readFileSync(join(import.meta.dirname, "fixtures", name), "utf8");
  const cert = fixture("tls-127.0.0.1.cert.pem");
  const notAfter = Date.parse(new X509Certificate(cert).validTo);
  const tlsServer = () =>
    listen(createTlsServer({ key: fixture("tls-127.0.0.1.key.pem"), cert }, (socket) => socket.end()));

  it("report the days until the certificate expires and warn under the threshold", async () => {
    const port = await tlsServer();
    const { add, step, status, runsOf, clock } = await setup({
      probes: nodeProbes({ ca: [cert], allowPrivate: true }),
    });
    clock.set(notAfter - 10 * 86_400_000 + 3_600_000);
    const warns = await add({ kind: "tls", name: "cert", host: "127.0.0.1", port, warnDays: 14 });
    const fine = await add({ kind: "tls", name: "cert ok", host: "127.0.0.1", port, warnDays: 5 });
    await step();
    expect(await status(warns.id)).toMatchObject({
      status: "degraded",
      lastError: "the certificate expires in 9 days",
    });
    expect((await runsOf(warns.id))[0]?.tlsDaysLeft).toBe(9);
    expect(await status(fine.id)).toMatchObject({ status: "up" });
  });

  it("notify of a certificate nearing expiry by default, unlike a slow site, unless a channel opts out", async () => {
    const port = await tlsServer();
    const slowSite = await httpServer((_req, res) => res.end("ok"));
    const receiver = await startWebhookReceiver();
    closers.push(receiver.close);
    const { db, project, add, step, status, clock } = await setup({
      probes: nodeProbes({ ca: [cert], allowPrivate: true }),
    });
    const env = { serverKey: "test-server-key", mailer: false, allowPrivateTargets: true };
    const hook = (name: string, fields: Record<string, unknown> = {}) =>
      createChannel(
        db,
        clock,
        project.id,
        createChannelRequestSchema.parse({
          kind: "webhook",
          name,
          url: `${receiver.url}/${name}`,
          isDefault: true,
          ...fields,
        }),
        env,
      );
    await hook("defaults");
    await hook("opted-out", { tlsExpiry: false });
    await hook("everything", { events: ["down", "up", "late", "degraded"], tlsExpiry: false });
    clock.set(notAfter - 10 * 86_400_000 + 3_600_000);
    const cert14 = await add({ kind: "tls", name: "cert", host: "127.0.0.1", port, warnDays: 14 });
    const slow = await add({ kind: "http", name: "slow", url: `${slowSite.url}/`, degradedAfterMs: 1 });
    await step();
    expect((await status(cert14.id)).status).toBe("degraded");
    expect((await status(slow.id)).status).toBe("degraded");
    await dispatch({
      db,
      clock,
      fetch: (input, init) => fetch(input, init),
      publicUrl: null,
      allowPrivateTargets: true,
      secretKey: env.serverKey,
    });
    const got = receiver.requests.map(
      (r) => `${r.path} ${(JSON.parse(r.body) as NotificationPayloadV1).title}`,
    );
    expect(got.sort()).toEqual([
      "/defaults DEGRADED: cert",
      // both at once, so in one message
      "/everything 2 changes: 2 degraded",
    ]);
    const [notice] = receiver.requests.filter((r) => r.path === "/defaults");
    expect((JSON.parse(notice?.body ?? "{}") as NotificationPayloadV1).changes[0]?.subject.checkKind).toBe(
      "tls",
    );
  });

  it("are down when the certificate has expired or is not trusted", async () => {
    const port = await tlsServer();
    const trusting = await setup({ probes: nodeProbes({ ca: [cert], allowPrivate: true }) });
    trusting.clock.set(notAfter + 1);
    const expired = await trusting.add({
      kind: "tls",
      name: "old",
      host: "127.0.0.1",
      port,
      failuresToDown: 1,
    });
    await trusting.step();
    expect(await trusting.status(expired.id)).toMatchObject({
      status: "down",
      lastError: "the certificate has expired",
    });

    const { add, step, status, clock } = await setup();
    clock.set(notAfter - 100 * 86_400_000);
    const untrusted = await add({ kind: "tls", name: "x", host: "127.0.0.1", port, failuresToDown: 1 });
    await step();
    expect((await status(untrusted.id)).lastError).toMatch(/^certificate not trusted/);
  });

  it("say so where the runtime cannot read certificates, and change nothing", async () => {
    const { add, step, status, runsOf } = await setup({
      probes: { ...nodeProbes({ allowPrivate: true }), tls: undefined },
    });
    const check = await add({ kind: "tls", name: "cert", host: "example.com" });
    await step();
    const row = await status(check.id);
    expect(row.status).toBe("new");
    expect(row.lastError).toMatch(/does not expose TLS certificates/);
    expect(await runsOf(check.id)).toHaveLength(0);
  });
});

describe("the scheduler", () => {
  it("runs an active check once when two ticks overlap", async () => {
    const target = await httpServer((_req, res) => res.end("ok"));
    const { add, ctx, runsOf } = await setup();
    const check = await add({ kind: "http", name: "site", url: target.url });
    const reports = await Promise.all([tick(ctx), tick(ctx)]);
    expect(target.hits).toHaveLength(1);
    expect(reports.reduce((n, r) => n + r.runs, 0)).toBe(1);
    expect(await runsOf(check.id)).toHaveLength(1);
  });

  it("runs each check again a period after its slot, not before", async () => {
    const target = await httpServer((_req, res) => res.end("ok"));
    const { add, ctx, clock } = await setup();
    await add({ kind: "http", name: "site", url: target.url, period: 60 });
    await tick(ctx);
    clock.advance(59_999);
    await tick(ctx);
    expect(target.hits).toHaveLength(1);
    clock.advance(1);
    await tick(ctx);
    expect(target.hits).toHaveLength(2);
  });

  it("handles at most `limit` due checks per tick", async () => {
    const { add, ctx } = await setup({ probes: undefined });
    for (let i = 0; i < 5; i++) await add({ kind: "host", name: `h${i}`, hostId: await hostId(ctx) });
    expect((await tick({ ...ctx, limit: 3 })).due).toBe(3);
  });

  it("spreads active runs over the window it is given", async () => {
    const target = await httpServer((_req, res) => res.end("ok"));
    const waits: number[] = [];
    const { add, ctx } = await setup({ spreadMs: 45_000, sleep: async (ms) => void waits.push(ms) });
    for (let i = 0; i < 4; i++) await add({ kind: "http", name: `s${i}`, url: target.url });
    await tick(ctx);
    expect(waits).toHaveLength(4);
    expect(waits.every((ms) => ms >= 0 && ms < 45_000)).toBe(true);
    expect(new Set(waits).size).toBeGreaterThan(1);
    // Slots are waited for from the start of the tick, in order, not one after another.
    expect(waits).toEqual([...waits].sort((a, b) => a - b));
  });
});

let hostSeq = 0;
async function hostId(ctx: TickContext, lastSeenAt: number | null = null): Promise<string> {
  const projectId = (await ctx.db.query.projects.findFirst())?.id ?? "";
  const id = crypto.randomUUID();
  hostSeq++;
  await ctx.db.insert(hosts).values({
    id,
    projectId,
    name: `host-${hostSeq}`,
    tokenPrefix: `vgl_hst_${id.slice(0, 12)}`,
    tokenHash: "x",
    createdAt: ctx.clock.now(),
    lastSeenAt,
  });
  return id;
}

describe("host liveness", () => {
  it("is down after three silent intervals but never before two minutes, and up with the next batch", async () => {
    const { add, ctx, clock, status, db, flipsOf } = await setup();
    const seen = clock.now();
    const id = await hostId(ctx, seen);
    const check = await add({ kind: "host", name: "web-1", hostId: id });
    await tick(ctx);
    expect(await status(check.id)).toMatchObject({ status: "up", lastPingAt: seen });
    // 3 × 30 s = 90 s of silence is not enough: the floor is two minutes.
    clock.set(seen + 119_999);
    await tick(ctx);
    expect((await status(check.id)).status).toBe("up");
    clock.set(seen + 120_000);
    await tick(ctx);
    expect((await status(check.id)).status).toBe("down");

    clock.advance(5_000);
    await db.update(hosts).set({ lastSeenAt: clock.now() }).where(eq(hosts.id, id));
    // as a batch from the host does (ingest/write-plan.ts): its down liveness check becomes due now
    await db.update(checks).set({ alertAfter: clock.now() }).where(eq(checks.id, check.id));
    await tick(ctx);
    expect((await status(check.id)).status).toBe("up");
    expect((await flipsOf(check.id)).map((f) => f.toStatus)).toEqual(["up", "down", "up"]);
  });

  it("uses three intervals when they are longer than two minutes", async () => {
    const { add, ctx, clock, status } = await setup();
    const seen = clock.now();
    const check = await add({ kind: "host", name: "db-1", hostId: await hostId(ctx, seen), period: 60 });
    await tick(ctx);
    clock.set(seen + 179_999);
    await tick(ctx);
    expect((await status(check.id)).status).toBe("up");
    clock.set(seen + 180_000);
    await tick(ctx);
    expect((await status(check.id)).status).toBe("down");
  });
});
