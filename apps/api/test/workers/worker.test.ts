// Runs inside workerd: the real Worker entry, talking to sqld over HTTP like a deployed Worker to Turso.
import {
  createExecutionContext,
  createScheduledController,
  env,
  waitOnExecutionContext,
} from "cloudflare:test";
import { describe, expect, inject, it } from "vitest";
import worker, { type Env } from "../../src/worker.ts";

const workerEnv = (): Env => ({ ...(env as unknown as Env), LIBSQL_URL: inject("sqldUrl") });

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
});
