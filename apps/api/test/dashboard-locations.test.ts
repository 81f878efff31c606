/**
 * Checks from locations (issue 17) in the dashboard, end to end in headless Chromium against the real
 * self-hosted server (private targets allowed, so `edge` can reach an HTTP server on 127.0.0.1). A host is
 * enrolled over HTTP and announces itself in its facts as the probe location `home-lab`; the check form
 * offers it beside `edge`, with ICMP only from the probe. An HTTP check made in the form runs from both
 * with a quorum of 2: `edge` runs it itself, `home-lab`'s results arrive in probe batches (with the rev the
 * batch answer handed out). The check's page shows each location's status and latency, a response-time
 * chart per location and runs filtered by location; the list says how many locations a check has. DNS
 * and ICMP checks are made and edited in the form. Every screen is checked with axe-core in light and
 * dark and photographed at desktop and phone widths.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../src/server.ts";
import { launchChromium } from "./browser.ts";
import {
  callApi,
  type DashboardServer,
  inspect as inspectScreen,
  scriptKey,
  sendProbeBatch,
  setUpOwner,
  startDashboardServer,
  widths,
} from "./dashboard-helpers.ts";

const LAB = { name: "home-lab", kinds: ["http", "tcp", "tls", "dns", "icmp"] };

let dashboard: DashboardServer;
let server: RunningServer;
let setupLink: string;
let target: Server;
let targetUrl: string;
let browser: Browser;
let page: Page;
let projectId = "";
let adminKey = "";
let host = { hostId: "", hostToken: "" };
let checkId = "";

beforeAll(async () => {
  dashboard = await startDashboardServer("locations", {
    VIGIL_ALLOW_PRIVATE_TARGETS: "1",
    // The local probe would be a second host (and maybe a location) this suite does not want.
    VIGIL_LOCAL_PROBE: "0",
  });
  ({ server, setupLink } = dashboard);
  // What the HTTP check watches from `edge`: a real server on the loopback address.
  target = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("lab ok");
  });
  await new Promise<void>((done) => target.listen(0, "127.0.0.1", done));
  targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}/health`;
  browser = await launchChromium();
  page = await (await browser.newContext({ viewport: widths.desktop })).newPage();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((done) => (target ? target.close(done) : done(undefined)));
  await dashboard?.close();
});

const inspect = (name: string) => inspectScreen(page, name);

const call = <T>(method: string, path: string, body?: unknown) =>
  callApi<T>(server.url, adminKey, method, path, body);

interface BatchAnswer {
  config: { checks?: { id: string; rev: string; kind: string }[] };
}

/** One batch from the lab's probe, facts naming its location as every batch of a location probe does. */
function sendBatch(fields: Record<string, unknown> = {}): Promise<BatchAnswer> {
  return sendProbeBatch<BatchAnswer>(server.url, host.hostToken, {
    facts: { hostname: "lab-1", cpuCount: 4, location: LAB },
    ...fields,
  });
}

const nav = (name: string) => page.getByRole("navigation", { name: "Project" }).getByRole("link", { name });
const newForm = () => page.getByRole("form", { name: /^New \w+ check$/ });
const locationsTable = () => page.getByTestId("locations");
const locationRow = (name: string) => locationsTable().getByRole("row", { name: new RegExp(`^${name}\\b`) });

describe("checks from locations in the dashboard", () => {
  it("signs the owner in and enrolls a probe that runs checks as home-lab", async () => {
    projectId = await setUpOwner(page, setupLink);
    adminKey = await scriptKey(page, projectId);
    const { token } = await call<{ token: string }>("POST", "/enrollment-tokens", { name: "lab" });
    const enrolled = await fetch(`${server.url}/api/v1/probe/enroll`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token, facts: { hostname: "lab-1", machineId: crypto.randomUUID() } }),
    });
    expect(enrolled.status).toBe(201);
    host = (await enrolled.json()) as typeof host;
    const answer = await sendBatch();
    expect(answer.config.checks).toEqual([]);
    const { locations } = await call<{ locations: { name: string; hosts: { online: boolean }[] }[] }>(
      "GET",
      "/locations",
    );
    expect(locations.map((l) => l.name)).toEqual(["edge", "home-lab"]);
    expect(locations[1]?.hosts[0]?.online).toBe(true);
  }, 30_000);

  it("offers ICMP only from the probe location, with edge unticked and saying why", async () => {
    await nav("Checks").click();
    await page.getByLabel("Kind").selectOption("icmp");
    await page.getByRole("heading", { name: "New ICMP check" }).waitFor();
    const form = newForm();
    const edge = form.getByRole("checkbox", { name: "edge" });
    const lab = form.getByRole("checkbox", { name: "home-lab" });
    await lab.waitFor();
    expect(await edge.isDisabled()).toBe(true);
    expect(await edge.isChecked()).toBe(false);
    expect(await lab.isChecked()).toBe(true);
    expect(await lab.isDisabled()).toBe(false);
    await form.getByText("cannot run this check: ICMP runs from probe locations only").waitFor();
    await form.getByText("probe on lab-1; runs HTTP, TCP, TLS, DNS, ICMP").waitFor();
    await inspect("check-form-icmp");

    // Every other kind starts from edge, and the probe location may be added.
    await page.getByLabel("Kind").selectOption("http");
    await page.getByRole("heading", { name: "New HTTP check" }).waitFor();
    expect(await newForm().getByRole("checkbox", { name: "edge" }).isChecked()).toBe(true);
    expect(await newForm().getByRole("checkbox", { name: "home-lab" }).isChecked()).toBe(false);
  }, 60_000);

  it("creates an HTTP check from edge and home-lab with a quorum of 2 through the form", async () => {
    const form = newForm();
    await form.getByLabel("Name", { exact: true }).fill("lab api");
    await form.getByLabel("URL", { exact: true }).fill(targetUrl);
    await form.getByRole("checkbox", { name: "home-lab" }).check();
    const quorum = form.getByLabel("Alert when this many locations fail (quorum)");
    expect(await quorum.getAttribute("max")).toBe("2");
    await quorum.fill("2");
    await form.getByText("Alert when 2 of 2 locations fail").waitFor();
    await inspect("check-form-locations");
    await form.getByRole("button", { name: "Create HTTP check" }).click();
    await page.getByRole("heading", { name: "lab api", level: 1 }).waitFor();
    checkId = new URL(page.url()).pathname.split("/").at(-1) ?? "";
    await page.getByTestId("quorum").getByText("down when 2 of 2 locations fail").waitFor();
    expect(await call("GET", `/checks/${checkId}`)).toMatchObject({
      kind: "http",
      locations: ["edge", "home-lab"],
      quorum: 2,
    });
  }, 60_000);

  it("shows each location's status and latency once edge has run and the probe has reported", async () => {
    // edge runs the check within a tick; the lab's probe learns of it from its next batch answer.
    await locationRow("edge").getByText("up", { exact: true }).waitFor({ timeout: 30_000 });
    const assigned = (await sendBatch()).config.checks?.find((c) => c.id === checkId);
    expect(assigned?.kind).toBe("http");
    const now = Date.now();
    await sendBatch({
      checkResults: [
        { checkId, rev: assigned?.rev, at: now - 20_000, ms: 38, httpStatus: 200 },
        { checkId, rev: assigned?.rev, at: now - 10_000, ms: 44, httpStatus: 200 },
        { checkId, rev: assigned?.rev, at: now - 1_000, ms: 41, httpStatus: 200 },
      ],
    });
    await locationRow("home-lab").getByText("up", { exact: true }).waitFor();
    await locationRow("home-lab").getByText("41 ms").waitFor();
    await locationRow("home-lab")
      .getByText(/ago|just now/)
      .waitFor();
    await page.getByTestId("check-status").getByText("up", { exact: true }).waitFor();
    const chart = page.getByRole("figure", { name: /Response time by location/ });
    await chart.locator(".u-legend").getByText("home-lab").waitFor();
    await chart.locator(".u-legend").getByText("edge").waitFor();
    await inspect("check-locations");
  }, 60_000);

  it("keeps the check up while only one of two locations fails, and shows that location down", async () => {
    const { rev } = (await sendBatch()).config.checks?.find((c) => c.id === checkId) ?? {};
    const now = Date.now();
    await sendBatch({
      checkResults: [
        { checkId, rev, at: now - 500, ms: 12, httpStatus: 503 },
        { checkId, rev, at: now, ms: 13, httpStatus: 503 },
      ],
    });
    await locationRow("home-lab").getByText("down", { exact: true }).waitFor();
    await locationRow("home-lab").getByText("HTTP 503, expected 200-299").waitFor();
    await locationRow("edge").getByText("up", { exact: true }).waitFor();
    expect(await page.getByTestId("check-status").textContent()).toBe("up");
  }, 30_000);

  it("filters the runs by location", async () => {
    const runs = page.getByTestId("runs");
    const locationCells = () => runs.locator("tbody tr td:nth-child(2)").allTextContents();
    await page.getByLabel("Show runs from").selectOption("home-lab");
    await page.getByRole("table", { name: "Newest runs from home-lab" }).waitFor();
    expect(await locationCells()).toEqual(Array(5).fill("home-lab"));
    await page.getByLabel("Show runs from").selectOption("edge");
    await page.getByRole("table", { name: "Newest runs from edge" }).waitFor();
    const edgeRows = await locationCells();
    expect(edgeRows.length).toBeGreaterThan(0);
    expect(new Set(edgeRows)).toEqual(new Set(["edge"]));
    await inspect("check-runs-by-location");
    await page.getByLabel("Show runs from").selectOption("");
    await page.getByRole("table", { name: "Newest runs from every location" }).waitFor();
    expect(new Set(await locationCells())).toEqual(new Set(["edge", "home-lab"]));
  }, 30_000);

  it("says in the check list how many locations a check runs from", async () => {
    await page.getByRole("link", { name: "← Checks" }).click();
    const row = page.getByRole("row", { name: /lab api/ });
    await row.getByText("http · 2 locations").waitFor();
    await inspect("checks-list-locations");
  }, 60_000);

  it("creates an ICMP check from home-lab and edits it", async () => {
    await page.getByLabel("Kind").selectOption("icmp");
    const form = newForm();
    await form.getByLabel("Name", { exact: true }).fill("lab router");
    await form.getByLabel("Host", { exact: true }).fill("192.168.1.1");
    await form.getByRole("checkbox", { name: "home-lab" }).waitFor();
    await form.getByRole("button", { name: "Create ICMP check" }).click();
    await page.getByRole("heading", { name: "lab router", level: 1 }).waitFor();
    await page.getByTestId("quorum").getByText("Runs from home-lab; down when it fails.").waitFor();
    const id = new URL(page.url()).pathname.split("/").at(-1) ?? "";
    expect(await call("GET", `/checks/${id}`)).toMatchObject({
      kind: "icmp",
      host: "192.168.1.1",
      locations: ["home-lab"],
      quorum: 1,
    });

    await page.getByRole("button", { name: "Edit" }).click();
    const editor = page.getByRole("form", { name: "Edit check" });
    expect(await editor.getByRole("checkbox", { name: "home-lab" }).isChecked()).toBe(true);
    expect(await editor.getByRole("checkbox", { name: "edge" }).isDisabled()).toBe(true);
    await editor.getByLabel("Degraded when slower than (ms)").fill("150");
    await editor.getByLabel("Run every (seconds)").fill("30");
    await editor.getByRole("button", { name: "Save changes" }).click();
    await editor.waitFor({ state: "detached" });
    expect(await call("GET", `/checks/${id}`)).toMatchObject({
      kind: "icmp",
      degradedAfterMs: 150,
      period: 30,
      locations: ["home-lab"],
    });
    // The probe is told of the ICMP check with its next batch answer.
    const kinds = (await sendBatch()).config.checks?.map((c) => c.kind).sort();
    expect(kinds).toEqual(["http", "icmp"]);
  }, 60_000);

  it("creates a DNS check from the probe location alone and edits its record type", async () => {
    await nav("Checks").click();
    await page.getByLabel("Kind").selectOption("dns");
    await page.getByRole("heading", { name: "New DNS check" }).waitFor();
    const form = newForm();
    await form.getByLabel("Name", { exact: true }).fill("lab dns");
    await form.getByLabel("Name to look up").fill("nas.lab.example");
    await form.getByLabel("Record type").selectOption("A");
    await form.getByLabel("Expected value").fill("192.168.1.20");
    await form.getByLabel("Resolver").fill("192.168.1.1:53");
    await form.getByRole("checkbox", { name: "home-lab" }).check();
    await form.getByRole("checkbox", { name: "edge" }).uncheck();
    await form.getByText("Alert when 1 of 1 location fails").waitFor();
    await inspect("check-form-dns");
    await form.getByRole("button", { name: "Create DNS check" }).click();
    await page.getByRole("heading", { name: "lab dns", level: 1 }).waitFor();
    const id = new URL(page.url()).pathname.split("/").at(-1) ?? "";

    await page.getByRole("button", { name: "Edit" }).click();
    const editor = page.getByRole("form", { name: "Edit check" });
    expect(await editor.getByLabel("Expected value").inputValue()).toBe("192.168.1.20");
    await editor.getByLabel("Record type").selectOption("AAAA");
    await editor.getByLabel("Expected value").fill("");
    await editor.getByRole("button", { name: "Save changes" }).click();
    await editor.waitFor({ state: "detached" });
    expect(await call("GET", `/checks/${id}`)).toMatchObject({
      kind: "dns",
      host: "nas.lab.example",
      recordType: "AAAA",
      expected: null,
      server: "192.168.1.1:53",
      locations: ["home-lab"],
    });
    await page.getByText("dns AAAA nas.lab.example").waitFor();
  }, 60_000);
});
