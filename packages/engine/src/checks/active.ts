/**
 * One run of an active check from `edge`, the API's own runtime (HTTP, TCP, TLS, DNS).
 * 1. Claim it: compare-and-set its deadline forward by a lease, so an overlapping tick does not run it too.
 * 2. Observe the target through the runtime's `ProbeRunner`, vetting every address it would reach.
 * 3. Judge the observation (judge.ts) and weigh it with the other locations' views (locations.ts): N
 *    consecutive failures confirm a location down, and `quorum` locations must agree.
 * 4. Write state, run row and any flip in one batch against the claim.
 * A check without `edge` among its locations is only re-weighed here (a silent probe location turns
 * `unknown`); probes run it and report their runs with their batches (location-results.ts).
 */
import { EDGE } from "@vigil/contract";
import type { CheckRow } from "@vigil/db";
import { serverAddress } from "./addresses.ts";
import { isActiveKind } from "./checks.ts";
import { judgeObservation, type Observation, type RunResult } from "./judge.ts";
import { applyRun, checkLocations, combineLocations } from "./locations.ts";
import { type ProbeRunner, probeError, refusedTarget } from "./probes.ts";
import { type CheckPatch, type GuardedInsert, occasionalPrune, writeCheckState } from "./state.ts";
import type { TickContext } from "./tick.ts";

const MAX_REDIRECTS = 5;
/** How long past its timeout a claimed run may take before another tick may take it over. */
const LEASE_SLACK_MS = 60_000;

async function observeHttp(
  check: CheckRow,
  probes: ProbeRunner,
  allowPrivate: boolean,
): Promise<Observation> {
  let url = new URL(check.url ?? "");
  let method = check.method ?? "GET";
  let body = check.body;
  let totalMs = 0;
  for (let hop = 0; ; hop++) {
    const refused = await refusedTarget(url.hostname, probes, allowPrivate);
    if (refused) return { error: refused };
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
      return { error: probeError(err) };
    }
    totalMs += res.ms;
    const redirect = res.status >= 300 && res.status < 400 && res.location;
    if (redirect && check.followRedirects !== false) {
      if (hop >= MAX_REDIRECTS)
        return { error: `more than ${MAX_REDIRECTS} redirects`, httpStatus: res.status };
      url = new URL(res.location ?? "", url);
      // As browsers do: 303 always, and 301/302 after a POST, continue as GET without a body.
      if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === "POST")) {
        method = "GET";
        body = null;
      }
      continue;
    }
    return {
      ms: totalMs,
      httpStatus: res.status,
      ...(check.keyword !== null ? { keywordFound: (res.text ?? "").includes(check.keyword) } : {}),
    };
  }
}

async function observeTcp(check: CheckRow, probes: ProbeRunner, allowPrivate: boolean): Promise<Observation> {
  const host = check.targetHost ?? "";
  const refused = await refusedTarget(host, probes, allowPrivate);
  if (refused) return { error: refused };
  try {
    return { ms: (await probes.tcp(host, check.targetPort ?? 0, check.timeoutMs ?? 10_000)).ms };
  } catch (err) {
    return { error: probeError(err) };
  }
}

async function observeTls(check: CheckRow, probes: ProbeRunner, allowPrivate: boolean): Promise<Observation> {
  const host = check.targetHost ?? "";
  const refused = await refusedTarget(host, probes, allowPrivate);
  if (refused) return { error: refused };
  try {
    const cert = await (probes.tls as NonNullable<ProbeRunner["tls"]>)(
      host,
      check.targetPort ?? 443,
      check.timeoutMs ?? 10_000,
    );
    return {
      ms: cert.ms,
      tls: {
        validTo: cert.validTo,
        authorized: cert.authorized,
        ...(cert.authorizationError ? { authorizationError: cert.authorizationError } : {}),
      },
    };
  } catch (err) {
    return { error: probeError(err) };
  }
}

async function observeDns(check: CheckRow, probes: ProbeRunner, allowPrivate: boolean): Promise<Observation> {
  // The name is only looked up; what is reached is the resolver, so that is what gets vetted.
  const server = check.dnsServer;
  if (server) {
    const refused = await refusedTarget(serverAddress(server), probes, allowPrivate);
    if (refused) return { error: refused };
  }
  try {
    const answer = await (probes.dns as NonNullable<ProbeRunner["dns"]>)({
      name: check.targetHost ?? "",
      type: (check.dnsRecordType ?? "A") as "A",
      server,
      timeoutMs: check.timeoutMs ?? 5_000,
    });
    return { ms: answer.ms, dns: { values: answer.values } };
  } catch (err) {
    return { error: probeError(err) };
  }
}

/** The active kinds `edge` can run with this runner (none without one). */
export function edgeKinds(probes: ProbeRunner): string[] {
  return ["http", "tcp", "tls", "dns"].filter((kind) => edgeUnsupported(kind, probes) === null);
}

/** Why `edge` cannot run this kind here, or null when it can. */
export function edgeUnsupported(kind: string, probes: ProbeRunner): string | null {
  if (kind === "tls" && !probes.tls)
    return "this runtime does not expose TLS certificates (Cloudflare Workers); run TLS checks from a probe location";
  if (kind === "dns" && !probes.dns)
    return "this runtime cannot send DNS queries (Cloudflare Workers); run DNS checks from a probe location";
  if (kind === "icmp") return "ICMP runs from probe locations only";
  return null;
}

export async function observeFromEdge(
  check: CheckRow,
  probes: ProbeRunner,
  allowPrivate: boolean,
): Promise<Observation> {
  if (check.kind === "http") return observeHttp(check, probes, allowPrivate);
  if (check.kind === "tcp") return observeTcp(check, probes, allowPrivate);
  if (check.kind === "dns") return observeDns(check, probes, allowPrivate);
  return observeTls(check, probes, allowPrivate);
}

/** One run from `edge`, judged. */
export async function executeCheck(
  check: CheckRow,
  probes: ProbeRunner,
  allowPrivate: boolean,
  now: number,
): Promise<RunResult> {
  const unsupported = edgeUnsupported(check.kind, probes);
  if (unsupported) {
    return {
      result: "down",
      responseMs: null,
      httpStatus: null,
      tlsDaysLeft: null,
      error: unsupported,
      unsupported: true,
    };
  }
  return judgeObservation(check, await observeFromEdge(check, probes, allowPrivate), now);
}

/** The run row (and its day's response time) that goes in the same batch as the state it led to. */
export function runInsert(check: CheckRow, location: string, at: number, run: RunResult): GuardedInsert {
  return {
    table: "check_runs",
    values: {
      project_id: check.projectId,
      check_id: check.id,
      at,
      result: run.result,
      response_ms: run.responseMs,
      http_status: run.httpStatus,
      tls_days_left: run.tlsDaysLeft,
      error: run.error,
      location,
    },
  };
}

export async function runActiveCheck(
  ctx: TickContext,
  probes: ProbeRunner,
  due: CheckRow,
  now: number,
  delay: (check: CheckRow) => Promise<void>,
): Promise<"ran" | "flipped" | "skipped"> {
  if (!isActiveKind(due.kind)) return "skipped";
  const period = (due.periodSec ?? 60) * 1000;
  if (!checkLocations(due).includes(EDGE)) {
    // Probes run it; here only the silence of a location can change something.
    const next = combineLocations(due, due.locationStates ?? {}, now);
    const slot = Math.max((due.alertAfter ?? now) + period, now + 1000);
    const written = await writeCheckState(
      ctx.db,
      { check: due, now, ...next, patch: { ...next.patch, alertAfter: slot, nextDueAt: slot } },
      ctx.state,
    );
    if (!written) return "skipped";
    return next.patch.status !== undefined ? "flipped" : "ran";
  }
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
  // The next run keeps to the original slot (not "now + period"), so runs do not drift later each tick.
  const nextRun = Math.max((due.alertAfter ?? now) + period, startedAt + 1000);
  const schedule: CheckPatch = { alertAfter: nextRun, nextDueAt: nextRun, lastRunAt: startedAt };
  if (run.unsupported) {
    const written = await writeCheckState(
      ctx.db,
      { check: claimed, now: startedAt, patch: { ...schedule, lastError: run.error } },
      ctx.state,
    );
    return written ? "ran" : "skipped";
  }
  const weighed = applyRun(claimed, EDGE, run, startedAt, startedAt);
  const written = await writeCheckState(
    ctx.db,
    {
      check: claimed,
      now: startedAt,
      patch: { ...weighed.patch, ...schedule },
      ...(weighed.cause ? { cause: weighed.cause } : {}),
      inserts: [runInsert(claimed, EDGE, startedAt, run)],
      upkeep: occasionalPrune("check_runs", claimed.id),
    },
    ctx.state,
  );
  if (!written) return "skipped";
  return weighed.patch.status !== undefined ? "flipped" : "ran";
}
