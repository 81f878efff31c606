/**
 * Vigil's own counters and histograms, kept by one process (or one Worker isolate) in its runtime state
 * and written out in the Prometheus text format (0.0.4). Every family is declared here with its type and
 * help, so a typo in a name fails the type check instead of making a new series.
 */

const COUNTERS = {
  vigil_http_requests_total: "HTTP requests answered, by route pattern, method and status",
  vigil_pings_total: "Heartbeat pings, by outcome",
  vigil_probe_batches_total:
    "Probe batches accepted, by result (stored, duplicate, or queued for the consumer)",
  vigil_queued_batches_total:
    "Queued probe batches consumed, by result (stored, duplicate, invalid: acked unstored, retried)",
  vigil_rate_limited_total: "Requests refused with 429, by limit",
  vigil_scheduler_ticks_total: "Scheduler ticks completed, by result (ok, or failed when a job failed)",
  vigil_scheduler_jobs_total:
    "Scheduled jobs by job and result: ran, skipped-not-due (ran within its interval or this firing), skipped-leased (held elsewhere), failed",
  vigil_deliveries_total: "Notice deliveries attempted by the dispatcher, by result",
  vigil_heartbeat_pings_total: "Dead-man pings sent to VIGIL_HEARTBEAT_URL, by result",
} as const;

const HISTOGRAMS = {
  vigil_scheduler_tick_duration_seconds: {
    help: "Time one scheduler tick took, every job included",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  },
} as const;

export type CounterName = keyof typeof COUNTERS;
export type HistogramName = keyof typeof HISTOGRAMS;
export type Labels = Record<string, string>;

interface HistogramSeries {
  labels: Labels;
  buckets: number[];
  sum: number;
  count: number;
}

/** Series per family are bounded by their labels' values (route patterns, statuses, outcomes). */
export class SelfMetrics {
  private readonly counters = new Map<CounterName, Map<string, { labels: Labels; value: number }>>();
  private readonly histograms = new Map<HistogramName, Map<string, HistogramSeries>>();

  count(name: CounterName, labels: Labels = {}, by = 1): void {
    if (by === 0) return;
    const family = this.counters.get(name) ?? new Map();
    this.counters.set(name, family);
    const key = labelText(labels);
    const series = family.get(key);
    if (series) series.value += by;
    else family.set(key, { labels, value: by });
  }

  observe(name: HistogramName, value: number, labels: Labels = {}): void {
    const family = this.histograms.get(name) ?? new Map();
    this.histograms.set(name, family);
    const key = labelText(labels);
    let series = family.get(key);
    if (!series) {
      series = { labels, buckets: HISTOGRAMS[name].buckets.map(() => 0), sum: 0, count: 0 };
      family.set(key, series);
    }
    const bounds = HISTOGRAMS[name].buckets;
    series.buckets = series.buckets.map((n: number, i: number) => (value <= (bounds[i] ?? 0) ? n + 1 : n));
    series.sum += value;
    series.count += 1;
  }

  /** The value of one counter series (for tests and the readiness report). */
  value(name: CounterName, labels: Labels = {}): number {
    return this.counters.get(name)?.get(labelText(labels))?.value ?? 0;
  }

  /** Counter and histogram families in the text format; families without samples are left out. */
  render(out: Exposition): void {
    for (const [name, family] of this.counters) {
      out.family(name, "counter", COUNTERS[name]);
      for (const s of family.values()) out.sample(name, s.labels, s.value);
    }
    for (const [name, family] of this.histograms) {
      out.family(name, "histogram", HISTOGRAMS[name].help);
      const bounds = HISTOGRAMS[name].buckets;
      for (const s of family.values()) {
        bounds.forEach((le, i) => {
          out.sample(`${name}_bucket`, { ...s.labels, le: String(le) }, s.buckets[i] ?? 0);
        });
        out.sample(`${name}_bucket`, { ...s.labels, le: "+Inf" }, s.count);
        out.sample(`${name}_sum`, s.labels, s.sum);
        out.sample(`${name}_count`, s.labels, s.count);
      }
    }
  }
}

const escapeLabel = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

function labelText(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return "";
  return `{${entries.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",")}}`;
}

const numberText = (n: number) => (Number.isFinite(n) ? String(n) : n > 0 ? "+Inf" : n < 0 ? "-Inf" : "NaN");

/** Text format writer: each family once (HELP, TYPE), then its samples. */
export class Exposition {
  private readonly lines: string[] = [];
  private readonly declared = new Set<string>();

  family(name: string, type: "counter" | "gauge" | "histogram", help: string): void {
    if (this.declared.has(name)) return;
    this.declared.add(name);
    this.lines.push(
      `# HELP ${name} ${help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`,
      `# TYPE ${name} ${type}`,
    );
  }

  sample(name: string, labels: Labels, value: number): void {
    this.lines.push(`${name}${labelText(labels)} ${numberText(value)}`);
  }

  /** A gauge family with its samples; nothing when there are none. */
  gauge(name: string, help: string, samples: readonly { labels: Labels; value: number }[]): void {
    if (samples.length === 0) return;
    this.family(name, "gauge", help);
    for (const s of samples) this.sample(name, s.labels, s.value);
  }

  toString(): string {
    return this.lines.length ? `${this.lines.join("\n")}\n` : "";
  }
}
