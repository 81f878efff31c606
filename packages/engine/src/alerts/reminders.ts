/**
 * Step 2 of the alert pipeline (dispatch.ts): "still down" reminders for subjects that stay down, every
 * `reminderSec` of the channel, at most `reminderLimit` times an outage (a new outage starts the count anew).
 */
import type { NotificationChange } from "@vigil/contract";
import { channels, type Db, type FlipRow, type InStatement, type ReminderRow, reminders } from "@vigil/db";
import { asc, eq, lte } from "drizzle-orm";
import { type AlertDeps, type DispatchReport, emptyReport } from "./deps.ts";
import { describeFlip } from "./describe.ts";
import { insertNotification, stillBad } from "./queue.ts";
import { suppressionFor } from "./silences.ts";

async function latestStatus(
  db: Db,
  reminder: ReminderRow,
): Promise<{ flip: FlipRow | undefined; to: string | null }> {
  const flip = await db.query.flips.findFirst({ where: (f, { eq }) => eq(f.id, reminder.flipId) });
  const latest = await db.$client.execute({
    sql: `select to_status from flips where project_id = ? and subject_type = ? and subject_id = ?
          order by id desc limit 1`,
    args: [reminder.projectId, reminder.subjectType, reminder.subjectId],
  });
  const to = latest.rows[0]?.to_status;
  return { flip, to: typeof to === "string" ? to : null };
}

export async function queueReminders(deps: AlertDeps, report = emptyReport()): Promise<DispatchReport> {
  const { db } = deps;
  const now = deps.clock.now();
  const due = await db.query.reminders.findMany({
    where: lte(reminders.nextAt, now),
    orderBy: [asc(reminders.nextAt)],
    limit: 100,
  });
  for (const reminder of due) {
    const forget: InStatement = {
      sql: "delete from reminders where channel_id = ? and subject_type = ? and subject_id = ? and next_at = ?",
      args: [reminder.channelId, reminder.subjectType, reminder.subjectId, reminder.nextAt],
    };
    const channel = await db.query.channels.findFirst({ where: eq(channels.id, reminder.channelId) });
    const { flip, to } = await latestStatus(db, reminder);
    const subject = flip && to && stillBad(to) ? await describeFlip(db, flip) : null;
    const capped = channel?.reminderLimit != null && reminder.sent >= channel.reminderLimit;
    if (!channel?.enabled || !channel.reminderSec || capped || !flip || !subject) {
      await db.$client.execute(forget);
      continue;
    }
    const suppression = await suppressionFor(db, reminder.projectId, subject, now);
    const change: NotificationChange = {
      event: "down",
      subject,
      from: flip.fromStatus,
      to: flip.toStatus,
      cause: flip.cause,
      at: flip.at,
      downForMs: now - flip.at,
      reminder: true,
      heldBack: [],
    };
    // `changes()` is 1 only when this dispatcher moved the reminder on, so a racing one queues nothing.
    await db.$client.batch(
      [
        {
          sql: `update reminders set next_at = ?, sent = sent + 1
                where channel_id = ? and subject_type = ? and subject_id = ? and next_at = ?`,
          args: [
            now + channel.reminderSec * 1000,
            channel.id,
            reminder.subjectType,
            reminder.subjectId,
            reminder.nextAt,
          ],
        },
        insertNotification(channel, "reminder", flip.id, change, suppression, now, "where changes() = 1"),
      ],
      "write",
    );
    report.reminders++;
  }
  return report;
}
