/**
 * Issue 11.4, 11.5 and 11.8 through the built command: one date parser, one set of row checks
 * shared with the importer, the usual punctuation of written numbers, echoed values escaped
 * and bounded, single-valued options given once.
 */
import { existsSync } from 'node:fs';
import { CALLEE, CALLER, TUESDAY_11H, json, sandbox, type Sandbox } from './helpers';

let sb: Sandbox;
beforeEach(() => {
  sb = sandbox();
});
afterEach(() => sb.cleanup());

const codes = (d: Record<string, unknown>) => (d.reasons as { code: string }[]).map((x) => x.code);

function withConsent(): void {
  const r = sb.run(['consent', 'add', CALLEE, '--professional', 'acme', '--collected-at', '2026-11-02']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
}

describe('dates: one parser (11.4)', () => {
  it('--at with a bracketed zone is judged at that wall time: 20:30 Paris is after the calling hours', () => {
    withConsent();
    const r = sb.run([
      'check',
      '--to',
      CALLEE,
      '--caller-id',
      CALLER,
      '--at',
      '2026-11-24T20:30[Europe/Paris]',
      '--json',
    ]);
    expect(r.code).toBe(1);
    const d = json(r);
    expect(d.at).toBe('2026-11-24T19:30:00.000Z');
    expect(codes(d)).toEqual(['outside_calling_hours']);
    // and a zone that contradicts the offset is refused
    const bad = sb.run([
      'check',
      '--to',
      CALLEE,
      '--caller-id',
      CALLER,
      '--at',
      '2026-11-24T19:30+02:00[Europe/Paris]',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--at: "2026-11-24T19:30\+02:00\[Europe\/Paris\]" contradicts itself/);
  });

  it('--collected-at and --slot with a bracketed zone are recorded at that wall time', () => {
    const r = sb.run([
      'consent',
      'add',
      CALLEE,
      '--professional',
      'acme',
      '--collected-at',
      '2026-11-02T10:00[America/Martinique]',
      '--slot',
      '2026-11-28T11:00[Europe/Paris]',
    ]);
    expect(r.code).toBe(0);
    const h = json(sb.run(['history', CALLEE, '--json']));
    expect(h.consents[0].collectedAt).toBe('2026-11-02T14:00:00.000Z');
    expect(h.consents[0].slot).toBe('2026-11-28T10:00:00.000Z');
  });

  it.each([
    ['+15:00', '2026-11-24T11:00+15:00', /not a real UTC offset/],
    ['+99:99', '2026-11-24T11:00+99:99', /do not exist|not a real UTC offset/],
    ['a partial date', '2026-11', /is not a date or date-time callgate reads/],
    ['a bare time', '11:00', /is not a date or date-time callgate reads/],
    ['year 9999', '9999-11-24T11:00', /year 9999 is outside 1900–2199/],
    ['year 275760', '+275760-09-13T00:00Z', /is not a date or date-time/],
  ])('--at with %s is a usage error, nothing written', (_name, at, message) => {
    const r = sb.run(['check', '--to', CALLEE, '--caller-id', CALLER, '--at', at, '--record']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/accepted: 2026-11-24|outside|offset|minutes/);
    expect(existsSync(sb.db)).toBe(false);
  });

  it('the importer refuses the ambiguous autumn time the command refuses, with the same words', () => {
    const cli = sb.run(['consent', 'add', CALLEE, '--professional', 'acme', '--collected-at', '2026-10-25T02:30']);
    expect(cli.code).toBe(2);
    const file = sb.write(
      'c.csv',
      `number,professional,collected_at\n${CALLEE},acme,2026-10-25T02:30\n0123456780,acme,2026-10-25T03:30\n0123456781,acme,2026-10-26\n`,
    );
    const r = sb.run(['consent', 'import', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/2 inserted, 0 updated, 0 unchanged, 1 rejected/);
    const line = /line 2: collected_at: (.*)/.exec(r.stdout)?.[1];
    expect(line).toMatch(/happens twice in Europe\/Paris/);
    expect(cli.stderr).toBe(`callgate: --collected-at: ${line}\n`);
  });
});

describe('one set of row checks for `consent add` and the importer (11.5)', () => {
  // [what, CLI options after the number, CSV header, CSV line, the message after the field name]
  const cases: [string, string[], string, string, RegExp][] = [
    [
      'categories of just the separator',
      ['--categories', ','],
      'number,professional,categories,collected_at',
      `${CALLEE},acme,|,2026-11-02`,
      /has an empty category/,
    ],
    [
      'valid_until before collected_at',
      ['--collected-at', '2026-11-02', '--valid-until', '2026-11-01'],
      'number,professional,collected_at,valid_until',
      `${CALLEE},acme,2026-11-02,2026-11-01`,
      /"2026-11-01" is not after .* "2026-11-02"; a consent ends after it is collected/,
    ],
    [
      'year 0026',
      ['--collected-at', '0026-11-02'],
      'number,professional,collected_at',
      `${CALLEE},acme,0026-11-02`,
      /"0026-11-02" is not a valid date: year 0026 is outside 1900–2199/,
    ],
    [
      'year 9999',
      ['--collected-at', '2026-11-02', '--valid-until', '9999-12-31'],
      'number,professional,collected_at,valid_until',
      `${CALLEE},acme,2026-11-02,9999-12-31`,
      /year 9999 is outside/,
    ],
    [
      'a source of 2000 characters',
      ['--source', 'x'.repeat(2000)],
      'number,professional,collected_at,source',
      `${CALLEE},acme,2026-11-02,${'x'.repeat(2000)}`,
      /2000 characters, at most 1000/,
    ],
    [
      'an undeclared professional',
      ['--professional', 'ghost'],
      'number,professional,collected_at',
      `${CALLEE},ghost,2026-11-02`,
      /"ghost" is not a professional declared in the config \(declared: acme, other-pro\)/,
    ],
  ];

  it.each(cases)('%s: refused by both with the same message', (_name, options, header, line, message) => {
    const args = ['consent', 'add', CALLEE, '--professional', 'acme', '--collected-at', '2026-11-02'];
    // a later occurrence would be a repeated option: replace the default instead
    for (let i = 0; i < options.length; i += 2) {
      const at = args.indexOf(options[i]!);
      if (at >= 0) args[at + 1] = options[i + 1]!;
      else args.push(options[i]!, options[i + 1]!);
    }
    const cli = sb.run(args);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toMatch(message);
    // the bad line, then two good ones (so that the file is imported without it)
    const good = (n: string) =>
      header
        .split(',')
        .map((c) => ({ number: n, professional: 'acme', collected_at: '2026-11-02' })[c] ?? '')
        .join(',');
    const file = sb.write('c.csv', `${header}\n${line}\n${good('0123456780')}\n${good('0123456781')}\n`);
    const imp = sb.run(['consent', 'import', file]);
    const got = /line 2: (.*)/.exec(imp.stdout + imp.stderr)?.[1] ?? '';
    expect(got).toMatch(message);
    // the same words after the field's name (--valid-until / valid_until)
    const words = (s: string) =>
      s
        .replace(/^callgate: /, '')
        .replace(/--?[a-z-]+|[a-z]+_[a-z]+|\b(categories|professional|source)\b/g, 'F')
        .trim();
    expect(words(cli.stderr).replace(/[,|]/g, '|')).toBe(words(got).replace(/[,|]/g, '|'));
    expect(existsSync(sb.db) ? json(sb.run(['history', CALLEE, '--json'])).consents : []).toEqual([]);
  });

  it('a withdrawal before collection is refused by the importer (the command has consent withdraw --at)', () => {
    const file = sb.write(
      'c.csv',
      `number,professional,collected_at,withdrawn_at\n${CALLEE},acme,2026-11-02,2026-11-01\n0123456780,acme,2026-11-02,2026-11-03\n`,
    );
    const r = sb.run(['consent', 'import', file]);
    expect(r.stdout).toMatch(
      /line 2: withdrawn_at: "2026-11-01" is before collected_at "2026-11-02"; a consent is withdrawn after it is collected/,
    );
  });

  it('a 2 MB field rejects its line alone, the others are imported', () => {
    const big = 'x'.repeat(2 * 1024 * 1024);
    const file = sb.write(
      'c.csv',
      `number,professional,collected_at,source\n${CALLEE},acme,2026-11-02,${big}\n0123456780,acme,2026-11-02,web\n0123456781,acme,2026-11-02,web\n`,
    );
    const r = sb.run(['consent', 'import', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/3 line\(s\): 2 inserted, 0 updated, 0 unchanged, 1 rejected/);
    expect(r.stdout).toMatch(/line 2: the line is longer than 16384 bytes/);
    expect(r.stdout.length).toBeLessThan(2000);
  });
});

describe('numbers, echoed values, repeated options (11.8)', () => {
  it("--to '(01) 23 45 67 89' is the number written with its area code in brackets", () => {
    withConsent();
    const r = sb.run(['check', '--to', '(01) 23 45 67 89', '--caller-id', CALLER, '--at', TUESDAY_11H, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(json(r).callee.e164).toBe('+33123456789');
  });

  it('garbage punctuation is still refused', () => {
    for (const bad of ['01--23 45 67 89', '(01 23 45 67 89', '01 23 45 67 89)', '()']) {
      const r = sb.run(['check', '--to', bad, '--caller-id', CALLER, '--at', TUESDAY_11H]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^callgate: --to: /);
    }
  });

  it('control characters and long values are echoed escaped and bounded, on one line', () => {
    const r = sb.run(['check', '--to', '01 23\u001b[2J\u0007 45', '--caller-id', CALLER]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('"01 23\\x1B[2J\\x07 45"');
    // eslint-disable-next-line no-control-regex -- none may be printed
    expect(r.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f]/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    const long = sb.run(['check', '--to', CALLEE, '--caller-id', CALLER, '--campaign', 'c'.repeat(100_000)]);
    expect(long.code).toBe(2);
    expect(long.stderr).toMatch(/unknown campaign "c{64}…" \(100000 characters\)/);
    expect(long.stderr.length).toBeLessThan(400);
    const cmd = sb.run(['check', '--to', CALLEE, '--caller-id', CALLER, '--t\u001bo', 'x']);
    expect(cmd.code).toBe(2);
    expect(cmd.stderr).toContain('--t\\x1Bo');
    // eslint-disable-next-line no-control-regex -- none may be printed
    expect(cmd.stderr).not.toMatch(/\u001b/);
  });

  it('a repeated --to (or any single-valued option) is a usage error, not the last one silently', () => {
    const r = sb.run(['check', '--to', CALLEE, '--caller-id', CALLER, '--to', '0612345678', '--record']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'callgate: --to: given twice ("01 23 45 67 89" and "0612345678"); give it once, e.g. --to 0123456789\n',
    );
    expect(existsSync(sb.db)).toBe(false);
    const p = sb.run(['consent', 'add', CALLEE, '--professional', 'acme', '--professional=other-pro']);
    expect(p.code).toBe(2);
    expect(p.stderr).toMatch(/^callgate: --professional: given twice/);
    const c = sb.run(['check', '--to', CALLEE, '--caller-id', CALLER, '--config', sb.config, '--config', sb.config]);
    expect(c.stderr).toMatch(/^callgate: --config: given twice/);
  });
});
