/**
 * Days and hours of calls, in the consumer's time zone: TIME-1..TIME-4 of FR-RULES.md section 5.
 *
 * Legal source: C. consom. D. 223-9 (décret 2022-1313 du 13 octobre 2022) — prospecting calls to consumers
 * only on weekdays, 10:00–13:00 and 14:00–20:00, never on a Saturday, a Sunday or a public holiday
 * (C. trav. L. 3133-1, see holidays.ts). TIME-4 (an agreed slot, C. consom. L. 223-1 al. 6) is evaluated
 * by the caller; `isWithinSlot` is its arithmetic.
 *
 * Windows are half-open local wall-clock intervals [10:00, 13:00) and [14:00, 20:00): 12:59:59.999 passes,
 * 13:00:00.000 fails. When the consumer's zone is ambiguous (several places), an attempt passes only if it
 * passes in every place, and `retryAfter` is the earliest instant at which it passes in all of them.
 *
 * Pure: no clock, no I/O, no process.env; results never depend on the host time zone (luxon gives the
 * zone offsets; all calendar arithmetic is done on UTC fields of shifted instants).
 * Assumption: no zone changes its UTC offset between 10:00 and 20:00 local time (true of every current
 * tz database zone: DST transitions happen at night).
 */
import { dateKey, holidayOnKey, type Place, type HolidayOptions } from './holidays';
import { offsetMinutes, wallToInstant, zoneInfo, type ZoneInfo } from './zone-offset';

export type TimeFailure = {
  code: 'non_working_day' | 'public_holiday' | 'outside_calling_hours';
  rule: 'TIME-1' | 'TIME-2' | 'TIME-3';
  /** e.g. 'Saturday 2026-12-05 in America/Martinique', 'Christmas Day 2026-12-25 in Europe/Paris'. */
  message: string;
  /** The zone in which it failed. */
  timeZone: string;
  /** The next instant >= at at which the attempt passes all time rules in all places. */
  retryAfter: Date;
};

export type TimeOptions = HolidayOptions;

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const OPEN_AM = 10 * HOUR;
const CLOSE_AM = 13 * HOUR;
const OPEN_PM = 14 * HOUR;
const CLOSE_PM = 20 * HOUR;
/** How far ahead nextCallableInstant searches before giving up. */
const SEARCH_DAYS = 40;

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const WINDOWS_TEXT = '10:00–13:00 and 14:00–20:00';

/** The consumer's local calendar fields at an instant. */
type Local = {
  year: number;
  month: number;
  day: number;
  /** 0 = Sunday … 6 = Saturday. */
  weekday: number;
  /** Milliseconds since local midnight (wall clock). */
  msOfDay: number;
  /** Offset from UTC in minutes. */
  offset: number;
};

function localAt(zi: ZoneInfo, ts: number): Local {
  const offset = offsetMinutes(zi, ts);
  const wall = ts + offset * MINUTE;
  const d = new Date(wall);
  const msOfDay = wall - Math.floor(wall / DAY) * DAY;
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    weekday: d.getUTCDay(),
    msOfDay,
    offset,
  };
}

function inWindow(msOfDay: number): boolean {
  return (msOfDay >= OPEN_AM && msOfDay < CLOSE_AM) || (msOfDay >= OPEN_PM && msOfDay < CLOSE_PM);
}

function isWorkingDay(
  year: number,
  month: number,
  day: number,
  weekday: number,
  place: Place,
  opts: TimeOptions,
): boolean {
  if (weekday === 0 || weekday === 6) return false;
  return holidayOnKey(year, dateKey(year, month, day), place, opts) === undefined;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

function isoDate(l: { year: number; month: number; day: number }): string {
  return `${pad(l.year, 4)}-${pad(l.month)}-${pad(l.day)}`;
}

function hhmm(msOfDay: number): string {
  return `${pad(Math.floor(msOfDay / HOUR))}:${pad(Math.floor((msOfDay % HOUR) / MINUTE))}`;
}

function checkInstant(at: Date, fn: string): number {
  const ts = at instanceof Date ? at.getTime() : NaN;
  if (!Number.isFinite(ts)) throw new Error(`${fn}: expected a valid Date, got ${String(at)}`);
  return ts;
}

function checkPlaces(places: Place[], fn: string): void {
  if (!Array.isArray(places) || places.length === 0) {
    throw new Error(
      `${fn}: no place given — pass at least one { timeZone, territories, alsaceMoselle } for the consumer`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Public API

/**
 * TIME-1..3 for an attempt at `at`. [] = allowed. One failure per code (the first place that fails it),
 * several codes possible (Saturday 21:00 → TIME-1 and TIME-3). All failures carry the same retryAfter.
 */
export function checkCallingTime(at: Date, places: Place[], opts: TimeOptions): TimeFailure[] {
  const ts = checkInstant(at, 'checkCallingTime');
  checkPlaces(places, 'checkCallingTime');
  let failures: Omit<TimeFailure, 'retryAfter'>[] | undefined;
  let weekend = false;
  let holiday = false;
  let hours = false;
  for (const place of places) {
    const zi = zoneInfo(place.timeZone);
    const l = localAt(zi, ts);
    if (!weekend && (l.weekday === 0 || l.weekday === 6)) {
      weekend = true;
      (failures ??= []).push({
        code: 'non_working_day',
        rule: 'TIME-1',
        message: `${WEEKDAYS[l.weekday]} ${isoDate(l)} in ${zi.name}`,
        timeZone: zi.name,
      });
    }
    if (!holiday) {
      const h = holidayOnKey(l.year, dateKey(l.year, l.month, l.day), place, opts);
      if (h) {
        holiday = true;
        (failures ??= []).push({
          code: 'public_holiday',
          rule: 'TIME-2',
          message: `${h.name} ${h.date} in ${zi.name}`,
          timeZone: zi.name,
        });
      }
    }
    if (!hours && !inWindow(l.msOfDay)) {
      hours = true;
      (failures ??= []).push({
        code: 'outside_calling_hours',
        rule: 'TIME-3',
        message: `${hhmm(l.msOfDay)} in ${zi.name} is outside ${WINDOWS_TEXT}`,
        timeZone: zi.name,
      });
    }
  }
  if (!failures) return [];
  const retry = nextCallableInstant(at, places, opts).getTime();
  return failures.map((f) => ({ ...f, retryAfter: new Date(retry) }));
}

/** The earliest instant >= t at which `place` alone passes TIME-1..3 (t itself when it passes). */
function nextForPlace(t: number, place: Place, zi: ZoneInfo, opts: TimeOptions): number {
  const l = localAt(zi, t);
  const working = isWorkingDay(l.year, l.month, l.day, l.weekday, place, opts);
  if (working && inWindow(l.msOfDay)) return t;
  let year = l.year;
  let month = l.month;
  let day = l.day;
  let hour: number;
  if (working && l.msOfDay < OPEN_AM) {
    hour = 10;
  } else if (working && l.msOfDay >= CLOSE_AM && l.msOfDay < OPEN_PM) {
    hour = 14;
  } else {
    hour = 10;
    let found = false;
    for (let i = 1; i <= SEARCH_DAYS; i++) {
      const d = new Date(Date.UTC(l.year, l.month - 1, l.day + i));
      year = d.getUTCFullYear();
      month = d.getUTCMonth() + 1;
      day = d.getUTCDate();
      if (isWorkingDay(year, month, day, d.getUTCDay(), place, opts)) {
        found = true;
        break;
      }
    }
    if (!found) {
      throw new Error(
        `nextCallableInstant: no working day within ${SEARCH_DAYS} days after ${isoDate(l)} in ${zi.name} — check the holiday tables`,
      );
    }
  }
  const candidate = wallToInstant(zi, Date.UTC(year, month - 1, day, hour));
  // Never go backwards; cannot happen unless a zone changes offset around 10:00/14:00 local.
  return candidate > t ? candidate : t + MINUTE;
}

/**
 * The earliest instant >= at at which the attempt passes TIME-1..3 in every place (= at when it passes now).
 * Searches at most 40 days ahead and throws if no common instant exists (e.g. two zones whose windows
 * never overlap).
 */
export function nextCallableInstant(at: Date, places: Place[], opts: TimeOptions): Date {
  const start = checkInstant(at, 'nextCallableInstant');
  checkPlaces(places, 'nextCallableInstant');
  const infos = places.map((p) => zoneInfo(p.timeZone));
  const limit = start + SEARCH_DAYS * DAY;
  let t = start;
  // Fixpoint: move t to the latest of each place's next callable instant until all agree. No common
  // instant is skipped, since each step only jumps over instants at which some place fails.
  for (let iter = 0; iter < 10_000; iter++) {
    let next = t;
    for (let i = 0; i < places.length; i++) {
      const n = nextForPlace(t, places[i], infos[i], opts);
      if (n > next) next = n;
    }
    if (next === t) return new Date(t);
    if (next > limit) break;
    t = next;
  }
  throw new Error(
    `nextCallableInstant: no instant within ${SEARCH_DAYS} days after ${new Date(start).toISOString()} passes the ` +
      `calling hours in every zone (${infos.map((z) => z.name).join(', ')}) — do these zones' windows overlap?`,
  );
}

/**
 * The last local minute localTimeIso formatted: its zone, offset and wall-clock minute, and the
 * text before and after the seconds ('2026-12-01T10:00:' and '+01:00'). Every decision formats its
 * callee's local time, and those of a busy gate share a minute: only the seconds are new.
 */
let lastLocal: { zi: ZoneInfo; offset: number; wallMinute: number; head: string; tail: string } | undefined;

/** ISO-8601 local time with offset, e.g. '2026-12-01T10:00:00.000+01:00' ('+00:00' for UTC). */
export function localTimeIso(at: Date, timeZone: string): string {
  const ts = checkInstant(at, 'localTimeIso');
  const zi = zoneInfo(timeZone);
  const offset = offsetMinutes(zi, ts);
  const wall = ts + offset * MINUTE;
  const wallMinute = Math.floor(wall / MINUTE);
  const inMinute = (wall - Math.floor(wall / DAY) * DAY) % MINUTE; // localAt's msOfDay % MINUTE, as spelled before
  const l = lastLocal;
  if (l === undefined || l.zi !== zi || l.offset !== offset || l.wallMinute !== wallMinute) {
    const local = localAt(zi, ts);
    const sign = offset < 0 ? '-' : '+';
    const abs = Math.round(Math.abs(offset));
    lastLocal = {
      zi,
      offset,
      wallMinute,
      head: `${isoDate(local)}T${hhmm(local.msOfDay)}:`,
      tail: `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`,
    };
  }
  const { head, tail } = lastLocal!;
  return `${head}${pad(Math.floor(inMinute / 1000))}.${pad(inMinute % 1000, 3)}${tail}`;
}

/** TIME-4 arithmetic: is `at` within ±toleranceMinutes of the agreed `slot`? Bounds inclusive. */
export function isWithinSlot(at: Date, slot: Date, toleranceMinutes: number): boolean {
  const a = checkInstant(at, 'isWithinSlot');
  const s = checkInstant(slot, 'isWithinSlot');
  if (!Number.isFinite(toleranceMinutes) || toleranceMinutes < 0) {
    throw new Error(`isWithinSlot: toleranceMinutes must be a finite number >= 0, got ${toleranceMinutes}`);
  }
  return Math.abs(a - s) <= toleranceMinutes * MINUTE;
}
