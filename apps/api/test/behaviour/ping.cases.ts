import { expect } from "vitest";
import { area } from "./case.ts";
import { bearer, jsonRequest, legacy } from "./client.ts";
import type { Target } from "./target.ts";

type Ping = {
  kind: string;
  exitStatus: number | null;
  rid: string | null;
  durationMs: number | null;
  body: string | null;
  userAgent: string | null;
  remoteAddr: string | null;
  at: number;
};

async function withCheck(target: Target, body: Record<string, unknown> = {}) {
  const t = legacy(target);
  const res = await t.app.request(
    "/api/v1/checks",
    jsonRequest(
      "POST",
      { kind: "heartbeat", name: "job", slug: "job", period: 3600, grace: 600, ...body },
      t.adminKey,
    ),
  );
  const check = (await res.json()) as { id: string };
  const get = async () =>
    (await (await t.app.request(`/api/v1/checks/${check.id}`, { headers: bearer(t.adminKey) })).json()) as {
      status: string;
    };
  const pings = async () =>
    (
      (await (
        await t.app.request(`/api/v1/checks/${check.id}/pings`, { headers: bearer(t.adminKey) })
      ).json()) as {
        pings: Ping[];
      }
    ).pings;
  return { ...t, id: check.id, get, pings };
}

const pings1 = area("pinging by UUID", [
  {
    name: "answers OK in plain text to HEAD, GET and POST, with CORS open and the body limit",
    run: async (t) => {
      const { app, id, pings } = await withCheck(t);
      for (const method of ["HEAD", "GET", "POST"]) {
        const res = await app.request(`/ping/${id}`, { method, headers: { origin: "https://example.org" } });
        expect(res.status).toBe(200);
        expect(await res.text()).toBe(method === "HEAD" ? "" : "OK");
        expect(res.headers.get("access-control-allow-origin")).toBe("*");
        expect(res.headers.get("ping-body-limit")).toBe("100000");
      }
      expect((await pings()).map((p) => p.kind)).toEqual(["success", "success", "success"]);
    },
  },

  {
    name: "takes /start, /fail, /log and exit statuses 0–255",
    run: async (t) => {
      const { app, id, get, pings } = await withCheck(t);
      expect((await app.request(`/ping/${id}/start`)).status).toBe(200);
      expect((await get()).status).toBe("started");
      await app.request(`/ping/${id}/0`);
      expect((await get()).status).toBe("up");
      await app.request(`/ping/${id}/log`, { method: "POST", body: "note" });
      expect((await get()).status).toBe("up");
      await app.request(`/ping/${id}/255`);
      expect((await get()).status).toBe("down");
      await app.request(`/ping/${id}`);
      await app.request(`/ping/${id}/fail`);
      expect((await get()).status).toBe("down");
      const list = await pings();
      expect(list.map((p) => [p.kind, p.exitStatus])).toEqual([
        ["fail", null],
        ["success", null],
        ["fail", 255],
        ["log", null],
        ["success", 0],
        ["start", null],
      ]);
      expect(list[3]?.body).toBe("note");
    },
  },

  {
    name: "refuses an exit status over 255 and an unknown suffix",
    run: async (t) => {
      const { app, id } = await withCheck(t);
      for (const suffix of ["256", "restart", "1/2"]) {
        const res = await app.request(`/ping/${id}/${suffix}`);
        expect(res.status).toBe(400);
        expect(await res.text()).toBe("invalid url format");
      }
    },
  },

  {
    name: "answers not found for an unknown UUID and 400 for a malformed one",
    run: async (t) => {
      const { app } = await withCheck(t);
      const unknown = await app.request("/ping/6f1c0d6e-0000-4000-8000-000000000000");
      expect(unknown.status).toBe(404);
      expect(await unknown.text()).toBe("not found");
      const malformed = await app.request("/ping/not-a-uuid");
      expect(malformed.status).toBe(400);
      expect(await malformed.text()).toBe("invalid uuid format");
    },
  },

  {
    name: "pairs start and end by rid and reports the duration, refusing a malformed rid",
    run: async (t) => {
      const { app, id, clock, pings } = await withCheck(t);
      const rid = "5b1e9c3a-2f4d-4e6a-8b7c-9d0e1f2a3b4c";
      await app.request(`/ping/${id}/start?rid=${rid}`);
      clock.advance(42_000);
      await app.request(`/ping/${id}?rid=${rid}`);
      expect((await pings())[0]).toMatchObject({ kind: "success", rid, durationMs: 42_000 });
      const bad = await app.request(`/ping/${id}?rid=nope`);
      expect(bad.status).toBe(400);
    },
  },

  {
    name: "keeps the first 100 kB of a POST body",
    run: async (t) => {
      const { app, id, pings } = await withCheck(t);
      const res = await app.request(`/ping/${id}/fail`, { method: "POST", body: "x".repeat(250_000) });
      expect(res.status).toBe(200);
      const [ping] = await pings();
      expect(ping?.body?.length).toBe(100_000);
    },
  },

  {
    name: "records the caller's user agent and the time",
    run: async (t) => {
      const { app, id, clock, pings } = await withCheck(t);
      await app.request(`/ping/${id}`, { headers: { "user-agent": "curl/8.5.0" } });
      expect((await pings())[0]).toMatchObject({ userAgent: "curl/8.5.0", at: clock.now() });
    },
  },

  {
    name: "records other methods as ignored on a POST-only check",
    run: async (t) => {
      const { app, id, get, pings } = await withCheck(t, { postOnly: true });
      expect((await app.request(`/ping/${id}`)).status).toBe(200);
      expect((await get()).status).toBe("new");
      await app.request(`/ping/${id}`, { method: "POST" });
      expect((await get()).status).toBe("up");
      expect((await pings()).map((p) => p.kind)).toEqual(["success", "ignored"]);
    },
  },

  {
    name: "resumes a paused check, unless it is set to stay paused",
    run: async (t) => {
      const resumes = await withCheck(t);
      await resumes.app.request(`/api/v1/checks/${resumes.id}/pause`, {
        method: "POST",
        headers: bearer(resumes.adminKey),
      });
      await resumes.app.request(`/ping/${resumes.id}`);
      expect((await resumes.get()).status).toBe("up");

      const stays = await withCheck(t, { keepPaused: true });
      await stays.app.request(`/api/v1/checks/${stays.id}/pause`, {
        method: "POST",
        headers: bearer(stays.adminKey),
      });
      await stays.app.request(`/ping/${stays.id}`);
      expect((await stays.get()).status).toBe("paused");
      expect((await stays.pings())[0]?.kind).toBe("ignored");
    },
  },

  {
    name: "decides a POSTed ping by keywords in its body, and shows the keywords on the check",
    run: async (t) => {
      const bodyKeywords = { success: ["done"], failure: ["error"], start: [] };
      const { app, id, adminKey, get, pings } = await withCheck(t, { bodyKeywords });
      await app.request(`/ping/${id}`, { method: "POST", body: "rsync: error 23" });
      expect((await get()).status).toBe("down");
      await app.request(`/ping/${id}`, { method: "POST", body: "all done" });
      expect((await get()).status).toBe("up");
      expect((await pings()).map((p) => p.kind)).toEqual(["success", "fail"]);
      expect(await get()).toMatchObject({ bodyKeywords });
      const off = await app.request(
        `/api/v1/checks/${id}`,
        jsonRequest("PATCH", { bodyKeywords: null }, adminKey),
      );
      expect(await off.json()).toMatchObject({ bodyKeywords: null });
    },
  },

  {
    name: "takes a run's length and pace as conditions, refusing nonsense with the field named",
    run: async (t) => {
      const { app, id, adminKey, clock, get } = await withCheck(t, {
        minRun: 10,
        maxRun: 600,
        minInterval: 1800,
      });
      await app.request(`/ping/${id}/start`);
      clock.advance(2_000);
      await app.request(`/ping/${id}`);
      expect((await get()).status).toBe("down");
      const bad = await app.request(`/api/v1/checks/${id}`, jsonRequest("PATCH", { maxRun: 5 }, adminKey));
      expect(bad.status).toBe(400);
      const { error } = (await bad.json()) as { error: { code: string; message: string } };
      expect(error.code).toBe("VALIDATION_FAILED");
      expect(error.message).toMatch(/minRun/);
      const ok = await app.request(
        `/api/v1/checks/${id}`,
        jsonRequest("PATCH", { startGrace: 120 }, adminKey),
      );
      expect(await ok.json()).toMatchObject({ minRun: 10, maxRun: 600, minInterval: 1800, startGrace: 120 });
    },
  },

  {
    name: "answers a CORS preflight",
    run: async (t) => {
      const { app, id } = await withCheck(t);
      const res = await app.request(`/ping/${id}`, {
        method: "OPTIONS",
        headers: { origin: "https://example.org", "access-control-request-method": "POST" },
      });
      expect(res.status).toBeLessThan(300);
      expect(res.headers.get("access-control-allow-origin")).toBe("*");
      expect(res.headers.get("access-control-allow-methods")).toBe("GET,HEAD,POST");
    },
  },

  {
    name: "lets a browser read refusals too: a malformed ping and an unknown check carry the CORS header",
    run: async (t) => {
      const { app } = await withCheck(t);
      for (const [path, status] of [
        ["/ping/not-a-uuid-at-all-but-36-chars-lon", 400],
        [`/ping/${crypto.randomUUID()}`, 404],
      ] as const) {
        const res = await app.request(path, { headers: { origin: "https://example.org" } });
        expect(res.status).toBe(status);
        expect(res.headers.get("access-control-allow-origin")).toBe("*");
      }
    },
  },
]);

const pings2 = area("pinging by slug", [
  {
    name: "finds the check by the project's ping key and slug, with suffixes",
    run: async (t) => {
      const { app, project, get } = await withCheck(t);
      expect(await (await app.request(`/ping/${project.pingKey}/job/start`)).text()).toBe("OK");
      expect((await get()).status).toBe("started");
      await app.request(`/ping/${project.pingKey}/job/1`);
      expect((await get()).status).toBe("down");
    },
  },

  {
    name: "creates a missing check with ?create=1 and answers 201",
    run: async (t) => {
      const { app, adminKey, project } = await withCheck(t);
      const missing = await app.request(`/ping/${project.pingKey}/new-job`);
      expect(missing.status).toBe(404);
      const created = await app.request(`/ping/${project.pingKey}/new-job?create=1`);
      expect(created.status).toBe(201);
      expect(await created.text()).toBe("Created");
      const again = await app.request(`/ping/${project.pingKey}/new-job?create=1`);
      expect(again.status).toBe(200);
      const list = (await (await app.request("/api/v1/checks", { headers: bearer(adminKey) })).json()) as {
        checks: { slug: string; status: string }[];
      };
      expect(list.checks.find((c) => c.slug === "new-job")?.status).toBe("up");
    },
  },

  {
    name: "refuses an upper-case slug with 400 and an ambiguous one with 409",
    run: async (t) => {
      const { app, adminKey, project } = await withCheck(t);
      const upper = await app.request(`/ping/${project.pingKey}/Job`);
      expect(upper.status).toBe(400);
      await app.request(
        "/api/v1/checks",
        jsonRequest("POST", { kind: "heartbeat", name: "twin", slug: "job" }, adminKey),
      );
      const ambiguous = await app.request(`/ping/${project.pingKey}/job`);
      expect(ambiguous.status).toBe(409);
      expect(await ambiguous.text()).toBe("ambiguous slug");
    },
  },

  {
    name: "answers not found for an unknown ping key",
    run: async (t) => {
      const { app } = await withCheck(t);
      const res = await app.request("/ping/AAAAAAAAAAAAAAAAAAAAAA/job");
      expect(res.status).toBe(404);
      expect(await res.text()).toBe("not found");
    },
  },
]);

export const pingsCases = [pings1, pings2];
