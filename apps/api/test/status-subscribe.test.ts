/**
 * Subscribing to a status page end to end: a visitor in headless Chromium subscribes through the page's
 * form, confirms from the mail a real SMTP server received, gets the operator's incident notice and
 * unsubscribes from its link; a second subscriber, made through the JSON route, leaves with the mail
 * client's one-click POST (RFC 8058).
 */
import type { AddressInfo } from "node:net";
import { createAdaptorServer } from "@hono/node-server";
import { dispatch } from "@vigil/engine";
import { smtpMailer } from "@vigil/notify/node";
import { type SmtpSink, startSmtpSink } from "@vigil/notify/testing";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alertDeps } from "../src/alert-deps.ts";
import { launchChromium } from "./browser.ts";
import { inspect } from "./dashboard-helpers.ts";
import { jsonRequest, testApp } from "./helpers.ts";
import { post, publicHeartbeat } from "./status-helpers.ts";

let sink: SmtpSink;
let browser: Browser;
let base: string;
let env: Awaited<ReturnType<typeof testApp>>;
let close: () => Promise<void>;

beforeAll(async () => {
  sink = await startSmtpSink();
  env = await testApp({ mailer: smtpMailer({ url: sink.url, from: "Acme status <status@test.example>" }) });
  const api = await publicHeartbeat(env.app, env.adminKey, "API");
  const web = await publicHeartbeat(env.app, env.adminKey, "Website");
  await post(env.app, env.adminKey, "/api/v1/status-pages", {
    slug: "acme",
    title: "Acme Cloud",
    components: [
      { type: "check", id: api.id, name: "API" },
      { type: "check", id: web.id, name: "Website" },
    ],
  });
  const server = createAdaptorServer({ fetch: env.app.fetch });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => new Promise((done) => server.close(() => done()));
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await close?.();
  await sink?.close();
});

/** What the scheduler does on its next tick: send what is queued. */
const tick = () => dispatch(alertDeps(env.deps));
const linkIn = (text: string | undefined, kind: string) =>
  text?.match(new RegExp(`https?://\\S+/status/acme/${kind}/[A-Za-z0-9]+`))?.[0] ?? "";
const incident = (title: string) =>
  post(env.app, env.adminKey, "/api/v1/status-incidents", { title, message: "We are looking into it." });

describe("subscribing to a status page", () => {
  it("subscribes from the page's form, confirms from the mail, hears of an incident and unsubscribes from its link", async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/status/acme`);
    await page.getByRole("heading", { name: "Get notices" }).waitFor();
    await page.getByLabel("Email address").fill("visitor@example.org");
    await page.getByText("Only some components").click();
    await page.getByRole("checkbox", { name: "API" }).check();
    // axe in light and dark, no sideways scroll at phone width: the form is part of a public page.
    await inspect(page, "status-subscribe");
    await page.getByRole("button", { name: "Subscribe" }).click();
    await page.getByRole("heading", { name: "Check your inbox" }).waitFor();

    await tick();
    const [confirmMail] = await sink.waitFor(1);
    expect(confirmMail?.subject).toBe("Confirm your subscription to Acme Cloud status");
    await page.goto(linkIn(confirmMail?.text, "confirm"));
    await page.getByRole("heading", { name: "Subscribed" }).waitFor();

    await incident("API errors");
    await tick();
    const [, notice] = await sink.waitFor(2);
    expect(notice?.subject).toBe("[Acme Cloud] API errors — Investigating");
    expect(notice?.text).toContain("Investigating: We are looking into it.");
    const unsubscribe = linkIn(notice?.text, "unsubscribe");
    // Opening the link only asks: a mail scanner following it unsubscribes no one.
    await page.goto(unsubscribe);
    await page.getByRole("heading", { name: "Unsubscribe?" }).waitFor();
    await inspect(page, "status-unsubscribe");
    await page.getByText("Stop notices from Acme Cloud status to visitor@example.org.").waitFor();
    await page.getByRole("button", { name: "Unsubscribe" }).click();
    await page.getByRole("heading", { name: "Unsubscribed" }).waitFor();
    await page.goto(unsubscribe);
    await page.getByRole("heading", { name: "This link does not work" }).waitFor();

    await incident("Second incident");
    await tick();
    expect(sink.messages).toHaveLength(2);
  }, 60_000);

  it("subscribes through the JSON route and leaves with a mail client's one-click unsubscribe", async () => {
    // Over the real server, so the links in its mails name the origin it was reached at.
    const res = await fetch(
      `${base}/api/v1/status/acme/subscribers`,
      jsonRequest("POST", { email: "script@example.org" }),
    );
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ status: "confirmation_sent" });
    await tick();
    const confirmMail = (await sink.waitFor(3))[2];
    expect((await fetch(linkIn(confirmMail?.text, "confirm"))).status).toBe(200);

    await incident("Database slow");
    await tick();
    const notice = (await sink.waitFor(4))[3];
    const header = notice?.headerLines.find((h) => h.key === "list-unsubscribe")?.line ?? "";
    const oneClick = header.match(/<([^>]+)>/)?.[1] ?? "";
    expect(oneClick).toMatch(/\/status\/acme\/unsubscribe\/[A-Za-z0-9]{43}$/);
    const left = await fetch(oneClick, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "List-Unsubscribe=One-Click",
    });
    expect(left.status).toBe(200);
    await incident("Nobody hears of this");
    await tick();
    expect(sink.messages).toHaveLength(4);
  });

  it("refuses a bad subscription in the error shape, naming the field", async () => {
    const res = await env.app.request(
      "/api/v1/status/acme/subscribers",
      jsonRequest("POST", { email: "not an address" }),
    );
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe("VALIDATION_FAILED");
    expect(error.message).toMatch(/^body\.email: /);
    const both = await env.app.request(
      "/api/v1/status/acme/subscribers",
      jsonRequest("POST", { email: "a@example.org", webhook: "https://hooks.example.org/x" }),
    );
    expect(both.status).toBe(400);
    const missing = await env.app.request("/api/v1/status/nope/subscribers", jsonRequest("POST", {}));
    expect(missing.status).toBe(404);
  });

  it("refuses a subscribe form over its body limit with 413 in the error shape", async () => {
    const res = await env.app.request("/status/acme/subscribe", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `email=a%40example.org&components=${"x".repeat(20_000)}`,
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("PAYLOAD_TOO_LARGE");
  });

  it("offers no mail form where the server sends no mail", async () => {
    const bare = await testApp();
    const api = await publicHeartbeat(bare.app, bare.adminKey, "API");
    await post(bare.app, bare.adminKey, "/api/v1/status-pages", {
      slug: "bare",
      title: "Bare",
      components: [{ type: "check", id: api.id, name: "API" }],
    });
    const html = await (await bare.app.request("/status/bare")).text();
    expect(html).not.toContain("Get notices");
    expect(html).toContain("Atom feed");
  });
});
