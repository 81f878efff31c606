/**
 * The dashboard end to end in headless Chromium (Debian `chromium` through playwright-core) against the
 * real self-hosted server on a fresh data dir, with the local probe reporting this machine: the setup
 * link, signing in, this machine's card and charts, a heartbeat pinged from outside turning up live, and
 * a webhook channel's test landing in a local receiver and in the delivery log. Every screen is checked
 * with axe-core (no serious or critical violations) and photographed at desktop and phone widths.
 */
import { hostname } from "node:os";
import { startWebhookReceiver, type WebhookReceiver } from "@vigil/notify/testing";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../src/server.ts";
import { launchChromium } from "./browser.ts";
import {
  acceptAsNewAccount,
  type DashboardServer,
  inspect as inspectScreen,
  owner,
  setUpOwner,
  startDashboardServer,
  widths,
} from "./dashboard-helpers.ts";

let dashboard: DashboardServer;
let server: RunningServer;
let setupLink: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let receiver: WebhookReceiver;

beforeAll(async () => {
  dashboard = await startDashboardServer("dashboard", { VIGIL_ALLOW_PRIVATE_TARGETS: "1" });
  ({ server, setupLink } = dashboard);
  receiver = await startWebhookReceiver();
  browser = await launchChromium();
  context = await browser.newContext({ viewport: widths.desktop });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.url });
  page = await context.newPage();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await receiver?.close();
  await dashboard?.close();
});

const inspect = (name: string) => inspectScreen(page, name);

describe("the dashboard in Chromium against the self-hosted server", () => {
  it("shows an accessible sign-in page before anyone has an account", async () => {
    await page.goto(`${server.url}/sign-in`);
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    await inspect("sign-in");
  });

  it("sends a visitor at a deep link to sign in", async () => {
    await page.goto(`${server.url}/p/some-project/checks`);
    await page.waitForURL(/\/sign-in\?next=/);
  });

  it("creates the owner through the setup link and signs them in", async () => {
    await setUpOwner(page, setupLink);
    await page.getByRole("navigation", { name: "Project" }).waitFor();
  }, 30_000);

  it("shows this machine's host card once the local probe reports", async () => {
    const card = page.locator(".card", { hasText: hostname() });
    await card.getByText("online").waitFor({ timeout: 90_000 });
    await inspect("overview");
  }, 120_000);

  it("opens the host page with charts drawn from its metrics", async () => {
    await page.locator(".card a.host-name").first().click();
    await page.waitForURL(/\/hosts\//);
    await page
      .locator("figure.chart", { hasText: "CPU busy" })
      .locator("canvas")
      .first()
      .waitFor({ timeout: 60_000 });
    await page.getByRole("button", { name: "24h" }).click();
    await page.locator("figure.chart", { hasText: "Load" }).locator("canvas").first().waitFor();
    // This machine's root filesystem, with its use and a forecast (too little data yet on a fresh server).
    const root = page
      .getByRole("region", { name: "Filesystems" })
      .getByRole("row")
      .filter({ hasText: /^\/\s/ });
    await root.getByText("not enough data yet").waitFor();
    expect(await root.textContent()).toMatch(/\d+(\.\d+)?%/);
    await inspect("host");
  }, 90_000);

  it("edits the host's tags and probe interval from its page", async () => {
    await page.getByRole("heading", { name: "Host settings" }).click();
    await page.getByLabel("Tags").fill("web, eu");
    await page.getByLabel("Collection interval (seconds)").fill("20");
    await page.getByRole("button", { name: "Save host settings" }).click();
    await page.getByRole("status").getByText("Saved").waitFor();
    const hostPath = new URL(page.url()).pathname.replace(/^\/p\//, "/api/v1/projects/");
    const host = (await page.evaluate((path) => fetch(path).then((r) => r.json()), hostPath)) as {
      tags: string[];
      config: { intervalSec: number };
    };
    expect(host.tags).toEqual(["web", "eu"]);
    expect(host.config.intervalSec).toBe(20);
    await page.getByText("tags: web, eu").waitFor();
  });

  it("creates a heartbeat, copies its ping URL and shows the ping live", async () => {
    await page.getByRole("link", { name: "Checks" }).click();
    await page.getByRole("heading", { name: "New heartbeat" }).waitFor();
    await page.getByLabel("Name").fill("nightly backup");
    await page.getByRole("button", { name: "Create heartbeat" }).click();
    await page.getByRole("heading", { name: "nightly backup" }).waitFor();
    expect(await page.getByTestId("check-status").textContent()).toBe("new");

    await page.getByRole("button", { name: "Copy Ping URL" }).click();
    await page.getByRole("button", { name: "Copied Ping URL" }).waitFor();
    const pingUrl = await page.evaluate(() => navigator.clipboard.readText());
    expect(pingUrl).toMatch(new RegExp(`^${server.url}/ping/[0-9a-f-]{36}$`));

    const res = await fetch(pingUrl, { method: "POST", body: "backup ok: 42 files" });
    expect(res.status).toBe(200);
    await page.getByTestId("check-status").getByText("up").waitFor();
    await page.getByRole("cell", { name: "backup ok: 42 files" }).waitFor();
    await inspect("check");
    await page.getByRole("link", { name: "← Checks" }).click();
    await page.getByRole("cell", { name: "nightly backup" }).waitFor();
    await inspect("checks");
  }, 60_000);

  it("creates a webhook channel and a Gotify channel, sends a test to each and shows them in the delivery log", async () => {
    await page.getByRole("link", { name: "Channels" }).click();
    await page.getByRole("heading", { name: "New channel" }).waitFor();
    await page.getByLabel("Name").fill("ops hook");
    await page.getByLabel("URL").fill(receiver.url);
    await page.getByRole("button", { name: "Create channel" }).click();
    const card = page.locator(".card", { hasText: "ops hook" });
    // The API's defaults: down and up, and a certificate about to expire.
    await card.getByText("on down, up, expiring certificates").waitFor();
    await card.getByRole("button", { name: "Send test" }).click();
    const [request] = await receiver.waitFor(1);
    expect(request).toBeDefined();
    await card.getByRole("status").getByText("Sent").waitFor();
    await page.getByTestId("delivery-log").getByText("sent").first().waitFor();
    await inspect("channels");

    // A push service through the same form: its own fields, the token sent as Gotify wants it.
    await page.getByLabel("Kind").selectOption("gotify");
    await page.getByLabel("Name").fill("phone");
    await page.getByLabel("URL").fill(`${receiver.url}/gotify`);
    await page.getByLabel("Application token").fill("AbCdEf123456");
    await page.getByRole("checkbox", { name: /back up/ }).uncheck();
    await page.getByRole("checkbox", { name: /^degraded/ }).check();
    await page.getByRole("checkbox", { name: /certificate about to expire/ }).uncheck();
    await page.getByRole("button", { name: "Create channel" }).click();
    const phone = page.locator(".card", { hasText: "phone" });
    await phone.getByText("on down, degraded").waitFor();
    await phone.getByRole("button", { name: "Send test" }).click();
    const [, pushed] = await receiver.waitFor(2);
    expect(pushed?.path).toBe("/gotify/message");
    expect(pushed?.headers["x-gotify-key"]).toBe("AbCdEf123456");
    await phone.getByRole("status").getByText("Sent").waitFor();
    await inspect("channels");
  }, 60_000);

  it("shows settings with members and an enrollment token form", async () => {
    await page.getByRole("link", { name: "Settings" }).click();
    await page.getByText(owner.email).waitFor();
    await inspect("settings");
  });

  it("invites a colleague from settings, who signs up from the link, accepts and sees the project read-only", async () => {
    await page.getByLabel("Invite by email").fill("vic@example.test");
    await page.getByLabel("Role").selectOption("viewer");
    await page.getByRole("button", { name: "Invite", exact: true }).click();
    const link =
      (await page.locator(".copy", { hasText: "Invitation link" }).locator("code").textContent()) ?? "";
    expect(link).toMatch(new RegExp(`^${server.url}/invite/[0-9a-f-]{36}$`));

    // The colleague, in a browser of their own: no mail server here, so no confirmation to wait for.
    const colleague = await browser.newContext({ viewport: widths.desktop });
    try {
      const theirs = await colleague.newPage();
      await acceptAsNewAccount(theirs, link);
      await theirs.getByRole("link", { name: "Checks" }).click();
      await theirs.getByRole("cell", { name: "nightly backup" }).waitFor();
      expect(await theirs.getByRole("heading", { name: "New heartbeat" }).count()).toBe(0);
    } finally {
      await colleague.close();
    }
    await page.reload();
    await page.getByText("vic@example.test").waitFor();
  }, 60_000);

  it("creates a second project from the switcher, which opens empty with its own install line", async () => {
    const first = new URL(page.url()).pathname.split("/")[2];
    await page
      .getByRole("combobox", { name: "Project", exact: true })
      .selectOption({ label: "+ New project…" });
    await page.getByRole("heading", { name: "New project" }).waitFor();
    await inspect("new-project");
    await page.getByLabel("Project name").fill("staging");
    await page.getByRole("button", { name: "Create project" }).click();
    await page.getByRole("heading", { name: "staging", level: 1 }).waitFor();
    const second = new URL(page.url()).pathname.split("/")[2];
    expect(second).not.toBe(first);
    await page.getByRole("heading", { name: "No hosts yet" }).waitFor();
    expect(await page.locator(".copy", { hasText: "Install line" }).locator("code").textContent()).toMatch(
      /install\.sh \| sudo sh -s -- --token /,
    );
    // The switcher takes the person back; the first project's host is still there.
    await page.getByRole("combobox", { name: "Project", exact: true }).selectOption({ value: first });
    await page.locator(".card a.host-name").first().waitFor();
  }, 60_000);
});
