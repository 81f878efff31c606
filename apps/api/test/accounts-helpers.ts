import { createTestDb } from "@vigil/db/testing";
import { issueSetupToken } from "@vigil/engine";
import { manualClock } from "@vigil/engine/testing";
import { smtpMailer } from "@vigil/notify/node";
import { type SmtpSink, startSmtpSink } from "@vigil/notify/testing";
import { createApp, defaultConfig } from "../src/app.ts";
import type { AppConfig, AppDeps } from "../src/deps.ts";

export const ORIGIN = "http://vigil.test";

/**
 * A browser's cookie jar for one person: keeps what Set-Cookie gives and sends it back, and sends the
 * Origin a page of this server would.
 */
export class Browser {
  private cookies = new Map<string, string>();
  constructor(
    private readonly app: ReturnType<typeof createApp>,
    private readonly origin = ORIGIN,
  ) {}

  async request(
    path: string,
    init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
  ) {
    const headers: Record<string, string> = { origin: this.origin, ...init.headers };
    if (this.cookies.size > 0) headers.cookie = this.cookieHeader();
    if (init.body !== undefined) headers["content-type"] = "application/json";
    const res = await this.app.request(`${ORIGIN}${path}`, {
      method: init.method ?? (init.body !== undefined ? "POST" : "GET"),
      headers,
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(";");
      const [name, ...value] = (pair ?? "").split("=");
      if (!name) continue;
      const expired = attrs.some((a) => /max-age=0\b/i.test(a.trim()));
      if (expired || value.join("=") === "") this.cookies.delete(name.trim());
      else this.cookies.set(name.trim(), value.join("="));
    }
    return res;
  }

  async json<T = Record<string, unknown>>(path: string, init: Parameters<Browser["request"]>[1] = {}) {
    const res = await this.request(path, init);
    return { status: res.status, body: (await res.json()) as T, res };
  }

  /** The Cookie header this browser sends. */
  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  hasSession(): boolean {
    return [...this.cookies.keys()].some((k) => k.endsWith("session_token"));
  }

  forget(): void {
    this.cookies.clear();
  }
}

export interface AccountsApp {
  app: ReturnType<typeof createApp>;
  deps: AppDeps;
  clock: ReturnType<typeof manualClock>;
  sink: SmtpSink | null;
  /** the mail sink; throws when the app was made without mail */
  mail(): SmtpSink;
  browser(origin?: string): Browser;
  close(): Promise<void>;
}

/** A fresh app with accounts on: a secret key, a public URL, and (unless `mail: false`) a real SMTP sink. */
export async function accountsApp(
  options: { mail?: boolean; config?: Partial<AppConfig> } = {},
): Promise<AccountsApp> {
  const db = await createTestDb();
  const clock = manualClock(Date.UTC(2026, 10, 27, 12));
  const sink = options.mail === false ? null : await startSmtpSink();
  const deps: AppDeps = {
    db,
    clock,
    config: {
      ...defaultConfig,
      publicUrl: ORIGIN,
      secretKey: "test-secret-key-0123456789abcdef0123456789",
      ...options.config,
    },
    ...(sink ? { mailer: smtpMailer({ url: sink.url, from: "Vigil <vigil@test>" }) } : {}),
  };
  const app = createApp(deps);
  return {
    app,
    deps,
    clock,
    sink,
    mail: () => {
      if (!sink) throw new Error("this app was made without mail");
      return sink;
    },
    browser: (origin) => new Browser(app, origin),
    close: async () => {
      await sink?.close();
    },
  };
}

/** The first link in an email's text that starts with `prefix`. */
export function linkIn(text: string | undefined, prefix: string): string {
  const match = text?.match(new RegExp(`${prefix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\S+`));
  if (!match) throw new Error(`no link starting ${prefix} in: ${text}`);
  return match[0];
}

/** Creates the first owner through the setup link, signed in on the returned browser. */
export async function setUpOwner(env: AccountsApp, email = "owner@example.com") {
  const token = await issueSetupToken(env.deps.db, env.clock);
  if (!token) throw new Error("setup token not issued");
  const owner = env.browser();
  const res = await owner.json<{ organizationId: string; organizations: { projects: { id: string }[] }[] }>(
    "/api/v1/setup",
    {
      body: {
        token,
        name: "Olive Owner",
        email,
        password: "correct horse battery",
        organizationName: "Acme",
      },
    },
  );
  if (res.status !== 201) throw new Error(`setup answered ${res.status}: ${JSON.stringify(res.body)}`);
  return { owner, organizationId: res.body.organizationId, body: res.body };
}

/** Signs a person up (verifying by the mailed link when the app has mail) and signs them in. */
export async function signUpAndIn(env: AccountsApp, email: string, name = email.split("@")[0] ?? "someone") {
  const person = env.browser();
  const password = `${name} has a long password`;
  const up = await person.json("/api/auth/sign-up/email", { body: { name, email, password } });
  if (up.status !== 200) throw new Error(`sign-up answered ${up.status}: ${JSON.stringify(up.body)}`);
  if (env.sink) {
    const mail = await waitForMailTo(env.sink, email, /confirm your email/i);
    await person.request(linkIn(mail.text, `${ORIGIN}/api/auth/verify-email`).replace(ORIGIN, ""));
  }
  const inRes = await person.json("/api/auth/sign-in/email", { body: { email, password } });
  if (inRes.status !== 200)
    throw new Error(`sign-in answered ${inRes.status}: ${JSON.stringify(inRes.body)}`);
  return { person, password };
}

/** The newest message to `to` whose subject matches, once it has arrived. */
export async function waitForMailTo(sink: SmtpSink, to: string, subject: RegExp) {
  for (let count = 1; ; count++) {
    const messages = await sink.waitFor(count);
    const found = [...messages].reverse().find((m) => {
      const addresses = Array.isArray(m.to) ? m.to : m.to ? [m.to] : [];
      return addresses.some((a) => a.text.includes(to)) && subject.test(m.subject ?? "");
    });
    if (found) return found;
  }
}

/** The owner invites `email` with `role`; the invitee signs up, verifies, signs in and accepts. */
export async function inviteMember(
  env: AccountsApp,
  owner: Browser,
  organizationId: string,
  email: string,
  role: "admin" | "member" | "viewer",
) {
  const invited = await owner.json<{ invitation: { id: string }; acceptUrl: string }>(
    `/api/v1/orgs/${organizationId}/invitations`,
    { body: { email, role } },
  );
  if (invited.status !== 201)
    throw new Error(`invite answered ${invited.status}: ${JSON.stringify(invited.body)}`);
  const { person } = await signUpAndIn(env, email);
  const accepted = await person.json("/api/auth/organization/accept-invitation", {
    body: { invitationId: invited.body.invitation.id },
  });
  if (accepted.status !== 200)
    throw new Error(`accept answered ${accepted.status}: ${JSON.stringify(accepted.body)}`);
  return { person, invitation: invited.body };
}
