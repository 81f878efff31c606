import { type Db, rateLimits } from "@vigil/db";
import { lt, sql } from "drizzle-orm";

export interface RateRule {
  /** window length in seconds */
  window: number;
  /** requests allowed in one window */
  max: number;
}

export interface RateVerdict {
  allowed: boolean;
  /** seconds until the window frees up, when refused */
  retryAfter: number | null;
}

/** The shared count after `consumeRate`: what every process has counted in the current window. */
export interface RateCount extends RateVerdict {
  count: number;
  windowStart: number;
}

/**
 * Counts one request against `key` and says whether it is within the rule: a fixed window kept in the
 * database, so every process and every Worker isolate on one database shares the count.
 * One statement reads, resets (when the window has passed) and increments, so concurrent requests cannot
 * all slip through on a stale read.
 */
export async function consumeRate(
  db: Db,
  now: number,
  key: string,
  rule: RateRule,
  /** requests to count at once (a process handing over what it counted locally) */
  amount = 1,
): Promise<RateCount> {
  const windowMs = rule.window * 1000;
  const expired = now - windowMs;
  const [row] = await db
    .insert(rateLimits)
    .values({ key, windowStart: now, count: amount })
    .onConflictDoUpdate({
      target: rateLimits.key,
      set: {
        count: sql`case when ${rateLimits.windowStart} <= ${expired} then ${amount} else ${rateLimits.count} + ${amount} end`,
        windowStart: sql`case when ${rateLimits.windowStart} <= ${expired} then ${now} else ${rateLimits.windowStart} end`,
      },
    })
    .returning({ count: rateLimits.count, windowStart: rateLimits.windowStart });
  if (!row) return { allowed: true, retryAfter: null, count: amount, windowStart: now };
  const { count, windowStart } = row;
  if (count <= rule.max) return { allowed: true, retryAfter: null, count, windowStart };
  const retryAfter = Math.max(1, Math.ceil((windowStart + windowMs - now) / 1000));
  return { allowed: false, retryAfter, count, windowStart };
}

/** Drops counters whose window ended long ago (the longest rule is a day). */
export async function pruneRateLimits(db: Db, now: number): Promise<void> {
  await db.delete(rateLimits).where(lt(rateLimits.windowStart, now - 2 * 86_400_000));
}
