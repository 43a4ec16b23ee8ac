/**
 * TIME-1..3 (C. consom. D. 223-9) and the TIME-4 slot helper. Every instant is written with an explicit
 * offset, so these tests mean the same under any host TZ (run them under several).
 */
import {
  checkCallingTime,
  isWithinSlot,
  localTimeIso,
  nextCallableInstant,
  type TimeOptions,
} from '../../src/core/calling-time';
import { holidayOn, type Place } from '../../src/core/holidays';
import { offsetMinutes, zoneInfo } from '../../src/core/zone-offset';
import fc from 'fast-check';

const BY_LOCATION: TimeOptions = { localHolidays: true, localHolidaysMode: 'by-location' };
const STRICT: TimeOptions = { localHolidays: true, localHolidaysMode: 'strict' };
const NATIONAL_ONLY: TimeOptions = { localHolidays: false, localHolidaysMode: 'by-location' };

const PARIS: Place = { timeZone: 'Europe/Paris', territories: ['FR'], alsaceMoselle: false };
const STRASBOURG: Place = { timeZone: 'Europe/Paris', territories: ['FR'], alsaceMoselle: true };
const MARTINIQUE: Place = { timeZone: 'America/Martinique', territories: ['MQ'], alsaceMoselle: false };
const SAINT_MARTIN: Place = { timeZone: 'America/Marigot', territories: ['MF'], alsaceMoselle: false };
const MIQUELON: Place = { timeZone: 'America/Miquelon', territories: ['PM'], alsaceMoselle: false };
const REUNION: Place = { timeZone: 'Indian/Reunion', territories: ['RE', 'YT'], alsaceMoselle: false };
const MAYOTTE: Place = { timeZone: 'Indian/Mayotte', territories: ['YT', 'RE'], alsaceMoselle: false };
const KIRITIMATI: Place = { timeZone: 'Pacific/Kiritimati', territories: ['KI'], alsaceMoselle: false };
const KOLKATA: Place = { timeZone: 'Asia/Kolkata', territories: ['IN'], alsaceMoselle: false };
const NUMBER_09478 = [REUNION, MAYOTTE];

const d = (s: string) => new Date(s);
const codes = (at: string, places: Place[], opts: TimeOptions = BY_LOCATION) =>
  checkCallingTime(d(at), places, opts).map((f) => f.code);

describe('TIME-3 window bounds (half-open [10:00,13:00) and [14:00,20:00), local)', () => {
  test.each([
    ['2026-12-01T00:00:00.000+01:00', false],
    ['2026-12-01T09:59:59.999+01:00', false],
    ['2026-12-01T10:00:00.000+01:00', true],
    ['2026-12-01T12:59:59.999+01:00', true],
    ['2026-12-01T13:00:00.000+01:00', false],
    ['2026-12-01T13:59:59.999+01:00', false],
    ['2026-12-01T14:00:00.000+01:00', true],
    ['2026-12-01T19:59:59.000+01:00', true],
    ['2026-12-01T19:59:59.999+01:00', true],
    ['2026-12-01T20:00:00.000+01:00', false],
    ['2026-12-01T23:59:59.999+01:00', false],
    // summer time in Paris: the same wall-clock bounds at +02:00
    ['2026-07-01T09:59:59.999+02:00', false],
    ['2026-07-01T10:00:00.000+02:00', true],
    ['2026-07-01T20:00:00.000+02:00', false],
    // half-hour zone
    ['2026-12-01T09:59:59.999+05:30', false],
    ['2026-12-01T10:00:00.000+05:30', true],
    ['2026-12-01T19:59:59.999+05:30', true],
  ])('%s allowed=%p', (at, allowed) => {
    const place = at.endsWith('+05:30') ? KOLKATA : PARIS;
    const failures = checkCallingTime(d(at), [place], BY_LOCATION);
    expect(failures.length === 0).toBe(allowed);
    if (!allowed)
      expect(failures).toEqual([expect.objectContaining({ code: 'outside_calling_hours', rule: 'TIME-3' })]);
  });

  test('message names the local time, the zone and the windows', () => {
    const [f] = checkCallingTime(d('2026-12-01T20:00:00+01:00'), [PARIS], BY_LOCATION);
    expect(f).toMatchObject({
      code: 'outside_calling_hours',
      rule: 'TIME-3',
      timeZone: 'Europe/Paris',
      message: '20:00 in Europe/Paris is outside 10:00–13:00 and 14:00–20:00',
    });
  });
});

describe('TIME-1 and TIME-2', () => {
  test('Saturday in Martinique, message as documented', () => {
    const failures = checkCallingTime(d('2026-12-05T11:00:00-04:00'), [MARTINIQUE], BY_LOCATION);
    expect(failures).toEqual([
      {
        code: 'non_working_day',
        rule: 'TIME-1',
        message: 'Saturday 2026-12-05 in America/Martinique',
        timeZone: 'America/Martinique',
        retryAfter: d('2026-12-07T10:00:00.000-04:00'),
      },
    ]);
  });

  test('Saturday 21:00 fails TIME-1 and TIME-3, with the same retryAfter', () => {
    const failures = checkCallingTime(d('2026-12-05T21:00:00+01:00'), [PARIS], BY_LOCATION);
    expect(failures.map((f) => [f.code, f.rule])).toEqual([
      ['non_working_day', 'TIME-1'],
      ['outside_calling_hours', 'TIME-3'],
    ]);
    for (const f of failures) expect(f.retryAfter).toEqual(d('2026-12-07T10:00:00+01:00'));
    failures[0].retryAfter.setTime(0); // each failure owns its Date
    expect(failures[1].retryAfter).toEqual(d('2026-12-07T10:00:00+01:00'));
  });

  test('a holiday on a Sunday fails TIME-1 and TIME-2 (every failed rule is listed)', () => {
    expect(codes('2026-11-01T11:00:00+01:00', [PARIS])).toEqual(['non_working_day', 'public_holiday']);
  });

  test('Christmas Day message', () => {
    const [f] = checkCallingTime(d('2026-12-25T11:00:00+01:00'), [PARIS], BY_LOCATION);
    expect(f).toMatchObject({
      code: 'public_holiday',
      rule: 'TIME-2',
      message: 'Christmas Day 2026-12-25 in Europe/Paris',
    });
  });

  test('the local date decides, not the UTC date (Kiritimati is UTC+14)', () => {
    // 2026-12-24T21:00Z is Friday 25 Dec 11:00 in Kiritimati: a French national day applies to foreign numbers too.
    expect(codes('2026-12-24T21:00:00Z', [KIRITIMATI])).toEqual(['public_holiday']);
    // 2026-12-25T21:00Z is already Saturday 26 Dec there.
    expect(codes('2026-12-25T21:00:00Z', [KIRITIMATI])).toEqual(['non_working_day']);
  });

  test('local days follow the options', () => {
    expect(codes('2026-05-22T11:00:00-04:00', [MARTINIQUE], BY_LOCATION)).toEqual(['public_holiday']);
    expect(codes('2026-05-22T11:00:00-04:00', [MARTINIQUE], NATIONAL_ONLY)).toEqual([]);
    expect(codes('2026-04-03T11:00:00+02:00', [STRASBOURG], BY_LOCATION)).toEqual(['public_holiday']);
    expect(codes('2026-04-03T11:00:00+02:00', [PARIS], BY_LOCATION)).toEqual([]);
    expect(codes('2026-04-03T11:00:00+02:00', [{ ...PARIS, alsaceMoselle: 'unknown' }], BY_LOCATION)).toEqual([]);
    expect(codes('2026-04-03T11:00:00+02:00', [{ ...PARIS, alsaceMoselle: 'unknown' }], STRICT)).toEqual([
      'public_holiday',
    ]);
  });
});

describe('retryAfter / nextCallableInstant: the first instant that passes every rule in every place', () => {
  test.each([
    // [what, at, places, options, expected retryAfter (local, with offset)]
    ['before opening', '2026-12-01T08:00:00+01:00', [PARIS], BY_LOCATION, '2026-12-01T10:00:00.000+01:00'],
    ['lunch block, exactly 13:00', '2026-12-01T13:00:00+01:00', [PARIS], BY_LOCATION, '2026-12-01T14:00:00.000+01:00'],
    ['lunch block', '2026-12-01T13:42:17.123+01:00', [PARIS], BY_LOCATION, '2026-12-01T14:00:00.000+01:00'],
    ['Friday 20:00 → Monday', '2026-12-04T20:00:00+01:00', [PARIS], BY_LOCATION, '2026-12-07T10:00:00.000+01:00'],
    ['Tuesday 23:30 → Wednesday', '2026-12-01T23:30:00+01:00', [PARIS], BY_LOCATION, '2026-12-02T10:00:00.000+01:00'],
    // DST in Europe/Paris: 2026-03-29, 2026-10-25, 2027-03-28 (Sundays)
    ['Sat before spring DST', '2026-03-28T21:00:00+01:00', [PARIS], BY_LOCATION, '2026-03-30T10:00:00.000+02:00'],
    ['DST Sunday itself', '2026-03-29T12:00:00+02:00', [PARIS], BY_LOCATION, '2026-03-30T10:00:00.000+02:00'],
    ['Fri before autumn DST', '2026-10-23T20:00:00+02:00', [PARIS], BY_LOCATION, '2026-10-26T10:00:00.000+01:00'],
    ['autumn DST night', '2026-10-25T02:30:00+01:00', [PARIS], BY_LOCATION, '2026-10-26T10:00:00.000+01:00'],
    // 2027-03-28 is both Easter Sunday and the DST change; Monday 29 is Easter Monday
    ['Easter + DST 2027', '2027-03-27T12:00:00+01:00', [PARIS], BY_LOCATION, '2027-03-30T10:00:00.000+02:00'],
    // holidays, consecutive ones, bridges
    ['1 May Friday → Monday 4 May', '2026-04-30T20:00:00+02:00', [PARIS], BY_LOCATION, '2026-05-04T10:00:00.000+02:00'],
    ['on 1 May', '2026-05-01T11:00:00+02:00', [PARIS], BY_LOCATION, '2026-05-04T10:00:00.000+02:00'],
    ['Ascension Thursday → Friday', '2026-05-14T11:00:00+02:00', [PARIS], BY_LOCATION, '2026-05-15T10:00:00.000+02:00'],
    [
      'Christmas Friday → Monday 28',
      '2026-12-25T10:30:00+01:00',
      [PARIS],
      BY_LOCATION,
      '2026-12-28T10:00:00.000+01:00',
    ],
    ['Christmas Eve evening', '2026-12-24T20:00:00+01:00', [PARIS], BY_LOCATION, '2026-12-28T10:00:00.000+01:00'],
    ['New Year 2027 (Friday)', '2026-12-31T19:59:59.999+01:00', [PARIS], BY_LOCATION, '2026-12-31T19:59:59.999+01:00'],
    [
      'New Year 2027 (Friday), after 20:00',
      '2026-12-31T20:00:00+01:00',
      [PARIS],
      BY_LOCATION,
      '2027-01-04T10:00:00.000+01:00',
    ],
    // Alsace-Moselle Good Friday then Easter Monday
    [
      'Good Friday, Strasbourg',
      '2026-04-03T11:00:00+02:00',
      [STRASBOURG],
      BY_LOCATION,
      '2026-04-07T10:00:00.000+02:00',
    ],
    ['Good Friday, Paris', '2026-04-03T11:00:00+02:00', [PARIS], BY_LOCATION, '2026-04-03T11:00:00.000+02:00'],
    // overseas local days
    [
      'Martinique 22 May then Whit Monday',
      '2026-05-22T10:00:00-04:00',
      [MARTINIQUE],
      BY_LOCATION,
      '2026-05-26T10:00:00.000-04:00',
    ],
    [
      'Saint-Martin 27 and 28 May',
      '2026-05-26T20:00:00-04:00',
      [SAINT_MARTIN],
      BY_LOCATION,
      '2026-05-29T10:00:00.000-04:00',
    ],
    [
      'Saint-Martin, national only',
      '2026-05-26T20:00:00-04:00',
      [SAINT_MARTIN],
      NATIONAL_ONLY,
      '2026-05-27T10:00:00.000-04:00',
    ],
    // America/Miquelon has DST (2026: 8 Mar and 1 Nov)
    [
      'Miquelon before spring DST',
      '2026-03-07T21:00:00-03:00',
      [MIQUELON],
      BY_LOCATION,
      '2026-03-09T10:00:00.000-02:00',
    ],
    [
      'Miquelon before autumn DST',
      '2026-10-30T20:00:00-02:00',
      [MIQUELON],
      BY_LOCATION,
      '2026-11-02T10:00:00.000-03:00',
    ],
    // 09478: Réunion (UTC+4) and Mayotte (UTC+3) — common windows 11:00–13:00 and 15:00–20:00 Réunion time
    ['09478 at 10:00 Réunion', '2026-12-01T10:00:00+04:00', NUMBER_09478, BY_LOCATION, '2026-12-01T11:00:00.000+04:00'],
    ['09478 at 13:00 Réunion', '2026-12-01T13:00:00+04:00', NUMBER_09478, BY_LOCATION, '2026-12-01T15:00:00.000+04:00'],
    ['09478 at 14:30 Réunion', '2026-12-01T14:30:00+04:00', NUMBER_09478, BY_LOCATION, '2026-12-01T15:00:00.000+04:00'],
    ['09478 at 12:30 Réunion', '2026-12-01T12:30:00+04:00', NUMBER_09478, BY_LOCATION, '2026-12-01T12:30:00.000+04:00'],
    ['09478 at 20:00 Réunion', '2026-12-01T20:00:00+04:00', NUMBER_09478, BY_LOCATION, '2026-12-02T11:00:00.000+04:00'],
    ['09478 Friday 20:00', '2026-12-04T20:00:00+04:00', NUMBER_09478, BY_LOCATION, '2026-12-07T11:00:00.000+04:00'],
    // Mayotte's day (Mon 27 Apr 2026) blocks via the Mayotte place in by-location; Réunion's (Mon 20 Dec 2027) via Réunion's
    ['09478 on Mayotte day', '2026-04-27T11:00:00+04:00', NUMBER_09478, BY_LOCATION, '2026-04-28T11:00:00.000+04:00'],
    ['09478 on Réunion day', '2027-12-20T11:00:00+04:00', NUMBER_09478, STRICT, '2027-12-21T11:00:00.000+04:00'],
    ['09478 national only', '2027-12-20T11:00:00+04:00', NUMBER_09478, NATIONAL_ONLY, '2027-12-20T11:00:00.000+04:00'],
  ] as [string, string, Place[], TimeOptions, string][])('%s: %s → %s', (_what, at, places, opts, expected) => {
    const next = nextCallableInstant(d(at), places, opts);
    expect(localTimeIso(next, places[0].timeZone)).toBe(expected);
    expect(next.getTime()).toBe(d(expected).getTime());
    expect(checkCallingTime(next, places, opts)).toEqual([]);
    const failures = checkCallingTime(d(at), places, opts);
    if (next.getTime() === d(at).getTime()) {
      expect(failures).toEqual([]);
    } else {
      expect(failures.length).toBeGreaterThan(0);
      for (const f of failures) expect(f.retryAfter).toEqual(next);
      // the first instant: one millisecond earlier still fails
      expect(checkCallingTime(new Date(next.getTime() - 1), places, opts).length).toBeGreaterThan(0);
    }
  });

  test('09478: a failure in one zone only is reported once, with that zone', () => {
    // 10:30 in Réunion is 09:30 in Mayotte
    const f = checkCallingTime(d('2026-12-01T10:30:00+04:00'), NUMBER_09478, BY_LOCATION);
    expect(f).toEqual([
      expect.objectContaining({
        code: 'outside_calling_hours',
        timeZone: 'Indian/Mayotte',
        message: expect.stringMatching(/^09:30 /),
      }),
    ]);
    // 21:00 Réunion, 20:00 Mayotte: both fail TIME-3, listed once (first place)
    const g = checkCallingTime(d('2026-12-01T21:00:00+04:00'), NUMBER_09478, BY_LOCATION);
    expect(g.map((x) => [x.code, x.timeZone])).toEqual([['outside_calling_hours', 'Indian/Reunion']]);
  });

  test('zones whose windows never overlap: a clear error, not a loop', () => {
    expect(() => nextCallableInstant(d('2026-12-01T10:00:00+01:00'), [PARIS, KIRITIMATI], BY_LOCATION)).toThrow(
      /no instant within 40 days .*\(Europe\/Paris, Pacific\/Kiritimati\)/,
    );
  });

  test('returns `at` itself (a new Date) when callable now', () => {
    const at = d('2026-12-01T11:00:00+01:00');
    const next = nextCallableInstant(at, [PARIS], BY_LOCATION);
    expect(next).toEqual(at);
    expect(next).not.toBe(at);
  });
});

/**
 * Reference predicate built on Intl.DateTimeFormat directly (not luxon, not the offset cache), and a
 * brute-force scan in 15-minute steps (every zone used here has offsets that are multiples of 15 min, so
 * window openings fall on those steps).
 */
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      weekday: 'short',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

function referenceCallable(ts: number, places: Place[], opts: TimeOptions): boolean {
  return places.every((p) => {
    const parts = Object.fromEntries(
      formatter(p.timeZone)
        .formatToParts(new Date(ts))
        .map((x) => [x.type, x.value]),
    );
    if (parts.weekday === 'Sat' || parts.weekday === 'Sun') return false;
    if (holidayOn(`${parts.year}-${parts.month}-${parts.day}`, p, opts)) return false;
    const minutes = Number(parts.hour) * 60 + Number(parts.minute);
    return (minutes >= 600 && minutes < 780) || (minutes >= 840 && minutes < 1200);
  });
}

function referenceNext(ts: number, places: Place[], opts: TimeOptions): number {
  if (referenceCallable(ts, places, opts)) return ts;
  const STEP = 15 * 60_000;
  for (let t = Math.floor(ts / STEP) * STEP + STEP; t < ts + 40 * 86_400_000; t += STEP) {
    if (referenceCallable(t, places, opts)) return t;
  }
  throw new Error('reference: none found');
}

describe('agreement with a brute-force reference over 2026–2027', () => {
  const cases: [string, Place[], TimeOptions][] = [
    ['Paris', [PARIS], BY_LOCATION],
    ['Strasbourg strict', [{ ...STRASBOURG, alsaceMoselle: 'unknown' }], STRICT],
    ['Miquelon', [MIQUELON], BY_LOCATION],
    ['09478 strict', NUMBER_09478, STRICT],
    ['Kolkata', [KOLKATA], BY_LOCATION],
  ];
  test.each(cases)('%s', (_name, places, opts) => {
    // ~600 instants spread over two years at an odd stride (hits every hour, weekday, and the DST days nearby)
    const start = Date.UTC(2026, 0, 1);
    const stride = 29 * 3_600_000 + 17 * 60_000 + 3_001;
    let checked = 0;
    for (let ts = start; ts < Date.UTC(2028, 0, 1); ts += stride) {
      const expected = referenceNext(ts, places, opts);
      const got = nextCallableInstant(new Date(ts), places, opts).getTime();
      if (got !== expected)
        throw new Error(
          `${new Date(ts).toISOString()}: got ${new Date(got).toISOString()}, want ${new Date(expected).toISOString()}`,
        );
      expect(checkCallingTime(new Date(ts), places, opts).length === 0).toBe(referenceCallable(ts, places, opts));
      checked++;
    }
    expect(checked).toBeGreaterThan(500);
  });
});

describe('localTimeIso', () => {
  test.each([
    ['2026-12-01T09:00:00.000Z', 'Europe/Paris', '2026-12-01T10:00:00.000+01:00'],
    ['2026-07-01T08:00:00.123Z', 'Europe/Paris', '2026-07-01T10:00:00.123+02:00'],
    ['2026-03-29T00:59:59.999Z', 'Europe/Paris', '2026-03-29T01:59:59.999+01:00'],
    ['2026-03-29T01:00:00.000Z', 'Europe/Paris', '2026-03-29T03:00:00.000+02:00'],
    ['2026-10-25T00:30:00.000Z', 'Europe/Paris', '2026-10-25T02:30:00.000+02:00'],
    ['2026-10-25T01:30:00.000Z', 'Europe/Paris', '2026-10-25T02:30:00.000+01:00'],
    ['2026-12-01T09:00:00.000Z', 'UTC', '2026-12-01T09:00:00.000+00:00'],
    ['2026-12-01T09:00:00.000Z', 'Asia/Kolkata', '2026-12-01T14:30:00.000+05:30'],
    ['2026-12-01T09:00:00.000Z', 'America/Los_Angeles', '2026-12-01T01:00:00.000-08:00'],
    ['2026-12-01T09:00:00.000Z', 'Pacific/Kiritimati', '2026-12-01T23:00:00.000+14:00'],
    ['2026-12-01T23:00:00.000Z', 'Pacific/Kiritimati', '2026-12-02T13:00:00.000+14:00'],
    ['2026-12-01T09:00:00.000Z', 'America/Miquelon', '2026-12-01T06:00:00.000-03:00'],
    ['2026-07-01T09:00:00.000Z', 'America/Miquelon', '2026-07-01T07:00:00.000-02:00'],
    ['2026-12-01T09:00:00.000Z', 'Indian/Mayotte', '2026-12-01T12:00:00.000+03:00'],
    // Lord Howe shifts by 30 min at 15:30 UTC, inside a UTC hour: the per-hour offset cache must not be fooled
    ['2026-10-03T15:00:00.000Z', 'Australia/Lord_Howe', '2026-10-04T01:30:00.000+10:30'],
    ['2026-10-03T15:29:59.999Z', 'Australia/Lord_Howe', '2026-10-04T01:59:59.999+10:30'],
    ['2026-10-03T15:30:00.000Z', 'Australia/Lord_Howe', '2026-10-04T02:30:00.000+11:00'],
    ['2026-10-03T15:45:00.000Z', 'Australia/Lord_Howe', '2026-10-04T02:45:00.000+11:00'],
  ])('%s in %s → %s', (utc, zone, expected) => {
    expect(localTimeIso(d(utc), zone)).toBe(expected);
    expect(d(expected).getTime()).toBe(d(utc).getTime());
  });
});

describe('isWithinSlot (TIME-4 arithmetic, inclusive bounds)', () => {
  const slot = d('2026-12-05T15:00:00+01:00');
  test.each([
    ['2026-12-05T15:00:00+01:00', 15, true],
    ['2026-12-05T14:45:00+01:00', 15, true],
    ['2026-12-05T15:15:00+01:00', 15, true],
    ['2026-12-05T14:44:59.999+01:00', 15, false],
    ['2026-12-05T15:15:00.001+01:00', 15, false],
    ['2026-12-05T15:00:00+01:00', 0, true],
    ['2026-12-05T15:00:00.001+01:00', 0, false],
  ])('%s ±%i min → %p', (at, tol, expected) => {
    expect(isWithinSlot(d(at), slot, tol)).toBe(expected);
  });

  test('rejects a negative tolerance', () => {
    expect(() => isWithinSlot(slot, slot, -1)).toThrow(/toleranceMinutes must be a finite number >= 0/);
  });
});

describe('clear errors for bad input', () => {
  test('unknown zone', () => {
    expect(() =>
      checkCallingTime(d('2026-12-01T11:00:00Z'), [{ ...PARIS, timeZone: 'Europe/Pariss' }], BY_LOCATION),
    ).toThrow(/Unknown IANA time zone "Europe\/Pariss"/);
    expect(() => localTimeIso(d('2026-12-01T11:00:00Z'), 'CET+1')).toThrow(/Unknown IANA time zone/);
  });
  test('invalid date', () => {
    expect(() => checkCallingTime(new Date('nope'), [PARIS], BY_LOCATION)).toThrow(/expected a valid Date/);
    expect(() => nextCallableInstant(new Date(NaN), [PARIS], BY_LOCATION)).toThrow(/expected a valid Date/);
  });
  test('no place', () => {
    expect(() => checkCallingTime(d('2026-12-01T11:00:00Z'), [], BY_LOCATION)).toThrow(/at least one/);
  });
});

describe('localTimeIso remembers the last local minute: the same text as formatting each instant afresh', () => {
  /** The formatting spelled out without any cache (what localTimeIso did before it remembered a minute). */
  const reference = (at: Date, zone: string): string => {
    const zi = zoneInfo(zone);
    const ts = at.getTime();
    const offset = offsetMinutes(zi, ts);
    const wall = ts + offset * 60_000;
    const d = new Date(wall);
    const ms = wall - Math.floor(wall / 86_400_000) * 86_400_000;
    const p = (n: number, w = 2) => String(n).padStart(w, '0');
    const abs = Math.round(Math.abs(offset));
    return (
      `${p(d.getUTCFullYear(), 4)}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}T${p(Math.floor(ms / 3_600_000))}:${p(Math.floor((ms % 3_600_000) / 60_000))}` +
      `:${p(Math.floor((ms % 60_000) / 1000))}.${p(ms % 1000, 3)}${offset < 0 ? '-' : '+'}${p(Math.floor(abs / 60))}:${p(abs % 60)}`
    );
  };
  const zones = ['Europe/Paris', 'America/Martinique', 'Indian/Reunion', 'Pacific/Noumea', 'UTC', 'America/St_Johns'];

  test('across a DST change (both ways), midnight, a new year, in alternating zones', () => {
    const instants = [
      '2026-03-29T00:59:59.999Z', // Paris 01:59:59.999 +01:00
      '2026-03-29T01:00:00.000Z', // Paris 03:00:00.000 +02:00: same UTC minute boundary, new offset
      '2026-10-25T00:59:30.000Z', // Paris 02:59:30 +02:00
      '2026-10-25T01:00:30.000Z', // Paris 02:00:30 +01:00: the same wall minute again, another offset
      '2026-10-25T01:00:45.123Z',
      '2026-12-31T22:59:59.999Z',
      '2026-12-31T23:00:00.000Z', // Paris: a new day and a new year
      '2026-12-31T23:00:00.001Z',
    ].map((s) => new Date(s));
    for (const z of zones)
      for (const at of instants) {
        expect(localTimeIso(at, z)).toBe(reference(at, z));
        expect(localTimeIso(at, 'Europe/Paris')).toBe(reference(at, 'Europe/Paris'));
      }
    expect(localTimeIso(new Date('2026-10-25T00:59:30.000Z'), 'Europe/Paris')).toBe('2026-10-25T02:59:30.000+02:00');
    expect(localTimeIso(new Date('2026-10-25T01:00:30.000Z'), 'Europe/Paris')).toBe('2026-10-25T02:00:30.000+01:00');
  });

  test('for runs of nearby and distant instants over the years core judges (1900–2199, old local mean times included)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.oneof(
              fc.integer({ min: Date.UTC(1900, 0, 1), max: Date.UTC(2199, 11, 31) }),
              fc.integer({ min: Date.UTC(2026, 9, 25, 0, 58), max: Date.UTC(2026, 9, 25, 1, 3) }),
            ),
            fc.constantFrom(...zones),
          ),
          { minLength: 1, maxLength: 12 },
        ),
        (xs) => {
          for (const [t, z] of xs) expect(localTimeIso(new Date(t), z)).toBe(reference(new Date(t), z));
        },
      ),
      { numRuns: 400, seed: 1412 },
    );
  });
});
