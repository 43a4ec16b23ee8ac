/** The one date parser (src/core/instant.ts): examples, then properties (fast-check). */
import fc from 'fast-check';
import { DateTime } from 'luxon';
import {
  FIRST_INSTANT,
  LAST_INSTANT,
  isJudgeableInstant,
  parseCalendarDate,
  parseInstant,
} from '../../src/core/instant';

const iso = (text: string, zone?: string): string => {
  const r = parseInstant(text, zone ? { zone } : {});
  if (!r.ok) throw new Error(r.error);
  return r.value.toISOString();
};
const error = (text: string): string => {
  const r = parseInstant(text);
  if (r.ok) throw new Error(`${text} was read as ${r.value.toISOString()}`);
  return r.error;
};

describe('parseInstant: what it reads', () => {
  test('a wall time without offset is Paris time, winter and summer; a date alone is 00:00 Paris', () => {
    expect(iso('2026-11-24T11:00')).toBe('2026-11-24T10:00:00.000Z');
    expect(iso('2026-06-16T11:00:00')).toBe('2026-06-16T09:00:00.000Z');
    expect(iso('2026-11-24')).toBe('2026-11-23T23:00:00.000Z');
    expect(iso('2026-07-15')).toBe('2026-07-14T22:00:00.000Z');
    expect(iso('2026-11-24 11:00')).toBe('2026-11-24T10:00:00.000Z');
    expect(iso('2026-07-15T10:00:00.5Z')).toBe('2026-07-15T10:00:00.500Z');
    expect(iso('2026-07-15T10:00:00.123456789Z')).toBe('2026-07-15T10:00:00.123Z');
  });

  test('Z and offsets in the three ISO spellings', () => {
    expect(iso('2026-11-24T11:00:00-04:00')).toBe('2026-11-24T15:00:00.000Z');
    expect(iso('2026-07-15T10:00:00-0400')).toBe('2026-07-15T14:00:00.000Z');
    expect(iso('2026-07-15T10:00+05')).toBe('2026-07-15T05:00:00.000Z');
    expect(iso('2026-07-15t10:00z')).toBe('2026-07-15T10:00:00.000Z');
    expect(iso('2026-07-15T10:00+14:00')).toBe('2026-07-14T20:00:00.000Z');
    expect(iso('2026-07-15T10:00-12:00')).toBe('2026-07-15T22:00:00.000Z');
  });

  test('a bracketed zone is that zone’s wall time (issue 11.4: it was read one hour off)', () => {
    expect(iso('2026-11-24T20:30[Europe/Paris]')).toBe('2026-11-24T19:30:00.000Z');
    expect(iso('2026-11-24T20:30[America/Martinique]')).toBe('2026-11-25T00:30:00.000Z');
    expect(iso('2026-11-24[Indian/Reunion]')).toBe('2026-11-23T20:00:00.000Z');
    // with an offset, both must agree
    expect(iso('2026-11-24T20:30+01:00[Europe/Paris]')).toBe('2026-11-24T19:30:00.000Z');
    expect(error('2026-11-24T20:30+02:00[Europe/Paris]')).toMatch(
      /contradicts itself: at that instant Europe\/Paris is at \+01:00, not \+02:00/,
    );
    expect(iso('2026-11-24T19:30Z[Europe/Paris]')).toBe('2026-11-24T19:30:00.000Z');
    expect(error('2026-11-24T20:30[Mars/Olympus]')).toMatch(/"\[Mars\/Olympus\]" is not a time zone name/);
    expect(error('2026-11-24T20:30[u-ca=gregory]')).toMatch(/is not a time zone name/);
    expect(error('2026-11-24T20:30[!Europe/Paris]')).toMatch(/is not a time zone name/);
  });

  test('the DST gap is refused, the overlap needs an offset (and names both)', () => {
    expect(error('2026-03-29T02:30')).toMatch(/does not exist in Europe\/Paris \(clocks go forward/);
    const twice = error('2026-10-25T02:30');
    expect(twice).toMatch(/happens twice in Europe\/Paris/);
    expect(twice).toContain('2026-10-25T02:30+02:00 (first) or 2026-10-25T02:30+01:00 (second)');
    expect(iso('2026-10-25T02:30+01:00')).toBe('2026-10-25T01:30:00.000Z');
    expect(iso('2026-10-25T01:59')).toBe('2026-10-24T23:59:00.000Z');
    expect(iso('2026-10-25T03:00')).toBe('2026-10-25T02:00:00.000Z');
    expect(error('2026-10-25T02:30[Europe/Paris]')).toContain('2026-10-25T02:30+02:00[Europe/Paris] (first)');
    expect(error('2026-03-08T02:30[America/New_York]')).toMatch(/does not exist in America\/New_York/);
  });
});

describe('parseInstant: what it refuses (issue 11.4)', () => {
  test.each([
    ['+15:00', '2026-11-24T11:00+15:00', /not a real UTC offset/],
    ['+99:99', '2026-11-24T11:00+99:99', /offset's minutes 99 do not exist|not a real UTC offset/],
    ['-13:00', '2026-11-24T11:00-13:00', /not a real UTC offset/],
    ['a partial date', '2026-11', /is not a date or date-time callgate reads/],
    ['a bare time', '11:00', /is not a date or date-time callgate reads/],
    ['a week date', '2026-W48-2', /is not a date or date-time/],
    ['an ordinal date', '2026-328', /is not a date or date-time/],
    ['the basic format', '20261124T1100', /is not a date or date-time/],
    ['24:00', '2026-11-24T24:00', /hour 24 does not exist/],
    ['a leap second', '2026-12-31T23:59:60Z', /second 60 does not exist/],
    ['February 30', '2026-02-30', /day 30 does not exist in 2026-02/],
    ['month 13', '2026-13-01T10:00', /month 13 does not exist/],
    ['year 0026', '0026-11-24', /year 0026 is outside 1900–2199/],
    ['year 9999', '9999-12-31T23:59Z', /year 9999 is outside/],
    ['a six-digit year', '+275760-09-13T00:00Z', /is not a date or date-time/],
    ['French order', '24/11/2026 11:00', /is not a date or date-time/],
    ['a word', 'tomorrow', /is not a date or date-time/],
  ])('%s', (_name, text, message) => {
    const e = error(text);
    expect(e).toMatch(message);
    expect(e).not.toMatch(/\n/);
  });

  test('the message names the accepted forms and shows the value escaped and bounded', () => {
    const e = error('now\u001b[2J');
    expect(e).toContain('"now\\x1B[2J"');
    expect(e).toMatch(/accepted: 2026-11-24 \(00:00 Paris time\)/);
    expect(error('x'.repeat(100_000)).length).toBeLessThan(500);
    expect(error('   ')).toMatch(/^empty value/);
  });
});

describe('parseCalendarDate and isJudgeableInstant', () => {
  test('calendar dates', () => {
    expect(parseCalendarDate('2026-08-11')).toEqual({ ok: true, value: { year: 2026, month: 8, day: 11 } });
    expect(parseCalendarDate('2028-02-29').ok).toBe(true);
    for (const bad of ['2026-02-29', '2026-8-11', '2026-08-11T00:00', '0026-08-11', ''])
      expect(parseCalendarDate(bad).ok).toBe(false);
  });
  test('the years the rules judge', () => {
    expect(isJudgeableInstant(new Date('2026-11-24T10:00Z'))).toBe(true);
    for (const bad of [new Date(NaN), new Date(8.64e15), new Date('9999-01-01T00:00Z'), new Date(-1e15), '2026'])
      expect(isJudgeableInstant(bad)).toBe(false);
  });
});

describe('properties', () => {
  // instants whose wall time is within 1900–2199 at any offset
  const instants = fc.integer({ min: FIRST_INSTANT + 2 * 86_400_000, max: LAST_INSTANT - 3 * 86_400_000 });

  test('any instant written by toISOString reads back as itself', () => {
    fc.assert(
      fc.property(instants, (t) => {
        const r = parseInstant(new Date(t).toISOString());
        return r.ok && r.value.getTime() === t;
      }),
    );
  });

  test('any instant written with any real offset reads back as itself', () => {
    fc.assert(
      fc.property(instants, fc.integer({ min: -48, max: 56 }), (t, quarters) => {
        const off = quarters * 15;
        const a = Math.abs(off);
        const sign = off < 0 ? '-' : '+';
        const offset = `${sign}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
        const text = new Date(t + off * 60_000).toISOString().slice(0, 23) + offset;
        const r = parseInstant(text);
        return r.ok && r.value.getTime() === t;
      }),
    );
  });

  test('a Paris wall time reads as the instant luxon shows at that wall time, or is refused as skipped or doubled', () => {
    fc.assert(
      fc.property(
        fc.record({
          year: fc.integer({ min: 1900, max: 2199 }),
          month: fc.integer({ min: 1, max: 12 }),
          day: fc.integer({ min: 1, max: 28 }),
          hour: fc.integer({ min: 0, max: 23 }),
          minute: fc.integer({ min: 0, max: 59 }),
        }),
        (w) => {
          const p = (n: number) => String(n).padStart(2, '0');
          const text = `${w.year}-${p(w.month)}-${p(w.day)}T${p(w.hour)}:${p(w.minute)}`;
          const r = parseInstant(text);
          if (!r.ok) return /does not exist in|happens twice in/.test(r.error);
          const back = DateTime.fromJSDate(r.value, { zone: 'Europe/Paris' });
          const same =
            back.year === w.year &&
            back.month === w.month &&
            back.day === w.day &&
            back.hour === w.hour &&
            back.minute === w.minute;
          // unique: an hour earlier or later does not show the same wall time
          const twin = [-3_600_000, 3_600_000].some((d) => {
            const o = DateTime.fromMillis(r.value.getTime() + d, { zone: 'Europe/Paris' });
            return o.hour === w.hour && o.minute === w.minute && o.day === w.day;
          });
          return same && !twin;
        },
      ),
    );
  });

  test('any text: never throws; an accepted one is judgeable, a refused one gets one bounded printable line', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 300 })), (s) => {
        const r = parseInstant(s);
        if (r.ok) return isJudgeableInstant(r.value);
        // eslint-disable-next-line no-control-regex -- the messages must hold none
        return r.error.length < 700 && !/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(r.error);
      }),
      { numRuns: 2000 },
    );
  });
});
