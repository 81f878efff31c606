// A webhook signed in the Standard Webhooks form, sent to a real receiver on 127.0.0.1 and verified there
// with the format's own library, as a receiver would.
import { randomBytes } from "node:crypto";
import type { NotificationPayloadV1 } from "@vigil/contract";
import type { ChannelRow } from "@vigil/db";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it } from "vitest";
import { signStandardWebhook } from "../src/signature.ts";
import { startWebhookReceiver } from "../src/testing.ts";
import { sendToChannel } from "../src/transports.ts";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

const NOW = Date.UTC(2026, 11, 2, 12);

const payload: NotificationPayloadV1 = {
  version: 1,
  id: "2f1c9d3e-6b1a-4d7e-9c55-0a1b2c3d4e5f",
  project: { id: "p1", name: "prod" },
  test: true,
  title: "TEST: hook",
  url: null,
  sentAt: NOW,
  changes: [
    {
      event: "down",
      from: "up",
      to: "down",
      cause: "test",
      at: NOW,
      downForMs: null,
      reminder: false,
      heldBack: [],
      subject: {
        type: "check",
        id: "c1",
        name: "job",
        summary: "job",
        tags: [],
        checkId: "c1",
        checkKind: "heartbeat",
        ruleId: null,
        hostId: null,
        hostName: null,
        runbookUrl: null,
        path: "/p/p1/checks/c1",
        facts: [],
        logs: null,
      },
    },
  ],
};

function webhookChannel(url: string): ChannelRow {
  return {
    id: "ch1",
    projectId: "p1",
    name: "hook",
    kind: "webhook",
    config: { kind: "webhook", url, headers: {}, signature: "standard" },
    secretSealed: "sealed elsewhere",
    events: ["down", "up"],
    tlsExpiry: true,
    isDefault: true,
    tags: [],
    subjectIds: [],
    reminderSec: null,
    reminderLimit: null,
    groupWindowSec: 0,
    enabled: true,
    failingSince: null,
    lastError: null,
    lastSentAt: null,
    createdAt: NOW,
    updatedAt: NOW,
  } as ChannelRow;
}

describe("Standard Webhooks signatures", () => {
  it("are accepted by the standardwebhooks library's verifier, and refused by it for another secret or body", async () => {
    const receiver = await startWebhookReceiver();
    closers.push(receiver.close);
    const secret = `whsec_${randomBytes(32).toString("base64")}`;
    // The library checks the timestamp against its own clock: sign at the real now.
    await sendToChannel(webhookChannel(`${receiver.url}/in`), secret, payload, {
      fetch: (input, init) => fetch(input, init),
      now: () => Date.now(),
      timeoutMs: 5000,
    });
    const [request] = await receiver.waitFor(1);
    const headers = request?.headers as Record<string, string>;
    expect(headers["webhook-id"]).toBe(payload.id);
    expect(headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(headers["vigil-signature"]).toBeUndefined();

    const body = request?.body ?? "";
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    const otherSecret = `whsec_${randomBytes(32).toString("base64")}`;
    expect(() => new Webhook(otherSecret).verify(body, headers)).toThrow();
    expect(() => new Webhook(secret).verify(body.replace("prod", "dev"), headers)).toThrow();
  });

  it("refuse a secret that is not whsec_ and base64", async () => {
    await expect(signStandardWebhook("plain-secret-of-some-length", "id", "{}", NOW)).rejects.toThrow(
      "whsec_",
    );
  });
});
