import { spawn } from "node:child_process";
import { access, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { LogEntry } from "@vigil/contract";
import { PROBE_BATCH_LIMITS } from "../limits.ts";
import type { NoteSink } from "../notes.ts";

export interface JournalOptions {
  /** keep entries at this priority or more severe (0 emerg … 7 debug); default 4 = warning */
  minPriority: number;
  /** only these units; empty means all */
  units: string[];
  /** most entries kept per collection; the rest are counted in a note */
  maxEntries: number;
  /** where the cursor lives between runs */
  stateDir: string;
  journalctl?: string;
  /** read journal files from a directory instead of the system journal (tests, containers) */
  directory?: string;
  /** on the very first run (no cursor yet) read this far back, so a new probe does not upload history */
  firstRunLookbackMs?: number;
}

export interface JournalCollection {
  logs: LogEntry[];
  /** cursor of the last entry read; save it with saveJournalCursor once the logs are safely spooled */
  cursor?: string;
}

/** Fields copied onto each entry besides the core ones; chosen because alerts and filters use them. */
const EXTRA_FIELDS = [
  // systemd's own lines about a unit ("nginx.service: Failed with result 'exit-code'") come from PID 1
  // (_SYSTEMD_UNIT=init.scope) and name the unit here: alerts about a failed unit quote them.
  "UNIT",
  "CONTAINER_NAME",
  "CONTAINER_TAG",
  "IMAGE_NAME",
  "_COMM",
  "SYSLOG_FACILITY",
  "_TRANSPORT",
];
const CORE_FIELDS = ["MESSAGE", "PRIORITY", "_SYSTEMD_UNIT", "SYSLOG_IDENTIFIER", "_PID", "_BOOT_ID"];
const MAX_FIELD_CHARS = 4096;
const CURSOR_FILE = "journal.cursor";
export const SYSTEM_JOURNAL_DIRECTORIES = ["/run/log/journal", "/var/log/journal"];

export async function anyExists(paths: string[]): Promise<boolean> {
  for (const path of paths) {
    try {
      await access(path);
      return true;
    } catch {
      // try the next one
    }
  }
  return false;
}

export async function loadJournalCursor(stateDir: string): Promise<string | undefined> {
  try {
    return (await readFile(join(stateDir, CURSOR_FILE), "utf8")).trim() || undefined;
  } catch {
    return undefined;
  }
}

export async function saveJournalCursor(stateDir: string, cursor: string): Promise<void> {
  await mkdir(stateDir, { recursive: true });
  const temporary = join(stateDir, `${CURSOR_FILE}.tmp`);
  await writeFile(temporary, `${cursor}\n`, { mode: 0o600 });
  await rename(temporary, join(stateDir, CURSOR_FILE));
}

/**
 * journalctl's JSON gives each field as a string, as an array of bytes when the value is not valid UTF-8
 * (or holds control characters), or as null when it exceeds 4 KiB and --all was not given. We pass --all
 * together with --output-fields so large values arrive whole but only for the fields we keep, and decode
 * byte arrays leniently (invalid sequences become U+FFFD).
 */
export function decodeJournalValue(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) {
    // A field repeated in one entry arrives as an array of values (strings or byte arrays): keep the first.
    if (value.length > 0 && value.every((b) => typeof b === "number")) {
      return Buffer.from(value as number[]).toString("utf8");
    }
    return value.length > 0 ? decodeJournalValue(value[0]) : undefined;
  }
  return undefined;
}

/** Control characters other than newline and tab would garble terminals and dashboards. */
function withoutControlCharacters(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, "");
}

export function journalRecordToEntry(record: Record<string, unknown>): LogEntry | undefined {
  const realtimeUs = Number(record.__REALTIME_TIMESTAMP);
  if (!Number.isFinite(realtimeUs)) return undefined;
  const rawMessage = record.MESSAGE;
  const decoded = decodeJournalValue(rawMessage);
  const message =
    decoded === undefined
      ? rawMessage === null
        ? "[message too large for journalctl to print]"
        : ""
      : withoutControlCharacters(decoded).slice(0, PROBE_BATCH_LIMITS.logMessage);
  const priority = Number(decodeJournalValue(record.PRIORITY));
  const entry: LogEntry = {
    ts: Math.floor(realtimeUs / 1000),
    // Entries without PRIORITY (rare: raw kernel lines) are treated as info, journald's own default.
    priority: Number.isInteger(priority) && priority >= 0 && priority <= 7 ? priority : 6,
    message,
  };
  const unit = decodeJournalValue(record._SYSTEMD_UNIT);
  if (unit) entry.unit = unit.slice(0, 256);
  const identifier = decodeJournalValue(record.SYSLOG_IDENTIFIER);
  if (identifier) entry.identifier = withoutControlCharacters(identifier).slice(0, 256);
  const pid = Number(decodeJournalValue(record._PID));
  if (Number.isInteger(pid) && pid >= 0) entry.pid = pid;
  const bootId = decodeJournalValue(record._BOOT_ID);
  if (bootId) entry.bootId = bootId.slice(0, 64);
  const fields: Record<string, string> = {};
  for (const name of EXTRA_FIELDS) {
    const value = decodeJournalValue(record[name]);
    if (value !== undefined) fields[name] = withoutControlCharacters(value).slice(0, MAX_FIELD_CHARS);
  }
  if (Object.keys(fields).length > 0) entry.fields = fields;
  return entry;
}

export function journalctlArguments(
  options: JournalOptions,
  cursor: string | undefined,
  now: number,
): string[] {
  const args = [
    "--output=json",
    "--no-pager",
    "--all",
    `--output-fields=${[...CORE_FIELDS, ...EXTRA_FIELDS].join(",")}`,
    `--priority=0..${options.minPriority}`,
  ];
  if (options.directory) args.push(`--directory=${options.directory}`);
  for (const unit of options.units) args.push(`--unit=${unit}`);
  if (cursor) args.push(`--after-cursor=${cursor}`);
  else args.push(`--since=@${Math.floor((now - (options.firstRunLookbackMs ?? 60_000)) / 1000)}`);
  return args;
}

/**
 * Reads the journal entries written since the saved cursor.
 * 1. Run journalctl from the cursor (or from a short look-back on the first run), streaming JSON lines.
 * 2. Keep the first `maxEntries`; count the rest but still read them, so the cursor moves past the burst.
 * 3. Return the last cursor; the caller saves it only after the entries are in the spool.
 */
export async function collectJournal(
  options: JournalOptions,
  now: number,
  notes: NoteSink,
): Promise<JournalCollection> {
  // journalctl prints nothing and exits 0 when there are no journal files at all: say why logs are missing.
  if (!options.directory && !(await anyExists(SYSTEM_JOURNAL_DIRECTORIES))) {
    notes.add(
      "journal",
      "no journal files in /run/log/journal or /var/log/journal (journald not running here)",
    );
    return { logs: [] };
  }
  const cursor = await loadJournalCursor(options.stateDir);
  const args = journalctlArguments(options, cursor, now);
  const logs: LogEntry[] = [];
  let lastCursor: string | undefined;
  let dropped = 0;
  let unreadable = 0;
  const stderr: string[] = [];
  const maxEntries = Math.min(options.maxEntries, PROBE_BATCH_LIMITS.logs);

  const exitCode = await new Promise<number | null>((resolve) => {
    const child = spawn(options.journalctl ?? "journalctl", args, { stdio: ["ignore", "pipe", "pipe"] });
    child.on("error", (error) => {
      notes.failed("journal", "journalctl", error);
      resolve(null);
    });
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      if (stderr.join("").length < 2048) stderr.push(chunk);
    });
    const lines = createInterface({ input: child.stdout, crlfDelay: Number.POSITIVE_INFINITY });
    lines.on("line", (line) => {
      if (!line) return;
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch {
        unreadable++;
        return;
      }
      if (typeof record.__CURSOR === "string") lastCursor = record.__CURSOR;
      if (logs.length >= maxEntries) {
        dropped++;
        return;
      }
      const entry = journalRecordToEntry(record);
      if (entry) logs.push(entry);
      else unreadable++;
    });
    // Both the process and the line reader must finish; either may close first.
    const linesDone = new Promise<void>((done) => lines.once("close", done));
    child.on("close", (code) => void linesDone.then(() => resolve(code)));
  });

  if (exitCode !== null && exitCode !== 0) {
    notes.add("journal", `journalctl exited ${exitCode}: ${stderr.join("").trim().slice(0, 500)}`);
  } else if (exitCode === 0 && logs.length === 0 && /No journal files were found/.test(stderr.join(""))) {
    notes.add("journal", "no journal files were found (journald not running, or no access to the journal)");
  }
  if (dropped > 0) {
    notes.add("journal", `log burst: kept ${logs.length} entries, left out ${dropped}`, dropped);
  }
  if (unreadable > 0) notes.add("journal", `${unreadable} journal lines could not be parsed`, unreadable);
  const result: JournalCollection = { logs };
  if (lastCursor) result.cursor = lastCursor;
  return result;
}
