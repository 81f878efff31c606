/** Notification channels of a project: where alerts go, which transitions, and for which subjects. */
import {
  type Channel,
  type CreateChannelRequest,
  channelKinds,
  tokenChannelKinds,
  type UpdateChannelRequest,
} from "@vigil/contract";
import { type ChannelConfig, type ChannelRow, channels, type Db, sealSecret } from "@vigil/db";
import { STANDARD_SECRET } from "@vigil/notify";
import { and, asc, eq } from "drizzle-orm";
import { assertTargetAllowed } from "../checks/addresses.ts";
import { type ProbeRunner, refusedTarget } from "../checks/probes.ts";
import type { Clock } from "../clock.ts";
import { ConflictError, InvalidInputError, NotFoundError } from "../errors.ts";
import { keepRedactedHeaders, redactHeaderValues } from "../redact.ts";

/** What this server can do for a channel: decided by its settings, passed in by the app. */
export interface ChannelEnvironment {
  /** seals webhook signing secrets (VIGIL_SECRET_KEY) */
  serverKey?: string | undefined;
  /** whether a mail transport is configured (VIGIL_SMTP_URL or VIGIL_EMAIL_API_URL) */
  mailer: boolean;
  /** VIGIL_ALLOW_PRIVATE_TARGETS */
  allowPrivateTargets: boolean;
  /** resolves receiver names, to see whether they lead to private addresses; absent on Workers */
  resolve?: ProbeRunner["resolve"];
}

/**
 * Why a channel cannot deliver as configured, or null. A private IP literal is refused as input (400)
 * before this; what only shows through DNS (a name for a private address) or through the server's settings
 * (email without a mail transport) is saved, but as failing with the reason, so nobody trusts a dead channel.
 */
async function channelProblem(config: ChannelConfig, env: ChannelEnvironment): Promise<string | null> {
  if (config.kind === "email") {
    return env.mailer
      ? null
      : "no mail transport is configured on this server (VIGIL_SMTP_URL or VIGIL_EMAIL_API_URL)";
  }
  const { hostname } = new URL(config.url);
  const probes = env.resolve ? { resolve: env.resolve } : {};
  // A name without DNS yet is not a problem: receivers are often set up before their records.
  return refusedTarget(hostname, probes, env.allowPrivateTargets, "allow");
}

/**
 * Health columns for a channel whose receiver was (re)set: failing from now when it cannot work. A private
 * IP literal is refused outright (400), as for checks.
 */
async function healthOf(config: ChannelConfig, env: ChannelEnvironment, now: number) {
  if (config.kind !== "email") assertTargetAllowed("body.url", new URL(config.url).hostname, env);
  const problem = await channelProblem(config, env);
  return { failingSince: problem ? now : null, lastError: problem };
}

function configOf(input: CreateChannelRequest): ChannelConfig {
  switch (input.kind) {
    case "email":
      return { kind: "email", to: input.to };
    case "webhook":
      return { kind: "webhook", url: input.url, headers: input.headers, signature: input.signature };
    case "slack":
    case "discord":
      return { kind: input.kind, url: input.url };
    case "ntfy":
      return { kind: "ntfy", url: input.url, priority: input.priority };
    case "telegram":
      return { kind: "telegram", url: input.url, chatId: input.chatId };
    case "teams":
      return { kind: "teams", url: input.url };
    case "pagerduty":
      return { kind: "pagerduty", url: input.url, severity: input.severity };
    case "opsgenie":
      return { kind: "opsgenie", url: input.url, priority: input.priority };
    case "pushover":
      return { kind: "pushover", url: input.url, userKey: input.userKey, priority: input.priority };
    case "gotify":
      return { kind: "gotify", url: input.url, priority: input.priority };
    case "matrix":
      return { kind: "matrix", url: input.url, roomId: input.roomId };
  }
}

const usesToken = (kind: string) => (tokenChannelKinds as readonly string[]).includes(kind);

/** The range `priority` takes for a kind, checked on change (creation checks it per kind in the contract). */
function assertPriorityFits(kind: string, priority: number | string): void {
  const fits: Record<string, (p: number | string) => boolean> = {
    ntfy: (p) => typeof p === "number" && p >= 1 && p <= 5,
    pushover: (p) => typeof p === "number" && p >= -2 && p <= 1,
    gotify: (p) => typeof p === "number" && p >= 0 && p <= 10,
    opsgenie: (p) => typeof p === "string",
  };
  const ranges: Record<string, string> = { ntfy: "1–5", pushover: "−2…1", gotify: "0–10", opsgenie: "P1–P5" };
  if (fits[kind] && !fits[kind](priority)) {
    throw new InvalidInputError("priority", `a ${kind} priority is ${ranges[kind]}`);
  }
}

/** A Standard Webhooks secret must be what its verifiers read: `whsec_` and base64. */
function assertSecretFits(signature: "vigil" | "standard" | undefined, secret: string): void {
  if (signature === "standard" && !STANDARD_SECRET.test(secret)) {
    throw new InvalidInputError(
      "secret",
      "a Standard Webhooks secret is whsec_ followed by the base64 of 24 to 64 random bytes",
    );
  }
}

async function sealed(secret: string, serverKey: string | undefined): Promise<string> {
  if (!serverKey) {
    throw new ConflictError(
      "this server has no VIGIL_SECRET_KEY, so it cannot keep a webhook secret or a token",
    );
  }
  return sealSecret(secret, serverKey);
}

export function toChannel(row: ChannelRow): Channel {
  const { kind: _kind, ...settings } = row.config;
  // Header values are often credentials (Authorization, API keys): names are shown, values never.
  if (row.config.kind === "webhook") {
    (settings as Record<string, unknown>).headers = redactHeaderValues(row.config.headers ?? {});
  }
  // A service token is sealed and never shown; the mask says one is stored.
  if (usesToken(row.kind)) (settings as Record<string, unknown>).token = row.secretSealed ? "********" : null;
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    settings,
    signed: row.kind === "webhook" && row.secretSealed !== null,
    events: row.events as Channel["events"],
    tlsExpiry: row.tlsExpiry,
    isDefault: row.isDefault,
    tags: row.tags,
    subjectIds: row.subjectIds,
    reminderSec: row.reminderSec,
    reminderLimit: row.reminderLimit,
    groupWindowSec: row.groupWindowSec,
    enabled: row.enabled,
    health: row.failingSince === null ? "ok" : "failing",
    failingSince: row.failingSince,
    lastError: row.lastError,
    lastSentAt: row.lastSentAt,
    createdAt: row.createdAt,
  };
}

export async function createChannel(
  db: Db,
  clock: Clock,
  projectId: string,
  input: CreateChannelRequest,
  env: ChannelEnvironment,
): Promise<ChannelRow> {
  const now = clock.now();
  const config = configOf(input);
  const health = await healthOf(config, env, now);
  if (input.kind === "webhook" && input.secret) assertSecretFits(input.signature, input.secret);
  const plain = input.kind === "webhook" ? input.secret : "token" in input ? input.token : undefined;
  const secret = plain ? await sealed(plain, env.serverKey) : null;
  const [row] = await db
    .insert(channels)
    .values({
      id: crypto.randomUUID(),
      projectId,
      name: input.name,
      kind: input.kind,
      config,
      secretSealed: secret,
      ...health,
      events: input.events,
      tlsExpiry: input.tlsExpiry,
      isDefault: input.isDefault,
      tags: input.tags,
      subjectIds: input.subjectIds,
      reminderSec: input.reminderSec,
      reminderLimit: input.reminderLimit,
      groupWindowSec: input.groupWindowSec,
      enabled: input.enabled,
      createdAt: now,
      updatedAt: now,
    })
    .returning();
  if (!row) throw new Error("insert returned no row");
  return row;
}

export async function listChannels(db: Db, projectId: string): Promise<ChannelRow[]> {
  return db.query.channels.findMany({
    where: eq(channels.projectId, projectId),
    orderBy: [asc(channels.createdAt)],
  });
}

export async function findChannel(db: Db, projectId: string, channelId: string): Promise<ChannelRow> {
  const row = await db.query.channels.findFirst({
    where: and(eq(channels.projectId, projectId), eq(channels.id, channelId)),
  });
  if (!row) throw new NotFoundError("channel");
  return row;
}

export async function updateChannel(
  db: Db,
  clock: Clock,
  projectId: string,
  channelId: string,
  input: UpdateChannelRequest,
  env: ChannelEnvironment,
): Promise<ChannelRow> {
  const row = await findChannel(db, projectId, channelId);
  const {
    to,
    url,
    headers,
    priority,
    secret,
    signature,
    token,
    chatId,
    userKey,
    roomId,
    severity,
    ...common
  } = input;
  const fits: Record<string, readonly string[]> = {
    to: ["email"],
    url: channelKinds.filter((k) => k !== "email"),
    headers: ["webhook"],
    secret: ["webhook"],
    signature: ["webhook"],
    priority: ["ntfy", "opsgenie", "pushover", "gotify"],
    token: tokenChannelKinds,
    chatId: ["telegram"],
    userKey: ["pushover"],
    roomId: ["matrix"],
    severity: ["pagerduty"],
  };
  for (const [field, kinds] of Object.entries(fits)) {
    if ((input as Record<string, unknown>)[field] !== undefined && !kinds.includes(row.kind)) {
      throw new InvalidInputError(field, `does not apply to a ${row.kind} channel`);
    }
  }
  const config = { ...row.config } as Record<string, unknown>;
  if (to !== undefined) config.to = to;
  if (url !== undefined) config.url = url;
  if (headers !== undefined) {
    config.headers = keepRedactedHeaders(headers, row.config.kind === "webhook" ? row.config.headers : {});
  }
  if (priority !== undefined) {
    assertPriorityFits(row.kind, priority);
    config.priority = priority;
  }
  for (const [field, value] of Object.entries({ chatId, userKey, roomId, severity })) {
    if (value !== undefined) config[field] = value;
  }
  const format = signature ?? (row.config.kind === "webhook" ? row.config.signature : undefined);
  if (signature !== undefined && signature !== config.signature) {
    // The stored secret was made for the other format: a switch comes with its new secret (or stops signing).
    if (row.secretSealed !== null && secret === undefined) {
      throw new InvalidInputError("secret", "send the secret for the new signature format along with it");
    }
    config.signature = signature;
  }
  if (secret) assertSecretFits(format, secret);
  let secretSealed = row.secretSealed;
  if (secret !== undefined) {
    secretSealed = secret === null ? null : await sealed(secret, env.serverKey);
  }
  if (token !== undefined) secretSealed = await sealed(token, env.serverKey);
  const now = clock.now();
  // A new receiver gets a fresh verdict: failures of the old one say nothing about it.
  const health =
    to !== undefined || url !== undefined ? await healthOf(config as ChannelConfig, env, now) : {};
  const [updated] = await db
    .update(channels)
    .set({ ...common, config: config as ChannelConfig, secretSealed, ...health, updatedAt: now })
    .where(and(eq(channels.projectId, projectId), eq(channels.id, channelId)))
    .returning();
  if (!updated) throw new NotFoundError("channel");
  return updated;
}

export async function deleteChannel(db: Db, projectId: string, channelId: string): Promise<void> {
  const deleted = await db
    .delete(channels)
    .where(and(eq(channels.projectId, projectId), eq(channels.id, channelId)))
    .returning({ id: channels.id });
  if (deleted.length === 0) throw new NotFoundError("channel");
}
