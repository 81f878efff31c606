import type { HostSample } from "@vigil/contract";
import type { NoteSink } from "../notes.ts";
import { parseKeyValueNumbers, readText } from "../platform/files.ts";

type Memory = NonNullable<HostSample["memory"]>;

/**
 * Memory from /proc/meminfo (values in kB). "used" is total minus available, the figure that matches what
 * the kernel could still hand out; cache counts reclaimable slab as free(1) does.
 */
export function parseMeminfo(text: string): Memory | undefined {
  const kb = parseKeyValueNumbers(text);
  const get = (key: string) => {
    const value = kb.get(key);
    return value === undefined ? undefined : value * 1024;
  };
  const total = get("MemTotal");
  if (total === undefined) return undefined;
  const free = get("MemFree") ?? 0;
  const buffers = get("Buffers") ?? 0;
  const cached = (get("Cached") ?? 0) + (get("SReclaimable") ?? 0);
  // MemAvailable exists since Linux 3.14; older kernels get the classic free+buffers+cache estimate.
  const available = Math.min(total, get("MemAvailable") ?? free + buffers + cached);
  const memory: Memory = {
    totalBytes: total,
    availableBytes: available,
    usedBytes: total - available,
    buffersBytes: buffers,
    cachedBytes: cached,
  };
  const swapTotal = get("SwapTotal");
  if (swapTotal !== undefined) {
    memory.swapTotalBytes = swapTotal;
    memory.swapUsedBytes = Math.max(0, swapTotal - (get("SwapFree") ?? swapTotal));
  }
  return memory;
}

export async function readMemory(rootDir: string, notes: NoteSink): Promise<Memory | undefined> {
  try {
    const memory = parseMeminfo(await readText(rootDir, "/proc/meminfo"));
    if (!memory) notes.add("memory", "/proc/meminfo has no MemTotal");
    return memory;
  } catch (error) {
    notes.failed("memory", "/proc/meminfo", error);
    return undefined;
  }
}
