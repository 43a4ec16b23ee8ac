/**
 * Calendar-day arithmetic on the Europe/Paris wall clock, shared by every rule that counts days
 * (FREQ-1 window, CONS-3 consent validity, REF-1 cool-down, OPP-2 list age).
 *
 * "N calendar days after t" keeps the Paris wall-clock time of t, so a window that spans a DST change
 * is 30 × 24 h ± 1 h, not 720 h (C. consom. D. 223-9 counts calendar days, "jours calendaires").
 * A wall-clock time that does not exist on the target day (spring-forward gap) moves forward, as luxon does.
 * Independent of the host time zone.
 */
import { DateTime } from 'luxon';

export const LEGAL_ZONE = 'Europe/Paris';

export function addCalendarDays(at: Date, days: number, zone: string = LEGAL_ZONE): Date {
  if (days === 0) return new Date(at.getTime());
  return DateTime.fromMillis(at.getTime(), { zone }).plus({ days }).toJSDate();
}

/** Every value is a valid Date (not NaN). */
export function isValidDate(d: unknown): d is Date {
  return d instanceof Date && !Number.isNaN(d.getTime());
}
