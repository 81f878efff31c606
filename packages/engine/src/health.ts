import type { Health } from "@vigil/contract";
import { type Db, pingDb } from "@vigil/db";
import type { Clock } from "./clock.ts";

export async function checkHealth(db: Db, clock: Clock, version: string): Promise<Health> {
  const dbOk = await pingDb(db);
  return { status: dbOk ? "ok" : "degraded", db: dbOk ? "ok" : "unreachable", version, time: clock.now() };
}
