import type { ProbeBatchV1, ProbeRemoteConfig, StateSnapshot } from "@vigil/contract";
import {
  backupRuns,
  checks,
  type Db,
  hostEvents,
  hostState,
  hosts,
  ingestedBatches,
  logEntries,
  rollupDirty,
  samples,
  series,
} from "@vigil/db";
import { and, eq, isNull, lte, or, sql } from "drizzle-orm";
import type { Clock } from "../clock.ts";
import { effectiveHostConfig, type HostPrincipal } from "../hosts.ts";
import { getProjectSettings } from "../settings.ts";
import { flattenMetrics, type MetricPoint } from "./metrics.ts";
import { type StateChange, stateChanges } from "./state-changes.ts";

export interface IngestResult {
  batchId: string;
  duplicate: boolean;
  stored: Record<string, number>;
  config: ProbeRemoteConfig;
}

const HOUR = 3_600_000;
/** rows per INSERT: well under SQLite's bound-parameter limit for the widest table */
const CHUNK = 200;

function chunks<T>(rows: readonly T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

const seriesKey = (name: string, labels: string) => `${name}\u0000${labels}`;

/** Ids of every series the points need, creating missing ones (idempotent, so outside the transaction). */
async function resolveSeries(
  db: Db,
  host: HostPrincipal,
  points: readonly MetricPoint[],
): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  if (points.length === 0) return ids;
  const load = async () => {
    const rows = await db
      .select({ id: series.id, name: series.name, labels: series.labels })
      .from(series)
      .where(eq(series.hostId, host.hostId));
    for (const r of rows) ids.set(seriesKey(r.name, r.labels), r.id);
  };
  await load();
  const missing = new Map<string, { name: string; labels: string }>();
  for (const p of points) {
    const key = seriesKey(p.name, p.labels);
    if (!ids.has(key)) missing.set(key, { name: p.name, labels: p.labels });
  }
  if (missing.size > 0) {
    for (const part of chunks([...missing.values()])) {
      await db
        .insert(series)
        .values(part.map((m) => ({ projectId: host.projectId, hostId: host.hostId, ...m })))
        .onConflictDoNothing();
    }
    await load();
  }
  return ids;
}

async function alreadyStored(db: Db, hostId: string, batchId: string) {
  return db.query.ingestedBatches.findFirst({
    where: and(eq(ingestedBatches.hostId, hostId), eq(ingestedBatches.batchId, batchId)),
  });
}

/**
 * Stores one probe batch, exactly once.
 * 1. A batch id this host already delivered answers the stored summary and writes nothing.
 * 2. Metric numbers become series points; series rows are created first (harmless if the batch fails).
 * 3. Everything else — the batch marker, samples, rollup marks, logs, backups, state, events and the
 *    host's last-seen — goes in one transaction. The batch marker is its first statement and has a
 *    primary key, so a concurrent duplicate fails the whole transaction instead of storing twice.
 * 4. The caller answers 2xx only after this returns, so an acknowledged batch is durable.
 */
export async function ingestBatch(
  db: Db,
  clock: Clock,
  host: HostPrincipal,
  batch: ProbeBatchV1,
): Promise<IngestResult> {
  const settings = await getProjectSettings(db, host.projectId);
  const config = effectiveHostConfig(settings, host.row.config);
  const previous = await alreadyStored(db, host.hostId, batch.batchId);
  if (previous) return { batchId: batch.batchId, duplicate: true, stored: previous.summary, config };

  const now = clock.now();
  const points = flattenMetrics(batch);
  const seriesIds = await resolveSeries(db, host, points);
  const prevState = batch.state
    ? ((await db.query.hostState.findFirst({ where: eq(hostState.hostId, host.hostId) }))?.snapshot as
        | StateSnapshot
        | undefined)
    : undefined;

  const events: (StateChange & { at: number })[] = [];
  if (batch.state) {
    for (const change of stateChanges(prevState ?? null, batch.state))
      events.push({ ...change, at: batch.state.collectedAt });
  }
  const oldBootId = (host.row.facts as { bootId?: string }).bootId;
  if (batch.facts?.bootId && oldBootId && batch.facts.bootId !== oldBootId) {
    events.push({
      kind: "host.rebooted",
      message: "host rebooted",
      details: { bootId: batch.facts.bootId, bootedAt: batch.facts.bootedAt },
      at: batch.facts.bootedAt ?? now,
    });
  }
  for (const note of batch.notes) {
    if (note.dropped) {
      events.push({
        kind: "probe.dropped",
        message: `probe ${note.collector} left out ${note.dropped}: ${note.message}`,
        details: { collector: note.collector, dropped: note.dropped },
        at: batch.sentAt,
      });
    }
  }

  const summary = {
    samples: points.length,
    logs: batch.logs.length,
    backups: batch.backups.length,
    events: events.length,
  };
  const statements = [];
  statements.push(
    db.insert(ingestedBatches).values({
      hostId: host.hostId,
      batchId: batch.batchId,
      projectId: host.projectId,
      receivedAt: now,
      summary,
    }),
  );

  const rows = points.map((p) => ({
    seriesId: seriesIds.get(seriesKey(p.name, p.labels)) as number,
    ts: p.ts,
    value: p.value,
  }));
  for (const part of chunks(rows, 500))
    statements.push(db.insert(samples).values(part).onConflictDoNothing());

  const latest = new Map<number, { ts: number; value: number }>();
  for (const r of rows) {
    const cur = latest.get(r.seriesId);
    if (!cur || r.ts >= cur.ts) latest.set(r.seriesId, { ts: r.ts, value: r.value });
  }
  for (const [id, p] of latest) {
    statements.push(
      db
        .update(series)
        .set({ lastTs: p.ts, lastValue: p.value })
        .where(and(eq(series.id, id), or(isNull(series.lastTs), lte(series.lastTs, p.ts)))),
    );
  }
  const hours = [...new Set(rows.map((r) => Math.floor(r.ts / HOUR) * HOUR))];
  if (hours.length) {
    statements.push(
      db
        .insert(rollupDirty)
        .values(hours.map((hour) => ({ hostId: host.hostId, hour })))
        .onConflictDoNothing(),
    );
  }

  for (const part of chunks(batch.logs)) {
    statements.push(
      db.insert(logEntries).values(
        part.map((l) => ({
          projectId: host.projectId,
          hostId: host.hostId,
          ts: l.ts,
          priority: l.priority,
          unit: l.unit ?? null,
          identifier: l.identifier ?? null,
          message: l.message,
          pid: l.pid ?? null,
          bootId: l.bootId ?? null,
          fields: l.fields ?? null,
        })),
      ),
    );
  }
  if (batch.backups.length) {
    statements.push(
      db.insert(backupRuns).values(
        batch.backups.map((b) => ({
          projectId: host.projectId,
          hostId: host.hostId,
          name: b.name,
          tool: b.tool,
          status: b.status,
          startedAt: b.startedAt,
          endedAt: b.endedAt,
          exitCode: b.exitCode ?? null,
          snapshotId: b.snapshotId ?? null,
          filesNew: b.filesNew ?? null,
          filesChanged: b.filesChanged ?? null,
          filesUnmodified: b.filesUnmodified ?? null,
          bytesAdded: b.bytesAdded ?? null,
          bytesProcessed: b.bytesProcessed ?? null,
          error: b.error ?? null,
        })),
      ),
    );
  }
  if (batch.state && (!prevState || prevState.collectedAt <= batch.state.collectedAt)) {
    const snapshot = { ...batch.state, notes: batch.notes };
    statements.push(
      db
        .insert(hostState)
        .values({
          hostId: host.hostId,
          projectId: host.projectId,
          collectedAt: batch.state.collectedAt,
          snapshot,
        })
        .onConflictDoUpdate({
          target: hostState.hostId,
          set: { collectedAt: batch.state.collectedAt, snapshot },
        }),
    );
  }
  if (events.length) {
    statements.push(
      db
        .insert(hostEvents)
        .values(events.map((e) => ({ projectId: host.projectId, hostId: host.hostId, ...e }))),
    );
  }
  statements.push(
    db
      .update(hosts)
      .set({
        lastSeenAt: sql`max(coalesce(${hosts.lastSeenAt}, 0), ${now})`,
        ...(batch.facts ? { facts: { ...host.row.facts, ...batch.facts } } : {}),
        ...(batch.facts?.machineId ? { machineId: batch.facts.machineId } : {}),
      })
      .where(and(eq(hosts.projectId, host.projectId), eq(hosts.id, host.hostId))),
  );
  // A host check that is down becomes due now, so the next tick sees the host is back (see noteHostSeen).
  statements.push(
    db
      .update(checks)
      .set({ alertAfter: now })
      .where(
        and(eq(checks.projectId, host.projectId), eq(checks.hostId, host.hostId), eq(checks.status, "down")),
      ),
  );

  try {
    await db.batch(statements as [(typeof statements)[number], ...(typeof statements)[number][]]);
  } catch (err) {
    // The same batch committed meanwhile (a retry racing the original): answer as a repeat.
    const raced = await alreadyStored(db, host.hostId, batch.batchId);
    if (raced) return { batchId: batch.batchId, duplicate: true, stored: raced.summary, config };
    throw err;
  }
  return { batchId: batch.batchId, duplicate: false, stored: summary, config };
}
