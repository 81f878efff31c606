/**
 * Checks from several locations. Each location keeps its own N-of-M confirmed status (the check's
 * `failuresToDown` / `successesToUp` applied to its runs alone); the check's status is then what at least
 * `quorum` of the reporting locations agree on:
 * 1. A location is reporting when its newest run is recent (three periods, at least two minutes) and its
 *    operator lets it reach the target; otherwise it is `unknown`, never `down`.
 * 2. The reporting locations are ordered worst first (down, degraded, up); the check takes the status of
 *    the quorum-th: with a quorum of 2, one failing location changes nothing, two make it down.
 * 3. With fewer reporting locations than the quorum the check keeps its status and says so in `lastError`.
 * A check with one location (the default: `edge`) behaves exactly as that location does.
 */
import { EDGE } from "@vigil/contract";
import type { CheckRow, CheckStatus, LocationState } from "@vigil/db";
import type { RunResult } from "./judge.ts";
import type { CheckPatch } from "./state.ts";

export type LocationView = "new" | "up" | "degraded" | "down" | "unknown";

export function checkLocations(check: Pick<CheckRow, "locations">): string[] {
  return check.locations && check.locations.length > 0 ? check.locations : [EDGE];
}

/** A location whose newest run is older than this is `unknown`. */
export function locationSilenceLimitMs(check: Pick<CheckRow, "periodSec">): number {
  return Math.max(3 * (check.periodSec ?? 60) * 1000, 120_000);
}

const blankState = (): LocationState => ({
  status: "new",
  failures: 0,
  successes: 0,
  lastRunAt: null,
  responseMs: null,
  error: null,
});

/** One location's status as people see it at `now`. */
export function locationView(check: CheckRow, state: LocationState | undefined, now: number): LocationView {
  if (!state || state.lastRunAt === null) return state?.refused ? "unknown" : "new";
  if (state.refused) return "unknown";
  if (now - state.lastRunAt > locationSilenceLimitMs(check)) return "unknown";
  return state.status;
}

/** A location's state after one more run, with N-failure confirmation and M-success recovery. */
export function weighLocation(
  check: Pick<CheckRow, "failuresToDown" | "successesToUp">,
  before: LocationState | undefined,
  run: RunResult,
  at: number,
): { state: LocationState; cause?: string } {
  const prev = before ?? blankState();
  if (run.refused) return { state: { ...prev, refused: run.refused, lastRunAt: at, error: run.refused } };
  const good = run.result !== "down";
  const failures = good ? 0 : prev.failures + 1;
  const successes = good ? prev.successes + 1 : 0;
  let status = prev.status;
  let cause: string | undefined;
  if (good) {
    if (status === "down" || status === "new") {
      if (successes >= check.successesToUp) {
        status = run.result;
        cause = `${successes} good run${successes > 1 ? "s" : ""} in a row`;
      }
    } else if (status !== run.result) {
      status = run.result;
      cause = run.error ?? "answering normally again";
    }
  } else if (status !== "down" && failures >= check.failuresToDown) {
    status = "down";
    cause = `${run.error} (${failures} failed run${failures > 1 ? "s" : ""} in a row)`;
  }
  const state: LocationState = {
    status,
    failures,
    successes,
    lastRunAt: at,
    responseMs: run.responseMs,
    error: run.error,
    refused: null,
  };
  return cause ? { state, cause } : { state };
}

const SEVERITY: Record<"up" | "degraded" | "down", number> = { up: 0, degraded: 1, down: 2 };

function listNames(names: string[]): string {
  if (names.length <= 1) return names.join("");
  return `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
}

/** "down from fra-1 (HTTP 503) and ams-2 (timed out), up from home-lab" */
export function describeLocations(
  views: { name: string; view: LocationView; error: string | null }[],
): string {
  const parts: string[] = [];
  for (const view of ["down", "degraded", "up", "unknown"] as const) {
    const these = views.filter((v) => v.view === view);
    if (these.length === 0) continue;
    const named = these.map((v) => (v.error && view !== "up" ? `${v.name} (${v.error})` : v.name));
    parts.push(`${view} from ${listNames(named)}`);
  }
  return parts.join(", ");
}

/**
 * The check's status from its locations' states at `now`: the patch (status, lastError, the states) and
 * the cause of a change. `singleCause` is the cause one location's own change gave, used when the check has
 * only that location, so a one-location check reads as before ("HTTP 503 (2 failed runs in a row)").
 */
export function combineLocations(
  check: CheckRow,
  states: Record<string, LocationState>,
  now: number,
  singleCause?: string,
): { patch: CheckPatch; cause?: string } {
  const names = checkLocations(check);
  const views = names.map((name) => ({
    name,
    view: locationView(check, states[name], now),
    error: states[name]?.error ?? null,
  }));
  const quorum = Math.min(Math.max(1, check.quorum), names.length);
  const reporting = views.filter((v) => v.view === "up" || v.view === "degraded" || v.view === "down");
  const patch: CheckPatch = { locationStates: states };
  if (names.length === 1) {
    const only = states[names[0] ?? EDGE];
    patch.consecutiveFailures = only?.failures ?? 0;
    patch.consecutiveSuccesses = only?.successes ?? 0;
  }
  if (reporting.length < quorum) {
    if (views.every((v) => v.view === "new")) return { patch };
    patch.lastError = `only ${reporting.length} of ${names.length} locations reporting, ${quorum} needed: ${describeLocations(views)}`;
    return { patch };
  }
  const worstFirst = reporting
    .map((v) => v.view as "up" | "degraded" | "down")
    .sort((a, b) => SEVERITY[b] - SEVERITY[a]);
  const status: CheckStatus = worstFirst[quorum - 1] ?? "up";
  const single = names.length === 1;
  patch.lastError = single
    ? (views[0]?.error ?? null)
    : status === "up" && reporting.length === views.length && views.every((v) => v.view === "up")
      ? null
      : describeLocations(views);
  if (status === check.status || check.status === "paused") return { patch };
  patch.status = status;
  return { patch, cause: single ? (singleCause ?? patch.lastError ?? status) : describeLocations(views) };
}

/** The check after one run from `location` (judged already), as a state patch and a cause. */
export function applyRun(
  check: CheckRow,
  location: string,
  run: RunResult,
  at: number,
  now: number,
): { patch: CheckPatch; cause?: string } {
  const states = { ...(check.locationStates ?? {}) };
  const weighed = weighLocation(check, states[location], run, at);
  states[location] = weighed.state;
  return combineLocations(check, states, now, weighed.cause);
}
