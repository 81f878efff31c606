/**
 * Private targets through the API: refused as input when they are private IP literals (in any spelling),
 * refused at send time for channels saved while they were allowed, and let through when the operator
 * allows them (VIGIL_ALLOW_PRIVATE_TARGETS).
 */
import { errorBodySchema } from "@vigil/contract";
import { guardedFetch, nodeProbes } from "@vigil/engine/node";
import { startWebhookReceiver } from "@vigil/notify/testing";
import { afterEach, describe, expect, it } from "vitest";
import { createApp, defaultConfig } from "../src/app.ts";
import { bearer, jsonRequest, testApp } from "./helpers.ts";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

/** The same database behind a strict app (the default) and one that allows private targets. */
async function strictAndLenient() {
  const runtime = (allowPrivate: boolean) => ({
    config: { ...defaultConfig, allowPrivateTargets: allowPrivate },
    probes: nodeProbes({ allowPrivate }),
    fetch: guardedFetch(allowPrivate),
  });
  const strict = await testApp(runtime(false));
  const lenient = createApp({ db: strict.db, clock: strict.clock, ...runtime(true) });
  const call = (app: typeof lenient, method: string, path: string, body?: unknown) =>
    app.request(
      path,
      body === undefined
        ? { method, headers: bearer(strict.adminKey) }
        : jsonRequest(method, body, strict.adminKey),
    );
  return { strict: strict.app, lenient, call };
}

/** Other spellings of 127.0.0.1 and of the cloud metadata address, as a URL host. */
const privateHosts = ["[::ffff:7f00:1]", "[::ffff:127.0.0.1]", "127.1", "2130706433", "[::ffff:a9fe:a9fe]"];

describe("private targets through the API", () => {
  it("refuses checks aimed at another spelling of a private address with 400 naming the field, unless allowed", async () => {
    const { strict, lenient, call } = await strictAndLenient();
    const bodies: [Record<string, unknown>, string][] = [
      ...privateHosts.map((host): [Record<string, unknown>, string] => [
        { kind: "http", name: host, url: `http://${host}:8080/` },
        "body.url",
      ]),
      ...["::ffff:7f00:1", "0::1", "::0:1", "0:0:0:0:0:0:0:1", "127.1", "64:ff9b::a9fe:a9fe"].flatMap(
        (host): [Record<string, unknown>, string][] => [
          [{ kind: "tcp", name: host, host, port: 22 }, "body.host"],
          [{ kind: "tls", name: host, host }, "body.host"],
        ],
      ),
    ];
    for (const [body, field] of bodies) {
      const res = await call(strict, "POST", "/api/v1/checks", body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const { error } = errorBodySchema.parse(await res.json());
      expect(error.message, JSON.stringify(body)).toMatch(new RegExp(`^${field}: refused: `));
    }
    for (const [body] of bodies) {
      expect((await call(lenient, "POST", "/api/v1/checks", body)).status, JSON.stringify(body)).toBe(201);
    }

    const check = (await (
      await call(strict, "POST", "/api/v1/checks", {
        kind: "http",
        name: "site",
        url: "http://93.184.215.14/",
      })
    ).json()) as { id: string };
    const moved = await call(strict, "PATCH", `/api/v1/checks/${check.id}`, { url: "http://[0::1]/" });
    expect(moved.status).toBe(400);
    expect(errorBodySchema.parse(await moved.json()).error.message).toMatch(/^body\.url: refused: ::1 /);
  });

  it("keeps a check saved while private targets were allowed editable, without judging its target again", async () => {
    const { strict, lenient, call } = await strictAndLenient();
    const check = (await (
      await call(lenient, "POST", "/api/v1/checks", { kind: "tcp", name: "db", host: "10.0.0.5", port: 5432 })
    ).json()) as { id: string };
    const renamed = await call(strict, "PATCH", `/api/v1/checks/${check.id}`, { name: "primary db" });
    expect(renamed.status).toBe(200);
  });

  it("does not deliver webhook, Slack, Discord or ntfy notices to another spelling of loopback, unless allowed", async () => {
    const receiver = await startWebhookReceiver();
    closers.push(receiver.close);
    const { port } = new URL(receiver.url);
    const { strict, lenient, call } = await strictAndLenient();
    const channels = (["webhook", "slack", "discord", "ntfy"] as const).flatMap((kind) =>
      ["[::ffff:7f00:1]", "127.1", "2130706433"].map((host) => ({
        kind,
        name: `${kind} ${host}`,
        url: `http://${host}:${port}/${kind}`,
      })),
    );
    const ids: string[] = [];
    for (const channel of channels) {
      const refused = await call(strict, "POST", "/api/v1/channels", channel);
      expect(refused.status, channel.name).toBe(400);
      expect(errorBodySchema.parse(await refused.json()).error.message).toMatch(/^body\.url: refused: /);
      // Saved while the operator allowed private targets; the strict server must still not send to them.
      const saved = await call(lenient, "POST", "/api/v1/channels", channel);
      expect(saved.status, channel.name).toBe(201);
      ids.push(((await saved.json()) as { id: string }).id);
    }

    for (const id of ids) {
      const sent = await call(strict, "POST", `/api/v1/channels/${id}/test`, {});
      expect(await sent.json()).toMatchObject({
        sent: false,
        outcome: "permanent",
        error: expect.stringMatching(/refused/),
      });
    }
    expect(receiver.requests).toEqual([]);

    for (const id of ids) {
      const sent = await call(lenient, "POST", `/api/v1/channels/${id}/test`, {});
      expect(await sent.json()).toMatchObject({ sent: true });
    }
    expect(receiver.requests).toHaveLength(ids.length);
  });

  it("saves a channel whose receiver name leads to a private address as failing, and says why", async () => {
    const { strict, lenient, call } = await strictAndLenient();
    const res = await call(strict, "POST", "/api/v1/channels", {
      kind: "webhook",
      name: "local",
      url: "http://localhost:9/hook",
    });
    expect(res.status).toBe(201);
    const created = (await res.json()) as { id: string };
    expect(created).toMatchObject({
      health: "failing",
      failingSince: expect.any(Number),
      lastError: expect.stringMatching(/^refused: localhost is a private, loopback or link-local address/),
    });
    const moved = await call(strict, "PATCH", `/api/v1/channels/${created.id}`, {
      url: "http://[0::1]/hook",
    });
    expect(moved.status).toBe(400);
    expect(errorBodySchema.parse(await moved.json()).error.message).toMatch(/^body\.url: refused: ::1 /);
    const fixed = await call(strict, "PATCH", `/api/v1/channels/${created.id}`, {
      url: "http://93.184.215.14/hook",
    });
    expect(await fixed.json()).toMatchObject({ health: "ok", failingSince: null, lastError: null });

    const allowed = await call(lenient, "POST", "/api/v1/channels", {
      kind: "webhook",
      name: "local",
      url: "http://localhost:9/hook",
    });
    expect(await allowed.json()).toMatchObject({ health: "ok", lastError: null });
  });
});
