// Runs inside workerd: the real Worker entry, talking to sqld over HTTP like a deployed Worker to Turso.
import {
  createExecutionContext,
  createScheduledController,
  env,
  waitOnExecutionContext,
} from "cloudflare:test";
import { createDb } from "@vigil/db";
import { describe, expect, inject, it } from "vitest";
import worker, { type Env } from "../../src/worker.ts";

// No spreading of HTTP runs over the minute in tests: scheduled() should finish at once.
const workerEnv = (): Env => ({
  ...(env as unknown as Env),
  LIBSQL_URL: inject("sqldUrl"),
  VIGIL_CHECK_SPREAD_MS: "0",
});

// What workerd hands a Worker: a Request carrying incoming `cf` properties.
const incoming = (path: string, init?: RequestInit) =>
  new Request(`https://vigil.test${path}`, init) as Request<unknown, IncomingRequestCfProperties>;

async function call(path: string, init?: RequestInit) {
  const ctx = createExecutionContext();
  const res = await worker.fetch(incoming(path, init), workerEnv(), ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

describe("the Worker in workerd", () => {
  it("runs in the Workers runtime", () => {
    const { navigator } = globalThis as unknown as { navigator: { userAgent: string } };
    expect(navigator.userAgent).toBe("Cloudflare-Workers");
  });

  it("answers /healthz with the database reachable through sqld", async () => {
    const res = await call("/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "ok", db: "ok" });
  });

  it("answers /healthz with 503 when the database cannot be reached", async () => {
    const ctx = createExecutionContext();
    const res = await worker.fetch(
      incoming("/healthz"),
      { ...workerEnv(), LIBSQL_URL: "http://127.0.0.1:9" },
      ctx,
    );
    expect(res.status).toBe(503);
  });

  it("serves an authenticated route from the project stored in sqld", async () => {
    const res = await call("/api/v1/projects/current", {
      headers: { authorization: `Bearer ${inject("readKey")}` },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: inject("projectId") });
  });

  it("creates an API key through the web client and then accepts it", async () => {
    const created = await call("/api/v1/api-keys", {
      method: "POST",
      headers: { authorization: `Bearer ${inject("adminKey")}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "from workerd", scopes: ["read"] }),
    });
    expect(created.status).toBe(201);
    const { key } = (await created.json()) as { key: string };
    const res = await call("/api/v1/projects/current", { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(200);
  });

  it("refuses a missing key with 401 in the error shape", async () => {
    const res = await call("/api/v1/projects/current");
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: "UNAUTHORIZED" } });
  });

  it("runs the scheduled handler without failing", async () => {
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "* * * * *" }), workerEnv(), ctx);
    await waitOnExecutionContext(ctx);
  });

  it("takes Healthchecks-style pings and drives the checks tick from scheduled() against sqld", async () => {
    const admin = { authorization: `Bearer ${inject("adminKey")}` };
    const created = await call("/api/v1/checks", {
      method: "POST",
      headers: { ...admin, "content-type": "application/json" },
      body: JSON.stringify({ kind: "heartbeat", name: "cron in workerd", period: 3600, grace: 600 }),
    });
    expect(created.status).toBe(201);
    const { id, pingUrl } = (await created.json()) as { id: string; pingUrl: string };
    expect(pingUrl).toBe(`https://vigil.test/ping/${id}`);
    const ping = await call(`/ping/${id}`, { method: "POST", body: "backup done" });
    expect(ping.status).toBe(200);
    expect(await ping.text()).toBe("OK");

    // The Worker runs on the real clock: move the due time into the past rather than wait an hour.
    const db = createDb({ url: inject("sqldUrl") });
    const past = Date.now() - 1000;
    await db.$client.execute({
      sql: "update checks set next_due_at = ?, alert_after = ? where id = ?",
      args: [past, past, id],
    });
    db.$client.close();

    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "* * * * *" }), workerEnv(), ctx);
    await waitOnExecutionContext(ctx);

    const check = (await (await call(`/api/v1/checks/${id}`, { headers: admin })).json()) as {
      status: string;
    };
    expect(check.status).toBe("late");
    const { flips } = (await (await call(`/api/v1/checks/${id}/flips`, { headers: admin })).json()) as {
      flips: { from: string; to: string }[];
    };
    expect(flips.map((f) => `${f.from}→${f.to}`)).toEqual(["up→late", "new→up"]);
    const { pings } = (await (await call(`/api/v1/checks/${id}/pings`, { headers: admin })).json()) as {
      pings: { body: string | null; kind: string }[];
    };
    expect(pings[0]).toMatchObject({ kind: "success", body: "backup done" });
  });
});
