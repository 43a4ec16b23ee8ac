import fc from 'fast-check';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MemoryStore } from '../../src/store/memory/memory-store';
import { ImportError, importFile } from '../../src/store/csv-import';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store';

let dir: string;
let store: SqliteStore;
const now = new Date('2026-10-01T08:00:00Z');
const facts = (e164: string, professional = 'acme') =>
  store.getFacts({ e164, professional, at: now, windowStart: new Date(0) });

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'callgate-import-'));
  store = SqliteStore.open(path.join(dir, 'store.db'));
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

function counts(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of ['consents', 'contracts', 'dnc', 'opposition', 'opposition_meta', 'decisions', 'refusals']) {
    out[t] = store.db.prepare(`SELECT COUNT(*) FROM ${t}`).pluck().get() as number;
  }
  return out;
}

async function importFails(
  kind: Parameters<typeof importFile>[1],
  file: string,
  opts: Parameters<typeof importFile>[3] = { now },
): Promise<ImportError> {
  const before = counts();
  const err = await importFile(store, kind, file, opts).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ImportError);
  expect((err as ImportError).code).toBe('CG_ERR_IMPORT');
  expect(counts()).toEqual(before);
  return err as ImportError;
}

async function seed(): Promise<void> {
  await store.addConsent({ e164: '+33600000001', professional: 'acme', categories: [], collectedAt: now });
  await store.addDnc({ e164: '+33600000002', addedAt: now });
  const s = await store.beginImport('opposition', { asOf: new Date('2026-09-01T00:00:00Z') });
  await s.opposition(['+33600000003']);
  await s.commit();
}

describe('csv-parse, behind the line guard', () => {
  describe('consent files', () => {
    test('all columns, any order, BOM, CRLF, quoted fields with commas, national and international numbers', async () => {
      const csv =
        '\ufeffprofessional,number,categories,collected_at,valid_until,slot,source,withdrawn_at,automated\r\n' +
        'acme,06 12 34 56 78,energy|isolation,2026-09-01,2027-03-01T12:00:00Z,2026-10-05T10:30:00+02:00,"web form, page 2",,yes\r\n' +
        'acme,+33698765432,,2026-09-02T09:00:00Z,,,,2026-09-20,0\r\n' +
        '"acme",0596 12 34 56,"a|b",2026-09-03T10:00,,,"said ""yes""",,\r\n';
      const report = await importFile(store, 'consent', write('c.csv', csv), { now });
      expect(report).toEqual({
        kind: 'consent',
        file: path.join(dir, 'c.csv'),
        lines: 3,
        inserted: 3,
        updated: 0,
        unchanged: 0,
        rejected: 0,
        errors: [],
      });
      expect((await facts('+33612345678')).consents).toEqual([
        {
          professional: 'acme',
          categories: ['energy', 'isolation'],
          collectedAt: new Date('2026-08-31T22:00:00Z'), // 00:00 Paris (CEST)
          validUntil: new Date('2027-03-01T12:00:00Z'),
          slot: new Date('2026-10-05T08:30:00Z'),
          source: 'web form, page 2',
          automated: true,
        },
      ]);
      expect((await facts('+33698765432')).consents).toEqual([
        {
          professional: 'acme',
          categories: [],
          collectedAt: new Date('2026-09-02T09:00:00Z'),
          withdrawnAt: new Date('2026-09-19T22:00:00Z'),
          automated: false,
        },
      ]);
      // 0596 is Martinique (FR-RULES section 7), local date-time without offset = Paris time
      expect((await facts('+596596123456')).consents).toEqual([
        {
          professional: 'acme',
          categories: ['a', 'b'],
          collectedAt: new Date('2026-09-03T08:00:00Z'),
          source: 'said "yes"',
        },
      ]);
    });

    test('bad lines are rejected with their line number and the rest is imported', async () => {
      const csv = [
        'number,professional,collected_at,automated',
        '0612345678,acme,2026-09-01,', // 2 ok
        'not-a-number,acme,2026-09-01,', // 3 bad number
        '0612345679,acme,2026-02-30,', // 4 bad date
        '0612345680,,2026-09-01,', // 5 missing professional
        '0612345681,acme,2026-09-01', // 6 wrong column count
        '0612345682,"acme,2026-09-01,', // 7 unterminated quote
        '0612345683,acme,2026-09-01,maybe', // 8 bad boolean
        '',
        '0612345684,acme,2026-09-01T10:00:00+02:00,true', // 10 ok
        '112,acme,2026-09-01,', // 11 emergency code
        '0612345685,acme,2026-09-01,', // 12 ok
        '0612345686,acme,2026-09-01,', // 13 ok
        '0612345687,acme,2026-09-01,', // 14 ok
        '0612345688,acme,2026-09-01,', // 15 ok
        '0612345689,acme,2026-09-01,', // 16 ok, no final newline
      ].join('\n');
      const report = await importFile(store, 'consent', write('bad.csv', csv), { now });
      expect(report.lines).toBe(14);
      expect(report.inserted).toBe(7);
      expect(report.rejected).toBe(7);
      expect(report.errors.map((e) => e.line)).toEqual([3, 4, 5, 6, 7, 8, 11]);
      const msg = (line: number) => report.errors.find((e) => e.line === line)?.message ?? '';
      expect(msg(3)).toMatch(/^number: /);
      expect(msg(4)).toMatch(/collected_at: "2026-02-30" is not a valid date: day 30 does not exist/);
      expect(msg(5)).toMatch(/professional is required/);
      expect(msg(6)).toMatch(/expected 4 column\(s\).*got 3/);
      expect(msg(7)).toMatch(/unterminated quoted field/);
      expect(msg(8)).toMatch(/automated: "maybe" is not a boolean/);
      expect(msg(11)).toMatch(/not a subscriber number/);
      expect((await facts('+33612345678')).consents).toHaveLength(1);
      expect((await facts('+33612345682')).consents).toHaveLength(0);
      expect((await facts('+33612345684')).consents).toEqual([
        { professional: 'acme', categories: [], collectedAt: new Date('2026-09-01T08:00:00Z'), automated: true },
      ]);
      expect((await facts('+33612345689')).consents).toHaveLength(1);
    });

    test('an invalid closing quote is rejected alone too', async () => {
      const csv =
        'number,professional,collected_at\n0612345678,"acme"x,2026-09-01\n0612345679,acme,2026-09-01\n0612345680,acme,2026-09-01\n';
      const report = await importFile(store, 'consent', write('q.csv', csv), { now });
      expect(report).toMatchObject({ lines: 3, inserted: 2, rejected: 1 });
      expect(report.errors).toEqual([
        { line: 2, message: 'a closing quote must be followed by a comma or the end of the line' },
      ]);
      const inner =
        'number,professional,collected_at\r\n0612345678,ac"me,2026-09-01\r\n0612345681,acme,2026-09-01\r\n0612345682,acme,2026-09-01\r\n';
      const r2 = await importFile(store, 'consent', write('q2.csv', inner), { now });
      expect(r2).toMatchObject({
        lines: 3,
        inserted: 2,
        rejected: 1,
        errors: [{ line: 2, message: expect.stringMatching(/a quote inside an unquoted field/) }],
      });
    });

    test('only the first 100 errors are listed', async () => {
      const lines = ['number,professional,collected_at'];
      for (let i = 0; i < 150; i++) lines.push(`bad${i},acme,2026-09-01`);
      for (let i = 0; i < 200; i++) lines.push(`+336100${String(i).padStart(5, '0')},acme,2026-09-01`);
      const report = await importFile(store, 'consent', write('many.csv', lines.join('\n')), { now });
      expect(report).toMatchObject({ lines: 350, inserted: 200, rejected: 150 });
      expect(report.errors).toHaveLength(100);
      expect(report.errors[99].line).toBe(101);
    });
  });

  describe('whole-file failures change nothing', () => {
    beforeEach(seed);

    test('missing file, directory, empty file, blank file, header only', async () => {
      expect((await importFails('consent', path.join(dir, 'nope.csv'))).message).toMatch(/cannot read .*nope\.csv/);
      expect((await importFails('consent', dir)).message).toMatch(/is not a regular file/);
      expect((await importFails('consent', write('empty.csv', ''))).message).toMatch(/is empty/);
      expect((await importFails('consent', write('blank.csv', '\n\r\n\n'))).message).toMatch(/is empty/);
      expect((await importFails('dnc', write('header.csv', 'number,reason\n'))).message).toMatch(
        /has a header but no data lines/,
      );
    });

    test('unknown columns are all listed; a missing required column is named', async () => {
      const err = await importFails(
        'consent',
        write('h.csv', 'number,professional,collected_at,phone,Email\n0612345678,acme,2026-09-01,x,y\n'),
      );
      expect(err.message).toMatch(/unknown column\(s\) "phone", "email"/);
      expect(err.message).toContain(
        'number,professional,categories,collected_at,valid_until,slot,source,withdrawn_at,automated',
      );
      const missing = await importFails('contract', write('m.csv', 'number,categories\n0612345678,a\n'));
      expect(missing.message).toMatch(/lacks the required column\(s\) professional, start/);
      expect((await importFails('dnc', write('d.csv', 'number,number\n1,2\n'))).message).toMatch(/appear twice/);
    });

    test('more bad lines than maxRejectedRatio rejects the whole file, with the report', async () => {
      const csv = 'number\n0612345678\nbad\nworse\n';
      const err = await importFails('dnc', write('r.csv', csv));
      expect(err.message).toMatch(/2 of 3 lines are invalid/);
      expect(err.report).toMatchObject({ lines: 3, inserted: 0, rejected: 2 }); // nothing was written
      // the same file passes with a laxer ratio
      const ok = await importFile(store, 'dnc', write('r2.csv', csv), { now, maxRejectedRatio: 0.7 });
      expect(ok).toMatchObject({ inserted: 1, rejected: 2 });
    });

    test('a failing file in the memory store changes nothing either', async () => {
      const mem = new MemoryStore();
      await expect(
        importFile(mem, 'dnc', write('r.csv', 'number\n0612345678\nbad\nworse\n'), { now }),
      ).rejects.toBeInstanceOf(ImportError);
      expect((await mem.history('+33612345678')).dnc).toEqual([]);
      const ok = await importFile(
        mem,
        'dnc',
        write('ok.csv', 'number,professional,reason\n0612345678,,asked\n0612345679,acme,\n'),
        { now },
      );
      expect(ok).toMatchObject({ inserted: 2, rejected: 0 });
      expect((await mem.history('+33612345678')).dnc).toEqual([
        { e164: '+33612345678', addedAt: now, reason: 'asked' },
      ]);
    });

    test('opposition without asOf is refused before reading', async () => {
      expect((await importFails('opposition', write('o.csv', '0612345678\n'))).message).toMatch(/needs its date/);
    });
  });

  describe('contract, dnc and opposition files', () => {
    test('contracts: end before start is a bad line', async () => {
      const csv =
        'number,professional,categories,start,end\n0612345678,acme,energy,2026-01-01,\n0612345679,acme,gas,2026-05-01,2026-04-01\n0612345680,acme,gas,2026-05-01,2026-06-01\n0612345681,acme,gas,2026-05-01,2026-05-01\n0612345682,acme,,2026-05-01,\n';
      const report = await importFile(store, 'contract', write('k.csv', csv), { now, maxRejectedRatio: 0.7 });
      expect(report).toMatchObject({
        inserted: 2,
        rejected: 3,
        errors: [
          { line: 3, message: 'end: "2026-04-01" is not after start "2026-05-01"; a contract ends after it starts' },
          { line: 5, message: expect.stringMatching(/^end: "2026-05-01" is not after start/) },
          { line: 6, message: expect.stringMatching(/^categories is required for a contract/) },
        ],
      });
      expect((await facts('+33612345678')).contracts).toEqual([
        { professional: 'acme', categories: ['energy'], start: new Date('2025-12-31T23:00:00Z') },
      ]);
    });

    test('dnc: global and per-professional entries dated by the import', async () => {
      const report = await importFile(
        store,
        'dnc',
        write('d.csv', 'reason,number,professional\ncomplaint,0612345678,\n,0612345678,globex\n'),
        { now },
      );
      expect(report).toMatchObject({ inserted: 2, rejected: 0 });
      expect((await facts('+33612345678')).dnc).toEqual([{ addedAt: now, reason: 'complaint' }]);
      expect((await facts('+33612345678', 'globex')).dnc).toHaveLength(2);
    });

    test('opposition: one number per line, optional header, replaces the list with its date', async () => {
      await seed();
      const asOf = new Date('2026-09-15T00:00:00Z');
      const report = await importFile(
        store,
        'opposition',
        write('o.csv', 'number\r\n06 12 34 56 78\r\n+33698765432\r\nxx\r\n'),
        { now, asOf },
      );
      expect(report).toMatchObject({ kind: 'opposition', lines: 3, inserted: 2, rejected: 1, errors: [{ line: 4 }] });
      expect((await facts('+33612345678')).opposition).toEqual({ listed: true, asOf });
      expect((await facts('+33600000003')).opposition).toEqual({ listed: false, asOf });
      const noHeader = await importFile(store, 'opposition', write('o2.csv', '0600000003\n'), {
        now,
        asOf: new Date('2026-09-20T00:00:00Z'),
      });
      expect(noHeader).toMatchObject({ lines: 1, inserted: 1 });
      expect((await facts('+33600000003')).opposition.listed).toBe(true);
      expect((await facts('+33612345678')).opposition.listed).toBe(false);
    });
  });

  test('a consent file gives the same rows in the memory store (row objects) as in SQLite (flat fast path)', async () => {
    const csv =
      'automated,number,withdrawn_at,professional,categories,collected_at,valid_until,slot,source\n' +
      'yes,0612345678,,acme,a| b ,2026-09-01,2027-03-01T12:00:00+01:00,2026-10-02T10:00,"web, form"\n' +
      ',0612345678,2026-09-20T08:00Z,globex,,2026-09-02T10:00:00.250Z,,,\n' +
      'no,0612345678,,acme,c,2026-09-03,,,\n';
    const file = write('same.csv', csv);
    const mem = new MemoryStore();
    const fromMem = await importFile(mem, 'consent', file, { now });
    const fromSqlite = await importFile(store, 'consent', file, { now });
    expect(fromMem).toEqual(fromSqlite);
    expect(fromSqlite).toMatchObject({ inserted: 3, updated: 0, unchanged: 0, rejected: 0 });
    const consents = (await store.history('+33612345678')).consents;
    expect((await mem.history('+33612345678')).consents).toEqual(consents);
    expect(consents).toEqual([
      {
        e164: '+33612345678',
        professional: 'acme',
        categories: ['a', 'b'],
        collectedAt: new Date('2026-08-31T22:00:00Z'),
        validUntil: new Date('2027-03-01T11:00:00Z'),
        slot: new Date('2026-10-02T08:00:00Z'),
        source: 'web, form',
        automated: true,
      },
      {
        e164: '+33612345678',
        professional: 'globex',
        categories: [],
        collectedAt: new Date('2026-09-02T10:00:00.250Z'),
        withdrawnAt: new Date('2026-09-20T08:00:00Z'),
      },
      {
        e164: '+33612345678',
        professional: 'acme',
        categories: ['c'],
        collectedAt: new Date('2026-09-02T22:00:00Z'),
        automated: false,
      },
    ]);
  });

  test('importing the same file twice changes nothing the second time: every line unchanged', async () => {
    const files = {
      consent:
        'number,professional,categories,collected_at,source\n0612345678,acme,a|b,2026-09-01,web\n0612345679,acme,,2026-09-01T10:00Z,web\n+33612345678,acme,a|b,2026-09-01,"same key, other source"\n',
      contract:
        'number,professional,categories,start,end\n0612345678,acme,x,2026-01-01,\n0612345678,acme,x,2026-02-01,2026-12-31\n',
      dnc: 'number,professional,reason\n0612345678,,asked\n0612345678,acme,\n06 12 34 56 78,,again\n',
    } as const;
    for (const [kind, csv] of Object.entries(files) as [keyof typeof files, string][]) {
      const file = write(`${kind}-twice.csv`, csv);
      const first = await importFile(store, kind, file, { now });
      expect(first).toMatchObject({ lines: 3 - (kind === 'contract' ? 1 : 0), rejected: 0 });
      expect(first.inserted + first.updated + first.unchanged).toBe(first.lines);
      const before = counts();
      const second = await importFile(store, kind, file, { now });
      expect(second).toMatchObject({
        lines: first.lines,
        inserted: 0,
        updated: 0,
        unchanged: first.lines,
        rejected: 0,
      });
      expect(counts()).toEqual(before);
    }
    // within the first consent and dnc files, the third line repeats the first on the natural key
    expect(counts()).toMatchObject({ consents: 2, contracts: 2, dnc: 2 });
  });

  test('a big file is streamed in batches (more rows than one batch, two chunks with quotes)', async () => {
    const lines = ['number,professional,collected_at,source'];
    for (let i = 0; i < 25_000; i++) lines.push(`+336${String(10_000_000 + i)},acme,2026-09-01T10:00:00Z,"src, ${i}"`);
    lines[12_345] = '+33600000000,acme,2026-09-01,"broken';
    const report = await importFile(store, 'consent', write('big.csv', lines.join('\n') + '\n'), { now });
    expect(report).toMatchObject({ lines: 25_000, inserted: 24_999, rejected: 1, errors: [{ line: 12_346 }] });
    expect(counts().consents).toBe(24_999);
    expect((await facts('+33610024999')).consents).toEqual([
      { professional: 'acme', categories: [], collectedAt: new Date('2026-09-01T10:00:00Z'), source: 'src, 24999' },
    ]);
  });
});

describe('the line guard keeps every physical line one record (property)', () => {
  const mem = () => new MemoryStore();
  type Line = { kind: 'good'; source: string } | { kind: 'U' | 'C' | 'Q' | 'L' | 'blank' };
  const field = (v: string) => (/[",]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const text = fc
    .string({ unit: fc.constantFrom('a', 'é', ' ', ',', '"', 'x', '😀', ';'), minLength: 1, maxLength: 30 })
    .filter((v) => v.trim() !== '');
  const line: fc.Arbitrary<Line> = fc.oneof(
    { weight: 5, arbitrary: text.map((source) => ({ kind: 'good' as const, source })) },
    fc.constantFrom<Line>({ kind: 'U' }, { kind: 'C' }, { kind: 'Q' }, { kind: 'L' }, { kind: 'blank' }),
  );

  test('a broken line is rejected with its number and changes nothing else', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(line, { minLength: 1, maxLength: 40 }), fc.boolean(), async (lines, crlf) => {
        const nl = crlf ? '\r\n' : '\n';
        const out = ['number,professional,collected_at,source'];
        const expected = new Map<string, string>();
        const bad: number[] = [];
        lines.forEach((l, i) => {
          const number = `+336100${String(i).padStart(5, '0')}`;
          const head = `${number},acme,2026-09-01,`;
          if (l.kind === 'good') {
            out.push(head + field(l.source));
            expected.set(number, l.source.trim());
          } else if (l.kind === 'blank') out.push('');
          else {
            out.push(head + { U: '"open', C: '"closed"x', Q: 'in"side', L: 'x'.repeat(20_000) }[l.kind]);
            bad.push(i + 2);
          }
        });
        const good = expected.size;
        if (good === 0 || bad.length > good) return; // the more-than-half rule is tested elsewhere
        const store = mem();
        const report = await importFile(store, 'consent', write('p.csv', out.join(nl) + nl), { now });
        expect(report.errors.map((e) => e.line)).toEqual(bad);
        expect(report).toMatchObject({ inserted: good, rejected: bad.length, lines: good + bad.length });
        for (const [number, source] of expected)
          expect((await store.history(number)).consents.map((c) => c.source)).toEqual([source]);
      }),
      { numRuns: 40 },
    );
  });

  test('a long line at the end without a newline, and one inside a chunk', async () => {
    const store = mem();
    const long = 'x'.repeat(20_000);
    const csv = `number,professional,collected_at,source\n0612345678,acme,2026-09-01,${long}\n0612345679,acme,2026-09-01,ok\n0612345680,acme,2026-09-01,ok\n0612345681,acme,2026-09-01,${long}`;
    const report = await importFile(store, 'consent', write('l.csv', csv), { now });
    expect(report).toMatchObject({ lines: 4, inserted: 2, rejected: 2 });
    expect(report.errors.map((e) => [e.line, e.message.slice(0, 25)])).toEqual([
      [2, 'the line is longer than 1'],
      [5, 'the line is longer than 1'],
    ]);
  });
});
