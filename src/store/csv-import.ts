/**
 * Streaming CSV imports of the facts the rules need: consents (C. consom.
 * L. 223-1 al. 1, R. 223-1..3: prior, specific, provable consent), contracts
 * (L. 223-1 al. 4 exception), the internal do-not-call list (RGPD art. 21) and
 * the legacy national opposition list (L. 223-1, 2020 wording; OPP-2 needs its
 * date, hence `asOf`).
 *
 * One CSV engine, csv-parse; one set of row checks, ./rows.ts, the same as the
 * command line's. The file is streamed, never held in memory: a LineGuard stage
 * sees each physical line first, then csv-parse reads the fields, then the rows
 * go, in batches, to one ImportSession committed at the end. So a file that
 * fails as a whole (unreadable, empty, wrong header, too many bad lines)
 * changes nothing, and a bad line is rejected with its line number, alone.
 *
 * Why the LineGuard: a line is a record here (a quoted field may hold commas,
 * not a newline), but csv-parse, given a broken quote, reads on across lines:
 * after `0612345678,"acme"x,…` it swallows the next line into the same record.
 * So before csv-parse sees them, the guard replaces every line whose quotes are
 * broken, and every line longer than MAX_LINE_BYTES (memory stays bounded
 * whatever a field holds), by a one-field marker line that keeps the line's
 * place; the importer rejects the marker with its reason. Every physical line is
 * then exactly one record, which also gives each record its line number without
 * csv-parse's per-record `info` (which doubles its cost). The guard also refuses
 * a file that is not UTF-8, as a whole (see below), and drops a leading BOM.
 *
 * Formats: header row required, columns by name in any order (opposition: one
 * number per line, an optional `number` header). Dates: core's one date parser
 * (src/core/instant.ts): a date alone means 00:00 Europe/Paris, a date-time
 * without offset is Paris time. A blank field is an absent one.
 *
 * Refused as a whole: a file that is not UTF-8 (named by its first bad line;
 * a decoder would store U+FFFD in the proofs silently), a semicolon-separated
 * or UTF-16 file (French Excel), with the fix. With `professionals` given, a
 * line naming an undeclared professional is a rejected line.
 *
 * Rows are merged into the store on their natural key (ImportCommitResult in
 * src/gate/store.ts): a line that now carries a withdrawal, a shorter validity
 * or a contract end updates the stored row; nothing an older file says undoes it.
 */
import { parse, type Parser } from 'csv-parse';
import { isUtf8 } from 'node:buffer';
import * as fs from 'node:fs';
import { pipeline, Transform, type TransformCallback } from 'node:stream';
import { quoteValue } from '../core/quote';
import { CallgateError } from '../errors';
import type { ConsentRow, ContractRow, DncRow, ImportKind, ImportSession, Store } from '../gate/store';
import {
  CATEGORY_SEPARATOR,
  CONSENT_WIDTH,
  decodeCategories,
  type ConsentValue,
  type ConsentValuesSession,
} from './memory/common';
import { consentOf, contractOf, CSV_ROWS, dncOf, required, RowError, type RowContext, subscriberNumber } from './rows';

export type ImportReport = {
  kind: ImportKind;
  file: string;
  /** Data lines read (blank lines and the header not counted) = inserted + updated + unchanged + rejected. */
  lines: number;
  /** Rows new to the store. */
  inserted: number;
  /**
   * Rows merged into a stored one (same natural key: consent number, professional,
   * collected_at, categories; contract number, professional, start, categories; dnc
   * number, professional), or into an earlier line of the file, that changed it: a
   * withdrawal, a shorter validity, a contract end… (ImportCommitResult says which fields
   * move and how).
   */
  updated: number;
  /** Valid lines that changed nothing (importing the same file twice: every line). */
  unchanged: number;
  rejected: number;
  /** The first 100 rejected lines. */
  errors: { line: number; message: string }[];
};

export type ImportOptions = {
  /** The import instant (dnc rows, which have no date of their own, are dated by it). */
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
export class ImportError extends CallgateError {
  declare readonly code: 'CG_ERR_IMPORT';
  constructor(
    message: string,
    /** The partial report when the file was read to the end (too many rejected lines). */
    readonly report?: ImportReport,
    options?: { cause?: unknown },
  ) {
    super('CG_ERR_IMPORT', `CG_ERR_IMPORT: ${message}`, options);
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
    // a contract must say what it is about (L. 223-1 al. 4), as `contract add --categories` does
    required: ['number', 'professional', 'categories', 'start'],
  },
  dnc: { all: ['number', 'professional', 'reason'], required: ['number'] },
  opposition: { all: ['number'], required: ['number'] },
};

/** A file name in a message: quoted and escaped like any value given, with room for a long path. */
export const shownFile = (file: string): string => quoteValue(file, 240);

const BATCH = 2000;
const MAX_ERRORS = 100;
/** A longer line is rejected (its bytes are skipped, never held): no field of these files is that long. */
export const MAX_LINE_BYTES = 16 * 1024;

// ------------------------------------------------------------------ the line guard

/** Messages of the lines LineGuard replaced, by the marker letter after U+0001. */
const BAD_LINES: Record<string, string> = {
  U: 'unterminated quoted field (a field opened with " is not closed on this line)',
  C: 'a closing quote must be followed by a comma or the end of the line',
  Q: 'a quote inside an unquoted field: quote the whole field and double the inner quotes ("a ""b"" c")',
  L: `the line is longer than ${MAX_LINE_BYTES} bytes: no field of an import is that long (is a text pasted into one, or is this the right file?)`,
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
 * The stage between the file and csv-parse (see the header): checks that the file is UTF-8,
 * drops a leading BOM, and replaces each line that csv-parse could not read alone (broken
 * quotes) or that is too long by a marker line `\u0001<letter>`, keeping its line ending so
 * that lines stay where they were. Holds at most one incomplete line of MAX_LINE_BYTES.
 *
 * UTF-8: decoders replace invalid bytes by U+FFFD without a word, so a Latin-1 "café" would be
 * stored as "caf\uFFFD" in the proof of consent. The whole file is refused, not the line: the
 * encoding is a property of the file (every accented character of it is misread, not only the
 * first one found), and it is fixed by saving the file once more, not by correcting lines.
 * Complete lines are validated (a newline byte never occurs inside a UTF-8 sequence), so chunk
 * boundaries do not matter.
 */
class LineGuard extends Transform {
  /** The incomplete last line of the previous chunk (at most MAX_LINE_BYTES). */
  private carry: Buffer | undefined;
  /** The current line is too long: its bytes are dropped up to its newline. */
  private skipping = false;
  private first = true;
  /** File offset of the first byte not yet passed on (the start of `carry`). */
  private offset = 0;

  constructor(private readonly file: string) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      cb(null, this.lines(chunk, false));
    } catch (err) {
      cb(err as Error);
    }
  }

  override _flush(cb: TransformCallback): void {
    try {
      cb(null, this.lines(Buffer.alloc(0), true));
    } catch (err) {
      cb(err as Error);
    }
  }

  private lines(chunk: Buffer, atEnd: boolean): Buffer | undefined {
    let buf = chunk;
    if (this.first && (buf.length >= 3 || atEnd)) {
      this.first = false;
      if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) {
        buf = buf.subarray(3);
        this.offset += 3;
      }
    }
    const out: Buffer[] = [];
    if (this.skipping) {
      // the rest of a line already replaced by its marker: dropped up to its newline
      const nl = buf.indexOf(10);
      if (nl === -1) {
        this.offset += buf.length;
        if (atEnd) this.skipping = false;
        return undefined;
      }
      this.skipping = false;
      this.offset += nl;
      buf = buf.subarray(nl); // from the newline on, which ends the marker line
    }
    if (this.carry) buf = Buffer.concat([this.carry, buf]);
    this.carry = undefined;
    const last = atEnd ? buf.length - 1 : buf.lastIndexOf(10);
    if (last === -1 || buf.length === 0) {
      if (buf.length > MAX_LINE_BYTES) {
        // a line longer than the limit: drop it up to its newline, leave its marker
        this.skipping = !atEnd;
        this.offset += buf.length;
        out.push(Buffer.from(MARK + 'L'));
      } else this.carry = buf.length > 0 ? buf : undefined;
      return out.length === 0 ? undefined : Buffer.concat(out);
    }
    const complete = buf.subarray(0, last + 1);
    const rest = buf.subarray(last + 1);
    if (!isUtf8(complete)) this.notUtf8(complete);
    out.push(this.guard(complete));
    this.offset += complete.length;
    if (rest.length > MAX_LINE_BYTES) {
      this.skipping = true;
      this.offset += rest.length;
      out.push(Buffer.from(MARK + 'L'));
    } else if (rest.length > 0) this.carry = Buffer.from(rest);
    return out.length === 1 ? out[0] : Buffer.concat(out);
  }

  /** `part` with its too-long and badly quoted lines replaced by markers (untouched when it has none). */
  private guard(part: Buffer): Buffer {
    const hasQuote = part.indexOf(34) !== -1;
    if (!hasQuote && part.length <= MAX_LINE_BYTES) return part;
    let pieces: Buffer[] | undefined;
    let start = 0;
    let kept = 0;
    while (start < part.length) {
      let nl = part.indexOf(10, start);
      if (nl === -1) nl = part.length;
      const end = nl > start && part[nl - 1] === 13 ? nl - 1 : nl;
      let problem: string | undefined;
      if (end - start > MAX_LINE_BYTES) problem = 'L';
      else if (hasQuote) {
        const q = part.indexOf(34, start);
        if (q !== -1 && q < end) problem = quoteProblem(part, start, end);
      }
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

  private notUtf8(bytes: Buffer): never {
    let start = 0;
    for (;;) {
      let nl = bytes.indexOf(10, start);
      if (nl === -1) nl = bytes.length - 1;
      const line = bytes.subarray(start, nl + 1);
      if (!isUtf8(line)) {
        throw new ImportError(
          `${shownFile(this.file)}: line ${lineAt(this.file, this.offset + start)} is not UTF-8 ("${showBadBytes(line)}"); the file must be UTF-8 and looks like Latin-1 or Windows-1252 (Excel's plain "CSV"): ${SAVE_AS_UTF8}; nothing was imported`,
        );
      }
      start = nl + 1;
    }
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
    throw new ImportError(`${shownFile(file)} is UTF-16 text (Excel's "Unicode text"), not UTF-8 CSV; ${SAVE_AS_UTF8}`);
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
      `${shownFile(file)}: the ${what} ${JSON.stringify(first.length > 120 ? first.slice(0, 120) + '…' : first)} is separated by semicolons (Excel's default in French); the importer reads commas: export the file with commas as the field separator (LibreOffice: Save As > Text CSV > Edit filter settings > field delimiter ","; or replace every ; by , in a text editor when no field contains a comma or a semicolon), then import it again; nothing was imported`,
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

// ------------------------------------------------------------------ records

/** The records of a parser, as many as it has at a time (one promise per batch, not per record). */
async function* recordBatches(parser: Parser): AsyncGenerator<string[][]> {
  let error: Error | undefined;
  let ended = false;
  let wake: (() => void) | undefined;
  const kick = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  parser.on('readable', kick);
  parser.on('end', () => {
    ended = true;
    kick();
  });
  parser.on('error', (err) => {
    error = err;
    kick();
  });
  for (;;) {
    if (error) throw error;
    const batch: string[][] = [];
    let r: string[] | null;
    while ((r = parser.read() as string[] | null) !== null) batch.push(r);
    if (batch.length > 0) yield batch;
    else if (ended) return;
    else await new Promise<void>((resolve) => (wake = resolve));
  }
}

/** The file through the guard into csv-parse: one record per physical line, empty lines as [''] (see the header). */
function parsedLines(input: fs.ReadStream, file: string): Parser {
  const parser = parse({ record_delimiter: ['\r\n', '\n'], relax_column_count: true });
  pipeline(input, new LineGuard(file), parser, () => undefined); // an error destroys the parser with it
  return parser;
}

// ------------------------------------------------------------------ rows

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

type Get = (col: string) => string | undefined;

/** One line, checked (./rows.ts), appended to `batch`: CONSENT_WIDTH flat values for a consent, one row otherwise. */
function addLine(kind: ImportKind, get: Get, ctx: RowContext, now: Date, batch: unknown[]): void {
  switch (kind) {
    case 'consent': {
      const c = consentOf(ctx, {
        number: get('number'),
        professional: get('professional'),
        categories: get('categories'),
        collectedAt: get('collected_at'),
        validUntil: get('valid_until'),
        slot: get('slot'),
        source: get('source'),
        withdrawnAt: get('withdrawn_at'),
        automated: get('automated'),
      });
      batch.push(
        c.e164,
        c.professional,
        c.categories.join(CATEGORY_SEPARATOR),
        c.collectedAt,
        c.validUntil,
        c.slot,
        c.source,
        c.withdrawnAt,
        c.automated === null ? null : c.automated ? 1 : 0,
      );
      return;
    }
    case 'contract': {
      const k = contractOf(ctx, {
        number: get('number'),
        professional: get('professional'),
        categories: get('categories'),
        start: get('start'),
        end: get('end'),
      });
      const row: ContractRow = {
        e164: k.e164,
        professional: k.professional,
        categories: k.categories,
        start: new Date(k.start),
      };
      if (k.end !== null) row.end = new Date(k.end);
      batch.push(row);
      return;
    }
    case 'dnc': {
      const d = dncOf(ctx, { number: get('number'), professional: get('professional'), reason: get('reason') });
      const row: DncRow = { e164: d.e164, addedAt: now };
      if (d.professional !== null) row.professional = d.professional;
      if (d.reason !== null) row.reason = d.reason;
      batch.push(row);
      return;
    }
    case 'opposition':
      batch.push(subscriberNumber(ctx, required(ctx, 'number', get('number'))));
  }
}

// ------------------------------------------------------------------ import

function checkHeader(kind: ImportKind, file: string, header: string[]): string[] {
  const names = header.map((h) => h.trim().toLowerCase());
  const spec = COLUMNS[kind];
  const unknown = names.filter((n) => !spec.all.includes(n));
  if (unknown.length > 0) {
    throw new ImportError(
      `${shownFile(file)}: unknown column(s) ${unknown
        .slice(0, 10)
        .map((u) => quoteValue(u))
        .join(
          ', ',
        )}${unknown.length > 10 ? ', …' : ''} in the header; a ${kind} file has the columns ${spec.all.join(',')} (required: ${spec.required.join(', ')})`,
    );
  }
  const dup = names.filter((n, i) => names.indexOf(n) !== i);
  if (dup.length > 0)
    throw new ImportError(`${shownFile(file)}: column(s) ${[...new Set(dup)].join(', ')} appear twice in the header`);
  const missing = spec.required.filter((r) => !names.includes(r));
  if (missing.length > 0) {
    throw new ImportError(
      `${shownFile(file)}: the header lacks the required column(s) ${missing.join(', ')}; a ${kind} file needs ${spec.required.join(', ')}`,
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
    throw new ImportError(`cannot read ${shownFile(file)}: ${(err as Error).message}`, undefined, { cause: err });
  }
  if (!st.isFile()) throw new ImportError(`${shownFile(file)} is not a regular file`);
  if (st.size === 0)
    throw new ImportError(`${shownFile(file)} is empty: expected a header line and at least one data line`);
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
    throw new ImportError(`unknown import kind ${quoteValue(kind)}; use consent, contract, dnc or opposition`);
  if (kind === 'opposition' && !(opts.asOf instanceof Date && Number.isFinite(opts.asOf.getTime()))) {
    throw new ImportError(
      'an opposition list import needs its date (asOf, e.g. --as-of 2026-05-01): OPP-2 refuses to screen with a list older than 30 days',
    );
  }
  const maxRatio = opts.maxRejectedRatio ?? 0.5;
  const ctx: RowContext = opts.professionals ? { ...CSV_ROWS, professionals: opts.professionals } : CSV_ROWS;
  const report: ImportReport = {
    kind,
    file,
    lines: 0,
    inserted: 0,
    updated: 0,
    unchanged: 0,
    rejected: 0,
    errors: [],
  };
  const reject = (line: number, message: string) => {
    report.lines++;
    report.rejected++;
    if (report.errors.length < MAX_ERRORS) report.errors.push({ line, message });
  };

  const input = openInput(file, kind);
  const parser = parsedLines(input, file);
  let session: ImportSession | undefined;
  let header: string[] | undefined;
  let index: Map<string, number> = new Map();
  let record: string[] = [];
  // a blank field is an absent one (rows.ts)
  const get: Get = (col) => {
    const i = index.get(col);
    if (i === undefined) return undefined;
    const v = record[i];
    return v === undefined || v === '' || (v.charCodeAt(0) <= 32 && v.trim() === '') ? undefined : v;
  };
  // consent: CONSENT_WIDTH flat values per row; the other kinds: one object (or number) per row
  const width = kind === 'consent' ? CONSENT_WIDTH : 1;
  const batch: unknown[] = [];
  let line = 0;
  try {
    for await (const records of recordBatches(parser)) {
      for (const rec of records) {
        line++;
        if (rec.length === 1) {
          const only = rec[0]!;
          if (only === '') continue; // a blank line
          if (only.charCodeAt(0) === 1 && only.length === 2) {
            const problem = BAD_LINES[only[1]!] ?? 'unreadable line';
            // a broken header is not a bad data line: the next line must not be read as the header
            if (header === undefined && kind !== 'opposition')
              throw new ImportError(`${shownFile(file)}: the header (line ${line}) is unreadable: ${problem}`);
            reject(line, problem);
            continue;
          }
        }
        record = rec;
        if (header === undefined) {
          if (kind === 'opposition') {
            header = ['number'];
            index = new Map([['number', 0]]);
            session = await store.beginImport(kind, { asOf: opts.asOf });
            if (record.length === 1 && record[0]!.trim().toLowerCase() === 'number') continue;
          } else {
            header = checkHeader(kind, file, record);
            index = new Map(header.map((h, i) => [h, i]));
            session = await store.beginImport(kind);
            continue;
          }
        }
        if (record.length !== header.length) {
          reject(line, `expected ${header.length} column(s) (${header.join(',')}), got ${record.length}`);
          continue;
        }
        try {
          addLine(kind, get, ctx, opts.now, batch);
        } catch (err) {
          if (!(err instanceof RowError)) throw err;
          reject(line, err.message);
          continue;
        }
        report.lines++;
        if (batch.length >= BATCH * width) {
          await writeBatch(session as ImportSession, kind, batch);
          batch.length = 0; // the session has copied the values (SQLite binds them synchronously)
        }
      }
    }
    if (header === undefined)
      throw new ImportError(`${shownFile(file)} is empty: expected a header line and at least one data line`);
    if (report.lines === 0) throw new ImportError(`${shownFile(file)} has a header but no data lines`);
    if (report.rejected / report.lines > maxRatio) {
      const first = report.errors
        .slice(0, 3)
        .map((e) => `line ${e.line}: ${e.message}`)
        .join('; ');
      throw new ImportError(
        `${shownFile(file)}: ${report.rejected} of ${report.lines} lines are invalid (more than ${Math.round(maxRatio * 100)} %), so nothing was imported; first problems: ${first}`,
        { ...report },
      );
    }
    if (batch.length > 0) await writeBatch(session as ImportSession, kind, batch);
    const written = await (session as ImportSession).commit();
    report.inserted = written.inserted;
    report.updated = written.updated;
    report.unchanged = written.unchanged;
    return report;
  } catch (err) {
    parser.destroy();
    input.destroy();
    if (session) await session.rollback().catch(() => undefined);
    if (err instanceof ImportError) throw err;
    throw new ImportError(`${shownFile(file)}: ${(err as Error).message}; nothing was imported`, undefined, {
      cause: err,
    });
  }
}
