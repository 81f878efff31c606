/**
 * Job leases: a periodic job runs in one scheduler at a time, however many processes or Worker isolates
 * share the database, and no more often than its interval. A lease is a row (job, owner, expires_at,
 * last_run_at):
 * 1. take: insert the row, or overwrite it only where the current lease has expired and the job is due (its
 *    last successful run is at least its interval before this firing); a conditional UPDATE through the
 *    upsert's WHERE, so the write either changed one row (ours) or none (someone else's, or not due);
 * 2. renew while the job runs, each renewal guarded by owner, so a run that lost its lease learns so;
 * 3. release when done (the lease expires), recording the firing time as `last_run_at` if the run succeeded,
 *    so the next tick anywhere may take it at once, but a second invocation of the same firing may not.
 * A holder that dies stops renewing: its lease lapses after `ttlMs` and the next scheduler takes the job.
 */
import type { Db } from "@vigil/db";

export interface LeaseHandle {
  job: string;
  owner: string;
}

/**
 * When a job is due. `firedAt` is the moment the scheduler was fired for (a cron trigger's scheduled time,
 * the same for two invocations of one firing); `everyMs` is the job's interval, 0 for "once per firing".
 */
export interface LeaseDue {
  firedAt: number;
  everyMs: number;
}

/** The latest last run at which the job is still due: at least its interval, and at least 1 ms, before. */
const dueIfRunBy = (due: LeaseDue) => due.firedAt - Math.max(1, due.everyMs);

/**
 * Takes the job's lease for `ttlMs` if it is free or expired and, when `due` is given, the job is due;
 * true when this owner holds it now.
 */
export async function takeLease(
  db: Db,
  lease: LeaseHandle,
  now: number,
  ttlMs: number,
  due?: LeaseDue,
): Promise<boolean> {
  const ranBy = due ? dueIfRunBy(due) : null;
  const result = await db.$client.execute({
    sql: `insert into job_leases (job, owner, taken_at, expires_at) values (?, ?, ?, ?)
          on conflict (job) do update set owner = excluded.owner, taken_at = excluded.taken_at,
            expires_at = excluded.expires_at
          where (job_leases.expires_at <= excluded.taken_at or job_leases.owner = excluded.owner)
            and (? is null or job_leases.last_run_at is null or job_leases.last_run_at <= ?)`,
    args: [lease.job, lease.owner, now, now + ttlMs, ranBy, ranBy],
  });
  return result.rowsAffected === 1;
}

/** Extends a held lease; false when it is no longer this owner's (it lapsed and was taken over). */
export async function renewLease(db: Db, lease: LeaseHandle, now: number, ttlMs: number): Promise<boolean> {
  const result = await db.$client.execute({
    sql: "update job_leases set expires_at = ? where job = ? and owner = ?",
    args: [now + ttlMs, lease.job, lease.owner],
  });
  return result.rowsAffected === 1;
}

/**
 * Gives the lease up, unless someone else holds it by now. A released lease expires at 0, not at this
 * scheduler's now, so one whose clock runs behind this one's (another isolate, a Durable Object) may take
 * it at once. `ranAt`, given after a successful run only, is recorded as the job's last run (never moving
 * it back).
 */
export async function releaseLease(db: Db, lease: LeaseHandle, ranAt?: number): Promise<void> {
  const at = ranAt ?? null;
  await db.$client.execute({
    sql: `update job_leases set expires_at = 0, last_run_at = coalesce(max(last_run_at, ?), ?, last_run_at)
          where job = ? and owner = ?`,
    args: [at, at, lease.job, lease.owner],
  });
}

/** Why a lease was not taken: not due yet (it ran recently enough), or another scheduler holds it. */
export type LeaseRefusal = "not-due" | "leased";

async function refusal(db: Db, job: string, due: LeaseDue | undefined): Promise<LeaseRefusal> {
  if (!due) return "leased";
  const { rows } = await db.$client.execute({
    sql: "select last_run_at from job_leases where job = ?",
    args: [job],
  });
  const lastRun = rows[0]?.last_run_at;
  return lastRun !== null && lastRun !== undefined && Number(lastRun) > dueIfRunBy(due)
    ? "not-due"
    : "leased";
}

export interface LeaseOptions {
  now: () => number;
  ttlMs: number;
  /** how often a running job renews; a third of the TTL unless given */
  renewEveryMs?: number;
  /** run only when due; the firing time is recorded as the last run when `work` succeeds */
  due?: LeaseDue;
}

/**
 * Runs `work` under the job's lease: `{ ran: false }` with the reason when the job is not due or another
 * scheduler holds it, so this one skips the job. The lease is renewed while `work` runs and released when
 * it ends, whether it threw or not; only a run that did not throw counts as the job's last run.
 */
export async function withLease<T>(
  db: Db,
  lease: LeaseHandle,
  options: LeaseOptions,
  work: () => Promise<T>,
): Promise<{ ran: true; result: T } | { ran: false; reason: LeaseRefusal }> {
  if (!(await takeLease(db, lease, options.now(), options.ttlMs, options.due))) {
    return { ran: false, reason: await refusal(db, lease.job, options.due) };
  }
  const renewing = setInterval(
    () => {
      // A failed renewal is retried on the next beat; if they all fail, the lease lapses, which is the point.
      renewLease(db, lease, options.now(), options.ttlMs).catch(() => {});
    },
    options.renewEveryMs ?? Math.max(1, Math.floor(options.ttlMs / 3)),
  );
  let succeeded = false;
  try {
    const result = await work();
    succeeded = true;
    return { ran: true, result };
  } finally {
    clearInterval(renewing);
    const ranAt = succeeded ? options.due?.firedAt : undefined;
    await releaseLease(db, lease, ranAt).catch(() => {});
  }
}
