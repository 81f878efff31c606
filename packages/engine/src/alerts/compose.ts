/**
 * Step 3 of the alert pipeline (dispatch.ts): a channel's queued notifications, once the oldest is due, become
 * one message (a delivery), rendered to be sure it can be.
 */
import {
  type NotificationChange,
  type NotificationPayloadV1,
  notificationChangeSchema,
} from "@vigil/contract";
import { type Db, type NotificationRow, notifications } from "@vigil/db";
import { groupTitle, renderAll } from "@vigil/notify";
import { and, asc, eq } from "drizzle-orm";
import {
  type AlertDeps,
  type DispatchReport,
  emptyReport,
  errorText,
  projectName,
  subjectKey,
} from "./deps.ts";

/** Notifications one message carries at most; the rest go in the next. */
const MAX_PER_MESSAGE = 50;

/** Titles of the notices held back because `change`'s subject (a host) was down. */
async function heldBackBy(db: Db, projectId: string, change: NotificationChange): Promise<string[]> {
  if (change.event !== "down" && change.event !== "up") return [];
  const since = change.event === "up" ? change.at - (change.downForMs ?? 0) : change.at;
  const result = await db.$client.execute({
    sql: `select title from notifications where project_id = ? and inhibited_by = ? and created_at >= ?
          order by id limit 21`,
    args: [projectId, subjectKey(change.subject), since],
  });
  const titles = [...new Set(result.rows.map((r) => String(r.title)))];
  return titles.length > 20 ? [...titles.slice(0, 20), "…"] : titles;
}

export async function composeDeliveries(deps: AlertDeps, report = emptyReport()): Promise<DispatchReport> {
  const { db } = deps;
  const now = deps.clock.now();
  const ready = await db.$client.execute({
    sql: `select channel_id from notifications where state = 'queued'
          group by channel_id having min(due_at) <= ? limit 100`,
    args: [now],
  });
  for (const row of ready.rows) {
    const channelId = String(row.channel_id);
    const queued = await db.query.notifications.findMany({
      where: and(eq(notifications.channelId, channelId), eq(notifications.state, "queued")),
      orderBy: [asc(notifications.id)],
      limit: MAX_PER_MESSAGE,
    });
    await composeDelivery(deps, channelId, queued, now, report);
  }
  return report;
}

/** Marks queued notifications `failed` with the error, unless another dispatcher has taken them meanwhile. */
async function failNotifications(db: Db, rows: NotificationRow[], err: unknown): Promise<void> {
  if (rows.length === 0) return;
  const ids = rows.map((n) => n.id);
  await db.$client.execute({
    sql: `update notifications set state = 'failed', suppressed_reason = ?
          where id in (${ids.map(() => "?").join(", ")}) and state = 'queued'`,
    args: [`could not be rendered: ${errorText(err)}`, ...ids],
  });
}

/**
 * Why `payload` cannot be shown (what rendering it throws), or null. Database errors are not caught here:
 * they are no fault of a row, and the next run tries again.
 */
function renderProblem(payload: Omit<NotificationPayloadV1, "title">): unknown {
  try {
    renderAll({ ...payload, title: groupTitle(payload.changes) });
    return null;
  } catch (err) {
    return err;
  }
}

async function composeDelivery(
  deps: AlertDeps,
  channelId: string,
  queued: NotificationRow[],
  now: number,
  report: DispatchReport,
): Promise<void> {
  const { db } = deps;
  const changes: NotificationChange[] = [];
  const good: NotificationRow[] = [];
  const bare = { version: 1 as const, id: "", test: false, url: deps.publicUrl ?? null, sentAt: now };
  // Each notice is read and rendered alone first, so one that cannot be fails by itself.
  for (const n of queued) {
    const parsed = notificationChangeSchema.safeParse(n.change);
    const change = parsed.success
      ? { ...parsed.data, heldBack: await heldBackBy(db, n.projectId, parsed.data) }
      : null;
    const problem = change
      ? renderProblem({ ...bare, project: { id: n.projectId, name: n.projectId }, changes: [change] })
      : parsed.error;
    if (!change || problem) {
      await failNotifications(db, [n], problem);
      report.failed++;
      continue;
    }
    changes.push(change);
    good.push(n);
  }
  const [first] = good;
  if (!first) return;
  const id = crypto.randomUUID();
  const payload: NotificationPayloadV1 = {
    ...bare,
    id,
    project: { id: first.projectId, name: await projectName(db, first.projectId) },
    title: groupTitle(changes),
    changes,
    sentAt: now,
  };
  const problem = renderProblem(payload);
  if (problem) {
    await failNotifications(db, good, problem);
    report.failed += good.length;
    return;
  }
  const ids = good.map((n) => n.id);
  const marks = ids.map(() => "?").join(", ");
  // All or nothing: the delivery exists only if every notification was still queued, and they are
  // marked only if the delivery was made; a racing dispatcher's batch changes nothing.
  await db.$client.batch(
    [
      {
        sql: `insert into deliveries (id, project_id, channel_id, state, title, payload, attempts, next_attempt_at,
                created_at)
              select ?, ?, ?, 'pending', ?, ?, 0, ?, ?
              where (select count(*) from notifications where id in (${marks}) and state = 'queued') = ?`,
        args: [
          id,
          first.projectId,
          channelId,
          payload.title,
          JSON.stringify(payload),
          now,
          now,
          ...ids,
          ids.length,
        ],
      },
      {
        sql: `update notifications set state = 'batched', delivery_id = ?
              where id in (${marks}) and state = 'queued' and exists (select 1 from deliveries where id = ?)`,
        args: [id, ...ids, id],
      },
    ],
    "write",
  );
  report.deliveries++;
}
