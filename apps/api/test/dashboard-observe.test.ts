/**
 * The dashboard's observe screens (Logs, Backups, Alerts) end to end in headless Chromium against the real
 * self-hosted server on a fresh data dir. Besides the local probe reporting this machine, a second host is
 * enrolled over HTTP and sends batches with a host token: log lines, backup runs (one failing, which fires
 * the built-in backup rule) and a deploy marker. The screens must show them, the live tail must show a line
 * sent after it opened, and a rule, a silence and a maintenance window made in the page must be there
 * through the API. Each screen is checked with axe-core in light and dark and photographed at two widths.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../src/server.ts";
import { launchChromium } from "./browser.ts";
import {
  acceptAsNewAccount,
  callApi,
  type DashboardServer,
  inspect as inspectScreen,
  scriptKey,
  sendProbeBatch,
  setUpOwner,
  startDashboardServer,
  widths,
} from "./dashboard-helpers.ts";

let dashboard: DashboardServer;
let server: RunningServer;
let setupLink: string;
let browser: Browser;
let page: Page;
let projectId = "";
let adminKey = "";
let host = { hostId: "", hostToken: "" };
/** When the seeded lines were logged: the moment the logs screen is asked to open around. */
let moment = 0;

beforeAll(async () => {
  dashboard = await startDashboardServer("observe");
  ({ server, setupLink } = dashboard);
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: widths.desktop });
  page = await context.newPage();
  // Deleting and ending ask first; the person in this test says yes.
  page.on("dialog", (dialog) => void dialog.accept());
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await dashboard?.close();
});

const inspect = (name: string) => inspectScreen(page, name);

/** The REST API with the test's admin key, as a script would call it. */
const call = <T>(method: string, path: string, body?: unknown) =>
  callApi<T>(server.url, adminKey, method, path, body);

/** One batch from the host, as its probe would send it. */
const sendBatch = (fields: Record<string, unknown>) => sendProbeBatch(server.url, host.hostToken, fields);

/** The project's navigation, where "Logs" is the one link of that name. */
const nav = {
  getByRole: (role: "link", options: { name: string }) =>
    page.getByRole("navigation", { name: "Project" }).getByRole(role, { ...options, exact: true }),
};

const at = (path: string) => `${server.url}/p/${projectId}${path}`;

describe("the observe screens in Chromium against the self-hosted server", () => {
  it("signs the owner in through the setup link", async () => {
    projectId = await setUpOwner(page, setupLink);
    adminKey = await scriptKey(page, projectId);
    expect(adminKey).not.toBe("");
  }, 30_000);

  it("teaches how to report restic runs while no backup has been reported", async () => {
    await nav.getByRole("link", { name: "Backups" }).click();
    await page.getByRole("heading", { name: "No backups reported yet" }).waitFor();
    await page.getByText("vigil-probe backup --name files -- restic backup /srv --json").waitFor();
    await inspect("backups-empty");
  }, 30_000);

  it("shows a second host's log lines newest first, filtered by host and text", async () => {
    const { token } = await call<{ token: string }>("POST", "/enrollment-tokens", { name: "db" });
    const enrolled = await fetch(`${server.url}/api/v1/probe/enroll`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token, facts: { hostname: "db-7", machineId: crypto.randomUUID() } }),
    });
    host = (await enrolled.json()) as typeof host;
    moment = Date.now() - 10 * 60_000;
    const now = Date.now();
    await sendBatch({
      facts: { hostname: "db-7", cpuCount: 2 },
      logs: [
        { ts: moment - 60_000, priority: 6, unit: "postgresql.service", message: "checkpoint starting" },
        {
          ts: moment,
          priority: 3,
          unit: "postgresql.service",
          message: "could not extend file: No space left",
        },
        { ts: moment + 60_000, priority: 4, unit: "cron.service", message: "backup job took 40 min" },
      ],
      backups: [
        {
          name: "postgres",
          tool: "restic",
          status: "success",
          startedAt: now - 3 * 60_000,
          endedAt: now - 60_000,
          bytesAdded: 12_500_000,
          bytesProcessed: 4_200_000_000,
        },
        {
          name: "uploads",
          tool: "restic",
          status: "failure",
          startedAt: now - 2 * 60_000,
          endedAt: now - 30_000,
          exitCode: 1,
          error: "Fatal: unable to open repository: lock held",
        },
      ],
    });

    await nav.getByRole("link", { name: "Logs" }).click();
    const lines = page.getByRole("list", { name: "Log lines, newest first" });
    await lines.getByText("could not extend file: No space left").waitFor();
    const order = await lines.locator(".log-message").allTextContents();
    expect(order.indexOf("backup job took 40 min")).toBeLessThan(order.indexOf("checkpoint starting"));

    await page.getByLabel("Host").selectOption({ label: "db-7" });
    await page.getByLabel("Text").fill("checkpoint");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(/\/logs\?host=.+&q=checkpoint/);
    await lines.getByText("checkpoint starting").waitFor();
    await expect.poll(() => lines.locator(".log-message").allTextContents()).toEqual(["checkpoint starting"]);
    await inspect("logs");
  }, 60_000);

  it("shows a line sent after the live tail opened", async () => {
    await page.goto(at(`/logs?host=${host.hostId}`));
    const tailOpened = page.waitForResponse(
      (res) => res.url().includes("/logs/tail") && res.status() === 200,
    );
    await page.getByRole("button", { name: "Live tail" }).click();
    const tail = await tailOpened;
    expect(tail.headers()["content-type"]).toContain("text/event-stream");
    await page.getByRole("status").getByText("Live: new lines appear").waitFor();
    const fresh = `tailed ${crypto.randomUUID()}`;
    await sendBatch({ logs: [{ ts: Date.now(), priority: 5, unit: "app.service", message: fresh }] });
    await page.getByRole("list", { name: "Log lines, newest first" }).getByText(fresh).waitFor();
    await page.getByRole("button", { name: "Live tail" }).click();
  }, 60_000);

  it("opens the lines around a moment from its URL", async () => {
    await page.goto(at(`/logs?host=${host.hostId}&at=${moment}`));
    const around = page.getByRole("list", { name: "Log lines around the moment" });
    await around.getByText("could not extend file: No space left").waitFor();
    const texts = await around.locator("li").allTextContents();
    const marker = texts.findIndex((t) => t.includes("after ·"));
    expect(texts.findIndex((t) => t.includes("backup job took 40 min"))).toBeLessThan(marker);
    expect(texts.findIndex((t) => t.includes("No space left"))).toBeGreaterThan(marker);
    await inspect("logs-moment");
  }, 30_000);

  it("opens the logs around a deploy from the host page", async () => {
    await call("POST", "/events", {
      service: "db",
      version: "16.2",
      host: host.hostId,
      message: "deployed db 16.2",
      at: moment,
    });
    await page.goto(at(`/hosts/${host.hostId}`));
    await page.getByRole("button", { name: "24h" }).click();
    const deploys = page.locator("section", {
      has: page.getByRole("heading", { name: "Deploys in this range" }),
    });
    await deploys.getByRole("link", { name: "logs around it" }).click();
    await page.waitForURL(new RegExp(`/logs\\?host=${host.hostId}&at=${moment}`));
    await page
      .getByRole("list", { name: "Log lines around the moment" })
      .getByText("No space left")
      .waitFor();
  }, 30_000);

  it("shows each backup with its status, size, duration and expected interval", async () => {
    await nav.getByRole("link", { name: "Backups" }).click();
    const postgres = page.getByRole("row", { name: /postgres/ });
    await postgres.getByText("ok", { exact: true }).waitFor();
    await postgres.getByText("13 MB added of 4.2 GB").waitFor();
    await postgres.getByText("26 h").waitFor();
    const uploads = page.getByRole("row", { name: /uploads/ });
    await uploads.getByText("failed", { exact: true }).waitFor();
    await uploads.getByText("lock held").waitFor();
    await inspect("backups");
  }, 30_000);

  it("grades the host's data against 3-2-1 from repository checks and a drill, and takes the owner's word that a copy is off site", async () => {
    const now = Date.now();
    const source = {
      hostname: "db-7",
      paths: ["/srv/data"],
      snapshots: 14,
      newestAt: now - 3_600_000,
      oldestAt: now - 14 * 86_400_000,
    };
    const checkOf = (name: string, location: string, id: string) => ({
      name,
      tool: "restic",
      status: "ok",
      startedAt: now - 120_000,
      endedAt: now - 60_000,
      repository: { location, id },
      sizeBytes: 3_400_000_000,
      snapshotCount: 14,
      newestSnapshotAt: now - 3_600_000,
      sources: [source],
    });
    await sendBatch({
      backupChecks: [
        checkOf("nas", "sftp:backup@nas.lan:/restic", "aa11"),
        checkOf("usb", "/mnt/usb/restic", "bb22"),
      ],
      backupDrills: [
        {
          name: "nas",
          tool: "restic",
          status: "ok",
          repository: { location: "sftp:backup@nas.lan:/restic", id: "aa11" },
          startedAt: now - 50_000,
          endedAt: now - 40_000,
          files: 20,
          bytes: 52_000_000,
          canary: true,
        },
      ],
    });
    await page.goto(at("/backups"));
    await page.getByRole("heading", { name: "Copies (3-2-1)" }).waitFor();
    const card = page.locator(".card", { hasText: "/srv/data" });
    await card.getByText(/3 copies, 2 media, 0 off site, last drill restored 20 files identical/).waitFor();
    const repositories = page.getByRole("table", { name: "Backup repositories checked by the probes" });
    const nas = repositories.getByRole("row", { name: /nas/ });
    await nas.getByText("another host, on site").waitFor();
    await nas.getByText("20 files, 52 MB", { exact: false }).waitFor();
    await inspect("backups-assurance");

    // The NAS stands in another building: the owner says so, and the grade counts it off site.
    await nas.getByText("Change").click();
    await nas.getByLabel("Site").selectOption("offsite");
    await nas.getByRole("button", { name: "Save" }).click();
    await card.getByText(/3 copies, 2 media, 1 off site/).waitFor();
    const listed = await call<{ repositories: { name: string; site: string; siteSource: string }[] }>(
      "GET",
      "/backups/repositories",
    );
    expect(listed.repositories.find((r) => r.name === "nas")).toMatchObject({
      site: "offsite",
      siteSource: "set",
    });

    // The host's own page says the same of its data.
    await page.goto(at(`/hosts/${host.hostId}`));
    const copies = page.locator("section", { has: page.getByRole("heading", { name: "Backup copies" }) });
    await copies.getByText(/\/srv\/data: 3 copies, 2 media, 1 off site/).waitFor();
    await copies.getByText(/Repository nas .*drilled .*ok/).waitFor();
  }, 60_000);

  it("shows the failed backup's alert firing, and from it the logs around its moment", async () => {
    await nav.getByRole("link", { name: "Alerts" }).click();
    const firing = page.getByRole("table", { name: "Alerts firing or pending" });
    const row = firing.getByRole("row", { name: /uploads/ });
    await row.getByText("firing", { exact: true }).waitFor({ timeout: 30_000 });
    await row.locator("summary").click();
    await row.getByRole("listitem").getByText("→ firing").waitFor();
    await inspect("alerts");
    await row.getByRole("link", { name: /Lines around/ }).click();
    await page.waitForURL(new RegExp(`/logs\\?host=${host.hostId}&at=\\d+`));
    await page.getByRole("list", { name: "Log lines around the moment" }).waitFor();
  }, 60_000);

  it("creates, switches off and deletes a custom rule from the page", async () => {
    await page.goto(at("/alerts/rules"));
    await page.getByRole("heading", { name: "No custom rules yet" }).waitFor();
    await page.getByRole("rowheader", { name: /Backup older than 26 hours/ }).waitFor();
    await inspect("alerts-rules");

    await page.getByLabel("Rule name").fill("/srv above 80%");
    await page.getByLabel("Metric").fill("fs.used_pct");
    await page.getByLabel("Comparison").selectOption(">");
    await page.getByLabel("Threshold").fill("80");
    await page.getByLabel("For (minutes)").fill("10");
    await page.getByRole("button", { name: "Create rule" }).click();
    const row = page.getByRole("row", { name: /srv above 80%/ });
    await row.getByText("fs.used_pct > 80").waitFor();
    const { rules } = await call<{
      rules: {
        id: string;
        name: string;
        params: Record<string, unknown>;
        forSec: number;
        enabled: boolean;
      }[];
    }>("GET", "/rules");
    const made = rules.find((r) => r.name === "/srv above 80%");
    expect(made).toMatchObject({
      params: { metric: "fs.used_pct", op: ">", value: 80 },
      forSec: 600,
      enabled: true,
    });

    await row.getByRole("button", { name: "Switch off /srv above 80%" }).click();
    await row.getByText("off", { exact: true }).waitFor();
    expect((await call<{ enabled: boolean }>("GET", `/rules/${made?.id}`)).enabled).toBe(false);

    await row.getByRole("button", { name: "Edit /srv above 80%" }).click();
    await page.getByRole("heading", { name: "Edit rule: /srv above 80%" }).waitFor();
    await page.getByLabel("Threshold").fill("85");
    await page.getByRole("button", { name: "Save rule" }).click();
    await row.getByText("fs.used_pct > 85").waitFor();

    await row.getByRole("button", { name: "Delete /srv above 80%" }).click();
    await page.getByRole("heading", { name: "No custom rules yet" }).waitFor();
    expect(
      (await call<{ rules: { name: string }[] }>("GET", "/rules")).rules.map((r) => r.name),
    ).not.toContain("/srv above 80%");
  }, 60_000);

  it("creates a silence for a host from the page and expires it", async () => {
    await page.goto(at("/alerts/silences"));
    await page.getByRole("heading", { name: "No silences" }).waitFor();
    await inspect("alerts-silences-empty");
    await page.getByLabel("Host").selectOption({ label: "db-7" });
    await page.getByLabel("Duration (hours)").fill("3");
    await page.getByLabel("Comment").fill("moving the database");
    await page.getByRole("button", { name: "Create silence" }).click();
    const row = page.getByRole("row", { name: /moving the database/ });
    await row.getByText("active").waitFor();
    const { silences } = await call<{
      silences: {
        id: string;
        matchers: Record<string, string>;
        startsAt: number;
        endsAt: number;
        comment: string;
      }[];
    }>("GET", "/silences");
    expect(silences).toHaveLength(1);
    expect(silences[0]?.matchers).toEqual({ hostId: host.hostId });
    expect((silences[0]?.endsAt ?? 0) - (silences[0]?.startsAt ?? 0)).toBe(3 * 3_600_000);
    await inspect("alerts-silences");

    await row.getByRole("button", { name: /Expire/ }).click();
    await row.getByText("expired").waitFor();
    expect((await call<{ silences: unknown[] }>("GET", "/silences")).silences).toEqual([]);
  }, 60_000);

  it("creates a weekly maintenance window from the page and ends it", async () => {
    await page.goto(at("/alerts/maintenance"));
    await page.getByRole("heading", { name: "No maintenance windows" }).waitFor();
    await page.getByLabel("Window name").fill("Sunday upgrades");
    await page.getByLabel("Host").selectOption({ label: "db-7" });
    await page.getByLabel("Time zone").fill("UTC");
    await page.getByRole("button", { name: "Create window" }).click();
    const row = page.getByRole("row", { name: /Sunday upgrades/ });
    await row.getByText("(UTC)").waitFor();
    const { maintenanceWindows } = await call<{
      maintenanceWindows: { name: string; durationMinutes: number }[];
    }>("GET", "/maintenance-windows");
    expect(maintenanceWindows).toMatchObject([{ name: "Sunday upgrades", durationMinutes: 60 }]);
    await inspect("alerts-maintenance");
    await row.getByRole("button", { name: "End Sunday upgrades" }).click();
    await page.getByRole("heading", { name: "No maintenance windows" }).waitFor();
  }, 60_000);

  it("shows a viewer the logs, backups, rules and silences without a way to change them", async () => {
    await call("POST", "/silences", {
      hostId: host.hostId,
      durationMinutes: 30,
      comment: "viewer sees this",
    });
    await page.goto(at("/settings"));
    await page.getByLabel("Invite by email").fill("vic@example.test");
    await page.getByLabel("Role").selectOption("viewer");
    await page.getByRole("button", { name: "Invite", exact: true }).click();
    const link =
      (await page.locator(".copy", { hasText: "Invitation link" }).locator("code").textContent()) ?? "";
    expect(link).toMatch(/\/invite\/[0-9a-f-]{36}$/);

    const colleague = await browser.newContext({ viewport: widths.desktop });
    try {
      const theirs = await colleague.newPage();
      await acceptAsNewAccount(theirs, link);

      await theirs.goto(at("/logs"));
      await theirs.getByText("could not extend file: No space left").waitFor();
      await theirs.goto(at("/backups"));
      await theirs.getByRole("row", { name: /uploads/ }).waitFor();
      await theirs.goto(at("/alerts/rules"));
      await theirs.getByRole("rowheader", { name: /Backup older than 26 hours/ }).waitFor();
      expect(await theirs.getByRole("button", { name: /Switch off|Edit|Delete/ }).count()).toBe(0);
      expect(await theirs.getByRole("heading", { name: "New rule" }).count()).toBe(0);
      await theirs.goto(at("/alerts/silences"));
      await theirs.getByRole("row", { name: /viewer sees this/ }).waitFor();
      expect(await theirs.getByRole("button", { name: /Expire/ }).count()).toBe(0);
      expect(await theirs.getByRole("heading", { name: "New silence" }).count()).toBe(0);
    } finally {
      await colleague.close();
    }
  }, 90_000);
});
