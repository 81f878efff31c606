/**
 * Waiting out another writer. SQLite has one writer at a time per database: a second server process on the
 * same file, or a second replica (Worker isolate) on the same sqld/Turso database, finds the lock taken and
 * gets SQLITE_BUSY. That must never become a 500 that loses an accepted ping or batch, so:
 * 1. embedded files get a busy timeout on every pooled connection (the driver waits for the lock);
 * 2. every call through the client that still fails with BUSY/LOCKED is retried a bounded number of times
 *    after a jittered, growing pause (so two processes that collided do not collide again in step).
 * Retrying is safe because a BUSY call changed nothing: a batch is one transaction that rolled back, a
 * single statement in autocommit did not run. Other errors (constraints, I/O, a lost connection whose
 * outcome is unknown) are never retried here.
 */
import type { Client } from "@libsql/client";

/** How long one call on an embedded file waits inside the driver for another process's lock. */
export const BUSY_TIMEOUT_MS = 1000;

export interface BusyRetry {
  /** further attempts after the first */
  retries: number;
  /** first pause; doubles each time, jittered over [0, pause] */
  baseMs: number;
  maxMs: number;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
}

export const defaultBusyRetry: BusyRetry = {
  retries: 8,
  baseMs: 20,
  maxMs: 1000,
  sleep: (ms) => new Promise((done) => setTimeout(done, ms)),
  random: Math.random,
};

/** True for SQLite's "someone else holds the lock" answers, from the embedded driver or a libSQL server. */
export function isBusyError(err: unknown): boolean {
  for (let e = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^SQLITE_(BUSY|LOCKED)/.test(code)) return true;
    const message = (e as { message?: unknown }).message;
    if (typeof message === "string" && /database (table )?is locked|SQLITE_BUSY|SQLITE_LOCKED/i.test(message))
      return true;
  }
  return false;
}

/** Runs `work`, again after a jittered pause while it fails with BUSY, at most `policy.retries` more times. */
export async function retryOnBusy<T>(
  work: () => Promise<T>,
  policy: BusyRetry = defaultBusyRetry,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (attempt >= policy.retries || !isBusyError(err)) throw err;
      const pause = Math.min(policy.maxMs, policy.baseMs * 2 ** attempt);
      await policy.sleep(Math.round(pause * policy.random()));
    }
  }
}

/**
 * Makes every call through `client` wait out BUSY (see the header). Done on the client rather than at each
 * write path, so pings, batches, scheduler jobs, accounts and migrations all get it and none can forget.
 * Interactive transactions retry only their opening: a BUSY inside one is the caller's to handle.
 */
export function withBusyRetry(client: Client, policy: BusyRetry = defaultBusyRetry): Client {
  // executeMultiple is left alone: its statements commit one by one, so a retry could repeat some.
  for (const method of ["execute", "batch", "migrate", "transaction"] as const) {
    const original = (client[method] as (...args: unknown[]) => Promise<unknown>).bind(client);
    Object.assign(client, { [method]: (...args: unknown[]) => retryOnBusy(() => original(...args), policy) });
  }
  return client;
}
