// Email through the provider-neutral HTTP API, against a real receiver on 127.0.0.1.
import { afterEach, describe, expect, it } from "vitest";
import { httpMailer } from "../src/http-mailer.ts";
import { startWebhookReceiver } from "../src/testing.ts";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

const message = {
  to: ["ops@test.example"],
  subject: "DOWN: nightly-backup",
  text: "Cause: no ping within grace",
  html: "<p>Cause: no ping within grace</p>",
  messageId: "<d-2@vigil>",
};

describe("email through an HTTP API", () => {
  it("posts the message as JSON with the bearer key, and says whether a refusal is worth retrying", async () => {
    const receiver = await startWebhookReceiver();
    closers.push(receiver.close);
    const mailer = httpMailer({
      url: `${receiver.url}/send`,
      key: "mail-key",
      from: "Vigil <v@test.example>",
    });
    await mailer.send(message, AbortSignal.timeout(5000));
    const [request] = receiver.requests;
    expect(request?.headers.authorization).toBe("Bearer mail-key");
    expect(JSON.parse(request?.body ?? "{}")).toEqual({
      from: "Vigil <v@test.example>",
      to: ["ops@test.example"],
      subject: "DOWN: nightly-backup",
      text: message.text,
      html: message.html,
      headers: { "Message-ID": "<d-2@vigil>" },
    });

    receiver.answers.push(422, 503);
    const refused = await mailer.send(message, AbortSignal.timeout(5000)).catch((e: unknown) => e);
    expect(refused).toMatchObject({ permanent: true, status: 422 });
    const busy = await mailer.send(message, AbortSignal.timeout(5000)).catch((e: unknown) => e);
    expect(busy).toMatchObject({ permanent: false, status: 503 });
  });
});
