import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import {
  type CustomSample,
  customSampleSchema,
  PROBE_BATCH_LIMITS,
  type ProbeBatchV1,
  probeBatchV1Schema,
} from "@vigil/contract";
import { afterEach, describe, expect, it } from "vitest";
import { main } from "../src/cli.ts";
import { Collector } from "../src/collect.ts";
import { keepAliveAgents, scrapeTarget } from "../src/collectors/scrape.ts";
import { NoteSink } from "../src/notes.ts";
import { ScrapeScheduler } from "../src/scrape-scheduler.ts";
import { checkScrapeTarget, loadScrapeTargets, type ScrapeTargetConfig } from "../src/scrape-targets.ts";
import { splitBatch } from "../src/split-batch.ts";
import { Spool } from "../src/spool.ts";
import { defined, FIXTURES, probeConfig, readBatch, runCli, temporaryDirectory } from "./helpers.ts";

const PROBE_DIR = join(FIXTURES, "..", "..");
const NODE_EXPORTER_PAGE = readFileSync(
  join(PROBE_DIR, "..", "packages", "contract", "test", "fixtures", "node-exporter.prom"),
  "utf8",
);
const TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8";
const OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8";
/** A scrape time the contract accepts; the tests pass it as "now". */
const NOW = 1_795_800_000_000;

/** Sample lines of a text-format page: what scrape_samples_scraped should count. */
function sampleLinesOf(page: string): string[] {
  return page.split("\n").filter((line) => line.trim() !== "" && !line.startsWith("#"));
}

interface Page {
  status?: number;
  body?: string;
  contentType?: string;
  /** gzip the body when the request accepts it */
  gzip?: boolean;
  /** accept the request and never answer */
  silent?: boolean;
}

const servers: Server[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A metrics endpoint on 127.0.0.1 that serves `page` and records the request headers. */
async function endpoint(page: Page) {
  const requests: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    requests.push(req.headers);
    if (page.silent) return;
    const headers: Record<string, string> = { "Content-Type": page.contentType ?? TEXT_FORMAT };
    let body: Buffer = Buffer.from(page.body ?? "");
    if (page.gzip && /gzip/.test(String(req.headers["accept-encoding"]))) {
      body = gzipSync(body);
      headers["Content-Encoding"] = "gzip";
    }
    res.writeHead(page.status ?? 200, headers);
    res.end(body);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  return { url, requests };
}

function target(url: string, settings: Partial<ScrapeTargetConfig> = {}) {
  return checkScrapeTarget({ name: "app", url, ...settings });
}

async function scrape(url: string, settings: Partial<ScrapeTargetConfig> = {}) {
  const notes = new NoteSink();
  const outcome = await scrapeTarget(target(url, settings), NOW, notes);
  const byName = (name: string) => outcome.samples.filter((s) => s.name === name);
  const only = (name: string) => defined(byName(name)[0], name);
  return { ...outcome, notes: notes.notes, byName, only };
}

describe("scraping a Prometheus endpoint", () => {
  it("sends the node_exporter page's series with their family's kind and the target's job label", async () => {
    const page = await endpoint({ body: NODE_EXPORTER_PAGE, gzip: true });
    const result = await scrape(page.url, { name: "node", maxSeries: 5_000 });

    expect(result.up).toBe(true);
    expect(page.requests[0]?.accept).toBe(
      "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4",
    );
    expect(page.requests[0]?.["accept-encoding"]).toBe("gzip");
    const cpu = result.byName("node_cpu_seconds_total");
    expect(cpu.length).toBeGreaterThan(0);
    expect(cpu[0]).toMatchObject({
      ts: NOW,
      kind: "counter",
      labels: { job: "node", mode: expect.any(String) },
    });
    expect(result.only("node_memory_MemAvailable_bytes")).toMatchObject({
      kind: "gauge",
      labels: { job: "node" },
    });
    expect(result.byName("go_gc_duration_seconds").every((s) => s.kind === "summary")).toBe(true);
    expect(result.only("up")).toEqual({
      ts: NOW,
      name: "up",
      labels: { job: "node" },
      value: 1,
      kind: "gauge",
    });
    expect(result.only("scrape_samples_scraped").value).toBe(sampleLinesOf(NODE_EXPORTER_PAGE).length);
    expect(result.only("scrape_duration_seconds").value).toBeGreaterThan(0);
    // Everything goes out as the contract takes it: no NaN, names and labels within bounds.
    for (const sample of result.samples)
      expect(customSampleSchema.safeParse(sample).success, sample.name).toBe(true);
    expect(result.samples.every((s) => s.labels?.job === "node")).toBe(true);
  });

  it("reads an OpenMetrics page as OpenMetrics, keeping the samples' own timestamps", async () => {
    const page = await endpoint({
      contentType: OPENMETRICS,
      body: [
        "# TYPE requests counter",
        "# HELP requests Requests served.",
        'requests_total{path="/"} 1027 1795799990.5',
        'requests_created{path="/"} 1795700000',
        "# TYPE queue_age gaugehistogram",
        'queue_age_bucket{le="1"} 2',
        'queue_age_bucket{le="+Inf"} 5',
        "queue_age_gcount 5",
        "queue_age_gsum 7.5",
        "# TYPE build info",
        'build_info{version="1.2.3"} 1',
        "# EOF",
        "",
      ].join("\n"),
    });
    const result = await scrape(page.url);

    expect(result.up).toBe(true);
    expect(result.only("requests_total")).toEqual({
      ts: 1_795_799_990_500,
      name: "requests_total",
      labels: { path: "/", job: "app" },
      value: 1027,
      kind: "counter",
    });
    // A creation time is not a reading: it would only double the series count.
    expect(result.byName("requests_created")).toEqual([]);
    // Buckets of a gauge histogram go down as well as up: gauges, never rates.
    expect(result.byName("queue_age_bucket").map((s) => s.kind)).toEqual(["gauge", "gauge"]);
    expect(result.only("queue_age_gsum").kind).toBe("gauge");
    expect(result.only("build_info")).toMatchObject({
      kind: "untyped",
      labels: { version: "1.2.3", job: "app" },
    });
    expect(result.notes).toEqual([]);
  });

  it("marks a target that does not answer in time as down and says so, after its timeout", async () => {
    const page = await endpoint({ silent: true });
    const result = await scrape(page.url, { timeoutSec: 0.2 });

    expect(result.up).toBe(false);
    expect(result.only("up").value).toBe(0);
    expect(result.only("scrape_duration_seconds").value).toBeGreaterThanOrEqual(0.2);
    expect(result.only("scrape_samples_scraped").value).toBe(0);
    expect(result.samples.map((s) => s.name)).toEqual([
      "up",
      "scrape_duration_seconds",
      "scrape_samples_scraped",
    ]);
    expect(result.notes).toEqual([
      { collector: "scrape", message: `app: scrape of ${page.url} failed: no answer within 0.2 s` },
    ]);
  });

  it("marks a target answering HTTP 500 as down", async () => {
    const page = await endpoint({ status: 500, body: "boom" });
    const result = await scrape(page.url);
    expect(result.only("up").value).toBe(0);
    expect(result.notes[0]?.message).toBe(`app: scrape of ${page.url} failed: HTTP 500`);
  });

  it("marks a target that refuses the connection as down", async () => {
    const page = await endpoint({});
    const [server] = servers.splice(0);
    await new Promise((resolve) => defined(server).close(resolve));
    const result = await scrape(page.url);
    expect(result.only("up").value).toBe(0);
    expect(result.notes[0]?.message).toMatch(/failed: connection refused \(ECONNREFUSED\)$/);
  });

  it("names the first malformed line of a page it cannot read, and sends nothing from it", async () => {
    const page = await endpoint({ body: "good_metric 1\nbroken{ 2\nlater_metric 3\n" });
    const result = await scrape(page.url);
    expect(result.up).toBe(false);
    expect(result.byName("good_metric")).toEqual([]);
    expect(result.notes[0]?.message).toMatch(/^app: scrape of .* failed: line 2\b/);
  });

  it("keeps what allow lets through and deny does not, deny winning", async () => {
    const page = await endpoint({ body: NODE_EXPORTER_PAGE });
    const result = await scrape(page.url, {
      allow: ["node_memory_*", "node_cpu_seconds_total"],
      deny: ["node_memory_Swap*"],
    });
    const names = new Set(result.samples.map((s) => s.name));
    expect(names.has("node_cpu_seconds_total")).toBe(true);
    expect(names.has("node_memory_MemAvailable_bytes")).toBe(true);
    expect([...names].filter((n) => n.startsWith("node_memory_Swap"))).toEqual([]);
    expect([...names].filter((n) => !/^node_(memory|cpu)_/.test(n)).sort()).toEqual([
      "scrape_duration_seconds",
      "scrape_samples_scraped",
      "up",
    ]);
  });

  it("matches a histogram's samples by their own names too, so buckets can be left out and sums kept", async () => {
    const page = await endpoint({
      body: [
        "# TYPE latency_seconds histogram",
        'latency_seconds_bucket{le="0.1"} 3',
        'latency_seconds_bucket{le="+Inf"} 4',
        "latency_seconds_sum 0.9",
        "latency_seconds_count 4",
        "",
      ].join("\n"),
    });
    const result = await scrape(page.url, { deny: ["*_bucket"] });
    expect(result.samples.filter((s) => s.kind === "histogram").map((s) => s.name)).toEqual([
      "latency_seconds_sum",
      "latency_seconds_count",
    ]);
  });

  it("keeps the first maxSeries series in the page's order and counts the rest in a note", async () => {
    const page = await endpoint({ body: NODE_EXPORTER_PAGE });
    const all = sampleLinesOf(NODE_EXPORTER_PAGE);
    const result = await scrape(page.url, { maxSeries: 10 });

    // The page's first ten, in order.
    expect(result.samples.slice(0, -3).map((s) => s.name)).toEqual(
      all.slice(0, 10).map((line) => line.split(/[{ ]/)[0]),
    );
    expect(result.notes).toContainEqual({
      collector: "scrape",
      message: "app: series beyond maxSeries 10 left out (the first 10 in the page's order are kept)",
      dropped: all.length - 10,
    });
  });

  it("leaves out NaN and ±Inf values, which JSON cannot carry, and counts them", async () => {
    const page = await endpoint({
      body: "# TYPE a gauge\na 1\nb NaN\nc +Inf\nd -Inf\ne 2\n",
    });
    const result = await scrape(page.url);
    expect(result.samples.map((s) => s.name).slice(0, -3)).toEqual(["a", "e"]);
    expect(result.notes).toEqual([
      {
        collector: "scrape",
        message: "app: samples with NaN or ±Inf values left out (JSON cannot carry them)",
        dropped: 3,
      },
    ]);
    expect(result.only("scrape_samples_scraped").value).toBe(5);
  });

  it("keeps an exposed job label as exported_job, as Prometheus does", async () => {
    const page = await endpoint({ body: 'jobs_waiting{job="mailer",queue="a"} 4\n' });
    const result = await scrape(page.url);
    expect(result.only("jobs_waiting").labels).toEqual({ job: "app", queue: "a", exported_job: "mailer" });
  });

  it("leaves out what the server would refuse and cuts over-long label values, with notes", async () => {
    const manyLabels = Array.from({ length: 30 }, (_, i) => `l${i}="x"`).join(",");
    const page = await endpoint({
      body: [
        `too_many_labels{${manyLabels}} 1`,
        `long_value{text="${"v".repeat(2_000)}"} 2`,
        "from_1970 3 1000",
        "fine 4",
        "",
      ].join("\n"),
    });
    const result = await scrape(page.url);
    expect(result.samples.map((s) => s.name).slice(0, -3)).toEqual(["long_value", "fine"]);
    expect(result.only("long_value").labels?.text).toHaveLength(1_024);
    expect(result.notes.map((n) => [n.message.replace(/ \(.*\)$/, ""), n.dropped])).toEqual([
      ["app: samples left out for a name or labels the server refuses", 1],
      ["app: samples with a timestamp outside the years 2000-2200 left out", 1],
      ["app: label values longer than 1024 characters cut to that length", undefined],
    ]);
    for (const sample of result.samples) expect(customSampleSchema.safeParse(sample).success).toBe(true);
  });

  it("scrapes again on a new connection when the target dropped the kept-alive one", async () => {
    const seen = new Set<unknown>();
    let requests = 0;
    const server = createServer((req, res) => {
      requests++;
      // The second request on a connection finds it closed, as when the target's idle timeout ends it.
      if (seen.has(req.socket)) return void req.socket.destroy();
      seen.add(req.socket);
      res.end("a 1\n");
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const app = target(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`);
    const agents = keepAliveAgents();
    const notes = new NoteSink();
    const outcomes = [
      await scrapeTarget(app, NOW, notes, { agents }),
      await scrapeTarget(app, NOW + 30_000, notes, { agents }),
    ];
    agents.http.destroy();
    expect(outcomes.map((o) => o.up)).toEqual([true, true]);
    expect(notes.notes).toEqual([]);
    // The first connection was kept and tried again; the retry went over a second one.
    expect(requests).toBe(3);
    expect(seen.size).toBe(2);
  });

  it.skipIf(!existsSync("/usr/bin/prometheus-node-exporter"))(
    "reads what Debian's prometheus-node-exporter serves",
    async () => {
      const exporter = spawn(
        "/usr/bin/prometheus-node-exporter",
        ["--web.listen-address=127.0.0.1:0", "--no-collector.systemd"],
        { stdio: ["ignore", "ignore", "pipe"] },
      );
      children.push(exporter);
      // It logs the address it listens on once it does; port 0 lets the kernel pick a free one.
      const address = await new Promise<string>((resolve, reject) => {
        let log = "";
        exporter.stderr?.on("data", (chunk: Buffer) => {
          log += chunk.toString();
          const match = /address=(127\.0\.0\.1:\d+)/.exec(log);
          if (match?.[1] && !match[1].endsWith(":0")) resolve(match[1]);
        });
        exporter.on("exit", (code) => reject(new Error(`node_exporter exited with ${code}: ${log}`)));
      });
      const result = await scrape(`http://${address}/metrics`, { name: "node", maxSeries: 5_000 });
      expect(result.notes.filter((n) => n.dropped === undefined)).toEqual([]);
      expect(result.up).toBe(true);
      expect(result.only("node_memory_MemTotal_bytes")).toMatchObject({
        kind: "gauge",
        labels: { job: "node" },
      });
      expect(result.byName("node_cpu_seconds_total")[0]?.kind).toBe("counter");
      for (const sample of result.samples) expect(customSampleSchema.safeParse(sample).success).toBe(true);
    },
    20_000,
  );
});

describe("scrape targets in the configuration", () => {
  it("come from the file, VIGIL_SCRAPE and --scrape flags, a later one replacing an earlier one of the same name", () => {
    const targets = loadScrapeTargets(
      {
        scrape: [
          {
            name: "app",
            url: "http://127.0.0.1:3000/metrics",
            intervalSec: 10,
            headers: { Authorization: "Bearer t" },
          },
          { name: "db", url: "http://127.0.0.1:9187/metrics", maxSeries: 50_000, deny: ["pg_stat_*"] },
        ],
      },
      { scrape: ["cache=http://127.0.0.1:9121/metrics"] },
      { VIGIL_SCRAPE: "db=http://127.0.0.1:9188/metrics?a=1,b=2, queue=https://127.0.0.1:15692/metrics" },
    );
    expect(targets).toEqual([
      {
        name: "app",
        url: "http://127.0.0.1:3000/metrics",
        intervalMs: 10_000,
        timeoutMs: 5_000,
        maxSeries: 2_000,
        allow: [],
        deny: [],
        headers: { Authorization: "Bearer t" },
      },
      expect.objectContaining({ name: "db", url: "http://127.0.0.1:9188/metrics?a=1,b=2", deny: [] }),
      expect.objectContaining({ name: "queue", url: "https://127.0.0.1:15692/metrics" }),
      expect.objectContaining({ name: "cache", url: "http://127.0.0.1:9121/metrics" }),
    ]);
  });

  it("caps maxSeries at the server's series per host and turns URL credentials into a Basic header", () => {
    const target = checkScrapeTarget({
      name: "db",
      url: "http://user:s%40cret@127.0.0.1:9187/metrics",
      maxSeries: 50_000,
    });
    expect(target.maxSeries).toBe(5_000);
    expect(target.url).toBe("http://127.0.0.1:9187/metrics");
    expect(target.headers).toEqual({
      Authorization: `Basic ${Buffer.from("user:s@cret").toString("base64")}`,
    });
  });

  it("refuses a bad target with a message naming it and the setting", () => {
    const refused = (raw: unknown) => {
      try {
        checkScrapeTarget(raw);
      } catch (error) {
        return (error as Error).message;
      }
      return "accepted";
    };
    expect(refused({ name: "App", url: "http://x/metrics" })).toMatch(/^scrape target "App": name must be/);
    expect(refused({ name: "app", url: "ftp://x/metrics" })).toBe(
      'scrape target "app": url must be http:// or https://',
    );
    expect(refused({ name: "app", url: "127.0.0.1:3000" })).toMatch(/url .* is not a URL|must be http/);
    expect(refused({ name: "app", url: "http://x/", timeout: 3 })).toMatch(/unknown setting "timeout"/);
    expect(refused({ name: "app", url: "http://x/", intervalSec: 2, timeoutSec: 5 })).toMatch(
      /timeoutSec \(5\) must not exceed intervalSec \(2\)/,
    );
    expect(refused({ name: "app", url: "http://x/", allow: ["node.cpu"] })).toMatch(/allow must be a list/);
    expect(refused({ name: "app", url: "http://x/", headers: { "X-A": "1\r\nX-B: 2" } })).toMatch(
      /header "X-A"/,
    );
    expect(() => loadScrapeTargets({}, { scrape: ["http://x/"] }, {})).toThrow(
      '--scrape expects NAME=URL, got "http://x/"',
    );
  });

  it("stops the daemon's start on a bad target, before anything else, with exit code 1", async () => {
    const out: string[] = [];
    const code = await main(["run", "--scrape", "web app=http://127.0.0.1:1/metrics"], {
      env: { VIGIL_CONFIG: "/nonexistent/probe.json", VIGIL_STATE_DIR: await temporaryDirectory() },
      out: (text) => out.push(text),
      err: (text) => out.push(text),
    });
    expect(code).toBe(1);
    expect(out.join("")).toMatch(/^vigil-probe run: scrape target "web app": name must be/);
  });
});

describe("the scrape schedule", () => {
  /** Scrapes recorded instead of made: which target, at what time. */
  function recordingScheduler(
    targets: ScrapeTargetConfig[],
    defaultIntervalMs: number,
    down = new Set<string>(),
  ) {
    const made: string[] = [];
    const scheduler = new ScrapeScheduler(
      targets.map((t) => checkScrapeTarget(t)),
      defaultIntervalMs,
      async (t, now, notes) => {
        made.push(`${t.name}@${now - NOW}`);
        if (down.has(t.name)) notes.add("scrape", `${t.name}: down`);
        notes.add("scrape", `${t.name}: NaN left out`, 1);
        const sample: CustomSample = {
          ts: now,
          name: "up",
          labels: { job: t.name },
          value: 1,
          kind: "gauge",
        };
        return { samples: [sample], up: !down.has(t.name), durationSec: 0, scraped: 1 };
      },
    );
    return { scheduler, made };
  }

  it("scrapes each target on its own interval and hands the results to the next collection", async () => {
    const { scheduler, made } = recordingScheduler(
      [
        { name: "fast", url: "http://127.0.0.1:1/metrics", intervalSec: 10 },
        { name: "slow", url: "http://127.0.0.1:2/metrics" },
      ],
      30_000,
    );
    expect(scheduler.nextDueAt()).toBe(Number.NEGATIVE_INFINITY);
    for (let now = NOW; now < NOW + 60_000; now = scheduler.nextDueAt()) {
      scheduler.startDue(now);
      await scheduler.settled();
    }
    expect(made).toEqual([
      "fast@0",
      "slow@0",
      "fast@10000",
      "fast@20000",
      "fast@30000",
      "slow@30000",
      "fast@40000",
      "fast@50000",
    ]);
    const notes = new NoteSink();
    expect(scheduler.take(notes).map((s) => `${s.labels?.job}@${s.ts - NOW}`)).toEqual(made);
    // Drop counts add up per message until taken.
    expect(notes.notes).toEqual([
      { collector: "scrape", message: "fast: NaN left out", dropped: 6 },
      { collector: "scrape", message: "slow: NaN left out", dropped: 2 },
    ]);
    expect(scheduler.take(new NoteSink())).toEqual([]);
  });

  it("follows the probe's interval when the server changes it", async () => {
    const { scheduler, made } = recordingScheduler(
      [{ name: "app", url: "http://127.0.0.1:1/metrics" }],
      30_000,
    );
    scheduler.startDue(NOW);
    await scheduler.settled();
    scheduler.setDefaultInterval(60_000);
    scheduler.startDue(NOW + 30_000);
    expect(scheduler.nextDueAt()).toBe(NOW + 90_000);
    expect(made).toEqual(["app@0", "app@30000"]);
  });

  it("replays a down target's note with every collection, so it does not flap, until a scrape clears it", async () => {
    const down = new Set(["app"]);
    const { scheduler } = recordingScheduler(
      [{ name: "app", url: "http://127.0.0.1:1/metrics" }],
      30_000,
      down,
    );
    scheduler.startDue(NOW);
    await scheduler.settled();
    for (let i = 0; i < 2; i++) {
      const notes = new NoteSink();
      scheduler.take(notes);
      expect(notes.notes.filter((n) => n.dropped === undefined)).toEqual([
        { collector: "scrape", message: "app: down" },
      ]);
    }
    down.clear();
    scheduler.startDue(NOW + 30_000);
    await scheduler.settled();
    const notes = new NoteSink();
    scheduler.take(notes);
    expect(notes.notes.filter((n) => n.dropped === undefined)).toEqual([]);
  });

  it("skips a slot while the target's last scrape is still under way", async () => {
    let finish: () => void = () => undefined;
    const made: number[] = [];
    const scheduler = new ScrapeScheduler(
      [
        checkScrapeTarget({
          name: "app",
          url: "http://127.0.0.1:1/metrics",
          intervalSec: 10,
          timeoutSec: 10,
        }),
      ],
      30_000,
      async (_t, now) => {
        made.push(now - NOW);
        await new Promise<void>((resolve) => (finish = resolve));
        return { samples: [], up: true, durationSec: 0, scraped: 0 };
      },
    );
    scheduler.startDue(NOW);
    scheduler.startDue(NOW + 10_000);
    finish();
    await scheduler.settled();
    scheduler.startDue(NOW + 20_000);
    finish();
    await scheduler.settled();
    expect(made).toEqual([0, 20_000]);
  });

  it("puts a cycle's scrapes, notes included, into that cycle's collection", async () => {
    const page = await endpoint({ body: "# TYPE a gauge\na 1\nb NaN\n" });
    const root = join(FIXTURES, "debian12");
    const collector = new Collector({
      rootDir: root,
      stateDir: await temporaryDirectory(),
      disabled: ["journal", "updates", "docker", "systemd", "ssh"],
      journal: { minPriority: 4, units: [] },
      scrape: { targets: [target(page.url)], intervalMs: 30_000 },
    });
    const { collection } = await collector.collect(NOW);
    expect(collection.customMetrics?.map((s) => s.name)).toEqual([
      "a",
      "up",
      "scrape_duration_seconds",
      "scrape_samples_scraped",
    ]);
    expect(collection.notes).toContainEqual(expect.objectContaining({ collector: "scrape", dropped: 1 }));
    expect(collector.nextScrapeAt()).toBe(NOW + 30_000);
    // Not due yet: the next cycle carries no scrape.
    expect((await collector.collect(NOW + 10_000)).collection.customMetrics).toBeUndefined();
    collector.close();
  });
});

describe("custom samples in batches", () => {
  function customSamples(count: number): CustomSample[] {
    return Array.from({ length: count }, (_, i) => ({
      ts: NOW,
      name: "queue_depth",
      labels: { queue: `q${i}`, job: "app" },
      value: i,
      kind: "gauge" as const,
    }));
  }

  it("spools more custom samples than one batch may carry as several batches, in order", async () => {
    const dir = await temporaryDirectory();
    const spool = new Spool({ dir, clock: () => NOW });
    const total = PROBE_BATCH_LIMITS.customSamples * 2 + 5;
    await spool.add({ samples: [{ ts: NOW, load1: 1 }], customMetrics: customSamples(total) });

    const batches = await Promise.all(
      (await spool.list()).map(async (e) => probeBatchV1Schema.parse(await spool.readBatch(e))),
    );
    expect(batches.map((b) => b.customMetrics.length)).toEqual([
      PROBE_BATCH_LIMITS.customSamples,
      PROBE_BATCH_LIMITS.customSamples,
      5,
    ]);
    expect(batches.map((b) => b.samples.length)).toEqual([1, 0, 0]);
    expect(batches.flatMap((b) => b.customMetrics.map((s) => s.value))).toEqual(
      Array.from({ length: total }, (_, i) => i),
    );
  });

  it("halves custom samples with the rest of a batch the server refuses as too large", () => {
    const halves = defined(
      splitBatch({ v: 1, batchId: "batch-0001", sentAt: NOW, customMetrics: customSamples(5) }),
      "halves",
    );
    expect(halves.map((h) => h.customMetrics?.map((s) => s.value))).toEqual([
      [0, 1, 2],
      [3, 4],
    ]);
  });
});

describe("the scrape-test and once commands", () => {
  const cli = (argv: string[], env: NodeJS.ProcessEnv) => runCli(argv, env, { clock: () => NOW });

  it("scrape-test shows the series a target would send, its notes, and fails for a target that is down", async () => {
    const page = await endpoint({ body: NODE_EXPORTER_PAGE });
    const down = await endpoint({ status: 503 });
    const result = await cli(
      ["scrape-test", "--scrape", `node=${page.url}`, "--scrape", `other=${down.url}`],
      {},
    );

    expect(result.code).toBe(1);
    const [nodeHeader, ...lines] = result.out.split("\n");
    expect(nodeHeader).toMatch(
      /^node http:\/\/127\.0\.0\.1:\d+\/metrics: up, 505 series to send \(505 samples on the page\) in \d+\.\d{3} s$/,
    );
    expect(
      lines
        .slice(0, 20)
        .every((line) =>
          /^ {2}[a-z_]+\{.*job="node".*\} \S+ \((counter|gauge|summary|histogram|untyped)\)$/.test(line),
        ),
    ).toBe(true);
    expect(result.out).toMatch(/… and 485 more \(--print shows all as JSON\)/);
    expect(result.out).toMatch(/^other http:\/\/127\.0\.0\.1:\d+\/metrics: DOWN, nothing to send in/m);
    expect(result.out).toMatch(/note: other: scrape of .* failed: HTTP 503/);
  });

  it("once --print carries the scraped series in a contract-valid batch", async () => {
    const page = await endpoint({ body: NODE_EXPORTER_PAGE, gzip: true });
    const stateDir = await temporaryDirectory();
    await writeFile(
      join(stateDir, "probe.json"),
      JSON.stringify({ disabledCollectors: ["updates"], scrape: [{ name: "node", url: page.url }] }),
    );
    const result = await cli(["once", "--print", "--root", join(FIXTURES, "debian12")], {
      VIGIL_STATE_DIR: stateDir,
      VIGIL_CONFIG: join(stateDir, "probe.json"),
    });
    expect(result.code).toBe(0);
    const batch = probeBatchV1Schema.parse(JSON.parse(result.out));
    expect(batch.customMetrics.find((s) => s.name === "up")).toMatchObject({
      value: 1,
      labels: { job: "node" },
    });
    // Scraped once, with the reading that is printed.
    expect(page.requests).toHaveLength(1);
  });
});

describe("the probe process", () => {
  it("scrapes its target and delivers the series in a batch the contract accepts", async () => {
    const page = await endpoint({ body: NODE_EXPORTER_PAGE, gzip: true });
    const batches: ProbeBatchV1[] = [];
    let firstCustom: (batch: ProbeBatchV1) => void = () => undefined;
    const custom = new Promise<ProbeBatchV1>((resolve) => (firstCustom = resolve));
    const api = createServer(async (req, res) => {
      const batch = await readBatch(req);
      batches.push(batch);
      if (batch.customMetrics.length > 0) firstCustom(batch);
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ batchId: batch.batchId, accepted: true, duplicate: false }));
    });
    servers.push(api);
    await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve));
    const server = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;

    const { stateDir, configPath } = await probeConfig({
      rootDir: join(FIXTURES, "debian12"),
      disabledCollectors: ["journal", "updates", "docker", "systemd", "ssh"],
      scrape: [{ name: "node", url: page.url, maxSeries: 5_000 }],
    });
    await writeFile(
      join(stateDir, "identity.json"),
      JSON.stringify({ server, hostId: "h1", hostToken: "t" }),
    );
    const probe = spawn(
      process.execPath,
      ["--import", "tsx", join(PROBE_DIR, "src", "main.ts"), "run", "--config", configPath],
      {
        cwd: PROBE_DIR,
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    children.push(probe);
    let log = "";
    probe.stderr?.on("data", (chunk: Buffer) => (log += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => probe.on("exit", resolve));

    const batch = await Promise.race([
      custom,
      exited.then((code) => {
        throw new Error(`the probe exited with ${code}: ${log}`);
      }),
    ]);
    expect(log).toMatch(/scraping node/);
    expect(batch.customMetrics.find((s) => s.name === "up")).toMatchObject({
      value: 1,
      labels: { job: "node" },
    });
    expect(batch.customMetrics.filter((s) => s.name === "node_cpu_seconds_total").length).toBeGreaterThan(0);
    expect(batch.customMetrics.every((s) => s.labels.job === "node")).toBe(true);
    // The first collection's host reading and its scrape ride in one batch.
    expect(batch.samples).toHaveLength(1);
    probe.kill("SIGTERM");
    expect(await exited).toBe(0);
  }, 30_000);
});
