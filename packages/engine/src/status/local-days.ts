/**
 * Calendar days in an IANA time zone, as UTC millisecond ranges. A day is 23 or 25 hours long across a
 * DST change; `Intl` knows the offsets, so no tz database ships with us.
 */
const DAY_MS = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: tz,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(tz, f);
  }
  return f;
}

/** The wall-clock time in `tz` at `t`, read as if it were UTC. */
function wallClock(tz: string, t: number): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(tz).formatToParts(t)) if (p.type !== "literal") parts[p.type] = Number(p.value);
  return Date.UTC(
    parts.year ?? 1970,
    (parts.month ?? 1) - 1,
    parts.day ?? 1,
    parts.hour ?? 0,
    parts.minute ?? 0,
    parts.second ?? 0,
  );
}

/** The UTC offset of `tz` at `t`, in ms (east positive). */
export function zoneOffset(tz: string, t: number): number {
  return wallClock(tz, t - (t % 1000)) - (t - (t % 1000));
}

/** YYYY-MM-DD of `t` in `tz`. */
export function localDate(tz: string, t: number): string {
  return new Date(wallClock(tz, t)).toISOString().slice(0, 10);
}

/** The UTC instant of 00:00 on `date` (YYYY-MM-DD) in `tz`. */
export function localMidnight(tz: string, date: string): number {
  const wall = Date.parse(`${date}T00:00:00Z`);
  // The offset at the guess can differ from the one at midnight (a DST change that night); once more fixes it.
  const guess = wall - zoneOffset(tz, wall);
  return wall - zoneOffset(tz, guess);
}

export interface LocalDay {
  date: string;
  start: number;
  end: number;
}

/** The last `count` calendar days in `tz` up to and including the one containing `now`, oldest first. */
export function lastLocalDays(tz: string, now: number, count: number): LocalDay[] {
  const today = localDate(tz, now);
  const out: LocalDay[] = [];
  for (let i = count - 1; i >= 0; i--) {
    const date = new Date(Date.parse(`${today}T00:00:00Z`) - i * DAY_MS).toISOString().slice(0, 10);
    const next = new Date(Date.parse(`${date}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10);
    out.push({ date, start: localMidnight(tz, date), end: localMidnight(tz, next) });
  }
  return out;
}
