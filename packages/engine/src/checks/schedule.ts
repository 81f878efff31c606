import { Cron } from "croner";
import { InvalidInputError } from "../errors.ts";

/** Parsed cron expressions, keyed by pattern and zone: parsing costs more than finding the next run. */
const cronCache = new Map<string, Cron>();

export function cronFor(schedule: string, tz: string): Cron {
  const key = `${tz}\u0000${schedule}`;
  let cron = cronCache.get(key);
  if (!cron) {
    // 5-part: the classic cron syntax Healthchecks and crontab use (no seconds field).
    cron = new Cron(schedule, { timezone: tz, mode: "5-part" });
    if (cronCache.size > 1000) cronCache.clear();
    cronCache.set(key, cron);
  }
  return cron;
}

/** Refuses an unknown time zone or a cron expression that does not parse, naming the field. */
export function assertValidSchedule(schedule: string | null | undefined, tz: string): void {
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
  } catch {
    throw new InvalidInputError(
      "body.tz",
      `unknown time zone "${tz}" (use an IANA name like Europe/Tallinn)`,
    );
  }
  if (!schedule) return;
  try {
    if (!cronFor(schedule, tz).nextRun()) throw new Error("never fires");
  } catch (err) {
    throw new InvalidInputError(
      "body.schedule",
      `not a valid 5-field cron expression: ${(err as Error).message}`,
    );
  }
}

export interface Cadence {
  periodSec: number | null;
  schedule: string | null;
  tz: string;
}

/**
 * When the next ping is expected after one at `after`: a period later, or the next time the cron schedule
 * fires in its time zone (so "0 3 * * *" in Europe/Tallinn is 03:00 local on both sides of a DST change).
 */
export function nextDueAt(cadence: Cadence, after: number): number | null {
  if (cadence.schedule) {
    return cronFor(cadence.schedule, cadence.tz).nextRun(new Date(after))?.getTime() ?? null;
  }
  return cadence.periodSec ? after + cadence.periodSec * 1000 : null;
}
