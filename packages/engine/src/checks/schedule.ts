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
export function assertValidSchedule(schedule: string | null | undefined, tz: string, where = "body"): void {
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
  } catch {
    throw new InvalidInputError(
      `${where}.tz`,
      `unknown time zone "${tz}" (use an IANA name like Europe/Tallinn)`,
    );
  }
  if (!schedule) return;
  try {
    if (!cronFor(schedule, tz).nextRun()) throw new Error("never fires");
  } catch (err) {
    throw new InvalidInputError(
      `${where}.schedule`,
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

export interface ScheduleReading {
  /** the expression in words, e.g. "at 03:00 on Monday to Friday" */
  description: string;
  /** the next times it fires after `after`, epoch ms */
  nextRuns: number[];
}

/**
 * What a cron expression means and when it fires next, for the dashboard's heartbeat form: computed here so
 * the browser needs no cron library of its own. Throws InvalidInputError (naming `query.schedule` or
 * `query.tz`) for an expression or zone a check would refuse.
 */
export function previewSchedule(schedule: string, tz: string, after: number, count: number): ScheduleReading {
  assertValidSchedule(schedule, tz, "query");
  const cron = cronFor(schedule, tz);
  const nextRuns = cron.nextRuns(count, new Date(after)).map((d) => d.getTime());
  return { description: describeCron(schedule), nextRuns };
}

const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const MONTHS = [
  "",
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

/**
 * A 5-field cron expression in English words. Covers what crontabs mostly hold (steps, ranges, lists, day
 * and month names); anything it does not recognise is quoted as written, never guessed at.
 */
export function describeCron(schedule: string): string {
  const fields = schedule.trim().split(/\s+/);
  if (fields.length !== 5) return `cron "${schedule}"`;
  const [minute = "*", hour = "*", dom = "*", month = "*", dow = "*"] = fields;
  const time = describeTime(minute, hour);
  const days: string[] = [];
  if (dom !== "*") days.push(`on ${plural(dom, "day", "days")} ${listOf(dom)} of the month`);
  if (dow !== "*") days.push(`on ${listOf(dow, WEEKDAYS)}`);
  if (days.length === 0) days.push("every day");
  const months = month === "*" ? "" : ` in ${listOf(month, MONTHS)}`;
  return `${time}, ${days.join(" and ")}${months}`;
}

const isNumber = (s: string) => /^\d+$/.test(s);
const pad = (n: string) => n.padStart(2, "0");
const plural = (field: string, one: string, many: string) => (isNumber(field) ? one : many);

function describeTime(minute: string, hour: string): string {
  if (minute === "*" && hour === "*") return "every minute";
  const everyMinutes = minute.match(/^\*\/(\d+)$/)?.[1];
  if (everyMinutes && hour === "*") return `every ${everyMinutes} minutes`;
  if (isNumber(minute) && hour === "*") return `at minute ${minute} of every hour`;
  const everyHours = hour.match(/^\*\/(\d+)$/)?.[1];
  if (isNumber(minute) && everyHours) return `at minute ${minute} of every ${ordinal(everyHours)} hour`;
  const minutes = minute.split(",");
  const hours = hour.split(",");
  if (minutes.every(isNumber) && hours.every(isNumber) && minutes.length * hours.length <= 6) {
    const times = hours.flatMap((h) => minutes.map((m) => `${pad(h)}:${pad(m)}`));
    return `at ${joinAnd(times)}`;
  }
  const m = minute === "*" ? "every minute" : `at minute ${listOf(minute)}`;
  const h = hour === "*" ? "of every hour" : `past hour ${listOf(hour)}`;
  return `${m} ${h}`;
}

/** "1-5" → "1 to 5", "MON-FRI" → "Monday to Friday", "*\/2" → "every 2nd", "1,15" → "1 and 15". */
function listOf(field: string, names?: readonly string[]): string {
  const name = (v: string) => {
    if (!names || !isNumber(v)) return titleCase(v);
    return names[Number(v)] ?? v;
  };
  const parts = field.split(",").map((part) => {
    const [range = part, step] = part.split("/");
    const [from = range, to] = range.split("-");
    const span = range === "*" ? "" : to ? `${name(from)} to ${name(to)}` : name(from);
    if (!step) return span;
    return span ? `every ${ordinal(step)} from ${span}` : `every ${ordinal(step)}`;
  });
  return joinAnd(parts);
}

const ordinal = (n: string) => {
  const v = Number(n);
  const suffix = v % 100 >= 11 && v % 100 <= 13 ? "th" : ({ 1: "st", 2: "nd", 3: "rd" }[v % 10] ?? "th");
  return `${n}${suffix}`;
};

const DAY_NAMES: Record<string, string> = {
  SUN: "Sunday",
  MON: "Monday",
  TUE: "Tuesday",
  WED: "Wednesday",
  THU: "Thursday",
  FRI: "Friday",
  SAT: "Saturday",
};
const titleCase = (v: string) => DAY_NAMES[v.toUpperCase()] ?? v;

const joinAnd = (items: string[]) =>
  items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
