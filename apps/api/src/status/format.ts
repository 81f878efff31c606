/** Words, colours and dates the status page, feed and badges share. */
import type { ComponentState, IncidentProgressName, OverallStatus } from "@vigil/contract";

export const bannerText: Record<OverallStatus, string> = {
  operational: "All systems operational",
  degraded: "Degraded performance",
  partial_outage: "Partial outage",
  major_outage: "Major outage",
  maintenance: "Under maintenance",
};

export const stateText: Record<ComponentState, string> = {
  operational: "Operational",
  degraded: "Degraded",
  outage: "Outage",
  maintenance: "Maintenance",
  unknown: "No data",
};

export const progressText: Record<IncidentProgressName, string> = {
  investigating: "Investigating",
  identified: "Identified",
  monitoring: "Monitoring",
  resolved: "Resolved",
};

/** Badge colours (white text on them meets 4.5:1). */
export const stateColour: Record<ComponentState | OverallStatus, string> = {
  operational: "#1a7f37",
  degraded: "#9a6700",
  partial_outage: "#bc4c00",
  outage: "#cf222e",
  major_outage: "#cf222e",
  maintenance: "#0969da",
  unknown: "#57606a",
};

/** A day's bar level, by uptime: no data, full, a little, some, much down time. */
export function barLevel(uptime: number | null, degradedMs: number): string {
  if (uptime === null) return "none";
  if (uptime >= 0.9995) return degradedMs > 0 ? "minor" : "ok";
  if (uptime >= 0.99) return "minor";
  if (uptime >= 0.95) return "partial";
  return "major";
}

export function percent(ratio: number | null, digits = 2): string {
  if (ratio === null) return "no data";
  // Never round a bad day up to a perfect one.
  const factor = 10 ** digits;
  return `${(Math.floor(ratio * 100 * factor) / factor).toFixed(digits)}%`;
}

const formats = new Map<string, Intl.DateTimeFormat>();
/** "27 Nov 2026, 14:05" in the page's time zone. */
export function dateTime(tz: string, t: number): string {
  let f = formats.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat("en-GB", { timeZone: tz, dateStyle: "medium", timeStyle: "short" });
    formats.set(tz, f);
  }
  return f.format(t);
}

export const statusPath = (slug: string) => `/status/${encodeURIComponent(slug)}`;

/** Escapes text for XML and HTML, attributes included. */
export const escapeXml = (s: string) => s.replace(/[<>&"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
