// Each chat, paging and push service gets the request its API documents, sent to a real receiver on
// 127.0.0.1 standing in for the service (each channel's `url` is its API base).
import type { NotificationChange, NotificationPayloadV1 } from "@vigil/contract";
import type { ChannelConfig, ChannelRow } from "@vigil/db";
import { afterEach, describe, expect, it } from "vitest";
import { startWebhookReceiver, type WebhookReceiver } from "../src/testing.ts";
import { sendToChannel } from "../src/transports.ts";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

const AT = Date.UTC(2026, 11, 2, 12);

function change(event: "down" | "up", id = "c1"): NotificationChange {
  return {
    event,
    from: event === "down" ? "up" : "down",
    to: event,
    cause: event === "down" ? "no ping for 2 min" : "ping",
    at: AT,
    downForMs: event === "up" ? 120_000 : null,
    reminder: false,
    heldBack: [],
    subject: {
      type: "check",
      id,
      name: "nightly-backup",
      summary: "nightly-backup",
      tags: ["backups"],
      checkId: id,
      checkKind: "heartbeat",
      ruleId: null,
      hostId: "h1",
      hostName: "web-1",
      runbookUrl: null,
      path: `/p/p1/checks/${id}`,
      facts: [{ label: "Expected", value: "every 1 h" }],
      logs:
        event === "down"
          ? {
              title: "the last run's output",
              truncated: false,
              path: null,
              lines: [{ ts: AT, priority: 3, source: null, message: "restic: repository <locked>" }],
            }
          : null,
    },
  };
}

function payload(...changes: NotificationChange[]): NotificationPayloadV1 {
  const title =
    changes.length === 1 ? `${changes[0]?.event === "up" ? "UP" : "DOWN"}: nightly-backup` : "2 changes";
  return {
    version: 1,
    id: "d0c5e2f4-1111-4222-8333-944455556666",
    project: { id: "p1", name: "prod" },
    test: false,
    title,
    changes,
    url: "https://vigil.example",
    sentAt: AT,
  };
}

async function send(config: ChannelConfig, token: string | null, p: NotificationPayloadV1) {
  const row = { id: "ch", kind: config.kind, config, secretSealed: token ? "sealed" : null } as ChannelRow;
  return sendToChannel(row, token, p, {
    fetch: (input, init) => fetch(input, init),
    now: () => AT,
    timeoutMs: 5000,
  });
}

async function receiver() {
  const r = await startWebhookReceiver();
  closers.push(r.close);
  return r;
}

const bodies = (r: WebhookReceiver) => r.requests.map((q) => JSON.parse(q.body) as Record<string, unknown>);

describe("the chat, paging and push services", () => {
  it("Telegram: sendMessage with the bot token in the path, the chat id and HTML with the quoted lines escaped", async () => {
    const r = await receiver();
    await send(
      { kind: "telegram", url: r.url, chatId: "-1001234" },
      "123456:ABC-token",
      payload(change("down")),
    );
    expect(r.requests[0]?.path).toBe("/bot123456:ABC-token/sendMessage");
    const [body] = bodies(r);
    expect(body).toMatchObject({ chat_id: "-1001234", parse_mode: "HTML" });
    expect(body?.text).toContain("<b>DOWN: nightly-backup</b>");
    expect(body?.text).toContain("<pre>12:00:00 err: restic: repository &lt;locked&gt;</pre>");
  });

  it("Teams: an Adaptive Card with the facts as a fact set and a link to Vigil", async () => {
    const r = await receiver();
    await send({ kind: "teams", url: `${r.url}/workflows/abc` }, null, payload(change("down")));
    const [body] = bodies(r);
    expect(body).toMatchObject({
      type: "message",
      attachments: [
        {
          contentType: "application/vnd.microsoft.card.adaptive",
          content: {
            type: "AdaptiveCard",
            version: "1.4",
            actions: [{ type: "Action.OpenUrl", url: "https://vigil.example/p/p1/checks/c1" }],
          },
        },
      ],
    });
    const card = JSON.stringify(body);
    expect(card).toContain('"type":"FactSet"');
    expect(card).toContain('{"title":"Expected","value":"every 1 h"}');
  });

  it("PagerDuty: Events v2, a trigger per problem and a resolve with the same dedup key for its recovery", async () => {
    const r = await receiver();
    const config = { kind: "pagerduty", url: r.url, severity: "error" } as const;
    await send(config, "R0UT1NGKEY0123456789abcdef012345", payload(change("down"), change("down", "c2")));
    await send(config, "R0UT1NGKEY0123456789abcdef012345", payload(change("up")));
    expect(r.requests.map((q) => q.path)).toEqual(["/v2/enqueue", "/v2/enqueue", "/v2/enqueue"]);
    const [first, second, resolve] = bodies(r);
    expect(first).toMatchObject({
      routing_key: "R0UT1NGKEY0123456789abcdef012345",
      event_action: "trigger",
      dedup_key: "vigil-check-c1",
      payload: {
        summary: "DOWN: nightly-backup",
        source: "web-1",
        severity: "error",
        timestamp: new Date(AT).toISOString(),
        custom_details: { Expected: "every 1 h", Log: "12:00:00 err: restic: repository <locked>" },
      },
      links: [{ href: "https://vigil.example/p/p1/checks/c1" }],
    });
    expect(second?.dedup_key).toBe("vigil-check-c2");
    expect(resolve).toEqual({
      routing_key: "R0UT1NGKEY0123456789abcdef012345",
      event_action: "resolve",
      dedup_key: "vigil-check-c1",
    });
  });

  it("Opsgenie: creates an alert with an alias and GenieKey auth, and closes it by that alias on recovery", async () => {
    const r = await receiver();
    const config = { kind: "opsgenie", url: r.url, priority: "P1" } as const;
    await send(config, "opsgenie-api-key", payload(change("down")));
    await send(config, "opsgenie-api-key", payload(change("up")));
    expect(r.requests.map((q) => q.path)).toEqual([
      "/v2/alerts",
      "/v2/alerts/vigil-check-c1/close?identifierType=alias",
    ]);
    expect(r.requests[0]?.headers.authorization).toBe("GenieKey opsgenie-api-key");
    const [create, close] = bodies(r);
    expect(create).toMatchObject({
      message: "DOWN: nightly-backup",
      alias: "vigil-check-c1",
      priority: "P1",
      source: "Vigil",
      entity: "web-1",
      tags: ["backups"],
    });
    expect(create?.description).toContain("restic: repository <locked>");
    expect(close).toMatchObject({ source: "Vigil" });
  });

  it("Pushover: the app token and user key, a high priority for problems and normal for recoveries", async () => {
    const r = await receiver();
    const config = {
      kind: "pushover",
      url: r.url,
      userKey: "uQiRzpo4DXghDmr9QzzfQu27cmVRsG",
      priority: 1,
    } as const;
    await send(config, "azGDORePK8gMaC0QOYAMyEEuzJnyUi", payload(change("down")));
    await send(config, "azGDORePK8gMaC0QOYAMyEEuzJnyUi", payload(change("up")));
    expect(r.requests[0]?.path).toBe("/1/messages.json");
    const [down, up] = bodies(r);
    expect(down).toMatchObject({
      token: "azGDORePK8gMaC0QOYAMyEEuzJnyUi",
      user: "uQiRzpo4DXghDmr9QzzfQu27cmVRsG",
      title: "DOWN: nightly-backup",
      priority: 1,
      url: "https://vigil.example/p/p1/checks/c1",
    });
    expect(String(down?.message).length).toBeLessThanOrEqual(1024);
    expect(up?.priority).toBe(0);
  });

  it("Gotify: the app token in X-Gotify-Key and markdown with the quoted lines", async () => {
    const r = await receiver();
    await send(
      { kind: "gotify", url: `${r.url}/gotify`, priority: 8 },
      "AppTokenXYZ",
      payload(change("down")),
    );
    expect(r.requests[0]?.path).toBe("/gotify/message");
    expect(r.requests[0]?.headers["x-gotify-key"]).toBe("AppTokenXYZ");
    const [body] = bodies(r);
    expect(body).toMatchObject({
      title: "DOWN: nightly-backup",
      priority: 8,
      extras: { "client::display": { contentType: "text/markdown" } },
    });
    expect(body?.message).toContain("```\n12:00:00 err: restic: repository <locked>\n```");
  });

  it("Matrix: a PUT of an m.room.message with the delivery id as transaction id, plain and HTML", async () => {
    const r = await receiver();
    await send(
      { kind: "matrix", url: r.url, roomId: "!room:example.org" },
      "syt_token",
      payload(change("down")),
    );
    expect(r.requests[0]?.path).toBe(
      "/_matrix/client/v3/rooms/!room%3Aexample.org/send/m.room.message/d0c5e2f4-1111-4222-8333-944455556666",
    );
    expect(r.requests[0]?.headers.authorization).toBe("Bearer syt_token");
    const [body] = bodies(r);
    expect(body).toMatchObject({ msgtype: "m.text", format: "org.matrix.custom.html" });
    expect(body?.body).toContain("DOWN: nightly-backup");
    expect(body?.formatted_body).toMatch(/^<h2/);
    expect(body?.formatted_body).not.toContain("<html");
  });

  it("refuses for good to send without the service's token, and keeps a Telegram token out of the error", async () => {
    const r = await receiver();
    await expect(
      send({ kind: "gotify", url: r.url, priority: 8 }, null, payload(change("down"))),
    ).rejects.toMatchObject({
      message: "no gotify token is stored for this channel",
      permanent: true,
    });
    r.answers.push(401);
    const refused = await send(
      { kind: "telegram", url: r.url, chatId: "1" },
      "123:secret-token",
      payload(change("down")),
    ).catch((e: Error) => e.message);
    expect(refused).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/bot… answered HTTP 401/);
    expect(String(refused)).not.toContain("secret-token");
  });
});
