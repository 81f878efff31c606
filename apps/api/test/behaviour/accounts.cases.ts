/** People: the first owner from the deploy's setup link, an invitation by mail, roles, sessions. */
import { expect } from "vitest";
import { area } from "./case.ts";
import type { Target } from "./target.ts";

const SITE = "http://localhost";

/** Set-Cookie lines (workers-types declares getSetCookie only on its own Headers). */
const setCookies = (res: Response) => (res.headers as Headers & { getSetCookie(): string[] }).getSetCookie();

/** One person's browser: a cookie jar, and the Origin of Vigil's own pages on every request. */
function browser(t: Target) {
  const cookies = new Map<string, string>();
  return {
    async call(path: string, body?: unknown, method = body === undefined ? "GET" : "POST") {
      const headers: Record<string, string> = { origin: SITE };
      if (cookies.size) headers.cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join("; ");
      if (body !== undefined) headers["content-type"] = "application/json";
      const res = await t.request(path, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        redirect: "manual",
      });
      for (const line of setCookies(res)) {
        const [pair = ""] = line.split(";");
        const at = pair.indexOf("=");
        const value = pair.slice(at + 1);
        if (value === "" || /max-age=0/i.test(line)) cookies.delete(pair.slice(0, at));
        else cookies.set(pair.slice(0, at), value);
      }
      return res;
    },
  };
}

/**
 * The mail to `address` whose subject matches. Account mail may leave after the answer does, so the sink is
 * asked again after each further round trip to the app (I/O, not a sleep), a bounded number of times.
 */
async function mailTo(t: Target, address: string, subject: RegExp) {
  for (let i = 0; i < 50; i++) {
    const found = (await t.outside.mails()).find((m) => m.to.includes(address) && subject.test(m.subject));
    if (found) return found;
    await t.request("/healthz");
  }
  throw new Error(`no mail to ${address} matching ${subject}`);
}

const setupAndInvite = area("accounts", [
  {
    name: "sets up the owner from the deploy's link, invites a viewer by mail, and the viewer's role applies",
    run: async (t) => {
      const token = await t.setupToken();
      const owner = browser(t);
      const setup = await owner.call("/api/v1/setup", {
        token,
        name: "Olive",
        email: t.outside.email("olive"),
        password: "correct horse battery",
        organizationName: "Edge",
      });
      expect(setup.status, await setup.clone().text()).toBe(201);
      const { organizationId, organizations } = (await setup.json()) as {
        organizationId: string;
        organizations: { projects: { id: string }[] }[];
      };
      const projectId = organizations[0]?.projects[0]?.id;
      expect(projectId).toBe(t.projectId);
      expect((await owner.call("/api/v1/me")).status).toBe(200);

      const vic = t.outside.email("vic");
      const invited = await owner.call(`/api/v1/orgs/${organizationId}/invitations`, {
        email: vic,
        role: "viewer",
      });
      expect(invited.status).toBe(201);
      const { invitation } = (await invited.json()) as { invitation: { id: string } };
      const invite = await mailTo(t, vic, /invited you to Edge/);
      expect(invite.text).toContain(`${SITE}/invite/${invitation.id}`);

      const viewer = browser(t);
      const password = "vic's long password";
      expect(
        (await viewer.call("/api/auth/sign-up/email", { name: "Vic", email: vic, password })).status,
      ).toBe(200);
      const confirm = await mailTo(t, vic, /confirm your email/i);
      const link = confirm.text.match(/http:\/\/localhost\/api\/auth\/verify-email\S+/)?.[0] ?? "";
      expect([200, 302]).toContain((await viewer.call(link.slice(SITE.length))).status);
      expect((await viewer.call("/api/auth/sign-in/email", { email: vic, password })).status).toBe(200);
      expect(
        (await viewer.call("/api/auth/organization/accept-invitation", { invitationId: invitation.id }))
          .status,
      ).toBe(200);

      expect((await viewer.call(`/api/v1/projects/${projectId}/hosts`)).status).toBe(200);
      const write = await viewer.call(`/api/v1/projects/${projectId}/checks`, {
        name: "nope",
        kind: "heartbeat",
        period: 60,
        grace: 60,
      });
      expect(write.status).toBe(403);
      expect((await viewer.call("/api/auth/sign-out", {})).status).toBe(200);
      expect((await viewer.call("/api/v1/me")).status).toBe(401);

      // The link worked once.
      const again = await browser(t).call("/api/v1/setup", {
        token,
        name: "Mallory",
        email: t.outside.email("mallory"),
        password: "correct horse battery",
      });
      expect(again.status).toBe(409);
    },
  },

  {
    name: "refuses a cookie-authenticated write from another origin, and answers a signed-out caller 401",
    run: async (t) => {
      const owner = browser(t);
      const setup = await owner.call("/api/v1/setup", {
        token: await t.setupToken(),
        name: "Olive",
        email: t.outside.email("olive"),
        password: "correct horse battery",
        organizationName: "Edge",
      });
      expect(setup.status).toBe(201);
      const cookie = (await owner.call("/api/v1/me")).status;
      expect(cookie).toBe(200);
      const session = setCookies(setup)
        .map((line) => line.split(";")[0])
        .join("; ");
      const forged = await t.request(`/api/v1/projects/${t.projectId}/checks`, {
        method: "POST",
        headers: { cookie: session, origin: "https://evil.example", "content-type": "application/json" },
        body: JSON.stringify({ kind: "heartbeat", name: "forged" }),
      });
      expect(forged.status).toBe(403);
      const mine = await owner.call(`/api/v1/projects/${t.projectId}/checks`, {
        kind: "heartbeat",
        name: "mine",
      });
      expect(mine.status).toBe(201);
      expect((await t.request("/api/v1/me")).status).toBe(401);
    },
  },
]);

export const accountsCases = [setupAndInvite];
