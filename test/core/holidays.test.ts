/**
 * Public holidays (TIME-2): C. trav. L. 3133-1 national days, L. 3134-13 Alsace-Moselle days, loi 83-550
 * overseas abolition days. Checked against the 2026–2027 list of FR-RULES.md and a few other years.
 */
import { easterSunday, holidayOn, nationalHolidays, type Place } from '../../src/core/holidays';

const iso = (e: { year: number; month: number; day: number }) =>
  `${e.year}-${String(e.month).padStart(2, '0')}-${String(e.day).padStart(2, '0')}`;

const weekday = (date: string) => new Date(`${date}T00:00:00Z`).getUTCDay();

/** Gauss's Easter algorithm with its two exceptions: an independent reference for the computus. */
function gaussEaster(y: number): string {
  const a = y % 19;
  const b = y % 4;
  const c = y % 7;
  const k = Math.floor(y / 100);
  const p = Math.floor((13 + 8 * k) / 25);
  const q = Math.floor(k / 4);
  const M = (15 - p + k - q) % 30;
  const N = (4 + k - q) % 7;
  const d = (19 * a + M) % 30;
  const e = (2 * b + 4 * c + 6 * d + N) % 7;
  let month = 3;
  let day = 22 + d + e;
  if (day > 31) {
    month = 4;
    day = d + e - 9;
  }
  if (month === 4 && day === 26) day = 19;
  if (month === 4 && day === 25 && d === 28 && e === 6 && (11 * M + 11) % 30 < 19) day = 18;
  return iso({ year: y, month, day });
}

describe('easterSunday (Gregorian computus)', () => {
  test.each([
    [1818, '1818-03-22'],
    [1943, '1943-04-25'],
    [2000, '2000-04-23'],
    [2008, '2008-03-23'],
    [2011, '2011-04-24'],
    [2024, '2024-03-31'],
    [2025, '2025-04-20'],
    [2026, '2026-04-05'],
    [2027, '2027-03-28'],
    [2028, '2028-04-16'],
    [2038, '2038-04-25'],
    [2285, '2285-03-22'],
  ])('%i → %s', (year, expected) => {
    expect(iso(easterSunday(year))).toBe(expected);
  });

  test('agrees with Gauss’s algorithm, is a Sunday between 22 Mar and 25 Apr, for 1583..4099', () => {
    for (let y = 1583; y <= 4099; y++) {
      const date = iso(easterSunday(y));
      expect(date).toBe(gaussEaster(y));
      expect(weekday(date)).toBe(0);
      expect(date.slice(5) >= '03-22' && date.slice(5) <= '04-25').toBe(true);
    }
  });

  test.each([1582, 10000, 2026.5, NaN])('rejects year %p with a clear error', (year) => {
    expect(() => easterSunday(year)).toThrow(/year must be an integer in 1583\.\.9999/);
  });
});

describe('nationalHolidays (C. trav. L. 3133-1)', () => {
  test('2026: the 11 days, in order, all national', () => {
    expect(nationalHolidays(2026)).toEqual([
      { date: '2026-01-01', name: "New Year's Day", local: false },
      { date: '2026-04-06', name: 'Easter Monday', local: false },
      { date: '2026-05-01', name: 'Labour Day', local: false },
      { date: '2026-05-08', name: 'Victory in Europe Day', local: false },
      { date: '2026-05-14', name: 'Ascension Day', local: false },
      { date: '2026-05-25', name: 'Whit Monday', local: false },
      { date: '2026-07-14', name: 'Bastille Day', local: false },
      { date: '2026-08-15', name: 'Assumption Day', local: false },
      { date: '2026-11-01', name: "All Saints' Day", local: false },
      { date: '2026-11-11', name: 'Armistice Day', local: false },
      { date: '2026-12-25', name: 'Christmas Day', local: false },
    ]);
  });

  // FR-RULES.md, "Public holidays 2026–2027 (weekdays only)".
  test.each([
    [2026, ['01-01', '04-06', '05-01', '05-08', '05-14', '05-25', '07-14', '11-11', '12-25']],
    [2027, ['01-01', '03-29', '05-06', '05-17', '07-14', '11-01', '11-11']],
  ])('%i weekday holidays match FR-RULES.md', (year, expected) => {
    const weekdays = nationalHolidays(year)
      .map((h) => h.date)
      .filter((d) => weekday(d) !== 0 && weekday(d) !== 6);
    expect(weekdays).toEqual(expected.map((md) => `${year}-${md}`));
  });

  test.each([
    // year, Easter Monday, Ascension (Easter+39), Whit Monday (Easter+50)
    [2025, '2025-04-21', '2025-05-29', '2025-06-09'],
    [2028, '2028-04-17', '2028-05-25', '2028-06-05'],
    [2038, '2038-04-26', '2038-06-03', '2038-06-14'],
    [2285, '2285-03-23', '2285-04-30', '2285-05-11'],
  ])('%i Easter-based days', (year, easterMonday, ascension, whitMonday) => {
    const byName = Object.fromEntries(nationalHolidays(year).map((h) => [h.name, h.date]));
    expect(byName['Easter Monday']).toBe(easterMonday);
    expect(byName['Ascension Day']).toBe(ascension);
    expect(byName['Whit Monday']).toBe(whitMonday);
    expect(weekday(ascension)).toBe(4);
  });

  test('returns a copy: mutating it does not change later answers', () => {
    const list = nationalHolidays(2026);
    list.length = 0;
    expect(nationalHolidays(2026)).toHaveLength(11);
  });
});

const place = (
  territories: string[],
  alsaceMoselle: Place['alsaceMoselle'] = false,
  timeZone = 'Europe/Paris',
): Place => ({
  timeZone,
  territories,
  alsaceMoselle,
});
const BY_LOCATION = { localHolidays: true, localHolidaysMode: 'by-location' } as const;
const STRICT = { localHolidays: true, localHolidaysMode: 'strict' } as const;
const NATIONAL_ONLY = { localHolidays: false, localHolidaysMode: 'by-location' } as const;
const NATIONAL_ONLY_STRICT = { localHolidays: false, localHolidaysMode: 'strict' } as const;

describe('holidayOn', () => {
  test('national days apply in every territory, French or not, whatever the options', () => {
    for (const t of ['FR', 'GP', 'MF', 'BL', 'GF', 'MQ', 'RE', 'YT', 'PM', 'US', 'KI']) {
      for (const opts of [BY_LOCATION, STRICT, NATIONAL_ONLY, NATIONAL_ONLY_STRICT]) {
        expect(holidayOn('2026-12-25', place([t]), opts)).toEqual({
          date: '2026-12-25',
          name: 'Christmas Day',
          local: false,
        });
        expect(holidayOn('2027-05-06', place([t]), opts)?.name).toBe('Ascension Day');
      }
    }
  });

  test('an ordinary day is no holiday', () => {
    expect(holidayOn('2026-12-01', place(['FR'], true), STRICT)).toBeUndefined();
    expect(holidayOn('2026-12-01', place([]), STRICT)).toBeUndefined();
  });

  // Overseas abolition days (loi 83-550), FR-RULES.md list for 2026 and 2027.
  test.each([
    ['YT', '2026-04-27'],
    ['YT', '2027-04-27'],
    ['MQ', '2026-05-22'],
    ['GP', '2026-05-27'],
    ['GP', '2027-05-27'],
    ['MF', '2026-05-27'],
    ['MF', '2026-05-28'],
    ['MF', '2027-05-27'],
    ['MF', '2027-05-28'],
    ['GF', '2026-06-10'],
    ['GF', '2027-06-10'],
    ['BL', '2026-10-09'],
    ['RE', '2027-12-20'],
  ])('%s %s is a local holiday there and only there', (territory, date) => {
    const h = holidayOn(date, place([territory]), BY_LOCATION);
    expect(h).toMatchObject({ date, local: true, territory });
    expect(h?.name).toMatch(/^Abolition of slavery \(/);
    expect(holidayOn(date, place([territory]), NATIONAL_ONLY)).toBeUndefined();
    for (const other of ['FR', 'GP', 'MF', 'BL', 'GF', 'MQ', 'RE', 'YT', 'PM', 'US']) {
      if (other === territory || (date.endsWith('05-27') && (other === 'GP' || other === 'MF'))) continue;
      expect(holidayOn(date, place([other], true), STRICT)).toBeUndefined();
    }
  });

  test.each([
    // date, alsaceMoselle, by-location, strict
    ['2026-04-03', true, 'Good Friday (Alsace-Moselle)', 'Good Friday (Alsace-Moselle)'],
    ['2026-04-03', 'unknown', undefined, 'Good Friday (Alsace-Moselle)'],
    ['2026-04-03', false, undefined, undefined],
    ['2027-03-26', true, 'Good Friday (Alsace-Moselle)', 'Good Friday (Alsace-Moselle)'],
    ['2027-03-26', 'unknown', undefined, 'Good Friday (Alsace-Moselle)'],
    ['2026-12-26', true, "St Stephen's Day (Alsace-Moselle)", "St Stephen's Day (Alsace-Moselle)"],
    ['2028-12-26', 'unknown', undefined, "St Stephen's Day (Alsace-Moselle)"],
    ['2028-12-26', false, undefined, undefined],
  ] as const)('Alsace-Moselle %s alsaceMoselle=%p: by-location %p, strict %p', (date, am, byLocation, strict) => {
    expect(holidayOn(date, place(['FR'], am), BY_LOCATION)?.name).toBe(byLocation);
    expect(holidayOn(date, place(['FR'], am), STRICT)?.name).toBe(strict);
    expect(holidayOn(date, place(['FR'], am), NATIONAL_ONLY)).toBeUndefined();
    expect(holidayOn(date, place(['FR'], am), NATIONAL_ONLY_STRICT)).toBeUndefined();
    if (byLocation)
      expect(holidayOn(date, place(['FR'], am), BY_LOCATION)).toMatchObject({ local: true, territory: 'FR' });
  });

  test('Alsace-Moselle days need France among the candidates', () => {
    expect(holidayOn('2026-04-03', place(['MQ'], true), STRICT)).toBeUndefined();
    expect(holidayOn('2026-04-03', place(['US'], true), BY_LOCATION)).toBeUndefined();
    // by-location looks at the primary territory only
    expect(holidayOn('2026-04-03', place(['RE', 'FR'], true), BY_LOCATION)).toBeUndefined();
    expect(holidayOn('2026-04-03', place(['RE', 'FR'], true), STRICT)?.name).toBe('Good Friday (Alsace-Moselle)');
  });

  test('ambiguous territories (09478: Réunion or Mayotte): by-location uses the primary, strict uses every candidate', () => {
    const reFirst = place(['RE', 'YT'], false, 'Indian/Reunion');
    const ytFirst = place(['YT', 'RE'], false, 'Indian/Mayotte');
    expect(holidayOn('2026-04-27', reFirst, BY_LOCATION)).toBeUndefined();
    expect(holidayOn('2026-04-27', ytFirst, BY_LOCATION)?.territory).toBe('YT');
    expect(holidayOn('2026-04-27', reFirst, STRICT)?.territory).toBe('YT');
    expect(holidayOn('2027-12-20', ytFirst, BY_LOCATION)).toBeUndefined();
    expect(holidayOn('2027-12-20', ytFirst, STRICT)?.territory).toBe('RE');
    expect(holidayOn('2027-12-20', ytFirst, NATIONAL_ONLY_STRICT)).toBeUndefined();
  });

  test('Saint-Pierre-et-Miquelon and foreign territories have national days only', () => {
    for (const date of ['2026-04-03', '2026-05-22', '2026-05-27', '2026-12-26', '2027-12-20']) {
      expect(holidayOn(date, place(['PM']), STRICT)).toBeUndefined();
      expect(holidayOn(date, place(['US']), STRICT)).toBeUndefined();
    }
  });

  test('a national day falling on a local day is reported as the national day', () => {
    // The first year from 2026 whose Whit Monday is 27 May (Guadeloupe's day), found by computation.
    let year = 2026;
    while (nationalHolidays(year).find((h) => h.name === 'Whit Monday')?.date !== `${year}-05-27`) year++;
    expect(holidayOn(`${year}-05-27`, place(['GP']), BY_LOCATION)).toMatchObject({ name: 'Whit Monday', local: false });
  });

  test.each(['2026-13-01', '2026-02-29', '2026-04-31', '2026-4-3', '03/04/2026', '', '2026-04-03T00:00'])(
    'rejects %p with a message that shows the expected format',
    (bad) => {
      expect(() => holidayOn(bad, place(['FR']), BY_LOCATION)).toThrow(/YYYY-MM-DD/);
    },
  );

  test('29 February exists in leap years', () => {
    expect(holidayOn('2028-02-29', place(['FR']), BY_LOCATION)).toBeUndefined();
  });
});
