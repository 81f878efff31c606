/**
 * Runbooks (issue 21) in the dashboard, end to end in headless Chromium against the real self-hosted server
 * (private targets allowed, so an HTTP step can reach a receiver on 127.0.0.1). A host enrolled over HTTP
 * reports 12 pending updates (3 security) and announces runbook commands in its facts. In the browser: a
 * runbook made from the OS upgrade template for the host's tag, listed as a monthly task with its due time;
 * a run started, its first step showing the pending updates and marked done with a note; the command steps
 * waiting for the host, answered through the API as its probe would (the second with a state that now
 * requires a reboot), their exit codes and output shown, the last step showing "reboot required"; the run
 * succeeded with who did what. Then a runbook written in the editor (a manual step in Markdown and an HTTP
 * step naming a secret; a refused field shown under it; steps moved and removed), a secret added on the
 * secrets screen and listed by name only, a run whose HTTP step reaches the receiver with the secret filled
 * in, and a run cancelled. Every screen is checked with axe-core in light and dark and photographed at
 * desktop and phone widths.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../src/server.ts";
import { launchChromium } from "./browser.ts";
import {
  callApi,
  type DashboardServer,
  inspect as inspectScreen,
  owner,
  scriptKey,
  sendProbeBatch,
  setUpOwner,
  startDashboardServer,
  widths,
} from "./dashboard-helpers.ts";

const SECRET_VALUE = "s3cr3t-hook-value";

let dashboard: DashboardServer;
let server: RunningServer;
let setupLink: string;
let receiver: Server;
let receiverUrl: string;
const received: { method: string; url: string; headers: Record<string, unknown>; body: string }[] = [];
let browser: Browser;
let page: Page;
let adminKey = "";
let host = { hostId: "", hostToken: "" };

beforeAll(async () => {
  dashboard = await startDashboardServer("runbooks", {
    VIGIL_ALLOW_PRIVATE_TARGETS: "1",
    // The local probe would be a second host this suite does not want.
    VIGIL_LOCAL_PROBE: "0",
  });
  ({ server, setupLink } = dashboard);
  // What the HTTP step calls: a deploy hook on the loopback address that records what it was sent.
  receiver = createServer(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    received.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
    res.writeHead(202, { "content-type": "text/plain" });
    res.end("deploy queued");
  });
  await new Promise<void>((done) => receiver.listen(0, "127.0.0.1", done));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  browser = await launchChromium();
  page = await (await browser.newContext({ viewport: widths.desktop })).newPage();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((done) => (receiver ? receiver.close(done) : done(undefined)));
  await dashboard?.close();
});

const inspect = (name: string) => inspectScreen(page, name);

const call = <T>(method: string, path: string, body?: unknown) =>
  callApi<T>(server.url, adminKey, method, path, body);

interface BatchAnswer {
  config: { commands?: { id: string; command: string; timeoutSec: number }[] };
}

/** One batch from web-1's probe, its facts saying runbook commands are on for apt-get, as root. */
function sendBatch(fields: Record<string, unknown> = {}): Promise<BatchAnswer> {
  return sendProbeBatch<BatchAnswer>(server.url, host.hostToken, {
    facts: { hostname: "web-1", cpuCount: 2, runbooks: { allow: ["apt-get"], asRoot: true } },
    ...fields,
  });
}

/** The command the host is handed with the answer to a batch reporting `results`, as its probe sees it. */
async function nextCommand(command: string, results: unknown[] = []) {
  const answer = await sendBatch(results.length ? { commandResults: results } : {});
  const found = answer.config.commands?.find((c) => c.command === command);
  if (!found) throw new Error(`the host was never handed ${command}: ${JSON.stringify(answer.config)}`);
  return found;
}

const nav = (name: string) =>
  page.getByRole("navigation", { name: "Project" }).getByRole("link", { name, exact: true });
const tab = (name: string) => page.getByRole("navigation", { name: "Runbooks" }).getByRole("link", { name });
const step = (n: number, title: string) => page.getByRole("region", { name: `Step ${n}: ${title}` });
const runStatus = () => page.getByTestId("run-status");
/** What a run's step shows of one host: its card, headed by the host's name. */
const hostView = (of: Locator, name: string) =>
  of.getByRole("listitem").filter({ has: page.getByRole("heading", { name, exact: true }) });

describe("runbooks in the dashboard", () => {
  it("signs the owner in and enrolls a host with pending updates whose probe runs runbook commands", async () => {
    const projectId = await setUpOwner(page, setupLink);
    adminKey = await scriptKey(page, projectId);
    const { token } = await call<{ token: string }>("POST", "/enrollment-tokens", { name: "web" });
    const enrolled = await fetch(`${server.url}/api/v1/probe/enroll`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token, facts: { hostname: "web-1", machineId: crypto.randomUUID() } }),
    });
    expect(enrolled.status).toBe(201);
    host = (await enrolled.json()) as typeof host;
    await call("PATCH", `/hosts/${host.hostId}`, { tags: ["web"] });
    await sendBatch({
      state: {
        collectedAt: Date.now(),
        updates: { manager: "apt", pending: 12, security: 3 },
        reboot: { required: false },
      },
    });
    const listed = await call<{ state: { updates?: { pending: number } } | null }>(
      "GET",
      `/hosts/${host.hostId}`,
    );
    expect(listed.state?.updates?.pending).toBe(12);
    // The dashboard opened before the host was enrolled; opened again, as its operator would, it knows of it.
    await page.reload();
    await nav("Overview").click();
    await page.getByRole("link", { name: "web-1", exact: true }).first().click();
    await page
      .getByText("Runbook commands: on, commands starting apt-get, as root through the root runner")
      .waitFor();
  }, 30_000);

  it("creates a runbook from the OS upgrade template for the web tag and lists it as a monthly task", async () => {
    await nav("Runbooks").click();
    await page.getByRole("heading", { name: "No runbooks yet" }).waitFor();
    await page.getByRole("button", { name: "From a template" }).click();
    await page.getByLabel("Template", { exact: true }).selectOption("os-upgrade");
    const form = page.getByRole("form", { name: "New runbook from OS upgrade" });
    await form.getByText("Review pending updates").waitFor();
    await form.getByLabel("Name", { exact: true }).fill("Monthly upgrades");
    await form.getByRole("checkbox", { name: "web (1 host)" }).check();
    await form.getByText("Matches now: web-1.").waitFor();
    expect(
      await form
        .getByRole("radio", { name: "Keep its usual schedule: 0 9 1 * *, UTC, 7 days' grace" })
        .isChecked(),
    ).toBe(true);
    await form.getByText(/^Runs /).waitFor();
    await inspect("runbook-from-template");
    await form.getByRole("button", { name: "Create runbook" }).click();

    await page.getByRole("heading", { name: "Monthly upgrades", level: 1 }).waitFor();
    await page.getByTestId("task-status").getByText("up", { exact: true }).waitFor();
    await page
      .getByTestId("task-status")
      .getByText(/^due in \d+ (days|hours)$/)
      .waitFor();
    await page.getByText("tagged web").waitFor();
    await inspect("runbook-page");

    await page.getByRole("link", { name: "← Runbooks" }).click();
    const row = page.getByRole("row", { name: /Monthly upgrades/ });
    await row.getByText("0 9 1 * *, UTC").waitFor();
    await row.getByText(/^due in \d+ (days|hours)$/).waitFor();
    await row.getByText("never run").waitFor();
    expect(await row.getByRole("cell").first().textContent()).toBe("4");
    await inspect("runbooks-list");
  }, 60_000);

  it("starts a run whose first step shows the host's pending updates, and marks it done with a note", async () => {
    await page.getByRole("link", { name: "Monthly upgrades" }).click();
    const start = page.getByRole("form", { name: "Start a run" });
    await start.getByText("(web-1)").waitFor();
    await start.getByLabel("Note (optional)").fill("December patch day");
    await start.getByRole("button", { name: "Start run" }).click();
    await page.waitForURL(/\/runbook-runs\/[0-9a-f-]{36}$/);
    await runStatus().getByText("waiting").waitFor();
    await page.getByText(`Started by ${owner.email}`).waitFor();
    const first = step(1, "Review pending updates");
    await hostView(first, "web-1").getByText("12 pending, 3 security").waitFor();
    await hostView(first, "web-1").getByText("no reboot needed").waitFor();
    // The step's Markdown instructions, shown with the current step.
    await first.getByText(/Read the changelogs of anything that matters/).waitFor();
    await inspect("runbook-run-manual");

    await first.getByLabel("Note (optional)").fill("read the changelogs: nothing risky");
    await first.getByRole("button", { name: "Mark done" }).click();
    await first.getByText(`Done by ${owner.email}`).waitFor();
    await first.getByText("Note: read the changelogs: nothing risky").waitFor();
  }, 60_000);

  it("shows the command steps waiting for the host, then each host's exit code and output as it reports", async () => {
    const refresh = step(2, "Refresh the package lists");
    await refresh.getByText("waiting for the host").waitFor();
    await refresh.getByText("apt-get update -q").waitFor();
    await runStatus().getByText("running").waitFor();
    await inspect("runbook-run-waiting");

    // The probe's side: its batch answer hands out the command, its next batch reports the result.
    const update = await nextCommand("apt-get update -q");
    const now = Date.now();
    const upgrade = await nextCommand("apt-get -y -q upgrade", [
      {
        id: update.id,
        status: "done",
        exitCode: 0,
        output: "Hit:1 http://mirror.example.test/debian bookworm InRelease\nReading package lists...\n",
        startedAt: now - 4000,
        endedAt: now - 1000,
      },
    ]);
    await refresh.getByText("exit code 0").waitFor();
    await refresh
      .getByRole("region", { name: "Output on web-1, step 2" })
      .getByText(/Reading package lists/)
      .waitFor();
    // The answer that took the first result handed out the upgrade: the probe has it now.
    await step(3, "Upgrade packages").getByText("running on the host").waitFor();

    // The upgrade pulled a new kernel: the same batch's state says a reboot is required.
    await sendBatch({
      state: {
        collectedAt: Date.now(),
        updates: { manager: "apt", pending: 0, security: 0 },
        reboot: { required: true, packages: ["linux-image-amd64"] },
      },
      commandResults: [
        {
          id: upgrade.id,
          status: "done",
          exitCode: 0,
          output: "The following packages will be upgraded:\n  linux-image-amd64 openssl\n2 upgraded\n",
          startedAt: Date.now() - 3000,
          endedAt: Date.now(),
        },
      ],
    });
    const reboot = hostView(step(4, "Reboot where required"), "web-1");
    await reboot.getByText("reboot required", { exact: true }).waitFor();
    await reboot.getByText("linux-image-amd64").waitFor();
    await reboot.getByText("0 pending, 0 security").waitFor();
    await step(3, "Upgrade packages")
      .getByRole("region", { name: "Output on web-1, step 3" })
      .getByText(/2 upgraded/)
      .waitFor();
    await runStatus().getByText("waiting").waitFor();
    await inspect("runbook-run-reboot");
  }, 60_000);

  it("marks the last step done and shows the run succeeded with who did what, and the task reset", async () => {
    const reboot = step(4, "Reboot where required");
    await reboot.getByLabel("Note (optional)").fill("rebooted at 22:00, all services back");
    await reboot.getByRole("button", { name: "Mark done" }).click();
    await runStatus().getByText("succeeded").waitFor();
    await reboot.getByText(`Done by ${owner.email}`).waitFor();
    await reboot.getByText("Note: rebooted at 22:00, all services back").waitFor();
    await step(1, "Review pending updates").getByText(`Done by ${owner.email}`).waitFor();
    await step(2, "Refresh the package lists").getByText("done", { exact: true }).first().waitFor();
    expect(await page.getByRole("button", { name: "Cancel run" }).count()).toBe(0);
    // What the last step showed stays with the run.
    await reboot.getByText("What it showed of the hosts").click();
    await hostView(reboot, "web-1").getByText("reboot required", { exact: true }).waitFor();
    await inspect("runbook-run-succeeded");

    const runId = new URL(page.url()).pathname.split("/").at(-1);
    const run = await call<{ status: string; steps: { status: string; doneBy: string | null }[] }>(
      "GET",
      `/runbook-runs/${runId}`,
    );
    expect(run.status).toBe("succeeded");
    expect(run.steps.map((s) => s.status)).toEqual(["done", "done", "done", "done"]);
    expect(run.steps[0]?.doneBy).toBe(owner.email);

    await page.getByRole("link", { name: "Monthly upgrades" }).click();
    const runs = page.getByRole("table", { name: "Runs of this runbook, newest first" });
    await runs.getByText("succeeded").waitFor();
    await runs.getByText(owner.email).waitFor();
    await page.getByTestId("task-status").getByText("up", { exact: true }).waitFor();
    await nav("Runbooks").click();
    const row = page.getByRole("row", { name: /Monthly upgrades/ });
    await row.getByText("succeeded").waitFor();
    await row.getByText(`by ${owner.email}`, { exact: false }).waitFor();
  }, 60_000);

  it("writes a runbook in the editor: a Markdown manual step and an HTTP step naming a secret", async () => {
    await page.getByRole("link", { name: "New runbook" }).click();
    await page.getByRole("heading", { name: "New runbook", level: 1 }).waitFor();
    const form = page.getByRole("form", { name: "New runbook" });
    await form.getByLabel("Name", { exact: true }).fill("Deploy hook");
    await form.getByLabel("Description").fill("Tell the deploy service to roll out the new release.");
    const first = form.getByRole("group", { name: "Step 1", exact: true });
    await first.getByLabel("Title").fill("Check the dashboard");
    await first
      .getByLabel("Instructions (Markdown)")
      .fill(
        "Look at **errors** first:\n\n- the `api` logs\n- the queue depth\n\n<img src=x onerror=alert(1)> is not markup here.",
      );
    await first.getByRole("checkbox", { name: "Backups: last success and failure" }).check();

    await form.getByRole("button", { name: "Add an HTTP step" }).click();
    const second = form.getByRole("group", { name: "Step 2", exact: true });
    // A new step takes the focus at its title.
    await expect
      .poll(() => second.getByLabel("Title").evaluate((e) => e === document.activeElement))
      .toBe(true);
    await second.getByLabel("Title").fill("Call the deploy hook");
    await second.getByLabel("URL").fill(`${receiverUrl}/hooks/deploy?token={{secret.DEPLOY_TOKEN}}`);
    await second.getByLabel("Request headers").fill("X-Release: 2026.12");
    await second.getByLabel("Request body").fill('{"release":"2026.12"}');
    await second.getByLabel("Expected status").fill("999");

    // A third step, moved up and then removed: the list keeps its order.
    await form.getByRole("button", { name: "Add a manual step" }).click();
    await form.getByRole("group", { name: "Step 3", exact: true }).getByLabel("Title").fill("Wrap up");
    await form.getByRole("button", { name: "Move up step 3" }).click();
    expect(
      await form.getByRole("group", { name: "Step 2", exact: true }).getByLabel("Title").inputValue(),
    ).toBe("Wrap up");
    await form.getByText('Step "Wrap up" moved to position 2 of 3').waitFor();
    await form.getByRole("button", { name: "Remove step 2" }).click();
    expect(await second.getByLabel("Title").inputValue()).toBe("Call the deploy hook");
    await inspect("runbook-editor");

    // The API refuses the status; its message shows under step 2's field.
    await form.getByRole("button", { name: "Create runbook" }).click();
    const status = second.getByLabel("Expected status");
    await expect.poll(() => status.getAttribute("aria-invalid")).toBe("true");
    await second.getByText('a status or a range like "200-299"').waitFor();
    await status.fill("200-299");
    await form.getByRole("button", { name: "Create runbook" }).click();

    await page.getByRole("heading", { name: "Deploy hook", level: 1 }).waitFor();
    await page.getByText("none: run it when needed").waitFor();
    const steps = page.getByRole("region", { name: "Steps" });
    await steps.getByText(`POST ${receiverUrl}/hooks/deploy?token={{secret.DEPLOY_TOKEN}}`).waitFor();
    const saved = await call<{ runbooks: { name: string; steps: Record<string, unknown>[] }[] }>(
      "GET",
      "/runbooks",
    );
    expect(saved.runbooks.find((b) => b.name === "Deploy hook")?.steps).toMatchObject([
      { kind: "manual", title: "Check the dashboard", shows: ["backups"] },
      {
        kind: "http",
        title: "Call the deploy hook",
        method: "POST",
        headers: { "X-Release": "2026.12" },
        body: '{"release":"2026.12"}',
        expectedStatus: ["200-299"],
      },
    ]);

    // The editor opens on what was saved.
    await page.getByRole("button", { name: "Edit" }).click();
    const editor = page.getByRole("form", { name: "Edit runbook" });
    expect(
      await editor.getByRole("group", { name: "Step 2", exact: true }).getByLabel("URL").inputValue(),
    ).toContain("{{secret.DEPLOY_TOKEN}}");
    await page.getByRole("button", { name: "Close editor" }).click();
  }, 60_000);

  it("adds a secret on the secrets screen and lists it by name with the runbook using it, never its value", async () => {
    await nav("Runbooks").click();
    await tab("Secrets").click();
    await page.getByText("No secrets yet.").waitFor();
    const form = page.getByRole("form", { name: "Add or replace a secret" });
    await form.getByLabel("Name").fill("deploy_token");
    expect(await form.getByLabel("Name").inputValue()).toBe("DEPLOY_TOKEN");
    expect(await form.getByLabel("Value").getAttribute("type")).toBe("password");
    await form.getByLabel("Value").fill(SECRET_VALUE);
    await form.getByRole("button", { name: "Save secret" }).click();
    await form.getByText("Saved DEPLOY_TOKEN.").waitFor();
    const row = page.getByRole("row", { name: /DEPLOY_TOKEN/ });
    await row.getByRole("link", { name: "Deploy hook" }).waitFor();
    expect(await form.getByLabel("Value").inputValue()).toBe("");
    expect(await page.content()).not.toContain(SECRET_VALUE);
    const listed = await call<{ secrets: Record<string, unknown>[] }>("GET", "/secrets");
    expect(JSON.stringify(listed)).not.toContain(SECRET_VALUE);
    await inspect("runbook-secrets");
  }, 60_000);

  it("runs the hand-written runbook: safe Markdown in the manual step, the HTTP step reaching the hook", async () => {
    await tab("Runbooks").click();
    await page.getByRole("link", { name: "Deploy hook" }).click();
    await page.getByRole("button", { name: "Start run" }).click();
    await page.waitForURL(/\/runbook-runs\//);
    const first = step(1, "Check the dashboard");
    await first.locator(".md strong", { hasText: "errors" }).waitFor();
    await first.locator(".md li code", { hasText: "api" }).waitFor();
    await first.getByText("<img src=x onerror=alert(1)> is not markup here.").waitFor();
    expect(await first.locator(".md img").count()).toBe(0);
    await first.getByRole("button", { name: "Mark done" }).click();

    await runStatus().getByText("succeeded").waitFor();
    const hook = step(2, "Call the deploy hook");
    await hook.getByText("HTTP status 202").waitFor();
    await hook.getByRole("region", { name: "Output of step 2" }).getByText("deploy queued").waitFor();
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({
      method: "POST",
      url: `/hooks/deploy?token=${SECRET_VALUE}`,
      body: '{"release":"2026.12"}',
    });
    expect(received[0]?.headers["x-release"]).toBe("2026.12");
    expect(await page.content()).not.toContain(SECRET_VALUE);
    await inspect("runbook-run-http");

    await nav("Runbooks").click();
    await tab("Runs").click();
    const runs = page.getByRole("table", { name: "Recent runs of every runbook, newest first" });
    await runs
      .getByRole("row", { name: /Deploy hook/ })
      .getByText("succeeded")
      .waitFor();
    await runs
      .getByRole("row", { name: /Monthly upgrades/ })
      .getByText("succeeded")
      .waitFor();
    await inspect("runbook-runs");
  }, 60_000);

  it("cancels a run that waits for someone", async () => {
    await tab("Runbooks").click();
    await page.getByRole("link", { name: "Deploy hook" }).click();
    await page.getByRole("button", { name: "Start run" }).click();
    await runStatus().getByText("waiting").waitFor();
    await page.getByRole("button", { name: "Cancel run" }).click();
    await page.getByRole("button", { name: "Yes, cancel the run" }).click();
    await runStatus().getByText("cancelled").waitFor();
    await step(1, "Check the dashboard").getByText(`Note: cancelled by ${owner.email}`).waitFor();
    expect(await page.getByRole("button", { name: "Mark done" }).count()).toBe(0);
    expect(received).toHaveLength(1);
  }, 30_000);
});
