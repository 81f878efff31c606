import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { isMissing } from "../platform/files.ts";

export const LEDGER_FILE = "runbook-commands.json";
/** Far more than the server hands out at once (50), so an id it may still repeat is never forgotten. */
const MAX_IDS = 1_000;

/** `started`: it began (or was refused) here; `reported`: its result is in the spool, or already sent. */
export type LedgerState = "started" | "reported";

interface LedgerEntry {
  id: string;
  state: LedgerState;
  at: number;
}

/**
 * The ids of the runbook commands this host has started, kept in the state dir so that each runs at most
 * once, also across restarts, however often the server hands it out again. The newest MAX_IDS are kept;
 * every change is written atomically before the caller goes on (a command starts only once its id is on
 * disk). A file that exists but cannot be read is a `problem`: nothing may run then, since anything could
 * be a repeat.
 */
export class CommandLedger {
  private constructor(
    private readonly path: string,
    private readonly entries: Map<string, LedgerEntry>,
    readonly problem?: string,
  ) {}

  static load(stateDir: string): CommandLedger {
    const path = join(stateDir, LEDGER_FILE);
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (error) {
      if (isMissing(error)) return new CommandLedger(path, new Map());
      return new CommandLedger(path, new Map(), `cannot read ${path}: ${(error as Error).message}`);
    }
    const entries = parseEntries(text);
    if (!entries) return new CommandLedger(path, new Map(), `${path} is damaged`);
    return new CommandLedger(path, new Map(entries.map((entry) => [entry.id, entry])));
  }

  get size(): number {
    return this.entries.size;
  }

  stateOf(id: string): LedgerState | undefined {
    return this.entries.get(id)?.state;
  }

  /** Records that `id` starts now; throws when that cannot be written (then it must not start). */
  started(id: string, at: number): void {
    this.entries.delete(id);
    this.entries.set(id, { id, state: "started", at });
    while (this.entries.size > MAX_IDS) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    this.save();
  }

  /** Records that the results of `ids` are in the spool. */
  reported(ids: string[], at: number): void {
    let changed = false;
    for (const id of ids) {
      const entry = this.entries.get(id);
      if (entry && entry.state !== "reported") {
        entry.state = "reported";
        entry.at = at;
        changed = true;
      }
    }
    if (changed) this.save();
  }

  /**
   * Synchronous, like the spool's writes: a few kB, and the caller acts only once it is on disk. A damaged
   * file is left as it is, for the operator to look at: overwriting it would forget every id it held.
   */
  private save(): void {
    if (this.problem) return;
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o750 });
    const temporary = `${this.path}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify({ commands: [...this.entries.values()] })}\n`, {
      mode: 0o640,
    });
    renameSync(temporary, this.path);
  }
}

function parseEntries(text: string): LedgerEntry[] | undefined {
  try {
    const parsed = JSON.parse(text) as { commands?: unknown };
    if (!Array.isArray(parsed?.commands)) return undefined;
    const entries: LedgerEntry[] = [];
    for (const value of parsed.commands) {
      const entry = value as Partial<LedgerEntry> | null;
      if (typeof entry?.id !== "string" || (entry.state !== "started" && entry.state !== "reported"))
        return undefined;
      entries.push({ id: entry.id, state: entry.state, at: typeof entry.at === "number" ? entry.at : 0 });
    }
    return entries;
  } catch {
    return undefined;
  }
}
