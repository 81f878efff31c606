/**
 * Lifecycle tasks: a runbook with a schedule is due on it. Its due time is kept by a heartbeat check
 * ("Task: <name>"), so everything heartbeats do applies unchanged: late at the due time, down when the grace
 * is over, alerts through the project's channels, uptime bars, the status page if made public. A run of the
 * runbook that succeeds pings the check, which resets the clock.
 * Unlike a heartbeat that waits for its first ping, a task's check starts `up` and due at the schedule's next
 * time: a task nobody has done yet is still missed when its time passes.
 */
import { createCheckRequestSchema } from "@vigil/contract";
import { checks, type Db, type RunbookRow, runbooks } from "@vigil/db";
import { and, eq } from "drizzle-orm";
import { createCheck, deleteCheck, mutateCheck, updateCheck } from "../checks/checks.ts";
import { heartbeatDeadline } from "../checks/heartbeat.ts";
import { recordPing } from "../checks/pings.ts";
import { nextDueAt } from "../checks/schedule.ts";
import type { Clock } from "../clock.ts";
import { createEngineState, type EngineState } from "../engine-state.ts";

const taskName = (name: string) => `Task: ${name}`.slice(0, 100);

/** Creates, changes or removes the task's check so it matches the runbook's schedule. */
export async function syncTaskCheck(db: Db, clock: Clock, row: RunbookRow): Promise<RunbookRow> {
  const existing = row.taskCheckId
    ? await db.query.checks.findFirst({
        where: and(eq(checks.projectId, row.projectId), eq(checks.id, row.taskCheckId)),
        columns: { id: true },
      })
    : undefined;
  if (!row.schedule) {
    if (existing) await deleteCheck(db, row.projectId, existing.id);
    if (row.taskCheckId === null) return row;
    return setTaskCheck(db, row, null);
  }
  const { cron, tz, graceSec } = row.schedule;
  const settings = { schedule: cron, tz, grace: graceSec };
  if (existing) {
    await updateCheck(db, clock, row.projectId, existing.id, { name: taskName(row.name), ...settings });
    return row;
  }
  const check = await createCheck(
    db,
    clock,
    row.projectId,
    createCheckRequestSchema.parse({
      kind: "heartbeat",
      name: taskName(row.name),
      tags: ["task"],
      description: `Due on the schedule of the runbook "${row.name}"; a succeeded run of it resets the clock.`,
      ...settings,
    }),
  );
  const now = clock.now();
  await mutateCheck(
    db,
    row.projectId,
    check.id,
    (c) => {
      const due = nextDueAt({ schedule: cron, tz, periodSec: null }, now);
      const patch = { status: "up" as const, nextDueAt: due };
      return {
        patch: { ...patch, alertAfter: heartbeatDeadline({ ...c, ...patch }) },
        cause: "task scheduled",
      };
    },
    now,
  );
  return setTaskCheck(db, row, check.id);
}

async function setTaskCheck(db: Db, row: RunbookRow, taskCheckId: string | null): Promise<RunbookRow> {
  await db
    .update(runbooks)
    .set({ taskCheckId })
    .where(and(eq(runbooks.projectId, row.projectId), eq(runbooks.id, row.id)));
  return { ...row, taskCheckId };
}

/** A run of a task's runbook succeeded: the task is done for now (a success ping on its check). */
export async function markTaskDone(
  db: Db,
  clock: Clock,
  state: EngineState | undefined,
  run: { projectId: string; runbookId: string; id: string; startedBy: string },
): Promise<void> {
  const book = await db.query.runbooks.findFirst({
    where: and(eq(runbooks.projectId, run.projectId), eq(runbooks.id, run.runbookId)),
    columns: { taskCheckId: true },
  });
  if (!book?.taskCheckId) return;
  await recordPing(db, clock, state ?? createEngineState(), {
    target: { checkId: book.taskCheckId },
    action: "success",
    exitStatus: null,
    rid: null,
    method: "RUNBOOK",
    body: `run ${run.id}, started by ${run.startedBy}, succeeded`,
    userAgent: "Vigil runbooks",
    remoteAddr: null,
  });
}
