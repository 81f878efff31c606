/**
 * The relational schema. Every table hangs off a project (multi-tenant from the first row); every time is
 * integer milliseconds UTC; every secret is stored as a SHA-256 hash next to a visible prefix.
 * drizzle-kit turns this file into append-only SQL under /migrations (`npm run db:generate`).
 */
import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { organization } from "./accounts.ts";
import { ms } from "./columns.ts";

export const projects = sqliteTable("projects", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  slug: text("slug").notNull().unique(),
  /** Public and unguessable: it goes into slug-form ping URLs, so it is not a credential of its own. */
  pingKey: text("ping_key").notNull().unique(),
  /** Tunables (retention, probe defaults) as JSON; absent keys take the defaults in the engine. */
  settings: text("settings", { mode: "json" }).$type<Record<string, unknown>>().notNull().default(sql`'{}'`),
  /** null only for a project made before accounts existed, until the first owner adopts it */
  organizationId: text("organization_id").references(() => organization.id, { onDelete: "cascade" }),
  createdAt: ms("created_at").notNull(),
  /** set when deletion was asked for: the project is gone for every reader while its rows go in steps */
  deletingAt: ms("deleting_at"),
});

/** The column every tenant-owned table starts with: its project, whose deletion takes the row along. */
export const projectRef = () =>
  text("project_id")
    .notNull()
    .references(() => projects.id, { onDelete: "cascade" });

export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    projectId: projectRef(),
    name: text("name").notNull(),
    /** The part of the key before the secret, shown in lists and used to find the row. */
    prefix: text("prefix").notNull().unique(),
    secretHash: text("secret_hash").notNull(),
    /** JSON array of scopes: "admin", "read", "ingest". */
    scopes: text("scopes", { mode: "json" }).$type<string[]>().notNull(),
    createdAt: ms("created_at").notNull(),
    lastUsedAt: ms("last_used_at"),
  },
  (t) => [index("api_keys_project_idx").on(t.projectId)],
);

export const hosts = sqliteTable(
  "hosts",
  {
    id: text("id").primaryKey(),
    projectId: projectRef(),
    name: text("name").notNull(),
    /** /etc/machine-id: a second enrollment of a known machine needs the host token (or forceNew). */
    machineId: text("machine_id"),
    tokenPrefix: text("token_prefix").notNull().unique(),
    tokenHash: text("token_hash").notNull(),
    /** The latest host facts the probe sent (contract `HostFacts`), as JSON. */
    facts: text("facts", { mode: "json" }).$type<Record<string, unknown>>().notNull().default(sql`'{}'`),
    tags: text("tags", { mode: "json" }).$type<string[]>().notNull().default(sql`'[]'`),
    /** Per-host overrides of the project's probe settings (interval, journal filters), as JSON. */
    config: text("config", { mode: "json" }).$type<Record<string, unknown>>().notNull().default(sql`'{}'`),
    /** may be shown on the project's status pages */
    public: integer("public", { mode: "boolean" }).notNull().default(false),
    createdAt: ms("created_at").notNull(),
    lastSeenAt: ms("last_seen_at"),
  },
  (t) => [
    index("hosts_project_idx").on(t.projectId, t.name),
    index("hosts_project_machine_idx").on(t.projectId, t.machineId),
  ],
);

export const enrollmentTokens = sqliteTable(
  "enrollment_tokens",
  {
    id: text("id").primaryKey(),
    projectId: projectRef(),
    name: text("name").notNull(),
    prefix: text("prefix").notNull().unique(),
    secretHash: text("secret_hash").notNull(),
    createdAt: ms("created_at").notNull(),
    /** null: never expires */
    expiresAt: ms("expires_at"),
    revokedAt: ms("revoked_at"),
    lastUsedAt: ms("last_used_at"),
    useCount: integer("use_count").notNull().default(0),
  },
  (t) => [index("enrollment_tokens_project_idx").on(t.projectId)],
);

export type ProjectRow = typeof projects.$inferSelect;
export type ApiKeyRow = typeof apiKeys.$inferSelect;
export type HostRow = typeof hosts.$inferSelect;
export type EnrollmentTokenRow = typeof enrollmentTokens.$inferSelect;

/** A row about one host, deleted with it. */
export const hostRef = () =>
  text("host_id")
    .notNull()
    .references(() => hosts.id, { onDelete: "cascade" });
