import { errorBodySchema } from "@vigil/contract";
import { expect } from "vitest";
import { area } from "./case.ts";
import { bearer, enrollHost, jsonRequest, legacy, newKey, sendBatch } from "./client.ts";
import { batch, hostBatch, logLine } from "./probe.ts";
import type { Target } from "./target.ts";

/** The case's project with POST at hand and its outside servers: a webhook receiver and a mail sink. */
function alertingApp(t: Target) {
  const setup = legacy(t);
  const post = async (path: string, body: unknown, key = setup.adminKey) =>
    t.request(path, jsonRequest("POST", body, key));
  return {
    ...setup,
    post,
    mails: () => t.outside.mails(),
    email: (n?: string) => t.outside.email(n),
  };
}

const alerts1 = area("the channels API", [
  {
    name: "creates, lists, changes and deletes channels, and never shows a webhook secret",
    run: async (t) => {
      const { app, adminKey, post } = alertingApp(t);
      const res = await post("/api/v1/channels", {
        kind: "webhook",
        name: "ops hook",
        url: `${t.outside.url("hook")}`,
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
        settings: { url: `${t.outside.url("hook")}`, headers: {} },
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
    },
  },

  {
    name: "never shows a webhook's header values, and keeps them when a client sends the mask back",
    run: async (t) => {
      const { app, adminKey, post } = alertingApp(t);
      const res = await post("/api/v1/channels", {
        kind: "webhook",
        name: "ops hook",
        url: `${t.outside.url("hook")}`,
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
      const [sent] = await t.outside.requests();
      expect(sent?.headers).toMatchObject({ authorization: "Bearer s3cret-token", "x-extra": "1" });
      expect(sent?.headers["x-team"]).toBeUndefined();
    },
  },

  {
    name: "keeps channels to their project and to admin keys",
    run: async (t) => {
      const { app, post, email } = alertingApp(t);
      const res = await post("/api/v1/channels", { kind: "email", name: "mail", to: [email()] });
      const { id } = (await res.json()) as { id: string };
      const otherAdmin = { key: (await t.otherProject()).adminKey };
      expect((await app.request(`/api/v1/channels/${id}`, { headers: bearer(otherAdmin.key) })).status).toBe(
        404,
      );
      const test = await post(`/api/v1/channels/${id}/test`, {}, otherAdmin.key);
      expect(test.status).toBe(404);
      const reader = await newKey(t, ["read"]);
      expect((await app.request("/api/v1/channels", { headers: bearer(reader.key) })).status).toBe(403);
    },
  },

  {
    name: "refuses bad channel settings with 400 naming the field",
    run: async (t) => {
      const { post } = alertingApp(t);
      for (const [body, field] of [
        [{ kind: "email", name: "x", to: ["not an address"] }, "to"],
        [{ kind: "webhook", name: "x", url: "ftp://example.com" }, "url"],
        [{ kind: "webhook", name: "x", url: "https://example.com", secret: "short" }, "secret"],
        [
          {
            kind: "webhook",
            name: "x",
            url: "https://example.com",
            secret: "not-a-standard-secret",
            signature: "standard",
          },
          "secret",
        ],
        [{ kind: "webhook", name: "x", url: "https://example.com", signature: "hmac" }, "signature"],
        [{ kind: "pager", name: "x" }, "kind"],
        [{ kind: "ntfy", name: "x", url: "https://ntfy.example/t", priority: 9 }, "priority"],
        [{ kind: "email", name: "x", to: ["a@test.example"], events: ["exploded"] }, "events"],
      ] as const) {
        const res = await post("/api/v1/channels", body);
        expect(res.status, JSON.stringify(body)).toBe(400);
        const error = errorBodySchema.parse(await res.json()).error;
        expect(error.message, JSON.stringify(body)).toContain(field);
      }
    },
  },

  {
    name: "sends a test notice on request and answers how it went",
    run: async (t) => {
      const { post, mails, email } = alertingApp(t);
      const mail = (await (
        await post("/api/v1/channels", { kind: "email", name: "mail", to: [email()] })
      ).json()) as {
        id: string;
      };
      const res = await post(`/api/v1/channels/${mail.id}/test`, {});
      expect(await res.json()).toMatchObject({ sent: true, outcome: "sent", error: null });
      const [message] = await mails();
      expect(message?.subject).toBe('TEST: Vigil channel "mail"');

      await t.outside.answer([404]);
      const hook = (await (
        await post("/api/v1/channels", { kind: "webhook", name: "h", url: `${t.outside.url("x")}` })
      ).json()) as {
        id: string;
      };
      const failed = await post(`/api/v1/channels/${hook.id}/test`, {});
      expect(await failed.json()).toMatchObject({ sent: false, outcome: "permanent", status: 404 });
    },
  },

  {
    name: "signs a webhook in the Standard Webhooks form when asked, and a change of format comes with its secret",
    run: async (t) => {
      const { app, post } = alertingApp(t);
      const standard = `whsec_${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))}`;
      const hook = (await (
        await post("/api/v1/channels", {
          kind: "webhook",
          name: "std",
          url: `${t.outside.url("std")}`,
          secret: standard,
          signature: "standard",
        })
      ).json()) as { id: string; settings: { signature: string } };
      expect(hook.settings.signature).toBe("standard");
      await post(`/api/v1/channels/${hook.id}/test`, {});
      const [sent] = await t.outside.requests("std");
      expect(Object.keys(sent?.headers ?? {})).toEqual(
        expect.arrayContaining(["webhook-id", "webhook-timestamp", "webhook-signature"]),
      );
      expect(sent?.headers["vigil-signature"]).toBeUndefined();

      const patch = (body: unknown) =>
        app.request(`/api/v1/channels/${hook.id}`, jsonRequest("PATCH", body, t.adminKey));
      const alone = await patch({ signature: "vigil" });
      expect(alone.status).toBe(400);
      expect(errorBodySchema.parse(await alone.json()).error.message).toContain("secret");
      const switched = await patch({ signature: "vigil", secret: "a-vigil-secret-0123" });
      expect(switched.status).toBe(200);
      await post(`/api/v1/channels/${hook.id}/test`, {});
      const [, second] = await t.outside.requests("std");
      expect(second?.headers["vigil-signature"]).toMatch(/^v1=[0-9a-f]{64}$/);
    },
  },

  {
    name: "keeps a service's token sealed, shows only that one is stored, and sends a test notice with it",
    run: async (t) => {
      const { app, post } = alertingApp(t);
      const created = await post("/api/v1/channels", {
        kind: "gotify",
        name: "phone",
        url: `${t.outside.url("gotify")}`,
        token: "AbCdEf123456",
      });
      expect(created.status).toBe(201);
      const channel = (await created.json()) as {
        id: string;
        kind: string;
        settings: Record<string, unknown>;
      };
      expect(channel.settings).toMatchObject({ token: "********", priority: 8 });
      expect(JSON.stringify(channel)).not.toContain("AbCdEf123456");

      const tested = await post(`/api/v1/channels/${channel.id}/test`, {});
      expect(await tested.json()).toMatchObject({ sent: true, outcome: "sent" });
      const [sent] = await t.outside.requests("gotify");
      expect(sent?.path).toMatch(/\/message$/);
      expect(sent?.headers["x-gotify-key"]).toBe("AbCdEf123456");

      const patch = (body: unknown) =>
        app.request(`/api/v1/channels/${channel.id}`, jsonRequest("PATCH", body, t.adminKey));
      expect((await patch({ priority: 11 })).status).toBe(400);
      const wrongKind = await patch({ chatId: "42" });
      expect(wrongKind.status).toBe(400);
      expect(errorBodySchema.parse(await wrongKind.json()).error.message).toContain("chatId");
      expect((await patch({ priority: 5, token: "NewToken7890" })).status).toBe(200);
      await post(`/api/v1/channels/${channel.id}/test`, {});
      const [, again] = await t.outside.requests("gotify");
      expect(again?.headers["x-gotify-key"]).toBe("NewToken7890");
      expect((JSON.parse(again?.body ?? "{}") as { priority: number }).priority).toBe(5);

      const missing = await post("/api/v1/channels", { kind: "pagerduty", name: "pd" });
      expect(missing.status).toBe(400);
      expect(errorBodySchema.parse(await missing.json()).error.message).toContain("token");
    },
  },
]);

const alerts2 = area("alerts end to end in one process", [
  {
    name: "a heartbeat that misses its grace sends one DOWN email and one signed webhook on the next tick, one UP after the next ping, and the log shows both per channel and per incident",
    run: async (t) => {
      const { app, adminKey, clock, post, project, mails, email } = alertingApp(t);
      const accepted = () => t.outside.requests("hook");
      const mail = (await (
        await post("/api/v1/channels", {
          kind: "email",
          name: "mail",
          to: [email()],
          isDefault: true,
        })
      ).json()) as { id: string };
      await post("/api/v1/channels", {
        kind: "webhook",
        name: "hook",
        url: `${t.outside.url("hook")}`,
        secret: "0123456789abcdef0123",
        isDefault: true,
      });
      const check = (await (
        await post("/api/v1/checks", { kind: "heartbeat", name: "nightly-backup", period: 60, grace: 60 })
      ).json()) as { id: string };
      await app.request(`/ping/${check.id}`);

      clock.advance(119_000);
      await t.tick();
      expect(await mails()).toHaveLength(0);
      clock.advance(2_000);
      await t.tick();
      const [down] = await mails();
      expect(down?.subject).toBe("DOWN: nightly-backup");
      expect(down?.text).toContain(`Dashboard: http://localhost/p/${project.id}/checks/${check.id}`);
      expect(await accepted()).toHaveLength(1);
      expect((await accepted())[0]?.headers["vigil-signature"]).toMatch(/^v1=[0-9a-f]{64}$/);

      clock.advance(300_000);
      await app.request(`/ping/${check.id}`);
      await t.tick();
      const [, up] = await mails();
      expect(up?.subject).toBe("UP: nightly-backup");
      expect(up?.text).toContain("Was down for: 5 min");
      await t.tick();
      expect(await mails()).toHaveLength(2);
      expect(await accepted()).toHaveLength(2);

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
    },
  },
]);

const delivery = area("webhook delivery", [
  {
    name: "retries a webhook that answered 500 after its backoff, once, and logs both attempts; a 4xx is not retried",
    run: async (t) => {
      const { app, adminKey, clock, post } = alertingApp(t);
      await post("/api/v1/channels", {
        kind: "webhook",
        name: "flaky",
        url: t.outside.url("flaky"),
        isDefault: true,
      });
      const check = (await (
        await post("/api/v1/checks", { kind: "heartbeat", name: "job", period: 60, grace: 60 })
      ).json()) as { id: string };
      await app.request(`/ping/${check.id}`);
      await t.outside.answer([500]);
      clock.advance(121_000);
      await t.tick();
      expect(await t.outside.requests("flaky")).toHaveLength(1);
      clock.advance(10_000);
      await t.tick();
      expect(await t.outside.requests("flaky")).toHaveLength(1);
      clock.advance(30_000);
      await t.tick();
      await t.tick();
      expect(await t.outside.requests("flaky")).toHaveLength(2);
      const log = (await (await app.request("/api/v1/deliveries", { headers: bearer(adminKey) })).json()) as {
        entries: { title: string; delivery: { state: string; attempts: unknown[] } }[];
      };
      expect(log.entries.map((e) => [e.title, e.delivery.state, e.delivery.attempts.length])).toEqual([
        ["DOWN: job", "sent", 2],
      ]);

      await t.outside.answer([410]);
      await app.request(`/ping/${check.id}`);
      await t.tick();
      clock.advance(60_000);
      await t.tick();
      expect(await t.outside.requests("flaky")).toHaveLength(3);
      const after = (await (
        await app.request("/api/v1/deliveries", { headers: bearer(adminKey) })
      ).json()) as {
        entries: { title: string; delivery: { state: string; attempts: unknown[] } }[];
      };
      expect(after.entries[0]).toMatchObject({ title: "UP: job", delivery: { state: "failed" } });
      expect(after.entries[0]?.delivery.attempts).toHaveLength(1);
    },
  },
]);

type Hook = {
  title: string;
  changes: {
    event: string;
    heldBack: string[];
    subject: {
      facts: { label: string; value: string }[];
      logs: { title: string; path: string | null; lines: { message: string }[] } | null;
    };
  }[];
};

async function withHook(t: Target) {
  const setup = alertingApp(t);
  await setup.post("/api/v1/channels", {
    kind: "webhook",
    name: "hook",
    url: `${t.outside.url("h")}`,
    isDefault: true,
  });
  const host = await enrollHost(setup.app, setup.adminKey);
  const titles = async () => (await t.outside.requests("h")).map((r) => (JSON.parse(r.body) as Hook).title);
  const hook = async (i: number) => JSON.parse((await t.outside.requests("h"))[i]?.body ?? "{}") as Hook;
  return { ...setup, host, titles, hook };
}

const alerts3 = area("rule alerts through delivery", [
  {
    name: "a real probe batch that fills the disk sends one DOWN notice naming host, rule, value and threshold, and one UP",
    run: async (t) => {
      const { app, clock, host, titles, hook } = await withHook(t);
      for (let i = 0; i <= 5; i++) {
        await sendBatch(app, host.hostToken, hostBatch(clock.now(), 95));
        await t.tick();
        clock.advance(60_000);
      }
      await sendBatch(app, host.hostToken, hostBatch(clock.now(), 95));
      await t.tick();
      expect(await titles()).toEqual(["DOWN: web-1 disk / 95%"]);
      const facts = Object.fromEntries(
        (await hook(0)).changes[0]?.subject.facts.map((f) => [f.label, f.value]) ?? [],
      );
      expect(facts).toMatchObject({ Rule: "Filesystem above 90%", Value: "95%", Threshold: "> 90%" });

      await sendBatch(app, host.hostToken, hostBatch(clock.now(), 60));
      clock.advance(60_000);
      await t.tick();
      clock.advance(60 * 60_000);
      await sendBatch(app, host.hostToken, hostBatch(clock.now(), 60));
      await t.tick();
      expect(await titles()).toEqual(["DOWN: web-1 disk / 95%", "UP: web-1 disk / 60%"]);
    },
  },

  {
    name: "an alert for a failed unit quotes that unit's last lines, with secrets redacted, in the email and the webhook",
    run: async (t) => {
      const { app, clock, host, hook, post, project, mails, email } = await withHook(t);
      await post("/api/v1/channels", { kind: "email", name: "mail", to: [email()], isDefault: true });
      const settings = await app.request(
        `/api/v1/projects/${project.id}/settings`,
        jsonRequest("PATCH", { alerts: { redact: ["customer-\\d+"] } }, t.adminKey),
      );
      expect(settings.status).toBe(200);
      const at = clock.now();
      const lines = [
        logLine(at - 3000, "starting worker for customer-4711", { priority: 6 }),
        logLine(at - 2000, "upstream login failed: password=hunter2 user=app", { priority: 3 }),
        logLine(at - 1500, "cron ran", { unit: "cron.service", priority: 3 }),
        logLine(at - 1000, "nginx.service: Main process exited, code=exited, status=1/FAILURE", {
          priority: 3,
        }),
      ];
      await sendBatch(app, host.hostToken, batch({ sentAt: at, logs: lines }));
      await sendBatch(
        app,
        host.hostToken,
        batch({ sentAt: at, state: { collectedAt: at, failedUnits: ["nginx.service"] } }),
      );
      await t.tick();

      const logs = (await hook(0)).changes[0]?.subject.logs;
      expect(logs?.lines.map((l) => l.message)).toEqual([
        "starting worker for [redacted]",
        "upstream login failed: password=[redacted] user=app",
        "nginx.service: Main process exited, code=exited, status=1/FAILURE",
      ]);
      expect(logs?.title).toBe("the last lines of nginx.service");
      expect(logs?.path).toBe(`/p/${project.id}/logs?host=${host.hostId}&unit=nginx.service&at=${at}`);
      const [mail] = await mails();
      expect(mail?.subject).toBe("DOWN: web-1 unit nginx.service failed");
      expect(mail?.text).toContain("Log, the last lines of nginx.service (all lines: http://localhost/p/");
      expect(mail?.text).toContain("err nginx.service: nginx.service: Main process exited");
      expect(mail?.html).toContain("upstream login failed: password=[redacted] user=app");
      expect(`${mail?.text}${mail?.html}`).not.toMatch(/hunter2|4711|cron ran/);
    },
  },

  {
    name: "sends one host-down notice that says what it held back, instead of a storm",
    run: async (t) => {
      const { app, clock, host, titles, hook } = await withHook(t);
      await sendBatch(app, host.hostToken, hostBatch(clock.now(), 40, "success"));
      await t.tick();
      clock.advance(27 * 60 * 60_000);
      await t.tick();
      expect(await titles()).toEqual(["DOWN: web-1"]);
      expect((await hook(0)).changes[0]?.heldBack).toEqual([expect.stringMatching(/^DOWN: web-1 backup db/)]);
      const log = (await (
        await app.request("/api/v1/deliveries", { headers: bearer(t.adminKey) })
      ).json()) as { entries: { state: string; suppressedReason: string | null }[] };
      expect(log.entries.filter((e) => e.state === "suppressed").map((e) => e.suppressedReason)).toEqual([
        expect.stringContaining("web-1"),
      ]);

      await sendBatch(app, host.hostToken, hostBatch(clock.now(), 40));
      // the next tick comes later: a second tick at the same moment is the same firing, and runs nothing
      clock.advance(5_000);
      await t.tick();
      expect(await titles()).toEqual(["DOWN: web-1", "UP: web-1"]);
      expect((await hook(1)).changes[0]?.heldBack).toEqual([expect.stringMatching(/^DOWN: web-1 backup db/)]);
    },
  },

  {
    name: "keeps a silenced alert's history but sends nothing for it",
    run: async (t) => {
      const { app, adminKey, clock, host, titles, post } = await withHook(t);
      const silence = await post("/api/v1/silences", {
        hostId: host.hostId,
        durationMinutes: 30,
        comment: "kamal deploy",
      });
      expect(silence.status).toBe(201);
      for (let i = 0; i <= 6; i++) {
        await sendBatch(app, host.hostToken, hostBatch(clock.now(), 97));
        await t.tick();
        clock.advance(60_000);
      }
      expect(await titles()).toEqual([]);
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
    },
  },
]);

export const alertsCases = [alerts1, alerts2, delivery, alerts3];
