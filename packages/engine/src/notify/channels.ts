/** Notification channels of a project: where alerts go, which transitions, and for which subjects. */
import type { Channel, CreateChannelRequest, UpdateChannelRequest } from "@vigil/contract";
import { type ChannelConfig, type ChannelRow, channels, type Db, sealSecret } from "@vigil/db";
import { and, asc, eq } from "drizzle-orm";
import type { Clock } from "../clock.ts";
import { ConflictError, InvalidInputError, NotFoundError } from "../errors.ts";

function configOf(input: CreateChannelRequest): ChannelConfig {
  switch (input.kind) {
    case "email":
      return { kind: "email", to: input.to };
    case "webhook":
      return { kind: "webhook", url: input.url, headers: input.headers };
    case "slack":
    case "discord":
      return { kind: input.kind, url: input.url };
    case "ntfy":
      return { kind: "ntfy", url: input.url, priority: input.priority };
  }
}

async function sealed(secret: string, serverKey: string | undefined): Promise<string> {
  if (!serverKey) {
    throw new ConflictError("this server has no VIGIL_SECRET_KEY, so it cannot keep a webhook secret");
  }
  return sealSecret(secret, serverKey);
}

export function toChannel(row: ChannelRow): Channel {
  const { kind: _kind, ...settings } = row.config;
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    settings,
    signed: row.secretSealed !== null,
    events: row.events as Channel["events"],
    isDefault: row.isDefault,
    tags: row.tags,
    subjectIds: row.subjectIds,
    reminderSec: row.reminderSec,
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
  serverKey: string | undefined,
): Promise<ChannelRow> {
  const now = clock.now();
  const secret = input.kind === "webhook" && input.secret ? await sealed(input.secret, serverKey) : null;
  const [row] = await db
    .insert(channels)
    .values({
      id: crypto.randomUUID(),
      projectId,
      name: input.name,
      kind: input.kind,
      config: configOf(input),
      secretSealed: secret,
      events: input.events,
      isDefault: input.isDefault,
      tags: input.tags,
      subjectIds: input.subjectIds,
      reminderSec: input.reminderSec,
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
  serverKey: string | undefined,
): Promise<ChannelRow> {
  const row = await findChannel(db, projectId, channelId);
  const { to, url, headers, priority, secret, ...common } = input;
  const fits: Record<string, readonly string[]> = {
    to: ["email"],
    url: ["webhook", "slack", "discord", "ntfy"],
    headers: ["webhook"],
    secret: ["webhook"],
    priority: ["ntfy"],
  };
  for (const [field, kinds] of Object.entries(fits)) {
    if ((input as Record<string, unknown>)[field] !== undefined && !kinds.includes(row.kind)) {
      throw new InvalidInputError(field, `does not apply to a ${row.kind} channel`);
    }
  }
  const config = { ...row.config } as Record<string, unknown>;
  if (to !== undefined) config.to = to;
  if (url !== undefined) config.url = url;
  if (headers !== undefined) config.headers = headers;
  if (priority !== undefined) config.priority = priority;
  let secretSealed = row.secretSealed;
  if (secret !== undefined) {
    secretSealed = secret === null ? null : await sealed(secret, serverKey);
  }
  const [updated] = await db
    .update(channels)
    .set({ ...common, config: config as ChannelConfig, secretSealed, updatedAt: clock.now() })
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
