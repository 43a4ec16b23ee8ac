/**
 * Streaming CSV imports of the facts the rules need: consents (C. consom.
 * L. 223-1 al. 1, R. 223-1..3: prior, specific, provable consent), contracts
 * (L. 223-1 al. 4 exception), the internal do-not-call list (RGPD art. 21) and
 * the legacy national opposition list (L. 223-1, 2020 wording; OPP-2 needs its
 * date, hence `asOf`).
 *
 * The file is streamed (csv-parse), never held in memory; rows go to one
 * ImportSession that is committed at the end, so a file that fails as a whole
 * (unreadable, empty, wrong header, too many bad lines) changes nothing. A bad
 * line is rejected with its line number and the rest is imported.
 *
 * Formats: header row required, columns by name in any order (opposition: one
 * number per line, an optional `number` header). Dates are ISO-8601; a date
 * alone means 00:00 Europe/Paris, a date-time without offset is Paris time.
 * Lines are physical lines: a quoted field may hold commas but not a newline
 * (a line with an unbalanced quote is rejected alone, not the rest of the file).
 *
 * Refused as a whole: a file that is not UTF-8 (named by its first bad line;
 * a decoder would store U+FFFD in the proofs silently), a semicolon-separated
 * or UTF-16 file (French Excel), with the fix. With `professionals` given, a
 * line naming an undeclared professional is a rejected line.
 */
import { parse } from 'csv-parse';
import { DateTime } from 'luxon';
import { isUtf8 } from 'node:buffer';
import * as fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { Transform, type TransformCallback } from 'node:stream';
import { normalizeNumber } from '../core/numbers';
import type { ConsentRow, ContractRow, DncRow, ImportKind, ImportSession, Store } from '../gate/store';
import {
  CATEGORY_SEPARATOR,
  CONSENT_WIDTH,
  decodeCategories,
  type ConsentValue,
  type ConsentValuesSession,
} from './memory/common';

export type ImportReport = {
  kind: ImportKind;
  file: string;
  /** Data lines read (blank lines and the header not counted) = imported + rejected + duplicates. */
  lines: number;
  /** Rows new to the store. */
  imported: number;
  rejected: number;
  /**
   * Valid lines skipped because an equal row (same natural key: consent number, professional,
   * collected_at, categories; contract number, professional, start, categories; dnc number,
   * professional; opposition number) is already stored or came earlier in the file — so
   * importing the same file twice adds nothing.
   */
  duplicates: number;
  /** The first 100 rejected lines. */
  errors: { line: number; message: string }[];
};

export type ImportOptions = {
  /** CSV tokenizer: the built-in one (default) or csv-parse; both give the same records and line numbers. */
  engine?: 'builtin' | 'csv-parse';
  /** The import instant (consent/contract/dnc rows without a date of their own are dated by it). */
  now: Date;
  /** Opposition only, required: the date of the list (OPP-2 screens its age). */
  asOf?: Date;
  /** Above this share of rejected lines the whole file is rejected; default 0.5. */
  maxRejectedRatio?: number;
  /**
   * The professional ids declared in the config. When given, a line naming another
   * professional is rejected (a consent or contract stored under a typo would never
   * match a call: the gate would block calls the consumer agreed to, or worse, an
   * operator would "fix" it by hand). A dnc line with an empty professional (every
   * professional) is not concerned.
   */
  professionals?: readonly string[];
};

/** The whole file was refused; the store is exactly as it was. */
export class ImportError extends Error {
  readonly code = 'CG_ERR_IMPORT';
  constructor(
    message: string,
    /** The partial report when the file was read to the end (too many rejected lines). */
    readonly report?: ImportReport,
    options?: { cause?: unknown },
  ) {
    super(`CG_ERR_IMPORT: ${message}`, options);
    this.name = 'ImportError';
  }
}

const COLUMNS: Record<ImportKind, { all: string[]; required: string[] }> = {
  consent: {
    all: [
      'number',
      'professional',
      'categories',
      'collected_at',
      'valid_until',
      'slot',
      'source',
      'withdrawn_at',
      'automated',
    ],
    required: ['number', 'professional', 'collected_at'],
  },
  contract: {
    all: ['number', 'professional', 'categories', 'start', 'end'],
    required: ['number', 'professional', 'start'],
  },
  dnc: { all: ['number', 'professional', 'reason'], required: ['number'] },
  opposition: { all: ['number'], required: ['number'] },
};

const BATCH = 2000;
const MAX_ERRORS = 100;
const MAX_LINE_BYTES = 1 << 20;

/** A bad field: the line is rejected with this message. */
class LineError extends Error {}

// ------------------------------------------------------------------ fields

function e164Of(raw: string): string {
  const r = normalizeNumber(raw);
  if (!r.ok) throw new LineError(`number: ${r.error}`);
  if (!r.value.e164.startsWith('+'))
    throw new LineError(`number: "${raw}" is a short or emergency code, not a subscriber number`);
  return r.value.e164;
}

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|([+-])(\d{2}):?(\d{2}))?$/i;
const parisMidnight = new Map<string, number>();
const MONTH_DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function checkYmd(y: string, m: string, d: string, raw: string, col: string): void {
  const yy = Number(y);
  const mm = Number(m);
  const dd = Number(d);
  const leap = yy % 4 === 0 && (yy % 100 !== 0 || yy % 400 === 0);
  if (mm < 1 || mm > 12 || dd < 1 || dd > (mm === 2 && leap ? 29 : MONTH_DAYS[mm]))
    throw new LineError(`${col}: "${raw}" is not a calendar date`);
}

/** Epoch ms of an ISO-8601 date or date-time; date alone = 00:00 Europe/Paris. */
export function parseIsoDate(raw: string, col: string): number {
  const s = raw.trim();
  if (s.length === 10) {
    const cached = parisMidnight.get(s);
    if (cached !== undefined) return cached;
    const dm = DATE_ONLY.exec(s);
    if (dm) {
      checkYmd(dm[1], dm[2], dm[3], raw, col);
      const t = DateTime.fromISO(s, { zone: 'Europe/Paris' }).toMillis();
      if (parisMidnight.size > 100_000) parisMidnight.clear();
      parisMidnight.set(s, t);
      return t;
    }
  }
  const m = DATE_TIME.exec(s);
  if (!m)
    throw new LineError(
      `${col}: "${raw}" is not an ISO-8601 date (expected e.g. 2026-09-01 or 2026-09-01T10:30:00+02:00)`,
    );
  checkYmd(m[1], m[2], m[3], raw, col);
  const hh = Number(m[4]);
  const mi = Number(m[5]);
  const ss = m[6] === undefined ? 0 : Number(m[6]);
  if (hh > 23 || mi > 59 || ss > 59) throw new LineError(`${col}: "${raw}" has an impossible time of day`);
  if (m[8] === undefined) {
    const local = DateTime.fromISO(s.replace(' ', 'T'), { zone: 'Europe/Paris' });
    if (!local.isValid)
      throw new LineError(
        `${col}: "${raw}" is not a valid Paris local time (${local.invalidExplanation ?? local.invalidReason})`,
      );
    if (local.hour !== hh || local.minute !== mi) {
      throw new LineError(
        `${col}: "${raw}" does not exist in Paris (skipped by the daylight-saving change); give an offset`,
      );
    }
    return local.toMillis();
  }
  const msPart = m[7] === undefined ? 0 : Number(m[7].padEnd(3, '0').slice(0, 3));
  let t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), hh, mi, ss, msPart);
  if (m[9] !== undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) throw new LineError(`${col}: "${raw}" has an impossible UTC offset`);
    t -= (m[9] === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
  }
  return t;
}

function categoriesOf(raw: string | undefined): string[] {
  if (raw === undefined) return [];
  const out: string[] = [];
  for (const part of raw.split('|')) {
    const c = part.trim();
    if (c === '') continue;
    if (c.includes(CATEGORY_SEPARATOR)) throw new LineError(`categories: "${c}" contains the control character U+001F`);
    out.push(c);
  }
  return out;
}

function boolOf(raw: string, col: string): boolean | undefined {
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
      throw new LineError(`${col}: "${raw}" is not a boolean (true/false, yes/no, 1/0 or empty)`);
  }
}

// ------------------------------------------------------------------ rows

type Get = (col: string) => string | undefined;
/** Returns the professional id, or throws a LineError when the config does not declare it. */
type CheckProfessional = (id: string) => string;

const anyProfessional: CheckProfessional = (id) => id;

function declaredProfessionals(ids: readonly string[] | undefined): CheckProfessional {
  if (ids === undefined) return anyProfessional;
  const known = new Set(ids);
  const list = ids.length === 0 ? '(none)' : ids.length > 10 ? `${ids.slice(0, 10).join(', ')}, …` : ids.join(', ');
  return (id) => {
    if (!known.has(id)) throw new LineError(`professional '${id}' is not declared in the config (declared: ${list})`);
    return id;
  };
}

function required(get: Get, col: string): string {
  const v = get(col)?.trim();
  if (!v) throw new LineError(`${col} is required and empty`);
  return v;
}
function optional(get: Get, col: string): string | undefined {
  const v = get(col)?.trim();
  return v ? v : undefined;
}
function optDate(get: Get, col: string): Date | undefined {
  const v = optional(get, col);
  return v === undefined ? undefined : new Date(parseIsoDate(v, col));
}

function optMs(get: Get, col: string): number | null {
  const v = optional(get, col);
  return v === undefined ? null : parseIsoDate(v, col);
}

/**
 * One consent line as CONSENT_WIDTH flat values appended to `out` (no row
 * object, no Date: consent files are the big ones). Everything is parsed
 * before the first push, so a bad line appends nothing.
 */
function consentValuesOf(get: Get, out: ConsentValue[], pro: CheckProfessional): void {
  const e164 = e164Of(required(get, 'number'));
  const professional = pro(required(get, 'professional'));
  const categories = categoriesOf(get('categories')).join(CATEGORY_SEPARATOR);
  const collectedAt = parseIsoDate(required(get, 'collected_at'), 'collected_at');
  const validUntil = optMs(get, 'valid_until');
  const slot = optMs(get, 'slot');
  const source = optional(get, 'source') ?? null;
  const withdrawnAt = optMs(get, 'withdrawn_at');
  const automated = boolOf(get('automated') ?? '', 'automated');
  const auto = automated === undefined ? null : automated ? 1 : 0;
  out.push(e164, professional, categories, collectedAt, validUntil, slot, source, withdrawnAt, auto);
}

/** The flat values back as ConsentRow objects, for a store without the fast path. */
function consentRowsOf(flat: readonly ConsentValue[]): ConsentRow[] {
  const rows: ConsentRow[] = [];
  for (let i = 0; i < flat.length; i += CONSENT_WIDTH) {
    const row: ConsentRow = {
      e164: flat[i] as string,
      professional: flat[i + 1] as string,
      categories: decodeCategories(flat[i + 2] as string),
      collectedAt: new Date(flat[i + 3] as number),
    };
    if (flat[i + 4] !== null) row.validUntil = new Date(flat[i + 4] as number);
    if (flat[i + 5] !== null) row.slot = new Date(flat[i + 5] as number);
    if (flat[i + 6] !== null) row.source = flat[i + 6] as string;
    if (flat[i + 7] !== null) row.withdrawnAt = new Date(flat[i + 7] as number);
    if (flat[i + 8] !== null) row.automated = flat[i + 8] === 1;
    rows.push(row);
  }
  return rows;
}

function contractOf(get: Get, pro: CheckProfessional): ContractRow {
  const row: ContractRow = {
    e164: e164Of(required(get, 'number')),
    professional: pro(required(get, 'professional')),
    categories: categoriesOf(get('categories')),
    start: new Date(parseIsoDate(required(get, 'start'), 'start')),
  };
  const end = optDate(get, 'end');
  if (end) {
    if (end.getTime() < row.start.getTime())
      throw new LineError(`end (${get('end')}) is before start (${get('start')})`);
    row.end = end;
  }
  return row;
}

function dncOf(get: Get, now: Date, pro: CheckProfessional): DncRow {
  const row: DncRow = { e164: e164Of(required(get, 'number')), addedAt: now };
  const professional = optional(get, 'professional');
  if (professional) row.professional = pro(professional);
  const reason = optional(get, 'reason');
  if (reason) row.reason = reason;
  return row;
}

// ------------------------------------------------------------------ lines

/** Messages of the lines QuoteGuard replaced, by the marker letter after U+0001. */
const BAD_QUOTES: Record<string, string> = {
  U: 'unterminated quoted field (a field opened with " is not closed on this line)',
  C: 'a closing quote must be followed by a comma or the end of the line',
  Q: 'a quote inside an unquoted field: quote the whole field and double the inner quotes ("a ""b"" c")',
};
const MARK = '\u0001';

/** Checks the quoting of one physical line [start, end) per RFC 4180; returns a BAD_QUOTES key or undefined. */
function quoteProblem(buf: Buffer, start: number, end: number): string | undefined {
  let pos = start;
  for (;;) {
    if (pos < end && buf[pos] === 34) {
      pos++;
      for (;;) {
        const q = buf.indexOf(34, pos);
        if (q === -1 || q >= end) return 'U';
        if (q + 1 < end && buf[q + 1] === 34) {
          pos = q + 2;
          continue;
        }
        pos = q + 1;
        break;
      }
      if (pos === end) return undefined;
      if (buf[pos] !== 44) return 'C';
      pos++;
    } else {
      let comma = buf.indexOf(44, pos);
      if (comma === -1 || comma > end) comma = end;
      const q = buf.indexOf(34, pos);
      if (q !== -1 && q < comma) return 'Q';
      if (comma === end) return undefined;
      pos = comma + 1;
    }
  }
}

/**
 * Replaces every physical line whose quoting is broken (unterminated quote,
 * text after a closing quote, a quote inside an unquoted field) by a one-field
 * marker line, so csv-parse never swallows the rest of the file into one
 * field; the importer rejects the marker with its message. Each replaced line
 * keeps its line ending, so csv-parse's line numbers stay those of the file.
 * Chunks without any double quote pass through untouched.
 */
class QuoteGuard extends Transform {
  private carry: Buffer | undefined;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    const buf = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    const last = buf.lastIndexOf(10);
    if (last === -1) {
      if (buf.length > MAX_LINE_BYTES)
        return cb(new ImportError(`a line is longer than ${MAX_LINE_BYTES} bytes; is this a CSV file?`));
      this.carry = buf;
      return cb();
    }
    this.carry = last + 1 < buf.length ? Buffer.from(buf.subarray(last + 1)) : undefined;
    cb(null, this.guard(buf.subarray(0, last + 1)));
  }

  override _flush(cb: TransformCallback): void {
    if (this.carry && this.carry.length > 0) cb(null, this.guard(this.carry));
    else cb();
  }

  private guard(part: Buffer): Buffer {
    if (part.indexOf(34) === -1) return part;
    let pieces: Buffer[] | undefined;
    let start = 0;
    let kept = 0;
    while (start < part.length) {
      let nl = part.indexOf(10, start);
      if (nl === -1) nl = part.length;
      const end = nl > start && part[nl - 1] === 13 ? nl - 1 : nl;
      const q = part.indexOf(34, start);
      const problem = q !== -1 && q < end ? quoteProblem(part, start, end) : undefined;
      if (problem !== undefined) {
        pieces ??= [];
        pieces.push(part.subarray(kept, start), Buffer.from(MARK + problem, 'latin1'));
        kept = end;
      }
      start = nl + 1;
    }
    if (!pieces) return part;
    pieces.push(part.subarray(kept));
    return Buffer.concat(pieces);
  }
}

// ------------------------------------------------------------------ file checks

const SAVE_AS_UTF8 =
  'save it as "CSV UTF-8 (comma delimited)" (Excel: File > Save As; LibreOffice: Save As > Text CSV, character set Unicode (UTF-8)) and import it again';

/**
 * Looks at the first line before anything is parsed. A semicolon-separated file
 * (French Excel's default, its list separator in a French locale) or a UTF-16
 * file (Excel's "Unicode text") is refused as a whole with the fix, instead of a
 * puzzling "unknown column(s)" about the whole header read as one column.
 */
function sniffFirstLine(file: string, kind: ImportKind): void {
  const head = Buffer.alloc(64 * 1024);
  let n: number;
  const fd = fs.openSync(file, 'r');
  try {
    n = fs.readSync(fd, head, 0, head.length, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (n >= 2 && ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)))
    throw new ImportError(`${file} is UTF-16 text (Excel's "Unicode text"), not UTF-8 CSV; ${SAVE_AS_UTF8}`);
  let end = head.subarray(0, n).indexOf(10);
  if (end === -1) end = n;
  const first = head
    .subarray(0, end)
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .replace(/\r$/, '');
  if (first.includes(';') && !first.includes(',')) {
    const what = kind === 'opposition' ? 'first line' : 'header';
    throw new ImportError(
      `${file}: the ${what} ${JSON.stringify(first.length > 120 ? first.slice(0, 120) + '…' : first)} is separated by semicolons (Excel's default in French); the importer reads commas: export the file with commas as the field separator (LibreOffice: Save As > Text CSV > Edit filter settings > field delimiter ","; or replace every ; by , in a text editor when no field contains a comma or a semicolon), then import it again; nothing was imported`,
    );
  }
}

/** `bytes` as text with every byte of an invalid UTF-8 sequence shown as \xNN, at most ~80 characters around the first one. */
function showBadBytes(bytes: Buffer): string {
  let out = '';
  let i = 0;
  let firstBad = -1;
  while (i < bytes.length) {
    const b = bytes[i];
    const len = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (len > 0 && i + len <= bytes.length && isUtf8(bytes.subarray(i, i + len))) {
      out += bytes.subarray(i, i + len).toString('utf8');
      i += len;
    } else {
      if (firstBad === -1) firstBad = out.length;
      out += `\\x${b.toString(16).toUpperCase().padStart(2, '0')}`;
      i++;
    }
  }
  out = out.replace(/\r?\n$/, '');
  const from = Math.max(0, firstBad - 40);
  return (from > 0 ? '…' : '') + out.slice(from, from + 80) + (from + 80 < out.length ? '…' : '');
}

/** The 1-based number of the line starting at byte `offset` of `file` (read again, only on the error path). */
function lineAt(file: string, offset: number): number {
  const buf = Buffer.alloc(1 << 20);
  const fd = fs.openSync(file, 'r');
  let line = 1;
  try {
    for (let pos = 0; pos < offset;) {
      const n = fs.readSync(fd, buf, 0, Math.min(buf.length, offset - pos), pos);
      if (n === 0) break;
      for (let i = buf.indexOf(10, 0); i !== -1 && i < n; i = buf.indexOf(10, i + 1)) line++;
      pos += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  return line;
}

/**
 * Checks that the file is UTF-8 as it streams by. Decoders replace invalid
 * bytes by U+FFFD without a word, so a Latin-1 "café" would be stored as
 * "caf\uFFFD" in the proof of consent. The whole file is refused, not the line:
 * the encoding is a property of the file (every accented character of it is
 * misread, not only the first one found), and it is fixed by saving the file
 * once more, not by correcting lines. Complete lines are validated (a newline
 * byte never occurs inside a UTF-8 sequence), so chunk boundaries do not matter.
 */
class Utf8Check {
  private tail: Buffer | undefined;
  /** File offset of the first byte of `tail` (or of the next chunk). */
  private offset = 0;

  constructor(private readonly file: string) {}

  check(chunk: Buffer): void {
    const buf = this.tail ? Buffer.concat([this.tail, chunk]) : chunk;
    const last = buf.lastIndexOf(10);
    if (last === -1) {
      this.tail = buf;
      return;
    }
    const lines = buf.subarray(0, last + 1);
    if (!isUtf8(lines)) this.fail(lines);
    this.offset += last + 1;
    this.tail = last + 1 < buf.length ? Buffer.from(buf.subarray(last + 1)) : undefined;
  }

  end(): void {
    if (this.tail && !isUtf8(this.tail)) this.fail(this.tail);
  }

  private fail(bytes: Buffer): never {
    let start = 0;
    for (;;) {
      let nl = bytes.indexOf(10, start);
      if (nl === -1) nl = bytes.length - 1;
      const line = bytes.subarray(start, nl + 1);
      if (!isUtf8(line)) {
        throw new ImportError(
          `${this.file}: line ${lineAt(this.file, this.offset + start)} is not UTF-8 ("${showBadBytes(line)}"); the file must be UTF-8 and looks like Latin-1 or Windows-1252 (Excel's plain "CSV"): ${SAVE_AS_UTF8}; nothing was imported`,
        );
      }
      start = nl + 1;
    }
  }
}

/** The chunks of `input`, each checked by `utf8` before it is passed on. */
async function* utf8Checked(input: AsyncIterable<Buffer>, utf8: Utf8Check): AsyncGenerator<Buffer> {
  for await (const chunk of input) {
    utf8.check(chunk);
    yield chunk;
  }
  utf8.end();
}

/** The same check as a stream stage (csv-parse engine). */
class Utf8Guard extends Transform {
  constructor(private readonly utf8: Utf8Check) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.utf8.check(chunk);
    } catch (err) {
      return cb(err as Error);
    }
    cb(null, chunk);
  }
  override _flush(cb: TransformCallback): void {
    try {
      this.utf8.end();
    } catch (err) {
      return cb(err as Error);
    }
    cb();
  }
}

// ------------------------------------------------------------------ record sources

/** One physical line: its fields, or why its quoting is broken. */
type Rec =
  { line: number; fields: string[]; problem?: undefined } | { line: number; fields?: undefined; problem: string };

/** Fields of text[start, end) per RFC 4180 (no newline inside); a BAD_QUOTES key when the quoting is broken. */
function splitLine(text: string, start: number, end: number): string[] | string {
  const q0 = text.indexOf('"', start);
  if (q0 === -1 || q0 >= end) return text.slice(start, end).split(',');
  const fields: string[] = [];
  let pos = start;
  for (;;) {
    if (pos < end && text.charCodeAt(pos) === 34) {
      let value = '';
      pos++;
      for (;;) {
        const q = text.indexOf('"', pos);
        if (q === -1 || q >= end) return 'U';
        value += text.slice(pos, q);
        if (q + 1 < end && text.charCodeAt(q + 1) === 34) {
          value += '"';
          pos = q + 2;
          continue;
        }
        pos = q + 1;
        break;
      }
      fields.push(value);
      if (pos === end) return fields;
      if (text.charCodeAt(pos) !== 44) return 'C';
      pos++;
    } else {
      let comma = text.indexOf(',', pos);
      if (comma === -1 || comma > end) comma = end;
      const q = text.indexOf('"', pos);
      if (q !== -1 && q < comma) return 'Q';
      fields.push(text.slice(pos, comma));
      if (comma === end) return fields;
      pos = comma + 1;
    }
  }
}

/**
 * The built-in tokenizer (default engine): UTF-8, BOM, LF or CRLF, RFC 4180
 * quoting within a line. Yields the records of each chunk at once.
 */
async function* builtinRecords(input: AsyncIterable<Buffer>): AsyncGenerator<Rec[]> {
  const decoder = new StringDecoder('utf8');
  let carry = '';
  let line = 0;
  let first = true;
  const linesOf = (text: string, upto: number): Rec[] => {
    const out: Rec[] = [];
    let start = 0;
    while (start < upto) {
      let nl = text.indexOf('\n', start);
      if (nl === -1 || nl > upto) nl = upto;
      const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      line++;
      if (end > start) {
        const f = splitLine(text, start, end);
        out.push(typeof f === 'string' ? { line, problem: BAD_QUOTES[f] } : { line, fields: f });
      }
      start = nl + 1;
    }
    return out;
  };
  for await (const chunk of input) {
    let text = carry + decoder.write(chunk);
    if (first && text.length > 0) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
    }
    const last = text.lastIndexOf('\n');
    if (last === -1) {
      if (text.length > MAX_LINE_BYTES)
        throw new ImportError(`line ${line + 1} is longer than ${MAX_LINE_BYTES} characters; is this a CSV file?`);
      carry = text;
      continue;
    }
    carry = text.slice(last + 1);
    yield linesOf(text, last + 1);
  }
  let tail = carry + decoder.end();
  if (first && tail.charCodeAt(0) === 0xfeff) tail = tail.slice(1);
  if (tail.length > 0) yield linesOf(tail, tail.length);
}

/** csv-parse engine (opts.engine 'csv-parse'): same records, about 5-10 times slower (see the report). */
async function* csvParseRecords(
  input: fs.ReadStream,
  file: string,
  onSkip: (line: number, message: string) => void,
): AsyncGenerator<Rec[]> {
  const utf8 = new Utf8Guard(new Utf8Check(file));
  const guard = new QuoteGuard();
  const parser = parse({
    bom: true,
    record_delimiter: ['\r\n', '\n'],
    relax_column_count: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    info: true,
    on_skip: (err) =>
      void onSkip((err as { lines?: number } | undefined)?.lines ?? 0, err?.message ?? 'unreadable CSV line'),
  });
  input.on('error', (err) =>
    parser.destroy(new ImportError(`cannot read ${file}: ${err.message}`, undefined, { cause: err })),
  );
  utf8.on('error', (err) => parser.destroy(err));
  guard.on('error', (err) => parser.destroy(err));
  input.pipe(utf8).pipe(guard).pipe(parser);
  for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
    if (record.length === 1 && record[0].charCodeAt(0) === 1)
      yield [{ line: info.lines, problem: BAD_QUOTES[record[0].slice(1)] ?? 'malformed quotes' }];
    else yield [{ line: info.lines, fields: record }];
  }
}

// ------------------------------------------------------------------ import

function checkHeader(kind: ImportKind, file: string, header: string[]): string[] {
  const names = header.map((h) => h.trim().toLowerCase());
  const spec = COLUMNS[kind];
  const unknown = names.filter((n) => !spec.all.includes(n));
  if (unknown.length > 0) {
    throw new ImportError(
      `${file}: unknown column(s) ${unknown.map((u) => JSON.stringify(u)).join(', ')} in the header; a ${kind} file has the columns ${spec.all.join(',')} (required: ${spec.required.join(', ')})`,
    );
  }
  const dup = names.filter((n, i) => names.indexOf(n) !== i);
  if (dup.length > 0)
    throw new ImportError(`${file}: column(s) ${[...new Set(dup)].join(', ')} appear twice in the header`);
  const missing = spec.required.filter((r) => !names.includes(r));
  if (missing.length > 0) {
    throw new ImportError(
      `${file}: the header lacks the required column(s) ${missing.join(', ')}; a ${kind} file needs ${spec.required.join(', ')}`,
    );
  }
  return names;
}

async function writeBatch(session: ImportSession, kind: ImportKind, batch: unknown[]): Promise<void> {
  switch (kind) {
    case 'consent': {
      const fast = (session as Partial<ConsentValuesSession>).consentValues;
      if (fast) return fast(batch as ConsentValue[]);
      return session.consents(consentRowsOf(batch as ConsentValue[]));
    }
    case 'contract':
      return session.contracts(batch as ContractRow[]);
    case 'dnc':
      return session.dnc(batch as DncRow[]);
    case 'opposition':
      return session.opposition(batch as string[]);
  }
}

function openInput(file: string, kind: ImportKind): fs.ReadStream {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (err) {
    throw new ImportError(`cannot read ${file}: ${(err as Error).message}`, undefined, { cause: err });
  }
  if (!st.isFile()) throw new ImportError(`${file} is not a regular file`);
  if (st.size === 0) throw new ImportError(`${file} is empty: expected a header line and at least one data line`);
  sniffFirstLine(file, kind);
  return fs.createReadStream(file, { highWaterMark: 1 << 20 });
}

/** Streams `file` into the store in one transaction; see the header of this file for the formats. */
export async function importFile(
  store: Store,
  kind: ImportKind,
  file: string,
  opts: ImportOptions,
): Promise<ImportReport> {
  if (!(kind in COLUMNS))
    throw new ImportError(`unknown import kind ${JSON.stringify(kind)}; use consent, contract, dnc or opposition`);
  if (kind === 'opposition' && !(opts.asOf instanceof Date && Number.isFinite(opts.asOf.getTime()))) {
    throw new ImportError(
      'an opposition list import needs its date (asOf, e.g. --as-of 2026-05-01): OPP-2 refuses to screen with a list older than 30 days',
    );
  }
  const maxRatio = opts.maxRejectedRatio ?? 0.5;
  const pro = declaredProfessionals(opts.professionals);
  const report: ImportReport = { kind, file, lines: 0, imported: 0, rejected: 0, duplicates: 0, errors: [] };
  const reject = (line: number, message: string) => {
    report.lines++;
    report.rejected++;
    if (report.errors.length < MAX_ERRORS) report.errors.push({ line, message });
  };

  const input = openInput(file, kind);
  const source =
    opts.engine === 'csv-parse'
      ? csvParseRecords(input, file, reject)
      : builtinRecords(utf8Checked(input, new Utf8Check(file)));

  let session: ImportSession | undefined;
  let header: string[] | undefined;
  let index: Map<string, number> = new Map();
  let record: string[] = [];
  const get: Get = (col) => {
    const i = index.get(col);
    return i === undefined ? undefined : record[i];
  };
  // consent: CONSENT_WIDTH flat values per row; the other kinds: one object (or number) per row
  const width = kind === 'consent' ? CONSENT_WIDTH : 1;
  const batch: unknown[] = [];
  try {
    for await (const recs of source) {
      for (const rec of recs) {
        if (rec.problem !== undefined) {
          // a broken header is not a bad data line: the next line must not be read as the header
          if (header === undefined && kind !== 'opposition')
            throw new ImportError(`${file}: the header (line ${rec.line}) is unreadable: ${rec.problem}`);
          reject(rec.line, rec.problem);
          continue;
        }
        record = rec.fields;
        if (header === undefined) {
          if (kind === 'opposition') {
            header = ['number'];
            index = new Map([['number', 0]]);
            session = await store.beginImport(kind, { asOf: opts.asOf });
            if (record.length === 1 && record[0].trim().toLowerCase() === 'number') continue;
          } else {
            header = checkHeader(kind, file, record);
            index = new Map(header.map((h, i) => [h, i]));
            session = await store.beginImport(kind);
            continue;
          }
        }
        if (record.length !== header.length) {
          reject(rec.line, `expected ${header.length} column(s) (${header.join(',')}), got ${record.length}`);
          continue;
        }
        try {
          if (kind === 'consent') consentValuesOf(get, batch as ConsentValue[], pro);
          else
            batch.push(
              kind === 'contract'
                ? contractOf(get, pro)
                : kind === 'dnc'
                  ? dncOf(get, opts.now, pro)
                  : e164Of(required(get, 'number')),
            );
        } catch (err) {
          if (!(err instanceof LineError)) throw err;
          reject(rec.line, err.message);
          continue;
        }
        report.lines++;
        report.imported++;
        if (batch.length >= BATCH * width) {
          await writeBatch(session as ImportSession, kind, batch);
          batch.length = 0; // the session has copied the values (SQLite binds them synchronously)
        }
      }
    }
    if (header === undefined)
      throw new ImportError(`${file} is empty: expected a header line and at least one data line`);
    if (report.lines === 0) throw new ImportError(`${file} has a header but no data lines`);
    if (report.rejected / report.lines > maxRatio) {
      const first = report.errors
        .slice(0, 3)
        .map((e) => `line ${e.line}: ${e.message}`)
        .join('; ');
      throw new ImportError(
        `${file}: ${report.rejected} of ${report.lines} lines are invalid (more than ${Math.round(maxRatio * 100)} %), so nothing was imported; first problems: ${first}`,
        { ...report },
      );
    }
    if (batch.length > 0) await writeBatch(session as ImportSession, kind, batch);
    const written = await (session as ImportSession).commit();
    report.imported = written.inserted;
    report.duplicates = written.duplicates;
    return report;
  } catch (err) {
    input.destroy();
    if (session) await session.rollback().catch(() => undefined);
    if (err instanceof ImportError) throw err;
    throw new ImportError(`${file}: ${(err as Error).message}; nothing was imported`, undefined, { cause: err });
  }
}
