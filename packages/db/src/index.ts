export type { InStatement } from "@libsql/client";
export { BUSY_TIMEOUT_MS, isBusyError, retryOnBusy } from "./busy.ts";
export { closeDb, createDb, type Db, type DbConfig, pingDb } from "./client.ts";
export * as schema from "./schema/index.ts";
export * from "./schema/index.ts";
export * from "./secrets.ts";
export { DEFAULT_MAX_WRITERS, WriterGate } from "./writers.ts";
