/**
 * Probes as locations: what a probe is asked to run, and what becomes of what it reports.
 * - `checkAssignments`: the checks listing a probe's location name, as the batch answer hands them out.
 *   Each carries a `rev`, a digest of its definition, so a result from before an edit can be told apart.
 * - `recordCheckResults`: a batch's results, folded into each check's state with the same judging and
 *   weighing as a run from `edge`. Runs are keyed by (check, location, start), so a batch sent again (its
 *   answer lost) changes nothing the second time; a late result (spooled through an outage) is history
 *   only, the location's state moving forward in time alone.
 */
import type { CheckAssignment, CheckResult, HostFacts, LocationCheckKind } from "@vigil/contract";
import { type CheckRow, checks, type Db } from "@vigil/db";
import { and, eq, inArray, isNotNull, ne, sql } from "drizzle-orm";
import type { EngineState } from "../engine-state.ts";
import { runInsert } from "./active.ts";
import { isActiveKind } from "./checks.ts";
import { judgeObservation } from "./judge.ts";
import { checkLocations, combineLocations, weighLocation } from "./locations.ts";
import { type GuardedInsert, occasionalPrune, writeCheckState } from "./state.ts";

export type ProbeLocation = NonNullable<HostFacts["location"]>;

/** The location a host runs checks as: what its newest facts say (this batch's, else the stored ones). */
export function hostLocation(
  storedFacts: unknown,
  batchFacts: HostFacts | undefined,
): ProbeLocation | undefined {
  if (batchFacts) return batchFacts.location;
  return (storedFacts as HostFacts | null)?.location;
}

type Definition = Omit<CheckAssignment, "id" | "rev">;

function definitionOf(row: CheckRow): Definition {
  const base = {
    kind: row.kind as LocationCheckKind,
    intervalSec: row.periodSec ?? 60,
    timeoutMs: row.timeoutMs ?? 10_000,
  };
  if (row.kind === "http") {
    return {
      ...base,
      http: {
        url: row.url ?? "",
        method: row.method ?? "GET",
        headers: row.headers ?? {},
        body: row.body,
        followRedirects: row.followRedirects ?? true,
        keyword: row.keyword,
      },
    };
  }
  if (row.kind === "dns") {
    return {
      ...base,
      dns: {
        name: row.targetHost ?? "",
        type: (row.dnsRecordType ?? "A") as "A",
        ...(row.dnsServer ? { server: row.dnsServer } : {}),
      },
    };
  }
  const port = row.kind === "icmp" ? undefined : (row.targetPort ?? (row.kind === "tls" ? 443 : undefined));
  return { ...base, target: { host: row.targetHost ?? "", ...(port ? { port } : {}) } };
}

/** A digest of what a probe runs: changes exactly when the definition does. */
async function revOf(definition: Definition): Promise<string> {
  const bytes = new TextEncoder().encode(JSON.stringify(definition));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest.slice(0, 8), (b) => b.toString(16).padStart(2, "0")).join("");
}

export async function assignmentRev(row: CheckRow): Promise<string> {
  return revOf(definitionOf(row));
}

/** The checks a probe at `location` runs (none when it is not a location). Scoped by project. */
export async function checkAssignments(
  db: Db,
  projectId: string,
  location: ProbeLocation | undefined,
  limit: number,
): Promise<CheckAssignment[] | undefined> {
  if (!location || location.kinds.length === 0) return undefined;
  const rows = await db.query.checks.findMany({
    where: and(
      eq(checks.projectId, projectId),
      isNotNull(checks.locations),
      ne(checks.status, "paused"),
      inArray(checks.kind, location.kinds),
      sql`exists (select 1 from json_each(${checks.locations}) where value = ${location.name})`,
    ),
    limit,
  });
  return Promise.all(
    rows.map(async (row) => {
      const definition = definitionOf(row);
      return { id: row.id, rev: await revOf(definition), ...definition };
    }),
  );
}

export interface RecordedResults {
  /** runs stored (a repeat of a stored run counts too) */
  recorded: number;
  /** results for checks this location does not run (deleted, edited to other locations, other projects) */
  ignored: number;
}

/** Tries a check's read-fold-write this often before leaving the results to the next batch. */
const MAX_ATTEMPTS = 8;

async function foldResults(
  db: Db,
  state: EngineState,
  first: CheckRow,
  location: string,
  results: CheckResult[],
  now: number,
): Promise<boolean> {
  let row: CheckRow | undefined = first;
  for (let attempt = 0; attempt < MAX_ATTEMPTS && row; attempt++) {
    const check: CheckRow = row;
    if (!isActiveKind(check.kind) || !checkLocations(check).includes(location)) return false;
    const rev = await assignmentRev(check);
    const states = { ...(check.locationStates ?? {}) };
    const inserts: GuardedInsert[] = [];
    let cause: string | undefined;
    let newest = check.lastRunAt ?? 0;
    for (const result of [...results].sort((a, b) => a.at - b.at)) {
      const at = Math.min(result.at, now);
      const run = judgeObservation(check, result, at);
      if (!run.refused) inserts.push(runInsert(check, location, result.at, run));
      const current = result.rev === rev && check.status !== "paused";
      if (current && at > (states[location]?.lastRunAt ?? Number.NEGATIVE_INFINITY)) {
        const weighed = weighLocation(check, states[location], run, at);
        states[location] = weighed.state;
        cause = weighed.cause ?? cause;
        newest = Math.max(newest, at);
      }
    }
    const combined = combineLocations(check, states, now, cause);
    const written = await writeCheckState(
      db,
      {
        check,
        now,
        patch: { ...combined.patch, lastRunAt: newest || null },
        ...(combined.cause ? { cause: combined.cause } : {}),
        inserts,
        upkeep: occasionalPrune("check_runs", check.id),
      },
      state,
    );
    if (written) return true;
    row = await db.query.checks.findFirst({
      where: and(eq(checks.projectId, check.projectId), eq(checks.id, check.id)),
    });
  }
  return false;
}

/**
 * Stores a probe's check results and weighs them into each check's state (see the header). Only checks of
 * the probe's own project that list its location are touched.
 */
export async function recordCheckResults(
  db: Db,
  state: EngineState,
  projectId: string,
  location: string,
  results: CheckResult[],
  now: number,
): Promise<RecordedResults> {
  const byCheck = new Map<string, CheckResult[]>();
  for (const result of results) {
    const list = byCheck.get(result.checkId) ?? [];
    list.push(result);
    byCheck.set(result.checkId, list);
  }
  if (byCheck.size === 0) return { recorded: 0, ignored: 0 };
  const rows = await db.query.checks.findMany({
    where: and(eq(checks.projectId, projectId), inArray(checks.id, [...byCheck.keys()])),
  });
  const outcome: RecordedResults = { recorded: 0, ignored: 0 };
  const folded = await Promise.all(
    rows.map(async (row) => ({
      count: byCheck.get(row.id)?.length ?? 0,
      ok: await foldResults(db, state, row, location, byCheck.get(row.id) ?? [], now),
    })),
  );
  for (const { count, ok } of folded) {
    if (ok) outcome.recorded += count;
    else outcome.ignored += count;
  }
  outcome.ignored += results.length - folded.reduce((n, f) => n + f.count, 0);
  return outcome;
}
