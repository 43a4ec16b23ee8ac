/** Data commands end to end: consents, contracts, DNC, refusals, history, and what bad input leaves behind. */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { BASE_CONFIG, CALLEE, CALLEE_E164, CALLER, TUESDAY_11H, json, sandbox, type Sandbox } from './helpers';

let sb: Sandbox;
beforeEach(() => {
  sb = sandbox();
});
afterEach(() => sb.cleanup());

const codes = (d: Record<string, any>): string[] => d.reasons.map((x: { code: string }) => x.code); // eslint-disable-line @typescript-eslint/no-explicit-any
const check = (...extra: string[]) =>
  sb.run(['check', '--to', CALLEE, '--caller-id', CALLER, '--at', TUESDAY_11H, '--json', ...extra]);

describe('data commands', () => {
  it('consent withdraw makes the next check blocked with consent_withdrawn', () => {
    expect(
      sb.run(['consent', 'add', CALLEE, '--professional', 'acme', '--collected-at', '2026-11-01T09:00']).code,
    ).toBe(0);
    expect(check().code).toBe(0);
    const w = sb.run(['consent', 'withdraw', CALLEE, '--professional', 'acme', '--at', '2026-11-20T09:00']);
    expect(w.code).toBe(0);
    expect(w.stdout).toMatch(/withdrawn/);
    const r = check();
    expect(r.code).toBe(1);
    expect(codes(json(r))).toContain('consent_withdrawn');
  });

  it('a consent to another professional does not count (CONS-2)', () => {
    expect(
      sb.run(['consent', 'add', CALLEE, '--professional', 'other-pro', '--collected-at', '2026-11-01T09:00']).code,
    ).toBe(0);
    const r = check();
    expect(r.code).toBe(1);
    expect(codes(json(r))).toContain('no_consent');
  });

  it('an ongoing contract related to the offer is a legal basis (CONS-5)', () => {
    const add = sb.run([
      'contract',
      'add',
      CALLEE,
      '--professional',
      'acme',
      '--categories',
      'energy',
      '--start',
      '2026-01-01',
    ]);
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    const r = check();
    expect(r.code).toBe(0);
    expect(json(r).verdict).toBe('allow');
  });

  it('dnc add (dated by the configured clock) blocks even the press exception with do_not_call', () => {
    // A fixed clock on Monday 23 Nov: the entry is dated then, and check without --at decides at that instant.
    const fixed = sandbox(BASE_CONFIG + 'clock:\n  mode: fixed\n  at: 2026-11-23T15:00:00+01:00\n');
    try {
      const added = fixed.run(['dnc', 'add', CALLEE, '--reason', 'complaint']);
      expect(added.code).toBe(0);
      expect(added.stderr).toBe(''); // no clock warning on every one-off command
      const r = fixed.run(['check', '--to', CALLEE, '--caller-id', CALLER, '--campaign', 'news', '--json']);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe('');
      const d = json(r);
      // check says in its output that it judged at the configured clock's time, not now
      expect(d.clock).toBe('fixed 2026-11-23T14:00:00.000Z');
      const text = fixed.run(['check', '--to', CALLEE, '--caller-id', CALLER, '--campaign', 'news']);
      expect(text.stdout).toMatch(
        /judged at 2026-11-23T14:00:00\.000Z: the configured clock is not the system clock \(clock: fixed 2026-11-23T14:00:00\.000Z\)/,
      );
      const given = fixed.run(['check', '--to', CALLEE, '--caller-id', CALLER, '--at', '2026-11-23T15:00', '--json']);
      expect(json(given).clock).toBeUndefined(); // --at given: the clock played no part
      expect(codes(d)).toEqual(['do_not_call']);
      expect(d.callee.localTime).toMatch(/^2026-11-23T15:00:00(\.000)?\+01:00$/);
      // every professional: the other one is blocked too
      const h = json(fixed.run(['history', CALLEE, '--json']));
      expect(h.dnc).toEqual([expect.objectContaining({ reason: 'complaint', addedAt: '2026-11-23T14:00:00.000Z' })]);
      expect(h.dnc[0].professional).toBeUndefined();
    } finally {
      fixed.cleanup();
    }
  });

  it('a refusal in the consent regime puts the number on do-not-call', () => {
    expect(
      sb.run(['consent', 'add', CALLEE, '--professional', 'acme', '--collected-at', '2026-11-01T09:00']).code,
    ).toBe(0);
    expect(sb.run(['refusal', 'add', CALLEE, '--professional', 'acme', '--at', '2026-11-23T15:00']).code).toBe(0);
    const r = check();
    expect(r.code).toBe(1);
    expect(codes(json(r))).toContain('do_not_call');
  });

  it('history --json gives attempts, decisions, consents, contracts and DNC of the number', () => {
    sb.run([
      'consent',
      'add',
      CALLEE,
      '--professional',
      'acme',
      '--categories',
      'energy',
      '--collected-at',
      '2026-11-01T09:00',
      '--source',
      'web form 42',
    ]);
    sb.run(['contract', 'add', CALLEE, '--professional', 'acme', '--categories', 'energy']);
    sb.run(['dnc', 'add', CALLEE, '--professional', 'other-pro']);
    expect(check('--record').code).toBe(0);
    const r = sb.run(['history', CALLEE, '--json']);
    expect(r.code).toBe(0);
    const h = json(r);
    expect(h.e164).toBe(CALLEE_E164);
    expect(h.consents).toHaveLength(1);
    expect(h.consents[0].professional).toBe('acme');
    expect(h.consents[0].source).toBe('web form 42');
    expect(h.consents[0].collectedAt).toBe('2026-11-01T08:00:00.000Z');
    expect(h.contracts).toHaveLength(1);
    expect(h.dnc).toHaveLength(1);
    expect(h.dnc[0].professional).toBe('other-pro');
    expect(h.attempts).toHaveLength(1);
    expect(h.attempts[0].at).toBe('2026-11-24T10:00:00.000Z');
    expect(h.decisions.length).toBeGreaterThanOrEqual(1);
    expect(h.decisions.some((d: { verdict: string }) => d.verdict === 'allow')).toBe(true);

    const text = sb.run(['history', '+33 1 23 45 67 89']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/consents \(1\)/);
    expect(text.stdout).toMatch(/attempts \(1\)/);
  });

  it('history --professional filters and must name a declared professional', () => {
    const bad = sb.run(['history', CALLEE, '--professional', 'ghost']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /--professional: "ghost" is not a professional declared in the config \(declared: acme, other-pro\)/,
    );
  });
});

describe('data commands: bad input → exit 2 and nothing written', () => {
  const cases: [string, string[], RegExp][] = [
    [
      'an unknown professional',
      ['consent', 'add', CALLEE, '--professional', 'ghost'],
      /--professional: "ghost" is not a professional declared/,
    ],
    ['a malformed number', ['consent', 'add', 'abc', '--professional', 'acme'], /NUMBER: "abc"/],
    [
      'a bad --collected-at',
      ['consent', 'add', CALLEE, '--professional', 'acme', '--collected-at', 'yesterday'],
      /--collected-at: "yesterday"/,
    ],
    [
      '--valid-until before --collected-at',
      [
        'consent',
        'add',
        CALLEE,
        '--professional',
        'acme',
        '--collected-at',
        '2026-11-02',
        '--valid-until',
        '2026-11-01',
      ],
      /--valid-until/,
    ],
    ['empty categories', ['contract', 'add', CALLEE, '--professional', 'acme', '--categories', 'a,,b'], /--categories/],
    ['a missing --categories', ['contract', 'add', CALLEE, '--professional', 'acme'], /categories/],
    ['a missing --professional', ['refusal', 'add', CALLEE], /professional/],
    [
      'an unknown dnc professional',
      ['dnc', 'add', CALLEE, '--professional', 'ghost'],
      /is not a professional declared/,
    ],
    ['an opposition import without --as-of', ['opposition', 'import', 'x.csv'], /as-of/],
    ['an import of a missing file', ['dnc', 'import', 'missing.csv'], /missing\.csv/],
    [
      'an opposition list dated in the future (it would keep OPP-2 quiet)',
      ['opposition', 'import', 'callgate.yaml', '--as-of', '2062-06-01'],
      /--as-of: "2062-06-01" is after today/,
    ],
  ];
  it.each(cases)('%s', (_name, args, message) => {
    const r = sb.run(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n').length).toBeLessThanOrEqual(2);
    expect(existsSync(sb.db)).toBe(false);
  });

  it('history before anything was recorded: empty, a note on stderr, and no database created', () => {
    const r = sb.run(['history', CALLEE, '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/no database at \.\/callgate\.db yet/);
    const h = json(r);
    expect(h.e164).toBe(CALLEE_E164);
    expect([h.consents, h.contracts, h.dnc, h.attempts, h.decisions]).toEqual([[], [], [], [], []]);
    expect(existsSync(sb.db)).toBe(false);
  });

  it('a database file that is not SQLite: exit 2, the file unchanged', () => {
    const junk = 'this is not a database\n'.repeat(200);
    writeFileSync(sb.db, junk);
    const before = statSync(sb.db).mtimeMs;
    for (const args of [
      ['check', '--to', CALLEE, '--caller-id', CALLER, '--at', TUESDAY_11H, '--record'],
      ['consent', 'add', CALLEE, '--professional', 'acme'],
      ['history', CALLEE],
    ]) {
      const r = sb.run(args);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/not a SQLite database/);
    }
    expect(readFileSync(sb.db, 'utf8')).toBe(junk);
    expect(statSync(sb.db).mtimeMs).toBe(before);
    expect(existsSync(`${sb.db}-wal`)).toBe(false);
  });
});
