/**
 * The one reader of dates and instants written by people: the command line (`--at`,
 * `--collected-at`, `--valid-until`, `--slot`, `--start`, `--end`, `--as-of`), the CSV imports
 * and the configuration (`clock.at`, `clock.start`, `policy.consentRegimeStart`). It reads what it
 * can read without guessing and refuses the rest with a message naming the accepted forms.
 *
 * Accepted (ISO 8601 / RFC 3339, extended format; `T` may be a space, `T` and `Z` in either case):
 * - `2026-11-24`: 00:00 that day, Europe/Paris time;
 * - `2026-11-24T11:00`, `…T11:00:30`, `…T11:00:30.250`: that wall time in Europe/Paris, the
 *   reference zone of the law's dates (FR-RULES.md section 0) and the one a French compliance
 *   officer reads a call log in. Digits beyond the millisecond are dropped;
 * - the same followed by `Z` or an offset `+01:00` (also `+0100`, `+01`): that instant. Offsets
 *   run from -12:00 to +14:00, as real zones do;
 * - the same followed by a zone in brackets, RFC 9557: `2026-11-24T20:30[Europe/Paris]` is
 *   20:30 in that zone (a date alone, 00:00 there); with an offset as well
 *   (`…T20:30+01:00[Europe/Paris]`) the offset must be the zone's at that instant, or the value
 *   is refused as contradicting itself. Only a zone name may stand in the brackets.
 * A wall time that the zone skips (clocks go forward) is refused, and one it shows twice
 * (clocks go back) is refused unless an offset says which: an audit trail must not guess an
 * instant. Years run from 1900 to 2199: nothing callgate records is older or newer, and a
 * typo such as 0026 or 9999 must not slip through.
 *
 * Refused: partial dates (`2026-11`), bare times (`11:00`), week and ordinal dates, the basic
 * format without separators, `24:00`, leap seconds, other zone annotations.
 *
 * Pure, never throws on bad input; independent of the host time zone.
 */
import { IANAZone } from 'luxon';
import { quoteValue } from './quote';
import { offsetMinutes, zoneInfo } from './zone-offset';

export const INSTANT_ZONE = 'Europe/Paris';
export const MIN_YEAR = 1900;
export const MAX_YEAR = 2199;

/** What a message says is accepted. */
export const INSTANT_FORMS =
  'accepted: 2026-11-24 (00:00 Paris time), 2026-11-24T11:00[:30] (Paris time), the same with Z or an offset (2026-11-24T10:00Z, 2026-11-24T11:00+01:00) or with a time zone in brackets (2026-11-24T11:00[America/Martinique])';
export const DATE_FORMS = 'accepted: a calendar date YYYY-MM-DD, e.g. 2026-08-11';

const MINUTE = 60_000;
const DAY = 86_400_000;
/** Offsets real zones use: UTC-12:00 to UTC+14:00, in minutes. */
const MIN_OFFSET = -12 * 60;
const MAX_OFFSET = 14 * 60;

/** Earliest and latest instants the rules judge: the years MIN_YEAR..MAX_YEAR, a day of margin for offsets. */
export const FIRST_INSTANT = Date.UTC(MIN_YEAR, 0, 1) - DAY;
export const LAST_INSTANT = Date.UTC(MAX_YEAR + 1, 0, 1) + DAY;

/** A valid Date within the years callgate judges (see isJudgeableInstant). */
export function isJudgeableInstant(d: unknown): d is Date {
  if (!(d instanceof Date)) return false;
  const t = d.getTime();
  return t >= FIRST_INSTANT && t < LAST_INSTANT; // false for NaN too
}

export type InstantResult = { ok: true; value: Date } | { ok: false; error: string };
export type CalendarDate = { year: number; month: number; day: number };
export type CalendarDateResult = { ok: true; value: CalendarDate } | { ok: false; error: string };

const SHAPE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?)?(?:\[([^\]]*)\])?$/;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

const MONTH_DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeap(y: number): boolean {
  return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
}

/** Why y-m-d is not a date of the supported years, or undefined. */
function dateProblem(y: number, m: number, d: number): string | undefined {
  if (y >= MIN_YEAR && y <= MAX_YEAR && m >= 1 && m <= 12 && d >= 1 && d <= 28) return undefined; // most dates, at once
  if (y < MIN_YEAR || y > MAX_YEAR) return `year ${String(y).padStart(4, '0')} is outside ${MIN_YEAR}–${MAX_YEAR}`;
  if (m < 1 || m > 12) return `month ${String(m).padStart(2, '0')} does not exist`;
  const last = m === 2 && isLeap(y) ? 29 : MONTH_DAYS[m]!;
  if (d < 1 || d > last)
    return `day ${String(d).padStart(2, '0')} does not exist in ${y}-${String(m).padStart(2, '0')}`;
  return undefined;
}

/** A calendar date YYYY-MM-DD (no time, no zone), checked against the calendar and the supported years. */
export function parseCalendarDate(text: string): CalendarDateResult {
  if (typeof text !== 'string') return { ok: false, error: `${quoteValue(text)} is not a date; ${DATE_FORMS}` };
  const raw = text.trim();
  const m = DATE_ONLY.exec(raw);
  if (!m) return { ok: false, error: `${quoteValue(text)} is not a date; ${DATE_FORMS}` };
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const problem = dateProblem(year, month, day);
  if (problem) return { ok: false, error: `${quoteValue(text)} is not a date: ${problem}` };
  return { ok: true, value: { year, month, day } };
}

function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const a = Math.abs(minutes);
  return `${sign}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

const fail = (error: string): InstantResult => ({ ok: false, error });

/**
 * The instant `text` names (see the header for the forms). `zone` is the zone of a wall time
 * written without offset or brackets (default Europe/Paris). Never throws.
 */
export function parseInstant(text: string, opts: { zone?: string } = {}): InstantResult {
  if (typeof text !== 'string') return fail(`${quoteValue(text)} is not a date-time; ${INSTANT_FORMS}`);
  let m = SHAPE.exec(text);
  const raw = m ? text : text.trim();
  if (raw === '') return fail(`empty value; ${INSTANT_FORMS}`);
  if (!m) m = SHAPE.exec(raw);
  if (!m) return fail(`${quoteValue(text)} is not a date or date-time callgate reads; ${INSTANT_FORMS}`);
  const year = +m[1]!;
  const month = +m[2]!;
  const day = +m[3]!;
  const problem = dateProblem(year, month, day);
  if (problem) return fail(`${quoteValue(text)} is not a valid date: ${problem}`);
  const hasTime = m[4] !== undefined;
  const hour = hasTime ? +m[4]! : 0;
  const minute = hasTime ? +m[5]! : 0;
  const second = m[6] === undefined ? 0 : +m[6];
  const ms = m[7] === undefined ? 0 : +m[7].padEnd(3, '0').slice(0, 3);
  const q = () => quoteValue(text);
  if (hour > 23) return fail(`${q()}: hour ${m[4]} does not exist (00 to 23; write the next day's 00:00 for 24:00)`);
  if (minute > 59) return fail(`${q()}: minute ${m[5]} does not exist (00 to 59)`);
  if (second > 59) return fail(`${q()}: second ${m[6]} does not exist (00 to 59; leap seconds are not read)`);

  let offset: number | undefined;
  if (m[8] !== undefined) offset = 0;
  else if (m[9] !== undefined) {
    const oh = Number(m[10]);
    const om = m[11] === undefined ? 0 : Number(m[11]);
    if (om > 59) return fail(`${q()}: the offset's minutes ${m[11]} do not exist (00 to 59)`);
    offset = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
    if (offset < MIN_OFFSET || offset > MAX_OFFSET)
      return fail(`${q()}: the offset ${m[9]}${m[10]}:${m[11] ?? '00'} is not a real UTC offset (-12:00 to +14:00)`);
  }

  let zoneName = opts.zone ?? INSTANT_ZONE;
  const bracket = m[12];
  if (bracket !== undefined) {
    if (!/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(bracket) || !IANAZone.isValidZone(bracket))
      return fail(
        `${q()}: ${quoteValue(`[${bracket}]`)} is not a time zone name; give a tz database name such as [Europe/Paris] or [America/Martinique], or an offset`,
      );
    zoneName = bracket;
  }

  const wall = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  if (offset !== undefined) {
    const t = wall - offset * MINUTE;
    if (bracket !== undefined && m[8] === undefined) {
      const zoneOffset = offsetMinutes(zoneInfo(zoneName), t);
      if (zoneOffset !== offset)
        return fail(
          `${q()} contradicts itself: at that instant ${zoneName} is at ${formatOffset(zoneOffset)}, not ${formatOffset(offset)}; give the offset or the zone alone`,
        );
    }
    return { ok: true, value: new Date(t) };
  }

  // A wall time in the zone: the offsets a day before and a day after are the only candidates.
  const zi = zoneInfo(zoneName);
  const candidates = new Set<number>();
  for (const o of [offsetMinutes(zi, wall - DAY), offsetMinutes(zi, wall + DAY)]) {
    const t = wall - o * MINUTE;
    if (offsetMinutes(zi, t) === o) candidates.add(t);
  }
  const shown = raw.replace(/\[[^\]]*\]$/, '');
  if (candidates.size === 0)
    return fail(
      `${q()} does not exist in ${zoneName} (clocks go forward that night); give another time or an explicit offset`,
    );
  if (candidates.size > 1) {
    const [first, second] = [...candidates].sort((a, b) => a - b) as [number, number];
    const at = (t: number) =>
      `${shown}${formatOffset((wall - t) / MINUTE)}${bracket === undefined ? '' : `[${bracket}]`}`;
    return fail(
      `${q()} happens twice in ${zoneName} (clocks go back that night); add the offset: ${at(first)} (first) or ${at(second)} (second)`,
    );
  }
  return { ok: true, value: new Date([...candidates][0]!) };
}
