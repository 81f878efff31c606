import { type Client, createClient as createNodeClient } from "@libsql/client";
import { createClient as createWebClient } from "@libsql/client/web";
import { drizzle, type LibSQLDatabase } from "drizzle-orm/libsql";
import { BUSY_TIMEOUT_MS, withBusyRetry } from "./busy.ts";
import * as schema from "./schema/index.ts";
import { DEFAULT_MAX_WRITERS, WriterGate, withWriterGate } from "./writers.ts";

export type Db = LibSQLDatabase<typeof schema> & { $client: Client };

export interface DbConfig {
  /** `file:…` or `:memory:` (embedded, Node only), or `http(s)://` / `libsql://` (sqld, Turso). */
  url: string;
  /** Turso / sqld auth token for remote URLs. */
  authToken?: string;
  /**
   * The cap on write calls in flight to a remote database (writers.ts), shared by every handle the process
   * or isolate opens to it; unset: a cap of its own, DEFAULT_MAX_WRITERS. Embedded files need none.
   */
  writers?: WriterGate;
}

const embedded = (url: string) => url === ":memory:" || url.startsWith("file:");

/**
 * Opens a database. Embedded URLs use the native client; remote ones the web client, which is the only
 * one workerd can run (in workerd `@libsql/client` itself resolves to the web build, so nothing native is
 * bundled into the Worker). The caller owns the handle: close it with `closeDb`.
 * Another process (or replica) holding the write lock is waited out, never answered with an error (busy.ts);
 * writes to a remote database take turns a few at a time (writers.ts).
 */
export function createDb(config: DbConfig): Db {
  const options = { url: config.url, ...(config.authToken ? { authToken: config.authToken } : {}) };
  // The timeout is a client option, not a pragma: the client pools connections and opens more under load,
  // and a pragma would reach only the one connection it ran on.
  const client = embedded(config.url)
    ? createNodeClient({ ...options, timeout: BUSY_TIMEOUT_MS })
    : withWriterGate(
        createWebClient(options),
        config.writers ?? new WriterGate({ max: DEFAULT_MAX_WRITERS }),
      );
  // The gate goes on first, so a BUSY retry waits for a permit again instead of holding one while it pauses.
  return drizzle(withBusyRetry(client), { schema });
}

export function closeDb(db: Db): void {
  db.$client.close();
}

/** Cheap round trip used by /healthz. */
export async function pingDb(db: Db): Promise<boolean> {
  try {
    await db.$client.execute("select 1");
    return true;
  } catch {
    return false;
  }
}
