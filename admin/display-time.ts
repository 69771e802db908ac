// Times as staff read them, everywhere in the back office (pages, dashboard, CSV): one format,
// "2026-11-27 14:05:09 UTC+8", in one zone — DISPLAY_TIME_ZONE (core/config, default Asia/Shanghai:
// the shop's day) whatever the browser's or the server's zone is — with the zone shown. Pure
// functions on Intl, shared by the server and the components bundle (the browser gets the zone
// through AdminJS's `env` option, see displayTimeZone in components/shared.ts).

const formats = new Map<string, Intl.DateTimeFormat>();
function formatOf(timeZone: string): Intl.DateTimeFormat {
  let f = formats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
    });
    formats.set(timeZone, f);
  }
  return f;
}

interface WallClock { year: number; month: number; day: number; hour: number; minute: number; second: number }

function wallClock(instant: Date, timeZone: string): WallClock {
  const p: Record<string, number> = {};
  for (const part of formatOf(timeZone).formatToParts(instant)) if (part.type !== "literal") p[part.type] = Number(part.value);
  return { year: p.year, month: p.month, day: p.day, hour: p.hour % 24, minute: p.minute, second: p.second };
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** True when Intl knows the zone (config validation). */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** Minutes the zone is ahead of UTC at `instant` (480 for Asia/Shanghai). */
export function offsetMinutes(instant: Date, timeZone: string): number {
  const w = wallClock(instant, timeZone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return Math.round((asUtc - Math.floor(instant.getTime() / 1000) * 1000) / 60_000);
}

/** "UTC+8", "UTC+5:30", "UTC-3", "UTC". */
export function zoneLabel(instant: Date, timeZone: string): string {
  const m = offsetMinutes(instant, timeZone);
  if (m === 0) return "UTC";
  const a = Math.abs(m);
  return `UTC${m < 0 ? "-" : "+"}${Math.floor(a / 60)}${a % 60 ? `:${pad(a % 60)}` : ""}`;
}

function toDate(value: unknown): Date | null {
  if (value === null || value === undefined || value === "") return null;
  const d = value instanceof Date ? value : new Date(String(value));
  return Number.isNaN(d.getTime()) ? null : d;
}

/** "2026-11-27 14:05:09" in the zone (no zone label: CSV cells, where the header names the zone). */
export function formatWallClock(value: unknown, timeZone: string): string {
  const d = toDate(value);
  if (!d) return "";
  const w = wallClock(d, timeZone);
  return `${w.year}-${pad(w.month)}-${pad(w.day)} ${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}`;
}

/** "2026-11-27 14:05:09 UTC+8"; "–" for no value; an unparseable value as it is. */
export function formatInstant(value: unknown, timeZone: string): string {
  const d = toDate(value);
  if (!d) return value === null || value === undefined || value === "" ? "–" : String(value);
  return `${formatWallClock(d, timeZone)} ${zoneLabel(d, timeZone)}`;
}

/** "2026-11-27": the calendar day of `instant` in the zone. */
export function dayOf(instant: Date, timeZone: string): string {
  const w = wallClock(instant, timeZone);
  return `${w.year}-${pad(w.month)}-${pad(w.day)}`;
}

/** The first instant of the zone's calendar day containing `instant`. */
export function startOfDay(instant: Date, timeZone: string): Date {
  const w = wallClock(instant, timeZone);
  const midnightAsUtc = Date.UTC(w.year, w.month - 1, w.day);
  // The offset at midnight may differ from the one at `instant` (a DST change that day): use it.
  let guess = midnightAsUtc - offsetMinutes(instant, timeZone) * 60_000;
  guess = midnightAsUtc - offsetMinutes(new Date(guess), timeZone) * 60_000;
  return new Date(guess);
}

/** Starts of the `days` calendar days ending with today's (oldest first). */
export function dayStarts(now: Date, days: number, timeZone: string): Date[] {
  const starts = [startOfDay(now, timeZone)];
  // Noon of the previous day is always inside it, whatever a DST change does to its length.
  while (starts.length < days) starts.unshift(startOfDay(new Date(starts[0].getTime() - 12 * 3600_000), timeZone));
  return starts;
}
