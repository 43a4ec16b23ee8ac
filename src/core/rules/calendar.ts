/**
 * Calendar-day arithmetic on the Europe/Paris wall clock, shared by every rule that counts days
 * (FREQ-1 window, CONS-3 consent validity, REF-1 cool-down, OPP-2 list age).
 *
 * "N calendar days after t" keeps the Paris wall-clock time of t, so a window that spans a DST change
 * is 30 × 24 h ± 1 h, not 720 h (C. consom. D. 223-9 counts calendar days, "jours calendaires").
 * A wall-clock time that does not exist on the target day (spring-forward gap) moves forward, and an ambiguous
 * one (fall-back) takes the earlier instant — the same resolution as luxon's DateTime#plus({ days }), which
 * this reimplements because luxon costs ~80 µs per call here and evaluate() runs on every call.
 * Offsets come from ../zone-offset.ts (cached per zone and per UTC hour). Independent of the host time zone.
 */
import { offsetMinutes, wallToInstant, zoneInfo } from '../zone-offset';

export const LEGAL_ZONE = 'Europe/Paris';

const MINUTE = 60_000;
const DAY = 86_400_000;

/** UTC offset of `zone` at instant `ts`, in minutes (Paris winter: 60, summer: 120). */
export function zoneOffsetMinutes(zone: string, ts: number): number {
  return offsetMinutes(zoneInfo(zone), ts);
}

export function addCalendarDays(at: Date, days: number, zone: string = LEGAL_ZONE): Date {
  const t = at.getTime();
  if (days === 0 || Number.isNaN(t)) return new Date(t);
  const o = zoneOffsetMinutes(zone, t);
  return new Date(wallToInstant(zoneInfo(zone), t + o * MINUTE + Math.trunc(days) * DAY, o));
}

/** Every value is a valid Date (not NaN). */
export function isValidDate(d: unknown): d is Date {
  return d instanceof Date && !Number.isNaN(d.getTime());
}
