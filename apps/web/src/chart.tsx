/**
 * One uPlot time chart: series of min/avg/max points (the avg is drawn), deploy markers as vertical lines
 * with their message as a tooltip-free label below the chart (keyboard and screen readers get a list).
 */
import type { HostEvent } from "@vigil/contract";
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface ChartSeries {
  label: string;
  /** a null avg is a gap in the line (a rate with too few samples, a target that stopped answering) */
  points: { ts: number; avg: number | null }[];
}

const palette = ["#2563eb", "#d97706", "#059669", "#db2777", "#7c3aed", "#0891b2", "#65a30d", "#dc2626"];

/** Aligns series on the union of their timestamps (seconds, as uPlot wants), null where one has no point. */
function align(series: ChartSeries[]): uPlot.AlignedData {
  const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p.ts)))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const columns = series.map((s) => {
    const col: (number | null)[] = new Array(xs.length).fill(null);
    for (const p of s.points) col[index.get(p.ts) ?? 0] = p.avg;
    return col;
  });
  return [xs.map((x) => x / 1000), ...columns] as uPlot.AlignedData;
}

function markersPlugin(events: HostEvent[]): uPlot.Plugin {
  return {
    hooks: {
      draw: (u) => {
        const { ctx } = u;
        ctx.save();
        ctx.strokeStyle = "#9333ea";
        ctx.setLineDash([4, 3]);
        ctx.lineWidth = 1.5 * devicePixelRatio;
        for (const e of events) {
          const x = Math.round(u.valToPos(e.at / 1000, "x", true));
          if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
          ctx.beginPath();
          ctx.moveTo(x, u.bbox.top);
          ctx.lineTo(x, u.bbox.top + u.bbox.height);
          ctx.stroke();
        }
        ctx.restore();
      },
    },
  };
}

export function TimeChart(props: {
  title: string;
  series: ChartSeries[];
  events: HostEvent[];
  format?: (v: number) => string;
  max?: number;
  /** the window asked for, in ms: the x axis spans it even when data covers only part of it */
  window: [number, number];
  /** a click within a few pixels of a marker line (the list of markers is the keyboard's way) */
  onMarker?: (event: HostEvent) => void;
  /**
   * Series sampled at their own times (runs from several locations): a line joins each series' points
   * across the others' timestamps instead of breaking there, and a series of few points shows its dots.
   */
  ownTimes?: boolean;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const { title, series, events, format, max, window: span, ownTimes = false } = props;
  const onMarker = useRef(props.onMarker);
  onMarker.current = props.onMarker;
  const shape = series.map((s) => s.label).join("|");

  useEffect(() => {
    const el = box.current;
    if (!el || series.length === 0) return;
    const axisColor = getComputedStyle(el).color;
    const fmt = format ?? ((v: number) => String(Math.round(v * 100) / 100));
    const opts: uPlot.Options = {
      width: el.clientWidth || 600,
      height: 180,
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
      scales: {
        // The range asked for, not the data's extent: one early point must not stretch the axis over years.
        x: { time: true, range: [span[0] / 1000, span[1] / 1000] },
        y: max === undefined ? { range: (_u, _min, hi) => [0, hi > 0 ? hi * 1.1 : 1] } : { range: [0, max] },
      },
      axes: [
        { stroke: axisColor, grid: { stroke: "rgba(128,128,128,.15)" } },
        {
          stroke: axisColor,
          // wide enough for "12.5 MB/s"
          size: 76,
          // Ticks closer than the format shows (0.2, 0.4… bytes on an all-zero series) would repeat a
          // label; each label is shown once.
          values: (_u, vals) =>
            vals.map(fmt).map((label, i, all) => (i > 0 && all[i - 1] === label ? "" : label)),
          grid: { stroke: "rgba(128,128,128,.15)" },
        },
      ],
      series: [
        {},
        ...series.map((s, i) => ({
          label: s.label,
          stroke: palette[i % palette.length],
          width: 1.5,
          value: (_u: uPlot, v: number | null) => (v === null ? "—" : fmt(v)),
          ...(ownTimes
            ? { spanGaps: true, ...(s.points.length <= 60 ? { points: { show: true, size: 5 } } : {}) }
            : {}),
        })),
      ],
      plugins: [markersPlugin(events)],
    };
    const chart = new uPlot(opts, align(series), el);
    plot.current = chart;
    const nearestMarker = (clientX: number) => {
      const rect = chart.over.getBoundingClientRect();
      let best: { e: HostEvent; dx: number } | null = null;
      for (const e of events) {
        const dx = Math.abs(chart.valToPos(e.at / 1000, "x") - (clientX - rect.left));
        if (dx <= 6 && (!best || dx < best.dx)) best = { e, dx };
      }
      return best?.e ?? null;
    };
    chart.over.addEventListener("click", (ev) => {
      const hit = nearestMarker(ev.clientX);
      if (hit) onMarker.current?.(hit);
    });
    chart.over.addEventListener("mousemove", (ev) => {
      chart.over.style.cursor = onMarker.current && nearestMarker(ev.clientX) ? "pointer" : "";
    });
    const resize = new ResizeObserver(() => chart.setSize({ width: el.clientWidth, height: 180 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      chart.destroy();
      plot.current = null;
    };
    // Rebuilt when the set of series or the markers change; new points alone go through setData below.
  }, [shape, events.length, max, span[0], span[1], ownTimes]);

  useEffect(() => {
    plot.current?.setData(align(series));
  }, [series]);

  const hasData = series.some((s) => s.points.some((p) => p.avg !== null));
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      {hasData ? <div ref={box} class="plot" /> : <p class="muted">No data in this range.</p>}
    </figure>
  );
}
