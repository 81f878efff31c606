/**
 * Rate limits shared by every process and Worker isolate on one database, without a database write per
 * request on the hot paths (pings, status pages, API calls).
 * 1. Each process counts requests per key in a local fixed window, in memory (the limiter object lives in
 *    the per-process state the entry creates, never in module scope).
 * 2. It hands its count to the shared counter in the database (`consumeRate`, table `rate_limits`) every
 *    `share` of the limit, and on every request once the key is within that much of the limit, so the
 *    count all processes see is exact where it matters and coarse where it does not.
 * 3. Once the shared count is past the limit, the process refuses locally until the window ends: a flood
 *    costs no database work at all.
 * Rules with `exact` (enrollment, auto-created checks) hand over every request: they are rare and low.
 * A process may admit at most one batch (`share` × limit) too many per key before the shared count stops
 * it; on Workers each isolate is such a process.
 */
import type { Db } from "@vigil/db";
import { consumeRate, type RateRule, type RateVerdict } from "../accounts/rate-limit.ts";

export type { RateRule, RateVerdict } from "../accounts/rate-limit.ts";

interface LocalWindow {
  /** when this window ends, ms */
  end: number;
  /** the shared count as last seen (every process's requests, this one's included) */
  known: number;
  /** requests counted here and not yet handed to the shared count */
  pending: number;
}

export interface RateLimiterOptions {
  /** fraction of a limit counted locally between two hand-overs (default 0.1) */
  share?: number;
  /** keys kept in memory; beyond it the oldest windows are dropped (default 50,000) */
  maxKeys?: number;
  /** where a failed hand-over is reported; the request is then allowed (a limiter never fails a request) */
  onError?: (err: unknown) => void;
}

export class RateLimiter {
  private readonly windows = new Map<string, LocalWindow>();
  private readonly share: number;
  private readonly maxKeys: number;
  private readonly onError: (err: unknown) => void;

  constructor(options: RateLimiterOptions = {}) {
    this.share = options.share ?? 0.1;
    this.maxKeys = options.maxKeys ?? 50_000;
    this.onError = options.onError ?? ((err) => console.error("rate limit count failed", err));
  }

  /** Counts one request against `key`; a rule with `max` 0 is off. */
  async consume(
    db: Db,
    now: number,
    key: string,
    rule: RateRule,
    options: { exact?: boolean } = {},
  ): Promise<RateVerdict> {
    if (rule.max <= 0) return { allowed: true, retryAfter: null };
    const windowMs = rule.window * 1000;
    let w = this.windows.get(key);
    if (!w || now >= w.end) {
      w = { end: now + windowMs, known: 0, pending: 0 };
      this.remember(key, w, now);
    }
    if (w.known + w.pending >= rule.max) return refused(w, now);
    w.pending++;
    const batch = options.exact ? 1 : Math.max(1, Math.floor(rule.max * this.share));
    if (w.pending < batch && w.known + w.pending < rule.max - batch)
      return { allowed: true, retryAfter: null };

    // Hand over what was counted here; zeroed first, so concurrent requests do not hand it over twice.
    const amount = w.pending;
    w.pending = 0;
    try {
      const shared = await consumeRate(db, now, key, rule, amount);
      w.known = Math.max(w.known, shared.count);
      w.end = shared.windowStart + windowMs;
      if (!shared.allowed) return refused(w, now);
    } catch (err) {
      w.pending += amount;
      this.onError(err);
    }
    return { allowed: true, retryAfter: null };
  }

  private remember(key: string, w: LocalWindow, now: number): void {
    this.windows.delete(key);
    if (this.windows.size >= this.maxKeys) {
      for (const [k, old] of this.windows) if (old.end <= now) this.windows.delete(k);
      // Still full (a flood of distinct keys): the oldest go; at worst they are counted afresh.
      for (const k of this.windows.keys()) {
        if (this.windows.size < this.maxKeys) break;
        this.windows.delete(k);
      }
    }
    this.windows.set(key, w);
  }
}

const refused = (w: LocalWindow, now: number): RateVerdict => ({
  allowed: false,
  retryAfter: Math.max(1, Math.ceil((w.end - now) / 1000)),
});
