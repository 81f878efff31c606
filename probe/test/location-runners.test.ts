import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import {
  type AddressInfo,
  createServer as createTcpServer,
  type Socket,
  type Server as TcpServer,
} from "node:net";
import { join } from "node:path";
import { createServer as createTlsServer } from "node:tls";
import { gzipSync } from "node:zlib";
import type { CheckAssignment } from "@vigil/contract";
import { afterEach, describe, expect, it } from "vitest";
import { runDns } from "../src/location-checks/dns.ts";
import { runHttp } from "../src/location-checks/http.ts";
import { parsePingSummary, pingUsable, runIcmp } from "../src/location-checks/icmp.ts";
import type { RunContext } from "../src/location-checks/observation.ts";
import { runAssignment } from "../src/location-checks/run-assignment.ts";
import { TargetRules } from "../src/location-checks/target-rules.ts";
import { runTcp } from "../src/location-checks/tcp.ts";
import { runTls } from "../src/location-checks/tls.ts";
import { type DnsTestServer, startDnsServer } from "../testing/dns-server.ts";
import { FIXTURES } from "./helpers.ts";

const ENGINE_FIXTURES = join(FIXTURES, "..", "..", "..", "packages", "engine", "test", "fixtures");
const CERT = readFileSync(join(ENGINE_FIXTURES, "tls-127.0.0.1.cert.pem"));
const KEY = readFileSync(join(ENGINE_FIXTURES, "tls-127.0.0.1.key.pem"));

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

function context(rules = new TargetRules(), extra: Partial<RunContext> = {}): RunContext {
  return { rules, location: "lab-1", pingUsable: true, ...extra };
}

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
}

/** A real HTTP server on `host` that records requests and answers with `respond`. */
async function httpServer(
  respond: (req: Seen, res: ServerResponse) => void,
  host = "127.0.0.1",
): Promise<{ url: string; port: number; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const request = {
      method: req.method ?? "",
      url: req.url ?? "",
      headers: req.headers,
      body: Buffer.concat(chunks).toString(),
    };
    seen.push(request);
    respond(request, res);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  closers.push(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  const port = (server.address() as AddressInfo).port;
  return { url: `http://${host}:${port}`, port, seen };
}

function http(url: string, settings: Partial<NonNullable<CheckAssignment["http"]>> = {}) {
  return {
    url,
    method: "GET",
    headers: {},
    body: null,
    followRedirects: true,
    keyword: null,
    ...settings,
  };
}

/** A TCP port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Listens on 127.0.0.1; after the test, open connections are cut so the server can close. */
async function listening<T extends TcpServer>(server: T): Promise<number> {
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise((resolve) => server.close(resolve));
  });
  return (server.address() as AddressInfo).port;
}

describe("HTTP checks", () => {
  it("report the final status and the time of the exchange, sending the method, headers, body and a User-Agent naming the location", async () => {
    const target = await httpServer((_req, res) => res.writeHead(201).end("made"));
    const seen = await runHttp(
      http(`${target.url}/items`, {
        method: "post",
        headers: { "X-Check": "yes" },
        body: '{"a":1}',
      }),
      2_000,
      context(),
    );
    expect(seen).toEqual({ ms: expect.any(Number), httpStatus: 201 });
    expect(target.seen[0]).toMatchObject({
      method: "POST",
      url: "/items",
      body: '{"a":1}',
      headers: { "x-check": "yes", "user-agent": "Vigil uptime check (location lab-1)" },
    });
  });

  it("follow redirects themselves: a 303 continues as GET without the body, a 307 keeps both", async () => {
    const target = await httpServer((req, res) => {
      if (req.url === "/start") return void res.writeHead(307, { Location: "/kept" }).end();
      if (req.url === "/kept") return void res.writeHead(303, { Location: "/done" }).end();
      res.writeHead(200).end("ok");
    });
    const seen = await runHttp(
      http(`${target.url}/start`, { method: "POST", body: "form" }),
      2_000,
      context(),
    );
    expect(seen.httpStatus).toBe(200);
    expect(target.seen.map((r) => `${r.method} ${r.url} ${r.body}`)).toEqual([
      "POST /start form",
      "POST /kept form",
      "GET /done ",
    ]);
  });

  it("report the redirect itself when told not to follow it", async () => {
    const target = await httpServer((_req, res) => res.writeHead(302, { Location: "/elsewhere" }).end());
    const seen = await runHttp(http(target.url, { followRedirects: false }), 2_000, context());
    expect(seen).toEqual({ ms: expect.any(Number), httpStatus: 302 });
    expect(target.seen).toHaveLength(1);
  });

  it("give up after 5 redirects", async () => {
    const target = await httpServer((req, res) =>
      res.writeHead(302, { Location: `/hop${Number(req.url?.slice(4) || 0) + 1}` }).end(),
    );
    const seen = await runHttp(http(`${target.url}/hop0`), 2_000, context());
    expect(seen).toMatchObject({ error: "more than 5 redirects", httpStatus: 302 });
    expect(target.seen).toHaveLength(6);
  });

  it("say whether the keyword is in the body, gzip'd bodies included", async () => {
    const target = await httpServer((req, res) => {
      if (req.url === "/gzip")
        return void res.writeHead(200, { "Content-Encoding": "gzip" }).end(gzipSync("all systems nominal"));
      res.writeHead(200).end("all systems nominal");
    });
    expect(await runHttp(http(target.url, { keyword: "nominal" }), 2_000, context())).toEqual({
      ms: expect.any(Number),
      httpStatus: 200,
      keywordFound: true,
    });
    expect((await runHttp(http(target.url, { keyword: "degraded" }), 2_000, context())).keywordFound).toBe(
      false,
    );
    expect(
      (await runHttp(http(`${target.url}/gzip`, { keyword: "nominal" }), 2_000, context())).keywordFound,
    ).toBe(true);
  });

  it("look for the keyword in the first MiB of the body only", async () => {
    const target = await httpServer((_req, res) =>
      res.writeHead(200).end(`${"x".repeat(1024 * 1024)}needle`),
    );
    const seen = await runHttp(http(target.url, { keyword: "needle" }), 5_000, context());
    expect(seen).toMatchObject({ httpStatus: 200, keywordFound: false });
  });

  it("time out on a server that accepts the connection and never answers", async () => {
    const silent = createTcpServer(() => undefined);
    const port = await listening(silent);
    const seen = await runHttp(http(`http://127.0.0.1:${port}/`), 300, context());
    expect(seen).toEqual({ error: "timed out" });
  });

  it("count a certificate the system does not trust as an error", async () => {
    const server = createHttpsServer({ key: KEY, cert: CERT }, (_req, res) => res.end("ok"));
    const port = await listening(server);
    const seen = await runHttp(http(`https://127.0.0.1:${port}/`), 2_000, context());
    expect(seen.error).toMatch(/self.signed/i);
    expect(seen.httpStatus).toBeUndefined();
  });

  it("refuse a redirect hop to a denied address and send nothing there", async () => {
    const denied = await httpServer((_req, res) => res.writeHead(200).end("secret"), "127.0.0.2");
    const first = await httpServer((_req, res) =>
      res.writeHead(302, { Location: `${denied.url}/admin` }).end(),
    );
    const seen = await runHttp(http(first.url), 2_000, context(new TargetRules([], ["127.0.0.2"])));
    expect(seen).toEqual({ refused: "checks.deny covers 127.0.0.2" });
    expect(first.seen).toHaveLength(1);
    expect(denied.seen).toHaveLength(0);
  });

  it("refuse a name by the addresses it resolves to when connecting, and send nothing", async () => {
    const target = await httpServer((_req, res) => res.writeHead(200).end());
    const rules = new TargetRules([], ["127.0.0.0/8", "::1"]);
    const seen = await runHttp(http(`http://localhost:${target.port}/`), 2_000, context(rules));
    expect(seen.refused).toMatch(/^checks\.deny covers localhost \((127\.0\.0\.1|::1)\)$/);
    expect(target.seen).toHaveLength(0);
  });

  it("drop credentials when a redirect leaves the origin", async () => {
    const other = await httpServer((_req, res) => res.writeHead(200).end(), "127.0.0.2");
    const first = await httpServer((_req, res) => res.writeHead(302, { Location: other.url }).end());
    await runHttp(
      http(first.url, { headers: { Authorization: "Bearer s3cret", "X-Keep": "1" } }),
      2_000,
      context(),
    );
    expect(first.seen[0]?.headers.authorization).toBe("Bearer s3cret");
    expect(other.seen[0]?.headers.authorization).toBeUndefined();
    expect(other.seen[0]?.headers["x-keep"]).toBe("1");
  });
});

describe("TCP checks", () => {
  it("report the time to connect to an open port", async () => {
    const port = await listening(createTcpServer((socket) => socket.end()));
    expect(await runTcp("127.0.0.1", port, 2_000, context())).toEqual({ ms: expect.any(Number) });
  });

  it("report a closed port as the connection error", async () => {
    const seen = await runTcp("127.0.0.1", await closedPort(), 2_000, context());
    expect(seen).toEqual({ error: expect.stringContaining("ECONNREFUSED") });
  });

  it("refuse an address the rules deny before connecting", async () => {
    let connections = 0;
    const port = await listening(createTcpServer((socket) => socket.end(() => connections++)));
    const seen = await runTcp("127.0.0.1", port, 2_000, context(new TargetRules(["10.0.0.0/8"])));
    expect(seen).toEqual({ refused: "127.0.0.1 matches nothing in checks.allow" });
    expect(connections).toBe(0);
  });
});

describe("TLS checks", () => {
  it("report an untrusted self-signed certificate as not authorized, with its end of validity", async () => {
    const port = await listening(createTlsServer({ key: KEY, cert: CERT }, (socket) => socket.end()));
    const seen = await runTls("127.0.0.1", port, 2_000, context());
    expect(seen).toEqual({
      ms: expect.any(Number),
      tls: {
        validTo: Date.parse("Nov 24 17:48:35 2036 GMT"),
        authorized: false,
        authorizationError: "DEPTH_ZERO_SELF_SIGNED_CERT",
      },
    });
  });

  it("report a port without TLS as an error", async () => {
    const port = await listening(createTcpServer((socket) => socket.end("SSH-2.0-OpenSSH\r\n")));
    expect((await runTls("127.0.0.1", port, 2_000, context())).error).toBeTruthy();
  });
});

describe("DNS checks", () => {
  let dns: DnsTestServer;
  const lookup = (name: string, type: "A" | "AAAA" | "CNAME" | "MX" | "TXT" | "NS", rules?: TargetRules) =>
    runDns({ name, type, server: dns.server }, 1_000, context(rules));

  afterEach(() => dns?.close());

  it("report the values of each record type from the resolver the check names", async () => {
    dns = await startDnsServer({
      "example.test": {
        A: ["192.0.2.10", "192.0.2.11"],
        AAAA: ["2001:db8::10"],
        MX: [{ preference: 10, exchange: "mx1.example.test" }, "mx2.example.test"],
        TXT: ["v=spf1 -all", ["part one ", "part two"]],
        NS: ["ns1.example.test"],
      },
      "www.example.test": { CNAME: "example.test" },
    });
    expect(await lookup("example.test", "A")).toEqual({
      ms: expect.any(Number),
      dns: { values: ["192.0.2.10", "192.0.2.11"] },
    });
    expect((await lookup("example.test", "AAAA")).dns?.values).toEqual(["2001:db8::10"]);
    expect((await lookup("www.example.test", "CNAME")).dns?.values).toEqual(["example.test"]);
    expect((await lookup("example.test", "MX")).dns?.values).toEqual([
      "mx1.example.test",
      "mx2.example.test",
    ]);
    expect((await lookup("example.test", "TXT")).dns?.values).toEqual(["v=spf1 -all", "part one part two"]);
    expect((await lookup("example.test", "NS")).dns?.values).toEqual(["ns1.example.test"]);
    expect(dns.queries.map((q) => q.type)).toEqual(["A", "AAAA", "CNAME", "MX", "TXT", "NS"]);
  });

  it("say why a lookup gave nothing: no such name, no record of the type, no answer in time", async () => {
    dns = await startDnsServer({ "example.test": { A: ["192.0.2.10"] } });
    expect(await lookup("nope.example.test", "A")).toEqual({ error: "ENOTFOUND nope.example.test" });
    expect(await lookup("example.test", "MX")).toEqual({ error: "ENODATA example.test" });
    dns.silent = true;
    expect(await runDns({ name: "example.test", type: "A", server: dns.server }, 300, context())).toEqual({
      error: "timed out",
    });
  });

  it("refuse a name the rules deny, and a resolver outside the allowed addresses, asking nothing", async () => {
    dns = await startDnsServer({ "db.secret.test": { A: ["10.0.0.5"] } });
    expect(await lookup("db.secret.test", "A", new TargetRules([], ["*.secret.test"]))).toEqual({
      refused: 'checks.deny "*.secret.test" matches db.secret.test',
    });
    expect(await lookup("db.secret.test", "A", new TargetRules(["*.internal"]))).toEqual({
      refused: "db.secret.test matches nothing in checks.allow",
    });
    expect(await lookup("db.secret.test", "A", new TargetRules(["*.test"], ["127.0.0.0/8"]))).toEqual({
      refused: "resolver: checks.deny covers 127.0.0.1",
    });
    expect(dns.queries).toEqual([]);
  });
});

describe("ICMP checks", () => {
  it("find ping usable on this machine", async () => {
    expect(await pingUsable()).toMatchObject({ usable: true });
    expect(await pingUsable("/nonexistent/ping")).toMatchObject({ usable: false });
  });

  it("report three echoes from 127.0.0.1 and their average round trip", async () => {
    expect(await runIcmp("127.0.0.1", 1_000, context())).toEqual({
      ms: expect.any(Number),
      icmp: { sent: 3, received: 3 },
    });
  });

  it("report no replies from an address nobody answers for", async () => {
    // TEST-NET-2 (RFC 5737): never routed anywhere that answers.
    const seen = await runIcmp("198.51.100.1", 1_000, context());
    expect(seen).toEqual({ icmp: { sent: 3, received: 0 } });
  });

  it("say so when ping is not usable, and refuse denied targets without pinging", async () => {
    expect(await runIcmp("127.0.0.1", 1_000, context(undefined, { pingUsable: false }))).toEqual({
      error: "ping is not available on this host",
    });
    expect(await runIcmp("localhost", 1_000, context(new TargetRules([], ["127.0.0.0/8", "::1"])))).toEqual({
      refused: expect.stringMatching(/^checks\.deny covers localhost/),
    });
  });

  it("read the summaries of iputils and busybox ping", () => {
    expect(
      parsePingSummary(
        "3 packets transmitted, 2 received, 33.3333% packet loss, time 402ms\nrtt min/avg/max/mdev = 0.031/0.045/0.059/0.014 ms\n",
      ),
    ).toEqual({ sent: 3, received: 2, avgMs: 0.045 });
    expect(
      parsePingSummary(
        "3 packets transmitted, 3 packets received, 0% packet loss\nround-trip min/avg/max = 0.047/0.059/0.072 ms\n",
      ),
    ).toEqual({ sent: 3, received: 3, avgMs: 0.059 });
    expect(parsePingSummary("ping: unknown host")).toBeUndefined();
  });
});

describe("an assignment", () => {
  it("runs by its kind, and one lacking its settings is an error, not a crash", async () => {
    const port = await listening(createTcpServer((socket) => socket.end()));
    const base = { id: "c1", rev: "r1", intervalSec: 60, timeoutMs: 1_000 };
    expect(
      await runAssignment({ ...base, kind: "tcp", target: { host: "127.0.0.1", port } }, context()),
    ).toEqual({ ms: expect.any(Number) });
    expect(await runAssignment({ ...base, kind: "http" }, context())).toEqual({
      error: "the assignment has no http settings",
    });
    expect(await runAssignment({ ...base, kind: "tcp", target: { host: "127.0.0.1" } }, context())).toEqual({
      error: "the assignment has no target host and port",
    });
  });
});
