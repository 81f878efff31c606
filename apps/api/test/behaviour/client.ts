/** Typed calls the cases make often, over the target's HTTP only. */
import { expect } from "vitest";
import type { Target } from "./target.ts";

/** Anything that answers requests like the app: a target. */
export type Requester = Pick<Target, "request">;

/**
 * The shape of the Node tests' `testApp()` the cases were ported from: `app.request`, the clock, the admin
 * key and the project, all the target's.
 */
export function legacy(t: Target) {
  return {
    app: { request: (path: string, init?: RequestInit) => t.request(path, init) },
    clock: t.clock,
    adminKey: t.adminKey,
    project: { id: t.projectId, pingKey: t.pingKey },
  };
}

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

export const jsonRequest = (method: string, body: unknown, key?: string): RequestInit => ({
  method,
  headers: { "content-type": "application/json", ...(key ? bearer(key) : {}) },
  body: typeof body === "string" ? body : JSON.stringify(body),
});

/** GET with the admin key (or `key`), expecting 200; the parsed body. */
export async function read<T = Record<string, unknown>>(
  t: Target,
  path: string,
  key = t.adminKey,
): Promise<T> {
  const res = await t.request(path, { headers: bearer(key) });
  if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

/** A write with the admin key (or `key`), expecting `status`; the parsed body. */
export async function write<T = Record<string, unknown>>(
  t: Target,
  method: string,
  path: string,
  body: unknown,
  status = method === "POST" ? 201 : 200,
  key = t.adminKey,
): Promise<T> {
  const res = await t.request(path, jsonRequest(method, body, key));
  const text = await res.text();
  if (res.status !== status) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
  return (text ? JSON.parse(text) : {}) as T;
}

export interface CheckView {
  id: string;
  status: string;
  pingUrl: string;
  name: string;
  slug: string | null;
  lastPingAt: number | null;
  nextDueAt: number | null;
  [field: string]: unknown;
}

export async function createCheck(t: Target, body: Record<string, unknown> = {}): Promise<CheckView> {
  return write<CheckView>(t, "POST", "/api/v1/checks", {
    kind: "heartbeat",
    name: "nightly backup",
    period: 3600,
    grace: 600,
    ...body,
  });
}

export const getCheck = (t: Target, id: string) => read<CheckView>(t, `/api/v1/checks/${id}`);

export async function flips(t: Target, checkId: string): Promise<string[]> {
  const { flips } = await read<{ flips: { from: string; to: string }[] }>(
    t,
    `/api/v1/checks/${checkId}/flips`,
  );
  return flips.map((f) => `${f.from}→${f.to}`);
}

export interface PingView {
  kind: string;
  exitStatus: number | null;
  rid: string | null;
  durationMs: number | null;
  body: string | null;
  userAgent: string | null;
  at: number;
}

export async function pings(t: Target, checkId: string): Promise<PingView[]> {
  return (await read<{ pings: PingView[] }>(t, `/api/v1/checks/${checkId}/pings`)).pings;
}

export async function ping(t: Target, path: string, init?: RequestInit): Promise<Response> {
  const res = await t.request(`/ping/${path}`, init);
  return res;
}

export async function createKey(t: Target, scopes: string[], name = "key"): Promise<string> {
  return (await newKey(t, scopes, name)).key;
}

/** A key made over the API with an admin key (the target's unless `adminKey` names another project's). */
export async function newKey(t: Target, scopes: string[], name = "key", adminKey = t.adminKey) {
  return write<{ key: string; id: string }>(t, "POST", "/api/v1/api-keys", { name, scopes }, 201, adminKey);
}

/** Enrols a host as install.sh does: an enrolment token, then /probe/enroll. */
export async function enrollHost(t: Requester, adminKey: string, facts: Record<string, unknown> = {}) {
  const tokenRes = await t.request(
    "/api/v1/enrollment-tokens",
    jsonRequest("POST", { name: "test" }, adminKey),
  );
  const { token } = (await tokenRes.json()) as { token: string };
  const res = await t.request(
    "/api/v1/probe/enroll",
    jsonRequest("POST", { token, facts: { hostname: "web-1", machineId: crypto.randomUUID(), ...facts } }),
  );
  if (res.status !== 201) throw new Error(`enroll answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as { hostId: string; hostToken: string; config: { intervalSec: number } };
}

async function gzip(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Response(bytes).body?.pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Sends a probe batch as the probe does: gzip JSON with the host token (plain JSON when `gzip: false`). */
export async function sendBatch(
  t: Requester,
  hostToken: string,
  body: unknown,
  options: { gzip?: boolean } = {},
): Promise<Response> {
  const json = new TextEncoder().encode(JSON.stringify(body)) as Uint8Array<ArrayBuffer>;
  const plain = options.gzip === false;
  return t.request("/api/v1/probe/batches", {
    method: "POST",
    headers: {
      authorization: `Bearer ${hostToken}`,
      "content-type": "application/json",
      ...(plain ? {} : { "content-encoding": "gzip" }),
    },
    body: plain ? json : await gzip(json),
  });
}

/** Sends a batch and expects it taken. */
export async function ingest(t: Target, hostToken: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await sendBatch(t, hostToken, body);
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return JSON.parse(text) as Record<string, unknown>;
}

/** An error body in the shared shape, with its code. */
export async function expectError(
  res: Response,
  status: number,
  code?: string,
): Promise<{ message: string }> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  const body = JSON.parse(text) as { error: { code: string; message: string; requestId: string } };
  expect(body.error.requestId).toEqual(expect.any(String));
  if (code) expect(body.error.code).toBe(code);
  return body.error;
}
