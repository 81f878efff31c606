/**
 * One run of an active check (HTTP, TCP, TLS).
 * 1. Claim it: compare-and-set its deadline forward by a lease, so an overlapping tick does not run it too.
 * 2. Run it through the runtime's `ProbeRunner`, vetting every address it would reach.
 * 3. Weigh the result: N consecutive failures confirm down, M consecutive good runs confirm recovery,
 *    a slow good answer (or a certificate near expiry) is degraded.
 * 4. Write state, run row and any flip in one batch against the claim.
 */
import type { CheckRow, CheckStatus } from "@vigil/db";
import { isActiveKind } from "./checks.ts";
import { type ProbeRunner, probeError, refusedTarget } from "./probes.ts";
import { type CheckPatch, occasionalPrune, writeCheckState } from "./state.ts";
import type { TickContext } from "./tick.ts";

const DAY_MS = 86_400_000;
const MAX_REDIRECTS = 5;
/** How long past its timeout a claimed run may take before another tick may take it over. */
const LEASE_SLACK_MS = 60_000;

export interface RunResult {
  result: "up" | "degraded" | "down";
  responseMs: number | null;
  httpStatus: number | null;
  tlsDaysLeft: number | null;
  error: string | null;
  /** the runtime cannot run this kind of check (TLS on Workers): nothing is recorded */
  unsupported?: boolean;
}

function statusAccepted(status: number, accepted: readonly string[]): boolean {
  return accepted.some((range) => {
    const [lo, hi] = range.split("-").map(Number);
    return lo !== undefined && status >= lo && status <= (hi ?? lo);
  });
}

async function runHttp(check: CheckRow, probes: ProbeRunner, allowPrivate: boolean): Promise<RunResult> {
  const fail = (error: string, extra: Partial<RunResult> = {}): RunResult => ({
    result: "down",
    responseMs: null,
    httpStatus: null,
    tlsDaysLeft: null,
    error,
    ...extra,
  });
  let url = new URL(check.url ?? "");
  let method = check.method ?? "GET";
  let body = check.body;
  let totalMs = 0;
  for (let hop = 0; ; hop++) {
    const refused = await refusedTarget(url.hostname, probes, allowPrivate);
    if (refused) return fail(refused);
    let res: Awaited<ReturnType<ProbeRunner["http"]>>;
    try {
      res = await probes.http({
        url: url.href,
        method,
        headers: check.headers ?? {},
        body: method === "GET" || method === "HEAD" ? null : body,
        timeoutMs: Math.max(1, Math.ceil((check.timeoutMs ?? 10_000) - totalMs)),
        readBody: check.keyword !== null,
      });
    } catch (err) {
      return fail(probeError(err));
    }
    totalMs += res.ms;
    const redirect = res.status >= 300 && res.status < 400 && res.location;
    if (redirect && check.followRedirects !== false) {
      if (hop >= MAX_REDIRECTS)
        return fail(`more than ${MAX_REDIRECTS} redirects`, { httpStatus: res.status });
      url = new URL(res.location ?? "", url);
      // As browsers do: 303 always, and 301/302 after a POST, continue as GET without a body.
      if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === "POST")) {
        method = "GET";
        body = null;
      }
      continue;
    }
    const measured = { responseMs: Math.round(totalMs), httpStatus: res.status };
    if (!statusAccepted(res.status, check.expectedStatus ?? ["200-299"])) {
      return fail(
        `HTTP ${res.status}, expected ${(check.expectedStatus ?? ["200-299"]).join(", ")}`,
        measured,
      );
    }
    if (check.keyword !== null) {
      const present = (res.text ?? "").includes(check.keyword);
      if (check.keywordMode === "absent" && present)
        return fail(`keyword "${check.keyword}" is present`, measured);
      if (check.keywordMode !== "absent" && !present)
        return fail(`keyword "${check.keyword}" not found`, measured);
    }
    const slow = check.degradedAfterMs !== null && totalMs > check.degradedAfterMs;
    return {
      result: slow ? "degraded" : "up",
      ...measured,
      tlsDaysLeft: null,
      error: slow ? `response took ${Math.round(totalMs)} ms (limit ${check.degradedAfterMs} ms)` : null,
    };
  }
}

async function runTcp(check: CheckRow, probes: ProbeRunner, allowPrivate: boolean): Promise<RunResult> {
  const none = { httpStatus: null, tlsDaysLeft: null };
  const host = check.targetHost ?? "";
  const refused = await refusedTarget(host, probes, allowPrivate);
  if (refused) return { result: "down", responseMs: null, error: refused, ...none };
  try {
    const { ms } = await probes.tcp(host, check.targetPort ?? 0, check.timeoutMs ?? 10_000);
    return { result: "up", responseMs: Math.round(ms), error: null, ...none };
  } catch (err) {
    return { result: "down", responseMs: null, error: probeError(err), ...none };
  }
}

async function runTls(
  check: CheckRow,
  probes: ProbeRunner,
  allowPrivate: boolean,
  now: number,
): Promise<RunResult> {
  const none = { httpStatus: null, tlsDaysLeft: null, responseMs: null };
  if (!probes.tls) {
    return {
      result: "down",
      ...none,
      unsupported: true,
      error:
        "this runtime does not expose TLS certificates (Cloudflare Workers); run TLS checks from the self-hosted scheduler or a probe",
    };
  }
  const host = check.targetHost ?? "";
  const refused = await refusedTarget(host, probes, allowPrivate);
  if (refused) return { result: "down", ...none, error: refused };
  try {
    const cert = await probes.tls(host, check.targetPort ?? 443, check.timeoutMs ?? 10_000);
    const daysLeft = Math.floor((cert.validTo - now) / DAY_MS);
    const measured = { httpStatus: null, tlsDaysLeft: daysLeft, responseMs: Math.round(cert.ms) };
    if (cert.validTo <= now) return { result: "down", ...measured, error: "the certificate has expired" };
    if (!cert.authorized) {
      return { result: "down", ...measured, error: `certificate not trusted: ${cert.authorizationError}` };
    }
    if (daysLeft < (check.tlsWarnDays ?? 14)) {
      return { result: "degraded", ...measured, error: `the certificate expires in ${daysLeft} days` };
    }
    return { result: "up", ...measured, error: null };
  } catch (err) {
    return { result: "down", ...none, error: probeError(err) };
  }
}

export async function executeCheck(
  check: CheckRow,
  probes: ProbeRunner,
  allowPrivate: boolean,
  now: number,
): Promise<RunResult> {
  if (check.kind === "http") return runHttp(check, probes, allowPrivate);
  if (check.kind === "tcp") return runTcp(check, probes, allowPrivate);
  return runTls(check, probes, allowPrivate, now);
}

/** The state a run leads to, with N-failure confirmation and M-success recovery. */
export function weighRun(check: CheckRow, run: RunResult): { patch: CheckPatch; cause?: string } {
  const good = run.result !== "down";
  const failures = good ? 0 : check.consecutiveFailures + 1;
  const successes = good ? check.consecutiveSuccesses + 1 : 0;
  let status: CheckStatus = check.status;
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
  const patch: CheckPatch = {
    consecutiveFailures: failures,
    consecutiveSuccesses: successes,
    lastError: run.error,
  };
  if (status !== check.status) patch.status = status;
  return cause ? { patch, cause } : { patch };
}

export async function runActiveCheck(
  ctx: TickContext,
  probes: ProbeRunner,
  due: CheckRow,
  now: number,
  delay: (check: CheckRow) => Promise<void>,
): Promise<"ran" | "flipped" | "skipped"> {
  if (!isActiveKind(due.kind)) return "skipped";
  const lease = (ctx.spreadMs ?? 0) + (due.timeoutMs ?? 10_000) * (MAX_REDIRECTS + 1) + LEASE_SLACK_MS;
  const claimed = await writeCheckState(
    ctx.db,
    { check: due, now, patch: { alertAfter: now + lease } },
    ctx.state,
  );
  if (!claimed) return "skipped";

  await delay(claimed);
  const startedAt = ctx.clock.now();
  const run = await executeCheck(claimed, probes, ctx.allowPrivateTargets ?? false, startedAt);
  const period = (claimed.periodSec ?? 60) * 1000;
  // The next run keeps to the original slot (not "now + period"), so runs do not drift later each tick.
  const nextRun = Math.max((due.alertAfter ?? now) + period, startedAt + 1000);
  const schedule: CheckPatch = { alertAfter: nextRun, nextDueAt: nextRun, lastRunAt: startedAt };
  if (run.unsupported) {
    const written = await writeCheckState(
      ctx.db,
      {
        check: claimed,
        now: startedAt,
        patch: { ...schedule, lastError: run.error },
      },
      ctx.state,
    );
    return written ? "ran" : "skipped";
  }
  const weighed = weighRun(claimed, run);
  const written = await writeCheckState(
    ctx.db,
    {
      check: claimed,
      now: startedAt,
      patch: { ...weighed.patch, ...schedule },
      ...(weighed.cause ? { cause: weighed.cause } : {}),
      inserts: [
        {
          table: "check_runs",
          values: {
            project_id: claimed.projectId,
            check_id: claimed.id,
            at: startedAt,
            result: run.result,
            response_ms: run.responseMs,
            http_status: run.httpStatus,
            tls_days_left: run.tlsDaysLeft,
            error: run.error,
          },
        },
      ],
      upkeep: occasionalPrune("check_runs", claimed.id),
    },
    ctx.state,
  );
  if (!written) return "skipped";
  return weighed.patch.status !== undefined ? "flipped" : "ran";
}
