import { readdirSync } from "node:fs";
import type { NoteSink } from "../notes.ts";
import { underRoot } from "../platform/files.ts";

/** Counts processes as the numeric directories of /proc: the kernel offers no cheaper total. */
export async function countProcesses(rootDir: string, notes: NoteSink): Promise<number | undefined> {
  try {
    const entries = readdirSync(underRoot(rootDir, "/proc"));
    let count = 0;
    for (const name of entries) if (/^\d+$/.test(name)) count++;
    return count;
  } catch (error) {
    notes.failed("processes", "/proc", error);
    return undefined;
  }
}
