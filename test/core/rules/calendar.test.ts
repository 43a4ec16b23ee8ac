import { DateTime } from 'luxon';
import { addCalendarDays, zoneOffsetMinutes } from '../../../src/core/rules/calendar';

describe('addCalendarDays agrees with luxon DateTime#plus({ days }) on the Paris wall clock', () => {
  const zones = ['Europe/Paris', 'America/Miquelon', 'Indian/Reunion']; // two DST zones, one without
  // Every 37 minutes over 2025-2027 plus the DST edges: start instants near transitions, ±N days.
  const starts: number[] = [];
  for (let t = Date.parse('2025-01-01T00:00:00Z'); t < Date.parse('2027-12-31T00:00:00Z'); t += 37 * 60_000 * 29)
    starts.push(t);
  for (const edge of ['2026-03-29T01:00:00Z', '2026-10-25T01:00:00Z', '2027-03-28T01:00:00Z']) {
    for (let m = -180; m <= 180; m += 15) starts.push(Date.parse(edge) + m * 60_000);
  }
  // Landing inside the spring-forward gap and the fall-back overlap (Paris 2026-03-29 / 2026-10-25 02:30).
  for (const s of [
    '2026-02-27T02:30:00+01:00',
    '2026-09-25T02:30:00+02:00',
    '2026-04-28T02:30:00+02:00',
    '2026-11-24T02:30:00+01:00',
  ]) {
    starts.push(Date.parse(s));
  }
  it('gap and overlap resolution (explicit)', () => {
    expect(addCalendarDays(new Date('2026-02-27T02:30:00+01:00'), 30).toISOString()).toBe('2026-03-29T01:30:00.000Z'); // 03:30 CEST
    expect(addCalendarDays(new Date('2026-09-25T02:30:00+02:00'), 30).toISOString()).toBe('2026-10-25T00:30:00.000Z'); // earlier 02:30
  });
  it.each(zones)('%s', (zone) => {
    let checked = 0;
    for (const t of starts) {
      for (const days of [-366, -60, -30, -1, 1, 30, 60, 365]) {
        const mine = addCalendarDays(new Date(t), days, zone).getTime();
        const ref = DateTime.fromMillis(t, { zone }).plus({ days }).toMillis();
        if (mine !== ref)
          throw new Error(
            `${zone} ${new Date(t).toISOString()} ${days}d: ${new Date(mine).toISOString()} vs luxon ${new Date(ref).toISOString()}`,
          );
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(5_000);
  });

  it('Paris offsets', () => {
    expect(zoneOffsetMinutes('Europe/Paris', Date.parse('2026-01-15T12:00:00Z'))).toBe(60);
    expect(zoneOffsetMinutes('Europe/Paris', Date.parse('2026-07-15T12:00:00Z'))).toBe(120);
    expect(zoneOffsetMinutes('Europe/Paris', Date.parse('2026-03-29T00:59:59Z'))).toBe(60);
    expect(zoneOffsetMinutes('Europe/Paris', Date.parse('2026-03-29T01:00:00Z'))).toBe(120);
  });

  it('invalid dates stay invalid; 0 days is a copy', () => {
    expect(Number.isNaN(addCalendarDays(new Date(NaN), 30).getTime())).toBe(true);
    const d = new Date('2026-05-01T00:00:00Z');
    expect(addCalendarDays(d, 0)).not.toBe(d);
    expect(addCalendarDays(d, 0)).toEqual(d);
  });
});
