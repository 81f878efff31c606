import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { migrate } from "drizzle-orm/libsql/migrator";
import type { Db } from "./client.ts";

/** The top-level migrations folder (append-only SQL written by drizzle-kit). */
export const migrationsFolder = resolve(dirname(fileURLToPath(import.meta.url)), "../../../migrations");

/** Applies every pending migration. Node only: it reads the SQL files from disk. */
export async function migrateDb(db: Db, folder = migrationsFolder): Promise<void> {
  await migrate(db, { migrationsFolder: folder });
}
