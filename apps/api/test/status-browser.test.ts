/**
 * The status page in headless Chromium (Debian `chromium`, driven by playwright-core) over a real HTTP
 * server on 127.0.0.1: no horizontal scroll at desktop and phone widths, the banner and 90 bars per
 * component, a screenshot of each width under test-artifacts/, and the feed and badges parsed by the browser.
 */
import { mkdirSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { createAdaptorServer } from "@hono/node-server";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "./browser.ts";
import { testApp } from "./helpers.ts";
import { post, publicHeartbeat } from "./status-helpers.ts";

const artifacts = join(import.meta.dirname, "..", "test-artifacts");
const DAY = 86_400_000;

let browser: Browser;
let base: string;
let close: () => Promise<void>;

beforeAll(async () => {
  const { app, adminKey, clock } = await testApp();
  const now = clock.now();
  // Three checks with 100 days of history: one steady, one with a bad day a month ago, one down now.
  clock.set(now - 100 * DAY);
  const names = ["API", "Website", "Background jobs"];
  const checks = [];
  for (const name of names) checks.push(await publicHeartbeat(app, adminKey, name));
  for (const check of checks) await app.request(`/ping/${check.id}`);
  clock.set(now - 30 * DAY);
  await app.request(`/ping/${checks[1]?.id}/fail`);
  clock.set(now - 30 * DAY + 5 * 3_600_000);
  await app.request(`/ping/${checks[1]?.id}`);
  clock.set(now - 3_600_000);
  await app.request(`/ping/${checks[2]?.id}/fail`);
  clock.set(now);
  await post(app, adminKey, "/api/v1/status-pages", {
    slug: "acme",
    title: "Acme Cloud",
    description: "Current status of Acme's services.",
    timezone: "Europe/Berlin",
    components: checks.map((c, i) => ({
      type: "check",
      id: c.id,
      name: names[i],
      heading: i < 2 ? "Customer facing" : "Internal",
    })),
  });
  await post(app, adminKey, "/api/v1/status-maintenance", {
    title: "Network maintenance",
    startsAt: now + DAY,
    endsAt: now + DAY + 7_200_000,
  });
  const server = createAdaptorServer({ fetch: app.fetch });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => new Promise((done) => server.close(() => done()));
  browser = await launchChromium();
  mkdirSync(artifacts, { recursive: true });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await close?.();
});

describe("the status page in Chromium", () => {
  for (const [name, width, height] of [
    ["desktop", 1280, 900],
    ["phone", 360, 740],
  ] as const) {
    it(`renders at ${name} width without horizontal scroll, with the banner and 90 bars per component`, async () => {
      const page = await browser.newPage({ viewport: { width, height } });
      for (const scheme of ["light", "dark"] as const) {
        await page.emulateMedia({ colorScheme: scheme });
        const res = await page.goto(`${base}/status/acme`);
        expect(res?.status()).toBe(200);
        const layout = await page.evaluate(() => ({
          scrollWidth: document.documentElement.scrollWidth,
          clientWidth: document.documentElement.clientWidth,
          banner: document.querySelector(".banner")?.textContent ?? "",
          bars: Array.from(document.querySelectorAll("ol.bars")).map((ol) => ol.children.length),
          landmarks: ["header", "main", "footer"].map((tag) => document.querySelectorAll(tag).length),
          unlabelled: Array.from(document.querySelectorAll("ol.bars li")).filter(
            (li) => !li.getAttribute("title"),
          ).length,
        }));
        expect(layout.scrollWidth).toBeLessThanOrEqual(layout.clientWidth);
        expect(layout.banner).toContain("Partial outage");
        expect(layout.bars).toEqual([90, 90, 90]);
        expect(layout.landmarks).toEqual([1, 1, 1]);
        expect(layout.unlabelled).toBe(0);
        await page.screenshot({ path: join(artifacts, `status-${name}-${scheme}.png`), fullPage: true });
      }
      await page.close();
    });
  }

  it("names an icon that the browser loads, so no visitor's console shows a favicon 404", async () => {
    const page = await browser.newPage();
    const failed: string[] = [];
    page.on("response", (res) => {
      if (res.status() >= 400) failed.push(`${res.status()} ${res.url()}`);
    });
    await page.goto(`${base}/status/acme`);
    const icon = await page.evaluate(async () => {
      const href = document.querySelector<HTMLLinkElement>('link[rel="icon"]')?.href ?? "";
      const image = new Image();
      image.src = href;
      await image.decode();
      return { href, width: image.naturalWidth };
    });
    expect(icon.href).toMatch(/^data:image\/svg\+xml,/);
    expect(icon.width).toBeGreaterThan(0);
    expect(failed).toEqual([]);
    await page.close();
  });

  it("serves an Atom feed that parses as XML, with the incidents as entries", async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/status/acme`);
    const feed = await page.evaluate(async () => {
      const text = await (await fetch("/status/acme/feed.atom")).text();
      const doc = new DOMParser().parseFromString(text, "application/xml");
      return {
        error: doc.querySelector("parsererror")?.textContent ?? null,
        root: doc.documentElement.namespaceURI,
        entries: Array.from(doc.getElementsByTagName("entry")).map(
          (e) => e.getElementsByTagName("title")[0]?.textContent,
        ),
      };
    });
    expect(feed.error).toBeNull();
    expect(feed.root).toBe("http://www.w3.org/2005/Atom");
    expect(feed.entries).toEqual(["Background jobs is down (Investigating)", "Website is down (Resolved)"]);
    await page.close();
  });

  it("serves the same incidents as RSS 2.0 that parses as XML, with dates readers understand", async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/status/acme`);
    const rss = await page.evaluate(async () => {
      const res = await fetch("/status/acme/feed.rss");
      const doc = new DOMParser().parseFromString(await res.text(), "application/xml");
      const items = Array.from(doc.getElementsByTagName("item"));
      return {
        type: res.headers.get("content-type"),
        error: doc.querySelector("parsererror")?.textContent ?? null,
        version: doc.documentElement.getAttribute("version"),
        titles: items.map((e) => e.getElementsByTagName("title")[0]?.textContent),
        dates: items.map((e) => Date.parse(e.getElementsByTagName("pubDate")[0]?.textContent ?? "")),
        linked: document.querySelector('link[type="application/rss+xml"]')?.getAttribute("href"),
      };
    });
    expect(rss.type).toBe("application/rss+xml; charset=utf-8");
    expect(rss.error).toBeNull();
    expect(rss.version).toBe("2.0");
    expect(rss.titles).toEqual(["Background jobs is down (Investigating)", "Website is down (Resolved)"]);
    expect(rss.dates.every((d) => Number.isFinite(d) && d > 0)).toBe(true);
    expect(rss.linked).toBe("/status/acme/feed.rss");
    await page.close();
  });

  it("serves page and component badges that parse as SVG and render as images", async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/status/acme`);
    const json = (await (await fetch(`${base}/api/v1/status/acme`)).json()) as {
      groups: { components: { id: string }[] }[];
    };
    const componentId = json.groups[0]?.components[0]?.id;
    const badges = await page.evaluate(
      async (paths) => {
        const out = [];
        for (const path of paths) {
          const text = await (await fetch(path)).text();
          const doc = new DOMParser().parseFromString(text, "image/svg+xml");
          const img = new Image();
          img.src = path;
          await img.decode();
          out.push({
            error: doc.querySelector("parsererror")?.textContent ?? null,
            root: doc.documentElement.localName,
            label: doc.documentElement.getAttribute("aria-label"),
            width: img.naturalWidth,
          });
        }
        return out;
      },
      [
        "/status/acme/badge.svg",
        "/status/acme/badge.svg?show=uptime",
        `/status/acme/components/${componentId}/badge.svg`,
        `/status/acme/components/${componentId}/badge.svg?show=uptime`,
      ],
    );
    expect(badges.map((b) => b.error)).toEqual([null, null, null, null]);
    expect(badges.map((b) => b.root)).toEqual(["svg", "svg", "svg", "svg"]);
    expect(badges.map((b) => b.label)).toEqual([
      "status: partial outage",
      expect.stringMatching(/^status uptime: \d+\.\d\d%$/),
      "api: operational",
      "api uptime: 100.00%",
    ]);
    for (const b of badges) expect(b.width).toBeGreaterThan(40);
    await page.close();
  });
});
