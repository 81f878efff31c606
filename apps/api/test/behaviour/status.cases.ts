import { errorBodySchema, type StatusPageData, statusPageDataSchema } from "@vigil/contract";
import { expect } from "vitest";
import { area } from "./case.ts";
import { bearer, enrollHost, jsonRequest, legacy, newKey, type Requester } from "./client.ts";
import type { Target } from "./target.ts";

type App = Requester;

async function post<T = Record<string, unknown>>(app: App, key: string, path: string, body: unknown) {
  const res = await app.request(path, jsonRequest("POST", body, key));
  expect(res.status, await res.clone().text()).toBeLessThan(300);
  return (await res.json()) as T;
}

async function patch<T = Record<string, unknown>>(app: App, key: string, path: string, body: unknown) {
  const res = await app.request(path, jsonRequest("PATCH", body, key));
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as T;
}

/** A public heartbeat with a one-hour period; pings move it up or down. */
async function publicHeartbeat(app: App, key: string, name: string, isPublic = true) {
  return post<{ id: string }>(app, key, "/api/v1/checks", {
    kind: "heartbeat",
    name,
    period: 3600,
    grace: 3600,
    public: isPublic,
  });
}

async function getJson<T>(app: App, path: string, key?: string) {
  const res = await app.request(path, key ? { headers: bearer(key) } : {});
  expect(res.status, path).toBe(200);
  return (await res.json()) as T;
}

const at = (iso: string) => Date.parse(iso);

async function gunzip(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const stream = new Response(bytes).body?.pipeThrough(new DecompressionStream("gzip"));
  return new Response(stream).text();
}

const HOUR = 3_600_000;
type PageBody = { id: string; components: { id: string; subjectId: string }[] };

const pageData = async (app: App, slug: string) =>
  statusPageDataSchema.parse(await getJson(app, `/api/v1/status/${slug}`));
const components = (data: StatusPageData) => data.groups.flatMap((g) => g.components);
const day = (data: StatusPageData, index: number, date: string) => {
  const found = components(data)[index]?.days.find((d) => d.date === date);
  if (!found) throw new Error(`no day ${date}`);
  return found;
};

/** Up from 25 Nov 00:00 UTC; a fail ping at `failAt` and a success ping at `recoverAt`; now 27 Nov 12:00. */
async function historyOf(target: Target, failAt: string, recoverAt: string, timezone = "UTC") {
  const t = legacy(target);
  t.clock.set(at("2026-11-25T00:00:00Z"));
  const check = await publicHeartbeat(t.app, t.adminKey, "API");
  await t.app.request(`/ping/${check.id}`);
  t.clock.set(at(failAt));
  await t.app.request(`/ping/${check.id}/fail`);
  t.clock.set(at(recoverAt));
  await t.app.request(`/ping/${check.id}`);
  t.clock.set(at("2026-11-27T12:00:00Z"));
  await post(t.app, t.adminKey, "/api/v1/status-pages", {
    slug: "acme",
    title: "Acme",
    timezone,
    components: [{ type: "check", id: check.id, name: "Public API" }],
  });
  return { ...t, check };
}

/** A public heartbeat "API", up, as the one component of page "acme". */
async function apiOnPage(target: Target) {
  const t = legacy(target);
  const api = await publicHeartbeat(t.app, t.adminKey, "API");
  await t.app.request(`/ping/${api.id}`);
  await post(t.app, t.adminKey, "/api/v1/status-pages", {
    slug: "acme",
    title: "Acme",
    components: [{ type: "check", id: api.id, name: "API" }],
  });
  return { ...t, api };
}

const status1 = area("status page data", [
  {
    name: "has 90 daily bars whose uptime agrees with the pings, and the same figures as the check's uptime",
    run: async (t) => {
      const { app, adminKey, check } = await historyOf(t, "2026-11-25T18:00:00Z", "2026-11-26T06:00:00Z");
      const data = await pageData(app, "acme");
      const [component] = components(data);
      expect(component?.days).toHaveLength(90);
      expect(component?.days.at(-1)?.date).toBe("2026-11-27");
      expect(day(data, 0, "2026-11-25")).toMatchObject({ upMs: 18 * HOUR, downMs: 6 * HOUR, uptime: 0.75 });
      expect(day(data, 0, "2026-11-26")).toMatchObject({ upMs: 18 * HOUR, downMs: 6 * HOUR, uptime: 0.75 });
      expect(day(data, 0, "2026-11-27")).toMatchObject({ upMs: 12 * HOUR, downMs: 0, uptime: 1 });
      expect(day(data, 0, "2026-11-24").uptime).toBeNull();
      expect(component?.uptime).toBeCloseTo(48 / 60, 10);
      const { days } = await getJson<{ days: { day: string; uptime: number | null }[] }>(
        app,
        `/api/v1/checks/${check.id}/uptime?days=90`,
        adminKey,
      );
      expect(component?.days.map((d) => d.uptime)).toEqual(days.map((d) => d.uptime));
    },
  },

  {
    name: "puts the automatic incident on every day it touched and lists it as past once resolved",
    run: async (t) => {
      const { app } = await historyOf(t, "2026-11-25T18:00:00Z", "2026-11-26T06:00:00Z");
      const data = await pageData(app, "acme");
      const [incident] = data.pastIncidents;
      expect(incident).toMatchObject({ title: "Public API is down", automatic: true, status: "resolved" });
      expect(day(data, 0, "2026-11-25").incidents).toEqual([incident?.id]);
      expect(day(data, 0, "2026-11-26").incidents).toEqual([incident?.id]);
      expect(day(data, 0, "2026-11-27").incidents).toEqual([]);
      expect(data.activeIncidents).toEqual([]);
      expect(data.status).toBe("operational");
    },
  },

  {
    name: "lands an incident late in the evening on that evening's bar in the page's time zone",
    run: async (t) => {
      // 03:00–04:00 UTC on 26 Nov is 22:00–23:00 on 25 Nov in New York (UTC−5).
      const { app } = await historyOf(t, "2026-11-26T03:00:00Z", "2026-11-26T04:00:00Z", "America/New_York");
      const data = await pageData(app, "acme");
      const [incident] = data.pastIncidents;
      expect(day(data, 0, "2026-11-25")).toMatchObject({
        incidents: [incident?.id],
        downMs: HOUR,
        upMs: 23 * HOUR,
      });
      expect(day(data, 0, "2026-11-26")).toMatchObject({ incidents: [], downMs: 0, upMs: 24 * HOUR });
      // 25 Nov 00:00 UTC is 19:00 on the 24th in New York; today (the 27th) began at 05:00 UTC.
      expect(day(data, 0, "2026-11-24").upMs).toBe(5 * HOUR);
      expect(day(data, 0, "2026-11-27").upMs).toBe(7 * HOUR);
    },
  },

  {
    name: "shows a component that is down as an outage in the banner and the active incidents",
    run: async (t) => {
      const { app, adminKey, clock } = legacy(t);
      const api = await publicHeartbeat(app, adminKey, "API");
      const web = await publicHeartbeat(app, adminKey, "Web");
      await app.request(`/ping/${api.id}`);
      await app.request(`/ping/${web.id}/fail`);
      await post(app, adminKey, "/api/v1/status-pages", {
        slug: "acme",
        title: "Acme",
        components: [
          { type: "check", id: api.id, name: "API", heading: "Backend" },
          { type: "check", id: web.id, name: "Website", heading: "Backend" },
        ],
      });
      clock.advance(HOUR);
      const data = await pageData(app, "acme");
      expect(data.status).toBe("partial_outage");
      expect(data.groups).toHaveLength(1);
      expect(components(data).map((c) => c.state)).toEqual(["operational", "outage"]);
      expect(data.activeIncidents).toEqual([
        expect.objectContaining({ title: "Website is down", status: "investigating" }),
      ]);
    },
  },

  {
    name: "shows maintenance ahead of time and says under maintenance while it runs, over the outage it explains",
    differs: {
      worker:
        "a window ending changes no page version, so the Cache API keeps the maintenance render until its TTL runs out in platform time",
    },
    run: async (t) => {
      const { app, adminKey, clock, api } = await apiOnPage(t);
      const now = clock.now();
      await post(app, adminKey, "/api/v1/status-maintenance", {
        title: "Database upgrade",
        startsAt: now + HOUR,
        endsAt: now + 3 * HOUR,
        affects: [{ type: "check", id: api.id }],
      });
      let data = await pageData(app, "acme");
      expect(data.status).toBe("operational");
      expect(data.upcomingMaintenance).toEqual([expect.objectContaining({ title: "Database upgrade" })]);

      clock.advance(HOUR + 60_000);
      await app.request(`/ping/${api.id}/fail`);
      data = await pageData(app, "acme");
      expect(data.status).toBe("maintenance");
      expect(components(data)[0]?.state).toBe("maintenance");
      expect(data.activeMaintenance).toHaveLength(1);
      expect(data.upcomingMaintenance).toEqual([]);

      clock.advance(2 * HOUR);
      data = await pageData(app, "acme");
      if (t.runtime === "node") {
        expect(data.status).toBe("major_outage");
        expect(data.activeMaintenance).toEqual([]);
      } else {
        expect(data.status).toBe("maintenance");
      }
    },
  },

  {
    name: "lets operators write incidents with updates, resolve them, and retitle automatic ones",
    run: async (t) => {
      const { app, adminKey, clock, api } = await apiOnPage(t);
      const written = await post<{ id: string }>(app, adminKey, "/api/v1/status-incidents", {
        title: "Slow logins",
        impact: "major",
        message: "Logins take up to a minute.",
        affects: [{ type: "check", id: api.id }],
      });
      let data = await pageData(app, "acme");
      expect(data.status).toBe("partial_outage");
      expect(data.activeIncidents).toEqual([
        expect.objectContaining({ id: written.id, title: "Slow logins", status: "investigating" }),
      ]);
      clock.advance(HOUR);
      await post(app, adminKey, `/api/v1/status-incidents/${written.id}/updates`, {
        status: "identified",
        message: "A cache node is down.",
      });
      clock.advance(HOUR);
      await post(app, adminKey, `/api/v1/status-incidents/${written.id}/updates`, {
        status: "resolved",
        message: "Replaced the node.",
      });
      data = await pageData(app, "acme");
      expect(data.status).toBe("operational");
      expect(data.pastIncidents[0]?.updates.map((u) => u.status)).toEqual([
        "investigating",
        "identified",
        "resolved",
      ]);

      await app.request(`/ping/${api.id}/fail`);
      const [automatic] = (await pageData(app, "acme")).activeIncidents;
      await patch(app, adminKey, `/api/v1/status-incidents/${automatic?.id}`, {
        title: "API errors",
        impact: "critical",
      });
      await post(app, adminKey, `/api/v1/status-incidents/${automatic?.id}/updates`, {
        status: "monitoring",
        message: "Fix deployed.",
      });
      data = await pageData(app, "acme");
      expect(data.status).toBe("major_outage");
      expect(data.activeIncidents[0]).toMatchObject({
        title: "API errors",
        automatic: true,
        status: "monitoring",
      });
      await app.request(`/ping/${api.id}`);
      expect((await pageData(app, "acme")).pastIncidents[0]).toMatchObject({
        title: "API errors",
        status: "resolved",
      });
    },
  },
]);

const status2 = area("status page privacy", [
  {
    name: "refuses a private check, another project's check and another project's host, in the error shape",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      const secret = await publicHeartbeat(app, adminKey, "internal-db", false);
      const otherKey = (await t.otherProject()).adminKey;
      const theirs = await publicHeartbeat(app, otherKey, "their-api");
      const theirHost = await enrollHost(app, otherKey);
      await app.request(
        `/api/v1/hosts/${theirHost.hostId}`,
        jsonRequest("PATCH", { public: true }, otherKey),
      );
      for (const [path, body] of [
        [
          "/api/v1/status-pages",
          { slug: "a", title: "A", components: [{ type: "check", id: secret.id, name: "x" }] },
        ],
        [
          "/api/v1/status-pages",
          { slug: "a", title: "A", components: [{ type: "check", id: theirs.id, name: "x" }] },
        ],
        [
          "/api/v1/status-pages",
          { slug: "a", title: "A", components: [{ type: "host", id: theirHost.hostId, name: "x" }] },
        ],
        [
          "/api/v1/status-incidents",
          { title: "x", message: "x", affects: [{ type: "check", id: theirs.id }] },
        ],
      ] as const) {
        const res = await app.request(path, jsonRequest("POST", body, adminKey));
        expect(res.status).toBe(400);
        const { error } = errorBodySchema.parse(await res.json());
        expect(error.code).toBe("VALIDATION_FAILED");
        expect(error.fields?.[0]?.path).toMatch(/^body\.(components|affects)\.0\.id$/);
      }
    },
  },

  {
    name: "never shows a check made private after publishing, in HTML, JSON, feed or badge, even by its ids",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      const shown = await publicHeartbeat(app, adminKey, "shown-check");
      const hidden = await publicHeartbeat(app, adminKey, "hidden-check-name");
      await app.request(`/ping/${shown.id}`);
      await app.request(`/ping/${hidden.id}/fail`);
      const page = await post<PageBody>(app, adminKey, "/api/v1/status-pages", {
        slug: "acme",
        title: "Acme",
        components: [
          { type: "check", id: shown.id, name: "Shown" },
          { type: "check", id: hidden.id, name: "Secret Component" },
        ],
      });
      await patch(app, adminKey, `/api/v1/checks/${hidden.id}`, { public: false });
      const hiddenComponent = page.components[1]?.id as string;
      const bodies = await Promise.all(
        [
          "/status/acme",
          "/api/v1/status/acme",
          "/status/acme/feed.atom",
          "/status/acme/feed.rss",
          "/status/acme/badge.svg",
        ].map(async (path) => {
          const res = await app.request(path);
          expect(res.status, path).toBe(200);
          return res.text();
        }),
      );
      for (const body of bodies) {
        for (const secret of [hidden.id, hiddenComponent, "hidden-check-name", "Secret Component"]) {
          expect(body).not.toContain(secret);
        }
      }
      expect(bodies[0]).toContain("Shown");
      expect((await pageData(app, "acme")).status).toBe("operational");
      for (const id of [hiddenComponent, hidden.id]) {
        const res = await app.request(`/status/acme/components/${id}/badge.svg`);
        expect(res.status).toBe(404);
        expect(errorBodySchema.safeParse(await res.json()).success).toBe(true);
      }
    },
  },

  {
    name: "shows a host only once it is marked public through the hosts API",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      const host = await enrollHost(app, adminKey);
      const component = { type: "host", id: host.hostId, name: "Web server" };
      const refused = await app.request(
        "/api/v1/status-pages",
        jsonRequest("POST", { slug: "acme", title: "Acme", components: [component] }, adminKey),
      );
      expect(refused.status).toBe(400);
      expect(await patch(app, adminKey, `/api/v1/hosts/${host.hostId}`, { public: true })).toMatchObject({
        public: true,
      });
      await post(app, adminKey, "/api/v1/status-pages", {
        slug: "acme",
        title: "Acme",
        components: [component],
      });
      const data = await pageData(app, "acme");
      expect(components(data)).toEqual([expect.objectContaining({ name: "Web server", type: "host" })]);
      expect(JSON.stringify(data)).not.toContain(host.hostId);
    },
  },

  {
    name: "answers 404 in the error shape for a slug that does not exist",
    run: async (t) => {
      const { app } = legacy(t);
      for (const path of [
        "/status/nope",
        "/api/v1/status/nope",
        "/status/nope/feed.atom",
        "/status/nope/feed.rss",
        "/status/NOPE/badge.svg",
      ]) {
        const res = await app.request(path);
        expect(res.status).toBe(404);
        expect(errorBodySchema.parse(await res.json()).error.code).toBe("NOT_FOUND");
      }
    },
  },
]);

const status3 = area("status page delivery", [
  {
    name: "serves the page at / on its custom domain and nothing at / elsewhere",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      await post(app, adminKey, "/api/v1/status-pages", {
        slug: "acme",
        title: "Acme Status",
        customDomain: "Status.Example.com",
      });
      const res = await app.request("http://status.example.com/");
      expect(res.status).toBe(200);
      expect(await res.text()).toContain("Acme Status");
      // Elsewhere `/` is the dashboard's, not a status page.
      const elsewhere = await app.request("http://vigil.test/");
      expect(await elsewhere.text()).not.toContain("Acme Status");
    },
  },

  {
    name: "references an inline SVG icon in the overall status's colour, on its slug and its custom domain",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      const api = await publicHeartbeat(app, adminKey, "API");
      await app.request(`/ping/${api.id}`);
      await post(app, adminKey, "/api/v1/status-pages", {
        slug: "acme",
        title: "Acme",
        customDomain: "status.example.com",
        components: [{ type: "check", id: api.id, name: "API" }],
      });
      for (const url of ["http://vigil.test/status/acme", "http://status.example.com/"]) {
        const html = await (await app.request(url)).text();
        const href = html.match(/<link rel="icon" type="image\/svg\+xml" href="([^"]+)"/)?.[1] ?? "";
        expect(href, url).toMatch(/^data:image\/svg\+xml,/);
        const svg = decodeURIComponent(href.slice("data:image/svg+xml,".length).replaceAll("&amp;", "&"));
        expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]*>.*<\/svg>$/);
        expect(svg).toContain('fill="#1a7f37"');
      }
    },
  },

  {
    name: "refuses a slug or custom domain another page already has with 409",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      await post(app, adminKey, "/api/v1/status-pages", {
        slug: "acme",
        title: "A",
        customDomain: "s.example.com",
      });
      for (const body of [
        { slug: "acme", title: "B" },
        { slug: "other", title: "B", customDomain: "s.example.com" },
      ]) {
        const res = await app.request("/api/v1/status-pages", jsonRequest("POST", body, adminKey));
        expect(res.status).toBe(409);
      }
    },
  },

  {
    name: "moves a page to a custom domain with a PATCH that leaves the slug out",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      const page = await post<{ id: string }>(app, adminKey, "/api/v1/status-pages", {
        slug: "acme",
        title: "A",
      });
      await post(app, adminKey, "/api/v1/status-pages", {
        slug: "other",
        title: "B",
        customDomain: "b.example.com",
      });
      const moved = await patch(app, adminKey, `/api/v1/status-pages/${page.id}`, {
        customDomain: "status.example.com",
      });
      expect(moved).toMatchObject({ slug: "acme", customDomain: "status.example.com" });
      expect((await app.request("http://status.example.com/")).status).toBe(200);

      const taken = await app.request(
        `/api/v1/status-pages/${page.id}`,
        jsonRequest("PATCH", { customDomain: "b.example.com" }, adminKey),
      );
      expect(taken.status).toBe(409);
      expect(errorBodySchema.parse(await taken.json()).error.message).toBe(
        'the domain "b.example.com" is used by another status page',
      );
    },
  },

  {
    name: "serves a cached render until a check changes state or the page is edited",
    differs: {
      worker:
        "renders live in the Cache API, which expires them by platform time: moving the injected clock past the TTL does not",
    },
    run: async (target) => {
      const t = legacy(target);
      const app = t.app;
      const api = await publicHeartbeat(app, t.adminKey, "API");
      await app.request(`/ping/${api.id}`);
      const page = await post<PageBody>(app, t.adminKey, "/api/v1/status-pages", {
        slug: "acme",
        title: "Acme",
        components: [{ type: "check", id: api.id, name: "API" }],
      });
      const get = () => app.request("/status/acme");
      expect((await get()).headers.get("x-vigil-cache")).toBe("miss");
      const hit = await get();
      expect(hit.headers.get("x-vigil-cache")).toBe("hit");
      expect(hit.headers.get("cache-control")).toBe("public, max-age=30");

      await app.request(`/ping/${api.id}/fail`);
      const afterFlip = await get();
      expect(afterFlip.headers.get("x-vigil-cache")).toBe("miss");
      expect(await afterFlip.text()).toContain("Major outage");

      await patch(app, t.adminKey, `/api/v1/status-pages/${page.id}`, { title: "Acme Cloud" });
      expect(await (await get()).text()).toContain("Acme Cloud");
      t.clock.advance(31_000);
      expect((await get()).headers.get("x-vigil-cache")).toBe(target.runtime === "node" ? "miss" : "hit");
    },
  },

  {
    name: "lists, reads, edits and deletes pages with the admin key and reads them with a read key",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      const readKey = (await newKey(t, ["read"])).key;
      const page = await post<PageBody>(app, adminKey, "/api/v1/status-pages", {
        slug: "acme",
        title: "Acme",
      });
      expect(await getJson(app, "/api/v1/status-pages", readKey)).toMatchObject({
        statusPages: [{ slug: "acme" }],
      });
      const refused = await app.request(
        `/api/v1/status-pages/${page.id}`,
        jsonRequest("PATCH", { title: "x" }, readKey),
      );
      expect(refused.status).toBe(403);
      const del = await app.request(`/api/v1/status-pages/${page.id}`, {
        method: "DELETE",
        headers: bearer(adminKey),
      });
      expect(del.status).toBe(204);
      expect((await app.request("/status/acme")).status).toBe(404);
    },
  },
]);

const status4 = area("status page response times", [
  {
    name: "draws an HTTP check's sparkline from the daily means of its runs against a real server",
    run: async (t) => {
      const { app, adminKey, clock } = legacy(t);
      const check = await post<{ id: string }>(app, adminKey, "/api/v1/checks", {
        kind: "http",
        name: "site",
        url: t.outside.url("site"),
        period: 60,
        public: true,
      });
      await post(app, adminKey, "/api/v1/status-pages", {
        slug: "acme",
        title: "Acme",
        components: [{ type: "check", id: check.id, name: "Website" }],
      });
      for (let i = 0; i < 3; i++) {
        await t.tick();
        clock.advance(61_000);
      }
      const { runs } = await getJson<{ runs: { responseMs: number }[] }>(
        app,
        `/api/v1/checks/${check.id}/runs`,
        adminKey,
      );
      expect(runs).toHaveLength(3);
      const mean = Math.round(runs.reduce((n, r) => n + r.responseMs, 0) / runs.length);
      const [component] = components(await pageData(app, "acme"));
      expect(component?.responseMs).toHaveLength(90);
      expect(component?.responseMs?.at(-1)).toBe(mean);
      expect(component?.responseMs?.slice(0, 89).every((v) => v === null)).toBe(true);
      expect(component?.state).toBe("operational");
      expect(await (await app.request("/status/acme")).text()).toContain('<svg class="spark"');
    },
  },
]);

const status5 = area("status page transfer", [
  {
    name: "sends the page and its JSON gzip-compressed to clients that accept it, and plain to those that do not",
    run: async (t) => {
      const { app } = await apiOnPage(t);
      for (const path of ["/status/acme", "/api/v1/status/acme"]) {
        const plain = await app.request(path);
        const text = await plain.text();
        expect(plain.headers.get("content-encoding")).toBeNull();
        const zipped = await app.request(path, { headers: { "accept-encoding": "gzip" } });
        expect(zipped.headers.get("content-encoding")).toBe("gzip");
        const body = new Uint8Array(await zipped.arrayBuffer());
        expect(body.length).toBeLessThan(text.length);
        expect(await gunzip(body)).toBe(text);
      }
    },
  },
]);

const status6 = area("status page subscribers", [
  {
    name: "takes a webhook subscriber from the public route, lists it for the operator and removes it",
    run: async (t) => {
      const { app, adminKey } = await apiOnPage(t);
      const pages = await getJson<{ statusPages: { id: string }[] }>(app, "/api/v1/status-pages", adminKey);
      const pageId = pages.statusPages[0]?.id ?? "";
      const res = await app.request(
        "/api/v1/status/acme/subscribers",
        jsonRequest("POST", { webhook: "https://hooks.example.org/acme" }),
      );
      expect(res.status).toBe(202);
      expect(await res.json()).toEqual({ status: "subscribed" });
      const listed = await getJson<{ subscribers: { id: string; kind: string; address: string }[] }>(
        app,
        `/api/v1/status-pages/${pageId}/subscribers`,
        adminKey,
      );
      expect(listed.subscribers).toMatchObject([
        { kind: "webhook", address: "https://hooks.example.org/acme" },
      ]);
      const removed = await app.request(
        `/api/v1/status-pages/${pageId}/subscribers/${listed.subscribers[0]?.id}`,
        { method: "DELETE", headers: bearer(adminKey) },
      );
      expect(removed.status).toBe(204);
      const after = await getJson<{ subscribers: unknown[] }>(
        app,
        `/api/v1/status-pages/${pageId}/subscribers`,
        adminKey,
      );
      expect(after.subscribers).toEqual([]);
    },
  },

  {
    name: "refuses a component that is not on the page, naming the field",
    run: async (t) => {
      const { app } = await apiOnPage(t);
      const unknown = await app.request(
        "/api/v1/status/acme/subscribers",
        jsonRequest("POST", { webhook: "https://hooks.example.org/x", components: [crypto.randomUUID()] }),
      );
      expect(unknown.status).toBe(400);
      expect(await unknown.text()).toContain("body.components.0");
    },
  },
]);

export const statusCases = [status1, status2, status3, status4, status5, status6];
