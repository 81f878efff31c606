/**
 * What a run means. A location (the edge runner or a probe) reports what it observed; this judges it with
 * the check's settings, so a run from a probe in a home lab and a run from the API's own runtime are
 * weighed by the same rules.
 */
import type { CheckResult } from "@vigil/contract";
import type { CheckRow } from "@vigil/db";

const DAY_MS = 86_400_000;

/** What one run saw (the probe's wire format without the check's id, rev and start). */
export type Observation = Omit<CheckResult, "checkId" | "rev" | "at">;

export interface RunResult {
  result: "up" | "degraded" | "down";
  responseMs: number | null;
  httpStatus: number | null;
  tlsDaysLeft: number | null;
  error: string | null;
  /** the runtime cannot run this kind of check (TLS on Workers): nothing is recorded */
  unsupported?: boolean;
  /** the location may not reach the target (its operator's rules): it cannot say anything about it */
  refused?: string;
}

export function statusAccepted(status: number, accepted: readonly string[]): boolean {
  return accepted.some((range) => {
    const [lo, hi] = range.split("-").map(Number);
    return lo !== undefined && status >= lo && status <= (hi ?? lo);
  });
}

/** DNS answers compare without case and without the root's trailing dot. */
const dnsValue = (v: string) => v.trim().toLowerCase().replace(/\.$/, "");

function slowness(check: CheckRow, ms: number | undefined): string | null {
  if (check.degradedAfterMs === null || ms === undefined || ms <= check.degradedAfterMs) return null;
  return `response took ${Math.round(ms)} ms (limit ${check.degradedAfterMs} ms)`;
}

/** The verdict on one observation of `check`, at `now` (TLS days are counted from it). */
export function judgeObservation(check: CheckRow, obs: Observation, now: number): RunResult {
  const responseMs = obs.ms === undefined ? null : Math.round(obs.ms);
  const base = { responseMs, httpStatus: obs.httpStatus ?? null, tlsDaysLeft: null as number | null };
  const down = (error: string, extra: Partial<RunResult> = {}): RunResult => ({
    result: "down",
    ...base,
    error,
    ...extra,
  });
  if (obs.refused) return { ...down(obs.refused), refused: obs.refused };
  if (obs.error) return down(obs.error);
  const good = (error: string | null = slowness(check, obs.ms)): RunResult => ({
    result: error ? "degraded" : "up",
    ...base,
    error,
  });

  switch (check.kind) {
    case "http": {
      const accepted = check.expectedStatus ?? ["200-299"];
      if (obs.httpStatus === undefined) return down("no HTTP answer");
      if (!statusAccepted(obs.httpStatus, accepted))
        return down(`HTTP ${obs.httpStatus}, expected ${accepted.join(", ")}`);
      if (check.keyword !== null) {
        const present = obs.keywordFound === true;
        if (check.keywordMode === "absent" && present) return down(`keyword "${check.keyword}" is present`);
        if (check.keywordMode !== "absent" && !present) return down(`keyword "${check.keyword}" not found`);
      }
      return good();
    }
    case "tls": {
      if (!obs.tls) return down("no certificate");
      const daysLeft = Math.floor((obs.tls.validTo - now) / DAY_MS);
      const measured = { tlsDaysLeft: daysLeft };
      if (obs.tls.validTo <= now) return down("the certificate has expired", measured);
      if (!obs.tls.authorized) {
        return down(`certificate not trusted: ${obs.tls.authorizationError ?? "unknown reason"}`, measured);
      }
      if (daysLeft < (check.tlsWarnDays ?? 14)) {
        return { ...good(`the certificate expires in ${daysLeft} days`), ...measured };
      }
      return { ...good(null), ...measured };
    }
    case "dns": {
      const values = obs.dns?.values ?? [];
      const type = check.dnsRecordType ?? "A";
      if (values.length === 0) return down(`no ${type} record for ${check.targetHost}`);
      if (
        check.dnsExpected !== null &&
        !values.some((v) => dnsValue(v) === dnsValue(check.dnsExpected ?? ""))
      ) {
        const shown = values.slice(0, 5).join(", ");
        return down(`${type} ${check.targetHost} is ${shown}, expected ${check.dnsExpected}`);
      }
      return good();
    }
    case "icmp": {
      const { sent = 0, received = 0 } = obs.icmp ?? {};
      if (received === 0) return down(`no reply to ${sent} ping${sent === 1 ? "" : "s"}`);
      if (received < sent) return good(`${sent - received} of ${sent} pings lost`);
      return good();
    }
    default:
      return good(null);
  }
}
