// Accounts inside workerd against sqld: the setup link, an invitation mailed over cloudflare:sockets SMTP,
// sign-up with email verification, sign-in, a role applied, sign-out.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, inject, it } from "vitest";
import worker, { type Env } from "../../src/worker.ts";
import { cronOnlyEnv } from "./bindings.ts";

const SITE = "https://vigil.test";
const workerEnv = (): Env => ({
  ...cronOnlyEnv(),
  LIBSQL_URL: inject("sqldUrl"),
  VIGIL_SECRET_KEY: "workerd-test-secret-0123456789abcdef",
  VIGIL_PUBLIC_URL: SITE,
  VIGIL_SMTP_URL: inject("smtpUrl"),
});

/** One person's browser: a cookie jar, and the Origin of Vigil's own pages on every request. */
function browser() {
  const cookies = new Map<string, string>();
  return {
    async call(path: string, body?: unknown, method = body === undefined ? "GET" : "POST") {
      const headers: Record<string, string> = { origin: SITE };
      if (cookies.size) headers.cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join("; ");
      if (body !== undefined) headers["content-type"] = "application/json";
      const ctx = createExecutionContext();
      const request = new Request(`${SITE}${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        redirect: "manual",
      }) as Request<unknown, IncomingRequestCfProperties>;
      const res = await worker.fetch(request, workerEnv(), ctx);
      await waitOnExecutionContext(ctx);
      for (const line of (res.headers as Headers & { getSetCookie(): string[] }).getSetCookie()) {
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

async function mailsTo(address: string): Promise<{ subject: string; text: string }[]> {
  const log = (await (await fetch(inject("logUrl"))).json()) as {
    mails: { subject: string; text: string; to: { text: string } }[];
  };
  return log.mails.filter((m) => m.to.text.includes(address));
}

/** Waits for a mail by asking the Node-side sink again after each of the Worker's own round trips. */
async function mailTo(address: string, subject: RegExp, poke: () => Promise<unknown>) {
  for (let i = 0; i < 50; i++) {
    const found = (await mailsTo(address)).find((m) => subject.test(m.subject));
    if (found) return found;
    await poke();
  }
  throw new Error(`no mail to ${address} matching ${subject}`);
}

describe("accounts on the Worker", () => {
  it("sets up the owner from the deploy's link, invites a viewer by mail, and the viewer's role applies", async () => {
    const owner = browser();
    const setup = await owner.call("/api/v1/setup", {
      token: inject("setupToken"),
      name: "Olive",
      email: "olive@example.com",
      password: "correct horse battery",
      organizationName: "Edge",
    });
    expect(setup.status).toBe(201);
    const { organizationId, organizations } = (await setup.json()) as {
      organizationId: string;
      organizations: { projects: { id: string }[] }[];
    };
    const projectId = organizations[0]?.projects[0]?.id;
    expect(projectId).toBe(inject("projectId"));
    expect((await owner.call("/api/v1/me")).status).toBe(200);

    const invited = await owner.call(`/api/v1/orgs/${organizationId}/invitations`, {
      email: "vic@example.com",
      role: "viewer",
    });
    expect(invited.status).toBe(201);
    const { invitation } = (await invited.json()) as { invitation: { id: string } };
    const invite = await mailTo("vic@example.com", /invited you to Edge/, () => owner.call("/healthz"));
    expect(invite.text).toContain(`${SITE}/invite/${invitation.id}`);

    const viewer = browser();
    const password = "vic's long password";
    expect(
      (await viewer.call("/api/auth/sign-up/email", { name: "Vic", email: "vic@example.com", password }))
        .status,
    ).toBe(200);
    const confirm = await mailTo("vic@example.com", /confirm your email/i, () => viewer.call("/healthz"));
    const link = confirm.text.match(/https:\/\/vigil\.test\/api\/auth\/verify-email\S+/)?.[0] ?? "";
    expect([200, 302]).toContain((await viewer.call(link.slice(SITE.length))).status);
    expect(
      (await viewer.call("/api/auth/sign-in/email", { email: "vic@example.com", password })).status,
    ).toBe(200);
    expect(
      (await viewer.call("/api/auth/organization/accept-invitation", { invitationId: invitation.id })).status,
    ).toBe(200);

    expect((await viewer.call(`/api/v1/projects/${projectId}/hosts`)).status).toBe(200);
    const write = await viewer.call(`/api/v1/projects/${projectId}/checks`, {
      name: "nope",
      kind: "heartbeat",
      periodSec: 60,
      graceSec: 60,
    });
    expect(write.status).toBe(403);
    expect((await viewer.call("/api/auth/sign-out", {})).status).toBe(200);
    expect((await viewer.call("/api/v1/me")).status).toBe(401);

    // The link worked once.
    const again = await browser().call("/api/v1/setup", {
      token: inject("setupToken"),
      name: "Mallory",
      email: "mallory@example.com",
      password: "correct horse battery",
    });
    expect(again.status).toBe(409);
  });
});
