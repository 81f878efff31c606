/**
 * Accounts through better-auth: email + password, email verification, password reset, sessions (HttpOnly
 * SameSite=Lax cookies, Secure over HTTPS), change of email and password, "sign out everywhere", TOTP as
 * a second factor, and organisations with members, roles and invitations. Nothing here hashes a password
 * or mints a session: better-auth does (scrypt, signed cookies); this file configures it for Vigil:
 * - mail goes through the same mailer as alerts; without one, verification is not required (it could never
 *   arrive) and invitation links are shown to the inviter instead;
 * - sign-up follows the operator's mode: open, invite (only emails with a pending invitation), closed;
 * - abuse limits per address (better-auth's limiter over Vigil's shared counter table) and per account;
 * - the audit log records sign-ins, failures and every membership change, with the actor.
 */
import {
  account,
  type Db,
  invitation,
  member,
  organization as organizationTable,
  session,
  twoFactor as twoFactorTable,
  user,
  verification,
} from "@vigil/db";
import { betterAuth } from "better-auth";
import { drizzleAdapter } from "better-auth/adapters/drizzle";
import { APIError, createAuthMiddleware, getSessionFromCtx } from "better-auth/api";
import { organization, twoFactor } from "better-auth/plugins";
import { and, eq, gt } from "drizzle-orm";
import type { Clock } from "../clock.ts";
import { type AuditEntry, recordAudit } from "./audit.ts";
import { createPersonalOrganization } from "./organizations.ts";
import { consumeRate, type RateRule } from "./rate-limit.ts";
import { organizationAccess } from "./roles.ts";

export type SignUpMode = "open" | "invite" | "closed";

/** An email on its way out; structurally the alert mailer's message (packages/notify). */
export interface AccountMail {
  to: string[];
  subject: string;
  text: string;
  html: string;
  messageId: string;
}
export interface AccountMailer {
  send(message: AccountMail, signal: AbortSignal): Promise<void>;
}

export interface AuthSettings {
  db: Db;
  clock: Clock;
  /** the origin people reach Vigil at; links in emails point here and cookie writes must come from it */
  baseUrl: string;
  /** signs cookies and seals TOTP secrets; derived from VIGIL_SECRET_KEY */
  secret: string;
  signUpMode: SignUpMode;
  mailer?: AccountMailer;
  /** other origins allowed to call with cookies (a dashboard served elsewhere in development) */
  trustedOrigins?: string[];
}

/** The request header the app sets to the caller's address (never a header the client controls). */
export const CLIENT_IP_HEADER = "x-vigil-client-ip";

/** How long an invitation link works. */
export const INVITATION_TTL_SEC = 7 * 86_400;

/**
 * Per-address limits for the doors people knock on: better-auth applies these to each address (and the
 * default to every other auth path). The per-account limits below apply on top, whatever the address.
 */
export const AUTH_RATE_LIMITS = {
  default: { window: 60, max: 120 },
  "/sign-in/email": { window: 60, max: 10 },
  "/sign-up/email": { window: 3600, max: 10 },
  "/request-password-reset": { window: 3600, max: 10 },
  "/send-verification-email": { window: 3600, max: 10 },
  "/organization/invite-member": { window: 3600, max: 60 },
  "/two-factor/verify-totp": { window: 60, max: 10 },
  "/two-factor/verify-backup-code": { window: 60, max: 10 },
} satisfies Record<string, RateRule>;

/** Per-account limits: keyed by the email (or the inviter), so rotating addresses does not help. */
const ACCOUNT_RATE_LIMITS: Record<string, RateRule> = {
  "/sign-in/email": { window: 900, max: 20 },
  "/sign-up/email": { window: 3600, max: 5 },
  "/request-password-reset": { window: 3600, max: 5 },
  "/send-verification-email": { window: 3600, max: 5 },
  "/organization/invite-member": { window: 86_400, max: 100 },
};

function message(subject: string, lines: string[], link: { url: string; label: string }): AccountMail {
  const escapeHtml = (s: string) =>
    s.replace(/[&<>"]/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[ch] ?? ch);
  return {
    to: [],
    subject,
    text: `${lines.join("\n\n")}\n\n${link.label}: ${link.url}\n`,
    html: `${lines.map((l) => `<p>${escapeHtml(l)}</p>`).join("")}<p><a href="${escapeHtml(link.url)}">${escapeHtml(link.label)}</a></p>`,
    messageId: `<${crypto.randomUUID()}@vigil>`,
  };
}

async function sendTo(mailer: AccountMailer | undefined, to: string, mail: AccountMail): Promise<void> {
  if (!mailer) return;
  await mailer.send({ ...mail, to: [to] }, AbortSignal.timeout(15_000));
}

function clientOrigin(request: Request | undefined | null) {
  return {
    ip: request?.headers.get(CLIENT_IP_HEADER) ?? null,
    userAgent: request?.headers.get("user-agent") ?? null,
  };
}

function emailOf(body: unknown): string | null {
  const email = (body as { email?: unknown } | undefined)?.email;
  return typeof email === "string" ? email.trim().toLowerCase() : null;
}

async function hasPendingInvitation(db: Db, email: string, now: number): Promise<boolean> {
  const row = await db.query.invitation.findFirst({
    where: and(
      eq(invitation.email, email),
      eq(invitation.status, "pending"),
      gt(invitation.expiresAt, new Date(now)),
    ),
  });
  return !!row;
}

/** Successful auth calls worth a line in the audit log, by path. */
const AUDITED_PATHS: Record<string, string> = {
  "/change-password": "account.password_change",
  "/reset-password": "account.password_reset",
  "/change-email": "account.email_change_requested",
  "/verify-email": "account.email_verified",
  "/revoke-sessions": "session.revoke_all",
  "/revoke-other-sessions": "session.revoke_others",
  "/sign-out": "session.sign_out",
  "/two-factor/enable": "account.two_factor_enable",
  "/two-factor/disable": "account.two_factor_disable",
  "/organization/create": "organization.create",
  "/organization/update": "organization.update",
  "/organization/invite-member": "invitation.create",
  "/organization/cancel-invitation": "invitation.cancel",
  "/organization/accept-invitation": "invitation.accept",
  "/organization/reject-invitation": "invitation.reject",
  "/organization/remove-member": "member.remove",
  "/organization/update-member-role": "member.role_change",
  "/organization/leave": "member.leave",
};

/** The organisation an organisation call was about: in its body, or in what it answered. */
function organizationIdOf(body: unknown, returned: unknown): string | null {
  for (const source of [body, returned, (returned as { member?: unknown } | undefined)?.member]) {
    const value = (source as { organizationId?: unknown } | undefined)?.organizationId;
    if (typeof value === "string") return value;
  }
  const id = (returned as { id?: unknown; slug?: unknown } | undefined)?.id;
  return typeof id === "string" && (returned as { slug?: unknown }).slug !== undefined ? id : null;
}

/** What a call changed, without secrets: ids, roles and emails only. */
function auditDetail(body: unknown): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  for (const key of ["memberId", "memberIdOrEmail", "role", "email", "invitationId", "newEmail", "name"]) {
    const value = (body as Record<string, unknown> | undefined)?.[key];
    if (typeof value === "string") picked[key] = value;
  }
  return picked;
}

export function createAuth(settings: AuthSettings) {
  const { db, clock, mailer, signUpMode } = settings;
  const audit = (entry: AuditEntry) => recordAudit(db, clock, entry);

  return betterAuth({
    appName: "Vigil",
    baseURL: settings.baseUrl,
    basePath: "/api/auth",
    secret: settings.secret,
    trustedOrigins: settings.trustedOrigins ?? [],
    database: drizzleAdapter(db, {
      provider: "sqlite",
      schema: {
        user,
        session,
        account,
        verification,
        organization: organizationTable,
        member,
        invitation,
        twoFactor: twoFactorTable,
      },
    }),
    emailAndPassword: {
      enabled: true,
      disableSignUp: signUpMode === "closed",
      // A confirmation email could never arrive without a mailer; the operator vouches for people instead.
      requireEmailVerification: !!mailer,
      // Sign-up never signs in, so its answer is the same whether or not the email already has an account.
      autoSignIn: false,
      minPasswordLength: 10,
      maxPasswordLength: 128,
      revokeSessionsOnPasswordReset: true,
      resetPasswordTokenExpiresIn: 3600,
      sendResetPassword: async ({ user: u, url }) =>
        sendTo(
          mailer,
          u.email,
          message(
            "Reset your Vigil password",
            [
              "Someone asked to reset the password of your Vigil account.",
              "The link works for one hour, once. If it was not you, ignore this email.",
            ],
            { url, label: "Choose a new password" },
          ),
        ),
      onExistingUserSignUp: async ({ user: u }) =>
        sendTo(
          mailer,
          u.email,
          message(
            "Someone tried to sign up with your email",
            [
              "A sign-up for Vigil used your email, which already has an account. If it was you, sign in or reset your password.",
            ],
            { url: `${settings.baseUrl}/`, label: "Sign in" },
          ),
        ),
    },
    emailVerification: {
      sendOnSignUp: !!mailer,
      sendOnSignIn: !!mailer,
      expiresIn: 86_400,
      sendVerificationEmail: async ({ user: u, url }) =>
        sendTo(
          mailer,
          u.email,
          message(
            "Confirm your email for Vigil",
            ["Confirm this address to finish setting up your Vigil account."],
            {
              url,
              label: "Confirm email",
            },
          ),
        ),
    },
    user: {
      changeEmail: {
        enabled: true,
        // Without a mailer the new address cannot be confirmed; the change then needs no confirmation.
        updateEmailWithoutVerification: !mailer,
      },
    },
    session: { expiresIn: 14 * 86_400, updateAge: 86_400 },
    rateLimit: {
      enabled: true,
      window: AUTH_RATE_LIMITS.default.window,
      max: AUTH_RATE_LIMITS.default.max,
      customRules: AUTH_RATE_LIMITS,
      customStorage: {
        consume: (key, rule) => consumeRate(db, clock.now(), `auth:${key}`, rule),
      },
    },
    advanced: {
      ipAddress: { ipAddressHeaders: [CLIENT_IP_HEADER] },
      database: { generateId: () => crypto.randomUUID() },
    },
    databaseHooks: {
      user: {
        create: {
          // Open sign-up gives everyone an organisation of their own; an invited person joins theirs instead.
          // (Only for sign-up itself: the setup link and tests create people without an endpoint context.)
          after: async (created, ctx) => {
            if (signUpMode !== "open" || !ctx) return;
            if (await hasPendingInvitation(db, created.email.toLowerCase(), clock.now())) return;
            await createPersonalOrganization(db, clock, {
              id: created.id,
              name: created.name,
              email: created.email,
            });
          },
        },
      },
      session: {
        create: {
          after: async (created, ctx) => {
            const row = await db.query.user.findFirst({ where: eq(user.id, created.userId) });
            await audit({
              action: "session.sign_in",
              actor: { type: "user", id: created.userId, label: row?.email ?? null },
              origin: {
                ip: created.ipAddress ?? null,
                userAgent: ctx?.request?.headers.get("user-agent") ?? null,
              },
            });
          },
        },
      },
    },
    hooks: {
      before: createAuthMiddleware(async (ctx) => {
        const rule = ACCOUNT_RATE_LIMITS[ctx.path];
        const email = emailOf(ctx.body);
        const subject = ctx.path === "/organization/invite-member" ? ctx.context.session?.user.id : email;
        if (rule && subject) {
          const verdict = await consumeRate(db, clock.now(), `account:${ctx.path}:${subject}`, rule);
          if (!verdict.allowed) {
            throw new APIError(
              "TOO_MANY_REQUESTS",
              { message: "too many attempts for this account; try again later", code: "RATE_LIMITED" },
              { "Retry-After": String(verdict.retryAfter) },
            );
          }
        }
        // Invite-only sign-up: refused the same way whether or not the email has an account already.
        if (ctx.path === "/sign-up/email" && signUpMode === "invite") {
          if (!email || !(await hasPendingInvitation(db, email, clock.now()))) {
            throw new APIError("FORBIDDEN", {
              message:
                "sign-up is by invitation only: ask an admin of your organisation to invite this email",
              code: "SIGN_UP_INVITE_ONLY",
            });
          }
        }
      }),
      after: createAuthMiddleware(async (ctx) => {
        const returned = ctx.context.returned;
        // Refusals arrive as thrown APIErrors or, from some endpoints, as plain error responses.
        const failed = returned instanceof APIError || (returned instanceof Response && !returned.ok);
        const origin = clientOrigin(ctx.request);
        if (ctx.path === "/sign-in/email" && failed) {
          const email = emailOf(ctx.body);
          const known = email ? await db.query.user.findFirst({ where: eq(user.email, email) }) : undefined;
          await audit({
            action: "session.sign_in_failed",
            actor: { type: "user", id: known?.id ?? null, label: email },
            detail: { reason: (returned as APIError).body?.code ?? "failed" },
            origin,
          });
          return;
        }
        const action = AUDITED_PATHS[ctx.path];
        if (!action || failed) return;
        const actor =
          ctx.context.session?.user ??
          ctx.context.newSession?.user ??
          (await getSessionFromCtx(ctx).catch(() => null))?.user;
        // The organisation the call names, only when it exists: a request may name any string, and the
        // audit row must not fail (and fail the request) on its foreign key.
        const named = ctx.path.startsWith("/organization/") ? organizationIdOf(ctx.body, returned) : null;
        const organizationId = named
          ? ((await db.query.organization.findFirst({ where: eq(organizationTable.id, named) }))?.id ?? null)
          : null;
        await audit({
          action,
          actor: { type: "user", id: actor?.id ?? null, label: actor?.email ?? emailOf(ctx.body) },
          organizationId,
          detail: auditDetail(ctx.body),
          origin,
        });
      }),
    },
    plugins: [
      organization({
        ...organizationAccess,
        creatorRole: "owner",
        invitationExpiresIn: INVITATION_TTL_SEC,
        cancelPendingInvitationsOnReInvite: true,
        requireEmailVerificationOnInvitation: !!mailer,
        // Deleting an organisation takes its projects along in bounded steps: Vigil's own route does it.
        disableOrganizationDeletion: true,
        allowUserToCreateOrganization: signUpMode === "open" ? true : async (u) => isAdminSomewhere(db, u.id),
        sendInvitationEmail: async ({ email, organization: org, inviter, id }) =>
          sendTo(
            mailer,
            email,
            message(
              `${inviter.user.name} invited you to ${org.name} on Vigil`,
              [
                `${inviter.user.name} (${inviter.user.email}) invited you to the organisation ${org.name} on Vigil.`,
                "The invitation works for 7 days.",
              ],
              { url: invitationUrl(settings.baseUrl, id), label: "Accept the invitation" },
            ),
          ),
      }),
      twoFactor({ issuer: "Vigil" }),
    ],
  });
}

export type Auth = ReturnType<typeof createAuth>;

/** Where an invitation is accepted: the dashboard's page for it (also shown to the inviter without mail). */
export function invitationUrl(baseUrl: string, invitationId: string): string {
  return `${baseUrl}/invite/${invitationId}`;
}

async function isAdminSomewhere(db: Db, userId: string): Promise<boolean> {
  const rows = await db.query.member.findMany({ where: eq(member.userId, userId) });
  return rows.some((m) => m.role === "owner" || m.role === "admin");
}
