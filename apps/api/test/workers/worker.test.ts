// Runs inside workerd: the real Worker entry, talking to sqld over HTTP like a deployed Worker to Turso.
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { createDb } from "@vigil/db";
import { describe, expect, inject, it } from "vitest";
import worker, { type Env } from "../../src/worker.ts";
import { workerProbes } from "../../src/worker-probes.ts";
import { cronOnlyEnv } from "./bindings.ts";

// No spreading of HTTP runs over the minute in tests: scheduled() should finish at once.
const workerEnv = (): Env => ({
  ...cronOnlyEnv(),
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

  it("runs the jobs of a cron firing and records each run at the firing's time", async () => {
    // A moment no other test fires at, a little in the past as a late firing is.
    const scheduledTime = Date.now() - 1234;
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "* * * * *", scheduledTime }), workerEnv(), ctx);
    await waitOnExecutionContext(ctx);
    const db = createDb({ url: inject("sqldUrl") });
    const { rows } = await db.$client.execute({
      sql: "select job from job_leases where last_run_at = ?",
      args: [scheduledTime],
    });
    // The jobs without an interval of their own run at every firing (forecasts and retention keep theirs).
    expect(rows.map((r) => String(r.job))).toEqual(
      expect.arrayContaining(["checks", "rules", "notify", "rollups", "purge"]),
    );
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

describe("probe assets from the Worker", () => {
  it("serves install.sh naming this server, and the probe bundle, from its static assets", async () => {
    const script = await call("/install.sh");
    expect(script.status).toBe(200);
    const text = await script.text();
    expect(text).toMatch(/^#!\/bin\/sh/);
    expect(text).toContain('DEFAULT_SERVER="https://vigil.test"');
    const bundle = await call("/probe/vigil-probe.mjs");
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get("content-type")).toContain("javascript");
    expect(await bundle.text()).toMatch(/^#!\/usr\/bin\/env node/);
    const binary = await call("/probe/vigil-probe-linux-x64");
    expect(binary.status).toBe(404);
  });
});

describe("the dashboard from the Worker's static assets", () => {
  it("serves the app at / and its hashed script with a year-long cache", async () => {
    const page = await call("/");
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<div id="app">');
    const script = html.match(/\/assets\/[^"]+\.js/)?.[0];
    expect(script).toBeDefined();
    const asset = await call(script ?? "");
    expect(asset.status).toBe(200);
    expect(asset.headers.get("cache-control")).toContain("immutable");
  });

  it("falls back to the app on a deep link", async () => {
    const page = await call("/p/some-project/hosts/some-host");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(await page.text()).toContain('<div id="app">');
  });

  it("keeps a JSON 404 for unknown API paths and a 404 for a missing script", async () => {
    const api = await call("/api/v1/no-such-thing");
    expect(api.status).toBe(404);
    expect(await api.json()).toMatchObject({ error: { code: "NOT_FOUND" } });
    expect((await call("/assets/missing.js")).status).toBe(404);
  });
});

describe("alert delivery in workerd", () => {
  it("sends a DOWN email over cloudflare:sockets SMTP and a signed webhook from scheduled()", async () => {
    const env = {
      ...workerEnv(),
      VIGIL_SMTP_URL: inject("smtpUrl"),
      VIGIL_MAIL_FROM: "Vigil <vigil@workers.test>",
      VIGIL_SECRET_KEY: "workerd-test-secret-key",
      VIGIL_ALLOW_PRIVATE_TARGETS: "1",
      VIGIL_PUBLIC_URL: "https://vigil.test/",
    };
    const admin = { authorization: `Bearer ${inject("adminKey")}`, "content-type": "application/json" };
    const post = async (path: string, body: unknown) => {
      const ctx = createExecutionContext();
      const res = await worker.fetch(
        incoming(path, { method: "POST", headers: admin, body: JSON.stringify(body) }),
        env,
        ctx,
      );
      await waitOnExecutionContext(ctx);
      return res;
    };
    const check = (await (
      await post("/api/v1/checks", { kind: "heartbeat", name: "workerd-backup", tags: ["workerd"] })
    ).json()) as { id: string };
    expect(
      (
        await post("/api/v1/channels", {
          kind: "email",
          name: "mail",
          to: ["ops@test.example"],
          tags: ["workerd"],
        })
      ).status,
    ).toBe(201);
    await post("/api/v1/channels", {
      kind: "webhook",
      name: "hook",
      url: `${inject("receiverUrl")}/workerd`,
      secret: "workerd-webhook-secret",
      tags: ["workerd"],
    });
    await call(`/ping/${check.id}/fail`);

    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "* * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);

    const log = (await (await fetch(inject("logUrl"))).json()) as {
      hooks: { path: string; headers: Record<string, string>; body: string }[];
      mails: { subject: string; text: string; to: unknown }[];
    };
    // The sink is shared with the other test files (accounts mail runs alongside): this channel's mail only.
    const mails = log.mails.filter((m) => JSON.stringify(m.to).includes("ops@test.example"));
    expect(mails.map((m) => m.subject)).toEqual(["DOWN: workerd-backup"]);
    expect(mails[0]?.text).toContain(
      `Dashboard: https://vigil.test/p/${inject("projectId")}/checks/${check.id}`,
    );
    const [hook] = log.hooks;
    expect(hook?.path).toBe("/workerd");
    expect(JSON.parse(hook?.body ?? "{}")).toMatchObject({ version: 1, title: "DOWN: workerd-backup" });
    expect(hook?.headers["vigil-signature"]).toMatch(/^v1=[0-9a-f]{64}$/);
  });
});

describe("private targets in workerd", () => {
  const privateSpellings = ["[::ffff:7f00:1]", "127.1", "2130706433"];
  const receiverAt = (host: string, path: string) =>
    `http://${host}:${new URL(inject("receiverUrl")).port}${path}`;
  const getRequest = (url: string) => ({
    url,
    method: "GET",
    headers: {},
    body: null,
    timeoutMs: 2000,
    readBody: true,
  });
  const hooksAt = async (path: string) => {
    const log = (await (await fetch(inject("logUrl"))).json()) as { hooks: { path: string }[] };
    return log.hooks.filter((h) => h.path === path);
  };

  it("the Worker's runner does not reach loopback through other spellings of its address, unless allowed", async () => {
    const strict = workerProbes(false);
    for (const host of privateSpellings) {
      await expect(strict.http(getRequest(receiverAt(host, "/worker-runner"))), host).rejects.toThrow(
        /^refused: /,
      );
      await expect(strict.tcp(host.replace(/^\[|\]$/g, ""), 9, 2000), host).rejects.toThrow(/^refused: /);
    }
    expect(await hooksAt("/worker-runner")).toEqual([]);
    const lenient = workerProbes(true);
    const allowed = await lenient.http(getRequest(receiverAt("127.0.0.1", "/worker-runner")));
    expect(allowed).toMatchObject({ status: 200 });
  });

  it("refuses a webhook to another spelling of loopback when created, and when sent after the setting is off", async () => {
    const admin = { authorization: `Bearer ${inject("adminKey")}`, "content-type": "application/json" };
    const send = async (env: Env, path: string, body: unknown) => {
      const ctx = createExecutionContext();
      const init = { method: "POST", headers: admin, body: JSON.stringify(body) };
      const res = await worker.fetch(incoming(path, init), env, ctx);
      await waitOnExecutionContext(ctx);
      return res;
    };
    const strict = workerEnv();
    const lenient = { ...workerEnv(), VIGIL_ALLOW_PRIVATE_TARGETS: "1" };
    for (const host of privateSpellings) {
      const channel = { kind: "webhook", name: `hook ${host}`, url: receiverAt(host, "/worker-private") };
      const refused = await send(strict, "/api/v1/channels", channel);
      expect(refused.status, host).toBe(400);
      expect(await refused.text(), host).toContain("body.url");
      const saved = (await (await send(lenient, "/api/v1/channels", channel)).json()) as { id: string };
      const result = await send(strict, `/api/v1/channels/${saved.id}/test`, {});
      expect(await result.json(), host).toMatchObject({
        sent: false,
        error: expect.stringMatching(/refused/),
      });
    }
    expect(await hooksAt("/worker-private")).toEqual([]);
  });
});
