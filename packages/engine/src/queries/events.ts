import type { CreateEventRequest, HostEvent } from "@vigil/contract";
import { type Db, hostEvents, hosts } from "@vigil/db";
import { and, desc, eq, gte, isNull, lt, or, type SQL } from "drizzle-orm";
import type { Clock } from "../clock.ts";
import { NotFoundError } from "../errors.ts";

function toEvent(row: typeof hostEvents.$inferSelect): HostEvent {
  return {
    id: row.id,
    hostId: row.hostId,
    at: row.at,
    kind: row.kind,
    message: row.message,
    details: row.details,
  };
}

/**
 * Records an annotation such as a deploy marker. `host` may be a host id or name of this project;
 * without it the marker is project-wide and shows on every host's history and charts.
 */
export async function recordEvent(
  db: Db,
  clock: Clock,
  projectId: string,
  input: CreateEventRequest,
): Promise<HostEvent> {
  let hostId: string | null = null;
  if (input.host) {
    const host = await db.query.hosts.findFirst({
      where: and(eq(hosts.projectId, projectId), or(eq(hosts.id, input.host), eq(hosts.name, input.host))),
    });
    if (!host) throw new NotFoundError(`host "${input.host}"`);
    hostId = host.id;
  }
  const what = [input.service, input.version].filter(Boolean).join(" ");
  const message =
    input.message ??
    (input.kind === "deploy"
      ? `deployed ${what || "a new version"}${input.performer ? ` by ${input.performer}` : ""}`
      : input.kind);
  const details: Record<string, unknown> = {};
  for (const key of ["service", "version", "performer"] as const) if (input[key]) details[key] = input[key];
  const [row] = await db
    .insert(hostEvents)
    .values({ projectId, hostId, at: input.at ?? clock.now(), kind: input.kind, message, details })
    .returning();
  if (!row) throw new Error("event insert returned nothing");
  return toEvent(row);
}

export interface EventFilter {
  hostId?: string;
  /** with a host: also project-wide annotations (deploys without a host) */
  includeProjectWide?: boolean;
  from?: number;
  to?: number;
  limit: number;
}

/** Newest first. */
export async function listEvents(db: Db, projectId: string, filter: EventFilter): Promise<HostEvent[]> {
  const conditions: (SQL | undefined)[] = [eq(hostEvents.projectId, projectId)];
  if (filter.hostId) {
    conditions.push(
      filter.includeProjectWide
        ? or(eq(hostEvents.hostId, filter.hostId), isNull(hostEvents.hostId))
        : eq(hostEvents.hostId, filter.hostId),
    );
  }
  if (filter.from !== undefined) conditions.push(gte(hostEvents.at, filter.from));
  if (filter.to !== undefined) conditions.push(lt(hostEvents.at, filter.to));
  const rows = await db
    .select()
    .from(hostEvents)
    .where(and(...conditions))
    .orderBy(desc(hostEvents.at), desc(hostEvents.id))
    .limit(filter.limit);
  return rows.map(toEvent);
}
