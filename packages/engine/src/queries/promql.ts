/**
 * PromQL's counter and histogram arithmetic over stored custom-metric samples, so that a rate or a
 * quantile in Vigil reads the same as the one a Prometheus user would see for the same samples.
 *
 * The reference is Prometheus 2.42 (the `promtool` Debian ships, which the tests check against), with
 * the arithmetic done in the same order as Prometheus's so that results agree to the last bit: that is
 * what lets `promtool test rules` compare them exactly. Later releases differ in three corners:
 * - 3.0 opens a range at its start, (t - w, t] instead of [t - w, t]: only a sample exactly w before t
 *   is treated differently.
 * - 2.51 applies the "never extrapolate below zero" bound after the 1.1-interval rule, not before.
 * - 2.49 ignores relative differences under 1e-12 between neighbouring histogram buckets.
 */

/** [epoch ms, value] in time order */
export type RawPoint = [number, number];

/** Extrapolate to a window edge only when the gap to it is under 1.1 mean scrape intervals (Prometheus's rule). */
const EDGE_GAP_TOLERANCE = 1.1;

/**
 * Per-second rate of a counter at each evaluation time t in `at`, as PromQL's `rate(x[windowMs])`
 * computes it: the samples in [t - windowMs, t], counter resets handled (a drop means the counter
 * restarted from 0), extrapolated to the window edges exactly as Prometheus does. null where Prometheus
 * gives no sample: a window with fewer than 2 samples (a NaN sample gives NaN, as in Prometheus).
 */
export function counterRate(
  points: readonly RawPoint[],
  at: readonly number[],
  windowMs: number,
): (number | null)[] {
  return evaluateOverWindows(points, at, windowMs, true);
}

/** Same as counterRate, for `increase()`: the extrapolated increase over the whole window. */
export function counterIncrease(
  points: readonly RawPoint[],
  at: readonly number[],
  windowMs: number,
): (number | null)[] {
  return evaluateOverWindows(points, at, windowMs, false);
}

function evaluateOverWindows(
  points: readonly RawPoint[],
  at: readonly number[],
  windowMs: number,
  perSecond: boolean,
): (number | null)[] {
  if (!(windowMs > 0)) throw new RangeError(`windowMs must be positive, got ${windowMs}`);
  const samples = firstSamplePerTimestamp(points);
  return at.map((t) => {
    const from = firstIndexAtOrAfter(samples, t - windowMs);
    const to = firstIndexAtOrAfter(samples, t + 1); // times are whole ms: the first sample after t
    return extrapolatedIncrease(samples, from, to, t, windowMs, perSecond);
  });
}

/**
 * The increase of the counter samples[from..to) over the window ending at t, per second if asked.
 * 1. Increase = last - first, plus the value before every drop (the counter restarted from 0 there).
 * 2. The gaps between the window edges and the first/last sample are bridged by extrapolating the
 *    samples' slope, but only for a gap shorter than 1.1 mean scrape intervals; a longer gap means the
 *    series starts or ends inside the window, so only half a mean interval is added on that side.
 * 3. At the start, never extrapolate further back than the time the counter would have been 0.
 * 4. Scale the increase by (covered time / sampled time), and divide by the window for a rate.
 */
function extrapolatedIncrease(
  samples: readonly RawPoint[],
  from: number,
  to: number,
  t: number,
  windowMs: number,
  perSecond: boolean,
): number | null {
  const count = to - from;
  const first = samples[from];
  const last = samples[to - 1];
  if (count < 2 || !first || !last) return null;

  let increase = last[1] - first[1];
  for (let i = from + 1; i < to; i++) {
    const before = (samples[i - 1] as RawPoint)[1];
    if ((samples[i] as RawPoint)[1] < before) increase += before;
  }

  const sampledSeconds = (last[0] - first[0]) / 1000;
  const meanIntervalSeconds = sampledSeconds / (count - 1);
  let startGapSeconds = (first[0] - (t - windowMs)) / 1000;
  const endGapSeconds = (t - last[0]) / 1000;
  if (increase > 0 && first[1] >= 0) {
    const secondsSinceZero = sampledSeconds * (first[1] / increase);
    if (secondsSinceZero < startGapSeconds) startGapSeconds = secondsSinceZero;
  }
  // The zero bound above comes before this threshold test, as in 2.42 (2.51 swapped the two).
  const threshold = meanIntervalSeconds * EDGE_GAP_TOLERANCE;
  let coveredSeconds = sampledSeconds;
  coveredSeconds += startGapSeconds < threshold ? startGapSeconds : meanIntervalSeconds / 2;
  coveredSeconds += endGapSeconds < threshold ? endGapSeconds : meanIntervalSeconds / 2;

  let factor = coveredSeconds / sampledSeconds;
  if (perSecond) factor /= goDurationSeconds(windowMs);
  return increase * factor;
}

/**
 * Seconds in a window the way Go's time.Duration.Seconds() computes them (whole seconds plus the
 * nanosecond remainder), so that a rate divides by bit-for-bit the same number as Prometheus.
 */
function goDurationSeconds(ms: number): number {
  const wholeSeconds = Math.trunc(ms / 1000);
  const nanos = (ms - wholeSeconds * 1000) * 1e6;
  return wholeSeconds + nanos / 1e9;
}

/** Prometheus's storage refuses a second sample at a timestamp it already holds, so the first one wins. */
function firstSamplePerTimestamp(points: readonly RawPoint[]): readonly RawPoint[] {
  let repeats = false;
  for (let i = 1; i < points.length && !repeats; i++) {
    repeats = (points[i] as RawPoint)[0] === (points[i - 1] as RawPoint)[0];
  }
  if (!repeats) return points;
  return points.filter((p, i) => i === 0 || p[0] !== (points[i - 1] as RawPoint)[0]);
}

function firstIndexAtOrAfter(samples: readonly RawPoint[], ts: number): number {
  let lo = 0;
  let hi = samples.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((samples[mid] as RawPoint)[0] < ts) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

interface Bucket {
  le: number;
  count: number;
}

/**
 * PromQL `histogram_quantile(q, ...)` for one classic histogram at one instant. `buckets` are
 * [upper bound `le` (Infinity for "+Inf"), cumulative count or its rate], in any order.
 * 1. q < 0 gives -Inf, q > 1 gives +Inf and a NaN q gives NaN, before the buckets are looked at.
 * 2. Without a +Inf bucket there is no total, so NaN. Buckets with the same bound are merged, and a
 *    count lower than the one below it is raised to it (buckets scraped or rated at slightly different
 *    times); then fewer than 2 buckets, or no observations, give NaN.
 * 3. Find the first bucket whose cumulative count reaches q × total and interpolate linearly inside it,
 *    from 0 for the lowest bucket when its bound is positive (else that bound is the answer). A rank
 *    that only the +Inf bucket reaches gives the largest finite bound.
 * Deviations: no buckets at all gives NaN (Prometheus emits no sample), and buckets whose bound is NaN
 * are left out (Prometheus sorts them to an arbitrary place).
 */
export function histogramQuantile(q: number, buckets: readonly (readonly [number, number])[]): number {
  const usable = buckets.filter(([le]) => !Number.isNaN(le));
  if (usable.length === 0 || Number.isNaN(q)) return Number.NaN;
  if (q < 0) return Number.NEGATIVE_INFINITY;
  if (q > 1) return Number.POSITIVE_INFINITY;

  const sorted: Bucket[] = usable
    .map(([le, count]) => ({ le, count }))
    .sort((a, b) => (a.le < b.le ? -1 : a.le > b.le ? 1 : 0));
  if (sorted.at(-1)?.le !== Number.POSITIVE_INFINITY) return Number.NaN;

  const merged: Bucket[] = [];
  for (const bucket of sorted) {
    const previous = merged.at(-1);
    if (previous && previous.le === bucket.le) previous.count += bucket.count;
    else merged.push({ ...bucket });
  }
  let highest = (merged[0] as Bucket).count;
  for (const bucket of merged) {
    if (bucket.count > highest) highest = bucket.count;
    else if (bucket.count < highest) bucket.count = highest;
  }

  if (merged.length < 2) return Number.NaN;
  const total = (merged.at(-1) as Bucket).count;
  if (total === 0) return Number.NaN;

  let rank = q * total;
  // Bisect over the finite buckets only; falling off their end means the rank lies in +Inf.
  let lo = 0;
  let hi = merged.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((merged[mid] as Bucket).count >= rank) hi = mid;
    else lo = mid + 1;
  }
  const found = merged[lo] as Bucket;
  if (lo === merged.length - 1) return (merged[lo - 1] as Bucket).le;
  if (lo === 0 && found.le <= 0) return found.le;

  let lowerBound = 0;
  let inBucket = found.count;
  const below = merged[lo - 1];
  if (below) {
    lowerBound = below.le;
    inBucket -= below.count;
    rank -= below.count;
  }
  return lowerBound + (found.le - lowerBound) * (rank / inBucket);
}

/**
 * Parses an `le` label value as Prometheus does (Go's strconv.ParseFloat): "+Inf", "1e-3", "0.5", and
 * also Go's rarer forms ("Infinity", "1_000", "0x1p-3"). NaN for what Prometheus skips (not a number, or
 * beyond the float64 range) and for "NaN" itself, a bound no bucket can be ordered by.
 */
export function parseLe(le: string): number {
  if (/^[+-]?inf(inity)?$/i.test(le))
    return le.startsWith("-") ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  const hex = /^[+-]?0x/i.test(le);
  if (le.includes("_") && !underscoresSeparateDigits(le, hex)) return Number.NaN;
  const text = le.replaceAll("_", "");

  let value = Number.NaN;
  if (hex) {
    const parts = /^([+-]?)0x([0-9a-f]*)(?:\.([0-9a-f]*))?p([+-]?\d+)$/i.exec(text);
    if (parts && `${parts[2]}${parts[3] ?? ""}` !== "") {
      const [, sign, whole = "", fraction = "", exponent = "0"] = parts;
      const magnitude = hexFloat(whole + fraction, Number(exponent) - 4 * fraction.length);
      value = sign === "-" ? -magnitude : magnitude;
    }
  } else if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text)) {
    value = Number(text);
  }
  // Go reports a literal beyond the float64 range as an error, and Prometheus then skips the bucket.
  return Number.isFinite(value) ? value : Number.NaN;
}

/** Go allows `_` only between digits, or right after a 0x prefix. */
function underscoresSeparateDigits(text: string, hex: boolean): boolean {
  const isDigit = (c: string) => (hex ? /[0-9a-f]/i : /[0-9]/).test(c);
  let body = text.replace(/^[+-]/, "");
  let previous = "^";
  if (hex) {
    body = body.slice(2);
    previous = "digit";
  }
  for (const c of body) {
    if (isDigit(c)) previous = "digit";
    else if (c === "_") {
      if (previous !== "digit") return false;
      previous = "_";
    } else if (previous === "_") return false;
    else previous = "other";
  }
  return previous !== "_";
}

/**
 * hexDigits × 2^binaryExponent, rounded to the nearest float64 (ties to even) as Go does: the mantissa
 * is cut to the 53 bits a double holds (fewer below the normal range) before the exact power-of-two
 * scaling, so only one rounding happens.
 */
function hexFloat(hexDigits: string, binaryExponent: number): number {
  const mantissa = BigInt(`0x${hexDigits}`);
  if (mantissa === 0n) return 0;
  const bits = mantissa.toString(2).length;
  if (binaryExponent + bits < -1076) return 0;
  if (binaryExponent + bits > 1025) return Number.POSITIVE_INFINITY;
  const lowestBit = Math.max(binaryExponent + bits - 53, -1074);
  const dropped = lowestBit - binaryExponent;
  if (dropped <= 0) return Number(mantissa) * 2 ** binaryExponent;
  let kept = mantissa >> BigInt(dropped);
  const remainder = mantissa - (kept << BigInt(dropped));
  const half = 1n << BigInt(dropped - 1);
  if (remainder > half || (remainder === half && (kept & 1n) === 1n)) kept += 1n;
  return Number(kept) * 2 ** lowestBit;
}
