/**
 * An alert's lifecycle, as in Prometheus: inactive → pending (while the condition has held for less than the
 * rule's for-duration) → firing → inactive (resolved). Two things keep it from flapping:
 * - hysteresis: once pending or firing, the alert holds until the reading is past the rule's clear value;
 * - keep-firing-for: once firing, a cleared condition keeps the alert firing for that long, and a condition
 *   that comes back within it simply continues the same firing.
 * Pure: the caller reads the alert, calls `nextAlert` and writes the result with compare-and-set.
 */
import type { AlertRow, AlertState } from "@vigil/db";

/** What one evaluation of a rule says about one target (a host, filesystem, unit, container, backup …). */
export interface Reading {
  /** "" for the host itself, else e.g. `{"mount":"/"}` or `unit=nginx.service` */
  targetKey: string;
  labels: Record<string, string>;
  /** how people name the target: "disk /", "memory", "unit nginx.service" */
  label: string;
  /** the rule's condition holds */
  breach: boolean;
  /** with hysteresis: the reading is past the clear value (without one, simply `!breach`) */
  clear?: boolean;
  value: number | null;
  /** "disk / at 93%", "last backup db 30 h ago" */
  observed: string;
  /** the value alone, for subject lines: "93%", "30 h" */
  valueText: string;
  /** the rule's condition for people: "> 90%", "> 26 h"; "" when the observation says it all */
  condition: string;
  /** rules that count time: since when the underlying condition holds (reboot required, last backup …) */
  conditionSince?: number | null;
  /** when time alone makes this reading breach (or stop breaching), so the scheduler looks again then */
  recheckAt?: number | null;
}

export type AlertFields = Pick<
  AlertRow,
  | "state"
  | "pendingSince"
  | "firingSince"
  | "keepFiringUntil"
  | "conditionSince"
  | "active"
  | "lastValue"
  | "cause"
  | "observed"
  | "condition"
  | "valueText"
  | "dueAt"
>;

export interface AlertStep {
  fields: AlertFields;
  /** set when the state changes: the flip to write */
  transition?: { from: AlertState; to: AlertState; cause: string };
}

export interface Lifecycle {
  forSec: number;
  keepFiringForSec: number;
}

export function formatDuration(sec: number): string {
  if (sec % 86_400 === 0 && sec >= 86_400) return `${sec / 86_400} d`;
  if (sec % 3600 === 0 && sec >= 3600) return `${sec / 3600} h`;
  if (sec % 60 === 0 && sec >= 60) return `${sec / 60} min`;
  return `${sec} s`;
}

type Current = Pick<AlertRow, "state" | "pendingSince" | "firingSince" | "keepFiringUntil">;

/** The alert after one reading at `now`. */
export function nextAlert(
  current: Current | null,
  reading: Reading,
  rule: Lifecycle,
  now: number,
): AlertStep {
  const was: AlertState = current?.state ?? "inactive";
  const holds = was === "inactive" ? reading.breach : !(reading.clear ?? !reading.breach);
  const forMs = rule.forSec * 1000;
  let state: AlertState = was;
  let pendingSince = current?.pendingSince ?? null;
  let firingSince = current?.firingSince ?? null;
  let keepFiringUntil = current?.keepFiringUntil ?? null;

  if (holds) {
    keepFiringUntil = null;
    if (was === "inactive") {
      pendingSince = now;
      state = "pending";
    }
    if (state === "pending" && now - (pendingSince ?? now) >= forMs) state = "firing";
  } else if (was === "pending") {
    state = "inactive";
  } else if (was === "firing") {
    if (rule.keepFiringForSec > 0) {
      keepFiringUntil ??= now + rule.keepFiringForSec * 1000;
      if (now >= keepFiringUntil) state = "inactive";
    } else {
      state = "inactive";
    }
  }
  if (state === "firing" && was !== "firing") firingSince = now;
  if (state === "inactive") {
    pendingSince = null;
    firingSince = null;
    keepFiringUntil = null;
  }

  const dueAt =
    state === "pending"
      ? (pendingSince ?? now) + forMs
      : state === "firing" && keepFiringUntil !== null
        ? keepFiringUntil
        : (reading.recheckAt ?? null);
  const forText = rule.forSec > 0 ? ` for ${formatDuration(rule.forSec)}` : "";
  const stated = reading.condition ? `${reading.observed} ${reading.condition}` : reading.observed;
  const cause =
    state === "inactive"
      ? holds
        ? stated
        : `${reading.observed}, back to normal`
      : state === "pending"
        ? `${stated}, firing after ${formatDuration(rule.forSec)}`
        : holds
          ? `${stated}${forText}`
          : `${reading.observed}, cleared; keeps firing until ${new Date(keepFiringUntil ?? now).toISOString()}`;
  const fields: AlertFields = {
    state,
    pendingSince,
    firingSince,
    keepFiringUntil,
    conditionSince: reading.conditionSince ?? null,
    active: holds,
    lastValue: reading.value,
    cause,
    observed: reading.observed,
    condition: reading.condition,
    valueText: reading.valueText,
    dueAt,
  };
  return state === was ? { fields } : { fields, transition: { from: was, to: state, cause } };
}
