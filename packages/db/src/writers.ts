/**
 * A cap on write calls in flight to one remote database (sqld, Turso). SQLite runs one writer at a time,
 * so more than a few concurrent write transactions buy no throughput; and sqld 0.24 (the server
 * `npm run dev:worker` and the Worker tests run) stops answering altogether under them: rounds of 60
 * concurrent two-statement write batches left it spinning with every request open in 3 of 6 runs uncapped
 * and 1 of 2 at 8 in flight, and in none of 9 at 4 (bench/sqld-writers.ts, bench/RESULTS.md). Its own
 * `--max-concurrent-requests` does not help: it refuses the surplus with 429, counts reads too, and stalled
 * at 4 as well.
 *
 * The gate is shared by every handle to the database in a process or Worker isolate (a Worker makes a
 * handle per request). A Worker request must not wait on a promise that another request settles (the
 * runtime cancels it as hung), so a waiter polls on its own timers instead of being woken. A permit whose
 * holder never returned (a cancelled request) is taken back after `leaseMs`.
 */
import type { Client, InStatement, TransactionMode } from "@libsql/client";

/** Write calls in flight per database and process/isolate unless configured (LIBSQL_MAX_WRITERS). */
export const DEFAULT_MAX_WRITERS = 4;

export interface WriterGateOptions {
  /** permits; 0 or less: no cap */
  max: number;
  /** a permit held longer is taken back (its holder is assumed gone) */
  leaseMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

const FIRST_PAUSE_MS = 1;
const LONGEST_PAUSE_MS = 20;

export class WriterGate {
  readonly max: number;
  private readonly leaseMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  /** permits out, with when each was taken */
  private readonly held = new Map<symbol, number>();

  constructor(options: WriterGateOptions) {
    this.max = options.max;
    this.leaseMs = options.leaseMs ?? 60_000;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((done) => setTimeout(done, ms)));
    this.random = options.random ?? Math.random;
  }

  /** permits out now (lapsed ones taken back first) */
  get inFlight(): number {
    const expired = this.now() - this.leaseMs;
    for (const [permit, takenAt] of this.held) if (takenAt <= expired) this.held.delete(permit);
    return this.held.size;
  }

  /** Runs `work` once fewer than `max` writes are in flight, polling with growing, jittered pauses. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.max <= 0) return work();
    for (let attempt = 0; this.inFlight >= this.max; attempt++) {
      const pause = Math.min(LONGEST_PAUSE_MS, FIRST_PAUSE_MS * 2 ** attempt);
      await this.sleep(pause * (0.5 + this.random() / 2));
    }
    const permit = Symbol("write");
    this.held.set(permit, this.now());
    try {
      return await work();
    } finally {
      this.held.delete(permit);
    }
  }
}

/** A statement that cannot write: what starts with select, pragma (reads we issue) or explain. */
export function isReadStatement(statement: InStatement): boolean {
  const sql = typeof statement === "string" ? statement : statement.sql;
  return /^\s*(select|explain)\b/i.test(sql) || /^\s*pragma\s+\w+\s*;?\s*$/i.test(sql);
}

/**
 * Sends `client`'s write calls through `gate`: batches not in read mode, statements that may write, scripts
 * and migrations. Interactive transactions are left alone (nothing in Vigil opens one on a remote database).
 */
export function withWriterGate(client: Client, gate: WriterGate): Client {
  const execute = client.execute.bind(client) as (...args: unknown[]) => ReturnType<Client["execute"]>;
  const batch = client.batch.bind(client);
  const executeMultiple = client.executeMultiple.bind(client);
  const migrate = client.migrate.bind(client);
  return Object.assign(client, {
    execute: (...args: unknown[]) => {
      return isReadStatement(args[0] as InStatement) ? execute(...args) : gate.run(() => execute(...args));
    },
    batch: (statements: InStatement[], mode?: TransactionMode) =>
      mode === "read" ? batch(statements, mode) : gate.run(() => batch(statements, mode)),
    executeMultiple: (sql: string) => gate.run(() => executeMultiple(sql)),
    migrate: (statements: InStatement[]) => gate.run(() => migrate(statements)),
  });
}
