/**
 * Rates come from the difference of two counter readings. Counters can go backwards for two reasons:
 * 1. a 32-bit counter wrapped (old NIC drivers, diskstats on 32-bit kernels): the true delta is small
 *    and equals cur + 2^32 - prev;
 * 2. the counter was reset (interface re-created, device re-attached): the delta is unknown.
 * We treat a backwards step as a wrap only when the previous value fit in 32 bits and the wrapped delta is
 * plausible (under 2^31); otherwise it is a reset and the rate is left out for this interval.
 */
const TWO_POW_32 = 2 ** 32;

export function counterDelta(previous: number, current: number): number | undefined {
  if (current >= previous) return current - previous;
  if (previous < TWO_POW_32) {
    const wrapped = current + TWO_POW_32 - previous;
    if (wrapped < TWO_POW_32 / 2) return wrapped;
  }
  return undefined;
}

export function ratePerSecond(previous: number, current: number, elapsedMs: number): number | undefined {
  if (elapsedMs <= 0) return undefined;
  const delta = counterDelta(previous, current);
  return delta === undefined ? undefined : (delta * 1000) / elapsedMs;
}

export function roundTo(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}

export function clampPercent(value: number): number {
  return Math.min(100, Math.max(0, value));
}
