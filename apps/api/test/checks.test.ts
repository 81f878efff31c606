import { errorBodySchema } from "@vigil/contract";
import { createApiKey, createProject } from "@vigil/db/testing";
import { findCheckRow } from "@vigil/engine";
import { describe, expect, it } from "vitest";
import { bearer, jsonRequest, testApp } from "./helpers.ts";

type CheckBody = Record<string, unknown> & { id: string; status: string; pingUrl: string | null };

async function createCheck(app: Awaited<ReturnType<typeof testApp>>["app"], key: string, body: unknown) {
  const res = await app.request("/api/v1/checks", jsonRequest("POST", body, key));
  expect(res.status).toBe(201);
  return (await res.json()) as CheckBody;
}

describe("the checks API", () => {
  it("creates a heartbeat with a period and answers 201 with id, pingUrl and status", async () => {
    const { app, adminKey } = await testApp();
    const res = await app.request(
      "http://vigil.test/api/v1/checks",
      jsonRequest(
        "POST",
        { kind: "heartbeat", name: "Nightly backup", slug: "backup", period: 86400, grace: 3600 },
        adminKey,
      ),
    );
    expect(res.status).toBe(201);
    const check = (await res.json()) as CheckBody;
    expect(check.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(check).toMatchObject({
      status: "new",
      pingUrl: `http://vigil.test/ping/${check.id}`,
      kind: "heartbeat",
      slug: "backup",
      period: 86400,
      grace: 3600,
      lastPingAt: null,
      nextDueAt: null,
    });
  });

  it("never shows an HTTP check's header values, and keeps them when a client sends the mask back", async () => {
    const { app, adminKey, db, project } = await testApp();
    const check = await createCheck(app, adminKey, {
      kind: "http",
      name: "private api",
      url: "https://api.example.com/health",
      headers: { Authorization: "Bearer health-s3cret", "X-Region": "eu" },
    });
    expect(check.headers).toEqual({ Authorization: "********", "X-Region": "********" });
    const one = await app.request(`/api/v1/checks/${check.id}`, { headers: bearer(adminKey) });
    const list = await app.request("/api/v1/checks", { headers: bearer(adminKey) });
    for (const body of [JSON.stringify(check), await one.text(), await list.text()]) {
      expect(body).toContain("Authorization");
      expect(body).not.toContain("health-s3cret");
    }

    const patched = await app.request(
      `/api/v1/checks/${check.id}`,
      jsonRequest(
        "PATCH",
        { headers: { Authorization: "********", "X-Region": "us" }, name: "api" },
        adminKey,
      ),
    );
    expect(patched.status).toBe(200);
    const renamed = await app.request(
      `/api/v1/checks/${check.id}`,
      jsonRequest("PATCH", { period: 120 }, adminKey),
    );
    expect(renamed.status).toBe(200);
    const stored = await findCheckRow(db, project.id, check.id);
    expect(stored.headers).toEqual({ Authorization: "Bearer health-s3cret", "X-Region": "us" });
  });

  it("refuses a runbook link that is not http(s), on creation and on change, naming the field", async () => {
    const { app, adminKey } = await testApp();
    const links = [
      "javascript:alert(document.cookie)",
      "data:text/html,<script>alert(1)</script>",
      "file:///etc/passwd",
    ];
    for (const runbookUrl of links) {
      const res = await app.request(
        "/api/v1/checks",
        jsonRequest("POST", { kind: "heartbeat", name: "x", runbookUrl }, adminKey),
      );
      expect(res.status, runbookUrl).toBe(400);
      expect(errorBodySchema.parse(await res.json()).error.message, runbookUrl).toContain("runbookUrl");
    }
    const check = await createCheck(app, adminKey, {
      kind: "heartbeat",
      name: "x",
      runbookUrl: "https://wiki.test.example/backups",
    });
    for (const runbookUrl of links) {
      const res = await app.request(
        `/api/v1/checks/${check.id}`,
        jsonRequest("PATCH", { runbookUrl }, adminKey),
      );
      expect(res.status, runbookUrl).toBe(400);
      expect(errorBodySchema.parse(await res.json()).error.message, runbookUrl).toContain("runbookUrl");
    }
  });

  it("creates a heartbeat on a cron schedule in a time zone", async () => {
    const { app, adminKey } = await testApp();
    const check = await createCheck(app, adminKey, {
      kind: "heartbeat",
      name: "db dump",
      schedule: "0 3 * * *",
      tz: "Europe/Tallinn",
      grace: 3600,
    });
    expect(check).toMatchObject({ schedule: "0 3 * * *", tz: "Europe/Tallinn", slug: "db-dump" });
    expect(check.period).toBeUndefined();
  });

  it("refuses a cron expression or time zone that does not parse, naming the field", async () => {
    const { app, adminKey } = await testApp();
    for (const [body, path] of [
      [{ schedule: "every day" }, "body.schedule"],
      [{ schedule: "0 3 * * *", tz: "Mars/Olympus" }, "body.tz"],
    ] as const) {
      const res = await app.request(
        "/api/v1/checks",
        jsonRequest("POST", { kind: "heartbeat", name: "x", ...body }, adminKey),
      );
      expect(res.status).toBe(400);
      const { error } = errorBodySchema.parse(await res.json());
      expect(error.code).toBe("VALIDATION_FAILED");
      expect(error.fields?.[0]?.path).toBe(path);
    }
  });

  it("refuses both a period and a schedule", async () => {
    const { app, adminKey } = await testApp();
    const res = await app.request(
      "/api/v1/checks",
      jsonRequest("POST", { kind: "heartbeat", name: "x", period: 60, schedule: "* * * * *" }, adminKey),
    );
    expect(res.status).toBe(400);
  });

  it("shows status, lastPingAt and nextDueAt after a ping", async () => {
    const { app, adminKey, clock } = await testApp();
    const check = await createCheck(app, adminKey, { kind: "heartbeat", name: "x", period: 600, grace: 60 });
    await app.request(`/ping/${check.id}`);
    const res = await app.request(`/api/v1/checks/${check.id}`, { headers: bearer(adminKey) });
    expect(await res.json()).toMatchObject({
      status: "up",
      lastPingAt: clock.now(),
      nextDueAt: clock.now() + 600_000,
    });
  });

  it("lists, updates, pauses, resumes and deletes", async () => {
    const { app, adminKey } = await testApp();
    const check = await createCheck(app, adminKey, { kind: "heartbeat", name: "x", period: 600 });
    const list = (await (await app.request("/api/v1/checks", { headers: bearer(adminKey) })).json()) as {
      checks: CheckBody[];
    };
    expect(list.checks.map((c) => c.id)).toEqual([check.id]);

    const patched = await app.request(
      `/api/v1/checks/${check.id}`,
      jsonRequest("PATCH", { name: "renamed", grace: 120, tags: ["prod"] }, adminKey),
    );
    expect(await patched.json()).toMatchObject({ name: "renamed", grace: 120, tags: ["prod"], period: 600 });

    const paused = await app.request(`/api/v1/checks/${check.id}/pause`, {
      method: "POST",
      headers: bearer(adminKey),
    });
    expect(await paused.json()).toMatchObject({ status: "paused", paused: true });
    const resumed = await app.request(`/api/v1/checks/${check.id}/resume`, {
      method: "POST",
      headers: bearer(adminKey),
    });
    expect(await resumed.json()).toMatchObject({ status: "new", paused: false });

    const flips = (await (
      await app.request(`/api/v1/checks/${check.id}/flips`, { headers: bearer(adminKey) })
    ).json()) as { flips: { from: string; to: string }[] };
    expect(flips.flips.map((f) => `${f.from}→${f.to}`)).toEqual(["paused→new", "new→paused"]);

    const del = await app.request(`/api/v1/checks/${check.id}`, {
      method: "DELETE",
      headers: bearer(adminKey),
    });
    expect(del.status).toBe(204);
    const gone = await app.request(`/api/v1/checks/${check.id}`, { headers: bearer(adminKey) });
    expect(gone.status).toBe(404);
  });

  it("refuses an update that breaks the kind's rules, naming the field", async () => {
    const { app, adminKey } = await testApp();
    const check = await createCheck(app, adminKey, { kind: "heartbeat", name: "x", period: 600 });
    const res = await app.request(`/api/v1/checks/${check.id}`, jsonRequest("PATCH", { grace: 5 }, adminKey));
    expect(res.status).toBe(400);
    expect(errorBodySchema.parse(await res.json()).error.fields?.[0]?.path).toBe("body.grace");
    const unknown = await app.request(
      `/api/v1/checks/${check.id}`,
      jsonRequest("PATCH", { kind: "http" }, adminKey),
    );
    expect(unknown.status).toBe(400);
  });

  it("lets a read key read but not write", async () => {
    const { app, db, project, adminKey } = await testApp();
    const read = await createApiKey(db, project.id, ["read"]);
    const check = await createCheck(app, adminKey, { kind: "heartbeat", name: "x" });
    expect((await app.request(`/api/v1/checks/${check.id}`, { headers: bearer(read.key) })).status).toBe(200);
    expect(
      (await app.request(`/api/v1/checks/${check.id}/pings`, { headers: bearer(read.key) })).status,
    ).toBe(200);
    const write = await app.request(
      "/api/v1/checks",
      jsonRequest("POST", { kind: "heartbeat", name: "y" }, read.key),
    );
    expect(write.status).toBe(403);
    const pause = await app.request(`/api/v1/checks/${check.id}/pause`, {
      method: "POST",
      headers: bearer(read.key),
    });
    expect(pause.status).toBe(403);
  });

  it("never shows or touches another project's checks", async () => {
    const { app, db, adminKey } = await testApp();
    const other = await createProject(db);
    const otherKey = await createApiKey(db, other.id, ["admin"]);
    const theirs = await createCheck(app, otherKey.key, { kind: "heartbeat", name: "theirs" });
    const list = await (await app.request("/api/v1/checks", { headers: bearer(adminKey) })).text();
    expect(list).not.toContain(theirs.id);
    for (const [method, path] of [
      ["GET", ""],
      ["GET", "/pings"],
      ["POST", "/pause"],
      ["DELETE", ""],
    ] as const) {
      const res = await app.request(`/api/v1/checks/${theirs.id}${path}`, {
        method,
        headers: bearer(adminKey),
      });
      expect(res.status).toBe(404);
    }
  });

  it("shows incidents, flips and daily uptime of a check", async () => {
    const { app, adminKey, clock } = await testApp();
    const check = await createCheck(app, adminKey, { kind: "heartbeat", name: "x", period: 600 });
    await app.request(`/ping/${check.id}`);
    clock.advance(30 * 60_000);
    await app.request(`/ping/${check.id}/fail`);
    clock.advance(30 * 60_000);
    await app.request(`/ping/${check.id}`);
    const get = async (path: string) =>
      (await app.request(`/api/v1/checks/${check.id}${path}`, { headers: bearer(adminKey) })).json();
    const { incidents } = (await get("/incidents")) as { incidents: { cause: string; resolvedAt: number }[] };
    expect(incidents).toEqual([expect.objectContaining({ cause: "fail ping", resolvedAt: clock.now() })]);
    const { days } = (await get("/uptime?days=2")) as { days: { day: string; uptime: number | null }[] };
    expect(days).toEqual([
      expect.objectContaining({ day: "2026-11-26", uptime: null }),
      expect.objectContaining({ day: "2026-11-27", uptime: 0.5 }),
    ]);
    const bad = await app.request(`/api/v1/checks/${check.id}/uptime?days=0`, { headers: bearer(adminKey) });
    expect(bad.status).toBe(400);
  });

  it("creates an HTTP check with defaults filled in", async () => {
    const { app, adminKey } = await testApp();
    const check = await createCheck(app, adminKey, {
      kind: "http",
      name: "site",
      url: "https://example.com/",
    });
    expect(check).toMatchObject({
      kind: "http",
      method: "GET",
      expectedStatus: ["200-299"],
      followRedirects: true,
      failuresToDown: 2,
      successesToUp: 1,
      period: 60,
      pingUrl: null,
    });
  });
});
