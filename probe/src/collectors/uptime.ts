import type { NoteSink } from "../notes.ts";
import { readText } from "../platform/files.ts";

/** Seconds since boot from /proc/uptime ("280.68 451.43": uptime, idle). */
export async function readUptimeSec(rootDir: string, notes: NoteSink): Promise<number | undefined> {
  try {
    const seconds = Number((await readText(rootDir, "/proc/uptime")).split(/\s+/)[0]);
    return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
  } catch (error) {
    notes.failed("uptime", "/proc/uptime", error);
    return undefined;
  }
}

/** Allocated file handles, system-wide: /proc/sys/fs/file-nr is "allocated  free  max". */
export async function readOpenFds(rootDir: string, notes: NoteSink): Promise<number | undefined> {
  try {
    const allocated = Number((await readText(rootDir, "/proc/sys/fs/file-nr")).trim().split(/\s+/)[0]);
    return Number.isInteger(allocated) && allocated >= 0 ? allocated : undefined;
  } catch (error) {
    notes.failed("fds", "/proc/sys/fs/file-nr", error);
    return undefined;
  }
}
