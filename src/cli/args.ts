/**
 * Argument parsing shared by every `callgate` sub-command: instants, days,
 * numbers, categories, postal codes. Each parser either returns a value or
 * throws a CliError (exit 2) whose one-line message names the flag, quotes the
 * bad value (escaped and bounded: core's quoteValue) and shows a good one.
 *
 * Instants are read by core's one date parser (src/core/instant.ts), the same
 * as the CSV importer's and the configuration's: without an offset, Europe/Paris
 * wall time; a date alone, 00:00 Paris; a bracketed zone, that zone's wall time;
 * a DST gap or overlap refused unless an offset says which instant. Numbers are
 * checked by core's number parser. The data commands' fields (consent, contract,
 * dnc) are checked by src/store/rows.ts, the importer's row checks.
 *
 * The core is required on first use, so a usage error found earlier (commander's)
 * does not pay for loading it.
 */
import { usage } from './errors';

/* eslint-disable @typescript-eslint/no-require-imports */
const instants = (): typeof import('../core/instant') => require('../core/instant');
const numbers = (): typeof import('../core/numbers') => require('../core/numbers');
const quote = (v: unknown): string => (require('../core/quote') as typeof import('../core/quote')).quoteValue(v);
const rows = (): typeof import('../store/rows') => require('../store/rows');
const postal = (): typeof import('../core/postal') => require('../core/postal');
const callerIdRules = (): typeof import('../core/rules/caller-id') => require('../core/rules/caller-id');
/* eslint-enable @typescript-eslint/no-require-imports */

export const CLI_ZONE = 'Europe/Paris';

/** Parse an instant with core's one date parser (see the header). */
export function parseInstant(text: string, flag: string): Date {
  const r = instants().parseInstant(text);
  if (!r.ok) throw usage(`${flag}: ${r.error}`);
  return r.value;
}

/** A calendar day (YYYY-MM-DD, 00:00 Paris) or a full instant: the same parser. */
export function parseDay(text: string, flag: string): Date {
  return parseInstant(text, flag);
}

/** Comma-separated product categories: `a,b`. Empty items are refused (the importer's check, with `,`). */
export function parseCategories(text: string, flag: string): string[] {
  const { categoryList, CLI_ROWS } = rows();
  return asUsage(() => categoryList({ ...CLI_ROWS, names: { ...CLI_ROWS.names, categories: flag } }, text));
}

/** A RowError (src/store/rows.ts) as a usage error: same message, exit 2. */
export function asUsage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof rows().RowError) throw usage(e.message);
    throw e;
  }
}

/** A French postal code: five digits (97xxx overseas, 20xxx Corsica). */
export function parsePostalCode(text: string, flag: string): string {
  const located = postal().locatePostalCode(text);
  if (!located.ok) throw usage(`${flag}: ${located.error}`);
  return text.trim();
}

/**
 * Syntax check of a dialled number: core's (digits in groups, single spaces, dots, dashes or
 * slashes between them, brackets around a group, a leading +: `(01) 23 45 67 89`). Whether it is
 * a valid French number is the gate's business (SCOPE-3 → invalid_destination), so short
 * emergency numbers still pass.
 */
export function parseDialled(text: string, flag: string): string {
  const problem = numbers().writtenNumberProblem(text);
  if (problem !== undefined)
    throw usage(`${flag}: ${problem}; give a phone number, e.g. 01 23 45 67 89 or +33123456789`);
  return text.trim();
}

/** `--caller-id N|anonymous`: a number presented, or a withheld presentation. */
export function parseCallerId(
  text: string,
  flag = '--caller-id',
): { number: string; presentation: 'allowed' | 'restricted' } {
  const raw = text.trim();
  if (raw !== '' && callerIdRules().isWithheldNumber(raw))
    return { number: raw.toLowerCase(), presentation: 'restricted' };
  if (numbers().writtenNumberProblem(raw) !== undefined) {
    throw usage(`${flag}: ${quote(text)} is neither a phone number nor 'anonymous'; e.g. --caller-id 0162123456`);
  }
  return { number: raw, presentation: 'allowed' };
}

/**
 * A consumer's number for the data commands, normalized to E.164 by the core
 * (FR-RULES.md section 7: 0596… is Martinique +596596…). Short codes are refused:
 * nobody consents or contracts through 112. The importer's check.
 */
export function parseNumber(text: string, flag: string): string {
  const { CLI_ROWS, subscriberNumber } = rows();
  return asUsage(() => subscriberNumber({ ...CLI_ROWS, names: { ...CLI_ROWS.names, number: flag } }, text));
}
