import type { DiskRow } from "@vigil/contract";
import { clampPercent, counterDelta, ratePerSecond, roundTo } from "../counters.ts";
import type { NoteSink } from "../notes.ts";
import { readText } from "../platform/files.ts";

/** /proc/diskstats counts sectors of 512 bytes whatever the device's real sector size. */
const SECTOR_BYTES = 512;

/** Partitions and virtual devices repeat or fake the I/O of whole disks (same rule as node_exporter). */
const SKIPPED_DEVICE = /^(z?ram|loop|fd|nbd|(h|s|v|xv)d[a-z]+\d+|nvme\d+n\d+p\d+|mmcblk\d+p\d+|sr)\d*$/;

export interface DiskCounters {
  readOps: number;
  readSectors: number;
  writeOps: number;
  writeSectors: number;
  ioMs: number;
}

export interface DiskReading {
  ts: number;
  devices: Map<string, DiskCounters>;
}

export function parseDiskstats(text: string, ts: number): DiskReading {
  const devices = new Map<string, DiskCounters>();
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    const name = f[2];
    if (!name || f.length < 14 || SKIPPED_DEVICE.test(name)) continue;
    devices.set(name, {
      readOps: Number(f[3]),
      readSectors: Number(f[5]),
      writeOps: Number(f[7]),
      writeSectors: Number(f[9]),
      ioMs: Number(f[12]),
    });
  }
  return { ts, devices };
}

export async function readDisks(
  rootDir: string,
  ts: number,
  notes: NoteSink,
): Promise<DiskReading | undefined> {
  try {
    return parseDiskstats(await readText(rootDir, "/proc/diskstats"), ts);
  } catch (error) {
    notes.failed("disks", "/proc/diskstats", error);
    return undefined;
  }
}

/** One row per device seen in both readings whose counters moved forward (or wrapped); resets are skipped. */
export function diskRatesBetween(previous: DiskReading, current: DiskReading): DiskRow[] {
  const elapsedMs = current.ts - previous.ts;
  const rows: DiskRow[] = [];
  for (const [device, now] of current.devices) {
    const before = previous.devices.get(device);
    if (!before || elapsedMs <= 0) continue;
    const readSectors = ratePerSecond(before.readSectors, now.readSectors, elapsedMs);
    const writeSectors = ratePerSecond(before.writeSectors, now.writeSectors, elapsedMs);
    const readOps = ratePerSecond(before.readOps, now.readOps, elapsedMs);
    const writeOps = ratePerSecond(before.writeOps, now.writeOps, elapsedMs);
    if (readSectors === undefined || writeSectors === undefined) continue;
    if (readOps === undefined || writeOps === undefined) continue;
    const row: DiskRow = {
      ts: current.ts,
      device,
      readBytesPerSec: roundTo(readSectors * SECTOR_BYTES, 1),
      writeBytesPerSec: roundTo(writeSectors * SECTOR_BYTES, 1),
      readOpsPerSec: roundTo(readOps, 2),
      writeOpsPerSec: roundTo(writeOps, 2),
    };
    const busyMs = counterDelta(before.ioMs, now.ioMs);
    if (busyMs !== undefined) row.busyPct = roundTo(clampPercent((busyMs * 100) / elapsedMs), 2);
    rows.push(row);
  }
  return rows;
}
