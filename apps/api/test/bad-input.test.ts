// Every route, fed malformed input with a valid admin key, never answers with a 5xx; API errors keep their shape.
import { errorBodySchema } from "@vigil/contract";
import { describe, expect, it } from "vitest";
import { batch, bearer, enrollHost, jsonRequest, sendBatch, testApp } from "./helpers.ts";

const garbage: { name: string; init: (key: string) => RequestInit }[] = [
  { name: "no body", init: (key) => ({ headers: bearer(key) }) },
  {
    name: "malformed JSON",
    init: (key) => ({ body: "{nope", headers: { ...bearer(key), "content-type": "application/json" } }),
  },
  {
    name: "JSON of the wrong shape",
    init: (key) => ({
      body: '[1,"x",null]',
      headers: { ...bearer(key), "content-type": "application/json" },
    }),
  },
  {
    name: "text instead of JSON",
    init: (key) => ({ body: "hello", headers: { ...bearer(key), "content-type": "text/plain" } }),
  },
  {
    name: "binary gzip-labelled noise",
    init: (key) => ({
      body: new Uint8Array([31, 139, 8, 0, 1, 2, 3, 4, 5]),
      headers: { ...bearer(key), "content-type": "application/json", "content-encoding": "gzip" },
    }),
  },
];

/** Concrete paths for a route pattern: its params filled with a malformed id, a UUID nobody has, and junk. */
function pathsFor(pattern: string): string[] {
  const fill = (value: string) => pattern.replace(/:[A-Za-z]+(\{[^}]*\})?/g, value).replace(/\*/g, "x");
  return [
    fill("not-a-uuid"),
    fill("00000000-0000-4000-8000-000000000000"),
    `${fill("%E0%A4%A")}?limit=-1&from=x`,
  ];
}

describe("bad input", () => {
  // Hundreds of requests: a generous budget so a loaded machine does not fail it (this is no timing assert).
  it("never gets a 5xx from any route or method, and API errors come in the error shape", {
    timeout: 60_000,
  }, async () => {
    const { app, adminKey } = await testApp();
    const routes = app.routes.filter((r) => r.method !== "ALL" && !r.path.includes("/logs/tail"));
    expect(routes.length).toBeGreaterThan(30);
    expect(routes.map((r) => `${r.method} ${r.path}`)).toEqual(
      expect.arrayContaining([
        "POST /api/v1/rules",
        "PATCH /api/v1/rules/:id",
        "GET /api/v1/alerts",
        "GET /api/v1/alerts/:id",
        "POST /api/v1/silences",
        "POST /api/v1/silences/:id/expire",
        "POST /api/v1/maintenance-windows",
        "DELETE /api/v1/maintenance-windows/:id",
      ]),
    );
    const failures: string[] = [];
    for (const route of routes) {
      for (const path of pathsFor(route.path)) {
        for (const g of garbage) {
          const init = g.init(adminKey);
          const method = route.method;
          const res = await app.request(path, {
            ...init,
            method,
            ...(method === "GET" || method === "HEAD" ? { body: null } : {}),
          });
          const text = await res.text();
          if (res.status >= 500) failures.push(`${method} ${path} (${g.name}) → ${res.status}: ${text}`);
          // Ping routes answer plain text like Healthchecks, the setup link an HTML page; everything else
          // uses the one error shape.
          const shaped = (() => {
            try {
              return errorBodySchema.safeParse(JSON.parse(text)).success;
            } catch {
              return false;
            }
          })();
          if (res.status >= 400 && !path.startsWith("/ping/") && !path.startsWith("/setup") && !shaped) {
            failures.push(`${method} ${path} (${g.name}) → ${res.status} not in the error shape: ${text}`);
          }
        }
      }
    }
    expect(failures).toEqual([]);
    // Every route × 3 paths × 5 bodies: a few hundred requests, more with each new route.
  });
});

describe("times out of range", () => {
  const FAR = 9e15;
  const BEFORE_2000 = Date.UTC(1999, 11, 31);
  const fieldsOf = async (res: Response) =>
    ((await res.json()) as { error: { fields?: { path: string }[] } }).error.fields?.map((f) => f.path);

  it("are refused with a 400 naming the field wherever the API takes a time", async () => {
    const { app, adminKey, clock } = await testApp();
    const now = clock.now();
    const cases: [string, string, unknown, string][] = [
      ["POST", "/api/v1/silences", { checkId: "x", endsAt: FAR }, "body.endsAt"],
      [
        "POST",
        "/api/v1/silences",
        { checkId: "x", startsAt: BEFORE_2000, durationMinutes: 5 },
        "body.startsAt",
      ],
      ["POST", "/api/v1/events", { service: "web", at: FAR }, "body.at"],
      ["POST", "/api/v1/status-incidents", { title: "t", message: "m", startedAt: FAR }, "body.startedAt"],
      ["POST", "/api/v1/status-maintenance", { title: "t", startsAt: now, endsAt: FAR }, "body.endsAt"],
    ];
    for (const [method, path, body, field] of cases) {
      const res = await app.request(path, jsonRequest(method, body, adminKey));
      expect(res.status, `${path} ${JSON.stringify(body)}`).toBe(400);
      expect(await fieldsOf(res)).toContain(field);
    }
    const query = await app.request(`/api/v1/events?from=${FAR}`, { headers: bearer(adminKey) });
    expect(query.status).toBe(400);
    expect(await fieldsOf(query)).toContain("query.from");
  });

  it("in a probe batch are refused with a 400 naming the field, and nothing of the batch is stored", async () => {
    const { app, adminKey, clock } = await testApp();
    const host = await enrollHost(app, adminKey);
    const now = clock.now();
    const cases: [Record<string, unknown>, string][] = [
      [{ samples: [{ ts: FAR, load1: 1 }] }, "body.samples.0.ts"],
      [
        {
          logs: [
            { ts: now, priority: 3, message: "ok" },
            { ts: 0, priority: 3, message: "x" },
          ],
        },
        "body.logs.1.ts",
      ],
      [
        { backups: [{ name: "db", tool: "restic", status: "success", startedAt: now, endedAt: FAR }] },
        "body.backups.0.endedAt",
      ],
      [{ state: { collectedAt: now, reboot: { required: true, since: FAR } } }, "body.state.reboot.since"],
      [{ sentAt: FAR }, "body.sentAt"],
    ];
    for (const [fields, field] of cases) {
      const res = await sendBatch(app, host.hostToken, batch(fields));
      expect(res.status, JSON.stringify(fields)).toBe(400);
      expect(await fieldsOf(res)).toContain(field);
    }
    const logs = await app.request(`/api/v1/hosts/${host.hostId}/logs`, { headers: bearer(adminKey) });
    expect(((await logs.json()) as { entries: unknown[] }).entries).toEqual([]);
  });
});
