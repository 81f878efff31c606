/**
 * A host's application metrics on its dashboard page, end to end in headless Chromium against the real
 * self-hosted server on a fresh data dir. A host is enrolled over HTTP and sends, in probe batches, what its
 * probe would have scraped from one job over the last ten minutes: a gauge, a counter, a histogram and the
 * scrape's own `up`. The page must chart each family the way its kind reads (values, a rate per second,
 * p50 and p95), show the job up, narrow the charts by a filter, and pass axe; on the rules page, rules on
 * custom metrics (a rate threshold, a series gone silent) are made through the form.
 */
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

let dashboard: DashboardServer;
let server: RunningServer;
let setupLink: string;
let browser: Browser;
let page: Page;
let projectId = "";
let adminKey = "";
let host = { hostId: "", hostToken: "" };

beforeAll(async () => {
  dashboard = await startDashboardServer("custom-metrics");
  ({ server, setupLink } = dashboard);
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: widths.desktop });
  page = await context.newPage();
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

const at = (path: string) => `${server.url}/p/${projectId}${path}`;

/** Each 30 s the app finished 12 jobs (0.4 per second) and served 10 requests: 2 ≤ 50 ms … 1 over 0.5 s. */
const BUCKETS = [
  ["0.05", 2],
  ["0.1", 5],
  ["0.25", 8],
  ["0.5", 9],
  ["1", 10],
  ["+Inf", 10],
] as const;

/** What one scrape of the job `app` gives at `ts`, the `n`th since the app started. */
function scrape(ts: number, n: number) {
  const app = { job: "app" };
  return [
    { ts, name: "queue_depth", labels: { ...app, queue: "mail" }, value: 40 + (n % 5), kind: "gauge" },
    { ts, name: "jobs_done_total", labels: app, value: 12 * n, kind: "counter" },
    ...BUCKETS.map(([le, per]) => ({
      ts,
      name: "latency_seconds_bucket",
      labels: { ...app, le },
      value: per * n,
      kind: "histogram",
    })),
    { ts, name: "latency_seconds_sum", labels: app, value: 1.5 * n, kind: "histogram" },
    { ts, name: "latency_seconds_count", labels: app, value: 10 * n, kind: "histogram" },
    { ts, name: "up", labels: app, value: 1, kind: "gauge" },
    { ts, name: "scrape_duration_seconds", labels: app, value: 0.012, kind: "gauge" },
    { ts, name: "scrape_samples_scraped", labels: app, value: 10, kind: "gauge" },
  ];
}

/** The host page's section of application metrics, and its charts. */
const section = () =>
  page.locator("section", { has: page.getByRole("heading", { name: "Application metrics" }) });
const chart = (title: string) => section().getByRole("figure", { name: title, exact: true });

describe("application metrics on the host page in Chromium against the self-hosted server", () => {
  it("signs the owner in through the setup link", async () => {
    projectId = await setUpOwner(page, setupLink);
    adminKey = await scriptKey(page, projectId);
    expect(adminKey).not.toBe("");
  }, 30_000);

  it("charts the host's gauge, counter rate and histogram quantiles, with the job's scrape health", async () => {
    const { token } = await call<{ token: string }>("POST", "/enrollment-tokens", { name: "app" });
    const enrolled = await fetch(`${server.url}/api/v1/probe/enroll`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token, facts: { hostname: "app-1", machineId: crypto.randomUUID() } }),
    });
    host = (await enrolled.json()) as typeof host;
    // Twenty-one scrapes 30 s apart (the probe's default interval), the last one now: the page's hour.
    const now = Date.now();
    await sendBatch({ facts: { hostname: "app-1", cpuCount: 2 } });
    for (let n = 1; n <= 21; n++) {
      await sendBatch({ customMetrics: scrape(now - (21 - n) * 30_000, n) });
    }

    const rateAnswer = page.waitForResponse(
      (res) => res.url().includes("/metrics/query?name=jobs_done_total") && res.url().includes("fn=rate"),
    );
    await page.goto(at(`/hosts/${host.hostId}`));
    await page.getByRole("heading", { name: "Application metrics" }).waitFor();

    // The counter is read as a rate over windows that hold several scrapes, so it has values: 0.4 per second.
    const rate = (await (await rateAnswer).json()) as {
      stepSec: number;
      series: { labels: Record<string, string>; points: { value: number | null }[] }[];
    };
    expect(rate.stepSec).toBeGreaterThanOrEqual(120);
    const values = rate.series[0]?.points.map((p) => p.value).filter((v) => v !== null) ?? [];
    expect(values.length).toBeGreaterThan(2);
    for (const v of values.slice(1, -1)) expect(v).toBeCloseTo(0.4, 6);

    // One chart a family, drawn (not "No data"), each line named by its labels without the one job.
    const depth = chart("queue_depth");
    await depth.locator(".plot canvas").first().waitFor();
    await depth.getByText("queue=mail").first().waitFor();
    const done = chart("jobs_done_total per second");
    await done.locator(".plot canvas").first().waitFor();
    const latency = chart("latency_seconds (p50, p95)");
    await latency.locator(".plot canvas").first().waitFor();
    await latency.getByText("p50", { exact: true }).first().waitFor();
    await latency.getByText("p95", { exact: true }).first().waitFor();
    expect(await section().getByText("No data in this range").count()).toBe(0);
    // The scrape's own series are health, not charts.
    expect(await section().getByRole("figure").count()).toBe(3);
    await section().getByText("3 metric families").waitFor();

    const targets = section().getByRole("table", { name: "Scrape targets" });
    const app = targets.getByRole("row", { name: /^app/ });
    await app.getByText("up", { exact: true }).waitFor();
    await app.getByText("12 ms").waitFor();
    await inspect("host-custom-metrics");
  }, 60_000);

  it("narrows the charts to the families whose name matches the filter", async () => {
    await page.getByLabel("Filter metrics").fill("queue");
    await section().getByText('1 of 3 metric families match "queue"').waitFor();
    await expect.poll(() => section().getByRole("figure").count()).toBe(1);
    await chart("queue_depth").waitFor();
    await page.getByLabel("Filter metrics").fill("seconds");
    await expect.poll(() => section().getByRole("figure").count()).toBe(1);
    await chart("latency_seconds (p50, p95)").waitFor();
    await page.getByLabel("Filter metrics").fill("");
    await expect.poll(() => section().getByRole("figure").count()).toBe(3);
  }, 30_000);

  it("makes rules on custom metrics from the rules page: a counter's rate and a series gone silent", async () => {
    await page.goto(at("/alerts/rules"));
    await page.getByRole("heading", { name: "No custom rules yet" }).waitFor();

    await page.getByLabel("Rule name").fill("jobs stalling");
    await page.getByLabel("Metric").fill("jobs_done_total");
    await page.getByLabel("Comparison").selectOption("<");
    await page.getByLabel("Threshold").fill("0.1");
    await page.getByLabel("Aggregation").selectOption("rate");
    await page.getByLabel("Window (seconds)").fill("600");
    await page.getByRole("button", { name: "Create rule" }).click();
    await page
      .getByRole("row", { name: /jobs stalling/ })
      .getByText("jobs_done_total < 0.1 (rate over 600 s)")
      .waitFor();

    await page.getByLabel("Rule name").fill("app silent");
    await page.getByLabel("Kind").selectOption("metric_absent");
    await page.getByLabel("Metric").fill("up");
    await page.getByLabel("Silent for more than (minutes)").fill("15");
    await inspect("alerts-rules-metric-absent");
    await page.getByRole("button", { name: "Create rule" }).click();
    const row = page.getByRole("row", { name: /app silent/ });
    await row.getByText("up silent over 15 min").waitFor();
    await row.getByText("metric absent").waitFor();

    const { rules } = await call<{
      rules: { name: string; kind: string; params: Record<string, unknown> }[];
    }>("GET", "/rules");
    expect(rules.find((r) => r.name === "jobs stalling")).toMatchObject({
      kind: "metric",
      params: { metric: "jobs_done_total", op: "<", value: 0.1, aggregation: "rate", windowSec: 600 },
    });
    expect(rules.find((r) => r.name === "app silent")).toMatchObject({
      kind: "metric_absent",
      params: { metric: "up", minutes: 15, labels: {} },
    });
  }, 60_000);

  it("charts a heartbeat's run durations and edits its slower-than-usual factor", async () => {
    const check = await call<{ id: string; pingUrl: string }>("POST", "/checks", {
      kind: "heartbeat",
      name: "nightly export",
      period: 86_400,
    });
    for (let n = 0; n < 3; n++) {
      const rid = crypto.randomUUID();
      expect((await fetch(`${check.pingUrl}/start?rid=${rid}`)).status).toBe(200);
      expect((await fetch(`${check.pingUrl}?rid=${rid}`)).status).toBe(200);
    }
    await page.goto(at(`/checks/${check.id}`));
    const durations = page.getByRole("region", { name: "Run durations" });
    await durations.locator(".plot canvas").first().waitFor();
    await page.getByRole("button", { name: "Edit" }).click();
    await page.getByText("Keywords and run conditions").click();
    await page.getByLabel("Slower than usual (times the median run)").fill("2.5");
    await page.getByRole("button", { name: "Save" }).click();
    await expect
      .poll(
        async () =>
          (await call<{ slowerThanUsual: number | null }>("GET", `/checks/${check.id}`)).slowerThanUsual,
      )
      .toBe(2.5);
    await inspect("check-run-durations");
  }, 60_000);
});
