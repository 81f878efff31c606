/**
 * Runs of runbooks. A run copies the runbook's steps, picks its hosts, and moves through the steps:
 * 1. A manual step waits (the run is `waiting`) until someone marks it done, with an optional note.
 * 2. An HTTP step is sent at once, its `{{secret.NAME}}`s filled from the sealed store and its target vetted
 *    like a check's (private addresses refused unless the operator allows them); an unexpected status fails
 *    the step and the run.
 * 3. A command step becomes one pending command per host; each host's probe picks its own up with its next
 *    batch answer and reports the outcome (commands.ts). The step is done when every host exited 0, failed
 *    when any failed, was refused, or timed out.
 * 4. Any step can be skipped with a note; a run can be cancelled. The run ends `succeeded` after its last
 *    step, `failed` at the first failed step.
 * Every change is one compare-and-set write of the run row (`cas`), so two people completing the same step
 * at once record it once; the loser gets a conflict and reloads. What a step `shows` of its hosts (pending
 * updates, reboot required, containers, SSH keys, backups) is captured as the run reaches it.
 */
import type { RunbookRun, RunStep } from "@vigil/contract";
import {
  backupRuns,
  type Db,
  hostState,
  hosts,
  type RunbookRunRow,
  runbookCommands,
  runbookRuns,
  type StoredRunbookStep,
  type StoredStepState,
} from "@vigil/db";
import { and, desc, eq, inArray, sql } from "drizzle-orm";
import { statusAccepted } from "../checks/judge.ts";
import { type ProbeRunner, probeError, refusedTarget } from "../checks/probes.ts";
import type { Clock } from "../clock.ts";
import type { EngineState } from "../engine-state.ts";
import { ConflictError, InvalidInputError, NotFoundError } from "../errors.ts";
import { dispatchCommands } from "./commands.ts";
import { findRunbookRow } from "./runbooks.ts";
import { fillSecrets, openSecrets, secretNamesIn } from "./secrets.ts";
import { markTaskDone } from "./tasks.ts";

const HTTP_EXCERPT = 4_096;

export interface RunbookEnv {
  db: Db;
  clock: Clock;
  /** sends HTTP steps; without it they fail saying so */
  probes?: ProbeRunner;
  allowPrivateTargets: boolean;
  /** opens sealed secrets (VIGIL_SECRET_KEY) */
  serverKey?: string;
  /** what the process keeps between requests (a task's success ping goes through its ping turns) */
  engine?: EngineState;
}

const blankState = (): StoredStepState => ({
  status: "pending",
  startedAt: null,
  endedAt: null,
  doneBy: null,
  note: null,
  httpStatus: null,
  output: null,
  views: {},
});

/** Hosts a run acts on: those named, else the runbook's selection (ids, and every host with a tag). */
async function chooseHosts(
  db: Db,
  projectId: string,
  selector: { hostIds: string[]; tags: string[] },
  given: string[] | undefined,
): Promise<{ id: string; name: string }[]> {
  const rows = await db.query.hosts.findMany({
    where: eq(hosts.projectId, projectId),
    columns: { id: true, name: true, tags: true },
  });
  if (given) {
    const missing = given.filter((id) => !rows.some((h) => h.id === id));
    if (missing.length > 0)
      throw new InvalidInputError("body.hostIds", `no such host in this project: ${missing[0]}`);
    return rows.filter((h) => given.includes(h.id)).map(({ id, name }) => ({ id, name }));
  }
  return rows
    .filter((h) => selector.hostIds.includes(h.id) || h.tags.some((t) => selector.tags.includes(t)))
    .map(({ id, name }) => ({ id, name }));
}

type SshKeys = { user: string; fingerprints: string[] }[];

/** The SSH keys the last succeeded run of this runbook showed of a host, by host id. */
async function lastReviewedKeys(db: Db, run: RunbookRunRow): Promise<Map<string, SshKeys>> {
  const [previous] = await db.query.runbookRuns.findMany({
    where: and(
      eq(runbookRuns.projectId, run.projectId),
      eq(runbookRuns.runbookId, run.runbookId),
      eq(runbookRuns.status, "succeeded"),
    ),
    orderBy: [desc(runbookRuns.startedAt)],
    limit: 1,
  });
  const keys = new Map<string, SshKeys>();
  for (const state of previous?.stepStates ?? []) {
    for (const [hostId, view] of Object.entries({ ...state.views, ...(state.viewsAtEnd ?? {}) })) {
      if (Array.isArray(view.sshKeys)) keys.set(hostId, view.sshKeys as SshKeys);
    }
  }
  return keys;
}

/** Keys added and removed between two readings, as "user SHA256:…". */
function keyChanges(before: SshKeys | undefined, now: SshKeys) {
  const flat = (keys: SshKeys) => new Set(keys.flatMap((u) => u.fingerprints.map((f) => `${u.user} ${f}`)));
  const was = flat(before ?? []);
  const is = flat(now);
  return { added: [...is].filter((k) => !was.has(k)), removed: [...was].filter((k) => !is.has(k)) };
}

/** What a step shows of each host, read from the probe's latest state and backup runs. */
async function captureViews(
  db: Db,
  run: RunbookRunRow,
  shows: readonly string[],
): Promise<Record<string, Record<string, unknown>>> {
  const { projectId, hostIds } = run;
  if (shows.length === 0 || hostIds.length === 0) return {};
  const states = await db.query.hostState.findMany({
    where: and(eq(hostState.projectId, projectId), inArray(hostState.hostId, hostIds)),
  });
  const backups = shows.includes("backups")
    ? await db
        .select({
          hostId: backupRuns.hostId,
          name: backupRuns.name,
          status: backupRuns.status,
          endedAt: sql<number>`max(${backupRuns.endedAt})`,
        })
        .from(backupRuns)
        .where(and(eq(backupRuns.projectId, projectId), inArray(backupRuns.hostId, hostIds)))
        .groupBy(backupRuns.hostId, backupRuns.name, backupRuns.status)
    : [];
  const views: Record<string, Record<string, unknown>> = {};
  let reviewed: Map<string, SshKeys> | undefined;
  for (const hostId of hostIds) {
    const snapshot = (states.find((s) => s.hostId === hostId)?.snapshot ?? {}) as Record<string, unknown>;
    const view: Record<string, unknown> = {};
    if (shows.includes("updates")) view.updates = snapshot.updates ?? null;
    if (shows.includes("reboot")) view.reboot = snapshot.reboot ?? null;
    if (shows.includes("containers")) view.containers = snapshot.containers ?? null;
    if (shows.includes("ssh-keys")) {
      view.sshKeys = snapshot.sshKeys ?? null;
      if (Array.isArray(snapshot.sshKeys)) {
        reviewed ??= await lastReviewedKeys(db, run);
        const before = reviewed.get(hostId);
        view.sinceLastReview = before ? keyChanges(before, snapshot.sshKeys as SshKeys) : null;
      }
    }
    if (shows.includes("backups")) {
      const mine = backups.filter((b) => b.hostId === hostId);
      const names = [...new Set(mine.map((b) => b.name))];
      view.backups = names.map((name) => ({
        name,
        lastSuccessAt: mine.find((b) => b.name === name && b.status === "success")?.endedAt ?? null,
        lastFailureAt: mine.find((b) => b.name === name && b.status === "failure")?.endedAt ?? null,
      }));
    }
    views[hostId] = view;
  }
  return views;
}

/** Writes the run if nobody changed it since it was read; a conflict otherwise. */
async function saveRun(db: Db, before: RunbookRunRow, after: RunbookRunRow): Promise<RunbookRunRow> {
  const cas = crypto.randomUUID();
  const written = await db
    .update(runbookRuns)
    .set({
      stepStates: after.stepStates,
      status: after.status,
      currentStep: after.currentStep,
      endedAt: after.endedAt,
      cas,
    })
    .where(
      and(
        eq(runbookRuns.id, before.id),
        eq(runbookRuns.projectId, before.projectId),
        eq(runbookRuns.cas, before.cas),
      ),
    )
    .returning({ id: runbookRuns.id });
  if (written.length === 0) throw new ConflictError("the run changed meanwhile; reload it and try again");
  return { ...after, cas };
}

async function sendHttpStep(
  env: RunbookEnv,
  projectId: string,
  step: StoredRunbookStep,
): Promise<{ ok: boolean; httpStatus: number | null; output: string }> {
  const s = step as StoredRunbookStep & {
    method: string;
    url: string;
    headers: Record<string, string>;
    body: string | null;
    expectedStatus: string[];
    timeoutMs: number;
  };
  if (!env.probes) return { ok: false, httpStatus: null, output: "this server cannot send HTTP steps" };
  let opened: Map<string, string>;
  try {
    opened = await openSecrets(
      env.db,
      projectId,
      secretNamesIn(s.url, s.body, ...Object.values(s.headers)),
      env.serverKey,
    );
  } catch (err) {
    return { ok: false, httpStatus: null, output: (err as Error).message };
  }
  const url = fillSecrets(s.url, opened);
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return { ok: false, httpStatus: null, output: "the URL is not valid" };
  }
  if (target.protocol !== "http:" && target.protocol !== "https:") {
    return { ok: false, httpStatus: null, output: "only http and https URLs are sent" };
  }
  const refused = await refusedTarget(target.hostname, env.probes, env.allowPrivateTargets);
  if (refused) return { ok: false, httpStatus: null, output: refused };
  try {
    const res = await env.probes.http({
      url: target.href,
      method: s.method,
      headers: Object.fromEntries(Object.entries(s.headers).map(([k, v]) => [k, fillSecrets(v, opened)])),
      body: s.body === null || s.method === "GET" || s.method === "HEAD" ? null : fillSecrets(s.body, opened),
      timeoutMs: s.timeoutMs,
      readBody: true,
    });
    // Secrets never land in the record, even when a receiver echoes them back.
    let excerpt = (res.text ?? "").slice(0, HTTP_EXCERPT);
    for (const value of opened.values()) if (value) excerpt = excerpt.split(value).join("********");
    const ok = statusAccepted(res.status, s.expectedStatus);
    return {
      ok,
      httpStatus: res.status,
      output: ok ? excerpt : `HTTP ${res.status}, expected ${s.expectedStatus.join(", ")}\n${excerpt}`,
    };
  } catch (err) {
    return { ok: false, httpStatus: null, output: probeError(err) };
  }
}

/**
 * Moves the run forward from its current step until it must wait (a manual step, commands under way) or
 * ends, writing each change. Returns the run as written.
 */
async function advance(env: RunbookEnv, start: RunbookRunRow): Promise<RunbookRunRow> {
  let run = start;
  for (;;) {
    if (run.status === "succeeded" || run.status === "failed" || run.status === "cancelled") return run;
    const now = env.clock.now();
    const index = run.currentStep;
    const step = run.steps[index];
    const states = run.stepStates.map((s) => ({ ...s }));
    const state = states[index];
    if (!step || !state) {
      const done = await saveRun(env.db, run, { ...run, status: "succeeded", endedAt: now });
      await markTaskDone(env.db, env.clock, env.engine, done);
      return done;
    }
    if (state.status === "done" || state.status === "skipped") {
      run = await saveRun(env.db, run, { ...run, currentStep: index + 1, status: "running" });
      continue;
    }
    if (state.status === "failed") {
      return saveRun(env.db, run, { ...run, status: "failed", endedAt: now });
    }
    if (state.status === "pending") {
      const shows = (step.shows as string[] | undefined) ?? [];
      state.startedAt = now;
      state.views = await captureViews(env.db, run, shows);
      if (step.kind === "manual") {
        state.status = "waiting";
        return saveRun(env.db, run, { ...run, stepStates: states, status: "waiting" });
      }
      if (step.kind === "http") {
        state.status = "running";
        // Claimed first, so a concurrent advance does not send the request twice.
        run = await saveRun(env.db, run, { ...run, stepStates: states, status: "running" });
        const sent = await sendHttpStep(env, run.projectId, step);
        const after = run.stepStates.map((s) => ({ ...s }));
        after[index] = {
          ...(after[index] as StoredStepState),
          status: sent.ok ? "done" : "failed",
          endedAt: env.clock.now(),
          httpStatus: sent.httpStatus,
          output: sent.output,
        };
        run = await saveRun(env.db, run, { ...run, stepStates: after });
        continue;
      }
      // A command step: one command per host, picked up by each host's probe.
      if (run.hostIds.length === 0) {
        state.status = "failed";
        state.endedAt = now;
        state.output = "no hosts chosen for this run";
        run = await saveRun(env.db, run, { ...run, stepStates: states });
        continue;
      }
      state.status = "running";
      run = await saveRun(env.db, run, { ...run, stepStates: states, status: "running" });
      await dispatchCommands(env, run, index, String(step.command ?? ""), Number(step.timeoutSec ?? 300));
      // Every host may have refused at once (runbooks off there): then the step is decided already.
      return settleCommandStep(env, run.projectId, run.id);
    }
    // Waiting on people or probes.
    return run;
  }
}

export async function startRun(
  env: RunbookEnv,
  projectId: string,
  runbookId: string,
  startedBy: string,
  input: { hostIds?: string[] | undefined; note?: string | undefined },
): Promise<RunbookRunRow> {
  const book = await findRunbookRow(env.db, projectId, runbookId);
  const chosen = await chooseHosts(env.db, projectId, book.hosts, input.hostIds);
  if (book.steps.some((s) => s.kind === "command") && chosen.length === 0) {
    throw new InvalidInputError("body.hostIds", "this runbook has command steps: choose at least one host");
  }
  const now = env.clock.now();
  const [row] = await env.db
    .insert(runbookRuns)
    .values({
      id: crypto.randomUUID(),
      projectId,
      runbookId,
      runbookName: book.name,
      steps: book.steps,
      stepStates: book.steps.map(blankState),
      hostIds: chosen.map((h) => h.id),
      status: "running",
      currentStep: 0,
      startedBy,
      note: input.note ?? null,
      startedAt: now,
      cas: crypto.randomUUID(),
    })
    .returning();
  if (!row) throw new Error("run insert returned nothing");
  return advance(env, row);
}

export async function findRunRow(db: Db, projectId: string, runId: string): Promise<RunbookRunRow> {
  const row = await db.query.runbookRuns.findFirst({
    where: and(eq(runbookRuns.projectId, projectId), eq(runbookRuns.id, runId)),
  });
  if (!row) throw new NotFoundError("run");
  return row;
}

/** Marks the current step done (a manual step) or skipped (any step under way), then moves on. */
export async function finishStep(
  env: RunbookEnv,
  projectId: string,
  runId: string,
  index: number,
  how: "done" | "skipped",
  who: string,
  note: string | undefined,
  confirmed: string[] = [],
): Promise<RunbookRunRow> {
  const run = await findRunRow(env.db, projectId, runId);
  if (run.status !== "running" && run.status !== "waiting")
    throw new ConflictError(`the run is ${run.status}`);
  if (index !== run.currentStep) {
    throw new ConflictError(`step ${index + 1} is not the current step (step ${run.currentStep + 1} is)`);
  }
  const step = run.steps[index];
  const states = run.stepStates.map((s) => ({ ...s }));
  const state = states[index];
  if (!step || !state) throw new NotFoundError("step");
  if (how === "done" && (step.kind !== "manual" || state.status !== "waiting")) {
    throw new ConflictError("only a manual step waiting for someone can be marked done; skip it instead");
  }
  const shows = (step.shows as string[] | undefined) ?? [];
  states[index] = {
    ...state,
    status: how,
    endedAt: env.clock.now(),
    doneBy: who,
    note: note ?? null,
    confirmed,
    viewsAtEnd: await captureViews(env.db, run, shows),
  };
  if (step.kind === "command") {
    // Commands not picked up yet are withdrawn; ones already running finish on their host unrecorded.
    await env.db
      .update(runbookCommands)
      .set({ status: "refused", output: "withdrawn: the step was skipped", endedAt: env.clock.now() })
      .where(
        and(
          eq(runbookCommands.runId, run.id),
          eq(runbookCommands.stepIndex, index),
          eq(runbookCommands.status, "pending"),
        ),
      );
  }
  const saved = await saveRun(env.db, run, { ...run, stepStates: states, status: "running" });
  return advance(env, saved);
}

export async function cancelRun(
  env: RunbookEnv,
  projectId: string,
  runId: string,
  who: string,
): Promise<RunbookRunRow> {
  const run = await findRunRow(env.db, projectId, runId);
  if (run.status !== "running" && run.status !== "waiting")
    throw new ConflictError(`the run is ${run.status}`);
  await env.db
    .update(runbookCommands)
    .set({ status: "refused", output: "withdrawn: the run was cancelled", endedAt: env.clock.now() })
    .where(and(eq(runbookCommands.runId, run.id), eq(runbookCommands.status, "pending")));
  const states = run.stepStates.map((s) => ({ ...s }));
  const current = states[run.currentStep];
  if (current && current.status !== "done" && current.status !== "failed") {
    states[run.currentStep] = { ...current, note: current.note ?? `cancelled by ${who}` };
  }
  return saveRun(env.db, run, { ...run, stepStates: states, status: "cancelled", endedAt: env.clock.now() });
}

/** Re-weighs a command step from its commands' rows, and moves the run on once every host has answered. */
export async function settleCommandStep(
  env: RunbookEnv,
  projectId: string,
  runId: string,
): Promise<RunbookRunRow> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const run = await findRunRow(env.db, projectId, runId);
    const index = run.currentStep;
    const step = run.steps[index];
    const state = run.stepStates[index];
    if (step?.kind !== "command" || state?.status !== "running") return run;
    const rows = await env.db.query.runbookCommands.findMany({
      where: and(eq(runbookCommands.runId, run.id), eq(runbookCommands.stepIndex, index)),
    });
    if (rows.some((r) => r.status === "pending" || r.status === "running")) return run;
    const ok = rows.every((r) => r.status === "done");
    const states = run.stepStates.map((s) => ({ ...s }));
    states[index] = {
      ...state,
      status: ok ? "done" : "failed",
      endedAt: Math.max(...rows.map((r) => r.endedAt ?? 0), state.startedAt ?? 0),
      output: ok
        ? null
        : `${rows.filter((r) => r.status !== "done").length} of ${rows.length} hosts did not succeed`,
    };
    try {
      const saved = await saveRun(env.db, run, { ...run, stepStates: states });
      return advance(env, saved);
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
    }
  }
  return findRunRow(env.db, projectId, runId);
}

export async function listRunRows(db: Db, projectId: string, runbookId?: string, limit = 50) {
  return db.query.runbookRuns.findMany({
    where: and(
      eq(runbookRuns.projectId, projectId),
      runbookId ? eq(runbookRuns.runbookId, runbookId) : undefined,
    ),
    orderBy: [desc(runbookRuns.startedAt)],
    limit,
  });
}

/** A run as the API shows it, with each command step's per-host outcomes and the hosts' names. */
export async function toRunbookRuns(db: Db, rows: RunbookRunRow[]): Promise<RunbookRun[]> {
  if (rows.length === 0) return [];
  const hostIds = [...new Set(rows.flatMap((r) => r.hostIds))];
  const [names, commands] = await Promise.all([
    hostIds.length
      ? db.query.hosts.findMany({ where: inArray(hosts.id, hostIds), columns: { id: true, name: true } })
      : Promise.resolve([]),
    db.query.runbookCommands.findMany({
      where: inArray(
        runbookCommands.runId,
        rows.map((r) => r.id),
      ),
    }),
  ]);
  const nameOf = (id: string) => names.find((h) => h.id === id)?.name ?? "(deleted host)";
  return rows.map((r) => ({
    id: r.id,
    runbookId: r.runbookId,
    runbookName: r.runbookName,
    status: r.status,
    startedBy: r.startedBy,
    startedAt: r.startedAt,
    endedAt: r.endedAt,
    note: r.note,
    hosts: r.hostIds.map((id) => ({ id, name: nameOf(id) })),
    currentStep: r.currentStep,
    steps: r.steps.map((step, index): RunStep => {
      const state = r.stepStates[index] ?? blankState();
      return {
        index,
        kind: step.kind,
        title: step.title,
        status: state.status,
        startedAt: state.startedAt,
        endedAt: state.endedAt,
        doneBy: state.doneBy,
        note: state.note,
        httpStatus: state.httpStatus,
        output: state.output,
        commands: commands
          .filter((c) => c.runId === r.id && c.stepIndex === index)
          .map((c) => ({
            hostId: c.hostId,
            hostName: nameOf(c.hostId),
            status: c.status,
            exitCode: c.exitCode,
            output: c.output,
            startedAt: c.startedAt,
            endedAt: c.endedAt,
          })),
        views: state.views,
        viewsAtEnd: state.viewsAtEnd ?? {},
        confirmed: state.confirmed ?? [],
      };
    }),
  }));
}
