// The status page served by the Worker entry inside workerd, with renders kept in the Cache API.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, inject, it } from "vitest";
import worker, { type Env } from "../../src/worker.ts";
import { cronOnlyEnv } from "./bindings.ts";

const workerEnv = (): Env => ({ ...cronOnlyEnv(), LIBSQL_URL: inject("sqldUrl") });

async function call(path: string, init?: RequestInit) {
  const ctx = createExecutionContext();
  const request = new Request(`https://vigil.test${path}`, init) as Request<
    unknown,
    IncomingRequestCfProperties
  >;
  const res = await worker.fetch(request, workerEnv(), ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

const admin = () => ({ authorization: `Bearer ${inject("adminKey")}`, "content-type": "application/json" });

describe("the status page in workerd", () => {
  it("serves HTML and JSON from the Worker, from the Cache API until the check changes state", async () => {
    const check = (await (
      await call("/api/v1/checks", {
        method: "POST",
        headers: admin(),
        body: JSON.stringify({ kind: "heartbeat", name: "edge api", period: 3600, public: true }),
      })
    ).json()) as { id: string };
    await call(`/ping/${check.id}`);
    const slug = `edge-${check.id.slice(0, 8)}`;
    const created = await call("/api/v1/status-pages", {
      method: "POST",
      headers: admin(),
      body: JSON.stringify({
        slug,
        title: "Edge",
        components: [{ type: "check", id: check.id, name: "API" }],
      }),
    });
    expect(created.status).toBe(201);

    const first = await call(`/status/${slug}`);
    expect(first.status).toBe(200);
    expect(first.headers.get("x-vigil-cache")).toBe("miss");
    expect(await first.text()).toContain("All systems operational");
    const second = await call(`/status/${slug}`);
    expect(second.headers.get("x-vigil-cache")).toBe("hit");

    const json = await call(`/api/v1/status/${slug}`);
    expect(json.headers.get("cache-control")).toMatch(/^public, max-age=\d+$/);
    expect(await json.json()).toMatchObject({ status: "operational", page: { slug } });

    await call(`/ping/${check.id}/fail`);
    const after = await call(`/status/${slug}`);
    expect(after.headers.get("x-vigil-cache")).toBe("miss");
    expect(await after.text()).toContain("Major outage");
  });
});
