import {
  type CustomMetricKind,
  type MetricsPushResponse,
  type ProbeBatchV1,
  probeBatchV1Schema,
} from "@vigil/contract";
import { type Db, hosts } from "@vigil/db";
import { and, eq, or } from "drizzle-orm";
import type { Clock } from "../clock.ts";
import type { EngineState } from "../engine-state.ts";
import { NotFoundError } from "../errors.ts";
import { hostPrincipals } from "../hosts.ts";
import { evaluateBatchRules } from "../rules/evaluate.ts";
import { canonicalLabels, type MetricPoint } from "./metrics.ts";
import { ownerKey, resolveSeries, SeriesCapError, type SeriesCaps, seriesKey } from "./series.ts";
import { sampleStatements } from "./write-plan.ts";

/** A host named by id or by name; null when the push names none (the project's own series). */
export async function resolveHostRef(
  db: Db,
  projectId: string,
  ref: string | undefined,
): Promise<string | null> {
  if (ref === undefined) return null;
  const [row] = await db
    .select({ id: hosts.id })
    .from(hosts)
    .where(and(eq(hosts.projectId, projectId), or(eq(hosts.id, ref), eq(hosts.name, ref))))
    .limit(1);
  if (!row) throw new NotFoundError(`host "${ref}"`);
  return row.id;
}

/** One pushed sample, as the route hands it over (from the text format or the JSON form). */
export interface PushedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
  ts?: number;
  kind: CustomMetricKind;
}

/**
 * Stores pushed custom samples: all of them, or none.
 * 1. The host (if named) must be the project's; `job` becomes a label of every sample.
 * 2. NaN and infinite values are counted and skipped (a summary with no observations exposes NaN).
 * 3. New series are counted against the caps; if any would pass one, nothing is stored and the refusal
 *    names the metric (CAP_REACHED), so a script sees at once why its numbers are missing.
 * 4. Samples, newest values and rollup marks are written in one transaction.
 * 5. Pushed to a host, the host's metric rules look at the new values as they would at a probe's batch.
 */
export async function pushCustomMetrics(
  db: Db,
  clock: Clock,
  state: EngineState,
  projectId: string,
  push: { host?: string; job?: string; samples: readonly PushedSample[] },
  caps?: SeriesCaps,
): Promise<MetricsPushResponse> {
  const hostId = await resolveHostRef(db, projectId, push.host);
  const now = clock.now();
  const points: MetricPoint[] = [];
  let skipped = 0;
  for (const s of push.samples) {
    if (!Number.isFinite(s.value)) {
      skipped++;
      continue;
    }
    const labels = push.job === undefined ? s.labels : { ...s.labels, job: push.job };
    points.push({
      name: s.name,
      labels: canonicalLabels(labels),
      ts: s.ts ?? now,
      value: s.value,
      kind: s.kind,
    });
  }
  const owner = { projectId, hostId };
  const { ids, refused, created } = await resolveSeries(db, owner, points, state.series, caps);
  if (refused.length > 0) throw new SeriesCapError(refused);
  const samples = points.map((p): [number, number, number] => [
    ids.get(seriesKey(p.name, p.labels)) as number,
    p.ts,
    p.value,
  ]);
  const statements: Parameters<typeof sampleStatements>[0] = [];
  sampleStatements(statements, [{ rollupKey: ownerKey(owner), samples }]);
  if (statements.length > 0) await db.$client.batch(statements, "write");
  if (hostId !== null) await evaluatePushedRules(db, clock, state, { projectId, hostId }, points, now);
  const distinct = new Set(samples.map((s) => s[0])).size;
  return {
    stored: samples.length,
    series: distinct,
    created,
    skipped,
  };
}

/**
 * The host's rules on pushed points: the same evaluation a probe batch gets, from a batch that carries
 * nothing else. The push is stored already, so a failing evaluation is logged, not answered; the
 * scheduler's re-checks carry on.
 */
async function evaluatePushedRules(
  db: Db,
  clock: Clock,
  state: EngineState,
  owner: { projectId: string; hostId: string },
  points: readonly MetricPoint[],
  now: number,
): Promise<void> {
  const principal = (await hostPrincipals(db, [owner])).get(owner.hostId);
  if (!principal) return;
  // An empty batch (every list defaulted): the rules read the stored points, not the batch.
  const batch: ProbeBatchV1 = probeBatchV1Schema.parse({ v: 1, batchId: `push-${now}`, sentAt: now });
  await evaluateBatchRules(db, clock, state, principal, { batch, points, events: [] }).catch((err) =>
    console.error("rule evaluation after a metrics push failed", err),
  );
}
