/**
 * People and who they work for. The first seven tables are better-auth's (user, session, account,
 * verification, organization, member, invitation) plus its two-factor table, in the shape its drizzle
 * adapter checks at startup; better-auth writes them, the engine reads them. Their times are integer
 * milliseconds like every other table here (drizzle's `timestamp_ms` mode hands better-auth Dates).
 * Organisations own projects (`projects.organization_id`); the audit log, rate-limit counters and the
 * one-time setup token are Vigil's own.
 */
import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { ms } from "./columns.ts";

const stamp = (name: string) => integer(name, { mode: "timestamp_ms" });
const nowMs = sql`(cast(unixepoch('subsecond') * 1000 as integer))`;

export const user = sqliteTable("user", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  email: text("email").notNull().unique(),
  emailVerified: integer("email_verified", { mode: "boolean" }).default(false).notNull(),
  image: text("image"),
  createdAt: stamp("created_at").default(nowMs).notNull(),
  updatedAt: stamp("updated_at")
    .default(nowMs)
    .$onUpdate(() => new Date())
    .notNull(),
  twoFactorEnabled: integer("two_factor_enabled", { mode: "boolean" }).default(false),
});

export const session = sqliteTable(
  "session",
  {
    id: text("id").primaryKey(),
    expiresAt: stamp("expires_at").notNull(),
    /** better-auth's session secret; the cookie carries it signed */
    token: text("token").notNull().unique(),
    createdAt: stamp("created_at").default(nowMs).notNull(),
    updatedAt: stamp("updated_at")
      .$onUpdate(() => new Date())
      .notNull(),
    ipAddress: text("ip_address"),
    userAgent: text("user_agent"),
    userId: text("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    activeOrganizationId: text("active_organization_id"),
  },
  (t) => [index("session_user_idx").on(t.userId)],
);

export const account = sqliteTable(
  "account",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id").notNull(),
    providerId: text("provider_id").notNull(),
    userId: text("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    accessToken: text("access_token"),
    refreshToken: text("refresh_token"),
    idToken: text("id_token"),
    accessTokenExpiresAt: stamp("access_token_expires_at"),
    refreshTokenExpiresAt: stamp("refresh_token_expires_at"),
    scope: text("scope"),
    /** scrypt hash (better-auth's default KDF), never the password */
    password: text("password"),
    createdAt: stamp("created_at").default(nowMs).notNull(),
    updatedAt: stamp("updated_at")
      .$onUpdate(() => new Date())
      .notNull(),
  },
  (t) => [index("account_user_idx").on(t.userId)],
);

export const verification = sqliteTable(
  "verification",
  {
    id: text("id").primaryKey(),
    identifier: text("identifier").notNull(),
    value: text("value").notNull(),
    expiresAt: stamp("expires_at").notNull(),
    createdAt: stamp("created_at").default(nowMs).notNull(),
    updatedAt: stamp("updated_at")
      .default(nowMs)
      .$onUpdate(() => new Date())
      .notNull(),
  },
  (t) => [index("verification_identifier_idx").on(t.identifier)],
);

export const organization = sqliteTable("organization", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  slug: text("slug").notNull().unique(),
  logo: text("logo"),
  createdAt: stamp("created_at").notNull(),
  metadata: text("metadata"),
});

export const member = sqliteTable(
  "member",
  {
    id: text("id").primaryKey(),
    organizationId: text("organization_id")
      .notNull()
      .references(() => organization.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    /** owner, admin, member or viewer */
    role: text("role").default("member").notNull(),
    createdAt: stamp("created_at").notNull(),
  },
  (t) => [index("member_organization_idx").on(t.organizationId), index("member_user_idx").on(t.userId)],
);

export const invitation = sqliteTable(
  "invitation",
  {
    id: text("id").primaryKey(),
    organizationId: text("organization_id")
      .notNull()
      .references(() => organization.id, { onDelete: "cascade" }),
    email: text("email").notNull(),
    role: text("role"),
    /** pending, accepted, rejected or canceled */
    status: text("status").default("pending").notNull(),
    expiresAt: stamp("expires_at").notNull(),
    createdAt: stamp("created_at").default(nowMs).notNull(),
    inviterId: text("inviter_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
  },
  (t) => [
    index("invitation_organization_idx").on(t.organizationId),
    index("invitation_email_idx").on(t.email),
  ],
);

export const twoFactor = sqliteTable(
  "two_factor",
  {
    id: text("id").primaryKey(),
    /** the TOTP secret, encrypted by better-auth with the auth secret */
    secret: text("secret").notNull(),
    backupCodes: text("backup_codes").notNull(),
    userId: text("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    verified: integer("verified", { mode: "boolean" }).default(true),
    failedVerificationCount: integer("failed_verification_count").default(0),
    lockedUntil: stamp("locked_until"),
  },
  (t) => [index("two_factor_secret_idx").on(t.secret), index("two_factor_user_idx").on(t.userId)],
);

/**
 * Who did what, when, from where. Account events (sign-ins) carry no organisation: an organisation's log
 * shows them for its members. Pruned after the retention the engine sets.
 */
export const auditLog = sqliteTable(
  "audit_log",
  {
    id: text("id").primaryKey(),
    at: ms("at").notNull(),
    organizationId: text("organization_id").references(() => organization.id, { onDelete: "cascade" }),
    /** set when the act concerned one project; the row outlives the project (its id stays readable) */
    projectId: text("project_id"),
    /** user, api_key, system */
    actorType: text("actor_type").notNull(),
    actorId: text("actor_id"),
    /** the email or key name at the time, so the row reads well after the actor is gone */
    actorLabel: text("actor_label"),
    /** e.g. session.sign_in, api_key.create, member.role_change, channel.update */
    action: text("action").notNull(),
    targetType: text("target_type"),
    targetId: text("target_id"),
    detail: text("detail", { mode: "json" }).$type<Record<string, unknown>>().notNull().default(sql`'{}'`),
    ip: text("ip"),
    userAgent: text("user_agent"),
  },
  (t) => [
    index("audit_log_organization_idx").on(t.organizationId, t.at),
    index("audit_log_actor_idx").on(t.actorId, t.at),
    index("audit_log_at_idx").on(t.at),
  ],
);

/** Fixed-window counters for abuse limits, shared by every process and isolate on one database. */
export const rateLimits = sqliteTable(
  "rate_limits",
  {
    key: text("key").primaryKey(),
    windowStart: ms("window_start").notNull(),
    count: integer("count").notNull(),
  },
  (t) => [index("rate_limits_window_idx").on(t.windowStart)],
);

/** The one-time link that creates the first owner; only its hash is stored. */
export const setupTokens = sqliteTable("setup_tokens", {
  id: text("id").primaryKey(),
  prefix: text("prefix").notNull().unique(),
  secretHash: text("secret_hash").notNull(),
  createdAt: ms("created_at").notNull(),
  usedAt: ms("used_at"),
});

export type UserRow = typeof user.$inferSelect;
export type OrganizationRow = typeof organization.$inferSelect;
export type MemberRow = typeof member.$inferSelect;
export type AuditLogRow = typeof auditLog.$inferSelect;
