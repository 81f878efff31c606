import { integer } from "drizzle-orm/sqlite-core";

/** A time column: integer milliseconds since the epoch, UTC (DESIGN §4). */
export const ms = (name: string) => integer(name, { mode: "number" });
