// A fuzz corpus over every route of the real self-hosted server (startServer in this process, over HTTP, so
// Node's own parser and limits are in the path): wrong types, huge and deeply nested JSON, invalid UTF-8,
// gzip bombs and broken gzip on the probe's batch route, edge timestamps in bodies and queries, odd methods
// and headers. The corpus is drawn from a seeded generator, so a failure names a request that comes back
// on the next run. Expected: no 5xx, every error in the one error shape (pings answer Healthchecks-style
// plain text), /healthz still answering afterwards, and memory bounded.

import { mkdtempSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { errorBodySchema } from "@vigil/contract";
import { migrationsFolder } from "@vigil/db/migrate";
import { createTestDb } from "@vigil/db/testing";
import { manualClock } from "@vigil/engine/testing";
import { describe, expect, it } from "vitest";
import { createApp, defaultConfig } from "../src/app.ts";
import { type RunningServer, settingsFromEnv, startServer } from "../src/server.ts";
import { createHeartbeats, enrolledHost } from "./multi-process.ts";

/** mulberry32: small, seeded, good enough to pick cases. */
function seeded(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T };
}

interface Answer {
  status: number;
  contentType: string;
  body: string;
}

/** One raw HTTP request: any method, any header bytes, any body; a refused connection is status 0. */
function send(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: Uint8Array | string,
): Promise<Answer> {
  const { hostname, port } = new URL(base);
  return new Promise((done) => {
    const req = httpRequest({ hostname, port, method, path, headers, agent: false }, (res) => {
      const contentType = String(res.headers["content-type"] ?? "");
      // A live tail never ends: its status and type are the answer.
      if (contentType.startsWith("text/event-stream")) {
        req.destroy();
        return done({ status: res.statusCode ?? 0, contentType, body: "" });
      }
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        done({
          status: res.statusCode ?? 0,
          contentType: String(res.headers["content-type"] ?? ""),
          body: Buffer.concat(chunks).toString("utf8"),
        }),
      );
    });
    req.on("error", () => done({ status: 0, contentType: "", body: "" }));
    // A request the server never answers is a failure too (status 0), not a hung test.
    req.setTimeout(15_000, () => req.destroy());
    req.end(body);
  });
}

const EDGE_TIMES = [
  -1,
  0,
  1,
  946684799999,
  7258118400001,
  8.64e15,
  8.64e15 + 1,
  9e15,
  1e308,
  -1e308,
  2 ** 53,
];
const WRONG_VALUES: unknown[] = [
  null,
  true,
  -1,
  0,
  1.5,
  "",
  "x".repeat(70_000),
  "\u0000\uffff\ud800",
  "<script>alert(1)</script>",
  "javascript:alert(1)",
  [],
  [null],
  {},
  { __proto__: { admin: true } },
  { constructor: { prototype: { polluted: true } } },
  ...EDGE_TIMES,
];
const FIELDS = [
  "name",
  "kind",
  "slug",
  "url",
  "to",
  "period",
  "grace",
  "schedule",
  "tz",
  "tags",
  "events",
  "scopes",
  "isDefault",
  "endsAt",
  "startsAt",
  "durationMinutes",
  "hostId",
  "tag",
  "comment",
  "author",
  "matchers",
  "expr",
  "for",
  "threshold",
  "customDomain",
  "components",
  "status",
  "message",
  "token",
  "facts",
  "email",
  "password",
  "role",
  "memberId",
  "organizationId",
  "settings",
  "retention",
  "probe",
  "batchId",
  "sentAt",
  "samples",
  "logs",
  "state",
  "backups",
  "v",
  "service",
  "version",
  "headers",
  "secret",
  "reminderSec",
  "runbookUrl",
];

function deep(depth: number, kind: "array" | "object"): string {
  return kind === "array"
    ? "[".repeat(depth) + "]".repeat(depth)
    : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
}

/** Bodies for one route: structural oddities first, then `count` seeded objects with wrong-typed fields. */
function bodies(rng: ReturnType<typeof seeded>, count: number): (string | Uint8Array)[] {
  const fixed: (string | Uint8Array)[] = [
    "",
    "null",
    "[]",
    '"text"',
    "123",
    "{",
    '{"a":1,}',
    "\u0000",
    deep(100_000, "array"),
    deep(50_000, "object"),
    JSON.stringify({ name: "x".repeat(2 * 1024 * 1024) }),
    new Uint8Array([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x7d]),
    '{"name":1e400,"period":-0}',
    `{"name":"a","name":"b","__proto__":{"x":1}}`,
    JSON.stringify(Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, i]))),
  ];
  const random = Array.from({ length: count }, () => {
    const fields = Array.from({ length: 1 + Math.floor(rng.next() * 6) }, () => rng.pick(FIELDS));
    return JSON.stringify(Object.fromEntries(fields.map((f) => [f, rng.pick(WRONG_VALUES)])));
  });
  return [...fixed, ...random];
}

const PARAMS = [
  "",
  "0",
  "-1",
  "x".repeat(3000),
  "%00",
  "%ff%fe",
  "..%2f..%2fetc",
  "00000000-0000-0000-0000-000000000000",
  "%F0%9F%92%A9",
  "1e309",
];
const QUERIES = [
  "",
  "?limit=-1",
  "?limit=1e309",
  "?limit=abc&before=xyz",
  `?from=${9e15}&to=-1`,
  `?from=0&to=${8.64e15 + 1}`,
  "?since=NaN&q=%ff",
  "?range=999999d&step=0",
  "?create=1&rid=%ff",
  `?before=${"9".repeat(400)}`,
];
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE", "PROPFIND"];

/**
 * What a 4xx/5xx must look like: the error shape, except the Healthchecks-compatible ping answers (plain
 * text) and pages made for browsers (the setup link, status pages), which answer a 404 page in HTML.
 */
function inErrorShape(path: string, method: string, answer: Answer): boolean {
  if (answer.status < 400) return true;
  if (path.startsWith("/ping/") || method === "HEAD") return true;
  if (!path.startsWith("/api/") && answer.contentType.startsWith("text/html")) return true;
  if (!answer.contentType.includes("application/json")) return false;
  try {
    return errorBodySchema.safeParse(JSON.parse(answer.body)).success;
  } catch {
    return false;
  }
}

/**
 * Every route the app serves, with its method. Project routes are taken in their key form only (the
 * /projects/:projectId form runs the same handlers; a sample of it is fuzzed with odd project ids).
 * ALL entries are middleware and catch-alls; odd methods are tried on representative paths instead.
 */
async function routeList(): Promise<{ method: string; path: string }[]> {
  const app = createApp({ db: await createTestDb(), clock: manualClock(), config: defaultConfig });
  const seen = new Set<string>();
  const out: { method: string; path: string }[] = [];
  for (const r of app.routes) {
    const key = `${r.method} ${r.path}`;
    if (r.method === "ALL" || seen.has(key)) continue;
    seen.add(key);
    if (r.path.startsWith("/api/v1/projects/:projectId/") && !r.path.endsWith("/checks")) continue;
    out.push({ method: r.method, path: r.path });
  }
  // better-auth serves its endpoints behind one catch-all; the ones people and scripts call are named here.
  for (const path of [
    "sign-up/email",
    "sign-in/email",
    "sign-out",
    "request-password-reset",
    "reset-password",
    "change-password",
    "change-email",
    "revoke-sessions",
    "two-factor/enable",
    "two-factor/verify-totp",
    "organization/accept-invitation",
    "organization/update-member-role",
  ]) {
    out.push({ method: "POST", path: `/api/auth/${path}` });
  }
  out.push({ method: "GET", path: "/ping/:pingKey/:slug" }, { method: "POST", path: "/ping/:id/:signal" });
  return out;
}

describe("a fuzz corpus over every route", () => {
  it("never answers 5xx, answers every error in the error shape, and leaves the server up with memory bounded", {
    timeout: 300_000,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "vigil-fuzz-"));
    const server: RunningServer = await startServer(
      settingsFromEnv({
        VIGIL_PORT: "0",
        VIGIL_DATA_DIR: dir,
        VIGIL_LOCAL_PROBE: "0",
        VIGIL_TICK_MS: "1000",
      }),
      { migrationsFolder, log: () => {} },
    );
    try {
      const base = server.url;
      const key = server.adminKey ?? "";
      const [checkId] = await createHeartbeats(base, key, 1);
      const hostToken = await enrolledHost(base, key);
      const current = await send(base, "GET", "/api/v1/projects/current", { authorization: `Bearer ${key}` });
      const { id: projectId, pingKey } = JSON.parse(current.body) as { id: string; pingKey?: string };
      const known: Record<string, string> = {
        projectId,
        id: checkId ?? "",
        hostId: "",
        orgId: "",
        slug: "x",
        pingKey: pingKey ?? "",
        signal: "fail",
      };

      const rng = seeded(14);
      const routes = await routeList();
      const failures: string[] = [];
      let requests = 0;
      const byClass: Record<string, number> = {};
      const check = (method: string, path: string, what: string, answer: Answer) => {
        requests++;
        const kind = `${Math.floor(answer.status / 100)}xx`;
        byClass[kind] = (byClass[kind] ?? 0) + 1;
        if (answer.status >= 500 || answer.status === 0 || !inErrorShape(path, method, answer)) {
          failures.push(
            `${method} ${path.slice(0, 120)} [${what}] → ${answer.status} ${answer.body.slice(0, 160)}`,
          );
        }
      };
      const fill = (path: string, params: () => string) =>
        path
          .replace(/:(\w+)(\{[^}]*\})?/g, (_, name: string) => params() || (known[name] ?? "x"))
          .replace(/\*$/, "anything");
      // Rate limits turn part of the corpus into 429s: a valid answer, and fine.
      const rssBefore = process.memoryUsage().rss;

      // Deletes last, so the real ids the other routes are given still exist when they run.
      const ordered = [...routes].sort(
        (a, b) => Number(a.method === "DELETE") - Number(b.method === "DELETE"),
      );
      const started = performance.now();
      for (const route of ordered) {
        for (const method of [route.method]) {
          const auth = route.path.startsWith("/api/v1/probe/batches")
            ? { authorization: `Bearer ${hostToken}` }
            : { authorization: `Bearer ${key}` };
          // Path parameters: the real ids, then odd ones; queries: edge values.
          for (const param of ["", ...PARAMS.slice(0, 4 + Math.floor(rng.next() * 6))]) {
            const path = fill(route.path, () => param) + rng.pick(QUERIES);
            check(method, path, `param ${param.slice(0, 20)}`, await send(base, method, path, auth));
          }
          if (method === "GET" || method === "HEAD" || method === "OPTIONS") continue;
          const path = fill(route.path, () => "");
          for (const body of bodies(rng, 8)) {
            const headers = { ...auth, "content-type": "application/json" };
            check(
              method,
              path,
              `body ${String(body).slice(0, 30)}`,
              await send(base, method, path, headers, body),
            );
          }
        }
      }

      // Odd methods and headers on a few representative paths.
      for (const path of [
        "/healthz",
        "/",
        "/api/v1/checks",
        `/api/v1/projects/${"x".repeat(300)}/checks`,
        "/api/v1/probe/batches",
        `/ping/${checkId}`,
        "/api/auth/sign-in/email",
        "/status/nope",
        "/api/v1/nope",
      ]) {
        for (const method of METHODS) check(method, path, "method", await send(base, method, path, {}));
        const oddHeaders: Record<string, string>[] = [
          { authorization: "Bearer " },
          { authorization: `Bearer ${"x".repeat(8000)}` },
          { authorization: "Basic Zm9vOmJhcg==" },
          { "content-type": "application/json; charset=utf-7" },
          { "content-type": "multipart/form-data; boundary=" },
          { "content-encoding": "br" },
          { "content-encoding": "gzip, gzip" },
          { cookie: `better-auth.session_token=${"%".repeat(500)}` },
          { origin: "null", cookie: "better-auth.session_token=abc.def" },
          { "x-forwarded-for": "not an address", "cf-connecting-ip": "::::" },
          { "x-large": "y".repeat(60_000) },
        ];
        for (const headers of oddHeaders) {
          check(
            "POST",
            path,
            `headers ${Object.keys(headers).join(",")}`,
            await send(base, "POST", path, headers, "{}"),
          );
        }
      }

      // The probe's gzip route: bombs, broken and mislabelled compression, edge timestamps in a real batch.
      const batchPath = "/api/v1/probe/batches";
      const gz = {
        authorization: `Bearer ${hostToken}`,
        "content-type": "application/json",
        "content-encoding": "gzip",
      };
      const gzipBodies: [string, Uint8Array][] = [
        ["bomb of zeros", gzipSync(Buffer.alloc(200 * 1024 * 1024))],
        [
          "bomb of JSON",
          gzipSync(
            `{"v":1,"batchId":"bomb-0001","sentAt":1,"logs":[${'{"ts":1,"priority":1,"message":"a"},'.repeat(2_000_000)}{}]}`,
          ),
        ],
        ["gzip in gzip", gzipSync(gzipSync(Buffer.alloc(50 * 1024 * 1024)))],
        ["truncated", gzipSync(JSON.stringify({ v: 1 })).subarray(0, 12)],
        ["not gzip", new TextEncoder().encode(JSON.stringify({ v: 1 }))],
        ["invalid UTF-8 inside", gzipSync(Buffer.from([0x7b, 0x22, 0x76, 0x22, 0x3a, 0xff, 0x7d]))],
        ["deep inside", gzipSync(deep(200_000, "array"))],
      ];
      for (const [what, body] of gzipBodies)
        check("POST", batchPath, what, await send(base, "POST", batchPath, gz, body));
      const now = Date.now();
      for (const ts of EDGE_TIMES) {
        const batch = {
          v: 1,
          batchId: `edge-${String(ts).replace(/\W/g, "")}-${rng.next().toString(36).slice(2, 8)}`,
          sentAt: ts,
          samples: [{ ts, cpu: { userPct: 1 } }],
          logs: [{ ts, priority: 3, message: "edge" }],
          backups: [{ name: "b", tool: "restic", status: "success", startedAt: ts, endedAt: ts }],
          state: { ts },
        };
        check(
          "POST",
          batchPath,
          `edge time ${ts}`,
          await send(base, "POST", batchPath, gz, gzipSync(JSON.stringify(batch))),
        );
        check(
          "POST",
          batchPath,
          `edge time ${ts} in sentAt only`,
          await send(
            base,
            "POST",
            batchPath,
            gz,
            gzipSync(JSON.stringify({ ...batch, batchId: `${batch.batchId}x`, sentAt: now })),
          ),
        );
      }

      expect(failures).toEqual([]);
      expect(requests).toBeGreaterThan(1500);
      const health = await send(base, "GET", "/healthz", {});
      expect(health.status).toBe(200);
      const grown = process.memoryUsage().rss - rssBefore;
      console.log(
        `fuzz: ${requests} requests in ${Math.round(performance.now() - started)} ms, RSS grew ${Math.round(grown / 1048576)} MB, answers ${JSON.stringify(byClass)}`,
      );
      expect(grown).toBeLessThan(400 * 1024 * 1024);
    } finally {
      await server.close();
    }
  });
});
