/**
 * Public holidays for TIME-2 (FR-RULES.md section 5).
 *
 * Legal sources:
 * - National days, every French territory (overseas and Saint-Pierre-et-Miquelon included):
 *   Code du travail L. 3133-1 — 1 Jan, Easter Monday, 1 May, 8 May, Ascension, Whit Monday,
 *   14 Jul, 15 Aug, 1 Nov, 11 Nov, 25 Dec. Calls on them are forbidden by décret 2022-1313 (C. consom. D. 223-9).
 * - Alsace-Moselle (Bas-Rhin, Haut-Rhin, Moselle): Good Friday and 26 Dec, C. trav. L. 3134-13.
 * - Abolition of slavery, one local day per overseas territory: loi 83-550 du 30 juin 1983 and its
 *   implementing texts — Mayotte 27 Apr, Martinique 22 May, Guadeloupe 27 May, Saint-Martin 27 and 28 May,
 *   Guyane 10 Jun, Saint-Barthélemy 9 Oct, La Réunion 20 Dec.
 * Whether D. 223-9 reaches local days is not settled ([U] in FR-RULES.md): `localHolidays` and
 * `localHolidaysMode` are policy.
 *
 * Non-French territories (a foreign number, or a French collectivity not listed above such as NC or PF):
 * the French rules protect consumers called by a professional under French law; we do not know the
 * holidays of the callee's country, so we apply the 11 French national days there too — the conservative
 * default (a call is blocked rather than allowed when in doubt). TIME-1 and TIME-3 apply in the callee's zone.
 *
 * Everything is computed (Easter by the Gregorian computus), never hard-coded per year, and cached per year.
 * Pure: no clock, no I/O, no host time zone.
 */
import { quoteValue } from './quote';

export type Place = {
  /** IANA zone of the consumer. */
  timeZone: string;
  /** Candidate territories, primary first: 'FR','GP','MF','BL','GF','MQ','RE','YT','PM', or other ISO codes. */
  territories: string[];
  /** Only meaningful for 'FR': the consumer is (true), is not (false) or may be ('unknown') in Alsace-Moselle. */
  alsaceMoselle: boolean | 'unknown';
};

export type Holiday = {
  /** Local calendar date, YYYY-MM-DD. */
  date: string;
  name: string;
  /** false = national (L. 3133-1); true = local (Alsace-Moselle or an overseas territory). */
  local: boolean;
  /** For local days: the territory ('FR' for Alsace-Moselle, 'GP', 'MQ', ...). */
  territory?: string;
};

export type HolidayOptions = { localHolidays: boolean; localHolidaysMode: 'by-location' | 'strict' };

/** Abolition-of-slavery days (loi 83-550), month and day, per territory. */
const ABOLITION_DAYS: Readonly<Record<string, ReadonlyArray<readonly [number, number]>>> = {
  YT: [[4, 27]],
  MQ: [[5, 22]],
  GP: [[5, 27]],
  MF: [
    [5, 27],
    [5, 28],
  ],
  GF: [[6, 10]],
  BL: [[10, 9]],
  RE: [[12, 20]],
};

const TERRITORY_NAMES: Readonly<Record<string, string>> = {
  YT: 'Mayotte',
  MQ: 'Martinique',
  GP: 'Guadeloupe',
  MF: 'Saint-Martin',
  GF: 'Guyane',
  BL: 'Saint-Barthélemy',
  RE: 'La Réunion',
};

const MIN_YEAR = 1583; // first full Gregorian year
const MAX_YEAR = 9999;

function checkYear(year: number): void {
  if (!Number.isInteger(year) || year < MIN_YEAR || year > MAX_YEAR) {
    throw new Error(`holidays: year must be an integer in ${MIN_YEAR}..${MAX_YEAR} (Gregorian calendar), got ${year}`);
  }
}

/**
 * Easter Sunday of a Gregorian year (anonymous Gregorian algorithm, Meeus/Jones/Butcher).
 */
export function easterSunday(year: number): { year: number; month: number; day: number } {
  checkYear(year);
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return { year, month, day };
}

/** Numeric date key y*10000 + m*100 + d, the internal form used for fast lookups. */
export function dateKey(year: number, month: number, day: number): number {
  return year * 10000 + month * 100 + day;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

function isoDate(year: number, month: number, day: number): string {
  return `${year}-${pad2(month)}-${pad2(day)}`;
}

/** Easter Sunday shifted by `days`, as an ISO date and its key (pure UTC arithmetic, host TZ irrelevant). */
function easterPlus(year: number, days: number): { date: string; key: number } {
  const e = easterSunday(year);
  const d = new Date(Date.UTC(year, e.month - 1, e.day + days));
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() + 1;
  const dd = d.getUTCDate();
  return { date: isoDate(y, m, dd), key: dateKey(y, m, dd) };
}

type YearTable = {
  national: Holiday[];
  nationalByKey: Map<number, Holiday>;
  /** Alsace-Moselle days (territory 'FR'). */
  alsaceByKey: Map<number, Holiday>;
  /** Overseas local days: territory → key → holiday. */
  overseasByKey: Map<string, Map<number, Holiday>>;
};

const tables = new Map<number, YearTable>();

function yearTable(year: number): YearTable {
  let t = tables.get(year);
  if (t) return t;
  checkYear(year);
  const fixed = (month: number, day: number, name: string): Holiday & { key: number } => ({
    date: isoDate(year, month, day),
    name,
    local: false,
    key: dateKey(year, month, day),
  });
  const movable = (days: number, name: string): Holiday & { key: number } => ({
    ...easterPlus(year, days),
    name,
    local: false,
  });
  const national = [
    fixed(1, 1, "New Year's Day"),
    movable(1, 'Easter Monday'),
    fixed(5, 1, 'Labour Day'),
    fixed(5, 8, 'Victory in Europe Day'),
    movable(39, 'Ascension Day'),
    movable(50, 'Whit Monday'),
    fixed(7, 14, 'Bastille Day'),
    fixed(8, 15, 'Assumption Day'),
    fixed(11, 1, "All Saints' Day"),
    fixed(11, 11, 'Armistice Day'),
    fixed(12, 25, 'Christmas Day'),
  ].sort((x, y) => x.key - y.key);

  const nationalByKey = new Map<number, Holiday>();
  const nationalList: Holiday[] = [];
  for (const { key, ...h } of national) {
    const frozen = Object.freeze(h);
    nationalByKey.set(key, frozen);
    nationalList.push(frozen);
  }

  const alsaceByKey = new Map<number, Holiday>();
  const gf = easterPlus(year, -2);
  alsaceByKey.set(
    gf.key,
    Object.freeze({ date: gf.date, name: 'Good Friday (Alsace-Moselle)', local: true, territory: 'FR' }),
  );
  alsaceByKey.set(
    dateKey(year, 12, 26),
    Object.freeze({
      date: isoDate(year, 12, 26),
      name: "St Stephen's Day (Alsace-Moselle)",
      local: true,
      territory: 'FR',
    }),
  );

  const overseasByKey = new Map<string, Map<number, Holiday>>();
  for (const [territory, days] of Object.entries(ABOLITION_DAYS)) {
    const m = new Map<number, Holiday>();
    for (const [month, day] of days) {
      m.set(
        dateKey(year, month, day),
        Object.freeze({
          date: isoDate(year, month, day),
          name: `Abolition of slavery (${TERRITORY_NAMES[territory]})`,
          local: true,
          territory,
        }),
      );
    }
    overseasByKey.set(territory, m);
  }

  t = { national: Object.freeze(nationalList) as Holiday[], nationalByKey, alsaceByKey, overseasByKey };
  if (tables.size > 200) tables.clear(); // bound the cache (replays over many years)
  tables.set(year, t);
  return t;
}

/** The 11 national public holidays of C. trav. L. 3133-1 for a year, in date order. */
export function nationalHolidays(year: number): Holiday[] {
  return yearTable(year).national.slice();
}

/**
 * The holiday on a local calendar date (by numeric key) for a place, or undefined.
 * National days win over local ones falling on the same date.
 * Internal fast path used by calling-time.ts; `holidayOn` is the public, string-based form.
 */
export function holidayOnKey(year: number, key: number, place: Place, opts: HolidayOptions): Holiday | undefined {
  const t = yearTable(year);
  const national = t.nationalByKey.get(key);
  if (national || !opts.localHolidays) return national;
  const territories = place.territories;
  if (territories.length === 0) return undefined;
  const strict = opts.localHolidaysMode === 'strict';
  const count = strict ? territories.length : 1;
  for (let i = 0; i < count; i++) {
    const territory = territories[i];
    if (territory === 'FR') {
      const alsace = strict ? place.alsaceMoselle !== false : place.alsaceMoselle === true;
      if (alsace) {
        const h = t.alsaceByKey.get(key);
        if (h) return h;
      }
      continue;
    }
    const h = t.overseasByKey.get(territory)?.get(key);
    if (h) return h;
  }
  return undefined;
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * The public holiday on `localDate` (YYYY-MM-DD, the consumer's local date) for `place`, or undefined.
 *
 * - localHolidays false: national days only.
 * - by-location: national days; local days of territories[0] only; Alsace-Moselle days only when
 *   territories[0] is 'FR' and alsaceMoselle === true.
 * - strict: national days; local days of every candidate territory; Alsace-Moselle days when 'FR' is a
 *   candidate and alsaceMoselle is true or 'unknown'.
 */
export function holidayOn(localDate: string, place: Place, opts: HolidayOptions): Holiday | undefined {
  const m = ISO_DATE.exec(localDate);
  const year = m ? Number(m[1]) : NaN;
  const month = m ? Number(m[2]) : NaN;
  const day = m ? Number(m[3]) : NaN;
  if (!m || month < 1 || month > 12 || day < 1 || day > new Date(Date.UTC(year, month, 0)).getUTCDate()) {
    throw new Error(
      `holidayOn: expected a calendar date as YYYY-MM-DD (e.g. 2026-12-25), got ${quoteValue(localDate)}`,
    );
  }
  return holidayOnKey(year, dateKey(year, month, day), place, opts);
}
