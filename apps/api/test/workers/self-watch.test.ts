// Limits and self-watching inside workerd, against sqld: counts that must be global meet in the database.
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { errorBodySchema } from "@vigil/contract";
import { describe, expect, inject, it } from "vitest";
import worker, { type Env } from "../../src/worker.ts";
import { callWorker, cronOnlyEnv } from "./bindings.ts";

const METRICS_TOKEN = "workers-metrics-token-0123456789";

const workerEnv = (extra: Partial<Env> = {}): Env => ({
  ...cronOnlyEnv(),
  LIBSQL_URL: inject("sqldUrl"),
  VIGIL_CHECK_SPREAD_MS: "0",
  VIGIL_METRICS_TOKEN: METRICS_TOKEN,
  ...extra,
});

const call = (path: string, init?: RequestInit, extra: Partial<Env> = {}) =>
  callWorker(workerEnv(extra), path, init);

describe("limits and self-watching on Workers", () => {
  it("answers /readyz with the last cron tick, read from the database", async () => {
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "* * * * *" }), workerEnv(), ctx);
    await waitOnExecutionContext(ctx);
    const res = await call("/readyz");
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      status: string;
      db: { ok: boolean };
      scheduler: { lastTickAt: number };
    };
    expect(body.status).toBe("ready");
    expect(body.db.ok).toBe(true);
    expect(body.scheduler.lastTickAt).toBeGreaterThan(Date.now() - 60_000);
  });

  it("serves the self-metrics with VIGIL_METRICS_TOKEN: this isolate's counters and the database's gauges", async () => {
    await call("/healthz");
    const res = await call("/metrics", { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/^vigil_http_requests_total\{route="\/healthz",method="GET",status="200"\} \d+$/m);
    expect(text).toMatch(/^vigil_scheduler_last_tick_timestamp_seconds \d+/m);
    expect(text).toContain("vigil_ready 1");
    const refused = await call("/metrics", { headers: { authorization: "Bearer not-the-token" } });
    expect(refused.status).toBe(401);
  });

  it("answers pings past the per-check limit with 429 and Retry-After", async () => {
    const limits = { VIGIL_LIMIT_PINGS_PER_CHECK: "2" } as Partial<Env>;
    const id = crypto.randomUUID();
    for (let i = 0; i < 2; i++) expect((await call(`/ping/${id}`, undefined, limits)).status).toBe(404);
    const res = await call(`/ping/${id}`, undefined, limits);
    expect(res.status).toBe(429);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(errorBodySchema.parse(await res.json()).error.code).toBe("RATE_LIMITED");
  });

  it("refuses enrollment past the per-token limit, counted exactly in sqld", async () => {
    // An enrollment token nobody issued: limited before it is checked, counted per token prefix in sqld.
    const token = `vgl_enr_${crypto.randomUUID().replace(/-/g, "").slice(0, 12)}${"x".repeat(32)}`;
    const enroll = () =>
      call(
        "/api/v1/probe/enroll",
        {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ token, facts: { hostname: "web" } }),
        },
        { VIGIL_LIMIT_ENROLL_PER_TOKEN: "1" } as Partial<Env>,
      );
    expect((await enroll()).status).toBe(401);
    const res = await enroll();
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).not.toBeNull();
  });
});
