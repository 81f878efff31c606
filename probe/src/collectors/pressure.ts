import type { HostSample } from "@vigil/contract";
import type { NoteSink } from "../notes.ts";
import { readTextIfPresent } from "../platform/files.ts";

type Pressure = NonNullable<HostSample["pressure"]>;

/** avg10 of each "some"/"full" line: "some avg10=3.89 avg60=3.03 avg300=2.11 total=10203983". */
export function parsePressureFile(text: string): { some?: number; full?: number } {
  const result: { some?: number; full?: number } = {};
  for (const line of text.split("\n")) {
    const match = /^(some|full)\s+avg10=([\d.]+)/.exec(line.trim());
    if (match?.[1] && match[2]) result[match[1] as "some" | "full"] = Math.min(100, Number(match[2]));
  }
  return result;
}

/** PSI exists from Linux 4.20 with CONFIG_PSI and can be disabled at boot; absence is normal, so one note. */
export async function readPressure(rootDir: string, notes: NoteSink): Promise<Pressure | undefined> {
  try {
    const [cpu, memory, io] = await Promise.all(
      ["cpu", "memory", "io"].map((kind) => readTextIfPresent(rootDir, `/proc/pressure/${kind}`)),
    );
    if (cpu === undefined && memory === undefined && io === undefined) {
      notes.add("pressure", "/proc/pressure not available (kernel without PSI)");
      return undefined;
    }
    const pressure: Pressure = {};
    if (cpu !== undefined) {
      const parsed = parsePressureFile(cpu);
      if (parsed.some !== undefined) pressure.cpuSomePct = parsed.some;
    }
    if (memory !== undefined) {
      const parsed = parsePressureFile(memory);
      if (parsed.some !== undefined) pressure.memorySomePct = parsed.some;
      if (parsed.full !== undefined) pressure.memoryFullPct = parsed.full;
    }
    if (io !== undefined) {
      const parsed = parsePressureFile(io);
      if (parsed.some !== undefined) pressure.ioSomePct = parsed.some;
      if (parsed.full !== undefined) pressure.ioFullPct = parsed.full;
    }
    return pressure;
  } catch (error) {
    // Reading PSI fails with EOPNOTSUPP when compiled in but disabled with psi=0.
    notes.failed("pressure", "/proc/pressure", error);
    return undefined;
  }
}
