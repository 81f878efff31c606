export { closeDb, createDb, type Db, type DbConfig, pingDb } from "./client.ts";
export * as schema from "./schema.ts";
export * from "./schema.ts";
export * from "./secrets.ts";
