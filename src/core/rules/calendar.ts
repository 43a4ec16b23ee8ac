/**
 * Calendar-day arithmetic on the Europe/Paris wall clock, shared by every rule that counts days
 * (FREQ-1 window, CONS-3 consent validity, REF-1 cool-down, OPP-2 list age).
 *
 * "N calendar days after t" keeps the Paris wall-clock time of t, so a window that spans a DST change
 * is 30 × 24 h ± 1 h, not 720 h (C. consom. D. 223-9 counts calendar days, "jours calendaires").
 * A wall-clock time that does not exist on the target day (spring-forward gap) moves forward, and an ambiguous
 * one (fall-back) takes the earlier instant — the same resolution as luxon's DateTime#plus({ days }), which
 * this reimplements because luxon costs ~80 µs per call here and evaluate() runs on every call.
 * Offsets come from the tz database through Intl (ICU), cached per zone and per quarter hour (every tz
 * transition of the zones used here falls on a quarter hour). Independent of the host time zone.
 */

export const LEGAL_ZONE = 'Europe/Paris';

const MINUTE = 60_000;
const DAY = 86_400_000;
const BUCKET = 15 * MINUTE;

type ZoneCache = { dtf: Intl.DateTimeFormat; offsets: Map<number, number> };
const zones = new Map<string, ZoneCache>();

function zoneCache(zone: string): ZoneCache {
  let z = zones.get(zone);
  if (!z) {
    // Throws RangeError for an unknown zone: callers pass LEGAL_ZONE or a zone validated upstream.
    const dtf = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      era: 'short',
    });
    z = { dtf, offsets: new Map() };
    zones.set(zone, z);
  }
  return z;
}

/** UTC offset of `zone` at instant `ts`, in minutes (Paris winter: 60, summer: 120). */
export function zoneOffsetMinutes(zone: string, ts: number): number {
  const z = zoneCache(zone);
  const key = Math.floor(ts / BUCKET);
  let off = z.offsets.get(key);
  if (off === undefined) {
    const start = key * BUCKET;
    const f: Record<string, string> = {};
    for (const p of z.dtf.formatToParts(new Date(start))) f[p.type] = p.value;
    let year = Number(f.year);
    if (f.era === 'BC' || f.era === 'B') year = 1 - year;
    const wall = Date.UTC(year, Number(f.month) - 1, Number(f.day), Number(f.hour), Number(f.minute), Number(f.second));
    off = Math.round((wall - start) / MINUTE);
    if (z.offsets.size > 50_000) z.offsets.clear();
    z.offsets.set(key, off);
  }
  return off;
}

/** The instant whose wall-clock time in `zone` is `local` (ms of a UTC-fielded date), guessing offset `o` first. */
function fromWallClock(zone: string, local: number, o: number): number {
  let guess = local - o * MINUTE;
  const o2 = zoneOffsetMinutes(zone, guess);
  if (o === o2) return guess;
  guess -= (o2 - o) * MINUTE;
  const o3 = zoneOffsetMinutes(zone, guess);
  if (o2 === o3) return guess;
  return local - Math.min(o2, o3) * MINUTE;
}

export function addCalendarDays(at: Date, days: number, zone: string = LEGAL_ZONE): Date {
  const t = at.getTime();
  if (days === 0 || Number.isNaN(t)) return new Date(t);
  const o = zoneOffsetMinutes(zone, t);
  return new Date(fromWallClock(zone, t + o * MINUTE + Math.trunc(days) * DAY, o));
}

/** Every value is a valid Date (not NaN). */
export function isValidDate(d: unknown): d is Date {
  return d instanceof Date && !Number.isNaN(d.getTime());
}
