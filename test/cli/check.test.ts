/** `callgate check` end to end: the built command, a temp config and a temp SQLite database. */
import { existsSync } from 'node:fs';
import {
  BASE_CONFIG,
  CALLEE,
  CALLEE_E164,
  CALLER,
  SATURDAY_11H,
  TUESDAY_11H,
  json,
  sandbox,
  type Sandbox,
} from './helpers';

let sb: Sandbox;
beforeEach(() => {
  sb = sandbox();
});
afterEach(() => sb.cleanup());

const check = (...extra: string[]) => sb.run(['check', '--to', CALLEE, '--caller-id', CALLER, ...extra]);

describe('callgate check', () => {
  it('allows a press call on a Tuesday at 11:00 Paris: exit 0 and the decision as one JSON object', () => {
    const r = check('--at', TUESDAY_11H, '--campaign', 'news', '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const d = json(r);
    expect(d.verdict).toBe('allow');
    expect(d.reasons).toEqual([]);
    expect(d.regime).toBe('consent');
    expect(d.callee.e164).toBe(CALLEE_E164);
    expect(d.callee.timeZone).toBe('Europe/Paris');
    expect(d.callee.localTime).toMatch(/^2026-11-24T11:00:00(\.000)?\+01:00$/);
    expect(Array.isArray(d.tags)).toBe(true);
  });

  it('blocks a prospecting call without consent: exit 1 with no_consent', () => {
    const r = check('--at', TUESDAY_11H, '--json');
    expect(r.code).toBe(1);
    const d = json(r);
    expect(d.verdict).toBe('block');
    expect(d.reasons.map((x: { code: string }) => x.code)).toContain('no_consent');
  });

  it('gives every failed rule, with retryAfter as ISO-8601 for a Saturday', () => {
    const r = check('--at', SATURDAY_11H, '--campaign', 'news', '--json');
    expect(r.code).toBe(1);
    const reasons = json(r).reasons as { code: string; retryAfter?: string }[];
    const weekend = reasons.find((x) => x.code === 'non_working_day');
    expect(weekend).toBeDefined();
    // Monday 30 Nov 2026, 10:00 Paris.
    expect(new Date(weekend!.retryAfter!).toISOString()).toBe('2026-11-30T09:00:00.000Z');
    expect(weekend!.retryAfter).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/);
  });

  it('blocks a withheld caller ID given as anonymous', () => {
    const r = sb.run([
      'check',
      '--to',
      CALLEE,
      '--caller-id',
      'anonymous',
      '--at',
      TUESDAY_11H,
      '--campaign',
      'news',
      '--json',
    ]);
    expect(r.code).toBe(1);
    expect(json(r).reasons.map((x: { code: string }) => x.code)).toContain('caller_id_withheld');
  });

  it('explains the decision in words without --json', () => {
    const r = check('--at', SATURDAY_11H, '--campaign', 'news');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/non_working_day|week-?end|Saturday|samedi/i);
    expect(() => JSON.parse(r.stdout)).toThrow();
  });

  it('with --record counts the attempts: the 5th in 30 days is blocked by frequency_limit', () => {
    const hours = ['10:00', '11:00', '12:00', '14:00'];
    for (const h of hours) {
      const r = check('--at', `2026-11-24T${h}`, '--campaign', 'news', '--record', '--json');
      expect(r.code).toBe(0);
    }
    const fifth = check('--at', '2026-11-25T11:00', '--campaign', 'news', '--record', '--json');
    expect(fifth.code).toBe(1);
    const freq = (json(fifth).reasons as { code: string; retryAfter?: string }[]).find(
      (x) => x.code === 'frequency_limit',
    );
    expect(freq).toBeDefined();
    // The oldest counted attempt (24 Nov 10:00 Paris) + 30 days.
    expect(new Date(freq!.retryAfter!).toISOString()).toBe('2026-12-24T09:00:00.000Z');
  });

  it('without --record does not count: a 5th check is still allowed', () => {
    for (let i = 0; i < 5; i++) expect(check('--at', TUESDAY_11H, '--campaign', 'news').code).toBe(0);
  });

  it('allows after a consent is added, in the consent regime', () => {
    const add = sb.run([
      'consent',
      'add',
      CALLEE,
      '--professional',
      'acme',
      '--categories',
      'energy',
      '--collected-at',
      '2026-11-01T09:00',
    ]);
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    const r = check('--at', TUESDAY_11H, '--json');
    expect(r.code).toBe(0);
    const d = json(r);
    expect(d.verdict).toBe('allow');
    expect(d.regime).toBe('consent');
    expect(d.basis ?? d.tags.join(',')).toMatch(/consent/);
  });
});

describe('callgate check: contact data and agreed slots', () => {
  it('--postal-code locates the consumer: Good Friday is a holiday in Alsace-Moselle only', () => {
    const goodFriday = '2027-03-26T11:00';
    const paris = check('--at', goodFriday, '--campaign', 'news', '--json');
    expect(paris.code).toBe(0);
    const strasbourg = check('--at', goodFriday, '--campaign', 'news', '--postal-code', '67000', '--json');
    expect(strasbourg.code).toBe(1);
    expect(json(strasbourg).reasons.map((x: { code: string }) => x.code)).toEqual(['public_holiday']);
  });

  it('an overseas number is judged in its own zone: 11:00 Paris is 06:00 in Martinique', () => {
    const r = sb.run([
      'check',
      '--to',
      '0596 12 34 56',
      '--caller-id',
      CALLER,
      '--at',
      TUESDAY_11H,
      '--campaign',
      'news',
      '--json',
    ]);
    expect(r.code).toBe(1);
    const d = json(r);
    expect(d.callee.timeZone).toBe('America/Martinique');
    expect(d.callee.localTime).toMatch(/^2026-11-24T06:00:00(\.000)?-04:00$/);
    expect(d.reasons.map((x: { code: string }) => x.code)).toEqual(['outside_calling_hours']);
  });

  it('consent add --slot lets the consumer be called at the agreed time, even on a Saturday (TIME-4)', () => {
    const add = sb.run([
      'consent',
      'add',
      CALLEE,
      '--professional',
      'acme',
      '--collected-at',
      '2026-11-20T10:00',
      '--slot',
      SATURDAY_11H,
    ]);
    expect(add.code).toBe(0);
    expect(check('--at', SATURDAY_11H, '--json').code).toBe(0);
    const later = check('--at', '2026-11-28T15:00', '--json');
    expect(later.code).toBe(1);
    expect(json(later).reasons.map((x: { code: string }) => x.code)).toEqual(['non_working_day']);
  });
});

describe('callgate check --campaign <defaultCampaign id>', () => {
  it('is the default campaign, not an unknown one (no campaign:unknown tag, no warning)', () => {
    const own = sandbox(
      BASE_CONFIG.replace(
        'defaultCampaign: energy',
        'defaultCampaign:\n  id: house\n  professional: acme\n  purpose: press\n  dialing: manual',
      ),
    );
    try {
      const r = own.run([
        'check',
        '--to',
        CALLEE,
        '--caller-id',
        CALLER,
        '--at',
        TUESDAY_11H,
        '--campaign',
        'house',
        '--json',
      ]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const d = json(r);
      expect(d.campaign.id).toBe('house');
      expect(d.tags).not.toContain('campaign:unknown');
    } finally {
      own.cleanup();
    }
  });
});

describe('callgate check: bad input → exit 2, one line naming what to fix, nothing written', () => {
  const cases: [string, string[], RegExp][] = [
    [
      'a malformed destination',
      ['check', '--to', 'abc', '--caller-id', CALLER, '--at', TUESDAY_11H],
      /--to: "abc" contains letters/,
    ],
    [
      'a malformed caller ID',
      ['check', '--to', CALLEE, '--caller-id', 'hello', '--at', TUESDAY_11H],
      /--caller-id: "hello"/,
    ],
    [
      'a bad date',
      ['check', '--to', CALLEE, '--caller-id', CALLER, '--at', '2026-02-30T11:00'],
      /--at: "2026-02-30T11:00" is not a valid date: day 30 does not exist/,
    ],
    [
      'an unknown campaign',
      ['check', '--to', CALLEE, '--caller-id', CALLER, '--campaign', 'nope'],
      /--campaign: unknown campaign "nope"/,
    ],
    [
      'an ambiguous Paris time (the autumn overlap)',
      ['check', '--to', CALLEE, '--caller-id', CALLER, '--at', '2026-10-25T02:30'],
      /--at: "2026-10-25T02:30" happens twice in Europe\/Paris/,
    ],
    [
      'an empty --config (it must not silently fall back to the default file)',
      ['check', '--to', CALLEE, '--caller-id', CALLER, '--config', ''],
      /--config: empty file name/,
    ],
    [
      'a bad postal code',
      ['check', '--to', CALLEE, '--caller-id', CALLER, '--postal-code', 'x'],
      /--postal-code: postal code "x"/,
    ],
    ['a missing --caller-id', ['check', '--to', CALLEE], /caller-id/],
    ['an unknown option', ['check', '--to', CALLEE, '--caller-id', CALLER, '--bogus'], /--bogus/],
    ['an unknown command', ['chekc'], /chekc/],
  ];
  it.each(cases)('%s', (_name, args, message) => {
    const r = sb.run(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(existsSync(sb.db)).toBe(false);
  });

  it('a missing config file', () => {
    const r = sb.run(['check', '--to', CALLEE, '--caller-id', CALLER, '--config', 'missing.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/missing\.yaml/);
  });
});
