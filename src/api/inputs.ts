/**
 * What the JSON schemas cannot check, with the command line's own parsers and words: numbers by
 * core's number parser (writtenNumberProblem, and the importer's subscriber-number check for the
 * data routes), instants by core's one date parser (parseInstant), consents, contracts, do-not-call
 * entries and refusals by the importer's row checks (src/store/rows.ts). Every field is checked and
 * every problem kept, so a 400 lists them all; nothing is written before all of them passed.
 */
import { normalizeNumber, writtenNumberProblem } from '../core/numbers';
import { parseInstant } from '../core/instant';
import { quoteValue } from '../core/quote';
import { locatePostalCode } from '../core/postal';
import { isWithheldNumber } from '../core/rules/caller-id';
import type { CallAttempt } from '../core/types';
import type { Config } from '../config/schema';
import {
  categoryList,
  consentOf,
  contractOf,
  dncOf,
  type Field,
  instant as rowInstant,
  professionalId,
  required,
  RowError,
  type RowContext,
  subscriberNumber,
  text,
  type ConsentFields,
  type ContractFields,
  type DncFields,
} from '../store/rows';
import type { FastifyError, FastifyRequest } from 'fastify';
import { invalid, validationProblems, type Problem } from './errors';

/** The fields as the API's JSON names them (the row checks' messages start with these). */
const API_NAMES: Readonly<Record<Field, string>> = {
  number: 'number',
  professional: 'professional',
  categories: 'categories',
  collectedAt: 'collectedAt',
  validUntil: 'validUntil',
  slot: 'slot',
  source: 'source',
  withdrawnAt: 'withdrawnAt',
  automated: 'automated',
  start: 'start',
  end: 'end',
  reason: 'reason',
  at: 'at',
};

const FIELD_NAMES = new Set(Object.values(API_NAMES));

/** Gathers the problems of one request; `done()` throws the 400 when there is any. */
export class Problems {
  readonly list: Problem[] = [];
  constructor(private readonly where: 'body' | 'query' | 'params') {}

  /**
   * The problems of a request whose route collects its schema errors (config.collect): those first,
   * then the handler's own checks add theirs, skipping the fields the schema already refused.
   */
  static of(req: FastifyRequest, where: 'body' | 'query' | 'params'): Problems {
    const p = new Problems(where);
    const v = (req as FastifyRequest & { validationError?: FastifyError }).validationError;
    if (v?.validation) p.list.push(...validationProblems(v.validation as never, v.validationContext));
    // not even an object: there are no fields to check
    if (p.list.some((x) => !x.path.includes('.'))) p.done();
    return p;
  }

  /** Whether `field` already has a problem (a field the schema refused is not checked again). */
  has(field: string): boolean {
    const path = `${this.where}.${field}`;
    return this.list.some(
      (x) =>
        x.path === path ||
        x.path.startsWith(`${path}.`) ||
        x.path.startsWith(`${path}[`) ||
        path.startsWith(`${x.path}.`), // a field inside one the schema refused
    );
  }

  add(field: string, message: string): void {
    if (!this.has(field)) this.list.push({ path: `${this.where}.${field}`, message });
  }

  /**
   * Runs one row check: its RowError becomes a problem of the field its message starts with (the
   * row checks name the field first, e.g. "validUntil: … is not after collectedAt …"), else of `field`.
   */
  check<T>(field: string, fn: () => T): T | undefined {
    if (this.has(field)) return undefined;
    try {
      return fn();
    } catch (e) {
      if (!(e instanceof RowError)) throw e;
      const m = /^([A-Za-z]+)(?: is|:)\s*/.exec(e.message);
      const named = m && FIELD_NAMES.has(m[1]!) ? m[1]! : undefined;
      if (named !== undefined) this.add(named, m![0].includes(':') ? e.message.slice(m![0].length) : e.message);
      else this.add(field, e.message);
      return undefined;
    }
  }

  done(): void {
    if (this.list.length > 0) throw invalid(this.list);
  }
}

/** The row checks with the API's field names and the config's professionals. */
export function rowContext(config: Config): RowContext {
  return { names: API_NAMES, categorySeparator: ',', professionals: config.professionals.map((p) => p.id) };
}

/** An instant by core's one date parser, or a problem. */
export function instantField(p: Problems, field: string, raw: string | undefined): Date | undefined {
  if (raw === undefined || p.has(field)) return undefined;
  const r = parseInstant(raw);
  if (!r.ok) {
    p.add(field, r.error);
    return undefined;
  }
  return r.value;
}

/** A number as written (core's syntax check): the gate itself judges whether it may be called. */
export function dialledField(p: Problems, field: string, raw: string): string | undefined {
  if (p.has(field)) return undefined;
  const problem = writtenNumberProblem(raw);
  if (problem === undefined) return raw.trim();
  p.add(field, `${problem}; give a phone number, e.g. 01 23 45 67 89 or +33123456789`);
  return undefined;
}

/** A presented number, or a withheld presentation ('anonymous', 'restricted', 'unknown', …). */
export function callerIdField(p: Problems, field: string, raw: string): CallAttempt['callerId'] | undefined {
  if (p.has(field)) return undefined;
  const v = raw.trim();
  if (isWithheldNumber(v)) return { number: v.toLowerCase(), presentation: 'restricted' };
  if (writtenNumberProblem(v) !== undefined) {
    p.add(field, `${quoteValue(raw)} is neither a phone number nor 'anonymous'; e.g. 0162123456`);
    return undefined;
  }
  return { number: v, presentation: 'allowed' };
}

export function postalCodeField(p: Problems, field: string, raw: string | undefined): string | undefined {
  if (raw === undefined || p.has(field)) return undefined;
  const located = locatePostalCode(raw);
  if (located.ok) return raw.trim();
  p.add(field, located.error);
  return undefined;
}

/**
 * A campaign named in a request: one of the configuration (a typo must not fall back to the default
 * campaign). The default campaign's id means the default campaign, which the gate knows by omission.
 */
export function campaignField(
  p: Problems,
  field: string,
  config: Config,
  raw: string | undefined,
): { id: string | undefined; ok: boolean } {
  if (raw === undefined || p.has(field)) return { id: undefined, ok: raw === undefined };
  if (config.campaigns.some((c) => c.id === raw)) return { id: raw, ok: true };
  if (raw === config.defaultCampaign.id) return { id: undefined, ok: true };
  const known = [...new Set([...config.campaigns.map((c) => c.id), config.defaultCampaign.id])];
  p.add(field, `unknown campaign ${quoteValue(raw)}; declared in the config: ${known.join(', ')}`);
  return { id: undefined, ok: false };
}

/** A consumer's number for the data routes and lookups: E.164 by core, short codes refused. */
export function subscriberField(p: Problems, field: string, config: Config, raw: string): string | undefined {
  return p.check(field, () => subscriberNumber(rowContext(config), raw));
}

/** E.164 of a number in a path (/v1/numbers/{n}): any dialable number core knows. */
export function e164Of(p: Problems, field: string, raw: string): string | undefined {
  if (p.has(field)) return undefined;
  const r = normalizeNumber(raw);
  if (!r.ok) {
    p.add(field, r.error);
    return undefined;
  }
  if (!r.value.e164.startsWith('+')) {
    p.add(field, `${quoteValue(raw)} is a short or special number (${r.value.kind}), not a consumer's number`);
    return undefined;
  }
  return r.value.e164;
}

/** Categories given as a JSON list, written as the command line writes them (a,b) for the row checks. */
function categoriesText(p: Problems, raw: readonly string[] | undefined): string | undefined {
  if (raw === undefined || p.has('categories')) return undefined;
  const bad = raw.findIndex((c) => c.includes(','));
  if (bad >= 0) {
    p.add(`categories[${bad}]`, `${quoteValue(raw[bad])} contains a comma; give each category as its own item`);
    return undefined;
  }
  return raw.join(',');
}

export type ConsentBody = {
  number: string;
  professional: string;
  categories?: string[];
  collectedAt?: string;
  validUntil?: string;
  slot?: string;
  source?: string;
  automated?: boolean;
};

/** A consent to add: every field checked, then the row as a whole (ends after it is collected…). */
export function consentInput(p: Problems, config: Config, b: ConsentBody, now: number): ConsentFields {
  const ctx = rowContext(config);
  p.check('number', () => subscriberNumber(ctx, required(ctx, 'number', b.number)));
  p.check('professional', () => professionalId(ctx, b.professional));
  const categories = categoriesText(p, b.categories);
  if (categories !== undefined) p.check('categories', () => categoryList(ctx, categories));
  for (const f of ['collectedAt', 'validUntil', 'slot'] as const) {
    const v = b[f];
    if (v !== undefined) p.check(f, () => rowInstant(ctx, f, v));
  }
  if (b.source !== undefined) p.check('source', () => text(ctx, 'source', b.source as string));
  p.done();
  const c = p.check('consent', () =>
    consentOf(
      ctx,
      {
        number: b.number,
        professional: b.professional,
        categories,
        collectedAt: b.collectedAt,
        validUntil: b.validUntil,
        slot: b.slot,
        source: b.source,
        automated: b.automated === undefined ? undefined : String(b.automated),
      },
      now,
    ),
  );
  p.done();
  return c as ConsentFields;
}

export type ContractBody = { number: string; professional: string; categories: string[]; start?: string; end?: string };

export function contractInput(p: Problems, config: Config, b: ContractBody, now: number): ContractFields {
  const ctx = rowContext(config);
  p.check('number', () => subscriberNumber(ctx, required(ctx, 'number', b.number)));
  p.check('professional', () => professionalId(ctx, b.professional));
  const categories = categoriesText(p, b.categories);
  if (categories !== undefined) p.check('categories', () => categoryList(ctx, categories));
  for (const f of ['start', 'end'] as const) {
    const v = b[f];
    if (v !== undefined) p.check(f, () => rowInstant(ctx, f, v));
  }
  p.done();
  const k = p.check('contract', () =>
    contractOf(ctx, { number: b.number, professional: b.professional, categories, start: b.start, end: b.end }, now),
  );
  p.done();
  return k as ContractFields;
}

export type DncBody = { number: string; professional?: string; reason?: string };

export function dncInput(p: Problems, config: Config, b: DncBody): DncFields {
  const ctx = rowContext(config);
  p.check('number', () => subscriberNumber(ctx, required(ctx, 'number', b.number)));
  if (b.professional !== undefined) p.check('professional', () => professionalId(ctx, b.professional as string));
  if (b.reason !== undefined) p.check('reason', () => text(ctx, 'reason', b.reason as string));
  p.done();
  const d = p.check('dnc', () => dncOf(ctx, { number: b.number, professional: b.professional, reason: b.reason }));
  p.done();
  return d as DncFields;
}

/** A number and a professional, and maybe an instant (withdrawals, refusals). */
export function numberAtInput(
  p: Problems,
  config: Config,
  b: { number: string; professional: string; at?: string },
): { e164: string; professional: string; at: Date | undefined } {
  const ctx = rowContext(config);
  const e164 = p.check('number', () => subscriberNumber(ctx, required(ctx, 'number', b.number)));
  const professional = p.check('professional', () => professionalId(ctx, b.professional));
  const at = instantField(p, 'at', b.at);
  p.done();
  return { e164: e164 as string, professional: professional as string, at };
}
