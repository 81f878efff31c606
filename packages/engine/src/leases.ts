/**
 * Job leases: a periodic job runs in one scheduler at a time, however many processes or Worker isolates
 * share the database. A lease is a row (job, owner, expires_at):
 * 1. take: insert the row, or overwrite it only where the current lease has expired (a conditional
 *    UPDATE through the upsert's WHERE); the write either changed one row (ours) or none (someone else's);
 * 2. renew while the job runs, each renewal guarded by owner, so a run that lost its lease learns so;
 * 3. release when done (expires now), so the next tick anywhere may take it at once.
 * A holder that dies stops renewing: its lease lapses after `ttlMs` and the next scheduler takes the job.
 */
import type { Db } from "@vigil/db";

export interface LeaseHandle {
  job: string;
  owner: string;
}

/** Takes the job's lease for `ttlMs` if it is free or expired; true when this owner holds it now. */
export async function takeLease(db: Db, lease: LeaseHandle, now: number, ttlMs: number): Promise<boolean> {
  const result = await db.$client.execute({
    sql: `insert into job_leases (job, owner, taken_at, expires_at) values (?, ?, ?, ?)
          on conflict (job) do update set owner = excluded.owner, taken_at = excluded.taken_at,
            expires_at = excluded.expires_at
          where job_leases.expires_at <= excluded.taken_at or job_leases.owner = excluded.owner`,
    args: [lease.job, lease.owner, now, now + ttlMs],
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

/** Gives the lease up (it expires now), unless someone else holds it by now. */
export async function releaseLease(db: Db, lease: LeaseHandle, now: number): Promise<void> {
  await db.$client.execute({
    sql: "update job_leases set expires_at = ? where job = ? and owner = ? and expires_at > ?",
    args: [now, lease.job, lease.owner, now],
  });
}

export interface LeaseOptions {
  now: () => number;
  ttlMs: number;
  /** how often a running job renews; a third of the TTL unless given */
  renewEveryMs?: number;
}

/**
 * Runs `work` under the job's lease: `{ ran: false }` when another scheduler holds it, so this one skips
 * the job. The lease is renewed while `work` runs and released when it ends, whether it threw or not.
 */
export async function withLease<T>(
  db: Db,
  lease: LeaseHandle,
  options: LeaseOptions,
  work: () => Promise<T>,
): Promise<{ ran: true; result: T } | { ran: false }> {
  if (!(await takeLease(db, lease, options.now(), options.ttlMs))) return { ran: false };
  const renewing = setInterval(
    () => {
      // A failed renewal is retried on the next beat; if they all fail, the lease lapses, which is the point.
      renewLease(db, lease, options.now(), options.ttlMs).catch(() => {});
    },
    options.renewEveryMs ?? Math.max(1, Math.floor(options.ttlMs / 3)),
  );
  try {
    return { ran: true, result: await work() };
  } finally {
    clearInterval(renewing);
    await releaseLease(db, lease, options.now()).catch(() => {});
  }
}
