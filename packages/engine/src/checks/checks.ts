/** Checks as the API manages them: create, read, update, pause, resume, delete. Every query is scoped by project. */
import {
  type Check,
  type CheckLocation,
  type CheckSettings,
  type CreateCheckRequest,
  createCheckRequestSchema,
  EDGE,
  type UpdateCheckRequest,
} from "@vigil/contract";
import {
  type CheckRow,
  checkRuns,
  checks,
  type Db,
  flips,
  hosts,
  incidents,
  pings,
  responseDaily,
  uptimeDaily,
} from "@vigil/db";
import { and, asc, eq } from "drizzle-orm";
import type { Clock } from "../clock.ts";
import { ConflictError, InvalidInputError, NotFoundError } from "../errors.ts";
import { keepRedactedHeaders, redactHeaderValues } from "../redact.ts";
import { assertTargetAllowed, serverAddress, type TargetPolicy } from "./addresses.ts";
import { heartbeatDeadline } from "./heartbeat.ts";
import { checkLocations, locationView } from "./locations.ts";
import { assertValidSchedule, nextDueAt } from "./schedule.ts";
import { type CheckPatch, newCasToken, writeCheckState } from "./state.ts";

const ACTIVE_KINDS = new Set(["http", "tcp", "tls", "dns", "icmp"]);
export const isActiveKind = (kind: string) => ACTIVE_KINDS.has(kind);

/** "Nightly DB backup!" → "nightly-db-backup" (Healthchecks derives slugs the same way). */
export function slugify(name: string): string | null {
  const slug = name
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[^a-z0-9_]+/g, "-")
    .replace(/^[-_]+|[-_]+$/g, "")
    .slice(0, 100);
  return slug || null;
}

type ActiveSettings = Extract<CheckSettings, { quorum: number }>;

/** Confirmation and locations, shared by every active kind. */
function confirmationColumns(s: ActiveSettings): CheckPatch {
  const onlyEdge = s.locations.length === 1 && s.locations[0] === EDGE;
  return {
    failuresToDown: s.failuresToDown,
    successesToUp: s.successesToUp,
    locations: onlyEdge ? null : s.locations,
    quorum: s.quorum,
  };
}

/** The kind-specific columns of a row, from validated settings. */
function settingsToColumns(s: CheckSettings): CheckPatch {
  switch (s.kind) {
    case "heartbeat":
      return {
        periodSec: s.schedule ? null : (s.period ?? 86_400),
        schedule: s.schedule ?? null,
        tz: s.tz,
        graceSec: s.grace,
        postOnly: s.postOnly,
        keepPaused: s.keepPaused,
        bodyKeywords: s.bodyKeywords,
        minRunSec: s.minRun,
        maxRunSec: s.maxRun,
        startGraceSec: s.startGrace,
        minIntervalSec: s.minInterval,
        slowRunFactor: s.slowerThanUsual,
      };
    case "http":
      return {
        url: s.url,
        method: s.method,
        headers: s.headers,
        body: s.body,
        expectedStatus: s.expectedStatus,
        keyword: s.keyword,
        keywordMode: s.keywordMode,
        timeoutMs: s.timeoutMs,
        degradedAfterMs: s.degradedAfterMs,
        followRedirects: s.followRedirects,
        periodSec: s.period,
        ...confirmationColumns(s),
      };
    case "tcp":
      return {
        targetHost: s.host,
        targetPort: s.port,
        timeoutMs: s.timeoutMs,
        periodSec: s.period,
        ...confirmationColumns(s),
      };
    case "tls":
      return {
        targetHost: s.host,
        targetPort: s.port,
        tlsWarnDays: s.warnDays,
        timeoutMs: s.timeoutMs,
        periodSec: s.period,
        ...confirmationColumns(s),
      };
    case "dns":
      return {
        targetHost: s.host,
        dnsRecordType: s.recordType,
        dnsExpected: s.expected,
        dnsServer: s.server,
        timeoutMs: s.timeoutMs,
        degradedAfterMs: s.degradedAfterMs,
        periodSec: s.period,
        ...confirmationColumns(s),
      };
    case "icmp":
      return {
        targetHost: s.host,
        timeoutMs: s.timeoutMs,
        degradedAfterMs: s.degradedAfterMs,
        periodSec: s.period,
        ...confirmationColumns(s),
      };
    case "host":
      return { hostId: s.hostId, periodSec: s.period };
  }
}

/** The settings of a row, under the names the API accepts on creation. */
function rowToSettings(r: CheckRow): CheckSettings {
  const confirmation = {
    failuresToDown: r.failuresToDown,
    successesToUp: r.successesToUp,
    locations: checkLocations(r),
    quorum: r.quorum,
  };
  switch (r.kind) {
    case "heartbeat":
      return {
        kind: "heartbeat",
        ...(r.schedule ? { schedule: r.schedule } : { period: r.periodSec ?? 86_400 }),
        tz: r.tz,
        grace: r.graceSec ?? 3600,
        postOnly: r.postOnly,
        keepPaused: r.keepPaused,
        bodyKeywords: r.bodyKeywords,
        minRun: r.minRunSec,
        maxRun: r.maxRunSec,
        startGrace: r.startGraceSec,
        minInterval: r.minIntervalSec,
        slowerThanUsual: r.slowRunFactor,
      };
    case "http":
      return {
        kind: "http",
        url: r.url ?? "",
        method: (r.method ?? "GET") as "GET",
        headers: r.headers ?? {},
        body: r.body,
        expectedStatus: r.expectedStatus ?? ["200-299"],
        keyword: r.keyword,
        keywordMode: r.keywordMode ?? "present",
        timeoutMs: r.timeoutMs ?? 10_000,
        degradedAfterMs: r.degradedAfterMs,
        followRedirects: r.followRedirects ?? true,
        period: r.periodSec ?? 60,
        ...confirmation,
      };
    case "tcp":
      return {
        kind: "tcp",
        host: r.targetHost ?? "",
        port: r.targetPort ?? 0,
        timeoutMs: r.timeoutMs ?? 10_000,
        period: r.periodSec ?? 60,
        ...confirmation,
      };
    case "tls":
      return {
        kind: "tls",
        host: r.targetHost ?? "",
        port: r.targetPort ?? 443,
        warnDays: r.tlsWarnDays ?? 14,
        timeoutMs: r.timeoutMs ?? 10_000,
        period: r.periodSec ?? 3600,
        ...confirmation,
      };
    case "dns":
      return {
        kind: "dns",
        host: r.targetHost ?? "",
        recordType: (r.dnsRecordType ?? "A") as "A",
        expected: r.dnsExpected,
        server: r.dnsServer,
        timeoutMs: r.timeoutMs ?? 5_000,
        degradedAfterMs: r.degradedAfterMs,
        period: r.periodSec ?? 300,
        ...confirmation,
      };
    case "icmp":
      return {
        kind: "icmp",
        host: r.targetHost ?? "",
        timeoutMs: r.timeoutMs ?? 5_000,
        degradedAfterMs: r.degradedAfterMs,
        period: r.periodSec ?? 60,
        ...confirmation,
      };
    case "host":
      return { kind: "host", hostId: r.hostId ?? "", period: r.periodSec ?? 30 };
  }
}

/** What people see: `started` while a heartbeat's run is open, otherwise the stored status. */
export function displayStatus(r: Pick<CheckRow, "status" | "lastStartAt">): Check["status"] {
  if (r.lastStartAt !== null && r.status !== "paused" && r.status !== "down") return "started";
  return r.status;
}

/** A check as the API shows it; an HTTP check's header values are masked (they often carry credentials). */
export function toCheck(r: CheckRow, pingBaseUrl: string, now: number): Check {
  const check = checkWithSecrets(r, pingBaseUrl, now);
  return check.kind === "http" ? { ...check, headers: redactHeaderValues(check.headers) } : check;
}

/** Each location's view of an active check, in the order the check lists them. */
function locationResults(r: CheckRow, now: number): CheckLocation[] {
  return checkLocations(r).map((name) => {
    const state = r.locationStates?.[name];
    return {
      name,
      status: locationView(r, state, now),
      lastRunAt: state?.lastRunAt ?? null,
      responseMs: state?.responseMs ?? null,
      error: state?.error ?? null,
    };
  });
}

function checkWithSecrets(r: CheckRow, pingBaseUrl: string, now = 0): Check {
  return {
    id: r.id,
    name: r.name,
    slug: r.slug,
    tags: r.tags,
    description: r.description,
    runbookUrl: r.runbookUrl,
    paused: r.status === "paused",
    public: r.public,
    status: displayStatus(r),
    pingUrl: r.kind === "heartbeat" ? `${pingBaseUrl}/ping/${r.id}` : null,
    lastPingAt: r.lastPingAt,
    nextDueAt: r.nextDueAt,
    lastRunAt: r.lastRunAt,
    lastError: r.lastError,
    locationResults: isActiveKind(r.kind) ? locationResults(r, now) : [],
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    ...rowToSettings(r),
  };
}

/** Where a check may run from: the quorum fits the locations, and `edge` can run the kind here. */
function assertLocations(s: ActiveSettings, policy: TargetPolicy): void {
  if (s.quorum > s.locations.length) {
    throw new InvalidInputError(
      "body.quorum",
      `a quorum of ${s.quorum} needs at least ${s.quorum} locations (${s.locations.length} given)`,
    );
  }
  if (!s.locations.includes(EDGE)) return;
  const unsupported =
    s.kind === "icmp"
      ? "ICMP runs from probe locations only: list probe locations instead of edge"
      : policy.edgeKinds && !policy.edgeKinds.includes(s.kind)
        ? `this server cannot run ${s.kind.toUpperCase()} checks from edge (Cloudflare Workers); list probe locations instead`
        : null;
  if (unsupported) throw new InvalidInputError("body.locations", unsupported);
}

/** Without a policy, private targets are refused: the safe default for callers that do not say. */
const STRICT: TargetPolicy = { allowPrivateTargets: false };

async function assertDomainRules(
  db: Db,
  projectId: string,
  s: CheckSettings,
  policy: TargetPolicy,
): Promise<void> {
  if (s.kind === "heartbeat") assertValidSchedule(s.schedule, s.tz);
  if (s.kind === "http" && s.locations.includes(EDGE)) {
    assertTargetAllowed("body.url", new URL(s.url).hostname, policy);
  }
  if (s.kind === "tcp" || s.kind === "tls" || s.kind === "icmp") {
    // Private targets are refused for the edge only: a probe location exists to reach them (issue 17).
    if (("locations" in s ? s.locations : [EDGE]).includes(EDGE))
      assertTargetAllowed("body.host", s.host, policy);
  }
  if (s.kind === "dns" && s.server && s.locations.includes(EDGE)) {
    assertTargetAllowed("body.server", serverAddress(s.server), policy);
  }
  if ("quorum" in s) assertLocations(s, policy);
  if (s.kind === "host") {
    const host = await db.query.hosts.findFirst({
      where: and(eq(hosts.projectId, projectId), eq(hosts.id, s.hostId)),
      columns: { id: true },
    });
    if (!host) throw new InvalidInputError("body.hostId", "no such host in this project");
  }
}

/** Where a new or resumed check starts: active checks and host checks are looked at on the next tick. */
function freshState(kind: string, now: number, paused: boolean): CheckPatch {
  const due = paused || kind === "heartbeat" ? null : now;
  return {
    status: paused ? "paused" : "new",
    alertAfter: due,
    nextDueAt: isActiveKind(kind) ? due : null,
    lastStartAt: null,
    lastStartRid: null,
    consecutiveFailures: 0,
    consecutiveSuccesses: 0,
    locationStates: null,
  };
}

export async function createCheck(
  db: Db,
  clock: Clock,
  projectId: string,
  input: CreateCheckRequest,
  policy: TargetPolicy = STRICT,
): Promise<CheckRow> {
  const { name, slug, tags, description, runbookUrl, paused, public: isPublic, ...settings } = input;
  await assertDomainRules(db, projectId, settings, policy);
  const now = clock.now();
  const [row] = await db
    .insert(checks)
    .values({
      id: crypto.randomUUID(),
      projectId,
      kind: settings.kind,
      name,
      slug: slug ?? slugify(name),
      tags: [...new Set(tags)],
      description,
      runbookUrl,
      public: isPublic,
      statusChangedAt: now,
      cas: newCasToken(),
      ...settingsToColumns(settings),
      ...freshState(settings.kind, now, paused),
      createdAt: now,
      updatedAt: now,
    })
    .returning();
  if (!row) throw new Error("check insert returned nothing");
  return row;
}

export async function findCheckRow(db: Db, projectId: string, checkId: string): Promise<CheckRow> {
  const row = await db.query.checks.findFirst({
    where: and(eq(checks.projectId, projectId), eq(checks.id, checkId)),
  });
  if (!row) throw new NotFoundError("check");
  return row;
}

export async function listCheckRows(db: Db, projectId: string): Promise<CheckRow[]> {
  return db.query.checks.findMany({
    where: eq(checks.projectId, projectId),
    orderBy: [asc(checks.createdAt), asc(checks.id)],
  });
}

/**
 * Retries a read-modify-write until its compare-and-set wins: API writes race only the scheduler and
 * pings, which are quick, so a handful of attempts is plenty.
 */
export async function mutateCheck(
  db: Db,
  projectId: string,
  checkId: string,
  change: (row: CheckRow) => { patch: CheckPatch; cause?: string } | null,
  now: number,
): Promise<CheckRow> {
  for (let attempt = 0; attempt < 8; attempt++) {
    const row = await findCheckRow(db, projectId, checkId);
    const next = change(row);
    if (!next) return row;
    const written = await writeCheckState(db, { check: row, now, ...next });
    if (written) return written;
  }
  throw new ConflictError("the check is changing too often to update; try again");
}

function pausePatch(
  row: CheckRow,
  paused: boolean,
  now: number,
): { patch: CheckPatch; cause: string } | null {
  if (paused === (row.status === "paused")) return null;
  if (paused) {
    return {
      patch: { ...freshState(row.kind, now, true), lastError: null },
      cause: "paused",
    };
  }
  return { patch: freshState(row.kind, now, false), cause: "resumed" };
}

export async function pauseCheck(db: Db, clock: Clock, projectId: string, checkId: string) {
  return mutateCheck(db, projectId, checkId, (row) => pausePatch(row, true, clock.now()), clock.now());
}

export async function resumeCheck(db: Db, clock: Clock, projectId: string, checkId: string) {
  return mutateCheck(db, projectId, checkId, (row) => pausePatch(row, false, clock.now()), clock.now());
}

/**
 * Applies a partial update. The merged settings are validated against the kind's schema, so an update can
 * never make a check its creation would have refused; changing the cadence moves the deadlines with it.
 */
export async function updateCheck(
  db: Db,
  clock: Clock,
  projectId: string,
  checkId: string,
  input: UpdateCheckRequest,
  policy: TargetPolicy = STRICT,
): Promise<CheckRow> {
  const now = clock.now();
  const current = await findCheckRow(db, projectId, checkId);
  const { paused, ...fields } = input;
  const base = checkWithSecrets(current, "");
  const merged = { ...base, ...fields, kind: current.kind } as Record<string, unknown>;
  if (fields.headers) merged.headers = keepRedactedHeaders(fields.headers, current.headers ?? {});
  if (merged.slug === null) delete merged.slug;
  // A heartbeat has either a period or a schedule: setting one clears the other.
  if (current.kind === "heartbeat") {
    if (fields.schedule) delete merged.period;
    if (fields.period) delete merged.schedule;
    if (merged.schedule === null) delete merged.schedule;
    if (merged.period === null) delete merged.period;
  }
  const parsed = createCheckRequestSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidInputError(`body.${issue?.path.join(".") ?? ""}`, issue?.message ?? "invalid");
  }
  const { name, slug, tags, description, runbookUrl, public: isPublic, ...settings } = parsed.data;
  // A target saved while private ones were allowed stays editable; only a new target is judged again.
  const targetChanged =
    fields.url !== undefined ||
    fields.host !== undefined ||
    fields.server !== undefined ||
    fields.locations !== undefined;
  const targets = targetChanged ? policy : { allowPrivateTargets: true };
  await assertDomainRules(db, projectId, settings as CheckSettings, targets);
  const columns = settingsToColumns(settings as CheckSettings);

  return mutateCheck(
    db,
    projectId,
    checkId,
    (row) => {
      const patch: CheckPatch = {
        name,
        slug: slug ?? row.slug,
        tags: [...new Set(tags)],
        description,
        runbookUrl,
        public: isPublic,
        ...columns,
      };
      let cause: string | undefined;
      const pause = paused === undefined ? null : pausePatch(row, paused, now);
      if (pause) {
        Object.assign(patch, pause.patch);
        cause = pause.cause;
      } else if (row.status !== "paused") {
        if (row.kind === "heartbeat" && row.lastPingAt !== null && row.nextDueAt !== null) {
          // A new cadence applies from the last ping, as if it had always been in force.
          patch.nextDueAt = nextDueFromColumns({ ...row, ...patch }, row.lastPingAt);
          // Evaluate on the next tick, so a check that is late under the old cadence but not the new one
          // (or the reverse) gets its status right at once.
          patch.alertAfter = Math.min(heartbeatDeadline({ ...row, ...patch }) ?? now, now);
        } else if (isActiveKind(row.kind)) {
          // Settings changed: look at the new target on the next tick instead of after the old period.
          patch.alertAfter = now;
          patch.nextDueAt = now;
        }
      }
      return cause ? { patch, cause } : { patch };
    },
    now,
  );
}

function nextDueFromColumns(r: CheckRow, after: number): number | null {
  return nextDueAt({ periodSec: r.periodSec, schedule: r.schedule, tz: r.tz }, after);
}

/**
 * Deletes a check and everything hanging off it. Foreign-key cascades are not relied on: SQLite enforces
 * them only with `pragma foreign_keys = on`, which remote libSQL connections do not promise.
 */
export async function deleteCheck(db: Db, projectId: string, checkId: string): Promise<void> {
  await findCheckRow(db, projectId, checkId);
  await db.batch([
    db.delete(pings).where(and(eq(pings.projectId, projectId), eq(pings.checkId, checkId))),
    db.delete(checkRuns).where(and(eq(checkRuns.projectId, projectId), eq(checkRuns.checkId, checkId))),
    db.delete(uptimeDaily).where(and(eq(uptimeDaily.projectId, projectId), eq(uptimeDaily.checkId, checkId))),
    db
      .delete(responseDaily)
      .where(and(eq(responseDaily.projectId, projectId), eq(responseDaily.checkId, checkId))),
    db
      .delete(flips)
      .where(
        and(eq(flips.projectId, projectId), eq(flips.subjectType, "check"), eq(flips.subjectId, checkId)),
      ),
    db
      .delete(incidents)
      .where(
        and(
          eq(incidents.projectId, projectId),
          eq(incidents.subjectType, "check"),
          eq(incidents.subjectId, checkId),
        ),
      ),
    db.delete(checks).where(and(eq(checks.projectId, projectId), eq(checks.id, checkId))),
  ]);
}
