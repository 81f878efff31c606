/**
 * A host's application metrics (what its probe scraped, or what was pushed for it): one chart per metric
 * family, drawn the way its kind reads best, and each scrape job's health from its `up` series.
 */
import type {
  CustomMetricKind,
  CustomQueryResponse,
  CustomSeries,
  CustomSeriesList,
  HostEvent,
} from "@vigil/contract";
import { useMemo, useState } from "preact/hooks";
import { projectPath } from "../api.ts";
import { useProject } from "../app.tsx";
import { type ChartSeries, TimeChart } from "../chart.tsx";
import { useQuery } from "../query.ts";
import { ago, Badge, bytes, ErrorNote } from "../ui.tsx";

const MAX_CHARTS = 12;
/** What the probe adds to every scrape: shown as the jobs' health, not as charts. */
const SCRAPE_SERIES = new Set(["up", "scrape_duration_seconds", "scrape_samples_scraped"]);
const QUANTILES = [0.5, 0.95];

/**
 * How a family is drawn: stored values (gauges, untyped, a summary's quantile series), a counter's rate
 * per second, a histogram's p50 and p95, or, for a summary or histogram without quantiles or buckets, the
 * mean observation (the rate of `_sum` over the rate of `_count`).
 */
type Plan = "value" | "rate" | "quantile" | "mean";

interface Family {
  name: string;
  kind: CustomMetricKind;
  plan: Plan;
  /** the job label is part of a line's name only when the family's series come from more than one job */
  manyJobs: boolean;
}

const SUFFIX = { histogram: /_(bucket|sum|count|created)$/, summary: /_(sum|count|created)$/ } as const;

/**
 * The families of a host's series.
 * 1. Histograms: `_bucket`, `_sum`, `_count` and `_created` are one family under the name without them.
 * 2. Summaries: the `quantile`-labelled series carry the family's name; `_sum`, `_count`, `_created` fold in.
 * 3. Counters stand alone, except an OpenMetrics `x_created` beside its `x_total`, which is left out.
 * 4. Gauges and untyped series stand alone; the scrape's own series are left to the health table.
 */
function familiesOf(list: CustomSeries[]): Family[] {
  const counters = new Set(list.filter((s) => s.kind === "counter").map((s) => s.name));
  const groups = new Map<
    string,
    { name: string; kind: CustomMetricKind; names: Set<string>; jobs: Set<string> }
  >();
  for (const s of list) {
    if (SCRAPE_SERIES.has(s.name)) continue;
    if (s.kind === "counter" && s.name.endsWith("_created") && counters.has(`${s.name.slice(0, -8)}_total`))
      continue;
    const name =
      s.kind === "histogram" || (s.kind === "summary" && s.labels.quantile === undefined)
        ? s.name.replace(SUFFIX[s.kind], "")
        : s.name;
    const key = `${s.kind}\u0000${name}`;
    const group = groups.get(key) ?? { name, kind: s.kind, names: new Set(), jobs: new Set() };
    group.names.add(s.name);
    group.jobs.add(s.labels.job ?? "");
    groups.set(key, group);
  }
  return [...groups.values()]
    .map((g) => ({
      name: g.name,
      kind: g.kind,
      plan: planFor(g.kind, g.name, g.names),
      manyJobs: g.jobs.size > 1,
    }))
    .sort((a, b) => a.name.localeCompare(b.name) || a.kind.localeCompare(b.kind));
}

function planFor(kind: CustomMetricKind, name: string, names: Set<string>): Plan {
  if (kind === "counter") return "rate";
  if (kind === "histogram") return names.has(`${name}_bucket`) ? "quantile" : "mean";
  if (kind === "summary") return names.has(name) ? "value" : "mean";
  return "value";
}

const titleOf = (f: Family) =>
  f.plan === "rate"
    ? `${f.name} per second`
    : f.plan === "quantile"
      ? `${f.name} (p50, p95)`
      : f.plan === "mean"
        ? `${f.name} (average)`
        : f.kind === "summary"
          ? `${f.name} (quantiles)`
          : f.name;

/** 0.5 → p50, 0.999 → p99.9 */
const percentile = (q: number) => `p${Number((q * 100).toFixed(3))}`;

/** A line's name: its labels but `job` (unless the family spans jobs), `le` and `quantile`. */
function labelText(labels: Record<string, string>, manyJobs: boolean): string {
  return Object.entries(labels)
    .filter(([k]) => k !== "le" && k !== "quantile" && (manyJobs || k !== "job"))
    .map(([k, v]) => `${k}=${v}`)
    .join(", ");
}

/** Null values stay as gaps: a target that stopped answering shows as a break, not a straight line. */
const pointsOf = (s: CustomQueryResponse["series"][number]) =>
  s.points.map((p) => ({ ts: p.ts, avg: p.value }));

/** Three significant digits, with k/M/G for large values, so axis labels fit. */
function number(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${Number((v / 1e9).toPrecision(3))}G`;
  if (a >= 1e6) return `${Number((v / 1e6).toPrecision(3))}M`;
  if (a >= 1e4) return `${Number((v / 1e3).toPrecision(3))}k`;
  return String(Number(v.toPrecision(3)));
}

const seconds = (v: number) =>
  v === 0 ? "0" : Math.abs(v) < 1 ? `${number(v * 1000)} ms` : `${number(v)} s`;

/** Prometheus base units in the name: `_seconds` as time, `_bytes` as sizes. */
function formatFor(f: Family): (v: number) => string {
  if (/_bytes(_total)?$/.test(f.name)) return f.plan === "rate" ? (v) => `${bytes(v)}/s` : bytes;
  if (/_seconds$/.test(f.name) && f.plan !== "rate") return seconds;
  return number;
}

/** What the host page hands down: its window, step, poll and deploy markers. */
interface ChartContext {
  hostId: string;
  /** the host's collection interval, which scrapes follow unless a target sets its own */
  intervalSec: number;
  span: [number, number];
  step: number;
  pollMs: number;
  events: HostEvent[];
  onMarker: (e: HostEvent) => void;
}

export function ApplicationMetrics(props: ChartContext) {
  const { projectId } = useProject();
  const [filter, setFilter] = useState("");
  const list = useQuery<CustomSeriesList>(
    projectPath(projectId, `/metrics?host=${encodeURIComponent(props.hostId)}&limit=5000`),
    { pollMs: 15_000 },
  );
  const families = useMemo(() => familiesOf(list.data?.series ?? []), [list.data]);
  const all = list.data?.series ?? [];
  if (all.length === 0) return list.error ? <ErrorNote error={list.error} /> : null;

  const needle = filter.trim().toLowerCase();
  const matching = needle ? families.filter((f) => f.name.toLowerCase().includes(needle)) : families;
  const shown = matching.slice(0, MAX_CHARTS);
  return (
    <section aria-labelledby="app-metrics">
      <h2 id="app-metrics">Application metrics</h2>
      <ErrorNote error={list.error} />
      <ScrapeHealth series={all} />
      {families.length > 0 && (
        <>
          <div class="log-filters metric-filter">
            <div class="field">
              <label for="f-metric-filter">Filter metrics</label>
              <input
                id="f-metric-filter"
                type="search"
                value={filter}
                placeholder="e.g. http_"
                onInput={(e) => setFilter((e.target as HTMLInputElement).value)}
              />
            </div>
          </div>
          <p class="muted" role="status">
            {needle
              ? `${matching.length} of ${families.length} metric families match "${filter.trim()}"`
              : `${families.length} metric ${families.length === 1 ? "family" : "families"}`}
            {matching.length > MAX_CHARTS && `; showing the first ${MAX_CHARTS}, filter to see others`}
            {list.data?.truncated && " (this host has more series than one listing shows)"}
          </p>
          <div class="charts">
            {shown.map((f) => (
              <FamilyChart key={`${f.kind}:${f.name}`} family={f} {...props} />
            ))}
          </div>
        </>
      )}
    </section>
  );
}

/**
 * One family's chart. Rates and quantiles are evaluated over windows of one step, and a window needs two
 * samples, so their step is at least four scrape intervals (as Grafana's $__rate_interval): finer steps
 * would leave every window with one sample and the chart empty.
 */
function FamilyChart(props: ChartContext & { family: Family }) {
  const { projectId } = useProject();
  const { family: f, span, intervalSec } = props;
  const counting = f.plan !== "value";
  const step = counting ? Math.max(props.step, 4 * intervalSec) : props.step;
  // Ends on a whole step so that polls within one step reuse the cached answer.
  const to = counting ? Math.ceil(span[1] / (step * 1000)) * step * 1000 : span[1];
  const path = (name: string, fn: string) =>
    projectPath(
      projectId,
      `/metrics/query?name=${encodeURIComponent(name)}&host=${encodeURIComponent(props.hostId)}&fn=${fn}` +
        `&from=${to - (span[1] - span[0])}&to=${to}&step=${step}${counting ? `&window=${step}` : ""}`,
    );
  const [first, second] =
    f.plan === "quantile"
      ? QUANTILES.map((q) => path(f.name, `quantile&q=${q}`))
      : f.plan === "mean"
        ? [path(`${f.name}_sum`, "rate"), path(`${f.name}_count`, "rate")]
        : [path(f.name, f.plan), null];
  const options = { pollMs: props.pollMs };
  const a = useQuery<CustomQueryResponse>(first ?? null, options);
  const b = useQuery<CustomQueryResponse>(second ?? null, options);

  const series = useMemo((): ChartSeries[] => {
    const named = (labels: Record<string, string>, suffix: string) =>
      [labelText(labels, f.manyJobs), suffix].filter(Boolean).join(" ") || f.name;
    if (f.plan === "quantile") {
      return [a.data, b.data].flatMap((answer, i) =>
        (answer?.series ?? []).map((s) => ({
          label: named(s.labels, percentile(QUANTILES[i] ?? 0)),
          points: pointsOf(s),
        })),
      );
    }
    if (f.plan === "mean") {
      const counts = new Map((b.data?.series ?? []).map((s) => [JSON.stringify(s.labels), s.points]));
      return (a.data?.series ?? []).map((sum) => {
        const count = new Map((counts.get(JSON.stringify(sum.labels)) ?? []).map((p) => [p.ts, p.value]));
        return {
          label: named(sum.labels, ""),
          points: sum.points.map((p) => {
            const n = count.get(p.ts);
            return { ts: p.ts, avg: p.value === null || !n ? null : p.value / n };
          }),
        };
      });
    }
    return (a.data?.series ?? []).map((s) => ({
      label: named(s.labels, s.labels.quantile ? percentile(Number(s.labels.quantile)) : ""),
      points: pointsOf(s),
    }));
  }, [a.data, b.data, f]);

  const error = a.error ?? b.error;
  if (error) {
    return (
      <figure class="chart">
        <figcaption>{titleOf(f)}</figcaption>
        <ErrorNote error={error} />
      </figure>
    );
  }
  return (
    <TimeChart
      window={span}
      title={titleOf(f)}
      series={series}
      events={props.events}
      onMarker={props.onMarker}
      format={formatFor(f)}
    />
  );
}

/** Each scrape job's latest `up`, with when it was scraped, how long that took and how much it found. */
function ScrapeHealth({ series }: { series: CustomSeries[] }) {
  const jobs = series.filter((s) => s.name === "up" && s.labels.job !== undefined);
  if (jobs.length === 0) return null;
  const latest = (name: string, job: string) =>
    series.find((s) => s.name === name && s.labels.job === job)?.lastValue ?? null;
  return (
    <>
      <h3 id="scrape-targets">Scrape targets</h3>
      <div class="table-wrap">
        <table aria-labelledby="scrape-targets">
          <thead>
            <tr>
              <th scope="col">Job</th>
              <th scope="col">State</th>
              <th scope="col">Last scrape</th>
              <th scope="col">Took</th>
              <th scope="col">Samples</th>
            </tr>
          </thead>
          <tbody>
            {jobs.map((up) => {
              const job = up.labels.job as string;
              const took = latest("scrape_duration_seconds", job);
              const samples = latest("scrape_samples_scraped", job);
              return (
                <tr key={JSON.stringify(up.labels)}>
                  <th scope="row">{job}</th>
                  <td>
                    <Badge tone={up.lastValue === 1 ? "ok" : "bad"}>
                      {up.lastValue === 1 ? "up" : "down"}
                    </Badge>
                  </td>
                  <td>{ago(up.lastTs)}</td>
                  <td>{took === null ? "—" : seconds(took)}</td>
                  <td>{samples === null ? "—" : samples}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </>
  );
}
