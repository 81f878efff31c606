/**
 * Heartbeat pings, with Healthchecks.io semantics.
 * 1. Find the check (by UUID, or by the project's ping key and the slug; `create` makes a missing one).
 * 2. Decide what the ping counts as: POST-only checks ignore other methods, a paused check set to stay
 *    paused ignores everything, `log` never changes state.
 * 3. Work out the new state (start opens a run, success/fail end it and set up/down and the next due
 *    time) and write it together with the ping row, compare-and-set; on a lost race, re-read and retry.
 */
import { type CheckRow, checks, type Db, type PingKind, pings, projects } from "@vigil/db";
import { and, desc, eq } from "drizzle-orm";
import type { Clock } from "../clock.ts";
import { ConflictError } from "../errors.ts";
import { createCheck, slugify } from "./checks.ts";
import { heartbeatDeadline } from "./heartbeat.ts";
import { nextDueAt } from "./schedule.ts";
import { type CheckPatch, writeCheckState } from "./state.ts";

export type PingTarget = { checkId: string } | { pingKey: string; slug: string; create: boolean };

export interface PingInput {
  target: PingTarget;
  action: "success" | "start" | "fail" | "log";
  /** from `/ping/<uuid>/<0-255>`; 0 arrives as success, anything else as fail */
  exitStatus: number | null;
  rid: string | null;
  method: string;
  body: string | null;
  userAgent: string | null;
  remoteAddr: string | null;
}

export type PingOutcome =
  | { result: "ok"; checkId: string }
  | { result: "created"; checkId: string }
  | { result: "not_found" }
  | { result: "ambiguous" };

/** A start older than this is not paired with its end (Healthchecks uses the same bound). */
const MAX_RUN_MS = 12 * 3600_000;

async function findTarget(
  db: Db,
  clock: Clock,
  target: PingTarget,
): Promise<{ check: CheckRow; created: boolean } | "not_found" | "ambiguous"> {
  if ("checkId" in target) {
    const check = await db.query.checks.findFirst({ where: eq(checks.id, target.checkId) });
    return check && check.kind === "heartbeat" ? { check, created: false } : "not_found";
  }
  const project = await db.query.projects.findFirst({
    where: eq(projects.pingKey, target.pingKey),
    columns: { id: true },
  });
  if (!project) return "not_found";
  const found = await db.query.checks.findMany({
    where: and(eq(checks.projectId, project.id), eq(checks.slug, target.slug), eq(checks.kind, "heartbeat")),
    limit: 2,
  });
  if (found.length > 1) return "ambiguous";
  if (found[0]) return { check: found[0], created: false };
  if (!target.create) return "not_found";
  const check = await createCheck(db, clock, project.id, {
    kind: "heartbeat",
    name: target.slug,
    slug: slugify(target.slug) ?? target.slug,
    tags: [],
    description: "",
    runbookUrl: null,
    paused: false,
    public: false,
    tz: "UTC",
    grace: 3600,
    postOnly: false,
    keepPaused: false,
  });
  return { check, created: true };
}

function pingKindFor(check: CheckRow, input: PingInput): PingKind {
  if (check.postOnly && input.method !== "POST") return "ignored";
  if (input.action === "log") return "log";
  if (check.status === "paused" && check.keepPaused) return "ignored";
  return input.action;
}

/** The run a success or fail ends: the start with the same rid, else the check's open rid-less start. */
async function runStartedAt(
  db: Db,
  check: CheckRow,
  rid: string | null,
  now: number,
): Promise<number | null> {
  let startedAt: number | null = null;
  if (rid) {
    const start = await db.query.pings.findFirst({
      where: and(eq(pings.checkId, check.id), eq(pings.rid, rid), eq(pings.kind, "start")),
      orderBy: [desc(pings.id)],
      columns: { at: true },
    });
    startedAt = start?.at ?? null;
  } else if (check.lastStartAt !== null && check.lastStartRid === null) {
    startedAt = check.lastStartAt;
  }
  return startedAt !== null && now - startedAt <= MAX_RUN_MS ? startedAt : null;
}

function pingState(
  check: CheckRow,
  kind: PingKind,
  input: PingInput,
  now: number,
): { patch: CheckPatch; cause?: string } {
  const patch: CheckPatch = {};
  let cause: string | undefined;
  if (kind === "start") {
    patch.lastStartAt = now;
    patch.lastStartRid = input.rid;
    if (check.status === "paused") {
      patch.status = "new";
      cause = "resumed by a start ping";
    }
  } else {
    // An end with another run's rid leaves that run open; an end without rid closes whatever is open.
    if (!input.rid || input.rid === check.lastStartRid) {
      patch.lastStartAt = null;
      patch.lastStartRid = null;
    }
    patch.lastPingAt = now;
    if (kind === "success") {
      patch.status = "up";
      patch.nextDueAt = nextDueAt(check, now);
      cause = check.status === "paused" ? "resumed by a success ping" : "success ping";
    } else {
      patch.status = "down";
      patch.nextDueAt = null;
      cause = input.exitStatus !== null ? `exit status ${input.exitStatus}` : "fail ping";
    }
  }
  patch.alertAfter = heartbeatDeadline({ ...check, ...patch });
  return cause && patch.status !== check.status ? { patch, cause } : { patch };
}

export async function recordPing(db: Db, clock: Clock, input: PingInput): Promise<PingOutcome> {
  const now = clock.now();
  const found = await findTarget(db, clock, input.target);
  if (found === "not_found" || found === "ambiguous") return { result: found };
  let check = found.check;
  const outcome = { result: found.created ? "created" : "ok", checkId: check.id } as const;

  for (let attempt = 0; attempt < 8; attempt++) {
    const kind = pingKindFor(check, input);
    const durationMs =
      kind === "success" || kind === "fail"
        ? await runStartedAt(db, check, input.rid, now).then((at) => (at === null ? null : now - at))
        : null;
    const ping = {
      project_id: check.projectId,
      check_id: check.id,
      kind,
      exit_status: input.exitStatus,
      rid: input.rid,
      duration_ms: durationMs,
      method: input.method,
      body: input.body,
      user_agent: input.userAgent,
      remote_addr: input.remoteAddr,
      at: now,
    };
    if (kind === "log" || kind === "ignored") {
      await db.insert(pings).values({
        projectId: check.projectId,
        checkId: check.id,
        kind,
        exitStatus: input.exitStatus,
        rid: input.rid,
        method: input.method,
        body: input.body,
        userAgent: input.userAgent,
        remoteAddr: input.remoteAddr,
        at: now,
      });
      return outcome;
    }
    const next = pingState(check, kind, input, now);
    const written = await writeCheckState(db, {
      check,
      now,
      ...next,
      inserts: [{ table: "pings", values: ping }],
    });
    if (written) return outcome;
    const fresh = await db.query.checks.findFirst({ where: eq(checks.id, check.id) });
    if (!fresh) return { result: "not_found" };
    check = fresh;
  }
  throw new ConflictError("the check is changing too often to record this ping; try again");
}
