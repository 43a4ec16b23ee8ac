/**
 * One set of checks for the facts people write, whether on the command line (`consent add`,
 * `contract add`, `dnc add`, `refusal add`, `consent withdraw`) or in a CSV import: the same
 * input is refused by both, with the same message, naming the field as it was written there
 * (`--collected-at` or `collected_at`).
 *
 * Legal context: consents (C. consom. L. 223-1 al. 1, R. 223-1..3), contracts (L. 223-1 al. 4),
 * the internal do-not-call list (RGPD art. 21), refusals (R. 223-3, D. 223-9).
 *
 * - numbers: core's normalizeNumber (E.164); short and emergency codes are refused (nobody
 *   consents or contracts through 112);
 * - professionals: declared in the config when the declared list is given, else an id of the
 *   config's shape;
 * - categories: several in one field, separated by `|` (CSV) or `,` (command line); an empty
 *   field means every category of the professional (consents only: a contract must say what it
 *   is about, L. 223-1 al. 4), an empty item is refused, repeated items are kept once;
 * - dates: core's one date parser (src/core/instant.ts);
 * - free text (source, reason) and every item: no control characters, bounded lengths;
 * - across fields: a consent ends (valid_until) after it is collected, is not withdrawn before
 *   it is collected; a contract ends after it starts.
 *
 * Checks throw RowError (code CG_ERR_STORE_INVALID): the CLI makes it a usage error (exit 2),
 * the importer rejects the line with its number.
 */
import { parseInstant } from '../core/instant';
import { normalizeNumber } from '../core/numbers';
import { quoteValue } from '../core/quote';
import { CallgateError } from '../errors';

/** A row that cannot be recorded as written; the message starts with the field's name. */
export class RowError extends CallgateError {
  constructor(message: string) {
    super('CG_ERR_STORE_INVALID', message);
    this.name = 'RowError';
  }
}

export type Field =
  | 'number'
  | 'professional'
  | 'categories'
  | 'collectedAt'
  | 'validUntil'
  | 'slot'
  | 'source'
  | 'withdrawnAt'
  | 'automated'
  | 'start'
  | 'end'
  | 'reason'
  | 'at';

/** The fields as a CSV header names them. */
export const CSV_NAMES: Readonly<Record<Field, string>> = {
  number: 'number',
  professional: 'professional',
  categories: 'categories',
  collectedAt: 'collected_at',
  validUntil: 'valid_until',
  slot: 'slot',
  source: 'source',
  withdrawnAt: 'withdrawn_at',
  automated: 'automated',
  start: 'start',
  end: 'end',
  reason: 'reason',
  at: 'at',
};

/** The fields as the command line names them. */
export const CLI_NAMES: Readonly<Record<Field, string>> = {
  number: 'NUMBER',
  professional: '--professional',
  categories: '--categories',
  collectedAt: '--collected-at',
  validUntil: '--valid-until',
  slot: '--slot',
  source: '--source',
  withdrawnAt: '--withdrawn-at',
  automated: '--automated',
  start: '--start',
  end: '--end',
  reason: '--reason',
  at: '--at',
};

export type RowContext = {
  names: Readonly<Record<Field, string>>;
  /** Between several categories of one field: '|' in a CSV file, ',' on the command line. */
  categorySeparator: '|' | ',';
  /** The professional ids the config declares; undefined: any id of the right shape (library callers). */
  professionals?: readonly string[];
};

export const CSV_ROWS: RowContext = { names: CSV_NAMES, categorySeparator: '|' };
export const CLI_ROWS: RowContext = { names: CLI_NAMES, categorySeparator: ',' };

/** Longest category, professional id. */
export const MAX_ITEM = 64;
/** Longest free text (source, reason), characters. */
export const MAX_TEXT = 1000;
/** Most categories in one field. */
export const MAX_CATEGORIES = 50;

const PROFESSIONAL_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
// eslint-disable-next-line no-control-regex -- control characters are what is refused
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

const fail = (message: string): never => {
  throw new RowError(message);
};

/** A field that must be there: trimmed, not empty. */
export function required(ctx: RowContext, field: Field, raw: string | undefined): string {
  const v = raw?.trim();
  if (!v) fail(`${ctx.names[field]} is required and empty`);
  return v as string;
}

/** A subscriber number in E.164 (short and emergency codes refused). */
export function subscriberNumber(ctx: RowContext, raw: string): string {
  const r = normalizeNumber(raw);
  if (!r.ok) return fail(`${ctx.names.number}: ${r.error}`);
  if (!r.value.e164.startsWith('+'))
    fail(
      `${ctx.names.number}: ${quoteValue(raw)} is a short or special number (${r.value.kind}), not a subscriber number; give one, e.g. 01 23 45 67 89`,
    );
  return r.value.e164;
}

/** A professional id: declared in the config when ctx.professionals is given. */
export function professionalId(ctx: RowContext, raw: string): string {
  const id = raw.trim();
  const known = ctx.professionals;
  if (known !== undefined) {
    if (known.includes(id)) return id;
    const list =
      known.length === 0 ? '(none)' : known.length > 10 ? `${known.slice(0, 10).join(', ')}, …` : known.join(', ');
    return fail(
      `${ctx.names.professional}: ${quoteValue(id)} is not a professional declared in the config (declared: ${list})`,
    );
  }
  if (!PROFESSIONAL_ID.test(id))
    fail(
      `${ctx.names.professional}: ${quoteValue(id)} is not a professional id (letters, digits, . _ : -, at most 64 characters)`,
    );
  return id;
}

/**
 * Categories of one field. undefined (not given, an empty CSV cell): [] = every category. Given,
 * it must hold at least one category and no empty one.
 */
export function categoryList(ctx: RowContext, raw: string | undefined): string[] {
  if (raw === undefined) return [];
  const name = ctx.names.categories;
  const sep = ctx.categorySeparator;
  const parts = raw.split(sep);
  if (parts.length > MAX_CATEGORIES) fail(`${name}: ${parts.length} categories, at most ${MAX_CATEGORIES}`);
  const out: string[] = [];
  for (const part of parts) {
    const c = part.trim();
    if (c === '')
      fail(
        `${name}: ${quoteValue(raw)} has an empty category; separate categories with ${sep}, e.g. energy${sep}telecom (no categories at all: every category)`,
      );
    if (c.length > MAX_ITEM) fail(`${name}: the category ${quoteValue(c)} is longer than ${MAX_ITEM} characters`);
    if (CONTROL.test(c)) fail(`${name}: the category ${quoteValue(c)} contains a control character`);
    if (!out.includes(c)) out.push(c);
  }
  return out;
}

/** An instant (epoch ms) per core's one date parser. */
export function instant(ctx: RowContext, field: Field, raw: string): number {
  const r = parseInstant(raw);
  if (!r.ok) return fail(`${ctx.names[field]}: ${r.error}`);
  return r.value.getTime();
}

/** Free text: at most MAX_TEXT characters, no control characters. */
export function text(ctx: RowContext, field: Field, raw: string): string {
  const v = raw.trim();
  if (v === '') fail(`${ctx.names[field]}: empty value`);
  if (v.length > MAX_TEXT) fail(`${ctx.names[field]}: ${v.length} characters, at most ${MAX_TEXT}: ${quoteValue(v)}`);
  if (CONTROL.test(v)) fail(`${ctx.names[field]}: ${quoteValue(v)} contains a control character`);
  return v;
}

/** true/false, yes/no, 1/0; empty: undefined. */
export function yesNo(ctx: RowContext, field: Field, raw: string): boolean | undefined {
  switch (raw.trim().toLowerCase()) {
    case '':
      return undefined;
    case 'true':
    case 'yes':
    case '1':
      return true;
    case 'false':
    case 'no':
    case '0':
      return false;
    default:
      return fail(`${ctx.names[field]}: ${quoteValue(raw)} is not a boolean (true/false, yes/no, 1/0 or empty)`);
  }
}

/**
 * Fields as written: undefined when absent. A CSV importer passes a blank cell as absent; a value
 * given on the command line is checked even when blank (`--source ''` is refused).
 */
export type Written<F extends Field> = Partial<Record<F, string>>;

/** A consent as the stores take it, times in epoch ms (flat: consent files are the big ones). */
export type ConsentFields = {
  e164: string;
  professional: string;
  categories: string[];
  collectedAt: number;
  validUntil: number | null;
  slot: number | null;
  source: string | null;
  withdrawnAt: number | null;
  automated: boolean | null;
};

/**
 * A consent line or `consent add`. `now` (epoch ms) stands for an absent collected_at (the
 * command line's default); without it collected_at is required.
 */
export function consentOf(
  ctx: RowContext,
  w: Written<
    | 'number'
    | 'professional'
    | 'categories'
    | 'collectedAt'
    | 'validUntil'
    | 'slot'
    | 'source'
    | 'withdrawnAt'
    | 'automated'
  >,
  now?: number,
): ConsentFields {
  const n = ctx.names;
  const e164 = subscriberNumber(ctx, required(ctx, 'number', w.number));
  const professional = professionalId(ctx, required(ctx, 'professional', w.professional));
  const categories = categoryList(ctx, w.categories);
  const given = w.collectedAt;
  const collectedAt =
    given === undefined && now !== undefined ? now : instant(ctx, 'collectedAt', required(ctx, 'collectedAt', given));
  const opt = (f: 'validUntil' | 'slot' | 'withdrawnAt') => {
    const v = w[f];
    return v === undefined ? null : instant(ctx, f, v);
  };
  const validUntil = opt('validUntil');
  const slot = opt('slot');
  const withdrawnAt = opt('withdrawnAt');
  const source = w.source === undefined ? null : text(ctx, 'source', w.source);
  const automated = w.automated === undefined ? undefined : yesNo(ctx, 'automated', w.automated);
  const when = () => (given === undefined ? 'now' : quoteValue(given.trim()));
  if (validUntil !== null && validUntil <= collectedAt)
    fail(
      `${n.validUntil}: ${quoteValue(w.validUntil!.trim())} is not after ${n.collectedAt} ${when()}; a consent ends after it is collected`,
    );
  if (withdrawnAt !== null && withdrawnAt < collectedAt)
    fail(
      `${n.withdrawnAt}: ${quoteValue(w.withdrawnAt!.trim())} is before ${n.collectedAt} ${when()}; a consent is withdrawn after it is collected`,
    );
  return {
    e164,
    professional,
    categories,
    collectedAt,
    validUntil,
    slot,
    source,
    withdrawnAt,
    automated: automated ?? null,
  };
}

export type ContractFields = {
  e164: string;
  professional: string;
  categories: string[];
  start: number;
  end: number | null;
};

/** A contract line or `contract add`; `now` stands for an absent start. Categories are required. */
export function contractOf(
  ctx: RowContext,
  w: Written<'number' | 'professional' | 'categories' | 'start' | 'end'>,
  now?: number,
): ContractFields {
  const n = ctx.names;
  const e164 = subscriberNumber(ctx, required(ctx, 'number', w.number));
  const professional = professionalId(ctx, required(ctx, 'professional', w.professional));
  const cats = w.categories;
  if (cats === undefined)
    fail(
      `${n.categories} is required for a contract: the contract exception (L. 223-1 al. 4) needs the offer it relates to, e.g. ${['energy', 'telecom'].join(ctx.categorySeparator)}`,
    );
  const categories = categoryList(ctx, cats);
  const given = w.start;
  const start = given === undefined && now !== undefined ? now : instant(ctx, 'start', required(ctx, 'start', given));
  const e = w.end;
  const end = e === undefined ? null : instant(ctx, 'end', e);
  if (end !== null && end <= start)
    fail(
      `${n.end}: ${quoteValue(e!.trim())} is not after ${n.start} ${given === undefined ? 'now' : quoteValue(given.trim())}; a contract ends after it starts`,
    );
  return { e164, professional, categories, start, end };
}

export type DncFields = { e164: string; professional: string | null; reason: string | null };

/** A dnc line or `dnc add`: an empty professional is every professional. */
export function dncOf(ctx: RowContext, w: Written<'number' | 'professional' | 'reason'>): DncFields {
  const e164 = subscriberNumber(ctx, required(ctx, 'number', w.number));
  const p = w.professional;
  const r = w.reason;
  return {
    e164,
    professional: p === undefined ? null : professionalId(ctx, p),
    reason: r === undefined ? null : text(ctx, 'reason', r),
  };
}
