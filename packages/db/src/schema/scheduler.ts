/**
 * Scheduler leases: one row per periodic job. Whichever process (or Worker isolate) holds a job's unexpired
 * lease is the only one running that job, so a second server on the same database is harmless; a holder
 * that dies simply stops renewing, and the next scheduler takes the job once `expires_at` passes.
 * `last_run_at` is when the last successful run was fired, so a job is not run again before its interval
 * (nor twice for one cron firing) by whichever scheduler comes next.
 */
import { sqliteTable, text } from "drizzle-orm/sqlite-core";
import { ms } from "./columns.ts";

export const jobLeases = sqliteTable("job_leases", {
  /** the job's name, as in the scheduler's list */
  job: text("job").primaryKey(),
  /** a random id per scheduler run that took it */
  owner: text("owner").notNull(),
  takenAt: ms("taken_at").notNull(),
  expiresAt: ms("expires_at").notNull(),
  /** the firing time of the last run that succeeded; null until one has */
  lastRunAt: ms("last_run_at"),
});
export type JobLeaseRow = typeof jobLeases.$inferSelect;
