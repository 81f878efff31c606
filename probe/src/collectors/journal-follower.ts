import { type ChildProcessByStdio, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import type { LogEntry } from "@vigil/contract";
import { PROBE_BATCH_LIMITS } from "../limits.ts";
import type { NoteSink } from "../notes.ts";
import {
  anyExists,
  type JournalCollection,
  type JournalOptions,
  journalctlArguments,
  journalRecordToEntry,
  loadJournalCursor,
  SYSTEM_JOURNAL_DIRECTORIES,
} from "./journal.ts";

/**
 * The daemon's journal reader: one long-lived `journalctl --follow` instead of a journalctl run per interval,
 * which would cost more CPU than all other collectors together.
 * 1. Start from the saved cursor (or the first-run look-back) and buffer entries as they are printed.
 * 2. Each interval, take() hands over the buffer (at most maxEntries; later ones in the same interval are
 *    only counted) and the cursor of the last line read; the caller saves it once the batch is spooled.
 * 3. If journalctl exits, the next take() reports why and the next ensureRunning() resumes from the
 *    last cursor read, so nothing is read twice or skipped.
 */
export class JournalFollower {
  private child: ChildProcessByStdio<null, Readable, Readable> | undefined;
  private buffer: LogEntry[] = [];
  private dropped = 0;
  private unreadable = 0;
  private linesRead = 0;
  private lastCursor: string | undefined;
  private exitReport: string | undefined;
  private stderr = "";
  private waiters: { count: number; resolve: () => void }[] = [];

  constructor(private options: JournalOptions) {}

  /** New filters (from the server's config) take effect by restarting journalctl at the last cursor. */
  updateOptions(options: Pick<JournalOptions, "minPriority" | "units">): void {
    this.options = { ...this.options, ...options };
    this.stop();
  }

  async ensureRunning(now: number, notes: NoteSink): Promise<void> {
    if (this.child) return;
    if (!this.options.directory && !(await anyExists(SYSTEM_JOURNAL_DIRECTORIES))) {
      notes.add(
        "journal",
        "no journal files in /run/log/journal or /var/log/journal (journald not running here)",
      );
      return;
    }
    const cursor = this.lastCursor ?? (await loadJournalCursor(this.options.stateDir));
    const args = [...journalctlArguments(this.options, cursor, now), "--follow", "--lines=all"];
    const child = spawn(this.options.journalctl ?? "journalctl", args, { stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    this.stderr = "";
    child.on("error", (error) => {
      this.exitReport = `journalctl: ${error.message}`;
    });
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      if (this.stderr.length < 2048) this.stderr += chunk;
    });
    const lines = createInterface({ input: child.stdout, crlfDelay: Number.POSITIVE_INFINITY });
    lines.on("line", (line) => this.onLine(line));
    child.on("close", (code, signal) => {
      if (this.child === child) this.child = undefined;
      if (signal !== "SIGTERM" && !this.exitReport) {
        this.exitReport = `journalctl exited ${code ?? signal}: ${this.stderr.trim().slice(0, 500)}`;
      }
    });
  }

  private onLine(line: string): void {
    if (!line) return;
    this.linesRead++;
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line) as Record<string, unknown>;
    } catch {
      this.unreadable++;
      return;
    }
    if (typeof record.__CURSOR === "string") this.lastCursor = record.__CURSOR;
    if (this.buffer.length >= Math.min(this.options.maxEntries, PROBE_BATCH_LIMITS.logs)) this.dropped++;
    else {
      const entry = journalRecordToEntry(record);
      if (entry) this.buffer.push(entry);
      else this.unreadable++;
    }
    this.waiters = this.waiters.filter((waiter) => {
      if (this.linesRead < waiter.count) return true;
      waiter.resolve();
      return false;
    });
  }

  /** Resolves once `count` lines in total have been read: lets tests wait for journalctl without sleeping. */
  whenLinesRead(count: number): Promise<void> {
    if (this.linesRead >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  take(notes: NoteSink): JournalCollection {
    const result: JournalCollection = { logs: this.buffer };
    if (this.lastCursor) result.cursor = this.lastCursor;
    if (this.dropped > 0) {
      notes.add(
        "journal",
        `log burst: kept ${this.buffer.length} entries, left out ${this.dropped}`,
        this.dropped,
      );
    }
    if (this.unreadable > 0)
      notes.add("journal", `${this.unreadable} journal lines could not be parsed`, this.unreadable);
    if (this.exitReport) notes.add("journal", this.exitReport);
    this.buffer = [];
    this.dropped = 0;
    this.unreadable = 0;
    this.exitReport = undefined;
    return result;
  }

  stop(): void {
    const child = this.child;
    this.child = undefined;
    child?.kill("SIGTERM");
  }
}
