/** callgate.yaml: defaults, every problem at once with its path, frozen result, file loading. */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { ConfigError, loadConfig, parseConfig, resolveConfigPath } from '../../src/config';
import { DEFAULT_POLICY } from '../../src/core/types';
import { scratchDirs } from '../scratch';

const tempDir = scratchDirs('callgate-config-');

const MINIMAL = `
professionals:
  - id: acme
    callerIds: ['+33162000001']
`;

function problemsOf(yaml: string): { path: string; message: string }[] {
  try {
    parseConfig(yaml, 'test.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).code).toBe('CG_ERR_CONFIG');
    return (e as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  it('applies every default to a minimal file', () => {
    const c = parseConfig(MINIMAL, 'test.yaml');
    expect(c.store).toEqual({ driver: 'sqlite', path: './data/callgate.db', durability: 'full' });
    expect(c.policy).toEqual(DEFAULT_POLICY);
    expect(c.gate).toEqual({ deadlineMs: 500 });
    expect(c.clock).toEqual({ mode: 'system' });
    expect(c.log).toEqual({ level: 'info', maskNumbers: true, decisions: 'blocks' });
    expect(c.campaigns).toEqual([]);
    expect(c.defaultCampaign).toEqual({
      id: 'default',
      professional: 'acme',
      purpose: 'prospecting',
      audience: 'consumer',
      dialing: 'automated',
      sector: 'other',
      categories: [],
    });
    expect(c.asterisk).toBeUndefined();
    expect(c.freeswitch).toBeUndefined();
  });

  it('keeps explicit policy values and defaults the others', () => {
    const c = parseConfig(
      `${MINIMAL}\npolicy:\n  maxAttempts: 3\n  failMode: open\n  abandonRateThreshold: 0.03\n`,
      't',
    );
    expect(c.policy).toEqual({ ...DEFAULT_POLICY, maxAttempts: 3, failMode: 'open', abandonRateThreshold: 0.03 });
  });

  it('returns a deeply frozen config', () => {
    const c = parseConfig(
      `${MINIMAL}\ncampaigns:\n  - {id: c1, professional: acme, dialing: manual, categories: [energy]}\n`,
      't',
    );
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.policy)).toBe(true);
    expect(Object.isFrozen(c.campaigns[0]!.categories)).toBe(true);
    expect(Object.isFrozen(c.professionals[0]!.callerIds)).toBe(true);
    expect(() => {
      (c.policy as { maxAttempts: number }).maxAttempts = 99;
    }).toThrow(TypeError);
  });

  it('normalizes caller IDs to E.164', () => {
    const c = parseConfig(`professionals:\n  - id: acme\n    callerIds: ['01 62 00 00 01', '+33162000002']\n`, 't');
    expect(c.professionals[0]!.callerIds).toEqual(['+33162000001', '+33162000002']);
  });

  it('lists every problem at once, each with its path', () => {
    const problems = problemsOf(`
store: {driver: pg}
policy: {maxAttempts: 0, failMode: half}
professionals:
  - id: acme
    callerIds: ['12345', '+33162000001']
campaigns:
  - {id: a, professional: acme, dialing: manual}
  - {id: b, professional: acme, dialing: manual}
  - {id: c, professional: acme, dialing: robot}
gate: {deadlineMs: -5}
log: {level: loud, decisions: some}
`);
    const byPath = Object.fromEntries(problems.map((p) => [p.path, p.message]));
    expect(byPath['store.driver']).toBe('expected one of sqlite|postgres|memory');
    expect(byPath['policy.maxAttempts']).toBe('must be at least 1');
    expect(byPath['policy.failMode']).toMatch(/^expected one of closed\|open/);
    expect(byPath['professionals[0].callerIds[0]']).toMatch(/"12345" is not a valid phone number/);
    expect(byPath['campaigns[2].dialing']).toMatch(/^expected one of manual\|automated\|prerecorded/);
    expect(byPath['gate.deadlineMs']).toBe('must be at least 1');
    expect(byPath['log.level']).toMatch(/^expected one of fatal\|error\|warn\|info\|debug\|trace\|silent/);
    expect(byPath['log.decisions']).toMatch(/^expected one of blocks\|all\|none/);
    expect(problems).toHaveLength(8);
  });

  it('the error message lists every problem on its own line', () => {
    try {
      parseConfig(`professionals: [{id: acme}]\npolicy: {windowDays: x, regime: maybe}\n`, 'my.yaml');
      throw new Error('expected a ConfigError');
    } catch (e) {
      const msg = (e as Error).message;
      expect(msg).toMatch(/^invalid configuration my\.yaml: 2 problems/);
      expect(msg).toContain('\n  - policy.windowDays: expected number, got text "x"');
      expect(msg).toContain('\n  - policy.regime: expected one of auto|opposition|consent');
    }
  });

  it('rejects unknown keys with their path, at every level', () => {
    const problems = problemsOf(`${MINIMAL}
polcy: {}
policy: {maxAtempts: 3}
campaigns:
  - {id: a, professional: acme, dialing: manual, sectr: other}
log: {mask: false}
`);
    expect(Object.fromEntries(problems.map((p) => [p.path, p.message]))).toEqual({
      polcy: 'unknown key (did you mean policy?)',
      'policy.maxAtempts': 'unknown key (did you mean maxAttempts?)',
      'campaigns[0].sectr': 'unknown key (did you mean sector?)',
      'log.mask': 'unknown key (known keys here: level, maskNumbers, decisions)',
    });
  });

  it('store.durability is normal or full (default full: a COMMIT the PBX heard of survives a power cut)', () => {
    expect(parseConfig(`${MINIMAL}store: {driver: sqlite, durability: normal}\n`, 't').store).toEqual({
      driver: 'sqlite',
      path: './data/callgate.db',
      durability: 'normal',
    });
    expect(parseConfig(`${MINIMAL}store: {driver: sqlite}\n`, 't').store).toMatchObject({ durability: 'full' });
    expect(problemsOf(`${MINIMAL}store: {driver: sqlite, durability: off}\n`)).toEqual([
      { path: 'store.durability', message: 'expected one of normal|full, got text "off"' },
    ]);
    // a SQLite setting: refused for the memory store
    expect(problemsOf(`${MINIMAL}store: {driver: memory, durability: full}\n`).map((p) => p.path)).toEqual([
      'store.durability',
    ]);
  });

  it('store.walBuffer was removed: a file that still sets it is told why, not "unknown key"', () => {
    for (const value of ['true', 'false']) {
      const problems = problemsOf(`${MINIMAL}store: {driver: sqlite, walBuffer: ${value}}\n`);
      expect(problems).toHaveLength(1);
      expect(problems[0]!.path).toBe('store.walBuffer');
      expect(problems[0]!.message).toMatch(
        /^removed: the native WAL write buffer .* could report a COMMIT as done when its write had failed .*delete this line/,
      );
    }
    // a typo near it is still a typo of a key that exists
    expect(problemsOf(`${MINIMAL}store: {driver: sqlite, durabilty: full}\n`)).toEqual([
      { path: 'store.durabilty', message: 'unknown key (did you mean durability?)' },
    ]);
  });

  it('reports a YAML syntax error with its line and column', () => {
    const problems = problemsOf('professionals:\n  - id: acme\ncampaigns: [a, b\nlog: {}\n');
    expect(problems).toHaveLength(1);
    expect(problems[0]!.path).toMatch(/^line \d+:\d+$/);
    expect(problems[0]!.message).toMatch(/^YAML syntax error/);
    const dup = problemsOf('professionals: []\nprofessionals: []\n');
    expect(dup[0]!.path).toBe('line 2:1');
  });

  it('rejects a campaign pointing at an unknown professional, and duplicate ids', () => {
    const problems = problemsOf(`${MINIMAL}
campaigns:
  - {id: a, professional: acme, dialing: manual}
  - {id: a, professional: acme, dialing: manual}
  - {id: b, professional: globex, dialing: manual}
`);
    expect(problems).toEqual([
      { path: 'campaigns[1].id', message: 'duplicate id "a" (also campaigns[0].id)' },
      { path: 'campaigns[2].professional', message: 'unknown professional "globex" (declared: acme)' },
    ]);
  });

  it('rejects invalid caller IDs, each by its index', () => {
    const problems = problemsOf(`professionals:\n  - id: acme\n    callerIds: ['+33162000001', 'anonymous', '0899']\n`);
    expect(problems.map((p) => p.path)).toEqual(['professionals[0].callerIds[1]', 'professionals[0].callerIds[2]']);
  });

  it('refuses declared caller IDs the gate could never present (mobile, emergency)', () => {
    const problems = problemsOf(
      `professionals:\n  - id: acme\n    callerIds: ['0612345678', '112', '+596596123456']\n`,
    );
    expect(problems).toEqual([
      {
        path: 'professionals[0].callerIds[0]',
        message: expect.stringMatching(/mobile number cannot be presented by a PBX \(CID-4\)/),
      },
      { path: 'professionals[0].callerIds[1]', message: expect.stringMatching(/emergency number/) },
    ]);
  });

  it('reads overseas national forms as the gate does', () => {
    const c = parseConfig(`professionals:\n  - id: acme\n    callerIds: ['0596 12 34 56', '+33 596123456']\n`, 't');
    expect(c.professionals[0]!.callerIds).toEqual(['+596596123456', '+596596123456']);
  });

  it('accepts fixed and shifted clocks with an offset, rejects a bad clock', () => {
    expect(parseConfig(`${MINIMAL}\nclock: {mode: fixed, at: '2026-11-30T10:00:00+01:00'}\n`, 't').clock).toEqual({
      mode: 'fixed',
      at: new Date('2026-11-30T09:00:00Z'),
    });
    expect(parseConfig(`${MINIMAL}\nclock: {mode: shifted, start: '2026-11-30T09:00:00Z'}\n`, 't').clock).toEqual({
      mode: 'shifted',
      start: new Date('2026-11-30T09:00:00Z'),
    });
    expect(problemsOf(`${MINIMAL}\nclock: {mode: fixed, at: '30/11/2026 10:00'}\n`)).toEqual([
      { path: 'clock.at', message: expect.stringMatching(/is not a date or date-time callgate reads; accepted: /) },
    ]);
    expect(problemsOf(`${MINIMAL}\nclock: {mode: fixed}\n`)[0]!.path).toBe('clock.at');
    expect(problemsOf(`${MINIMAL}\nclock: {mode: warp}\n`)).toEqual([
      { path: 'clock.mode', message: 'expected one of system|fixed|shifted' },
    ]);
  });

  it('reads clock instants and regime dates with the one date parser the CLI and the importer use (issue 11.4)', () => {
    const at = (text: string) =>
      (parseConfig(`${MINIMAL}\nclock: {mode: fixed, at: '${text}'}\n`, 't').clock as { at: Date }).at;
    expect(at('2026-11-30 10:00')).toEqual(new Date('2026-11-30T09:00:00Z')); // Paris time, as on the command line
    expect(at('2026-11-30T20:30[Europe/Paris]')).toEqual(new Date('2026-11-30T19:30:00Z'));
    expect(at('2026-11-30T10:00[America/Martinique]')).toEqual(new Date('2026-11-30T14:00:00Z'));
    const problem = (text: string) => problemsOf(`${MINIMAL}\nclock: {mode: fixed, at: '${text}'}\n`);
    expect(problem('2026-10-25T02:30')).toEqual([
      { path: 'clock.at', message: expect.stringMatching(/happens twice in Europe\/Paris/) },
    ]);
    expect(problem('2026-11-30T10:00+15:00')[0]!.message).toMatch(/not a real UTC offset/);
    expect(problem('2026-11')[0]!.message).toMatch(/is not a date or date-time/);
    expect(problem('9999-11-30T10:00Z')[0]!.message).toMatch(/year 9999 is outside/);
    expect(problemsOf(`${MINIMAL}\npolicy: {consentRegimeStart: '2026-02-30'}\n`)).toEqual([
      { path: 'policy.consentRegimeStart', message: expect.stringMatching(/day 30 does not exist in 2026-02/) },
    ]);
    expect(problemsOf(`${MINIMAL}\npolicy: {consentRegimeStart: '0026-08-11'}\n`)[0]!.message).toMatch(/year 0026/);
  });

  it('resolves the default campaign by id, inline, or refuses an ambiguous or unknown one', () => {
    const two = `professionals:\n  - {id: acme}\n  - {id: globex}\ncampaigns:\n  - {id: x, professional: globex, dialing: manual}\n`;
    expect(parseConfig(`${two}defaultCampaign: x\n`, 't').defaultCampaign).toMatchObject({
      id: 'x',
      professional: 'globex',
      dialing: 'manual',
    });
    expect(problemsOf(two)).toEqual([
      {
        path: 'defaultCampaign.professional',
        message: 'required when several professionals are declared (acme, globex)',
      },
    ]);
    expect(problemsOf(`${two}defaultCampaign: y\n`)[0]).toMatchObject({
      path: 'defaultCampaign',
      message: expect.stringMatching(/unknown campaign "y"/),
    });
    expect(problemsOf(`${two}defaultCampaign: {professional: initech}\n`)[0]).toMatchObject({
      path: 'defaultCampaign.professional',
    });
  });

  it('validates the asterisk section with its own schema and never echoes a password', () => {
    const problems = problemsOf(
      `${MINIMAL}\nasterisk: {url: 'not a url', username: u, password: 12345678, allowContext: out}\n`,
    );
    expect(problems.map((p) => p.path).sort()).toEqual(['asterisk.password', 'asterisk.url']);
    expect(JSON.stringify(problems)).not.toContain('12345678');
    const c = parseConfig(
      `${MINIMAL}\nasterisk: {url: 'http://127.0.0.1:8088', username: u, password: p, allowContext: out}\n`,
      't',
    );
    expect(c.asterisk).toMatchObject({ app: 'callgate', hangupReason: 'rejected' });
  });

  it('requires at least one professional and a mapping at the top', () => {
    expect(problemsOf('')).toEqual([{ path: 'professionals', message: 'required (array)' }]);
    expect(problemsOf('- a\n- b\n')[0]!.message).toMatch(/expected a mapping/);
  });
});

describe('YAML aliases', () => {
  // "billion laughs": nine levels of nine aliases each expand to 9^9 strings
  const bomb = [
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    ...'bcdefghi'.split('').map((k, i) => {
      const prev = 'abcdefghi'[i]!;
      return `${k}: &${k} [${Array(9).fill(`*${prev}`).join(',')}]`;
    }),
    'professionals:',
    '  - id: acme',
  ].join('\n');

  it('refuses a file whose aliases expand too far with its own code, before it takes memory', () => {
    expect.assertions(4);
    try {
      parseConfig(bomb, 'bomb.yaml');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).code).toBe('CG_ERR_CONFIG_ALIASES');
      expect((e as ConfigError).problems[0]!.message).toMatch(/aliases \(\*name\) expand to more than 100/);
      expect((e as Error).message).toContain('bomb.yaml');
    }
  });

  it('still reads a file that uses a few aliases', () => {
    const c = parseConfig(
      'professionals:\n  - id: acme\ncampaigns:\n  - &base { id: one, professional: acme, dialing: manual }\n  - { id: two, professional: acme, dialing: manual }\ndefaultCampaign: one\n',
      '<inline>',
    );
    expect(c.campaigns.map((k) => k.id)).toEqual(['one', 'two']);
  });
});

describe('environment references', () => {
  const ast = (pw: string) =>
    `${MINIMAL}\nasterisk: {url: '\${ARI_URL:-http://127.0.0.1:8088}', username: cg, password: '${pw}', allowContext: out}\n`;

  it('expands ${NAME} and ${NAME:-default} in string values', () => {
    const c = parseConfig(ast('${ARI_PASSWORD}'), 't', { ARI_PASSWORD: 's3cret' });
    expect(c.asterisk).toMatchObject({ url: 'http://127.0.0.1:8088', password: 's3cret' });
    expect(parseConfig(ast('x'), 't', { ARI_URL: 'http://10.0.0.1:8088' }).asterisk!.url).toBe('http://10.0.0.1:8088');
    expect(parseConfig(ast('a$${b}'), 't', {}).asterisk!.password).toBe('a${b}');
  });

  it('reports an unset variable at its path, with the other problems', () => {
    try {
      parseConfig(`${ast('${ARI_PASSWORD}')}gate: {deadlineMs: 0}\n`, 't', {});
      throw new Error('expected a ConfigError');
    } catch (e) {
      expect((e as ConfigError).problems).toEqual([
        { path: 'asterisk.password', message: expect.stringMatching(/^environment variable ARI_PASSWORD is not set/) },
        { path: 'gate.deadlineMs', message: 'must be at least 1' },
      ]);
    }
  });
});

describe('loadConfig', () => {
  const dir = tempDir();

  it('loads the shipped config/callgate.yaml', () => {
    const c = loadConfig(path.join(__dirname, '..', '..', 'config', 'callgate.yaml'));
    expect(c.store).toEqual({ driver: 'sqlite', path: './data/callgate.db', durability: 'full' });
    expect(c.campaigns.map((x) => [x.id, x.dialing])).toEqual([
      ['acme-energy', 'manual'],
      ['acme-robot', 'automated'],
    ]);
    expect(c.professionals[0]!.callerIds.length).toBeGreaterThan(0);
  });

  it('loads the annotated example, which must stay valid', () => {
    const c = loadConfig(path.join(__dirname, '..', '..', 'config', 'callgate.example.yaml'));
    expect(c.policy).toEqual(DEFAULT_POLICY);
    expect(c.gate.deadlineMs).toBe(500);
  });

  it('names the file and what to do when it cannot be read', () => {
    const file = path.join(dir, 'missing.yaml');
    expect(() => loadConfig(file)).toThrow(ConfigError);
    try {
      loadConfig(file);
    } catch (e) {
      expect((e as ConfigError).problems[0]!.message).toMatch(
        /file not found; pass --config FILE or set CALLGATE_CONFIG/,
      );
    }
  });

  it('reports YAML syntax errors of a file with the line', () => {
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(file, 'professionals:\n  - id: acme\n   callerIds: []\n');
    try {
      loadConfig(file);
      throw new Error('expected a ConfigError');
    } catch (e) {
      expect((e as ConfigError).problems[0]!.path).toMatch(/^line 3:\d+$/);
      expect((e as Error).message).toContain(file);
    }
  });
});

describe('resolveConfigPath', () => {
  it('prefers --config, then CALLGATE_CONFIG, then ./config/callgate.yaml', () => {
    expect(resolveConfigPath('a.yaml', { CALLGATE_CONFIG: 'b.yaml' })).toBe('a.yaml');
    expect(resolveConfigPath(undefined, { CALLGATE_CONFIG: 'b.yaml' })).toBe('b.yaml');
    expect(resolveConfigPath(undefined, {})).toBe('./config/callgate.yaml');
    expect(resolveConfigPath('', { CALLGATE_CONFIG: '' })).toBe('./config/callgate.yaml');
  });
});
