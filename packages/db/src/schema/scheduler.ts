/**
 * Scheduler leases: one row per periodic job. Whichever process (or Worker isolate) holds a job's unexpired
 * lease is the only one running that job, so a second server on the same database is harmless; a holder
 * that dies simply stops renewing, and the next scheduler takes the job once `expires_at` passes.
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
});
export type JobLeaseRow = typeof jobLeases.$inferSelect;
