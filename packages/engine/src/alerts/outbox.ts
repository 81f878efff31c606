/**
 * Flips as an outbox: the alert pipeline (dispatch.ts, queue.ts) turns each into notifications.
 * 1. Read the oldest flips that are unclaimed, or claimed so long ago that their dispatcher must have died.
 * 2. Claim each with compare-and-set on the `claimed_at` value that was read, so two dispatchers never
 *    take the same flip; only the rows whose update changed something are returned.
 */
import { type Db, type FlipRow, flips } from "@vigil/db";
import { and, asc, eq, isNull, lt, or } from "drizzle-orm";

/**
 * A claim not marked processed within this long is taken over by the next dispatcher. The dispatcher runs
 * under the scheduler's job lease (a minute, renewed while it runs), so a claim older than that belongs to
 * a run that died; waiting longer would only make its notices late. Taking over a live run's flip is
 * harmless anyway: notifications are unique per (flip, channel).
 */
export const FLIP_CLAIM_LEASE_MS = 60_000;

export async function claimFlips(db: Db, now: number, limit = 100): Promise<FlipRow[]> {
  const candidates = await db.query.flips.findMany({
    where: and(
      isNull(flips.processedAt),
      or(isNull(flips.claimedAt), lt(flips.claimedAt, now - FLIP_CLAIM_LEASE_MS)),
    ),
    orderBy: [asc(flips.id)],
    limit,
  });
  if (candidates.length === 0) return [];
  const results = await db.$client.batch(
    candidates.map((f) => ({
      sql:
        f.claimedAt === null
          ? "update flips set claimed_at = ? where id = ? and claimed_at is null"
          : "update flips set claimed_at = ? where id = ? and claimed_at = ?",
      args: f.claimedAt === null ? [now, f.id] : [now, f.id, f.claimedAt],
    })),
    "write",
  );
  return candidates.filter((_, i) => results[i]?.rowsAffected === 1).map((f) => ({ ...f, claimedAt: now }));
}

/** Gives a claimed flip back at once (its run hit a database error), so the next run needs no lease expiry. */
export async function unclaimFlip(db: Db, flip: FlipRow): Promise<void> {
  if (flip.claimedAt === null) return;
  await db
    .update(flips)
    .set({ claimedAt: null })
    .where(and(eq(flips.id, flip.id), eq(flips.claimedAt, flip.claimedAt), isNull(flips.processedAt)));
}
