/**
 * `npm run db:migrate` — applies the migrations to any libSQL URL:
 *   VIGIL_DB_URL=libsql://…  LIBSQL_AUTH_TOKEN=…  npm run db:migrate
 * Without VIGIL_DB_URL it migrates the self-hosted default, file:./data/vigil.db.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { closeDb, createDb } from "../src/client.ts";
import { migrateDb } from "../src/migrate.ts";

const url =
  process.env.VIGIL_DB_URL ??
  process.env.LIBSQL_URL ??
  `file:${process.env.VIGIL_DATA_DIR ?? "./data"}/vigil.db`;
if (url.startsWith("file:")) mkdirSync(dirname(url.slice("file:".length)), { recursive: true });
const db = createDb({ url, authToken: process.env.LIBSQL_AUTH_TOKEN });
await migrateDb(db);
closeDb(db);
console.log(`migrations applied to ${url.replace(/\?.*$/, "")}`);
