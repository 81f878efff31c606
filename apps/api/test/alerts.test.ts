// Channels on a server configured without a mail transport or without a secret key (self-hosted settings);
// everything else about channels and delivery is a behaviour case (test/behaviour/alerts.cases.ts).
import { errorBodySchema } from "@vigil/contract";
import { smtpMailer } from "@vigil/notify/node";
import { startSmtpSink, startWebhookReceiver } from "@vigil/notify/testing";
import { afterEach, describe, expect, it } from "vitest";
import { defaultConfig } from "../src/app.ts";
import { jsonRequest, testApp } from "./helpers.ts";

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
});
