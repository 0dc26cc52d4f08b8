import { ValidationError } from './errors.ts';
import { Category, QuietAction, type QuietHours } from './types.ts';

export type QuietDecision =
  | { readonly kind: 'send' }
  | { readonly kind: 'suppress' }
  /** Deliver at `until` (epoch ms): the end of the window, computed in the user's timezone. */
  | { readonly kind: 'defer'; readonly until: number };

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const SEND: QuietDecision = Object.freeze({ kind: 'send' });
const SUPPRESS: QuietDecision = Object.freeze({ kind: 'suppress' });

/**
 * Whether push for `category` may go out at `now` for a user in `timezone`. Windows may cross
 * midnight; DST-correct (a window end that falls in a skipped hour ends at the first valid local
 * time after it). `critical` always sends. Cheap on the hot path: timezone offsets are cached.
 *
 * A window is [start, end) in local wall-clock time. When the end occurs twice (the repeated hour
 * of a fall-back day) the window closes at its first occurrence: the wall clock passing the end a
 * second time does not reopen it. Throws ValidationError for a malformed window or an unknown
 * timezone (preferences are validated on write, so neither is expected here).
 */
export function quietHoursDecision(
  quietHours: QuietHours | undefined,
  timezone: string,
  category: Category,
  now: number,
): QuietDecision {
  if (quietHours === undefined || category === Category.Critical) return SEND;
  const start = parseClockTime(quietHours.start);
  const end = parseClockTime(quietHours.end);
  if (start === end) return SEND;
  if (!Number.isFinite(now)) throw new ValidationError([{ path: 'now', message: 'must be epoch ms' }]);
  const zone = requireZone(timezone);
  const local = now + offsetAt(zone, now);
  const localDay = Math.floor(local / DAY);
  const minute = Math.floor((local - localDay * DAY) / MINUTE);
  const crossesMidnight = end < start;
  const inside = crossesMidnight ? minute >= start || minute < end : minute >= start && minute < end;
  if (!inside) return SEND;
  // Before midnight, a window that crosses it ends on the next local day.
  const endDay = crossesMidnight && minute >= start ? localDay + 1 : localDay;
  const until = instantOfLocal(zone, endDay * DAY + end * MINUTE);
  if (until <= now) return SEND;
  const action = quietHours.actions?.[category] ?? QuietAction.Defer;
  return action === QuietAction.Suppress ? SUPPRESS : { kind: 'defer', until };
}

/** True for a timezone the runtime knows (IANA name). */
export function isValidTimezone(timezone: string): boolean {
  return zoneFor(timezone) !== undefined;
}

/** Parses "HH:MM" (00:00–23:59) into minutes of the day; throws ValidationError. */
export function parseClockTime(value: string): number {
  const minutes = clockMinutes(value);
  if (minutes === undefined) {
    throw new ValidationError([{ path: 'time', message: 'must be "HH:MM", 00:00 to 23:59' }]);
  }
  return minutes;
}

/** Minutes of the day of "HH:MM" (00:00–23:59), or undefined for anything else. Never throws. */
export function clockMinutes(value: unknown): number | undefined {
  // By hand rather than by regex: this runs twice per push decision.
  if (typeof value !== 'string' || value.length !== 5 || value.charCodeAt(2) !== 0x3a) return undefined;
  const h1 = digit(value, 0);
  const h2 = digit(value, 1);
  const m1 = digit(value, 3);
  const m2 = digit(value, 4);
  if (h1 < 0 || h2 < 0 || m1 < 0 || m2 < 0 || m1 > 5) return undefined;
  const hours = h1 * 10 + h2;
  if (hours > 23) return undefined;
  return hours * 60 + m1 * 10 + m2;
}

function digit(value: string, i: number): number {
  const code = value.charCodeAt(i) - 0x30;
  return code >= 0 && code <= 9 ? code : -1;
}

/** Offsets (ms, local minus UTC) within one epoch hour; a transition inside it sits at `changesAt`. */
interface HourOffsets {
  readonly before: number;
  readonly after: number;
  /** First instant with offset `after`; +Infinity when the hour has one offset. */
  readonly changesAt: number;
}

/** A timezone's formatter (built once: construction is the expensive part) and its hour cache. */
interface Zone {
  readonly format: Intl.DateTimeFormat;
  readonly hours: Map<number, HourOffsets>;
}

// Past these sizes a cache is dropped whole: simpler than LRU, and the working set (the hours
// around now and the next day's window ends) is refilled with a few Intl calls.
const MAX_HOURS_PER_ZONE = 4096;
const MAX_NAMES = 1024;
/** IANA names: "UTC", "Europe/Paris", "America/Argentina/Buenos_Aires", "Etc/GMT+5". No "+05:30". */
const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/;
const MAX_ZONE_NAME_LENGTH = 64;

/** Exact name as given → zone: the hot-path lookup. */
const byName = new Map<string, Zone>();
/**
 * Lower-cased name → zone. Intl accepts names in any case; keying by the lower-cased name bounds
 * this map by the number of real zones whatever names callers invent.
 */
const byFoldedName = new Map<string, Zone>();

function zoneFor(timezone: string): Zone | undefined {
  const hit = byName.get(timezone);
  if (hit !== undefined) return hit;
  if (typeof timezone !== 'string' || timezone.length > MAX_ZONE_NAME_LENGTH || !ZONE_NAME.test(timezone)) {
    return undefined;
  }
  const folded = timezone.toLowerCase();
  let zone = byFoldedName.get(folded);
  if (zone === undefined) {
    let format: Intl.DateTimeFormat;
    try {
      format = new Intl.DateTimeFormat('en-US', {
        timeZone: timezone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      return undefined;
    }
    zone = { format, hours: new Map() };
    byFoldedName.set(folded, zone);
  }
  if (byName.size >= MAX_NAMES) byName.clear();
  byName.set(timezone, zone);
  return zone;
}

function requireZone(timezone: string): Zone {
  const zone = zoneFor(timezone);
  if (zone === undefined) {
    throw new ValidationError([{ path: 'timezone', message: 'must be an IANA timezone' }]);
  }
  return zone;
}

/** The zone's offset at instant `t`: one Map lookup once the hour is cached. */
function offsetAt(zone: Zone, t: number): number {
  const hour = Math.floor(t / HOUR);
  let offsets = zone.hours.get(hour);
  if (offsets === undefined) {
    offsets = measureHour(zone.format, hour * HOUR);
    if (zone.hours.size >= MAX_HOURS_PER_ZONE) zone.hours.clear();
    zone.hours.set(hour, offsets);
  }
  return t < offsets.changesAt ? offsets.before : offsets.after;
}

/**
 * Offsets over the hour from `start`. Transitions are not always on a UTC hour (Lord Howe's fall
 * at 15:30 UTC), so an hour whose ends disagree is searched for the second the offset changes.
 */
function measureHour(format: Intl.DateTimeFormat, start: number): HourOffsets {
  let lo = start;
  let hi = start + HOUR - SECOND;
  const before = formattedOffset(format, lo);
  const after = formattedOffset(format, hi);
  if (before === after) return { before, after, changesAt: Number.POSITIVE_INFINITY };
  while (hi - lo > SECOND) {
    const mid = lo + Math.floor((hi - lo) / (2 * SECOND)) * SECOND;
    if (formattedOffset(format, mid) === before) lo = mid;
    else hi = mid;
  }
  return { before, after, changesAt: hi };
}

/** Local wall-clock time at `t` read as if it were UTC, minus `t` (both at whole seconds). */
function formattedOffset(format: Intl.DateTimeFormat, t: number): number {
  const at = Math.floor(t / SECOND) * SECOND;
  let year = 0;
  let month = 0;
  let day = 0;
  let hour = 0;
  let minute = 0;
  let second = 0;
  for (const part of format.formatToParts(at)) {
    switch (part.type) {
      case 'year':
        year = Number(part.value);
        break;
      case 'month':
        month = Number(part.value);
        break;
      case 'day':
        day = Number(part.value);
        break;
      case 'hour':
        hour = Number(part.value);
        break;
      case 'minute':
        minute = Number(part.value);
        break;
      case 'second':
        second = Number(part.value);
        break;
    }
  }
  // setUTCFullYear, not Date.UTC, which maps years 0–99 to 1900–1999.
  const wall = new Date(0);
  wall.setUTCFullYear(year, month - 1, day);
  wall.setUTCHours(hour, minute, second, 0);
  return wall.getTime() - at;
}

/**
 * The instant at which the zone's wall clock reads `wall` (a local time as epoch ms read as UTC):
 * the first of two on a fall-back day; the end of the gap when `wall` is skipped by a spring
 * forward (the first valid local time after it).
 */
function instantOfLocal(zone: Zone, wall: number): number {
  // Offsets a day either side bracket any transition near `wall`.
  const early = offsetAt(zone, wall - DAY);
  const late = offsetAt(zone, wall + DAY);
  const larger = Math.max(early, late);
  const smaller = Math.min(early, late);
  // The larger offset gives the earlier instant: try it first.
  if (offsetAt(zone, wall - larger) === larger) return wall - larger;
  if (offsetAt(zone, wall - smaller) === smaller) return wall - smaller;
  // A gap: the offset grows from `early` to `late` somewhere in (wall − late, wall − early].
  let lo = wall - late;
  let hi = wall - early;
  while (hi - lo > SECOND) {
    const mid = lo + Math.floor((hi - lo) / (2 * SECOND)) * SECOND;
    if (offsetAt(zone, mid) === early) lo = mid;
    else hi = mid;
  }
  return hi;
}

/**
 * The first instant strictly after `after` at which the wall clock of `timezone` reads `hour`:00
 * (0–23). On a spring-forward day whose gap swallows that hour, the end of the gap; on a
 * fall-back day, the first of the two. Throws ValidationError for an unknown timezone.
 */
export function nextLocalHour(timezone: string, hour: number, after: number): number {
  const zone = requireZone(timezone);
  const localDay = Math.floor((after + offsetAt(zone, after)) / DAY) * DAY;
  for (let day = 0; ; day++) {
    const at = instantOfLocal(zone, localDay + day * DAY + hour * HOUR);
    if (at > after) return at;
  }
}
