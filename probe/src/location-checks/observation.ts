import type { CheckResult } from "@vigil/contract";
import { TIME_BOUNDS } from "../limits.ts";
import { describeError } from "../notes.ts";
import { RefusedTargetError, type TargetRules } from "./target-rules.ts";

/** What one run saw: the contract's CheckResult without the check's id, rev and start. */
export type Observation = Omit<CheckResult, "checkId" | "rev" | "at">;

/** What a runner needs besides its assignment. */
export interface RunContext {
  rules: TargetRules;
  /** this probe's location name, for the HTTP User-Agent */
  location: string;
  /** `ping` was found usable at start */
  pingUsable: boolean;
  /** ends the run early (the daemon stopping, the assignment withdrawn) */
  signal?: AbortSignal;
  /** the ping program; tests may name another */
  ping?: string;
}

/** A run that ran out of its time. */
export class CheckTimeout extends Error {
  constructor() {
    super("timed out");
  }
}

/** Ended from outside: the daemon stopping or the assignment withdrawn. */
export class CheckStopped extends Error {
  constructor() {
    super("stopped");
  }
}

const MAX_ERROR = 1024;
const MAX_REFUSED = 512;

/** A failure as a run reports it: refused by the rules, timed out, or the error's code and first line. */
export function failureOf(error: unknown): Observation {
  if (error instanceof RefusedTargetError) return { refused: error.message.slice(0, MAX_REFUSED) };
  if (error instanceof CheckTimeout) return { error: "timed out" };
  return { error: describeError(error).slice(0, MAX_ERROR) || "failed" };
}

/**
 * An AbortSignal that fires after `timeoutMs` with a CheckTimeout, or with CheckStopped when `outer` fires
 * first. `done()` clears the timer.
 */
export function deadline(timeoutMs: number, outer?: AbortSignal): { signal: AbortSignal; done: () => void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new CheckTimeout()), Math.max(1, timeoutMs));
  const onOuter = () => controller.abort(new CheckStopped());
  if (outer?.aborted) onOuter();
  else outer?.addEventListener("abort", onOuter, { once: true });
  return {
    signal: controller.signal,
    done: () => {
      clearTimeout(timer);
      outer?.removeEventListener("abort", onOuter);
    },
  };
}

/** The reason a deadline signal fired, as an error to report. */
export function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new CheckTimeout();
}

/** Keeps a run's report inside the contract's bounds, so one odd answer never gets a whole batch refused. */
export function withinContract(observation: Observation): Observation {
  const fitted: Observation = { ...observation };
  if (fitted.ms !== undefined) {
    if (Number.isFinite(fitted.ms)) fitted.ms = Math.min(Math.max(fitted.ms, 0), 600_000);
    else delete fitted.ms;
  }
  if (fitted.error !== undefined) fitted.error = fitted.error.slice(0, MAX_ERROR);
  if (fitted.refused !== undefined) fitted.refused = fitted.refused.slice(0, MAX_REFUSED);
  if (fitted.tls) {
    // A certificate valid until 9999 is, for every purpose here, valid until the last time the wire allows.
    const validTo = Math.min(Math.max(fitted.tls.validTo, TIME_BOUNDS.minMs), TIME_BOUNDS.maxMs);
    fitted.tls = { ...fitted.tls, validTo };
    if (fitted.tls.authorizationError !== undefined)
      fitted.tls.authorizationError = fitted.tls.authorizationError.slice(0, 512);
  }
  if (fitted.dns)
    fitted.dns = { values: fitted.dns.values.slice(0, 100).map((value) => value.slice(0, 1024)) };
  return fitted;
}
