/**
 * The dashboard's configuration screens end to end in headless Chromium against the real self-hosted server
 * (private targets allowed, so an HTTP check can reach a server on 127.0.0.1): an HTTP check created through
 * the form turning up with its runs, edited, paused and resumed; a heartbeat's cron read back in words; a
 * status page made of that check, an incident posted and seen on the public page; a colleague invited,
 * accepting from the dashboard, and their role changed; an API key created and used, then revoked; the
 * project renamed; the audit log. Every new screen is checked with axe-core in light and dark (no serious
 * or critical violations) and photographed at desktop and phone widths.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../src/server.ts";
import { launchChromium } from "./browser.ts";
import {
  type DashboardServer,
  inspect as inspectScreen,
  setUpOwner,
  startDashboardServer,
  widths,
} from "./dashboard-helpers.ts";

const colleague = { name: "Mia Member", email: "mia@example.test", password: "mia's long password" };

let dashboard: DashboardServer;
let server: RunningServer;
let target: Server;
let targetUrl: string;
let setupLink: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  dashboard = await startDashboardServer("configure", {
    VIGIL_ALLOW_PRIVATE_TARGETS: "1",
    // No host data is needed here; the probe would only add load on shared cores.
    VIGIL_LOCAL_PROBE: "0",
  });
  ({ server, setupLink } = dashboard);
  // The endpoint the HTTP check watches: a real server on the loopback address.
  target = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("all good here");
  });
  await new Promise<void>((done) => target.listen(0, "127.0.0.1", done));
  targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}/health`;
  browser = await launchChromium();
  context = await browser.newContext({ viewport: widths.desktop });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.url });
  page = await context.newPage();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((done) => (target ? target.close(done) : done(undefined)));
  await dashboard?.close();
});

const inspect = (name: string) => inspectScreen(page, name);

const nav = (name: string) => page.getByRole("navigation", { name: "Project" }).getByRole("link", { name });

describe("the dashboard's configuration screens in Chromium", () => {
  it("creates the owner through the setup link", async () => {
    await setUpOwner(page, setupLink);
    await nav("Checks").waitFor();
  }, 30_000);

  it("shows the API's refusal of a check under the field it names", async () => {
    await nav("Checks").click();
    await page.getByLabel("Kind").selectOption("http");
    await page.getByRole("heading", { name: "New HTTP check" }).waitFor();
    await page.getByLabel("Name", { exact: true }).fill("refused");
    await page.getByLabel("URL", { exact: true }).fill(targetUrl);
    await page.getByLabel("Expected status").fill("999");
    await page.getByRole("button", { name: "Create HTTP check" }).click();
    await page.locator("#new-expectedStatus-error").waitFor();
    expect(await page.getByLabel("Expected status").getAttribute("aria-invalid")).toBe("true");
  });

  it("creates an HTTP check against a local server and shows it up with its runs and 90-day bar", async () => {
    await page.getByLabel("Expected status").fill("200-299");
    await page.getByLabel("Name", { exact: true }).fill("local api");
    await page.getByLabel("Keyword", { exact: true }).fill("all good");
    await page.getByRole("button", { name: "Create HTTP check" }).click();
    await page.getByRole("heading", { name: "local api" }).waitFor();
    await page.getByTestId("check-status").getByText("up").waitFor({ timeout: 30_000 });
    await page.getByTestId("runs").getByText("200").first().waitFor();
    await inspect("check-http");

    await page.getByRole("link", { name: "← Checks" }).click();
    await page.getByRole("cell", { name: "local api" }).waitFor();
    await page
      .getByRole("img", { name: /% up over 90 days/ })
      .first()
      .waitFor({ timeout: 70_000 });
    await inspect("checks-list");
  }, 120_000);

  it("edits the check, pauses and resumes it", async () => {
    await page.getByRole("link", { name: "local api" }).click();
    await page.getByRole("button", { name: "Edit" }).click();
    const editor = page.getByRole("form", { name: "Edit check" });
    await editor.getByLabel("Name", { exact: true }).fill("local api v2");
    await editor.getByLabel("Run every (seconds)").fill("30");
    await editor.getByRole("button", { name: "Save changes" }).click();
    await page.getByRole("heading", { name: "local api v2", level: 1 }).waitFor();

    await page.getByRole("button", { name: "Pause" }).click();
    await page.getByTestId("check-status").getByText("paused").waitFor();
    await page.getByRole("button", { name: "Resume" }).click();
    await page.getByRole("button", { name: "Pause" }).waitFor();
  }, 60_000);

  it("reads a heartbeat's cron schedule back in words with its next runs, and offers a cron line", async () => {
    await nav("Checks").click();
    await page.getByLabel("Name", { exact: true }).fill("weekday dump");
    await page.getByLabel("on a cron schedule").check();
    await page.getByLabel("Cron schedule", { exact: true }).fill("30 3 * * 1-5");
    await page.getByLabel("Time zone").fill("UTC");
    await page.getByText("Runs at 03:30, on Monday to Friday").waitFor();
    await page.getByText(/^Next: /).waitFor();
    await page.getByRole("button", { name: "Create heartbeat" }).click();
    await page.getByRole("heading", { name: "weekday dump" }).waitFor();
    await page.getByText("Runs at 03:30, on Monday to Friday").waitFor();
    const line = await page.locator(".copy", { hasText: "Cron line" }).locator("code").textContent();
    expect(line).toMatch(/^30 3 \* \* 1-5 \/path\/to\/job\.sh; curl -fsS .*\/ping\/[0-9a-f-]{36}\/\$\?$/);
    await inspect("check-heartbeat");
  }, 60_000);

  it("sets a heartbeat's body keywords and run conditions, and turns them off again", async () => {
    await page.getByRole("button", { name: "Edit" }).click();
    const editor = page.getByRole("form", { name: "Edit check" });
    await editor.getByText("Keywords and run conditions").click();
    await editor.getByLabel("Failure keywords").fill("error, fatal");
    await editor.getByLabel("Shortest run (seconds)").fill("30");
    await editor.getByLabel("Longest run (seconds)").fill("10");
    await editor.getByRole("button", { name: "Save changes" }).click();
    await editor
      .locator(".field", { has: page.getByLabel("Shortest run (seconds)") })
      .getByText("minRun must be shorter than maxRun")
      .waitFor();
    await editor.getByLabel("Longest run (seconds)").fill("3600");
    await editor.getByLabel("At most one success every (minutes)").fill("60");
    await editor.getByRole("button", { name: "Save changes" }).click();
    await editor.waitFor({ state: "detached" });
    const checkId = new URL(page.url()).pathname.split("/").at(-1);
    const projectId = new URL(page.url()).pathname.split("/")[2];
    const read = async () =>
      (await (
        await page.request.get(`${server.url}/api/v1/projects/${projectId}/checks/${checkId}`)
      ).json()) as Record<string, unknown>;
    expect(await read()).toMatchObject({
      bodyKeywords: { success: [], failure: ["error", "fatal"], start: [] },
      minRun: 30,
      maxRun: 3600,
      startGrace: null,
      minInterval: 3600,
    });

    await page.getByRole("button", { name: "Edit" }).click();
    await editor.getByLabel("Failure keywords").fill("");
    await editor.getByLabel("Shortest run (seconds)").fill("");
    await editor.getByRole("button", { name: "Save changes" }).click();
    await editor.waitFor({ state: "detached" });
    expect(await read()).toMatchObject({ bodyKeywords: null, minRun: null, maxRun: 3600 });
  }, 60_000);

  it("makes a status page of the check, posts an incident and shows both on the public page", async () => {
    await nav("Status pages").click();
    await page.getByRole("heading", { name: "No status pages yet" }).waitFor();
    await page.getByLabel("Title", { exact: true }).fill("Acme status");
    expect(await page.getByLabel("Address (slug)").inputValue()).toBe("acme-status");
    await page.getByRole("button", { name: "Create status page" }).click();
    await page.getByRole("heading", { name: "Acme status", level: 1 }).waitFor();

    await page
      .getByLabel("Add a check or host")
      .selectOption({ label: "check: local api v2 (made public on save)" });
    await page.getByRole("button", { name: "Add component" }).click();
    await page.getByLabel("Shown as").fill("Public API");
    await page.getByLabel("Group heading").fill("Services");
    await page.getByRole("button", { name: "Save components" }).click();
    await page.getByRole("status").getByText("Components saved").waitFor();
    await page.frameLocator("iframe.preview").getByText("Public API").first().waitFor();
    // A reader's system follows the page through the public route; the editor lists it and removes it.
    const subscribed = await page.request.post(`${server.url}/api/v1/status/acme-status/subscribers`, {
      data: { webhook: "https://hooks.example.test/acme" },
    });
    expect(subscribed.status()).toBe(202);
    await page.reload();
    const subscriber = page.getByTestId("subscribers").getByRole("row", { name: /hooks\.example\.test/ });
    await subscriber.getByText("everything").waitFor();
    await inspect("status-page-editor");
    await subscriber.getByRole("button", { name: "Remove" }).click();
    await subscriber.getByRole("button", { name: "Yes, remove" }).click();
    await page.getByText("Nobody yet.").waitFor();

    await page.getByRole("link", { name: "← Status pages" }).click();
    await page.getByLabel("Incident title").fill("Slow responses");
    await page.getByLabel("What is happening").fill("We are looking into slow answers.");
    await page.locator("#new-incident-form").getByLabel("check: local api v2").check();
    await page.getByRole("button", { name: "Post incident" }).click();
    const card = page.getByTestId("incidents").locator(".card", { hasText: "Slow responses" });
    await card.waitFor();
    await card.getByRole("button", { name: "Post update" }).click();
    await card.getByLabel("Update", { exact: true }).fill("A fix is out; watching.");
    await card.getByRole("button", { name: "Post update" }).click();
    await card.getByText("A fix is out; watching.").waitFor();

    await page.getByLabel("Maintenance title").fill("Database upgrade");
    await page.getByRole("button", { name: "Schedule", exact: true }).click();
    await page.locator(".card", { hasText: "Database upgrade" }).waitFor();
    await inspect("status-pages");

    const publicPage = await context.newPage();
    try {
      await publicPage.goto(`${server.url}/status/acme-status`);
      await publicPage.getByText("Public API").first().waitFor();
      await publicPage.getByText("Slow responses").first().waitFor();
      await publicPage.getByText("Database upgrade").first().waitFor();
    } finally {
      await publicPage.close();
    }
  }, 120_000);

  it("invites a colleague who accepts from the dashboard, then changes their role", async () => {
    await nav("Settings").click();
    await page.getByLabel("Invite by email").fill(colleague.email);
    await page.getByLabel("Role", { exact: true }).selectOption("viewer");
    await page.getByRole("button", { name: "Invite", exact: true }).click();
    await page.locator(".copy", { hasText: "Invitation link" }).waitFor();

    const theirs = await browser.newContext({ viewport: widths.desktop });
    try {
      const them = await theirs.newPage();
      await them.goto(`${server.url}/sign-up`);
      await them.getByLabel("Name").fill(colleague.name);
      await them.getByLabel("Email").fill(colleague.email);
      await them.getByLabel("Password").fill(colleague.password);
      await them.getByRole("button", { name: "Create account" }).click();
      await them.getByRole("heading", { name: "Account created" }).waitFor();
      await them.goto(`${server.url}/sign-in`);
      await them.getByLabel("Email").fill(colleague.email);
      await them.getByLabel("Password").fill(colleague.password);
      await them.getByRole("button", { name: "Sign in" }).click();
      // No project yet: the invitation waits on the first screen, no emailed link needed.
      await them.getByRole("heading", { name: "Your invitations" }).waitFor();
      await them.getByRole("button", { name: /^Accept/ }).click();
      await them.getByRole("navigation", { name: "Project" }).getByRole("link", { name: "Checks" }).click();
      await them.getByRole("cell", { name: "local api v2" }).waitFor();
      expect(await them.getByRole("heading", { name: "New heartbeat" }).count()).toBe(0);

      const role = page.getByLabel(`Role of ${colleague.email}`);
      await role.waitFor();
      expect(await role.inputValue()).toBe("viewer");
      await role.selectOption("member");
      await page.getByRole("status").getByText(`${colleague.email} is now member`).waitFor();
      // The colleague may now write: the create form appears on their next look.
      await them.reload();
      await them.getByRole("heading", { name: "New heartbeat" }).waitFor();
    } finally {
      await theirs.close();
    }
  }, 90_000);

  it("creates an API key, shows its secret once, and the key works until revoked", async () => {
    await page.getByLabel("Key name").fill("grafana");
    await page.getByRole("button", { name: "Create API key" }).click();
    const secret = (await page.locator(".secret code").textContent()) ?? "";
    expect(secret).toMatch(/^vgl_key_/);
    const ok = await fetch(`${server.url}/api/v1/checks`, { headers: { authorization: `Bearer ${secret}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain("local api v2");
    await inspect("settings");

    await page.getByRole("button", { name: "I have copied it" }).click();
    const row = page.getByRole("row", { name: /grafana/ });
    await row.getByRole("button", { name: "Revoke" }).click();
    await row.getByRole("button", { name: "Yes, revoke" }).click();
    await row.waitFor({ state: "detached" });
    const revoked = await fetch(`${server.url}/api/v1/checks`, {
      headers: { authorization: `Bearer ${secret}` },
    });
    expect(revoked.status).toBe(401);
  }, 60_000);

  it("sets what alerts quote from the logs, refusing a redaction pattern that is not a regular expression", async () => {
    await page.getByLabel("Lines an alert quotes at most").fill("30");
    await page.getByLabel("Also redact").fill("customer-(\\d+");
    await page.getByRole("button", { name: "Save probe configuration" }).click();
    await page
      .locator(".field", { has: page.getByLabel("Also redact") })
      .getByText("is not a valid regular expression")
      .waitFor();
    await page.getByLabel("Also redact").fill("customer-\\d+");
    await page.getByRole("button", { name: "Save probe configuration" }).click();
    await page.getByRole("status").getByText("Saved.").waitFor();
    // Read back with the page's session, as the dashboard itself would.
    const projectId = new URL(page.url()).pathname.split("/")[2];
    const settings = (await (
      await page.request.get(`${server.url}/api/v1/projects/${projectId}/settings`)
    ).json()) as { alerts: { logLines: number; redact: string[] } };
    expect(settings.alerts).toEqual({ logLines: 30, redact: ["customer-\\d+"] });
  }, 60_000);

  it("keeps the weekly report's recipients and day, and says why it cannot send where the server has no mail", async () => {
    const weekly = page.getByRole("region", { name: "Weekly report" });
    // This server has no mail relay (the report's mail is tested against a real one in weekly-report.test.ts).
    await page.getByLabel("Send the weekly report").check();
    await page.getByLabel("Send it to").fill("owner@example.test");
    await page.getByRole("button", { name: "Save weekly report" }).click();
    await page
      .locator(".field", { has: page.getByLabel("Send it to") })
      .getByText("this server sends no email")
      .waitFor();
    await page.getByLabel("Send the weekly report").uncheck();
    await page.getByLabel("On", { exact: true }).selectOption("Friday");
    await page.getByRole("button", { name: "Save weekly report" }).click();
    await weekly.getByRole("status").getByText("Saved.").waitFor();
    const projectId = new URL(page.url()).pathname.split("/")[2];
    const settings = (await (
      await page.request.get(`${server.url}/api/v1/projects/${projectId}/settings`)
    ).json()) as { reports: Record<string, unknown> };
    expect(settings.reports).toMatchObject({
      weekly: false,
      to: ["owner@example.test"],
      weekday: 5,
      hour: 8,
    });
    await page.getByRole("button", { name: "Send this week's report now" }).click();
    await weekly.getByText(/this server sends no email: set VIGIL_SMTP_URL/).waitFor();
    await inspect("settings-weekly-report");
  }, 60_000);

  it("renames the project and shows the audit log with what was done", async () => {
    await page.getByLabel("Project name").fill("Production");
    await page.getByRole("button", { name: "Rename project" }).click();
    await page.locator(".switcher option", { hasText: "Production" }).waitFor({ state: "attached" });

    await page.getByRole("link", { name: "open the audit log" }).click();
    await page.getByRole("heading", { name: "Audit log" }).waitFor();
    const log = page.getByTestId("audit-log");
    await log.getByText("api_key.create").waitFor();
    await log.getByText("member.role_change").waitFor();
    await log.getByText("project.rename").waitFor();
    await inspect("audit-log");
  }, 60_000);
});
