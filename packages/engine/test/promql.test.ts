import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import {
  counterIncrease,
  counterRate,
  histogramQuantile,
  parseLe,
  type RawPoint,
} from "../src/queries/promql.ts";

// promtool answers thousands of queries per comparison: seconds on an idle machine, more beside other suites.
vi.setConfig({ testTimeout: 60_000 });

const SEC = 1000;
const MIN = 60 * SEC;
const T0 = Date.UTC(2025, 2, 14, 9, 0, 0);

/** Samples every `intervalMs` from `start`, one per value. */
const scrape = (start: number, intervalMs: number, values: readonly number[]): RawPoint[] =>
  values.map((v, i) => [start + i * intervalMs, v]);

/** Evaluation times from `from` to `to` inclusive, `step` apart. */
const every = (from: number, to: number, step: number): number[] =>
  Array.from({ length: Math.floor((to - from) / step) + 1 }, (_, i) => from + i * step);

// ---------------------------------------------------------------------------------------------------
// The Prometheus oracle: each check becomes a `promql_expr_test` of a `promtool test rules` file whose
// expected value is the one OUR function computed, so promtool passing means Prometheus's own engine
// got the same number, bit for bit (promtool compares floats exactly).

interface InputSeries {
  selector: string;
  points: readonly RawPoint[];
}
/** null: Prometheus must return no sample. NaN: it must return NaN. `labels`: the result's, if any. */
interface Check {
  expr: string;
  at: number;
  expected: number | null;
  labels?: string;
}

function promtoolIsInstalled(): void {
  const probe = spawnSync("promtool", ["--version"], { encoding: "utf8" });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      "promtool is not on PATH. These tests compare every value with Prometheus's own PromQL engine and " +
        "are never skipped: install Debian's `prometheus` package (CI does).",
    );
  }
}

function greatestCommonDivisor(a: number, b: number): number {
  return b === 0 ? a : greatestCommonDivisor(b, a % b);
}

const yamlNumber = (v: number) =>
  v === Number.POSITIVE_INFINITY ? ".inf" : v === Number.NEGATIVE_INFINITY ? "-.inf" : String(v);

/**
 * promtool loads a series as one value per `interval` from time 0, `_` marking a missing sample, and
 * evaluates at times relative to 0. Rates and quantiles depend on time differences only, so the whole
 * scenario is shifted to start at 0 and laid on the coarsest grid that holds every sample.
 */
function promtoolTestFile(series: readonly InputSeries[], checks: readonly Check[]): string {
  const times = [...series.flatMap((s) => s.points.map(([ts]) => ts)), ...checks.map((c) => c.at)];
  const origin = Math.min(...times);
  const gridMs =
    series.flatMap((s) => s.points.map(([ts]) => ts - origin)).reduce(greatestCommonDivisor, 0) || MIN;

  const valuesText = (points: readonly RawPoint[]) => {
    const tokens: string[] = [];
    let nextSlot = 0;
    for (const [ts, value] of points) {
      const slot = (ts - origin) / gridMs;
      const missing = slot - nextSlot;
      if (missing === 1) tokens.push("_");
      if (missing > 1) tokens.push(`_x${missing}`);
      tokens.push(String(value));
      nextSlot = slot + 1;
    }
    return tokens.join(" ");
  };
  const expectation = ({ expr, expected, labels = "{}" }: Check) => {
    const sample = (value: string) =>
      `        exp_samples:\n          - labels: ${JSON.stringify(labels)}\n            value: ${value}`;
    if (expected === null) return { expr, samples: "        exp_samples: []" };
    // promtool's exact comparison never equals NaN to NaN, so a NaN is checked as "x != x" being true.
    if (Number.isNaN(expected)) return { expr: `(${expr}) != bool (${expr})`, samples: sample("1") };
    return { expr, samples: sample(yamlNumber(expected)) };
  };

  return [
    "rule_files: []",
    "tests:",
    `  - interval: ${gridMs}ms`,
    "    input_series:",
    ...series.map(
      (s) =>
        `      - series: ${JSON.stringify(s.selector)}\n        values: ${JSON.stringify(valuesText(s.points))}`,
    ),
    "    promql_expr_test:",
    ...checks.map((check) => {
      const { expr, samples } = expectation(check);
      return `      - expr: ${JSON.stringify(expr)}\n        eval_time: ${check.at - origin}ms\n${samples}`;
    }),
    "",
  ].join("\n");
}

function expectPrometheusAgrees(series: readonly InputSeries[], checks: readonly Check[]): void {
  promtoolIsInstalled();
  expect(checks.length).toBeGreaterThan(0);
  const dir = mkdtempSync(join(tmpdir(), "vigil-promql-"));
  try {
    const file = join(dir, "promql.test.yml");
    writeFileSync(file, promtoolTestFile(series, checks));
    const run = spawnSync("promtool", ["test", "rules", file], { encoding: "utf8", timeout: 60_000 });
    const report = `${run.stdout ?? ""}${run.stderr ?? ""}`.replace(/\n{2,}/g, "\n").slice(0, 6000);
    expect(run.status, `promtool disagrees:\n${report}`).toBe(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const windowText = (ms: number) => (ms % SEC === 0 ? `${ms / SEC}s` : `${ms}ms`);

/** rate() and increase() of the series at each time, as checks carrying our values. */
function rateChecks(series: InputSeries, at: readonly number[], windowMs: number): Check[] {
  const rates = counterRate(series.points, at, windowMs);
  const increases = counterIncrease(series.points, at, windowMs);
  // rate() keeps the series' labels and drops its name.
  const labels = series.selector.replace(/^[^{]*/, "") || "{}";
  const range = `${series.selector}[${windowText(windowMs)}]`;
  return at.flatMap((t, i) => [
    { expr: `rate(${range})`, at: t, expected: rates[i] ?? null, labels },
    { expr: `increase(${range})`, at: t, expected: increases[i] ?? null, labels },
  ]);
}

// ---------------------------------------------------------------------------------------------------

describe("counter rates, as PromQL's rate() and increase()", () => {
  const steady = scrape(
    T0,
    15 * SEC,
    Array.from({ length: 41 }, (_, i) => 150 * i),
  );

  it("a counter rising 150 per 15-second scrape has a rate of 10 per second and grows 3000 in five minutes", () => {
    const at = [T0 + 5 * MIN, T0 + 5 * MIN + 5 * SEC, T0 + 10 * MIN];
    expect(counterRate(steady, at, 5 * MIN)).toEqual([10, expect.closeTo(10, 9), 10]);
    expect(counterIncrease(steady, at, 5 * MIN)).toEqual([3000, expect.closeTo(3000, 9), 3000]);
  });

  it("a steady counter matches Prometheus at every 7 seconds, in and between scrapes, for three windows", () => {
    const at = every(T0, T0 + 11 * MIN, 7 * SEC);
    const requests = { selector: "requests_total", points: steady };
    expectPrometheusAgrees(
      [requests],
      [1, 5, 10].flatMap((minutes) => rateChecks(requests, at, minutes * MIN)),
    );
  });

  it("a window of an odd number of milliseconds is divided into seconds as Go does, to the last bit", () => {
    const requests = { selector: "requests_total", points: steady };
    expectPrometheusAgrees([requests], rateChecks(requests, every(T0, T0 + 3 * MIN, 2 * SEC), 31_952));
  });

  it("a counter that restarts mid-window counts the restart as an increase from zero", () => {
    const restarted = scrape(T0, 15 * SEC, [100, 110, 120, 5, 15]);
    // 100 → 120 is 20, the restart to 5 counts 5 (from zero), 5 → 15 is 10.
    expect(counterIncrease(restarted, [T0 + MIN], MIN)).toEqual([35]);
    expect(counterRate(restarted, [T0 + MIN], MIN)).toEqual([expect.closeTo(35 / 60, 12)]);
    const series = { selector: "restarted_total", points: restarted };
    expectPrometheusAgrees([series], rateChecks(series, every(T0, T0 + 2 * MIN, 5 * SEC), MIN));
  });

  it("a window holding fewer than two samples has no rate", () => {
    const sparse = scrape(T0, 5 * MIN, [0, 600, 1200]);
    expect(counterRate(sparse, [T0, T0 + 5 * MIN], 2 * MIN)).toEqual([null, null]);
    expect(counterRate([], [T0], 2 * MIN)).toEqual([null]);
  });

  it("sparse samples are extrapolated to the window's end when the gap is under 1.1 scrape intervals", () => {
    const sparse = scrape(T0, 5 * MIN, [0, 600, 1200]);
    // [T0-30s, T0+5m30s] holds 0 and 600: the start is not extrapolated below the counter's zero at T0,
    // the 30 s after the last sample are, so 600 over 300 s becomes 660 over 330 s.
    expect(counterIncrease(sparse, [T0 + 5 * MIN + 30 * SEC], 6 * MIN)).toEqual([expect.closeTo(660, 9)]);
    const at = every(T0 - MIN, T0 + 16 * MIN, 10 * SEC);
    const series = { selector: "sparse_total", points: sparse };
    expectPrometheusAgrees(
      [series],
      [2, 6, 11].flatMap((minutes) => rateChecks(series, at, minutes * MIN)),
    );
  });

  it("a counter that appears mid-window at zero is not extrapolated back before its zero", () => {
    const fresh = scrape(T0 + 3 * MIN, 15 * SEC, [0, 10, 20, 30, 40, 50, 60, 70, 80]);
    expect(counterIncrease(fresh, [T0 + 5 * MIN], 5 * MIN)).toEqual([80]);
    const series = { selector: "fresh_total", points: fresh };
    expectPrometheusAgrees([series], rateChecks(series, every(T0, T0 + 9 * MIN, 5 * SEC), 5 * MIN));
  });

  it("a counter first seen mid-window above zero is extended by only half a scrape interval before it", () => {
    const late = scrape(T0 + 3 * MIN, 15 * SEC, [1000, 1010, 1020, 1030, 1040, 1050, 1060, 1070, 1080]);
    // 80 over the 120 s sampled, stretched by 7.5 s at the start: 80 × 127.5 / 120.
    expect(counterIncrease(late, [T0 + 5 * MIN], 5 * MIN)).toEqual([85]);
    const series = { selector: "late_total", points: late };
    expectPrometheusAgrees([series], rateChecks(series, every(T0, T0 + 9 * MIN, 5 * SEC), 5 * MIN));
  });

  it("a counter first seen mid-window is extrapolated back to its zero when that lies within 1.1 scrape intervals", () => {
    const young = scrape(T0 + 3 * MIN, 15 * SEC, [10, 20, 30, 40, 50, 60, 70, 80, 90]);
    // At 10 per scrape it was 0 one scrape (15 s) before the first sample: 80 × 135 / 120. Prometheus
    // 2.51 and later cap this at half a scrape interval and give 85.
    expect(counterIncrease(young, [T0 + 5 * MIN], 5 * MIN)).toEqual([90]);
    const series = { selector: "young_total", points: young };
    expectPrometheusAgrees([series], rateChecks(series, every(T0, T0 + 9 * MIN, 5 * SEC), 5 * MIN));
  });

  it("a sample exactly one window before the evaluation time is inside the window, as in Prometheus 2.x", () => {
    const edged = scrape(T0, MIN, [0, 100, 110, 120, 130, 140]);
    // With the T0 sample the window starts at 0: 140. Prometheus 3 would leave it out and give 50.
    expect(counterIncrease(edged, [T0 + 5 * MIN], 5 * MIN)).toEqual([140]);
    const edges = [T0 + 5 * MIN - 1, T0 + 5 * MIN, T0 + 5 * MIN + 1, T0 + 6 * MIN - 1, T0 + 6 * MIN];
    const series = { selector: "edged_total", points: edged };
    expectPrometheusAgrees([series], rateChecks(series, edges, 5 * MIN));
  });

  it("a jittered scrape with two restarts matches Prometheus at every second over half an hour", () => {
    let seed = 7;
    const nextJitter = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return (seed % 801) - 400;
    };
    let value = 52_000_000;
    const bytes: RawPoint[] = [];
    for (let i = 0; i < 120; i++) {
      value = i === 41 || i === 90 ? 1_000 * i : value + 5_000 + (Math.abs(nextJitter()) % 97) * 100;
      bytes.push([T0 + i * 15 * SEC + nextJitter(), value]);
    }
    const at = every(T0, T0 + 30 * MIN, SEC);
    const series = { selector: 'network_receive_bytes_total{device="eth0"}', points: bytes };
    expectPrometheusAgrees(
      [series],
      [...rateChecks(series, at, 5 * MIN), ...rateChecks(series, at, 67 * SEC)],
    );
  });

  it("a scrape that repeats a timestamp keeps the first value, as Prometheus's storage does", () => {
    const repeated: RawPoint[] = [
      [T0, 0],
      [T0 + 15 * SEC, 150],
      [T0 + 15 * SEC, 9_999],
      [T0 + 30 * SEC, 300],
    ];
    expect(counterIncrease(repeated, [T0 + 30 * SEC], 30 * SEC)).toEqual([300]);
  });

  it("a window that is not positive is refused", () => {
    expect(() => counterRate(steady, [T0], 0)).toThrow(RangeError);
  });
});

describe("histogram quantiles, as PromQL's histogram_quantile()", () => {
  it("the 90th percentile of 100 observations interpolates inside the bucket that holds the 90th", () => {
    // 80 observations are ≤ 0.5 and 95 are ≤ 1: the 90th is 10/15 of the way from 0.5 to 1.
    const buckets = [
      [0.1, 50],
      [0.5, 80],
      [1, 95],
      [Number.POSITIVE_INFINITY, 100],
    ] as const;
    expect(histogramQuantile(0.9, buckets)).toBeCloseTo(0.5 + 0.5 * (10 / 15), 12);
  });

  it("a quantile below 0 is -Inf, above 1 is +Inf, and a NaN quantile is NaN", () => {
    const buckets = [
      [1, 5],
      [Number.POSITIVE_INFINITY, 10],
    ] as const;
    expect(histogramQuantile(-0.1, buckets)).toBe(Number.NEGATIVE_INFINITY);
    expect(histogramQuantile(1.1, buckets)).toBe(Number.POSITIVE_INFINITY);
    expect(histogramQuantile(Number.NaN, buckets)).toBeNaN();
  });

  it("without a +Inf bucket, with fewer than two buckets or with no observations there is no quantile", () => {
    const inf = Number.POSITIVE_INFINITY;
    expect(
      histogramQuantile(0.5, [
        [1, 5],
        [2, 10],
      ]),
    ).toBeNaN();
    expect(histogramQuantile(0.5, [[inf, 10]])).toBeNaN();
    expect(
      histogramQuantile(0.5, [
        [1, 0],
        [inf, 0],
      ]),
    ).toBeNaN();
    expect(histogramQuantile(0.5, [])).toBeNaN();
  });

  it("a quantile that only the +Inf bucket reaches is the largest finite bound", () => {
    expect(
      histogramQuantile(0.9, [
        [1, 5],
        [2, 8],
        [Number.POSITIVE_INFINITY, 10],
      ]),
    ).toBe(2);
  });

  it("the lowest bucket interpolates from zero when its bound is positive, and is the answer when it is not", () => {
    const inf = Number.POSITIVE_INFINITY;
    expect(
      histogramQuantile(0.5, [
        [4, 10],
        [inf, 10],
      ]),
    ).toBe(2);
    expect(
      histogramQuantile(0.5, [
        [-1, 10],
        [0, 10],
        [inf, 10],
      ]),
    ).toBe(-1);
  });

  it("a count below the bucket under it is raised to that count, as for buckets rated at slightly different times", () => {
    const inf = Number.POSITIVE_INFINITY;
    // Read as 10, 10, 15, 20: the 12th of 20 observations lies 2/5 of the way from 2 to 3.
    expect(
      histogramQuantile(0.6, [
        [1, 10],
        [2, 8],
        [3, 15],
        [inf, 20],
      ]),
    ).toBeCloseTo(2.4, 12);
  });

  it('buckets with the same bound, such as le="1" and le="1.0", are merged, and their order does not matter', () => {
    const inf = Number.POSITIVE_INFINITY;
    expect(
      histogramQuantile(0.4, [
        [inf, 10],
        [1, 3],
        [1, 2],
      ]),
    ).toBe(0.8);
  });

  it("the 0th percentile with an empty lowest bucket is NaN, as Prometheus divides 0 by 0 there", () => {
    expect(
      histogramQuantile(0, [
        [1, 0],
        [2, 5],
        [Number.POSITIVE_INFINITY, 5],
      ]),
    ).toBeNaN();
  });

  const layouts: Record<string, [le: string, count: number][]> = {
    // The client libraries' default buckets, for request latency in seconds.
    latency: [
      [".005", 120],
      [".01", 310],
      [".025", 890],
      [".05", 1520],
      [".1", 1904],
      [".25", 1987],
      [".5", 1996],
      ["1", 1999],
      ["2.5", 2000],
      ["5", 2000],
      ["10", 2000],
      ["+Inf", 2003],
    ],
    exponentNotation: [
      ["1e-3", 4],
      ["1e-2", 9],
      ["1e-1", 27],
      ["1e0", 31],
      ["+Inf", 31],
    ],
    noInfBucket: [
      ["1", 3],
      ["2", 5],
    ],
    onlyInf: [["+Inf", 8]],
    noObservations: [
      ["1", 0],
      ["2", 0],
      ["+Inf", 0],
    ],
    negativeAndZeroBounds: [
      ["-10", 2],
      ["-1", 5],
      ["0", 9],
      ["5", 14],
      ["+Inf", 15],
    ],
    nonMonotonic: [
      ["0.1", 10],
      ["0.2", 7],
      ["0.4", 12],
      ["0.8", 11],
      ["+Inf", 20],
    ],
    duplicateBounds: [
      ["1", 3],
      ["1.0", 2],
      ["1e0", 1],
      ["2", 9],
      ["+Inf", 12],
    ],
    emptyLowestBucket: [
      ["0.5", 0],
      ["1", 4],
      ["+Inf", 4],
    ],
    allInInf: [
      ["1", 0],
      ["2", 0],
      ["+Inf", 6],
    ],
    ratesNotCounts: [
      ["0.25", 0.2],
      ["0.5", 0.7333333333333333],
      ["1", 1.1],
      ["+Inf", 1.3666666666666667],
    ],
  };
  const quantiles = [Number.NaN, -0.5, 0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1, 1.5];
  const promqlNumber = (q: number) => (Number.isNaN(q) ? "NaN" : String(q));

  it("matches Prometheus on instant buckets of eleven layouts for quantiles from -0.5 to 1.5 and NaN", () => {
    const series: InputSeries[] = [];
    const checks: Check[] = [];
    for (const [name, buckets] of Object.entries(layouts)) {
      for (const [le, count] of buckets)
        series.push({ selector: `${name}_bucket{le="${le}"}`, points: [[T0, count]] });
      const parsed = buckets.map(([le, count]) => [parseLe(le), count] as const);
      for (const q of quantiles) {
        checks.push({
          expr: `histogram_quantile(${promqlNumber(q)}, ${name}_bucket)`,
          at: T0,
          expected: histogramQuantile(q, parsed),
        });
      }
    }
    // Half of 2003 is the 1001.5th observation: between the 890 below 0.025 and the 1520 below 0.05.
    const latency = (layouts.latency ?? []).map(([le, count]) => [parseLe(le), count] as const);
    expect(histogramQuantile(0.5, latency)).toBeCloseTo(0.025 + 0.025 * ((1001.5 - 890) / 630), 12);
    expectPrometheusAgrees(series, checks);
  });

  it("histogram_quantile over rate() of bucket counters matches Prometheus, across a restart of the process", () => {
    const bounds = ["0.05", "0.1", "0.25", "0.5", "+Inf"];
    // Per scrape, each bucket gains a share of 40 requests; the process restarts at scrape 30.
    const shares = [0.35, 0.7, 0.9, 0.97, 1];
    const buckets = bounds.map((le, b) => {
      let count = 0;
      const points: RawPoint[] = [];
      for (let i = 0; i < 60; i++) {
        if (i === 30) count = 0;
        count += Math.round(40 * (shares[b] as number) + ((i * (b + 3)) % 7));
        // The 0.25 bucket lands 1.5 s after the others, so its rate briefly breaks the bucket order.
        points.push([T0 + i * 15 * SEC + (b === 2 ? 1_500 : 0), count]);
      }
      return { le, points };
    });
    const series = buckets.map(({ le, points }) => ({
      selector: `request_seconds_bucket{le="${le}"}`,
      points,
    }));
    const checks: Check[] = [];
    for (const t of every(T0, T0 + 16 * MIN, 10 * SEC)) {
      const rated = buckets.flatMap(({ le, points }) => {
        const [rate] = counterRate(points, [t], 5 * MIN);
        return rate === null || rate === undefined ? [] : [[parseLe(le), rate] as const];
      });
      for (const q of [0.5, 0.9, 0.99]) {
        // Prometheus emits nothing for a histogram none of whose buckets has a rate yet.
        const expected = rated.length === 0 ? null : histogramQuantile(q, rated);
        checks.push({ expr: `histogram_quantile(${q}, rate(request_seconds_bucket[5m]))`, at: t, expected });
      }
    }
    expectPrometheusAgrees(series, checks);
  });
});

describe("le label parsing", () => {
  it("reads +Inf, plain decimals and exponent notation, and gives NaN for what is not a number", () => {
    expect(parseLe("+Inf")).toBe(Number.POSITIVE_INFINITY);
    expect(parseLe("1e-3")).toBe(0.001);
    expect(parseLe("0.5")).toBe(0.5);
    expect(parseLe("-2.5")).toBe(-2.5);
    expect(parseLe("fast")).toBeNaN();
    expect(parseLe("")).toBeNaN();
    expect(parseLe(" 1")).toBeNaN();
  });

  it("reads every spelling Go's ParseFloat accepts and skips the rest, exactly as Prometheus decides", () => {
    const spellings = [
      ...["Inf", "inf", "-Inf", "infinity", "+INFINITY", "Infinit", "NaN", "nan", "", " 1", "1 "],
      ...["1.", ".5", "00.5", "+.5", "-0", "01", "1.5E3", "1e+2", "1e", "1.5.", "--1", "+1"],
      ...["1_000.5_5", "1e1_0", "0_1", "_1", "1_", "1__0", "1_e2", "1._5"],
      ...[
        "0x1p-2",
        "0X1P+2",
        "0x1.8p1",
        "0x.8p1",
        "0x_1p0",
        "0x1_0p0",
        "0x10",
        "0x",
        "0xp1",
        "0x1p",
        "0b1",
        "0o7",
      ],
      ...["1e400", "1.7976931348623157e308", "1.7976931348623159e308", "1e-400", "5e-324"],
      ...["0x1p-1074", "0x1p-1075", "0x3p-1076", "0x1.fffffffffffff8p1023", "0x1.fffffffffffff7p1023"],
    ];
    // Prometheus skips a bucket whose le it cannot parse, so one histogram pairs the spelling with +Inf
    // (its value comes back as the median) and one with le="7" (+Inf spellings complete it).
    const series: InputSeries[] = [];
    const checks: Check[] = [];
    spellings.forEach((le, i) => {
      const value = parseLe(le);
      series.push(
        { selector: `withinf${i}_bucket{le=${JSON.stringify(le)}}`, points: [[T0, 1]] },
        { selector: `withinf${i}_bucket{le="+Inf"}`, points: [[T0, 2]] },
        { selector: `withseven${i}_bucket{le=${JSON.stringify(le)}}`, points: [[T0, 1]] },
        { selector: `withseven${i}_bucket{le="7"}`, points: [[T0, 1]] },
      );
      const withInf = histogramQuantile(0.5, [
        [value, 1],
        [Number.POSITIVE_INFINITY, 2],
      ]);
      const withSeven = histogramQuantile(0.5, [
        [value, 1],
        [7, 1],
      ]);
      checks.push(
        { expr: `histogram_quantile(0.5, withinf${i}_bucket)`, at: T0, expected: withInf },
        { expr: `histogram_quantile(0.5, withseven${i}_bucket)`, at: T0, expected: withSeven },
      );
    });
    expect(parseLe("0x1.8p1")).toBe(3);
    expect(parseLe("1_000.5_5")).toBe(1000.55);
    expect(parseLe("1e400")).toBeNaN();
    expectPrometheusAgrees(series, checks);
  });
});
