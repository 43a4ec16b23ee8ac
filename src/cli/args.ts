/**
 * Argument parsing shared by every `callgate` sub-command: instants, days,
 * numbers, categories, postal codes. Each parser either returns a value or
 * throws a CliError (exit 2) whose one-line message names the flag, quotes the
 * bad value and shows a good one.
 *
 * Times: an ISO-8601 date-time without an offset is read as Europe/Paris wall
 * time, the law's reference zone for the regime dates (FR-RULES.md section 0)
 * and the one a French compliance officer thinks in; a date alone is 00:00
 * Europe/Paris that day. A wall time that does not exist (the spring DST gap)
 * is refused rather than silently shifted, and a wall time that happens twice
 * (the autumn overlap) is refused unless an offset says which one: an audit
 * trail must not guess an instant. `2026-11-24 11:00` (a space instead of the
 * T, as SQL tools print it) is accepted.
 *
 * luxon and the core (libphonenumber) are required on first use, so a usage
 * error found earlier does not pay for loading them.
 */
import type { DateTime as LuxonDateTime } from 'luxon';
import { usage } from './errors';

/* eslint-disable @typescript-eslint/no-require-imports */
const luxon = (): typeof LuxonDateTime => (require('luxon') as typeof import('luxon')).DateTime;
const core = (): typeof import('../core/numbers') => require('../core/numbers');
/* eslint-enable @typescript-eslint/no-require-imports */

export const CLI_ZONE = 'Europe/Paris';

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const HAS_OFFSET = /T.*(Z|[+-]\d{2}(:?\d{2})?)$/i;
const EXAMPLE_INSTANT = 'e.g. 2026-11-24T11:00 (Paris time) or 2026-11-24T10:00:00Z';

/** Parse an ISO-8601 instant. No offset = Europe/Paris wall time; a date alone = 00:00 Paris. */
export function parseInstant(text: string, flag: string): Date {
  const DateTime = luxon();
  const raw = text.trim().replace(/^(\d{4}-\d{2}-\d{2}) (?=\d)/, '$1T');
  if (raw === '') throw usage(`${flag}: empty value; give an ISO-8601 date-time, ${EXAMPLE_INSTANT}`);
  if (HAS_OFFSET.test(raw)) {
    const dt = DateTime.fromISO(raw, { setZone: true });
    if (!dt.isValid) throw badInstant(flag, raw, dt.invalidExplanation);
    return dt.toJSDate();
  }
  // Wall time: read the fields as written, then place them in Paris and refuse the DST gap.
  const wall = DateTime.fromISO(raw, { zone: 'UTC' });
  if (!wall.isValid) throw badInstant(flag, raw, wall.invalidExplanation);
  const fields = {
    year: wall.year,
    month: wall.month,
    day: wall.day,
    hour: wall.hour,
    minute: wall.minute,
    second: wall.second,
    millisecond: wall.millisecond,
  };
  const local = DateTime.fromObject(fields, { zone: CLI_ZONE });
  if (local.hour !== fields.hour || local.minute !== fields.minute || local.day !== fields.day) {
    throw usage(
      `${flag}: '${raw}' does not exist in ${CLI_ZONE} (clocks go forward that night); give another time or an explicit offset`,
    );
  }
  // The autumn overlap: the same wall time one hour earlier or later is the same wall reading.
  const wallOf = (d: LuxonDateTime) => d.toFormat("yyyy-MM-dd'T'HH:mm:ss.SSS");
  const twin = [local.minus({ hours: 1 }), local.plus({ hours: 1 })].find((d) => wallOf(d) === wallOf(local));
  if (twin) {
    const [first, second] = twin < local ? [twin, local] : [local, twin];
    const withOffset = (d: LuxonDateTime) => d.toISO({ suppressMilliseconds: true, suppressSeconds: true });
    throw usage(
      `${flag}: '${raw}' happens twice in ${CLI_ZONE} (clocks go back that night); add the offset: ${withOffset(first)} (first) or ${withOffset(second)} (second)`,
    );
  }
  return local.toJSDate();
}

function badInstant(flag: string, raw: string, why: string | null): Error {
  // luxon's "the input … can't be parsed as ISO 8601" only repeats the headline.
  const detail = why && !why.includes("can't be parsed") ? ` (${why})` : '';
  return usage(`${flag}: '${raw}' is not an ISO-8601 date-time${detail}; ${EXAMPLE_INSTANT}`);
}

/** A calendar day (YYYY-MM-DD) as 00:00 Europe/Paris, or a full instant. */
export function parseDay(text: string, flag: string): Date {
  const raw = text.trim();
  if (DATE_ONLY.test(raw) || raw.includes('T')) return parseInstant(raw, flag);
  throw usage(`${flag}: '${raw}' is not a date; give YYYY-MM-DD, e.g. 2026-11-02`);
}

/** Comma-separated product categories: `a,b`. Empty items are refused. */
export function parseCategories(text: string, flag: string): string[] {
  const items = text.split(',').map((s) => s.trim());
  if (items.length === 0 || items.some((s) => s === '')) {
    throw usage(`${flag}: '${text}' has an empty category; give a comma-separated list, e.g. energy,telecom`);
  }
  return [...new Set(items)];
}

/** A French postal code: five digits (97xxx overseas, 20xxx Corsica). */
export function parsePostalCode(text: string, flag: string): string {
  const raw = text.trim();
  if (!/^\d{5}$/.test(raw)) throw usage(`${flag}: '${text}' is not a French postal code; give five digits, e.g. 67000`);
  return raw;
}

const PHONE_SYNTAX = /^\+?[0-9][0-9 .()/-]*$/;

/**
 * Syntax check of a dialled number (digits, spaces, dots, dashes, brackets, a
 * leading +). Whether it is a valid French number is the gate's business
 * (SCOPE-3 → invalid_destination), so short emergency numbers still pass.
 */
export function parseDialled(text: string, flag: string): string {
  const raw = text.trim();
  if (!PHONE_SYNTAX.test(raw) || !/\d/.test(raw)) {
    throw usage(`${flag}: '${text}' is not a phone number; give digits, e.g. 01 23 45 67 89 or +33123456789`);
  }
  return raw;
}

/** Words a PBX uses for a withheld caller ID (CID-1). */
const WITHHELD = new Set(['anonymous', 'restricted', 'unknown', 'unavailable', 'private', 'withheld']);

/** `--caller-id N|anonymous`: a number presented, or a withheld presentation. */
export function parseCallerId(
  text: string,
  flag = '--caller-id',
): { number: string; presentation: 'allowed' | 'restricted' } {
  const raw = text.trim();
  if (WITHHELD.has(raw.toLowerCase())) return { number: raw.toLowerCase(), presentation: 'restricted' };
  if (!PHONE_SYNTAX.test(raw) || !/\d/.test(raw)) {
    throw usage(`${flag}: '${text}' is neither a phone number nor 'anonymous'; e.g. --caller-id 0162123456`);
  }
  return { number: raw, presentation: 'allowed' };
}

/** A non-empty free text (reason, source). */
export function parseText(text: string, flag: string): string {
  const raw = text.trim();
  if (raw === '') throw usage(`${flag}: empty value`);
  return raw;
}

/**
 * A consumer's number for the data commands, normalized to E.164 by the core
 * (FR-RULES.md section 7: 0596… is Martinique +596596…). Short codes are refused:
 * nobody consents or contracts through 112.
 */
export function parseNumber(text: string, flag: string): string {
  const r = core().normalizeNumber(text);
  if (!r.ok) throw usage(`${flag}: '${text}' is not a phone number: ${r.error}`);
  if (!r.value.e164.startsWith('+')) {
    throw usage(
      `${flag}: '${text}' is a short or special number (${r.value.kind}); give a subscriber number, e.g. 01 23 45 67 89`,
    );
  }
  return r.value.e164;
}
