import { errorBodySchema } from "@vigil/contract";
import { createApiKey, createProject } from "@vigil/db/testing";
import { smtpMailer } from "@vigil/notify/node";
import { startSmtpSink, startWebhookReceiver } from "@vigil/notify/testing";
import { afterEach, describe, expect, it } from "vitest";
import { defaultConfig } from "../src/app.ts";
import { runScheduledJobs, scheduledJobs } from "../src/scheduler.ts";
import { bearer, enrollHost, hostBatch, jsonRequest, sendBatch, testApp } from "./helpers.ts";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function alertingApp() {
  const sink = await startSmtpSink();
  const receiver = await startWebhookReceiver();
  closers.push(sink.close, receiver.close);
  const setup = await testApp({
    config: {
      ...defaultConfig,
      secretKey: "test-secret-key",
      allowPrivateTargets: true,
      publicUrl: "https://v.test",
    },
    mailer: smtpMailer({ url: sink.url, from: "vigil@test.example" }),
  });
  const post = async (path: string, body: unknown, key = setup.adminKey) =>
    setup.app.request(path, jsonRequest("POST", body, key));
  return { ...setup, sink, receiver, post };
}

describe("the channels API", () => {
  it("creates, lists, changes and deletes channels, and never shows a webhook secret", async () => {
    const { app, adminKey, receiver, post } = await alertingApp();
    const res = await post("/api/v1/channels", {
      kind: "webhook",
      name: "ops hook",
      url: `${receiver.url}/hook`,
      secret: "a-secret-of-some-length",
      isDefault: true,
    });
    expect(res.status).toBe(201);
    const created = (await res.json()) as Record<string, unknown> & { id: string };
    expect(created).toMatchObject({
      kind: "webhook",
      signed: true,
      events: ["down", "up"],
      health: "ok",
      reminderSec: null,
      settings: { url: `${receiver.url}/hook`, headers: {} },
    });
    expect(JSON.stringify(created)).not.toContain("a-secret-of-some-length");

    const patched = await app.request(
      `/api/v1/channels/${created.id}`,
      jsonRequest("PATCH", { events: ["down", "up", "late"], reminderSec: 3600, secret: null }, adminKey),
    );
    expect(await patched.json()).toMatchObject({
      events: ["down", "up", "late"],
      reminderSec: 3600,
      signed: false,
    });

    const list = await app.request("/api/v1/channels", { headers: bearer(adminKey) });
    expect(((await list.json()) as { channels: unknown[] }).channels).toHaveLength(1);
    const gone = await app.request(`/api/v1/channels/${created.id}`, {
      method: "DELETE",
      headers: bearer(adminKey),
    });
    expect(gone.status).toBe(204);
    const after = await app.request(`/api/v1/channels/${created.id}`, { headers: bearer(adminKey) });
    expect(after.status).toBe(404);
  });

  it("never shows a webhook's header values, and keeps them when a client sends the mask back", async () => {
    const { app, adminKey, receiver, post } = await alertingApp();
    const res = await post("/api/v1/channels", {
      kind: "webhook",
      name: "ops hook",
      url: `${receiver.url}/hook`,
      headers: { Authorization: "Bearer s3cret-token", "X-Team": "ops-team-key" },
    });
    const created = (await res.json()) as { id: string };
    const masked = { Authorization: "********", "X-Team": "********" };
    expect(created).toMatchObject({ settings: { headers: masked } });
    const one = await app.request(`/api/v1/channels/${created.id}`, { headers: bearer(adminKey) });
    const list = await app.request("/api/v1/channels", { headers: bearer(adminKey) });
    for (const body of [JSON.stringify(created), await one.text(), await list.text()]) {
      expect(body).toContain("Authorization");
      expect(body).not.toContain("s3cret-token");
      expect(body).not.toContain("ops-team-key");
    }

    // A form that shows the masked values and sends them back unchanged keeps the stored ones.
    const patched = await app.request(
      `/api/v1/channels/${created.id}`,
      jsonRequest("PATCH", { headers: { Authorization: "********", "X-Extra": "1" } }, adminKey),
    );
    expect(await patched.json()).toMatchObject({
      settings: { headers: { Authorization: "********", "X-Extra": "********" } },
    });
    await post(`/api/v1/channels/${created.id}/test`, {});
    const [sent] = await receiver.waitFor(1);
    expect(sent?.headers).toMatchObject({ authorization: "Bearer s3cret-token", "x-extra": "1" });
    expect(sent?.headers["x-team"]).toBeUndefined();
  });

  it("saves an email channel as failing when the server has no mail transport, and says why", async () => {
    const { app, adminKey } = await testApp();
    const res = await app.request(
      "/api/v1/channels",
      jsonRequest("POST", { kind: "email", name: "mail", to: ["ops@test.example"] }, adminKey),
    );
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({
      health: "failing",
      lastError: expect.stringContaining("no mail transport is configured on this server (VIGIL_SMTP_URL"),
    });
    const { post } = await alertingApp();
    const withMailer = await post("/api/v1/channels", {
      kind: "email",
      name: "mail",
      to: ["a@test.example"],
    });
    expect(await withMailer.json()).toMatchObject({ health: "ok", lastError: null });
  });

  it("keeps channels to their project and to admin keys", async () => {
    const { app, db, post } = await alertingApp();
    const res = await post("/api/v1/channels", { kind: "email", name: "mail", to: ["a@test.example"] });
    const { id } = (await res.json()) as { id: string };
    const other = await createProject(db, { slug: "other" });
    const otherAdmin = await createApiKey(db, other.id, ["admin"]);
    expect((await app.request(`/api/v1/channels/${id}`, { headers: bearer(otherAdmin.key) })).status).toBe(
      404,
    );
    const test = await post(`/api/v1/channels/${id}/test`, {}, otherAdmin.key);
    expect(test.status).toBe(404);
    const reader = await createApiKey(db, (await db.query.projects.findFirst())?.id ?? "", ["read"]);
    expect((await app.request("/api/v1/channels", { headers: bearer(reader.key) })).status).toBe(403);
  });

  it("refuses bad channel settings with 400 naming the field", async () => {
    const { post } = await alertingApp();
    for (const [body, field] of [
      [{ kind: "email", name: "x", to: ["not an address"] }, "to"],
      [{ kind: "webhook", name: "x", url: "ftp://example.com" }, "url"],
      [{ kind: "webhook", name: "x", url: "https://example.com", secret: "short" }, "secret"],
      [{ kind: "pager", name: "x" }, "kind"],
      [{ kind: "ntfy", name: "x", url: "https://ntfy.example/t", priority: 9 }, "priority"],
      [{ kind: "email", name: "x", to: ["a@test.example"], events: ["exploded"] }, "events"],
    ] as const) {
      const res = await post("/api/v1/channels", body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const error = errorBodySchema.parse(await res.json()).error;
      expect(error.message, JSON.stringify(body)).toContain(field);
    }
  });

  it("answers 409 to a signed webhook when the server has no secret key", async () => {
    // The test app has a secret key by default (accounts need one); this server has none.
    const { app, adminKey } = await testApp({ config: defaultConfig });
    const res = await app.request(
      "/api/v1/channels",
      jsonRequest(
        "POST",
        { kind: "webhook", name: "x", url: "https://h.test/x", secret: "0123456789abcdef" },
        adminKey,
      ),
    );
    expect(res.status).toBe(409);
    expect(errorBodySchema.parse(await res.json()).error.message).toContain("VIGIL_SECRET_KEY");
  });

  it("sends a test notice on request and answers how it went", async () => {
    const { post, sink, receiver } = await alertingApp();
    const mail = (await (
      await post("/api/v1/channels", { kind: "email", name: "mail", to: ["a@test.example"] })
    ).json()) as {
      id: string;
    };
    const res = await post(`/api/v1/channels/${mail.id}/test`, {});
    expect(await res.json()).toMatchObject({ sent: true, outcome: "sent", error: null });
    const [message] = await sink.waitFor(1);
    expect(message?.subject).toBe('TEST: Vigil channel "mail"');

    receiver.answers.push(404);
    const hook = (await (
      await post("/api/v1/channels", { kind: "webhook", name: "h", url: `${receiver.url}/x` })
    ).json()) as {
      id: string;
    };
    const failed = await post(`/api/v1/channels/${hook.id}/test`, {});
    expect(await failed.json()).toMatchObject({ sent: false, outcome: "permanent", status: 404 });
  });
});

describe("alerts end to end in one process", () => {
  it("a heartbeat that misses its grace sends one DOWN email and one signed webhook on the next tick, one UP after the next ping, and the log shows both per channel and per incident", async () => {
    const { app, adminKey, deps, clock, sink, receiver, post, project } = await alertingApp();
    const mail = (await (
      await post("/api/v1/channels", {
        kind: "email",
        name: "mail",
        to: ["ops@test.example"],
        isDefault: true,
      })
    ).json()) as { id: string };
    await post("/api/v1/channels", {
      kind: "webhook",
      name: "hook",
      url: `${receiver.url}/hook`,
      secret: "0123456789abcdef0123",
      isDefault: true,
    });
    const check = (await (
      await post("/api/v1/checks", { kind: "heartbeat", name: "nightly-backup", period: 60, grace: 60 })
    ).json()) as { id: string };
    await app.request(`/ping/${check.id}`);

    clock.advance(119_000);
    await runScheduledJobs(deps, scheduledJobs);
    expect(sink.messages).toHaveLength(0);
    clock.advance(2_000);
    await runScheduledJobs(deps, scheduledJobs);
    const [down] = await sink.waitFor(1);
    expect(down?.subject).toBe("DOWN: nightly-backup");
    expect(down?.text).toContain(`Dashboard: https://v.test/p/${project.id}/checks/${check.id}`);
    expect(receiver.accepted).toHaveLength(1);
    expect(receiver.accepted[0]?.headers["vigil-signature"]).toMatch(/^v1=[0-9a-f]{64}$/);

    clock.advance(300_000);
    await app.request(`/ping/${check.id}`);
    await runScheduledJobs(deps, scheduledJobs);
    const [, up] = await sink.waitFor(2);
    expect(up?.subject).toBe("UP: nightly-backup");
    expect(up?.text).toContain("Was down for: 5 min");
    await runScheduledJobs(deps, scheduledJobs);
    expect(sink.messages).toHaveLength(2);
    expect(receiver.accepted).toHaveLength(2);

    const byChannel = await app.request(`/api/v1/deliveries?channelId=${mail.id}`, {
      headers: bearer(adminKey),
    });
    const channelLog = (await byChannel.json()) as {
      entries: { title: string; delivery: { state: string; attempts: unknown[] } }[];
    };
    expect(channelLog.entries.map((e) => [e.title, e.delivery.state, e.delivery.attempts.length])).toEqual([
      ["UP: nightly-backup", "sent", 1],
      ["DOWN: nightly-backup", "sent", 1],
    ]);
    const incidents = await app.request(`/api/v1/checks/${check.id}/incidents`, {
      headers: bearer(adminKey),
    });
    const [incident] = ((await incidents.json()) as { incidents: { id: string }[] }).incidents;
    const byIncident = await app.request(`/api/v1/deliveries?incidentId=${incident?.id}`, {
      headers: bearer(adminKey),
    });
    expect(((await byIncident.json()) as { entries: unknown[] }).entries).toHaveLength(4);
  });
});

type Hook = {
  title: string;
  changes: { event: string; heldBack: string[]; subject: { facts: { label: string; value: string }[] } }[];
};

describe("rule alerts through delivery", () => {
  async function withHook() {
    const setup = await alertingApp();
    await setup.post("/api/v1/channels", {
      kind: "webhook",
      name: "hook",
      url: `${setup.receiver.url}/h`,
      isDefault: true,
    });
    const host = await enrollHost(setup.app, setup.adminKey);
    const titles = () => setup.receiver.accepted.map((r) => (JSON.parse(r.body) as Hook).title);
    const hook = (i: number) => JSON.parse(setup.receiver.accepted[i]?.body ?? "{}") as Hook;
    return { ...setup, host, titles, hook };
  }

  it("a real probe batch that fills the disk sends one DOWN notice naming host, rule, value and threshold, and one UP", async () => {
    const { app, deps, clock, host, titles, hook } = await withHook();
    for (let i = 0; i <= 5; i++) {
      await sendBatch(app, host.hostToken, hostBatch(clock.now(), 95));
      await runScheduledJobs(deps, scheduledJobs);
      clock.advance(60_000);
    }
    await sendBatch(app, host.hostToken, hostBatch(clock.now(), 95));
    await runScheduledJobs(deps, scheduledJobs);
    expect(titles()).toEqual(["DOWN: web-1 disk / 95%"]);
    const facts = Object.fromEntries(hook(0).changes[0]?.subject.facts.map((f) => [f.label, f.value]) ?? []);
    expect(facts).toMatchObject({ Rule: "Filesystem above 90%", Value: "95%", Threshold: "> 90%" });

    await sendBatch(app, host.hostToken, hostBatch(clock.now(), 60));
    clock.advance(60_000);
    await runScheduledJobs(deps, scheduledJobs);
    clock.advance(60 * 60_000);
    await sendBatch(app, host.hostToken, hostBatch(clock.now(), 60));
    await runScheduledJobs(deps, scheduledJobs);
    expect(titles()).toEqual(["DOWN: web-1 disk / 95%", "UP: web-1 disk / 60%"]);
  });

  it("sends one host-down notice that says what it held back, instead of a storm", async () => {
    const { app, db, deps, clock, host, titles, hook } = await withHook();
    await sendBatch(app, host.hostToken, hostBatch(clock.now(), 40, "success"));
    await runScheduledJobs(deps, scheduledJobs);
    clock.advance(27 * 60 * 60_000);
    await runScheduledJobs(deps, scheduledJobs);
    expect(titles()).toEqual(["DOWN: web-1"]);
    expect(hook(0).changes[0]?.heldBack).toEqual([expect.stringMatching(/^DOWN: web-1 backup db/)]);
    const held = await db.$client.execute(
      "select suppressed_reason from notifications where state = 'suppressed'",
    );
    expect(held.rows.map((r) => r.suppressed_reason)).toEqual([expect.stringContaining("web-1")]);

    await sendBatch(app, host.hostToken, hostBatch(clock.now(), 40));
    clock.advance(5_000); // the next tick: one instant is one firing, whose jobs have already run
    await runScheduledJobs(deps, scheduledJobs);
    expect(titles()).toEqual(["DOWN: web-1", "UP: web-1"]);
    expect(hook(1).changes[0]?.heldBack).toEqual([expect.stringMatching(/^DOWN: web-1 backup db/)]);
  });

  it("keeps a silenced alert's history but sends nothing for it", async () => {
    const { app, adminKey, deps, clock, host, titles, post } = await withHook();
    const silence = await post("/api/v1/silences", {
      hostId: host.hostId,
      durationMinutes: 30,
      comment: "kamal deploy",
    });
    expect(silence.status).toBe(201);
    for (let i = 0; i <= 6; i++) {
      await sendBatch(app, host.hostToken, hostBatch(clock.now(), 97));
      await runScheduledJobs(deps, scheduledJobs);
      clock.advance(60_000);
    }
    expect(titles()).toEqual([]);
    const alerts = (await (
      await app.request("/api/v1/alerts?state=firing", { headers: bearer(adminKey) })
    ).json()) as {
      alerts: unknown[];
    };
    expect(alerts.alerts).toHaveLength(1);
    const log = (await (await app.request("/api/v1/deliveries", { headers: bearer(adminKey) })).json()) as {
      entries: { state: string; suppressedReason: string }[];
    };
    expect(log.entries).toMatchObject([
      { state: "suppressed", suppressedReason: expect.stringContaining("kamal deploy") },
    ]);
  });
});
