import type { HostSample } from "@vigil/contract";
import { clampPercent, ratePerSecond, roundTo } from "../counters.ts";
import type { NoteSink } from "../notes.ts";
import { readText } from "../platform/files.ts";

/** Cumulative counters from /proc/stat, kept between collections to compute rates. */
export interface CpuCounters {
  ts: number;
  /** aggregate "cpu" line jiffies: user nice system idle iowait irq softirq steal */
  jiffies: number[];
  contextSwitches?: number;
}

export interface CpuReading {
  counters?: CpuCounters;
  load?: Pick<HostSample, "load1" | "load5" | "load15">;
  procsRunning?: number;
  threadsTotal?: number;
}

export function parseProcStat(text: string, ts: number): { counters?: CpuCounters; procsRunning?: number } {
  const result: { counters?: CpuCounters; procsRunning?: number } = {};
  let jiffies: number[] | undefined;
  let contextSwitches: number | undefined;
  for (const line of text.split("\n")) {
    const fields = line.trim().split(/\s+/);
    if (fields[0] === "cpu") jiffies = fields.slice(1, 9).map(Number);
    else if (fields[0] === "ctxt") contextSwitches = Number(fields[1]);
    else if (fields[0] === "procs_running") result.procsRunning = Number(fields[1]);
  }
  if (jiffies && jiffies.length >= 4 && jiffies.every(Number.isFinite)) {
    while (jiffies.length < 8) jiffies.push(0);
    result.counters = { ts, jiffies };
    if (contextSwitches !== undefined && Number.isFinite(contextSwitches)) {
      result.counters.contextSwitches = contextSwitches;
    }
  }
  return result;
}

/** /proc/loadavg: "0.85 0.39 0.16 2/97 4236"; the 4th field's total counts every task, i.e. threads. */
export function parseLoadAvg(text: string): Pick<CpuReading, "load" | "threadsTotal"> {
  const [one, five, fifteen, tasks] = text.trim().split(/\s+/);
  const load = { load1: Number(one), load5: Number(five), load15: Number(fifteen) };
  const result: Pick<CpuReading, "load" | "threadsTotal"> = {};
  if ([load.load1, load.load5, load.load15].every((n) => Number.isFinite(n) && n >= 0)) result.load = load;
  const threads = Number(tasks?.split("/")[1]);
  if (Number.isInteger(threads)) result.threadsTotal = threads;
  return result;
}

export async function readCpu(rootDir: string, ts: number, notes: NoteSink): Promise<CpuReading> {
  const reading: CpuReading = {};
  try {
    const stat = parseProcStat(await readText(rootDir, "/proc/stat"), ts);
    if (stat.counters) reading.counters = stat.counters;
    else notes.add("cpu", "/proc/stat has no aggregate cpu line");
    if (stat.procsRunning !== undefined) reading.procsRunning = stat.procsRunning;
  } catch (error) {
    notes.failed("cpu", "/proc/stat", error);
  }
  try {
    Object.assign(reading, parseLoadAvg(await readText(rootDir, "/proc/loadavg")));
  } catch (error) {
    notes.failed("load", "/proc/loadavg", error);
  }
  return reading;
}

/**
 * CPU percentages over the interval between two readings. Each field's delta is clamped at zero because
 * iowait is known to step backwards on idle CPUs; a reset (reboot between readings) yields nothing.
 */
export function cpuUsageBetween(previous: CpuCounters, current: CpuCounters): HostSample["cpu"] | undefined {
  const deltas = current.jiffies.map((value, i) => Math.max(0, value - (previous.jiffies[i] ?? 0)));
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = deltas;
  const total = user + nice + system + idle + iowait + irq + softirq + steal;
  if (total <= 0) return undefined;
  const pct = (jiffies: number) => roundTo(clampPercent((jiffies * 100) / total), 2);
  return {
    userPct: pct(user + nice),
    systemPct: pct(system + irq + softirq),
    iowaitPct: pct(iowait),
    stealPct: pct(steal),
    idlePct: pct(idle),
  };
}

export function contextSwitchRate(previous: CpuCounters, current: CpuCounters): number | undefined {
  if (previous.contextSwitches === undefined || current.contextSwitches === undefined) return undefined;
  const rate = ratePerSecond(previous.contextSwitches, current.contextSwitches, current.ts - previous.ts);
  return rate === undefined ? undefined : roundTo(rate, 1);
}
