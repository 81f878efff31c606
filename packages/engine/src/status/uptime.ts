/**
 * Uptime per calendar day of a page's time zone, from the daily rows (`uptime_daily`, UTC days).
 * 1. Each UTC day's totals are its stored row plus the stretch the check has been in its current status
 *    (a row is written only when a status ends).
 * 2. A local day that starts and ends on UTC midnights is those rows, summed.
 * 3. Otherwise it is F(end) − F(start), where F(t) is the running total from the first UTC day: the whole
 *    days before t from the rows, plus the part of t's own UTC day before t, integrated over the check's
 *    flips in that part. Only pages off UTC read flips, and only to cut the days at their midnights.
 */
import type { CheckStatus } from "@vigil/db";
import type { LocalDay } from "./local-days.ts";

export const DAY_MS = 86_400_000;

export interface Totals {
  up: number;
  degraded: number;
  down: number;
}

export interface UptimeSeries {
  status: CheckStatus;
  statusChangedAt: number;
  /** stored rows by UTC day */
  rows: Map<number, Totals>;
  /** this check's flips since the first UTC day, oldest first */
  flips: { at: number; from: string; to: string }[];
}

type Bucket = keyof Totals;
const bucketOf: Record<string, Bucket | undefined> = {
  up: "up",
  late: "up",
  degraded: "degraded",
  down: "down",
};

const zero = (): Totals => ({ up: 0, degraded: 0, down: 0 });
const add = (a: Totals, b: Totals): Totals => ({
  up: a.up + b.up,
  degraded: a.degraded + b.degraded,
  down: a.down + b.down,
});
const sub = (a: Totals, b: Totals): Totals => ({
  up: a.up - b.up,
  degraded: a.degraded - b.degraded,
  down: a.down - b.down,
});

/** The check's status at `t` according to its flips (or its current status when none are loaded). */
function statusAt(series: UptimeSeries, t: number): string | null {
  let last: string | null = null;
  for (const f of series.flips) {
    if (f.at > t) return last ?? f.from;
    last = f.to;
  }
  if (last !== null) return last;
  return t >= series.statusChangedAt ? series.status : null;
}

/** Time per bucket within [from, to), both inside one UTC day, from the flips. */
function integrate(series: UptimeSeries, from: number, to: number): Totals {
  const out = zero();
  let status = statusAt(series, from);
  let pos = from;
  for (const f of series.flips) {
    if (f.at <= from) continue;
    if (f.at >= to) break;
    const bucket = status ? bucketOf[status] : undefined;
    if (bucket) out[bucket] += f.at - pos;
    status = f.to;
    pos = f.at;
  }
  const bucket = status ? bucketOf[status] : undefined;
  if (bucket) out[bucket] += to - pos;
  return out;
}

/** Totals per local day (see the header), for `days` ending at or after `now`. */
export function uptimeByLocalDay(series: UptimeSeries, days: readonly LocalDay[], now: number): Totals[] {
  if (days.length === 0) return [];
  const first = (days[0] as LocalDay).start;
  const firstUtc = first - (first % DAY_MS);
  const todayUtc = now - (now % DAY_MS);
  // 1. Whole UTC days, with the open stretch of the current status added.
  const byDay = new Map<number, Totals>();
  for (const [day, totals] of series.rows) if (day >= firstUtc) byDay.set(day, { ...totals });
  const open = bucketOf[series.status];
  if (open) {
    for (let t = Math.max(series.statusChangedAt, firstUtc); t < now; ) {
      const day = t - (t % DAY_MS);
      const end = Math.min(now, day + DAY_MS);
      const entry = byDay.get(day) ?? zero();
      entry[open] += end - t;
      byDay.set(day, entry);
      t = end;
    }
  }
  // Running totals at each UTC midnight: prefix[i] covers [firstUtc, firstUtc + i days).
  const prefix: Totals[] = [zero()];
  for (let day = firstUtc; day <= todayUtc; day += DAY_MS) {
    prefix.push(add(prefix.at(-1) as Totals, byDay.get(day) ?? zero()));
  }
  const running = (at: number): Totals => {
    const t = Math.min(Math.max(at, firstUtc), now);
    const midnight = t - (t % DAY_MS);
    const whole = prefix[(midnight - firstUtc) / DAY_MS] ?? (prefix.at(-1) as Totals);
    return t === midnight ? whole : add(whole, integrate(series, midnight, t));
  };
  return days.map((d) => {
    if (d.start % DAY_MS === 0 && d.end % DAY_MS === 0) {
      let out = zero();
      for (let day = d.start; day < d.end; day += DAY_MS) out = add(out, byDay.get(day) ?? zero());
      return out;
    }
    if (d.start >= now) return zero();
    return sub(running(d.end), running(d.start));
  });
}

/** (up + degraded) / measured, or null when nothing was measured. */
export function uptimeRatio(t: Totals): number | null {
  const total = t.up + t.degraded + t.down;
  return total === 0 ? null : (t.up + t.degraded) / total;
}
