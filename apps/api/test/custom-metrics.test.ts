// Custom metrics through the API: scraped series arriving in probe batches, pushes in the Prometheus text
// format and JSON, the caps on new series, the catalogue, values, rates and quantiles over time, rollups of
// a project's own series, and the re-export on /metrics (linted by promtool).
import { spawnSync } from "node:child_process";
import { createApiKey } from "@vigil/db/testing";
import { rollUpDirtyHours } from "@vigil/engine";
import { describe, expect, it } from "vitest";
import { defaultConfig } from "../src/deps.ts";
import { batch, bearer, enrollHost, jsonRequest, sendBatch, testApp } from "./helpers.ts";

const T0 = Date.UTC(2026, 10, 27, 12);
const MIN = 60_000;

async function setup(limits: Partial<typeof defaultConfig.limits> = {}) {
  const t = await testApp({ config: { ...defaultConfig, limits: { ...defaultConfig.limits, ...limits } } });
  const ingest = (await createApiKey(t.db, t.project.id, ["ingest"])).key;
  const read = (await createApiKey(t.db, t.project.id, ["read"])).key;
  const push = (body: string, query = "", type = "text/plain; version=0.0.4") =>
    t.app.request(`/api/v1/metrics${query}`, {
      method: "POST",
      headers: { "content-type": type, ...bearer(ingest) },
      body,
    });
  const get = async (path: string) => {
    const res = await t.app.request(path, { headers: bearer(read) });
    return {
      status: res.status,
      body: (await res.json()) as Record<string, unknown> & { [k: string]: never },
    };
  };
  return { ...t, ingest, read, push, get };
}

const scraped = (ts: number, depth: number) => [
  { ts, name: "queue_depth", labels: { job: "app", queue: "mail" }, value: depth, kind: "gauge" },
  { ts, name: "jobs_done_total", labels: { job: "app" }, value: depth * 10, kind: "counter" },
  { ts, name: "up", labels: { job: "app" }, value: 1, kind: "untyped" },
];

describe("custom metrics from the probe", () => {
  it("arrive as series of the host, with their kinds, beside the host's own metrics", async () => {
    const { app, adminKey, get } = await setup();
    const host = await enrollHost(app, adminKey);
    const res = await sendBatch(
      app,
      host.hostToken,
      batch({ samples: [{ ts: T0, load1: 0.5 }], customMetrics: scraped(T0, 7) }),
    );
    expect(res.status).toBe(200);
    expect(((await res.json()) as { stored: { samples: number } }).stored.samples).toBe(4);
    const list = await get(`/api/v1/metrics?host=${host.hostId}`);
    expect(list.status).toBe(200);
    const series = list.body.series as unknown as {
      name: string;
      kind: string;
      labels: object;
      hostId: string;
      lastValue: number;
    }[];
    expect(series.map((s) => [s.name, s.kind, s.lastValue])).toEqual([
      ["jobs_done_total", "counter", 70],
      ["queue_depth", "gauge", 7],
      ["up", "untyped", 1],
    ]);
    expect(series.every((s) => s.hostId === host.hostId)).toBe(true);
    // The built-in catalogue is not part of the custom list.
    expect(series.some((s) => s.name === "load.1")).toBe(false);
  });

  it("leave out new series past the host's cap and say which, while the host's metrics are stored", async () => {
    const { app, adminKey, get, db } = await setup({ maxCustomSeriesPerHost: 2 });
    const host = await enrollHost(app, adminKey);
    const res = await sendBatch(
      app,
      host.hostToken,
      batch({ samples: [{ ts: T0, load1: 0.5 }], customMetrics: scraped(T0, 3) }),
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      stored: Record<string, number>;
      refused: { metric: string; reason: string }[];
    };
    expect(body.stored.refusedSeries).toBe(1);
    expect(body.refused[0]?.metric).toBe('up{job="app"}');
    expect(body.refused[0]?.reason).toContain("VIGIL_MAX_CUSTOM_SERIES_PER_HOST");
    const events = await get(`/api/v1/events?hostId=${host.hostId}`);
    const kinds = (events.body.events as unknown as { kind: string; message: string }[]).map((e) => e.kind);
    expect(kinds).toContain("metrics.refused");
    const builtIn = await db.$client.execute("select count(*) as n from series where name = 'load.1'");
    expect(Number(builtIn.rows[0]?.n)).toBe(1);
  });
});

describe("pushing custom metrics", () => {
  it("stores the Prometheus text format for the project alone, with job as a label", async () => {
    const { push, get } = await setup();
    const text = [
      "# HELP deploy_duration_seconds How long the deploy took.",
      "# TYPE deploy_duration_seconds gauge",
      'deploy_duration_seconds{app="shop"} 42.5',
      "# TYPE nightly_rows gauge",
      "nightly_rows 1200",
      "",
    ].join("\n");
    const res = await push(text, "?job=deploy");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ stored: 2, series: 2, created: 2, skipped: 0 });
    const list = await get("/api/v1/metrics");
    expect(list.body.series).toEqual([
      {
        name: "deploy_duration_seconds",
        kind: "gauge",
        labels: { app: "shop", job: "deploy" },
        hostId: null,
        lastTs: T0,
        lastValue: 42.5,
      },
      {
        name: "nightly_rows",
        kind: "gauge",
        labels: { job: "deploy" },
        hostId: null,
        lastTs: T0,
        lastValue: 1200,
      },
    ]);
  });

  it("takes the JSON form for a named host, and refuses an unknown host with 404", async () => {
    const { app, adminKey, ingest, get } = await setup();
    const host = await enrollHost(app, adminKey);
    const body = { host: "web-1", samples: [{ name: "orders_open", value: 3, ts: T0 - MIN }] };
    const res = await app.request("/api/v1/metrics", jsonRequest("POST", body, ingest));
    expect(res.status).toBe(200);
    const list = await get("/api/v1/metrics?host=web-1");
    expect((list.body.series as unknown as { hostId: string; lastTs: number }[])[0]).toMatchObject({
      hostId: host.hostId,
      lastTs: T0 - MIN,
    });
    const missing = await app.request(
      "/api/v1/metrics",
      jsonRequest("POST", { ...body, host: "db-9" }, ingest),
    );
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { message: string } }).error.message).toContain("db-9");
  });

  it("refuses a malformed line with its number, and stores nothing of that push", async () => {
    const { push, get } = await setup();
    const res = await push("good_metric 1\nbad metric{ 2\n");
    expect(res.status).toBe(400);
    const error = (
      (await res.json()) as { error: { code: string; fields: { path: string; message: string }[] } }
    ).error;
    expect(error.code).toBe("VALIDATION_FAILED");
    expect(error.fields[0]?.message).toMatch(/line 2/);
    expect((await get("/api/v1/metrics")).body.series).toEqual([]);
  });

  it("leaves out NaN and infinite values and counts them", async () => {
    const { push } = await setup();
    const res = await push("# TYPE a gauge\na NaN\nb +Inf\nc 1\n");
    expect(await res.json()).toEqual({ stored: 1, series: 1, created: 1, skipped: 2 });
  });

  it("refuses a push that would pass the project's series cap, naming the metric, and stores none of it", async () => {
    const { push, get } = await setup({ maxCustomSeriesPerProject: 2 });
    expect((await push("a 1\nb 1\n")).status).toBe(200);
    const res = await push('a 2\nc{x="1"} 1\n');
    expect(res.status).toBe(403);
    const error = ((await res.json()) as { error: { code: string; message: string } }).error;
    expect(error.code).toBe("CAP_REACHED");
    expect(error.message).toContain('c{x="1"}');
    expect(error.message).toContain("VIGIL_MAX_CUSTOM_SERIES_PER_PROJECT");
    const list = (await get("/api/v1/metrics")).body.series as unknown as {
      name: string;
      lastValue: number;
    }[];
    expect(list.map((s) => [s.name, s.lastValue])).toEqual([
      ["a", 1],
      ["b", 1],
    ]);
  });

  it("needs an ingest key, a known content type and a body within its limits", async () => {
    const { app, read, ingest, push } = await setup();
    const asReader = await app.request("/api/v1/metrics", {
      method: "POST",
      headers: { "content-type": "text/plain", ...bearer(read) },
      body: "a 1\n",
    });
    expect(asReader.status).toBe(403);
    const xml = await app.request("/api/v1/metrics", {
      method: "POST",
      headers: { "content-type": "application/xml", ...bearer(ingest) },
      body: "<a/>",
    });
    expect(xml.status).toBe(415);
    const many = Array.from({ length: 10_001 }, (_, i) => `m{i="${i}"} 1`).join("\n");
    const tooMany = await push(many);
    expect(tooMany.status).toBe(400);
    const badName = await app.request(
      "/api/v1/metrics",
      jsonRequest("POST", { samples: [{ name: "cpu.user", value: 1 }] }, ingest),
    );
    expect(badName.status).toBe(400);
    expect(JSON.stringify(await badName.json())).toContain("body.samples.0.name");
  });
});

describe("querying custom metrics", () => {
  it("reads a gauge's values and a counter's rate per second over time", async () => {
    const { push, get, clock } = await setup();
    for (let i = 0; i <= 10; i++) {
      clock.set(T0 + i * MIN);
      // 120 jobs a minute: 2 per second.
      await push(`# TYPE jobs_total counter\njobs_total ${i * 120}\n# TYPE depth gauge\ndepth ${i}\n`);
    }
    const values = await get(`/api/v1/metrics/query?name=depth&from=${T0}&to=${T0 + 10 * MIN}&step=300`);
    expect(values.status).toBe(200);
    const depth = values.body.series as unknown as { points: { ts: number; value: number }[] }[];
    expect(depth[0]?.points.map((p) => p.value)).toEqual([2, 7]);
    const rate = await get(
      `/api/v1/metrics/query?name=jobs_total&fn=rate&from=${T0 + 5 * MIN}&to=${T0 + 10 * MIN}&step=120`,
    );
    const points = (rate.body.series as unknown as { points: { value: number | null }[] }[])[0]?.points ?? [];
    expect(points.length).toBeGreaterThan(0);
    for (const p of points) expect(p.value).toBeCloseTo(2, 6);
  });

  it("gives a histogram's quantile from its buckets' rates", async () => {
    const { push, get, clock } = await setup();
    // Each minute 100 observations: 50 under 0.1 s, 40 between 0.1 and 0.5 s, 10 between 0.5 and 1 s.
    for (let i = 0; i <= 10; i++) {
      clock.set(T0 + i * MIN);
      const n = i * 100;
      await push(
        [
          "# TYPE latency_seconds histogram",
          `latency_seconds_bucket{le="0.1"} ${n * 0.5}`,
          `latency_seconds_bucket{le="0.5"} ${n * 0.9}`,
          `latency_seconds_bucket{le="1"} ${n}`,
          `latency_seconds_bucket{le="+Inf"} ${n}`,
          `latency_seconds_sum ${n * 0.2}`,
          `latency_seconds_count ${n}`,
          "",
        ].join("\n"),
      );
    }
    const q = await get(
      `/api/v1/metrics/query?name=latency_seconds&fn=quantile&q=0.7&from=${T0 + 4 * MIN}&to=${T0 + 10 * MIN}&step=120`,
    );
    expect(q.status).toBe(200);
    const series = q.body.series as unknown as { labels: object; points: { value: number | null }[] }[];
    expect(series).toHaveLength(1);
    // The 70th of 100 falls 20 into the 40 between 0.1 and 0.5: 0.1 + 0.4 × 20/40 = 0.3.
    for (const p of series[0]?.points ?? []) expect(p.value).toBeCloseTo(0.3, 6);
    const noQ = await get(`/api/v1/metrics/query?name=latency_seconds&fn=quantile`);
    expect(noQ.status).toBe(400);
  });

  it("rolls a project's own series up by the hour, so long ranges read rollups", async () => {
    const { push, get, clock, db } = await setup();
    for (let i = 0; i < 6; i++) {
      clock.set(T0 + i * 20 * MIN);
      await push(`temperature ${20 + i}\n`);
    }
    clock.set(T0 + 30 * 86_400_000);
    await rollUpDirtyHours(db, clock.now());
    const res = await get(
      `/api/v1/metrics/query?name=temperature&from=${T0 - 3_600_000}&to=${T0 + 86_400_000}&step=3600`,
    );
    expect(res.body.resolution).toBe("hour");
    const points = (
      res.body.series as unknown as { points: { ts: number; value: number; min: number; max: number }[] }[]
    )[0]?.points;
    expect(points).toEqual([
      { ts: T0, value: 21, min: 20, max: 22 },
      { ts: T0 + 3_600_000, value: 24, min: 23, max: 25 },
    ]);
  });
});

describe("the /metrics re-export", () => {
  it("carries custom series under their own names and types with the host added, clean under promtool", async () => {
    const { app, adminKey, push, read } = await setup();
    const host = await enrollHost(app, adminKey);
    await sendBatch(app, host.hostToken, batch({ customMetrics: scraped(T0, 5) }));
    await push(
      '# TYPE req_seconds histogram\nreq_seconds_bucket{le="1"} 3\nreq_seconds_bucket{le="+Inf"} 4\nreq_seconds_sum 2.5\nreq_seconds_count 4\n',
    );
    const res = await app.request("/metrics", { headers: bearer(read) });
    const text = await res.text();
    expect(text).toContain("# TYPE jobs_done_total counter");
    expect(text).toContain(`queue_depth{host="web-1",host_id="${host.hostId}",job="app",queue="mail"} 5`);
    expect(text).toContain("# TYPE req_seconds histogram");
    expect(text).toContain('req_seconds_bucket{le="+Inf"} 4');
    const lint = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
    expect(lint.status, lint.stdout + lint.stderr).toBe(0);
  });
});
