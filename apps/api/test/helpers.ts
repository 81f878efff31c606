import { gzipSync } from "node:zlib";
import { createApiKey, createProject, createTestDb } from "@vigil/db/testing";
import { manualClock } from "@vigil/engine/testing";
import { createApp, defaultConfig } from "../src/app.ts";
import type { AppDeps } from "../src/deps.ts";

/** A fresh app on its own in-memory database with one project and an admin key; `extra` adds deps. */
export async function testApp(extra: Partial<Omit<AppDeps, "db" | "clock">> = {}) {
  const db = await createTestDb();
  const clock = manualClock(Date.UTC(2026, 10, 27, 12));
  const config = { ...defaultConfig, secretKey: "test-secret-key-0123456789abcdef" };
  const deps: AppDeps = { db, clock, config, ...extra };
  const app = createApp(deps);
  const project = await createProject(db);
  const admin = await createApiKey(db, project.id, ["admin"]);
  return { app, db, clock, deps, project, adminKey: admin.key };
}

export const bearer = (key: string) => ({ Authorization: `Bearer ${key}` });

export const jsonRequest = (method: string, body: unknown, key?: string): RequestInit => ({
  method,
  headers: { "content-type": "application/json", ...(key ? bearer(key) : {}) },
  body: typeof body === "string" ? body : JSON.stringify(body),
});

type App = Awaited<ReturnType<typeof testApp>>["app"];

/** Enrolls a host through the API, as install.sh does: an enrollment token, then /probe/enroll. */
export async function enrollHost(app: App, adminKey: string, facts: Record<string, unknown> = {}) {
  const tokenRes = await app.request(
    "/api/v1/enrollment-tokens",
    jsonRequest("POST", { name: "test" }, adminKey),
  );
  const { token } = (await tokenRes.json()) as { token: string };
  const res = await app.request(
    "/api/v1/probe/enroll",
    jsonRequest("POST", { token, facts: { hostname: "web-1", machineId: crypto.randomUUID(), ...facts } }),
  );
  if (res.status !== 201) throw new Error(`enroll answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as { hostId: string; hostToken: string; config: { intervalSec: number } };
}

let batchCounter = 0;
/** A batch with a fresh id; fields override. */
export function batch(fields: Record<string, unknown> = {}) {
  return {
    v: 1,
    batchId: `batch-${Date.now()}-${batchCounter++}`,
    sentAt: Date.UTC(2026, 10, 27, 12),
    ...fields,
  };
}

export async function sendBatch(
  app: App,
  hostToken: string,
  body: unknown,
  options: { gzip?: boolean } = {},
) {
  const json = new TextEncoder().encode(JSON.stringify(body));
  const payload = options.gzip === false ? json : gzipSync(json);
  return app.request("/api/v1/probe/batches", {
    method: "POST",
    headers: {
      authorization: `Bearer ${hostToken}`,
      "content-type": "application/json",
      ...(options.gzip === false ? {} : { "content-encoding": "gzip" }),
    },
    body: payload,
  });
}

/** A probe batch: the root filesystem `pct` full, and optionally a backup run that just ended. */
export function hostBatch(ts: number, pct: number, backup?: "success" | "failure") {
  return batch({
    sentAt: ts,
    facts: { hostname: "web-1", cpuCount: 2 },
    samples: [{ ts, cpu: { userPct: 3, systemPct: 2, iowaitPct: 0.5, idlePct: 94.5 }, load1: 0.2 }],
    filesystems: [
      {
        ts,
        mount: "/",
        device: "/dev/vda1",
        fstype: "ext4",
        sizeBytes: 100e9,
        usedBytes: pct * 1e9,
        availableBytes: (100 - pct) * 1e9,
      },
    ],
    ...(backup
      ? { backups: [{ name: "db", tool: "restic", status: backup, startedAt: ts - 60_000, endedAt: ts }] }
      : {}),
  });
}

/**
 * Polls `read` until `done` holds, or fails naming `what` with the last value seen. For end-to-end tests
 * whose daemons and scheduler run on real time (the rest move an injected clock).
 */
export async function until<T>(
  what: string,
  read: () => Promise<T>,
  done: (value: T) => boolean,
  ms = 60_000,
) {
  const deadline = Date.now() + ms;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await read();
    if (done(last)) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}; last seen ${JSON.stringify(last)?.slice(0, 800)}`);
}

/** The REST API with a key, as a script would call it; anything but 2xx throws with the answer. */
export async function callApi<T>(
  baseUrl: string,
  key: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const res = await fetch(`${baseUrl}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${await res.text()}`);
  return (res.status === 204 ? undefined : await res.json()) as T;
}
