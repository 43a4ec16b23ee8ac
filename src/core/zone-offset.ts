/**
 * UTC offsets of IANA zones, cached per zone and per UTC hour, so that the hot path of a decision
 * creates no luxon object. Shared by the calling windows (calling-time.ts) and the calendar-day
 * arithmetic of the rules (rules/calendar.ts). Pure, independent of the host time zone.
 */
import { IANAZone } from 'luxon';
import { quoteValue } from './quote';

const MINUTE = 60_000;
const HOUR = 3_600_000;

export type ZoneInfo = {
  name: string;
  zone: IANAZone;
  /** UTC hour index → offset in minutes, or NaN when the offset changes inside that hour. */
  hours: Map<number, number>;
};

const zones = new Map<string, ZoneInfo>();

export function zoneInfo(name: string): ZoneInfo {
  const cached = zones.get(name);
  if (cached) return cached;
  if (typeof name !== 'string' || !IANAZone.isValidZone(name)) {
    throw new Error(`Unknown IANA time zone ${quoteValue(name)}: give a tz database name such as "Europe/Paris"`);
  }
  const info: ZoneInfo = { name, zone: IANAZone.create(name), hours: new Map() };
  zones.set(name, info);
  return info;
}

export function offsetMinutes(zi: ZoneInfo, ts: number): number {
  const hour = Math.floor(ts / HOUR);
  let off = zi.hours.get(hour);
  if (off === undefined) {
    const start = zi.zone.offset(hour * HOUR);
    const end = zi.zone.offset(hour * HOUR + HOUR - 1);
    off = start === end ? start : NaN;
    if (zi.hours.size >= 50_000) zi.hours.clear(); // bound memory on long replays
    zi.hours.set(hour, off);
  }
  return off === off ? off : zi.zone.offset(ts); // NaN: a transition inside this hour, ask exactly
}

/**
 * The instant at which the local wall clock of a zone shows `wall` (given as if it were UTC milliseconds).
 * Same resolution as luxon: an ambiguous time (clocks set back) takes the earlier offset's reading, a
 * skipped time (clocks set forward) moves forward by the gap. `guess` is the offset tried first (luxon's
 * DateTime#plus keeps the start's offset as its guess; default: the offset at `wall` read as UTC).
 */
export function wallToInstant(zi: ZoneInfo, wall: number, guess?: number): number {
  const o1 = guess ?? offsetMinutes(zi, wall);
  let ts = wall - o1 * MINUTE;
  const o2 = offsetMinutes(zi, ts);
  if (o1 === o2) return ts;
  ts -= (o2 - o1) * MINUTE;
  const o3 = offsetMinutes(zi, ts);
  if (o2 === o3) return ts;
  return wall - Math.min(o2, o3) * MINUTE;
}
