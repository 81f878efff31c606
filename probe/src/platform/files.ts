import { readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Every collector reads through a root directory ("/" in production, a fixture tree in tests), so tests
 * exercise the same parsing on copies of real /proc files.
 */
export function underRoot(rootDir: string, absolutePath: string): string {
  return join(rootDir, absolutePath);
}

/**
 * Synchronous on purpose: /proc and /sys are generated in memory and never block on a disk, and a plain
 * read costs a fraction of the CPU of fs/promises' thread-pool round trips, which dominated a collection cycle.
 */
export async function readText(rootDir: string, absolutePath: string): Promise<string> {
  return readFileSync(underRoot(rootDir, absolutePath), "utf8");
}

/** Undefined when the file does not exist: many sources (PSI, swap, reboot-required) are optional. */
export async function readTextIfPresent(rootDir: string, absolutePath: string): Promise<string | undefined> {
  try {
    return await readText(rootDir, absolutePath);
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

export function isMissing(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return code === "ENOENT" || code === "ENOTDIR";
}

/** Parses "Key:   123 kB" style files (/proc/meminfo) into numbers, values in the file's unit. */
export function parseKeyValueNumbers(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const value = Number.parseFloat(line.slice(colon + 1));
    if (Number.isFinite(value)) values.set(line.slice(0, colon).trim(), value);
  }
  return values;
}
