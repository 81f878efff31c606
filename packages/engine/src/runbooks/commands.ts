/**
 * Runbook commands between the server and a host's probe.
 * - `dispatchCommands`: a command step becomes one row per host. A host whose operator did not enable
 *   runbooks, or whose allow-list leaves the command out, gets a `refused` row at once (its probe would
 *   refuse it too), so the step fails with the reason instead of waiting.
 * - `commandsForHost`: with each batch answer, the host's pending commands (marked running as they go out)
 *   and running ones not yet reported: the probe runs each id at most once, so handing one out again after
 *   a lost answer is harmless. A running command whose probe stayed silent past its timeout and a grace is
 *   given up as timed out.
 * - `expireUnreportedCommands`: the same for hosts that send nothing at all any more (the scheduler, every
 *   minute), so their runs do not wait for a batch that may never come.
 * - `recordCommandResults`: a batch's results, for the host's own commands only; then each affected run
 *   moves on (runs.ts, `settleCommandStep`).
 */
import type { HostFacts, ProbeCommandResult, ProbeRemoteConfig } from "@vigil/contract";
import { commandAllowed } from "@vigil/contract/runbook-rules";
import { hosts, runbookCommands } from "@vigil/db";
import { and, asc, eq, inArray, or, sql } from "drizzle-orm";
import { type RunbookEnv, settleCommandStep } from "./runs.ts";

/** How long past its timeout a handed-out command may stay unreported before it counts as timed out. */
const REPORT_GRACE_MS = 10 * 60_000;
const NOT_REPORTED = `the probe did not report this command within its timeout and ${REPORT_GRACE_MS / 60_000} minutes`;
/** Commands a sweep gives up at most; the rest wait for the next one. */
const SWEEP_LIMIT = 200;
const MAX_HANDED_OUT = 50;

type Runbooks = NonNullable<HostFacts["runbooks"]>;

/** Why a host will not run this command, or null when it will. */
export function commandRefusal(facts: unknown, command: string): string | null {
  const runbooks = (facts as HostFacts | null)?.runbooks as Runbooks | undefined;
  if (!runbooks) return "runbooks are not enabled on this host (vigil-probe --enable-runbooks)";
  if (!commandAllowed(command, runbooks.allow))
    return "the command is outside this host's runbooks.allow list";
  return null;
}

export async function dispatchCommands(
  env: RunbookEnv,
  run: { id: string; projectId: string; hostIds: string[] },
  stepIndex: number,
  command: string,
  timeoutSec: number,
): Promise<void> {
  const now = env.clock.now();
  const targets = await env.db.query.hosts.findMany({
    where: and(eq(hosts.projectId, run.projectId), inArray(hosts.id, run.hostIds)),
    columns: { id: true, facts: true },
  });
  await env.db.insert(runbookCommands).values(
    run.hostIds.map((hostId) => {
      const refusal = commandRefusal(targets.find((h) => h.id === hostId)?.facts ?? null, command);
      return {
        id: crypto.randomUUID(),
        projectId: run.projectId,
        runId: run.id,
        stepIndex,
        hostId,
        command,
        timeoutSec,
        createdAt: now,
        ...(refusal ? { status: "refused" as const, output: refusal, endedAt: now } : {}),
      };
    }),
  );
}

export type HandedCommand = NonNullable<ProbeRemoteConfig["commands"]>[number];

/** The commands a host's probe gets with this batch answer (none when its runbooks are off). */
export async function commandsForHost(
  env: RunbookEnv,
  host: { projectId: string; hostId: string },
  facts: unknown,
): Promise<HandedCommand[] | undefined> {
  const now = env.clock.now();
  const open = await env.db.query.runbookCommands.findMany({
    where: and(
      eq(runbookCommands.hostId, host.hostId),
      eq(runbookCommands.projectId, host.projectId),
      or(eq(runbookCommands.status, "pending"), eq(runbookCommands.status, "running")),
    ),
    orderBy: [asc(runbookCommands.createdAt)],
    limit: MAX_HANDED_OUT,
  });
  if (open.length === 0) return (facts as HostFacts | null)?.runbooks ? [] : undefined;
  const settle = new Set<string>();
  const handed: HandedCommand[] = [];
  for (const row of open) {
    const refusal = commandRefusal(facts, row.command);
    const overdue = row.startedAt !== null && now > row.startedAt + row.timeoutSec * 1000 + REPORT_GRACE_MS;
    if (refusal || overdue) {
      await env.db
        .update(runbookCommands)
        .set(
          refusal
            ? { status: "refused", output: refusal, endedAt: now }
            : { status: "timed-out", output: NOT_REPORTED, endedAt: now },
        )
        .where(
          and(
            eq(runbookCommands.id, row.id),
            or(eq(runbookCommands.status, "pending"), eq(runbookCommands.status, "running")),
          ),
        );
      settle.add(row.runId);
      continue;
    }
    if (row.status === "pending") {
      await env.db
        .update(runbookCommands)
        .set({ status: "running", startedAt: now })
        .where(and(eq(runbookCommands.id, row.id), eq(runbookCommands.status, "pending")));
    }
    handed.push({ id: row.id, command: row.command, timeoutSec: row.timeoutSec });
  }
  for (const runId of settle) await settleCommandStep(env, host.projectId, runId);
  return (facts as HostFacts | null)?.runbooks ? handed : undefined;
}

/** Stores what the host's probe reports of its own commands, then moves their runs on. */
export async function recordCommandResults(
  env: RunbookEnv,
  host: { projectId: string; hostId: string },
  results: ProbeCommandResult[],
): Promise<number> {
  if (results.length === 0) return 0;
  const runs = new Set<string>();
  let stored = 0;
  for (const result of results) {
    const [row] = await env.db
      .update(runbookCommands)
      .set({
        status: result.status,
        exitCode: result.exitCode ?? null,
        output: result.output,
        startedAt: sql`coalesce(${runbookCommands.startedAt}, ${result.startedAt ?? result.endedAt})`,
        endedAt: result.endedAt,
      })
      .where(
        and(
          eq(runbookCommands.id, result.id),
          eq(runbookCommands.hostId, host.hostId),
          eq(runbookCommands.projectId, host.projectId),
          or(eq(runbookCommands.status, "pending"), eq(runbookCommands.status, "running")),
        ),
      )
      .returning({ runId: runbookCommands.runId });
    if (row) {
      stored++;
      runs.add(row.runId);
    }
  }
  for (const runId of runs) await settleCommandStep(env, host.projectId, runId);
  return stored;
}

/**
 * Gives up, as timed out, every handed-out command whose probe stayed silent past its timeout and the
 * grace, in any project (a host that went away sends no batch that would do it), and moves their runs on.
 */
export async function expireUnreportedCommands(env: RunbookEnv): Promise<number> {
  const now = env.clock.now();
  const overdue = await env.db
    .update(runbookCommands)
    .set({ status: "timed-out", output: NOT_REPORTED, endedAt: now })
    .where(
      and(
        eq(runbookCommands.status, "running"),
        inArray(
          runbookCommands.id,
          env.db
            .select({ id: runbookCommands.id })
            .from(runbookCommands)
            .where(
              and(
                eq(runbookCommands.status, "running"),
                sql`${runbookCommands.startedAt} + ${runbookCommands.timeoutSec} * 1000 + ${REPORT_GRACE_MS} < ${now}`,
              ),
            )
            .limit(SWEEP_LIMIT),
        ),
      ),
    )
    .returning({ projectId: runbookCommands.projectId, runId: runbookCommands.runId });
  const runs = new Map(overdue.map((row) => [row.runId, row.projectId]));
  for (const [runId, projectId] of runs) await settleCommandStep(env, projectId, runId);
  return overdue.length;
}
