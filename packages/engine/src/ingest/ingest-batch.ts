import type { ProbeBatchV1, ProbeRemoteConfig, StateSnapshot } from "@vigil/contract";
import { type Db, hostState, ingestedBatches } from "@vigil/db";
import { and, eq } from "drizzle-orm";
import type { Clock } from "../clock.ts";
import type { EngineState } from "../engine-state.ts";
import { effectiveHostConfig, type HostPrincipal } from "../hosts.ts";
import { flattenMetrics, type MetricPoint } from "./metrics.ts";
import { resolveSeries, type SeriesCaps, type SeriesRefusal, seriesKey } from "./series.ts";
import { type StateChange, stateChanges } from "./state-changes.ts";
import { commitPlan, type WritePlan } from "./write-plan.ts";

export interface IngestResult {
  batchId: string;
  duplicate: boolean;
  stored: Record<string, number>;
  config: ProbeRemoteConfig;
  /** what rule evaluation reads from memory after the commit (empty for a repeat) */
  points: MetricPoint[];
  events: StateChange[];
  /** new custom series left out because a cap was reached (the batch is stored without them) */
  refused: SeriesRefusal[];
}

async function alreadyStored(db: Db, hostId: string, batchId: string) {
  return db.query.ingestedBatches.findFirst({
    where: and(eq(ingestedBatches.hostId, hostId), eq(ingestedBatches.batchId, batchId)),
  });
}

/** A batch turned into rows, with what the caller answers and what rule evaluation reads afterwards. */
export interface PlannedBatch {
  plan: WritePlan;
  result: IngestResult;
}

export interface PlanOptions {
  /** when the batch was accepted (ms): its received-at, and the time of a reboot without a boot time */
  receivedAt: number;
  /**
   * The host's state before this batch, when the caller knows it better than the database does (a group
   * holding two batches of one host plans the second against the first); undefined: read it.
   */
  previousState?: StateSnapshot | null;
  /** caps on new custom series (the server's settings); the contract's defaults when absent */
  seriesCaps?: SeriesCaps;
}

/**
 * The plan step of storing a batch: metric numbers become series points (series rows are created here,
 * idempotently, outside any transaction), state snapshots are compared with the previous one for change
 * events, and everything else becomes the rows of one `WritePlan`. Nothing of the batch is stored yet.
 */
export async function planBatch(
  db: Db,
  host: HostPrincipal,
  batch: ProbeBatchV1,
  state: EngineState,
  options: PlanOptions,
): Promise<PlannedBatch> {
  const config = effectiveHostConfig(host.settings, host.row.config);
  const now = options.receivedAt;
  const allPoints = flattenMetrics(batch);
  const { ids: seriesIds, refused } = await resolveSeries(
    db,
    host,
    allPoints,
    state.series,
    options.seriesCaps,
  );
  // A probe cannot fix a batch, so a refused series is left out and said so (an event, and the answer),
  // rather than refusing the host's own metrics with it.
  const points =
    refused.length === 0 ? allPoints : allPoints.filter((p) => seriesIds.has(seriesKey(p.name, p.labels)));
  const prevState =
    options.previousState !== undefined
      ? (options.previousState ?? undefined)
      : batch.state
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
  if (refused.length > 0) {
    events.push({
      kind: "metrics.refused",
      message: `${refused.length} new custom series refused, e.g. ${refused[0]?.metric}: ${refused[0]?.reason}`,
      details: { refused: refused.slice(0, 20) },
      at: now,
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
    ...(batch.backupChecks.length > 0 ? { backupChecks: batch.backupChecks.length } : {}),
    ...(batch.backupDrills.length > 0 ? { backupDrills: batch.backupDrills.length } : {}),
    events: events.length,
    ...(refused.length > 0 ? { refusedSeries: refused.length } : {}),
  };
  const samples: [number, number, number][] = points.map((p) => [
    seriesIds.get(seriesKey(p.name, p.labels)) as number,
    p.ts,
    p.value,
  ]);
  const plan: WritePlan = {
    projectId: host.projectId,
    hostId: host.hostId,
    batchId: batch.batchId,
    receivedAt: now,
    summary,
    samples,
    logs: batch.logs,
    backups: batch.backups,
    backupChecks: batch.backupChecks,
    backupDrills: batch.backupDrills,
    state:
      batch.state && (!prevState || prevState.collectedAt <= batch.state.collectedAt)
        ? { ...batch.state, notes: batch.notes }
        : undefined,
    events,
    // A probe that stopped running checks leaves `location` out of its facts: it stops being a location.
    facts: batch.facts ? { ...host.row.facts, ...batch.facts, location: batch.facts.location } : undefined,
    machineId: batch.facts?.machineId,
  };

  return {
    plan,
    result: { batchId: batch.batchId, duplicate: false, stored: summary, config, points, events, refused },
  };
}

/**
 * Stores one probe batch, exactly once.
 * 1. `planBatch` turns it into rows (series rows are created first, harmless if the batch fails).
 * 2. Everything else — the batch marker, samples, rollup marks, logs, backups, state, events and the
 *    host's last-seen — goes in one transaction, group-committed with other batches in flight. The batch
 *    marker is its first statement and has a primary key, so a repeated batch id fails the transaction
 *    instead of storing twice; the repeat is then answered with the stored summary. (No read first:
 *    repeats are rare, writes are not.)
 * 3. The caller answers 2xx only after this returns, so an acknowledged batch is durable.
 */
export async function ingestBatch(
  db: Db,
  clock: Clock,
  host: HostPrincipal,
  batch: ProbeBatchV1,
  state: EngineState,
  seriesCaps?: SeriesCaps,
): Promise<IngestResult> {
  const { plan, result } = await planBatch(db, host, batch, state, { receivedAt: clock.now(), seriesCaps });
  try {
    await commitPlan(db, state, plan);
  } catch (err) {
    // The same batch committed before (a retry of a batch whose answer was lost): answer as a repeat.
    const stored = await alreadyStored(db, host.hostId, batch.batchId);
    if (stored) {
      return {
        batchId: batch.batchId,
        duplicate: true,
        stored: stored.summary,
        config: result.config,
        points: [],
        events: [],
        refused: [],
      };
    }
    throw err;
  }
  return result;
}
