/**
 * Hostile CSV files, property-based (issue 14.4): random bytes, broken quotes, huge fields, invalid
 * UTF-8, stray separators. The importer (src/store/csv-import.ts) answers with a report that names
 * each refused line, or refuses the whole file with CG_ERR_IMPORT; it never throws anything else,
 * never stores a refused line, and a refused file changes nothing.
 */
import fc from 'fast-check';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ImportError, importFile } from '../../src/store/csv-import';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store';
import { runs } from './seed';

const now = new Date('2026-10-01T08:00:00Z');
let dir: string;
let store: SqliteStore;
let n = 0;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'callgate-csv-prop-'));
  store = SqliteStore.open(path.join(dir, 'store.db'));
});
afterAll(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const consents = () =>
  store.db.prepare('SELECT e164, source FROM consents ORDER BY e164').all() as Array<{
    e164: string;
    source: string | null;
  }>;

/** Imports `bytes` as a consent file; the report, or the ImportError (anything else fails the test). */
async function importBytes(
  bytes: Buffer,
): Promise<{ report?: Awaited<ReturnType<typeof importFile>>; error?: ImportError }> {
  const file = path.join(dir, `f${n++}.csv`);
  fs.writeFileSync(file, bytes);
  try {
    return { report: await importFile(store, 'consent', file, { now, professionals: ['acme'] }) };
  } catch (e) {
    if (!(e instanceof ImportError)) throw new Error(`importFile threw ${String(e)}`, { cause: e });
    expect(e.code).toBe('CG_ERR_IMPORT');
    expect(e.message.length).toBeGreaterThan(20);
    return { error: e };
  } finally {
    fs.rmSync(file);
  }
}

/** The tail of a line after its number: a valid one, or something hostile (never a newline). */
const noNewline = (b: Uint8Array) => Buffer.from(b.filter((x) => x !== 0x0a && x !== 0x0d));
const tail = fc
  .oneof(
    {
      weight: 4,
      arbitrary: fc.constantFrom(
        ',acme,2026-09-01,ok',
        ',acme,2026-09-01T10:00,"a, b"',
        ',acme,2026-09-01,"say ""hi"""',
      ),
    },
    {
      weight: 2,
      arbitrary: fc
        .uint8Array({ maxLength: 60 })
        .map((b) => Buffer.concat([Buffer.from(',acme,2026-09-01,'), noNewline(b)])),
    },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }).map(noNewline) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        ',acme,2026-09-01,"open',
        ',acme,2026-09-01,"closed"x',
        ',acme,2026-09-01,in"side',
        ',acme,2026-09-01,' + 'x'.repeat(17_000),
        ',acme,2026-09-01,"' + 'y'.repeat(20_000) + '"',
        ',acme,2026-09-01,\xff\xfe',
        ',acme,2026-13-45,ok',
        ',acme',
        ',acme,2026-09-01,ok,extra',
        ',nobody,2026-09-01,ok',
        ';acme;2026-09-01;ok',
        ',acme,2026-09-01,\u0000',
      ),
    },
  )
  .map((t) => (typeof t === 'string' ? Buffer.from(t, 'latin1') : t));

test('each line alone: stored whole when accepted, absent when refused (with its line number), or the whole file refused with nothing stored', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(tail, { minLength: 1, maxLength: 12 }), fc.boolean(), async (tails, crlf) => {
      store.db.exec('DELETE FROM consents');
      const nl = Buffer.from(crlf ? '\r\n' : '\n');
      const numbers = tails.map((_, i) => `+336200${String(i).padStart(5, '0')}`);
      const lines = [
        Buffer.from('number,professional,collected_at,source'),
        ...tails.map((t, i) => Buffer.concat([Buffer.from(numbers[i]!), t])),
      ];
      const { report, error } = await importBytes(Buffer.concat(lines.flatMap((l) => [l, nl])));
      const stored = consents();
      if (error) return void expect(stored).toEqual([]);
      const refused = new Set(report!.errors.map((e) => e.line));
      expect(report!.rejected).toBe(refused.size); // fewer than 100 lines: every refused line is listed
      for (const e of report!.errors) expect(e.message.length).toBeGreaterThan(5);
      const accepted = numbers.filter((_, i) => !refused.has(i + 2));
      expect(stored.map((s) => s.e164).sort()).toEqual([...new Set(accepted)].sort());
      expect(report!.inserted).toBe(accepted.length);
      // a stored source is what its line said, never U+FFFD standing for bytes that were not UTF-8
      for (const s of stored) expect(s.source ?? '').not.toContain('\uFFFD');
    }),
    runs(60),
  );
});

test('random bytes as a whole file: a report or CG_ERR_IMPORT, and a refused file stores nothing', async () => {
  const header = fc.constantFrom(
    '',
    'number,professional,collected_at\n',
    'number,professional,collected_at,source\r\n',
    '\ufeffnumber,professional,collected_at\n',
    '"number,professional\n',
  );
  await fc.assert(
    fc.asyncProperty(header, fc.uint8Array({ maxLength: 3000 }), async (h, body) => {
      store.db.exec('DELETE FROM consents');
      const { report, error } = await importBytes(Buffer.concat([Buffer.from(h), Buffer.from(body)]));
      const stored = consents();
      if (error) return void expect(stored).toEqual([]);
      expect(stored.length).toBe(report!.inserted);
      expect(report!.lines).toBe(report!.inserted + report!.updated + report!.unchanged + report!.rejected);
    }),
    runs(80),
  );
});
