/**
 * Routes the dashboard's configuration screens read: every check's daily uptime in one answer (the list's
 * 90-day bars), a cron expression read back in words with its next runs (the heartbeat form), and the
 * invitations waiting for the signed-in person (settings).
 */
import { errorBodySchema, pendingInvitationSchema, projectUptimeSchema } from "@vigil/contract";
import { invitation } from "@vigil/db";
import { createApiKey, createProject } from "@vigil/db/testing";
import { describe, expect, it } from "vitest";
import { accountsApp, inviteMember, setUpOwner, signUpAndIn } from "./accounts-helpers.ts";
import { bearer, jsonRequest, testApp } from "./helpers.ts";

type App = Awaited<ReturnType<typeof testApp>>["app"];

async function createCheck(app: App, key: string, body: unknown): Promise<{ id: string }> {
  const res = await app.request("/api/v1/checks", jsonRequest("POST", body, key));
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string };
}

describe("the project's uptime in one answer", () => {
  it("gives every check of the project its days, oldest first, the same as each check's own uptime", async () => {
    const { app, adminKey, clock } = await testApp();
    const beat = await createCheck(app, adminKey, { kind: "heartbeat", name: "beat", period: 600 });
    const quiet = await createCheck(app, adminKey, { kind: "heartbeat", name: "quiet", period: 600 });
    await app.request(`/ping/${beat.id}`);
    clock.advance(30 * 60_000);
    await app.request(`/ping/${beat.id}/fail`);
    clock.advance(30 * 60_000);
    await app.request(`/ping/${beat.id}`);

    const res = await app.request("/api/v1/checks/uptime?days=2", { headers: bearer(adminKey) });
    expect(res.status).toBe(200);
    const { checks } = projectUptimeSchema.parse(await res.json());
    const days = new Map(checks.map((c) => [c.checkId, c.days]));
    expect([...days.keys()].sort()).toEqual([beat.id, quiet.id].sort());
    const own = await app.request(`/api/v1/checks/${beat.id}/uptime?days=2`, { headers: bearer(adminKey) });
    expect(days.get(beat.id)).toEqual(((await own.json()) as { days: unknown }).days);
    expect(days.get(beat.id)?.map((d) => [d.day, d.uptime])).toEqual([
      ["2026-11-26", null],
      ["2026-11-27", 0.5],
    ]);
    expect(days.get(quiet.id)?.every((d) => d.uptime === null)).toBe(true);
  });

  it("shows 90 days by default and nothing of another project's checks", async () => {
    const { app, adminKey, db } = await testApp();
    const mine = await createCheck(app, adminKey, { kind: "heartbeat", name: "mine" });
    const other = await createApiKey(db, (await createProject(db)).id, ["admin"]);
    const theirs = await createCheck(app, other.key, { kind: "heartbeat", name: "theirs" });
    const res = await app.request("/api/v1/checks/uptime", { headers: bearer(adminKey) });
    const body = await res.text();
    expect(body).not.toContain(theirs.id);
    const { checks } = projectUptimeSchema.parse(JSON.parse(body));
    expect(checks).toHaveLength(1);
    expect(checks[0]?.checkId).toBe(mine.id);
    expect(checks[0]?.days).toHaveLength(90);
  });

  it("refuses a number of days out of range with a 400 naming the field", async () => {
    const { app, adminKey } = await testApp();
    const res = await app.request("/api/v1/checks/uptime?days=401", { headers: bearer(adminKey) });
    expect(res.status).toBe(400);
    expect(errorBodySchema.parse(await res.json()).error.message).toContain("days");
  });
});

describe("reading a cron schedule back", () => {
  const preview = async (app: App, key: string, query: string) => {
    const res = await app.request(`/api/v1/checks/schedule-preview?${query}`, { headers: bearer(key) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it("says a weekday schedule in words and lists its next runs in the schedule's time zone", async () => {
    const { app, adminKey } = await testApp();
    // The test clock stands at Friday 2026-11-27 12:00 UTC, 14:00 in Tallinn.
    const { status, body } = await preview(
      app,
      adminKey,
      `schedule=${encodeURIComponent("30 3 * * 1-5")}&tz=Europe/Tallinn&count=3`,
    );
    expect(status).toBe(200);
    expect(body).toEqual({
      schedule: "30 3 * * 1-5",
      tz: "Europe/Tallinn",
      description: "at 03:30, on Monday to Friday",
      nextRuns: [Date.UTC(2026, 10, 30, 1, 30), Date.UTC(2026, 11, 1, 1, 30), Date.UTC(2026, 11, 2, 1, 30)],
    });
  });

  it.each([
    ["* * * * *", "every minute, every day"],
    ["*/15 * * * *", "every 15 minutes, every day"],
    ["5 * * * *", "at minute 5 of every hour, every day"],
    ["0 */6 * * *", "at minute 0 of every 6th hour, every day"],
    ["0 9,17 * * MON-FRI", "at 09:00 and 17:00, on Monday to Friday"],
    ["0 4 1,15 * *", "at 04:00, on days 1 and 15 of the month"],
    ["0 0 1 1 *", "at 00:00, on day 1 of the month in January"],
    ["*/10 9-17 * * 1", "at minute every 10th past hour 9 to 17, on Monday"],
  ])("reads %s as %s", async (schedule, description) => {
    const { app, adminKey } = await testApp();
    const { body } = await preview(app, adminKey, `schedule=${encodeURIComponent(schedule)}`);
    expect(body.description).toBe(description);
    expect(body.nextRuns).toHaveLength(5);
  });

  it("refuses an expression or a time zone a check would refuse, with a 400 naming the field", async () => {
    const { app, adminKey } = await testApp();
    const badCron = await preview(app, adminKey, `schedule=${encodeURIComponent("61 * * * *")}`);
    expect(badCron.status).toBe(400);
    expect(errorBodySchema.parse(badCron.body).error.message).toContain("query.schedule");
    const badZone = await preview(app, adminKey, `schedule=${encodeURIComponent("0 3 * * *")}&tz=Mars/Base`);
    expect(badZone.status).toBe(400);
    expect(errorBodySchema.parse(badZone.body).error.message).toContain("query.tz");
    const missing = await preview(app, adminKey, "");
    expect(missing.status).toBe(400);
    expect(errorBodySchema.parse(missing.body).error.message).toContain("schedule");
  });

  it("needs a key or a session like every project route", async () => {
    const { app } = await testApp();
    const res = await app.request(
      `/api/v1/checks/schedule-preview?schedule=${encodeURIComponent("0 3 * * *")}`,
    );
    expect(res.status).toBe(401);
  });
});

describe("the signed-in person's own invitations", () => {
  it("lists what waits for their address, with the organisation and inviter, until they accept", async () => {
    const env = await accountsApp({ mail: false, config: { signUpMode: "open" } });
    const { owner, organizationId } = await setUpOwner(env);
    const invited = await owner.json<{ invitation: { id: string } }>(
      `/api/v1/orgs/${organizationId}/invitations`,
      { body: { email: "bo@example.com", role: "viewer" } },
    );
    expect(invited.status).toBe(201);
    const { person: bo } = await signUpAndIn(env, "bo@example.com");

    const waiting = await bo.json<{ invitations: unknown[] }>("/api/v1/me/invitations");
    expect(waiting.status).toBe(200);
    expect(waiting.body.invitations.map((i) => pendingInvitationSchema.parse(i))).toEqual([
      {
        id: invited.body.invitation.id,
        organizationId,
        organizationName: "Acme",
        role: "viewer",
        inviterEmail: "owner@example.com",
        expiresAt: expect.any(Number),
      },
    ]);
    // Nobody else sees it: not the inviter, not another person.
    expect((await owner.json<{ invitations: unknown[] }>("/api/v1/me/invitations")).body.invitations).toEqual(
      [],
    );
    const { person: carol } = await signUpAndIn(env, "carol@example.com");
    expect((await carol.json<{ invitations: unknown[] }>("/api/v1/me/invitations")).body.invitations).toEqual(
      [],
    );

    const accepted = await bo.json("/api/auth/organization/accept-invitation", {
      body: { invitationId: invited.body.invitation.id },
    });
    expect(accepted.status).toBe(200);
    expect((await bo.json<{ invitations: unknown[] }>("/api/v1/me/invitations")).body.invitations).toEqual(
      [],
    );
  });

  it("leaves out expired invitations", async () => {
    const env = await accountsApp({ mail: false, config: { signUpMode: "open" } });
    const { owner, organizationId } = await setUpOwner(env);
    await inviteMember(env, owner, organizationId, "ada@example.com", "admin");
    await owner.json(`/api/v1/orgs/${organizationId}/invitations`, {
      body: { email: "late@example.com", role: "member" },
    });
    await env.deps.db.update(invitation).set({ expiresAt: new Date(env.clock.now() - 1) });
    const { person: late } = await signUpAndIn(env, "late@example.com");
    expect((await late.json<{ invitations: unknown[] }>("/api/v1/me/invitations")).body.invitations).toEqual(
      [],
    );
  });

  it("answers 401 in the error shape to someone signed out", async () => {
    const env = await accountsApp({ mail: false });
    const res = await env.browser().json("/api/v1/me/invitations");
    expect(res.status).toBe(401);
    expect(errorBodySchema.parse(res.body).error.code).toBe("UNAUTHORIZED");
  });
});
