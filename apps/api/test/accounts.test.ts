import { afterEach, describe, expect, it } from "vitest";
import { type AccountsApp, accountsApp, linkIn, ORIGIN, setUpOwner } from "./accounts-helpers.ts";

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
