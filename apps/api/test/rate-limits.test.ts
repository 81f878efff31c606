import { errorBodySchema } from "@vigil/contract";
import { createApiKey } from "@vigil/db/testing";
import { describe, expect, it } from "vitest";
import { createApp, defaultConfig } from "../src/app.ts";
import { defaultLimits, type Limits, limitsFromEnv } from "../src/limits.ts";
import { StartupError, settingsFromEnv } from "../src/server.ts";
import { bearer, jsonRequest, testApp } from "./helpers.ts";
import { post, publicHeartbeat } from "./status-helpers.ts";

/** The caller's address comes from a test header here; the real entries read the socket or CF-Connecting-IP. */
const fromHeader = (request: Request) => request.headers.get("x-test-address");
const from = (address: string): RequestInit => ({ headers: { "x-test-address": address } });

async function limitedApp(limits: Partial<Limits>) {
  return testApp({
    config: {
      ...defaultConfig,
      secretKey: "test-secret-key-0123456789abcdef",
      limits: { ...defaultLimits, ...limits },
    },
    clientAddress: fromHeader,
  });
}

/** A 429 in the one error shape, with a Retry-After in whole seconds. */
async function expectRateLimited(res: Response, setting: string): Promise<number> {
  expect(res.status).toBe(429);
  const body = errorBodySchema.parse(await res.json());
  expect(body.error.code).toBe("RATE_LIMITED");
  expect(body.error.message).toContain(setting);
  const retryAfter = Number(res.headers.get("retry-after"));
  expect(Number.isInteger(retryAfter) && retryAfter >= 1).toBe(true);
  return retryAfter;
}

async function expectCapReached(res: Response, setting: string) {
  expect(res.status).toBe(403);
  const body = errorBodySchema.parse(await res.json());
  expect(body.error.code).toBe("CAP_REACHED");
  expect(body.error.message).toContain(setting);
}

const heartbeat = (name: string) => ({ kind: "heartbeat", name, period: 3600, grace: 600 });

describe("rate limits", () => {
  it("answers pings to one check past its limit with 429 and Retry-After, and again once the window passes", async () => {
    const { app, adminKey, clock } = await limitedApp({ pingsPerCheck: { max: 3, window: 60 } });
    const busy = await publicHeartbeat(app, adminKey, "busy");
    const quiet = await publicHeartbeat(app, adminKey, "quiet");
    for (let i = 0; i < 3; i++) expect((await app.request(`/ping/${busy.id}`)).status).toBe(200);
    const retryAfter = await expectRateLimited(
      await app.request(`/ping/${busy.id}`),
      "VIGIL_LIMIT_PINGS_PER_CHECK",
    );
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect((await app.request(`/ping/${quiet.id}`)).status).toBe(200);

    clock.advance(retryAfter * 1000);
    expect((await app.request(`/ping/${busy.id}`)).status).toBe(200);
  });

  it("counts slug-form pings per check too", async () => {
    const { app, adminKey, project } = await limitedApp({ pingsPerCheck: { max: 2, window: 60 } });
    await app.request("/api/v1/checks", jsonRequest("POST", heartbeat("nightly"), adminKey));
    for (let i = 0; i < 2; i++)
      expect((await app.request(`/ping/${project.pingKey}/nightly`)).status).toBe(200);
    await expectRateLimited(
      await app.request(`/ping/${project.pingKey}/nightly`),
      "VIGIL_LIMIT_PINGS_PER_CHECK",
    );
  });

  it("limits pings per source address, never this machine's own (loopback) pings", async () => {
    const { app, adminKey } = await limitedApp({ pingsPerAddress: { max: 3, window: 60 } });
    const checks = await Promise.all(["a", "b", "c", "d"].map((n) => publicHeartbeat(app, adminKey, n)));
    for (const check of checks.slice(0, 3)) {
      expect((await app.request(`/ping/${check.id}`, from("203.0.113.7"))).status).toBe(200);
    }
    await expectRateLimited(
      await app.request(`/ping/${checks[3]?.id}`, from("203.0.113.7")),
      "VIGIL_LIMIT_PINGS_PER_ADDRESS",
    );
    expect((await app.request(`/ping/${checks[3]?.id}`, from("198.51.100.9"))).status).toBe(200);
    for (let i = 0; i < 6; i++) {
      expect((await app.request(`/ping/${checks[0]?.id}`, from("127.0.0.1"))).status).toBe(200);
      expect((await app.request(`/ping/${checks[1]?.id}`, from("::ffff:127.0.0.1"))).status).toBe(200);
    }
  });

  it("limits checks created by ?create=1 per ping key, while existing slugs keep working", async () => {
    const { app, project } = await limitedApp({ pingCreatesPerKey: { max: 2, window: 3600 } });
    expect((await app.request(`/ping/${project.pingKey}/job-1?create=1`)).status).toBe(201);
    expect((await app.request(`/ping/${project.pingKey}/job-2?create=1`)).status).toBe(201);
    await expectRateLimited(
      await app.request(`/ping/${project.pingKey}/job-3?create=1`),
      "VIGIL_LIMIT_PING_CREATES",
    );
    expect((await app.request(`/ping/${project.pingKey}/job-1?create=1`)).status).toBe(200);
    expect((await app.request(`/ping/${project.pingKey}/job-3`)).status).toBe(404);
  });

  it("limits enrollment per token and per address", async () => {
    const { app, adminKey } = await limitedApp({
      enrollPerToken: { max: 2, window: 3600 },
      enrollPerAddress: { max: 3, window: 3600 },
    });
    const token = async () => {
      const res = await app.request(
        "/api/v1/enrollment-tokens",
        jsonRequest("POST", { name: "t" }, adminKey),
      );
      return ((await res.json()) as { token: string }).token;
    };
    const enroll = (t: string, address: string) =>
      app.request("/api/v1/probe/enroll", {
        ...jsonRequest("POST", { token: t, facts: { hostname: "web", machineId: crypto.randomUUID() } }),
        headers: { "content-type": "application/json", "x-test-address": address },
      });
    const first = await token();
    expect((await enroll(first, "203.0.113.1")).status).toBe(201);
    expect((await enroll(first, "203.0.113.2")).status).toBe(201);
    await expectRateLimited(await enroll(first, "203.0.113.3"), "VIGIL_LIMIT_ENROLL_PER_TOKEN");

    const second = await token();
    expect((await enroll(second, "198.51.100.1")).status).toBe(201);
    expect((await enroll(second, "198.51.100.1")).status).toBe(201);
    const third = await token();
    expect((await enroll(third, "198.51.100.1")).status).toBe(201);
    await expectRateLimited(await enroll(third, "198.51.100.1"), "VIGIL_LIMIT_ENROLL_PER_ADDRESS");
  });

  it("limits public status pages per address, HTML and JSON alike", async () => {
    const { app, adminKey } = await limitedApp({ statusPerAddress: { max: 3, window: 60 } });
    const api = await publicHeartbeat(app, adminKey, "API");
    await post(app, adminKey, "/api/v1/status-pages", {
      slug: "acme",
      title: "Acme",
      components: [{ type: "check", id: api.id, name: "API", heading: "Backend" }],
    });
    expect((await app.request("/status/acme", from("203.0.113.5"))).status).toBe(200);
    expect((await app.request("/api/v1/status/acme", from("203.0.113.5"))).status).toBe(200);
    expect((await app.request("/status/acme/badge.svg", from("203.0.113.5"))).status).toBe(200);
    await expectRateLimited(
      await app.request("/status/acme", from("203.0.113.5")),
      "VIGIL_LIMIT_STATUS_PER_ADDRESS",
    );
    await expectRateLimited(
      await app.request("/api/v1/status/acme", from("203.0.113.5")),
      "VIGIL_LIMIT_STATUS_PER_ADDRESS",
    );
    expect((await app.request("/status/acme", from("203.0.113.6"))).status).toBe(200);
  });

  it("limits subscriptions per address and per page, and subscribers per project", async () => {
    const { app, adminKey } = await limitedApp({
      subscribePerAddress: { max: 2, window: 3600 },
      subscribePerPage: { max: 3, window: 3600 },
      maxSubscribers: 2,
    });
    const api = await publicHeartbeat(app, adminKey, "API");
    await post(app, adminKey, "/api/v1/status-pages", {
      slug: "acme",
      title: "Acme",
      components: [{ type: "check", id: api.id, name: "API" }],
    });
    const join = (address: string, hook: string) =>
      app.request("/api/v1/status/acme/subscribers", {
        method: "POST",
        headers: { "x-test-address": address, "content-type": "application/json" },
        body: JSON.stringify({ webhook: `https://hooks.example.org/${hook}` }),
      });
    expect((await join("203.0.113.5", "a")).status).toBe(202);
    expect((await join("203.0.113.5", "b")).status).toBe(202);
    await expectRateLimited(await join("203.0.113.5", "c"), "VIGIL_LIMIT_SUBSCRIBE_PER_ADDRESS");
    await expectCapReached(await join("203.0.113.6", "c"), "VIGIL_MAX_SUBSCRIBERS");
    await expectRateLimited(await join("203.0.113.7", "d"), "VIGIL_LIMIT_SUBSCRIBE_PER_PAGE");
  });

  it("limits API requests per key, each key on its own", async () => {
    const { app, db, project, adminKey } = await limitedApp({ apiPerKey: { max: 3, window: 60 } });
    const other = await createApiKey(db, project.id, ["read"]);
    for (let i = 0; i < 3; i++) {
      expect((await app.request("/api/v1/checks", { headers: bearer(adminKey) })).status).toBe(200);
    }
    await expectRateLimited(
      await app.request("/api/v1/checks", { headers: bearer(adminKey) }),
      "VIGIL_LIMIT_API_PER_KEY",
    );
    expect((await app.request("/api/v1/checks", { headers: bearer(other.key) })).status).toBe(200);
  });

  it("holds a limit across two processes on one database, within one tenth of it per process", async () => {
    const one = await limitedApp({ pingsPerCheck: { max: 100, window: 60 } });
    // A second process: its own app and runtime (limiter), the same database and clock.
    const two = createApp({ ...one.deps, runtime: undefined });
    const check = await publicHeartbeat(one.app, one.adminKey, "shared");
    let admitted = 0;
    for (let i = 0; i < 150; i++) {
      const res = await (i % 2 ? two : one.app).request(`/ping/${check.id}`);
      if (res.status === 200) admitted++;
      else expect(res.status).toBe(429);
    }
    // Alone, each would have let 100 through (200 in all); shared, at most one batch of 10 more each.
    expect(admitted).toBeGreaterThanOrEqual(100);
    expect(admitted).toBeLessThanOrEqual(120);
    expect((await one.app.request(`/ping/${check.id}`)).status).toBe(429);
    expect((await two.request(`/ping/${check.id}`)).status).toBe(429);
  });

  it("refuses a flood past the limit without counting it in the database again", async () => {
    const { app, adminKey, db } = await limitedApp({ pingsPerCheck: { max: 10, window: 60 } });
    const check = await publicHeartbeat(app, adminKey, "flooded");
    for (let i = 0; i < 11; i++) await app.request(`/ping/${check.id}`);
    const counted = async () =>
      (
        await db.$client.execute({
          sql: "select count from rate_limits where key = ?",
          args: [`pingsPerCheck:${check.id}`],
        })
      ).rows[0]?.count;
    const before = await counted();
    for (let i = 0; i < 50; i++) expect((await app.request(`/ping/${check.id}`)).status).toBe(429);
    expect(await counted()).toBe(before);
  });

  it("turns a limit off with 0", async () => {
    const { app, adminKey } = await limitedApp({ pingsPerCheck: { max: 0, window: 60 } });
    const check = await publicHeartbeat(app, adminKey, "unlimited");
    for (let i = 0; i < 30; i++) expect((await app.request(`/ping/${check.id}`)).status).toBe(200);
  });
});

describe("per-project caps", () => {
  it("refuses a check past VIGIL_MAX_CHECKS, by the API and by ?create=1 alike", async () => {
    const { app, adminKey, project } = await limitedApp({ maxChecks: 2 });
    for (const name of ["one", "two"]) {
      expect(
        (await app.request("/api/v1/checks", jsonRequest("POST", heartbeat(name), adminKey))).status,
      ).toBe(201);
    }
    await expectCapReached(
      await app.request("/api/v1/checks", jsonRequest("POST", heartbeat("three"), adminKey)),
      "VIGIL_MAX_CHECKS",
    );
    await expectCapReached(await app.request(`/ping/${project.pingKey}/three?create=1`), "VIGIL_MAX_CHECKS");
    expect((await app.request(`/ping/${project.pingKey}/one?create=1`)).status).toBe(200);
  });

  it("refuses a new host past VIGIL_MAX_HOSTS, yet lets an enrolled host enroll again", async () => {
    const { app, adminKey } = await limitedApp({ maxHosts: 1 });
    const res = await app.request("/api/v1/enrollment-tokens", jsonRequest("POST", { name: "t" }, adminKey));
    const { token } = (await res.json()) as { token: string };
    const facts = { hostname: "web-1", machineId: crypto.randomUUID() };
    const first = await app.request("/api/v1/probe/enroll", jsonRequest("POST", { token, facts }));
    expect(first.status).toBe(201);
    const { hostToken } = (await first.json()) as { hostToken: string };
    const again = await app.request("/api/v1/probe/enroll", jsonRequest("POST", { token, facts, hostToken }));
    expect(again.status).toBe(200);
    await expectCapReached(
      await app.request(
        "/api/v1/probe/enroll",
        jsonRequest("POST", { token, facts: { hostname: "web-2", machineId: crypto.randomUUID() } }),
      ),
      "VIGIL_MAX_HOSTS",
    );
  });

  it("refuses channels past VIGIL_MAX_CHANNELS and custom rules past VIGIL_MAX_RULES (built-ins do not count)", async () => {
    const { app, adminKey } = await limitedApp({ maxChannels: 1, maxRules: 1 });
    const channel = (name: string) =>
      jsonRequest("POST", { kind: "email", name, to: ["ops@example.com"] }, adminKey);
    expect((await app.request("/api/v1/channels", channel("ops"))).status).toBe(201);
    await expectCapReached(await app.request("/api/v1/channels", channel("more")), "VIGIL_MAX_CHANNELS");

    const rule = (name: string) =>
      jsonRequest("POST", { name, kind: "reboot_required", params: { days: 3 }, scope: "all" }, adminKey);
    expect((await app.request("/api/v1/rules", rule("reboots"))).status).toBe(201);
    await expectCapReached(await app.request("/api/v1/rules", rule("more reboots")), "VIGIL_MAX_RULES");
  });
});

describe("limit settings", () => {
  it("reads each limit and cap from its variable, 0 turning it off, and refuses anything else at startup", () => {
    const { limits, problems } = limitsFromEnv({ VIGIL_LIMIT_PINGS_PER_CHECK: "50", VIGIL_MAX_HOSTS: "0" });
    expect(problems).toEqual([]);
    expect(limits.pingsPerCheck).toEqual({ max: 50, window: 60 });
    expect(limits.maxHosts).toBe(0);
    expect(limits.apiPerKey).toEqual(defaultLimits.apiPerKey);
    expect(settingsFromEnv({ VIGIL_LIMIT_API_PER_KEY: "10" }).limits.apiPerKey.max).toBe(10);
    expect(() => settingsFromEnv({ VIGIL_LIMIT_API_PER_KEY: "lots" })).toThrow(StartupError);
    expect(() => settingsFromEnv({ VIGIL_MAX_CHECKS: "-1" })).toThrow(
      /VIGIL_MAX_CHECKS must be a whole number/,
    );
  });
});
