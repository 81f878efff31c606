import { spawnSync } from "node:child_process";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createAdaptorServer } from "@hono/node-server";
import { errorBodySchema } from "@vigil/contract";
import { createApiKey } from "@vigil/db/testing";
import { afterEach, describe, expect, it } from "vitest";
import { defaultConfig } from "../src/app.ts";
import { type AppDeps, defaultSelfWatch, type SelfWatchConfig } from "../src/deps.ts";
import { notifyJob, type ScheduledJob, scheduledJobs } from "../src/scheduler.ts";
import type { Readiness } from "../src/self/readiness.ts";
import { createRuntime } from "../src/self/runtime.ts";
import { runWatchedTick } from "../src/self/watched-tick.ts";
import { batch, bearer, enrollHost, jsonRequest, sendBatch, testApp } from "./helpers.ts";
import { publicHeartbeat } from "./status-helpers.ts";

const METRICS_TOKEN = "metrics-token-for-tests-0123456789";
const MINUTE = 60_000;

async function watchedApp(selfWatch: Partial<SelfWatchConfig> = {}, extra: Partial<AppDeps> = {}) {
  return testApp({
    config: {
      ...defaultConfig,
      secretKey: "test-secret-key-0123456789abcdef",
      allowPrivateTargets: true,
      selfWatch: { ...defaultSelfWatch, metricsToken: METRICS_TOKEN, ...selfWatch },
    },
    // The runtime the entries make and hand to the app and the scheduler alike (testApp's clock start).
    runtime: createRuntime(Date.UTC(2026, 10, 27, 12)),
    ...extra,
  });
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((done) => s.close(done))));
});

async function listen(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A receiver that records each request and answers when `release` is called (at once unless held). */
async function receiver(options: { hold?: boolean } = {}) {
  const seen: string[] = [];
  const waiting: ServerResponse[] = [];
  const url = await listen(
    createServer((req: IncomingMessage, res: ServerResponse) => {
      seen.push(`${req.method} ${req.url}`);
      req.resume();
      if (options.hold) waiting.push(res);
      else res.end("OK");
    }),
  );
  const release = () => {
    for (const res of waiting.splice(0)) res.end("OK");
  };
  return { url, seen, release };
}

const readyz = async (app: Awaited<ReturnType<typeof testApp>>["app"]) => {
  const res = await app.request("/readyz");
  return { status: res.status, body: (await res.json()) as Readiness & { error?: unknown } };
};

const scrape = async (app: Awaited<ReturnType<typeof testApp>>["app"], token = METRICS_TOKEN) =>
  app.request("/metrics", { headers: bearer(token) });

describe("/readyz", () => {
  it("reports database latency, scheduler lag and the outbox, 200 while all are within bounds", async () => {
    const { app, deps } = await watchedApp();
    await runWatchedTick(deps, []);
    const { status, body } = await readyz(app);
    expect(status).toBe(200);
    expect(body.status).toBe("ready");
    expect(body.reasons).toEqual([]);
    expect(body.db.ok).toBe(true);
    expect(body.db.latencyMs).toBeGreaterThanOrEqual(0);
    expect(body.scheduler).toEqual({ lastTickAt: deps.clock.now(), lagMs: 0 });
    expect(body.outbox).toEqual({ flips: 0, notices: 0, deliveries: 0, oldestDueAt: null, delayMs: 0 });
    // /healthz stays the cheap liveness check it was.
    expect((await app.request("/healthz")).status).toBe(200);
  });

  it("answers 503 with the reason, in the error shape, when the scheduler has stopped ticking", async () => {
    const { app, deps, clock } = await watchedApp();
    await runWatchedTick(deps, []);
    clock.advance(4 * MINUTE);
    const { status, body } = await readyz(app);
    expect(status).toBe(503);
    expect(body.status).toBe("unready");
    expect(body.reasons).toEqual(["the scheduler last completed a tick 240 s ago (limit 180 s)"]);
    expect(errorBodySchema.parse(body).error).toMatchObject({ code: "UNAVAILABLE" });
    expect(errorBodySchema.parse(body).error.message).toContain("240 s ago");

    await runWatchedTick(deps, []);
    expect((await readyz(app)).status).toBe(200);
  });

  it("sees a tick completed by another process on the same database", async () => {
    const { app, deps, clock } = await watchedApp();
    clock.advance(10 * MINUTE);
    expect((await readyz(app)).status).toBe(503);
    await runWatchedTick({ ...deps, runtime: undefined }, []);
    expect((await readyz(app)).status).toBe(200);
  });

  it("answers 503 when a state change has waited in the outbox past the limit, and 200 once it is sent", async () => {
    const { app, deps, clock, adminKey } = await watchedApp();
    const check = await publicHeartbeat(app, adminKey, "backup");
    await app.request(`/ping/${check.id}/fail`);
    let { body } = await readyz(app);
    expect(body.outbox).toMatchObject({ flips: 1, oldestDueAt: clock.now(), delayMs: 0 });

    clock.advance(11 * MINUTE);
    await runWatchedTick(deps, []); // the scheduler runs, but without the notify job
    ({ body } = await readyz(app));
    expect(body.status).toBe("unready");
    expect(body.reasons).toEqual(["the outbox has notices waiting 660 s past their due time (limit 600 s)"]);

    await runWatchedTick(deps, [notifyJob]);
    ({ body } = await readyz(app));
    expect(body.status).toBe("ready");
    expect(body.outbox?.flips).toBe(0);
  });

  it("answers 503 when the database cannot be reached", async () => {
    const { app, db } = await watchedApp();
    db.$client.close();
    const { status, body } = await readyz(app);
    expect(status).toBe(503);
    expect(body.reasons).toEqual(["database unreachable"]);
  });
});

describe("/metrics, Vigil's own", () => {
  it("is read with VIGIL_METRICS_TOKEN only; a read key still gets its project's host metrics", async () => {
    const { app, db, project } = await watchedApp();
    const read = await createApiKey(db, project.id, ["read"]);
    const self = await scrape(app);
    expect(self.status).toBe(200);
    expect(self.headers.get("content-type")).toContain("text/plain; version=0.0.4");
    expect(await self.text()).toContain("vigil_ready 1");

    const projectView = await scrape(app, read.key);
    expect(projectView.status).toBe(200);
    expect(await projectView.text()).not.toContain("vigil_http_requests_total");

    const wrong = await scrape(app, "metrics-token-for-tests-0123456788");
    expect(wrong.status).toBe(401);
    expect(errorBodySchema.parse(await wrong.json()).error.code).toBe("UNAUTHORIZED");
  });

  it("cannot be read at all while no token is set", async () => {
    const { app } = await watchedApp({ metricsToken: undefined });
    expect((await scrape(app)).status).toBe(401);
    expect((await app.request("/metrics")).status).toBe(401);
  });

  it("counts requests, pings, ticks and deliveries, with each check's status and uptime, clean under promtool", async () => {
    const hook = await receiver();
    const { app, deps, adminKey, project, clock } = await watchedApp();
    await app.request(
      "/api/v1/channels",
      jsonRequest(
        "POST",
        { kind: "webhook", name: "ops", url: `${hook.url}/hook`, isDefault: true },
        adminKey,
      ),
    );
    const up = await publicHeartbeat(app, adminKey, "nightly");
    const down = await publicHeartbeat(app, adminKey, "backup");
    await app.request(`/ping/${up.id}`);
    clock.advance(MINUTE);
    await app.request(`/ping/${down.id}/fail`);
    clock.advance(MINUTE);
    await app.request(`/ping/${crypto.randomUUID()}`);
    await app.request("/api/v1/nothing-here", { headers: bearer(adminKey) });
    await runWatchedTick(deps, scheduledJobs);
    expect(hook.seen).toHaveLength(1);

    const text = await (await scrape(app)).text();
    const lines = text.split("\n");
    expect(lines).toContain('vigil_http_requests_total{route="/ping/*",method="GET",status="200"} 2');
    expect(lines).toContain('vigil_http_requests_total{route="/ping/*",method="GET",status="404"} 1');
    expect(lines).toContain('vigil_http_requests_total{route="unmatched",method="GET",status="404"} 1');
    expect(lines).toContain('vigil_http_requests_total{route="/api/v1/checks",method="POST",status="201"} 2');
    expect(lines).toContain('vigil_pings_total{result="ok"} 2');
    expect(lines).toContain('vigil_pings_total{result="not_found"} 1');
    expect(lines).toContain('vigil_scheduler_ticks_total{result="ok"} 1');
    expect(lines).toContain("vigil_scheduler_tick_duration_seconds_count 1");
    expect(lines).toContain('vigil_scheduler_tick_duration_seconds_bucket{le="+Inf"} 1');
    expect(lines).toContain('vigil_deliveries_total{result="sent"} 1');
    expect(lines).toContain('vigil_scheduler_jobs_total{job="checks",result="ran"} 1');
    expect(lines).toContain('vigil_scheduler_jobs_total{job="retention",result="ran"} 1');
    expect(lines).toContain(
      `vigil_check_status{project_id="${project.id}",check_id="${up.id}",kind="heartbeat",status="up"} 1`,
    );
    expect(lines).toContain(
      `vigil_check_status{project_id="${project.id}",check_id="${down.id}",kind="heartbeat",status="down"} 1`,
    );
    // One up for the two minutes since its ping; the other down for the minute since its fail.
    expect(lines).toContain(`vigil_check_uptime_ratio{project_id="${project.id}",check_id="${up.id}"} 1`);
    expect(lines).toContain(`vigil_check_uptime_ratio{project_id="${project.id}",check_id="${down.id}"} 0`);
    expect(lines).toContain('vigil_outbox_backlog{stage="flips"} 0');
    expect(lines).toContain(`vigil_scheduler_last_tick_timestamp_seconds ${clock.now() / 1000}`);

    const lint = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
    expect(lint.error, "promtool must be installed (Debian package prometheus)").toBeUndefined();
    expect(`${lint.stdout}${lint.stderr}`.trim()).toBe("");
    expect(lint.status).toBe(0);
  });

  it("counts what the process's caches saved and how its writes were grouped", async () => {
    const { app, adminKey } = await watchedApp();
    const check = await publicHeartbeat(app, adminKey, "nightly");
    // The first ping reads the check and flips it up; the next two find it in the cache and only move
    // its deadlines, each in a group commit of its own (they are sent one after another).
    for (let i = 0; i < 3; i++) expect((await app.request(`/ping/${check.id}`)).status).toBe(200);

    const lines = (await (await scrape(app)).text()).split("\n");
    expect(lines).toContain('vigil_cache_lookups_total{cache="pingChecks",result="miss"} 1');
    expect(lines).toContain('vigil_cache_lookups_total{cache="pingChecks",result="hit"} 2');
    expect(lines).toContain('vigil_group_commits_total{purpose="check-state"} 1');
    expect(lines).toContain('vigil_group_commits_total{purpose="pings"} 2');
    expect(lines).toContain('vigil_group_commit_items_total{purpose="pings"} 2');
  });

  it("counts batches by result and refusals by limit", async () => {
    const { app, deps, adminKey } = await watchedApp({}, {});
    deps.config.limits = { ...deps.config.limits, pingsPerCheck: { max: 1, window: 60 } };
    const check = await publicHeartbeat(app, adminKey, "busy");
    await app.request(`/ping/${check.id}`);
    expect((await app.request(`/ping/${check.id}`)).status).toBe(429);
    const host = await enrollHost(app, adminKey);
    const sent = batch();
    expect((await sendBatch(app, host.hostToken, sent)).status).toBe(200);
    expect((await sendBatch(app, host.hostToken, sent)).status).toBe(200);
    const text = await (await scrape(app)).text();
    expect(text).toContain('vigil_probe_batches_total{result="stored"} 1');
    expect(text).toContain('vigil_probe_batches_total{result="duplicate"} 1');
    expect(text).toContain('vigil_rate_limited_total{limit="pingsPerCheck"} 1');
    expect(text).toContain('vigil_pings_total{result="rate_limited"} 1');
    expect(text).toContain('vigil_http_requests_total{route="/ping/*",method="GET",status="429"} 1');
  });
});

describe("the dead-man switch (VIGIL_HEARTBEAT_URL)", () => {
  it("pings another Vigil's check after a healthy tick, at most once a minute", async () => {
    // The watcher: a second Vigil over real HTTP, with a heartbeat check for the first one.
    const watcher = await watchedApp();
    const check = await publicHeartbeat(watcher.app, watcher.adminKey, "vigil itself");
    const watcherUrl = await listen(createAdaptorServer({ fetch: watcher.app.fetch }) as Server);

    const { deps, clock } = await watchedApp({ heartbeatUrl: `${watcherUrl}/ping/${check.id}` });
    const first = await runWatchedTick(deps, []);
    await first.heartbeat;
    const pinged = await watcher.app.request(`/api/v1/checks/${check.id}`, {
      headers: bearer(watcher.adminKey),
    });
    expect(await pinged.json()).toMatchObject({ status: "up" });

    const hook = await receiver();
    deps.config.selfWatch = { ...deps.config.selfWatch, heartbeatUrl: `${hook.url}/hc` };
    clock.advance(30_000);
    expect((await runWatchedTick(deps, [])).heartbeat).toBeNull();
    clock.advance(30_000);
    await (await runWatchedTick(deps, [])).heartbeat;
    expect(hook.seen).toEqual(["GET /hc"]);
  });

  it("stays quiet after a tick where a job failed", async () => {
    const hook = await receiver();
    const { deps } = await watchedApp({ heartbeatUrl: `${hook.url}/hc` });
    const broken: ScheduledJob = {
      name: "broken",
      run: async () => {
        throw new Error("job failed on purpose");
      },
    };
    const tick = await runWatchedTick(deps, [broken]);
    expect(tick.failed).toEqual(["broken"]);
    expect(tick.heartbeat).toBeNull();
    expect(hook.seen).toEqual([]);
  });

  it("never holds up the tick: a receiver that does not answer is cut off by the timeout", async () => {
    const hook = await receiver({ hold: true });
    const { deps, app } = await watchedApp({ heartbeatUrl: `${hook.url}/hc`, heartbeatTimeoutMs: 2_000 });
    const tick = await runWatchedTick(deps, []);
    // The tick has returned while the receiver still holds the request.
    expect(tick.failed).toEqual([]);
    await tick.heartbeat;
    expect(hook.seen).toEqual(["GET /hc"]);
    hook.release();
    const text = await (await scrape(app)).text();
    expect(text).toContain('vigil_heartbeat_pings_total{result="failed"} 1');
  });
});
