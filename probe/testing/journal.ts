/**
 * Real journal files for tests: entries in journald's export format, written to a journal file by
 * systemd-journal-remote, the way journald would have written them. Shared by the probe's collector tests
 * and the server's end-to-end alert test (`@vigil/probe/testing/journal`).
 */
import { execFile } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
export const JOURNAL_REMOTE = "/lib/systemd/systemd-journal-remote";
export const BOOT_ID = "0123456789abcdef0123456789abcdef";
/** 2026-11-27T10:00:00Z in microseconds; entries are one second apart from here unless `baseUs` says. */
export const BASE_US = 1_795_773_600_000_000;

export interface FixtureEntry {
  message: string | Buffer;
  priority: number;
  unit?: string;
  identifier?: string;
  extra?: Record<string, string>;
}

/** One entry in journal export format; binary values use the length-prefixed form. */
export function exportEntry(entry: FixtureEntry, index: number, baseUs = BASE_US): Buffer {
  const parts: Buffer[] = [];
  const field = (key: string, value: string | Buffer) => {
    if (typeof value === "string" && !value.includes("\n")) {
      parts.push(Buffer.from(`${key}=${value}\n`));
      return;
    }
    const bytes = typeof value === "string" ? Buffer.from(value) : value;
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(bytes.length));
    parts.push(Buffer.from(`${key}\n`), length, bytes, Buffer.from("\n"));
  };
  field("__REALTIME_TIMESTAMP", String(baseUs + index * 1_000_000));
  field("__MONOTONIC_TIMESTAMP", String(1_000_000 + index * 1_000_000));
  field("_BOOT_ID", BOOT_ID);
  field("MESSAGE", entry.message);
  field("PRIORITY", String(entry.priority));
  field("_PID", String(4000 + index));
  if (entry.unit) field("_SYSTEMD_UNIT", entry.unit);
  field("SYSLOG_IDENTIFIER", entry.identifier ?? "app");
  for (const [key, value] of Object.entries(entry.extra ?? {})) field(key, value);
  parts.push(Buffer.from("\n"));
  return Buffer.concat(parts);
}

/**
 * Writes `entries` as a new journal file in `intoDir` (a fresh temporary directory unless given) and
 * returns the directory. A new file per call: journalctl --follow notices files appearing, as when
 * journald rotates.
 */
export async function buildJournal(
  entries: FixtureEntry[],
  options: { startIndex?: number; intoDir?: string; baseUs?: number } = {},
): Promise<string> {
  const startIndex = options.startIndex ?? 0;
  const dir = options.intoDir ?? (await mkdtemp(join(tmpdir(), "vigil-journal-")));
  const exportPath = join(dir, `export-${startIndex}.txt`);
  await writeFile(
    exportPath,
    Buffer.concat(entries.map((e, i) => exportEntry(e, startIndex + i, options.baseUs))),
  );
  await run(JOURNAL_REMOTE, [`--output=${join(dir, `system-${startIndex}.journal`)}`, exportPath]);
  return dir;
}
