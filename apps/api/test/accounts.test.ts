import { base32 } from "@better-auth/utils/base32";
import { createOTP } from "@better-auth/utils/otp";
import { checks, invitation, projects, rules } from "@vigil/db";
import { purgeDeletedProjects } from "@vigil/engine";
import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import {
  type AccountsApp,
  accountsApp,
  inviteMember,
  linkIn,
  ORIGIN,
  setUpOwner,
  signUpAndIn,
  waitForMailTo,
} from "./accounts-helpers.ts";

let env: AccountsApp;
afterEach(async () => env?.close());

describe("accounts", () => {
  it("signs up, verifies the email from a real mail, signs in, uses the cookie and signs out", async () => {
    env = await accountsApp({ config: { signUpMode: "open" } });
    const alice = env.browser();
    const signUp = await alice.json("/api/auth/sign-up/email", {
      body: { name: "Alice", email: "alice@example.com", password: "a long enough secret" },
    });
    expect(signUp.status).toBe(200);
    expect(alice.hasSession()).toBe(false);

    const refused = await alice.json<{ error: { code: string } }>("/api/auth/sign-in/email", {
      body: { email: "alice@example.com", password: "a long enough secret" },
    });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe("EMAIL_NOT_VERIFIED");

    const [mail] = await env.mail().waitFor(1);
    expect(mail?.subject).toMatch(/confirm your email/i);
    const verify = linkIn(mail?.text, `${ORIGIN}/api/auth/verify-email`);
    const verified = await alice.request(verify.replace(ORIGIN, ""));
    expect([200, 302]).toContain(verified.status);

    const signIn = await alice.json("/api/auth/sign-in/email", {
      body: { email: "alice@example.com", password: "a long enough secret" },
    });
    expect(signIn.status).toBe(200);
    expect(alice.hasSession()).toBe(true);

    const me = await alice.json<{
      user: { email: string };
      organizations: { role: string; projects: unknown[] }[];
    }>("/api/v1/me");
    expect(me.status).toBe(200);
    expect(me.body.user.email).toBe("alice@example.com");
    expect(me.body.organizations).toHaveLength(1);
    expect(me.body.organizations[0]?.role).toBe("owner");
    expect(me.body.organizations[0]?.projects).toHaveLength(1);

    const out = await alice.json("/api/auth/sign-out", { body: {} });
    expect(out.status).toBe(200);
    expect((await alice.json("/api/v1/me")).status).toBe(401);
  });

  it("creates the first owner from the setup link once, who then reaches the default project", async () => {
    env = await accountsApp({ mail: false });
    const { owner, body } = await setUpOwner(env);
    const projectId = body.organizations[0]?.projects[0]?.id;
    expect(projectId).toBeDefined();
    const hosts = await owner.json(`/api/v1/projects/${projectId}/hosts`);
    expect(hosts.status).toBe(200);
  });
});

describe("passwords and sessions", () => {
  it("resets a forgotten password from the mailed link; the old password and old sessions stop working", async () => {
    env = await accountsApp({ config: { signUpMode: "open" } });
    const { person: laptop, password } = await signUpAndIn(env, "rae@example.com");
    const stranger = env.browser();
    const asked = await stranger.json("/api/auth/request-password-reset", {
      body: { email: "rae@example.com", redirectTo: `${ORIGIN}/reset-password` },
    });
    expect(asked.status).toBe(200);
    const mail = await waitForMailTo(env.mail(), "rae@example.com", /reset your vigil password/i);
    const link = linkIn(mail.text, `${ORIGIN}/api/auth/reset-password/`);
    const token = new URL(link).pathname.split("/").at(-1) ?? "";
    const reset = await stranger.json("/api/auth/reset-password", {
      body: { token, newPassword: "a brand new passphrase" },
    });
    expect(reset.status).toBe(200);

    expect((await laptop.json("/api/v1/me")).status).toBe(401);
    const old = await stranger.json("/api/auth/sign-in/email", {
      body: { email: "rae@example.com", password },
    });
    expect(old.status).toBe(401);
    const fresh = await stranger.json("/api/auth/sign-in/email", {
      body: { email: "rae@example.com", password: "a brand new passphrase" },
    });
    expect(fresh.status).toBe(200);
    const again = await stranger.json("/api/auth/reset-password", {
      body: { token, newPassword: "yet another one!" },
    });
    expect(again.status).toBe(400);
  });

  it("answers a reset request for an unknown email exactly like one for a known email, and mails nobody", async () => {
    env = await accountsApp({ config: { signUpMode: "open" } });
    await signUpAndIn(env, "known@example.com");
    const before = env.mail().messages.length;
    const ask = (email: string) =>
      env.browser().json("/api/auth/request-password-reset", { body: { email, redirectTo: `${ORIGIN}/r` } });
    const known = await ask("known@example.com");
    const unknown = await ask("nobody@example.com");
    expect(unknown.status).toBe(known.status);
    expect(unknown.body).toEqual(known.body);
    await env.mail().waitFor(before + 1);
    expect(
      env
        .mail()
        .messages.slice(before)
        .every((m) => m.to && !JSON.stringify(m.to).includes("nobody")),
    ).toBe(true);
  });

  it("answers a sign-up with a taken email like a fresh one, and tells the owner by mail", async () => {
    env = await accountsApp({ config: { signUpMode: "open" } });
    await signUpAndIn(env, "taken@example.com");
    const signUp = (email: string) =>
      env.browser().json<{ user?: { email: string } }>("/api/auth/sign-up/email", {
        body: { name: "X", email, password: "another long password" },
      });
    const taken = await signUp("taken@example.com");
    const fresh = await signUp("fresh@example.com");
    expect(taken.status).toBe(fresh.status);
    expect(Object.keys(taken.body).sort()).toEqual(Object.keys(fresh.body).sort());
    const notice = await waitForMailTo(env.mail(), "taken@example.com", /tried to sign up/i);
    expect(notice.text).toContain("already has an account");
  });

  it("changes the password and signs out everywhere on request", async () => {
    env = await accountsApp({ mail: false, config: { signUpMode: "open" } });
    const { person: laptop, password } = await signUpAndIn(env, "sam@example.com");
    const phone = env.browser();
    await phone.json("/api/auth/sign-in/email", { body: { email: "sam@example.com", password } });
    const changed = await laptop.json("/api/auth/change-password", {
      body: { currentPassword: password, newPassword: "changed and long enough" },
    });
    expect(changed.status).toBe(200);
    expect((await phone.json("/api/v1/me")).status).toBe(200);
    const everywhere = await laptop.json("/api/auth/revoke-sessions", { body: {} });
    expect(everywhere.status).toBe(200);
    expect((await phone.json("/api/v1/me")).status).toBe(401);
    expect((await laptop.json("/api/v1/me")).status).toBe(401);
    const back = await phone.json("/api/auth/sign-in/email", {
      body: { email: "sam@example.com", password: "changed and long enough" },
    });
    expect(back.status).toBe(200);
  });

  it("changes the email: at once without a mailer, after the mailed confirmation with one", async () => {
    env = await accountsApp({ mail: false, config: { signUpMode: "open" } });
    const { person } = await signUpAndIn(env, "old@example.com");
    expect(
      (await person.json("/api/auth/change-email", { body: { newEmail: "new@example.com" } })).status,
    ).toBe(200);
    expect((await person.json<{ user: { email: string } }>("/api/v1/me")).body.user.email).toBe(
      "new@example.com",
    );
    await env.close();

    env = await accountsApp({ config: { signUpMode: "open" } });
    const { person: mailed } = await signUpAndIn(env, "old@example.com");
    expect(
      (await mailed.json("/api/auth/change-email", { body: { newEmail: "new@example.com" } })).status,
    ).toBe(200);
    expect((await mailed.json<{ user: { email: string } }>("/api/v1/me")).body.user.email).toBe(
      "old@example.com",
    );
    const mail = await waitForMailTo(env.mail(), "new@example.com", /confirm your email/i);
    await mailed.request(linkIn(mail.text, `${ORIGIN}/api/auth/verify-email`).replace(ORIGIN, ""));
    expect((await mailed.json<{ user: { email: string } }>("/api/v1/me")).body.user.email).toBe(
      "new@example.com",
    );
  });

  it("sets the session cookie HttpOnly and SameSite=Lax, and Secure when the site is served over HTTPS", async () => {
    env = await accountsApp({
      mail: false,
      config: { signUpMode: "open", publicUrl: "https://vigil.example" },
    });
    const browser = env.browser("https://vigil.example");
    await browser.json("/api/auth/sign-up/email", {
      body: { name: "T", email: "tls@example.com", password: "long enough password" },
    });
    const res = await browser.request("/api/auth/sign-in/email", {
      body: { email: "tls@example.com", password: "long enough password" },
    });
    const cookie = res.headers.getSetCookie().find((c) => c.includes("session_token")) ?? "";
    expect(cookie).toMatch(/^__Secure-/);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/Secure/);
    expect(cookie).toMatch(/SameSite=Lax/i);
  });

  it("asks for a TOTP code after the password once a second factor is on", async () => {
    env = await accountsApp({ mail: false, config: { signUpMode: "open" } });
    const { person, password } = await signUpAndIn(env, "tom@example.com");
    const enabled = await person.json<{ totpURI: string }>("/api/auth/two-factor/enable", {
      body: { password },
    });
    expect(enabled.status).toBe(200);
    const secret = base32.decode(new URL(enabled.body.totpURI).searchParams.get("secret") ?? "");
    const code = () => createOTP(secret).totp();
    const confirmed = await person.json("/api/auth/two-factor/verify-totp", { body: { code: await code() } });
    expect(confirmed.status).toBe(200);

    const fresh = env.browser();
    const first = await fresh.json<{ twoFactorRedirect?: boolean }>("/api/auth/sign-in/email", {
      body: { email: "tom@example.com", password },
    });
    expect(first.body.twoFactorRedirect).toBe(true);
    expect((await fresh.json("/api/v1/me")).status).toBe(401);
    const wrong = await fresh.json("/api/auth/two-factor/verify-totp", { body: { code: "000000" } });
    expect(wrong.status).toBe(401);
    const second = await fresh.json("/api/auth/two-factor/verify-totp", { body: { code: await code() } });
    expect(second.status).toBe(200);
    expect((await fresh.json("/api/v1/me")).status).toBe(200);
  });
});

describe("organisations, roles and invitations", () => {
  it("invites by email; the invitee signs up, accepts, and their role applies", async () => {
    env = await accountsApp();
    const { owner, organizationId, body } = await setUpOwner(env);
    const projectId = body.organizations[0]?.projects[0]?.id ?? "";
    const { person: viewer, invitation } = await inviteMember(
      env,
      owner,
      organizationId,
      "vic@example.com",
      "viewer",
    );
    expect(invitation.acceptUrl).toBe(`${ORIGIN}/invite/${invitation.invitation.id}`);
    const mail = await waitForMailTo(env.mail(), "vic@example.com", /invited you to Acme/);
    expect(mail.text).toContain(invitation.acceptUrl);

    expect((await viewer.json(`/api/v1/projects/${projectId}/checks`)).status).toBe(200);
    const write = await viewer.json<{ error: { code: string } }>(`/api/v1/projects/${projectId}/checks`, {
      body: { name: "nightly", kind: "heartbeat", periodSec: 86400, graceSec: 3600 },
    });
    expect(write.status).toBe(403);
    expect(write.body.error.code).toBe("FORBIDDEN");

    const { person: member } = await inviteMember(env, owner, organizationId, "meg@example.com", "member");
    const created = await member.json(`/api/v1/projects/${projectId}/checks`, {
      body: { name: "nightly", kind: "heartbeat", periodSec: 86400, graceSec: 3600 },
    });
    expect(created.status).toBe(201);
    expect((await member.json(`/api/v1/projects/${projectId}/api-keys`)).status).toBe(403);
    const invite = await member.json(`/api/v1/orgs/${organizationId}/invitations`, {
      body: { email: "x@example.com", role: "viewer" },
    });
    expect(invite.status).toBe(403);
  });

  it("refuses sign-up without an invitation in invite mode, the same way whether or not the email has an account", async () => {
    env = await accountsApp({ mail: false });
    await setUpOwner(env, "owner@example.com");
    const signUp = (email: string) =>
      env.browser().json<{ error: { code: string } }>("/api/auth/sign-up/email", {
        body: { name: "Eve", email, password: "a long password" },
      });
    const existing = await signUp("owner@example.com");
    const stranger = await signUp("eve@example.com");
    expect(existing.status).toBe(403);
    expect(stranger.status).toBe(403);
    expect(existing.body.error.code).toBe("SIGN_UP_INVITE_ONLY");
    expect(stranger.body.error.code).toBe(existing.body.error.code);
  });

  it("refuses every sign-up in closed mode", async () => {
    env = await accountsApp({ mail: false, config: { signUpMode: "closed" } });
    const res = await env.browser().json("/api/auth/sign-up/email", {
      body: { name: "Eve", email: "eve@example.com", password: "a long password" },
    });
    expect(res.status).toBe(400);
  });

  it("hands ownership over, changes roles, removes a member, and lets a member leave", async () => {
    env = await accountsApp({ mail: false });
    const { owner, organizationId } = await setUpOwner(env);
    const { person: ada } = await inviteMember(env, owner, organizationId, "ada@example.com", "admin");
    const { person: bo } = await inviteMember(env, owner, organizationId, "bo@example.com", "viewer");
    type Members = { members: { id: string; email: string; role: string }[] };
    const members = async () =>
      (await owner.json<Members>(`/api/v1/orgs/${organizationId}/members`)).body.members;
    const idOf = async (email: string) => (await members()).find((m) => m.email === email)?.id ?? "";

    const promoted = await ada.json("/api/auth/organization/update-member-role", {
      body: { memberId: await idOf("bo@example.com"), role: "member", organizationId },
    });
    expect(promoted.status).toBe(200);
    expect((await members()).find((m) => m.email === "bo@example.com")?.role).toBe("member");

    const notOwner = await ada.json(`/api/v1/orgs/${organizationId}/transfer-ownership`, {
      body: { memberId: await idOf("ada@example.com") },
    });
    expect(notOwner.status).toBe(403);
    const handed = await owner.json(`/api/v1/orgs/${organizationId}/transfer-ownership`, {
      body: { memberId: await idOf("ada@example.com") },
    });
    expect(handed.status).toBe(200);
    const roles = Object.fromEntries((await members()).map((m) => [m.email, m.role]));
    expect(roles).toEqual({
      "ada@example.com": "owner",
      "owner@example.com": "admin",
      "bo@example.com": "member",
    });

    const left = await bo.json("/api/auth/organization/leave", { body: { organizationId } });
    expect(left.status).toBe(200);
    expect((await bo.json(`/api/v1/orgs/${organizationId}/members`)).status).toBe(404);
    const removed = await ada.json("/api/auth/organization/remove-member", {
      body: { memberIdOrEmail: "owner@example.com", organizationId },
    });
    expect(removed.status).toBe(200);
    expect((await owner.json(`/api/v1/orgs/${organizationId}/members`)).status).toBe(404);
  });

  it("shows an expired invitation as refused", async () => {
    env = await accountsApp({ mail: false });
    const { owner, organizationId } = await setUpOwner(env);
    const invited = await owner.json<{ invitation: { id: string } }>(
      `/api/v1/orgs/${organizationId}/invitations`,
      {
        body: { email: "late@example.com", role: "viewer" },
      },
    );
    const { person } = await signUpAndIn(env, "late@example.com");
    // better-auth reads the clock of the machine; the invitation is made to have run out instead.
    await env.deps.db
      .update(invitation)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(invitation.id, invited.body.invitation.id));
    const accepted = await person.json("/api/auth/organization/accept-invitation", {
      body: { invitationId: invited.body.invitation.id },
    });
    expect(accepted.status).toBe(400);
    expect((await person.json("/api/v1/me")).body).toMatchObject({ organizations: [] });
  });
});

describe("cross-site requests", () => {
  it("refuses a cookie-authenticated write from another origin or without one, and allows reads", async () => {
    env = await accountsApp({ mail: false });
    const { body } = await setUpOwner(env);
    const projectId = body.organizations[0]?.projects[0]?.id ?? "";
    const check = { name: "csrf", kind: "heartbeat", periodSec: 60, graceSec: 60 };
    const { owner } = { owner: env.browser() };
    // Sign in on a browser whose pages send a foreign Origin for its writes.
    const evil = env.browser("https://evil.example");
    const signIn = await evil.json("/api/auth/sign-in/email", {
      body: { email: "owner@example.com", password: "correct horse battery" },
    });
    expect(signIn.status).toBe(403);
    await owner.json("/api/auth/sign-in/email", {
      body: { email: "owner@example.com", password: "correct horse battery" },
    });
    const path = `/api/v1/projects/${projectId}/checks`;
    const foreign = await owner.json(path, { body: check, headers: { origin: "https://evil.example" } });
    expect(foreign.status).toBe(403);
    const missing = await env.app.request(`${ORIGIN}${path}`, {
      method: "POST",
      headers: { cookie: owner.cookieHeader(), "content-type": "application/json" },
      body: JSON.stringify(check),
    });
    expect(missing.status).toBe(403);
    expect((await owner.json(path)).body).toMatchObject({ checks: [] });
    expect((await owner.json(path, { body: check })).status).toBe(201);
  });
});

describe("abuse limits", () => {
  it("answers 429 with Retry-After in the error shape after 10 sign-ins a minute from one address", async () => {
    env = await accountsApp({ mail: false, config: { signUpMode: "open" } });
    const browser = env.browser();
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 11; i++) {
      last = await browser.request("/api/auth/sign-in/email", {
        body: { email: `nobody${i}@example.com`, password: "wrong password!" },
      });
      statuses.push(last.status);
    }
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses[10]).toBe(429);
    expect(Number(last?.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await last?.json()).toMatchObject({ error: { code: "RATE_LIMITED" } });
    env.clock.advance(61_000);
    const later = await browser.request("/api/auth/sign-in/email", {
      body: { email: "nobody@example.com", password: "wrong password!" },
    });
    expect(later.status).toBe(401);
  });

  it("limits sign-ins to one account whatever address they come from", async () => {
    env = await accountsApp({ mail: false, config: { signUpMode: "open" } });
    let last = 0;
    for (let i = 0; i < 21; i++) {
      // Each attempt from another address: only the per-account limit can stop them.
      const res = await env.app.request(`${ORIGIN}/api/auth/sign-in/email`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: ORIGIN, "x-vigil-client-ip": `10.0.0.${i}` },
        body: JSON.stringify({ email: "target@example.com", password: "guess number one" }),
      });
      last = res.status;
    }
    expect(last).toBe(429);
  });
});

describe("the audit log", () => {
  it("records sign-ins, failed sign-ins, key and member changes with who and from where, for admins only", async () => {
    env = await accountsApp({ mail: false });
    const { owner, organizationId, body } = await setUpOwner(env);
    const projectId = body.organizations[0]?.projects[0]?.id ?? "";
    await env.browser().json("/api/auth/sign-in/email", {
      body: { email: "owner@example.com", password: "not the password" },
    });
    const key = await owner.json<{ id: string }>(`/api/v1/projects/${projectId}/api-keys`, {
      body: { name: "ci", scopes: ["read"] },
    });
    env.clock.advance(1000);
    await owner.request(`/api/v1/projects/${projectId}/api-keys/${key.body.id}`, { method: "DELETE" });
    const { person: viewer } = await inviteMember(env, owner, organizationId, "val@example.com", "viewer");

    type Log = {
      entries: { action: string; actor: { label: string | null }; target: { id: string } | null }[];
    };
    const log = await owner.json<Log>(`/api/v1/orgs/${organizationId}/audit-log`);
    expect(log.status).toBe(200);
    const actions = log.body.entries.map((e) => `${e.action} ${e.actor.label}`);
    expect(actions).toEqual(
      expect.arrayContaining([
        "setup.complete owner@example.com",
        "session.sign_in owner@example.com",
        "session.sign_in_failed owner@example.com",
        "api_key.create owner@example.com",
        "api_key.delete owner@example.com",
        "invitation.create owner@example.com",
        "invitation.accept val@example.com",
        "session.sign_in val@example.com",
      ]),
    );
    expect(log.body.entries.find((e) => e.action === "api_key.delete")?.target?.id).toBe(key.body.id);
    expect((await viewer.json(`/api/v1/orgs/${organizationId}/audit-log`)).status).toBe(403);
    const projectLog = await owner.json<Log>(`/api/v1/projects/${projectId}/audit-log`);
    expect(projectLog.body.entries.map((e) => e.action)).toEqual(["api_key.delete", "api_key.create"]);
  });
});

describe("projects", () => {
  it("creates, renames and lists projects of an organisation", async () => {
    env = await accountsApp({ mail: false });
    const { owner, organizationId } = await setUpOwner(env);
    const made = await owner.json<{ id: string }>("/api/v1/projects", {
      body: { organizationId, name: "staging" },
    });
    expect(made.status).toBe(201);
    const renamed = await owner.json(`/api/v1/projects/${made.body.id}`, {
      method: "PATCH",
      body: { name: "staging-eu" },
    });
    expect(renamed.body).toMatchObject({ name: "staging-eu", organizationId });
    const list = await owner.json<{ projects: { name: string }[] }>("/api/v1/projects");
    expect(list.body.projects.map((p) => p.name).sort()).toEqual(["default", "staging-eu"]);
  });

  it("deletes a project with everything in it in bounded steps; its keys stop working at once", async () => {
    env = await accountsApp({ mail: false });
    const { owner, organizationId } = await setUpOwner(env);
    const made = await owner.json<{ id: string }>("/api/v1/projects", {
      body: { organizationId, name: "doomed" },
    });
    const projectId = made.body.id;
    const key = await owner.json<{ key: string }>(`/api/v1/projects/${projectId}/api-keys`, {
      body: { name: "k", scopes: ["admin"] },
    });
    for (let i = 0; i < 7; i++) {
      await owner.json(`/api/v1/projects/${projectId}/checks`, {
        body: { name: `c${i}`, kind: "heartbeat", periodSec: 60, graceSec: 60 },
      });
    }
    const asKey = () =>
      env.app.request(`${ORIGIN}/api/v1/checks`, { headers: { authorization: `Bearer ${key.body.key}` } });
    expect((await asKey()).status).toBe(200);
    expect((await owner.request(`/api/v1/projects/${projectId}`, { method: "DELETE" })).status).toBe(202);
    expect((await asKey()).status).toBe(401);
    expect((await owner.json(`/api/v1/projects/${projectId}/checks`)).status).toBe(404);

    const steps = [];
    for (;;) {
      const step = await purgeDeletedProjects(env.deps.db, { rowsPerStatement: 3, maxStatements: 2 });
      if (!step) break;
      steps.push(step);
    }
    // A key, 7 checks and 12 built-in rules at 3 rows a statement, 2 statements a step: 8 statements.
    expect(steps.length).toBeGreaterThanOrEqual(4);
    expect(steps.every((s) => s.rowsDeleted <= 6)).toBe(true);
    expect(steps.at(-1)?.finished).toBe(true);
    expect(await env.deps.db.query.projects.findFirst({ where: eq(projects.id, projectId) })).toBeUndefined();
    expect(await env.deps.db.query.checks.findMany({ where: eq(checks.projectId, projectId) })).toEqual([]);
    expect(await env.deps.db.query.rules.findMany({ where: eq(rules.projectId, projectId) })).toEqual([]);
  });
});
