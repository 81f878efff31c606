/**
 * Stores many hosts' probe batches in one transaction: what a queue consumer does with a delivery of
 * messages. The route already authenticated each batch and validated it; here they become rows.
 */
import type { ProbeBatchV1, StateSnapshot } from "@vigil/contract";
import { type Db, hostState, ingestedBatches } from "@vigil/db";
import { and, eq, inArray, or } from "drizzle-orm";
import type { EngineState } from "../engine-state.ts";
import type { HostPrincipal } from "../hosts.ts";
import { type IngestResult, planBatch } from "./ingest-batch.ts";
import type { SeriesCaps } from "./series.ts";
import { type WritePlan, writePlans } from "./write-plan.ts";

/** A batch the API accepted for a host, and when. */
export interface AcceptedBatch {
  host: HostPrincipal;
  batch: ProbeBatchV1;
  receivedAt: number;
}

/**
 * What became of one accepted batch: stored now, stored before (or earlier in the same group), or not
 * stored because planning or writing it failed (`error`; the caller may try it again later).
 */
export type GroupOutcome =
  | { outcome: "stored"; result: IngestResult }
  | { outcome: "duplicate" }
  | { outcome: "failed"; error: unknown };

/** the purpose a group is tallied under on /metrics (vigil_group_commits_total) */
export const QUEUED_GROUP_PURPOSE = "queued batches";

/** (host, batch id) pairs per lookup: two bound parameters each, well under SQLite's limit */
const LOOKUP_CHUNK = 200;

const keyOf = (hostId: string, batchId: string) => `${hostId}\u0000${batchId}`;

type BatchKey = { hostId: string; batchId: string };

function storedKeysQuery(db: Db, part: readonly BatchKey[]) {
  return db
    .select({ hostId: ingestedBatches.hostId, batchId: ingestedBatches.batchId })
    .from(ingestedBatches)
    .where(
      or(
        ...part.map((a) => and(eq(ingestedBatches.hostId, a.hostId), eq(ingestedBatches.batchId, a.batchId))),
      ),
    );
}

function statesQuery(db: Db, hostIds: readonly string[]) {
  return db
    .select({ hostId: hostState.hostId, snapshot: hostState.snapshot })
    .from(hostState)
    .where(inArray(hostState.hostId, [...hostIds]));
}

function chunked<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += LOOKUP_CHUNK) out.push(items.slice(i, i + LOOKUP_CHUNK));
  return out;
}

/** which of `keys` are stored already, as `keyOf` strings */
async function storedKeys(db: Db, keys: readonly BatchKey[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (const part of chunked(keys)) {
    for (const r of await storedKeysQuery(db, part)) found.add(keyOf(r.hostId, r.batchId));
  }
  return found;
}

/**
 * What the group reads before planning, in one round trip: which batches are stored already, and the last
 * state snapshot of every host whose batch carries one (a host without a row has none yet).
 */
async function readBeforePlanning(db: Db, accepted: readonly AcceptedBatch[]) {
  const keys = accepted.map((a) => ({ hostId: a.host.hostId, batchId: a.batch.batchId }));
  const withState = [...new Set(accepted.filter((a) => a.batch.state).map((a) => a.host.hostId))];
  const keyParts = chunked(keys);
  const stateParts = chunked(withState);
  const [first, ...rest] = [
    ...keyParts.map((part) => storedKeysQuery(db, part)),
    ...stateParts.map((part) => statesQuery(db, part)),
  ];
  const results = first ? await db.batch([first, ...rest]) : [];
  const stored = new Set<string>();
  const states = new Map<string, StateSnapshot | null>(withState.map((id) => [id, null]));
  for (const [i, rows] of results.entries()) {
    if (i < keyParts.length) {
      for (const r of rows as { hostId: string; batchId: string }[]) stored.add(keyOf(r.hostId, r.batchId));
    } else {
      for (const r of rows as { hostId: string; snapshot: unknown }[])
        states.set(r.hostId, r.snapshot as StateSnapshot);
    }
  }
  return { stored, states };
}

/**
 * Stores `accepted` (any number of hosts) and answers one outcome per batch, in order.
 * 1. Repeats are dropped before anything is written: a batch id seen earlier in the group, or already
 *    stored (one round trip for the whole group, which also reads the hosts' last state snapshots).
 * 2. Each remaining batch is planned in order; two batches of one host see each other's state and facts,
 *    so a state change is reported once. A batch that cannot be planned fails alone.
 * 3. All plans are written in ONE transaction. If it fails (a batch stored meanwhile by another writer, a
 *    host deleted while its batch waited, the database away), each plan is written alone, so only the bad
 *    ones fail; a plan whose batch id turns out stored by then is a repeat.
 * Throws only when the repeat lookup itself fails (the database is unreachable): nothing was written.
 */
export async function storeBatchGroup(
  db: Db,
  state: EngineState,
  accepted: readonly AcceptedBatch[],
  seriesCaps?: SeriesCaps,
): Promise<GroupOutcome[]> {
  const outcomes: (GroupOutcome | undefined)[] = accepted.map(() => undefined);
  // Each host's state as the next batch of it sees it: stored, then as the group's last plan left it.
  const { stored, states: previousStates } = await readBeforePlanning(db, accepted);
  const seen = new Set<string>();
  const planned: { index: number; plan: WritePlan; result: IngestResult }[] = [];
  const facts = new Map<string, Record<string, unknown>>();

  for (const [index, { host, batch, receivedAt }] of accepted.entries()) {
    const key = keyOf(host.hostId, batch.batchId);
    if (stored.has(key) || seen.has(key)) {
      outcomes[index] = { outcome: "duplicate" };
      continue;
    }
    seen.add(key);
    const knownFacts = facts.get(host.hostId);
    const current = knownFacts ? { ...host, row: { ...host.row, facts: knownFacts } } : host;
    try {
      const { plan, result } = await planBatch(db, current, batch, state, {
        receivedAt,
        seriesCaps,
        ...(batch.state && previousStates.has(host.hostId)
          ? { previousState: previousStates.get(host.hostId) }
          : {}),
      });
      if (plan.state) previousStates.set(host.hostId, plan.state);
      if (plan.facts) facts.set(host.hostId, plan.facts);
      planned.push({ index, plan, result });
    } catch (error) {
      outcomes[index] = { outcome: "failed", error };
    }
  }

  if (planned.length > 0) {
    state.countGroup(QUEUED_GROUP_PURPOSE, planned.length);
    try {
      await writePlans(
        db,
        planned.map((p) => p.plan),
      );
      for (const p of planned) outcomes[p.index] = { outcome: "stored", result: p.result };
    } catch {
      for (const p of planned) outcomes[p.index] = await writeAlone(db, p.plan, p.result);
    }
  }
  return outcomes.map((o) => o ?? { outcome: "failed", error: new Error("batch was not handled") });
}

async function writeAlone(db: Db, plan: WritePlan, result: IngestResult): Promise<GroupOutcome> {
  try {
    await writePlans(db, [plan]);
    return { outcome: "stored", result };
  } catch (error) {
    const again = await storedKeys(db, [plan]).catch(() => new Set<string>());
    return again.has(keyOf(plan.hostId, plan.batchId))
      ? { outcome: "duplicate" }
      : { outcome: "failed", error };
  }
}
