/**
 * Healthchecks.io-compatible pings: a cron line that pings hc-ping.com works by changing only the host.
 * This file only normalises the request (which check, which signal, rid, body) and answers in plain text
 * as Healthchecks does; `recordPing` decides what the ping means.
 *   /ping/<uuid>[/start|/fail|/log|/<0-255>]            /ping/<ping-key>/<slug>[/…][?create=1]
 */
import { checkSlugPattern, PING_BODY_LIMIT } from "@vigil/contract";
import { type PingInput, recordPing } from "@vigil/engine";
import { type Context, Hono } from "hono";
import { cors } from "hono/cors";
import type { AppEnv } from "../env.ts";
import { enforceCap, enforceRate, limitedAddress } from "../limits.ts";
import { clientAddress } from "../middleware/client.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

type Signal = Pick<PingInput, "action" | "exitStatus">;

/** The suffix after the check: none, start, fail, log, or an exit status 0–255; null when malformed. */
function parseSignal(suffix: string | undefined): Signal | null {
  if (suffix === undefined) return { action: "success", exitStatus: null };
  if (suffix === "start" || suffix === "fail" || suffix === "log")
    return { action: suffix, exitStatus: null };
  if (/^\d{1,3}$/.test(suffix)) {
    const code = Number(suffix);
    if (code > 255) return null;
    return { action: code === 0 ? "success" : "fail", exitStatus: code };
  }
  return null;
}

/**
 * Reads at most `limit` bytes of the body and leaves the rest unread, so a huge upload costs nothing. The
 * stream is released, not cancelled: cancelling destroys the request on Node, and the connection reset
 * then wipes the answer before a client still sending (curl posting a big log) can read it. The server
 * drains or closes an unread rest itself (platform/node-http.ts).
 */
async function readBodyPrefix(request: Request, limit: number): Promise<string | null> {
  if (!request.body) return null;
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < limit) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value.subarray(0, limit - size));
    size += Math.min(value.byteLength, limit - size);
  }
  reader.releaseLock();
  if (size === 0) return null;
  const all = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.byteLength;
  }
  // A cut inside a multi-byte character becomes U+FFFD rather than an error.
  return new TextDecoder().decode(all);
}

const text = (c: Context<AppEnv>, body: string, status: 200 | 201 | 400 | 404 | 409) => {
  c.header("Ping-Body-Limit", String(PING_BODY_LIMIT));
  return c.text(body, status);
};

const preflight = cors({ origin: "*", allowMethods: ["GET", "HEAD", "POST"] });

// Hono answers HEAD from the GET route (and drops the body), so GET/POST cover all three methods.
export const pingRoutes = new Hono<AppEnv>()
  // Hono's cors() touches the response before the handler runs, which turns every answer into a full
  // Response the Node adaptor must stream (about a third of a ping's route cost, bench/RESULTS.md); pings
  // only need the one header set on the answer they get, errors included, and cors() for preflights.
  .use("*", async (c, next) => {
    if (c.req.method === "OPTIONS") return preflight(c, next);
    await next();
    c.res.headers.set("Access-Control-Allow-Origin", "*");
  })
  .on(["GET", "POST"], "/*", async (c) => {
    const segments = c.req.path.split("/").slice(2).filter(Boolean);
    const [first, second, third, ...rest] = segments;
    if (!first) return text(c, "not found", 404);

    let target: PingInput["target"];
    let suffix: string | undefined;
    // A ping key is 22 letters/digits; anything shaped like a UUID (or alone) is the UUID form.
    if (segments.length === 1 || first.length === 36) {
      const id = first.toLowerCase();
      if (!UUID.test(id)) return text(c, "invalid uuid format", 400);
      if (third !== undefined) return text(c, "invalid url format", 400);
      target = { checkId: id };
      suffix = second;
    } else {
      const slug = second ?? "";
      if (!checkSlugPattern.test(slug)) return text(c, "invalid slug format", 400);
      if (rest.length > 0) return text(c, "invalid url format", 400);
      const pingKey = first;
      target = {
        pingKey,
        slug,
        create: c.req.query("create") === "1",
        // Auto-provisioning is counted per ping key and bounded by the project's cap on checks.
        beforeCreate: async (projectId) => {
          await enforceRate(c, "pingCreatesPerKey", pingKey, { exact: true });
          await enforceCap(c, "maxChecks", projectId);
        },
      };
      suffix = third;
    }
    const signal = parseSignal(suffix);
    if (!signal) return text(c, "invalid url format", 400);
    const rid = c.req.query("rid") ?? null;
    if (rid !== null && !UUID.test(rid.toLowerCase())) return text(c, "invalid rid format", 400);

    // Limits come before any database work: a refused ping costs a map lookup (limits.ts explains the counts).
    const metrics = c.var.deps.runtime?.metrics;
    try {
      await enforceRate(
        c,
        "pingsPerCheck",
        "checkId" in target ? target.checkId : `${target.pingKey}/${target.slug}`,
      );
      const address = limitedAddress(c);
      if (address) await enforceRate(c, "pingsPerAddress", address);
    } catch (err) {
      metrics?.count("vigil_pings_total", { result: "rate_limited" });
      throw err;
    }

    const { db, clock } = c.var.deps;
    const outcome = await recordPing(db, clock, c.var.deps.runtime.engine, {
      target,
      ...signal,
      rid: rid?.toLowerCase() ?? null,
      method: c.req.method,
      body: c.req.method === "POST" ? await readBodyPrefix(c.req.raw, PING_BODY_LIMIT) : null,
      userAgent: c.req.header("user-agent")?.slice(0, 512) ?? null,
      remoteAddr: clientAddress(c),
    });
    metrics?.count("vigil_pings_total", { result: outcome.result });
    switch (outcome.result) {
      case "ok":
        return text(c, "OK", 200);
      case "created":
        return text(c, "Created", 201);
      case "ambiguous":
        return text(c, "ambiguous slug", 409);
      default:
        return text(c, "not found", 404);
    }
  });
