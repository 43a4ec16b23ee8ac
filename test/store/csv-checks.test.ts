/**
 * The importer's checks against the config and against files in the wrong
 * shape for a CSV import: undeclared professionals (a line), semicolon-separated
 * files and files that are not UTF-8 (the whole file). Both tokenizers.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ImportError, importFile } from '../../src/store/csv-import';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store';

let dir: string;
let store: SqliteStore;
const now = new Date('2026-10-01T08:00:00Z');
const professionals = ['acme', 'globex'];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'callgate-csvchk-'));
  store = SqliteStore.open(path.join(dir, 'store.db'), { checkpoint: 'sqlite' });
});
afterEach(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function write(name: string, content: string | Buffer): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, content);
  return f;
}

const rows = (table: string): number => store.db.prepare(`SELECT COUNT(*) FROM ${table}`).pluck().get() as number;

async function refused(kind: Parameters<typeof importFile>[1], file: string): Promise<ImportError> {
  const before = ['consents', 'contracts', 'dnc'].map(rows);
  const err = await importFile(store, kind, file, { now, professionals }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ImportError);
  expect(['consents', 'contracts', 'dnc'].map(rows)).toEqual(before);
  return err as ImportError;
}

describe('csv-parse, behind the line guard', () => {
  describe('professional ids are checked against the config when given', () => {
    test('consent: a line naming an undeclared professional is rejected with its number', async () => {
      const csv = [
        'number,professional,collected_at',
        '0612345678,acme,2026-09-01', // 2
        '0612345679,ghost,2026-09-01', // 3
        '0612345680,globex,2026-09-01', // 4
        '0612345681,Acme,2026-09-01', // 5: ids are case-sensitive, as in the config
      ].join('\n');
      const report = await importFile(store, 'consent', write('c.csv', csv), { now, professionals });
      expect(report).toMatchObject({ lines: 4, inserted: 2, rejected: 2 });
      expect(report.errors).toEqual([
        {
          line: 3,
          message: 'professional: "ghost" is not a professional declared in the config (declared: acme, globex)',
        },
        {
          line: 5,
          message: 'professional: "Acme" is not a professional declared in the config (declared: acme, globex)',
        },
      ]);
      expect(rows('consents')).toBe(2);
    });

    test('without the option nothing is checked (library callers, tests)', async () => {
      const csv = 'number,professional,collected_at\n0612345679,ghost,2026-09-01\n';
      expect(await importFile(store, 'consent', write('c.csv', csv), { now })).toMatchObject({ inserted: 1 });
    });

    test('contract and dnc lines too; a dnc line for every professional (empty column) is not concerned', async () => {
      const k =
        'number,professional,categories,start\n0612345678,acme,energy,2026-01-01\n0612345679,ghost,gas,2026-01-01\n';
      const kr = await importFile(store, 'contract', write('k.csv', k), { now, professionals });
      expect(kr).toMatchObject({ inserted: 1, rejected: 1, errors: [{ line: 3 }] });
      expect(kr.errors[0].message).toMatch(/^professional: "ghost" is not a professional declared/);

      const d = 'number,professional,reason\n0612345678,,complaint\n0612345679,ghost,\n0612345680,globex,\n';
      const dr = await importFile(store, 'dnc', write('d.csv', d), { now, professionals });
      expect(dr).toMatchObject({ lines: 3, inserted: 2, rejected: 1, errors: [{ line: 3 }] });
    });

    test('undeclared professionals count toward the too-many-bad-lines rule', async () => {
      const csv =
        'number,professional,collected_at\n0612345678,acme,2026-09-01\n0612345679,ghost,2026-09-01\n0612345680,ghost,2026-09-01\n';
      const err = await refused('consent', write('c.csv', csv));
      expect(err.message).toMatch(/2 of 3 lines are invalid/);
      expect(err.message).toMatch(/line 3: professional: "ghost" is not a professional declared/);
    });

    test('a config without professionals rejects every named professional', async () => {
      const csv = 'number,professional,collected_at\n0612345678,acme,2026-09-01\n';
      const err = await importFile(store, 'consent', write('c.csv', csv), { now, professionals: [] }).catch(
        (x: unknown) => x as ImportError,
      );
      expect((err as ImportError).report?.errors[0].message).toMatch(/declared: \(none\)/);
    });
  });

  describe('semicolon-separated files (French Excel) are refused as a whole, saying how to fix them', () => {
    test.each([
      ['plain', 'number;professional;collected_at\n0612345678;acme;2026-09-01\n'],
      ['BOM, CRLF, quoted names', '\uFEFF"number";"professional";"collected_at"\r\n0612345678;acme;2026-09-01\r\n'],
    ])('%s', async (_name, csv) => {
      const err = await refused('consent', write('semi.csv', csv));
      expect(err.message).toMatch(/separated by semicolons/);
      expect(err.message).toMatch(/commas/);
      expect(err.message).not.toMatch(/unknown column/);
    });

    test('a semicolon inside a comma-separated header is an unknown column, not a semicolon file', async () => {
      const err = await refused('dnc', write('d.csv', 'number,reason;x\n0612345678,a\n'));
      expect(err.message).toMatch(/unknown column\(s\) "reason;x"/);
    });

    test('an opposition file whose first line has semicolons', async () => {
      const err = await importFile(store, 'opposition', write('o.csv', 'number;date\n0612345678;2026-09-01\n'), {
        now,
        asOf: now,
      }).catch((x: unknown) => x as ImportError);
      expect(err).toBeInstanceOf(ImportError);
      expect((err as ImportError).message).toMatch(/separated by semicolons/);
    });
  });

  test('a header with broken quotes refuses the file (the first data line is not taken as the header)', async () => {
    const csv = 'number,"professional,collected_at\n0612345678,acme,2026-09-01\n0612345679,acme,2026-09-01\n';
    const err = await refused('consent', write('h.csv', csv));
    expect(err.message).toMatch(/the header \(line 1\) is unreadable: unterminated quoted field/);
    expect(err.message).not.toMatch(/unknown column/);
  });

  describe('a file that is not UTF-8 is refused as a whole, naming the first bad line', () => {
    test('Latin-1 é in a source column', async () => {
      const csv = Buffer.concat([
        Buffer.from('number,professional,collected_at,source\n0612345678,acme,2026-09-01,web\n', 'utf8'),
        Buffer.from('0612345679,acme,2026-09-01,caf\xe9\n', 'latin1'), // line 3
        Buffer.from('0612345680,acme,2026-09-01,web\n', 'utf8'),
      ]);
      const err = await refused('consent', write('latin1.csv', csv));
      expect(err.message).toMatch(/line 3 is not UTF-8/);
      expect(err.message).toContain('caf\\xE9');
      expect(err.message).toMatch(/must be UTF-8/);
      expect(rows('consents')).toBe(0);
    });

    test('the bad line is found past the first read chunk, and a real U+FFFD or accents in UTF-8 are fine', async () => {
      const lines = ['number,professional,collected_at,source'];
      for (let i = 0; i < 40_000; i++)
        lines.push(`+336100${String(i).padStart(5, '0')},acme,2026-09-01,café \uFFFD ok`);
      const good = lines.join('\n') + '\n';
      expect(Buffer.byteLength(good)).toBeGreaterThan(1 << 20); // more than one read chunk (1 MiB);
      const ok = await importFile(store, 'consent', write('utf8.csv', good), { now, professionals });
      expect(ok).toMatchObject({ inserted: 40_000, rejected: 0 });

      const bad = Buffer.concat([
        Buffer.from(good, 'utf8'),
        Buffer.from('0612345679,acme,2026-09-01,\xff\n', 'latin1'),
      ]);
      const err = await refused('consent', write('bad.csv', bad));
      expect(err.message).toMatch(/line 40002 is not UTF-8/);
    });

    test('a UTF-16 file (Excel "Unicode text") is named as such', async () => {
      const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('number\n0612345678\n', 'utf16le')]);
      const err = await refused('dnc', write('u16.csv', utf16));
      expect(err.message).toMatch(/UTF-16/);
      expect(err.message).toMatch(/UTF-8/);
    });

    test('a bad byte in the last line without a final newline', async () => {
      const csv = Buffer.concat([
        Buffer.from('number,reason\n0612345678,ok\n0612345679,', 'utf8'),
        Buffer.from([0xe9]),
      ]);
      const err = await refused('dnc', write('tail.csv', csv));
      expect(err.message).toMatch(/line 3 is not UTF-8/);
    });
  });
});
