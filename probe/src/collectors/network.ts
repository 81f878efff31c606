import type { InterfaceRow } from "@vigil/contract";
import { ratePerSecond, roundTo } from "../counters.ts";
import type { NoteSink } from "../notes.ts";
import { readText } from "../platform/files.ts";

/** Loopback and container veth pairs: traffic there never leaves the host and doubles bridge counts. */
export const DEFAULT_SKIPPED_INTERFACES = [/^lo$/, /^veth/];

export interface InterfaceCounters {
  rxBytes: number;
  rxErrors: number;
  rxDrops: number;
  txBytes: number;
  txErrors: number;
  txDrops: number;
}

export interface NetworkReading {
  ts: number;
  interfaces: Map<string, InterfaceCounters>;
}

export function parseNetDev(text: string, ts: number, skipped = DEFAULT_SKIPPED_INTERFACES): NetworkReading {
  const interfaces = new Map<string, InterfaceCounters>();
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    if (!name || skipped.some((pattern) => pattern.test(name))) continue;
    const f = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    if (f.length < 16 || !f.every(Number.isFinite)) continue;
    interfaces.set(name, {
      rxBytes: f[0] ?? 0,
      rxErrors: f[2] ?? 0,
      rxDrops: f[3] ?? 0,
      txBytes: f[8] ?? 0,
      txErrors: f[10] ?? 0,
      txDrops: f[11] ?? 0,
    });
  }
  return { ts, interfaces };
}

export async function readNetwork(
  rootDir: string,
  ts: number,
  notes: NoteSink,
  skipped = DEFAULT_SKIPPED_INTERFACES,
): Promise<NetworkReading | undefined> {
  try {
    return parseNetDev(await readText(rootDir, "/proc/net/dev"), ts, skipped);
  } catch (error) {
    notes.failed("network", "/proc/net/dev", error);
    return undefined;
  }
}

export function interfaceRatesBetween(previous: NetworkReading, current: NetworkReading): InterfaceRow[] {
  const elapsedMs = current.ts - previous.ts;
  const rows: InterfaceRow[] = [];
  for (const [name, now] of current.interfaces) {
    const before = previous.interfaces.get(name);
    if (!before || elapsedMs <= 0) continue;
    const rx = ratePerSecond(before.rxBytes, now.rxBytes, elapsedMs);
    const tx = ratePerSecond(before.txBytes, now.txBytes, elapsedMs);
    // A reset (interface re-created) leaves the byte rates unknown: skip the row this interval.
    if (rx === undefined || tx === undefined) continue;
    const row: InterfaceRow = {
      ts: current.ts,
      name,
      rxBytesPerSec: roundTo(rx, 1),
      txBytesPerSec: roundTo(tx, 1),
    };
    const optional = {
      rxErrorsPerSec: ratePerSecond(before.rxErrors, now.rxErrors, elapsedMs),
      txErrorsPerSec: ratePerSecond(before.txErrors, now.txErrors, elapsedMs),
      rxDropsPerSec: ratePerSecond(before.rxDrops, now.rxDrops, elapsedMs),
      txDropsPerSec: ratePerSecond(before.txDrops, now.txDrops, elapsedMs),
    };
    for (const [key, value] of Object.entries(optional)) {
      if (value !== undefined) row[key as keyof typeof optional] = roundTo(value, 3);
    }
    rows.push(row);
  }
  return rows;
}
