/**
 * What every Store implementation shares: error construction, validation of
 * rows before they are written, the category encoding, the audit JSON of a
 * decision. Lives beside the memory store because the memory store is the
 * reference implementation of the port (src/gate/store.ts); the SQLite store
 * imports it so both reject the same inputs with the same codes.
 *
 * Legal context: the rows kept here are the facts FR-RULES.md needs —
 * consents (C. consom. L. 223-1, R. 223-1..3), contracts (L. 223-1 al. 4),
 * internal do-not-call list (RGPD art. 21), refusals (R. 223-3, D. 223-9),
 * opposition list (L. 223-1, 2020 wording), attempts (D. 223-9 al. 3).
 */
import { decisionFromJson, decisionHeadJson, decisionToJson, sourceJson, stringsJson } from '../../core/decision-json';
import { quoteValue } from '../../core/quote';
import type { Decision } from '../../core/types';
import { encodeRules, decodeRules } from '../audit-rules';
import type { CallOutcome, ImportKind } from '../../gate/store';
import type { ChainHead, ChainLink } from '../audit-chain';
import { StoreError } from '../../gate/store';

/**
 * Store error codes. CG_ERR_STORE_OPEN / _SCHEMA / _FAULT / CG_ERR_IMPORT are
 * the catalogue's (src/errors.ts); the others refine them for the store.
 */
export const STORE_ERROR_CODES = {
  CG_ERR_STORE_OPEN: 'the store could not be opened (missing folder, directory, unwritable path)',
  CG_ERR_STORE_NOT_SQLITE: 'the file exists but is not a SQLite database; it was left untouched',
  CG_ERR_STORE_SCHEMA: 'the database schema is newer than this callgate knows',
  CG_ERR_STORE_READONLY: 'the store can be read but not written',
  CG_ERR_STORE_FAULT: 'a store operation failed (I/O, locked database, closed store)',
  CG_ERR_STORE_INVALID: 'a row given to the store is invalid (empty number, bad date, bad category)',
  CG_ERR_STORE_DUPLICATE: 'a decision with this id was already recorded',
  CG_ERR_STORE_IMPORT: 'an import session was misused (wrong kind, already closed, opposition without asOf)',
} as const;
export type StoreErrorCode = keyof typeof STORE_ERROR_CODES;

export function storeError(code: StoreErrorCode, message: string, cause?: unknown): StoreError {
  return new StoreError(code, `${code}: ${message}`, cause === undefined ? undefined : { cause });
}

/** Unit separator: cannot appear in a category (validated on write). */
export const CATEGORY_SEPARATOR = '\u001f';

export function encodeCategories(categories: readonly string[], what: string): string {
  for (const c of categories) {
    if (typeof c !== 'string' || c.length === 0 || c.includes(CATEGORY_SEPARATOR)) {
      throw storeError(
        'CG_ERR_STORE_INVALID',
        `${what}: category ${quoteValue(c)} is invalid (categories must be non-empty strings without the U+001F character)`,
      );
    }
  }
  return categories.join(CATEGORY_SEPARATOR);
}

export function decodeCategories(text: string): string[] {
  return text === '' ? [] : text.split(CATEGORY_SEPARATOR);
}

export function checkNumber(e164: unknown, what: string): string {
  if (typeof e164 !== 'string' || !/^\+[1-9]\d{4,14}$/.test(e164)) {
    throw storeError(
      'CG_ERR_STORE_INVALID',
      `${what}: number ${quoteValue(e164)} is not E.164 (normalize it with core before calling the store)`,
    );
  }
  return e164;
}

export function checkText(v: unknown, what: string): string {
  if (typeof v !== 'string' || v.length === 0) {
    throw storeError('CG_ERR_STORE_INVALID', `${what} must be a non-empty string, got ${quoteValue(v)}`);
  }
  return v;
}

const HEX64 = /^[0-9a-f]{64}$/;
const CHAIN_ID = /^[0-9a-f]{32}$/;

/** A copied row's chain columns, checked for shape (what they say is `audit verify`'s business). */
export function checkLink(l: ChainLink): ChainLink {
  if (
    typeof l?.chain !== 'string' ||
    !CHAIN_ID.test(l.chain) ||
    !Number.isSafeInteger(l.position) ||
    l.position < 1 ||
    typeof l.prevHash !== 'string' ||
    !HEX64.test(l.prevHash) ||
    typeof l.rowHash !== 'string' ||
    !HEX64.test(l.rowHash)
  )
    throw storeError(
      'CG_ERR_STORE_INVALID',
      `audit chain link ${quoteValue(JSON.stringify(l))} is not a chain id (32 hex digits), a position (1, 2, 3…) and two SHA-256 hashes (64 hex digits)`,
    );
  return l;
}

/** A copied chain head, checked for shape. */
export function checkChainHead(h: ChainHead): ChainHead {
  if (
    typeof h?.chain !== 'string' ||
    !CHAIN_ID.test(h.chain) ||
    !Number.isSafeInteger(h.position) ||
    h.position < 0 ||
    !HEX64.test(String(h.hash)) ||
    !Number.isSafeInteger(h.anchorPosition) ||
    h.anchorPosition < 0 ||
    h.anchorPosition > h.position ||
    !HEX64.test(String(h.anchorHash)) ||
    !Number.isSafeInteger(h.updatedAt)
  )
    throw storeError('CG_ERR_STORE_INVALID', `audit chain head ${quoteValue(JSON.stringify(h))} is not a chain head`);
  return h;
}

/** Store.listDecisions' page size, checked: 1..1000. */
export function pageLimit(limit: unknown): number {
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw storeError('CG_ERR_STORE_INVALID', `listDecisions: limit ${quoteValue(limit)} is not an integer in 1..1000`);
  return limit;
}

/** Epoch ms of a required date; throws a StoreError naming the field. */
export function ms(d: Date, what: string): number {
  const t = d instanceof Date ? d.getTime() : NaN;
  if (!Number.isFinite(t)) throw storeError('CG_ERR_STORE_INVALID', `${what} must be a valid Date, got ${String(d)}`);
  return t;
}

/** Epoch ms of an optional date, null when absent. */
export function msOpt(d: Date | undefined, what: string): number | null {
  return d === undefined || d === null ? null : ms(d, what);
}

export function dateOpt(t: number | null | undefined): Date | undefined {
  return t === null || t === undefined ? undefined : new Date(t);
}

export function copyOutcome(o: CallOutcome): CallOutcome {
  const out: CallOutcome = { answered: o.answered, endedAt: new Date(o.endedAt.getTime()) };
  if (o.dialStatus !== undefined) out.dialStatus = o.dialStatus;
  if (o.hangupCause !== undefined) out.hangupCause = o.hangupCause;
  if (o.durationMs !== undefined) out.durationMs = o.durationMs;
  return out;
}

export function checkOutcome(o: CallOutcome): void {
  ms(o.endedAt, 'outcome.endedAt');
  if (typeof o.answered !== 'boolean') throw storeError('CG_ERR_STORE_INVALID', 'outcome.answered must be a boolean');
  if (o.durationMs !== undefined && !(Number.isFinite(o.durationMs) && o.durationMs >= 0)) {
    throw storeError('CG_ERR_STORE_INVALID', `outcome.durationMs must be a non-negative number, got ${o.durationMs}`);
  }
}

export function checkSessionKind(session: ImportKind, called: ImportKind): void {
  if (session !== called) {
    throw storeError(
      'CG_ERR_STORE_IMPORT',
      `this import session was opened for '${session}' rows and cannot take '${called}' rows; open one session per kind`,
    );
  }
}

/**
 * decideAndCommit's guard (FREQ-1, D. 223-9 al. 3): an allowed decision to be
 * recorded must be about the number and professional whose facts were read,
 * and those facts must hold fewer than `maxAttempts` counted attempts. The
 * gate's core blocks first (frequency_limit); this catches a callback that
 * does not, without any extra query.
 */
export function checkWithinLimit(
  d: Decision,
  q: { e164: string; professional: string },
  counted: number,
  maxAttempts: number,
): void {
  if (d.callee?.e164 !== q.e164 || d.campaign.professional !== q.professional)
    throw storeError(
      'CG_ERR_STORE_INVALID',
      `decision ${d.id}: its callee/professional (${d.callee?.e164 ?? 'none'}/${d.campaign.professional}) is not the one whose facts were read (${q.e164}/${q.professional})`,
    );
  if (counted >= maxAttempts)
    throw storeError(
      'CG_ERR_STORE_INVALID',
      `decision ${d.id}: allowed with ${counted} attempts already in the window (limit ${maxAttempts}); nothing was written`,
    );
}

/**
 * One rule outcome in the audit text as written before the short form of
 * ../audit-rules.ts: [rule, outcome] or [rule, outcome, note]. Still read.
 */
export type CompactRule = [string, string] | [string, string, string];

/**
 * The audit text of a decision (FR-RULES.md section 9): core's JSON form, dates
 * as ISO-8601, except `rules` (and `ruleNotes`), written in the short form of
 * ../audit-rules.ts: every rule evaluated, with its outcome and note, in ~200
 * bytes instead of ~850. When a rule or outcome is not in its tables, `rules`
 * is written as CompactRule arrays instead. Either way nothing is dropped.
 *
 * The text is exactly JSON.stringify of that form (decisionToTextPlain), byte
 * for byte: the audit chain hashes it and rows written years ago must still
 * verify. It is built here by hand, on every decision's hot path, without the
 * intermediate JSON object and with the fragments that repeat from one decision
 * to the next (the campaign, the caller ID) remembered; a decision of any other
 * shape than core's (a field of an unexpected type, which JSON.stringify would
 * spell or drop in its own way) goes through decisionToTextPlain.
 */
export function decisionToText(d: Decision): string {
  return decisionToTextFast(d) ?? decisionToTextPlain(d);
}

/** The audit text as JSON.stringify spells it: the reference that decisionToText must equal. */
export function decisionToTextPlain(d: Decision): string {
  const j = decisionToJson({ ...d, rules: [] }) as unknown as {
    rules: CompactRule[] | string;
    ruleNotes?: string[];
  };
  const short = encodeRules(d.rules);
  if (short === undefined)
    j.rules = d.rules.map((r): CompactRule =>
      r.note === undefined ? [r.rule, r.outcome] : [r.rule, r.outcome, r.note],
    );
  else {
    j.rules = short.rules;
    if (short.ruleNotes !== undefined) j.ruleNotes = short.ruleNotes;
  }
  return JSON.stringify(j);
}

/** The audit text of a decision of core's shape, or undefined (then decisionToTextPlain decides). */
function decisionToTextFast(d: Decision): string | undefined {
  const head = decisionHeadJson(d);
  if (head === undefined) return undefined;
  const source = sourceJson(d.source);
  if (source === undefined) return undefined;
  const short = encodeRules(d.rules);
  if (short === undefined) return undefined; // the CompactRule form: rare, left to JSON.stringify
  return (
    `${head},"rules":${JSON.stringify(short.rules)},"source":${source}` +
    (short.ruleNotes === undefined ? '}' : `,"ruleNotes":${stringsJson(short.ruleNotes)!}}`)
  );
}

/**
 * Inverse of decisionToText. Also reads the rows of earlier versions: rules as
 * CompactRule arrays, or as core's plain { rule, outcome, note } objects.
 * Core's checks name the first bad field of a corrupt audit row.
 */
export function decisionFromText(text: string): Decision {
  const j = JSON.parse(text) as { rules?: unknown; ruleNotes?: unknown };
  if (typeof j.rules === 'string') j.rules = decodeRules(j.rules, j.ruleNotes);
  else if (Array.isArray(j.rules))
    j.rules = j.rules.map((r: unknown) =>
      !Array.isArray(r) || (r.length !== 2 && r.length !== 3)
        ? r // core names it as a bad rules[i]
        : r.length === 3
          ? { rule: r[0], outcome: r[1], note: r[2] }
          : { rule: r[0], outcome: r[1] },
    );
  return decisionFromJson(j);
}

/**
 * Internal fast path of a bulk consent import (not part of the Store port):
 * rows as one flat array, CONSENT_WIDTH values per row in the order e164,
 * professional, categories (joined with CATEGORY_SEPARATOR), collected_at,
 * valid_until, slot, source, withdrawn_at (epoch ms or null), automated
 * (1/0/null). The caller has validated them as the row checks would (csv-import
 * does: core-normalized number, non-empty professional, categories without the
 * separator, finite times). A session may offer it; csv-import falls back to
 * ImportSession.consents otherwise.
 */
export const CONSENT_WIDTH = 9;
export type ConsentValue = string | number | null;
export type ConsentValuesSession = { consentValues(flat: readonly ConsentValue[]): Promise<void> };

/**
 * The merge of a consent row into the stored one with the same natural key
 * (ImportCommitResult in src/gate/store.ts says why each field moves the way it
 * does): mutates `stored`, returns true when something changed. The SQLite
 * store does the same in SQL (sqlite/upsert.ts); both are held to it by
 * test/store/import-merge.ts.
 */
export function mergeConsent(
  stored: { validUntil: number | null; withdrawnAt: number | null; automated: boolean | null; source: string | null },
  row: { validUntil: number | null; withdrawnAt: number | null; automated: boolean | null; source: string | null },
): boolean {
  let changed = false;
  if (row.withdrawnAt !== null && (stored.withdrawnAt === null || row.withdrawnAt < stored.withdrawnAt)) {
    stored.withdrawnAt = row.withdrawnAt;
    changed = true;
  }
  if (row.validUntil !== null && (stored.validUntil === null || row.validUntil < stored.validUntil)) {
    stored.validUntil = row.validUntil;
    changed = true;
  }
  if (row.automated === false && stored.automated !== false) {
    stored.automated = false;
    changed = true;
  }
  if (stored.source === null && row.source !== null) {
    stored.source = row.source;
    changed = true;
  }
  return changed;
}

/** The merge of a contract row into the stored one with the same key: the earliest end. */
export function mergeContract(stored: { end: number | null }, row: { end: number | null }): boolean {
  if (row.end === null || (stored.end !== null && stored.end <= row.end)) return false;
  stored.end = row.end;
  return true;
}

/** The merge of a dnc row into the stored one with the same key: a reason filled in, the earliest date. */
export function mergeDnc(
  stored: { reason: string | null; addedAt: number },
  row: { reason: string | null; addedAt: number },
): boolean {
  let changed = false;
  if (stored.reason === null && row.reason !== null) {
    stored.reason = row.reason;
    changed = true;
  }
  if (row.addedAt < stored.addedAt) {
    stored.addedAt = row.addedAt;
    changed = true;
  }
  return changed;
}

/** How rows given to an import or an add ended (see ImportCommitResult). */
export type MergeCounts = { inserted: number; updated: number; unchanged: number };
