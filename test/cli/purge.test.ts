/**
 * `callgate purge [--dry-run]` through the built command: what is older than retention.days goes,
 * consents stay 3 years after collection whatever retention says (R. 223-2), the attempts of the
 * frequency window and the do-not-call entries and refusals stay.
 */
import { BASE_CONFIG, CALLEE, CALLER, json, sandbox, type Sandbox } from './helpers';

const CONFIG = `${BASE_CONFIG}
clock: { mode: fixed, at: '2026-12-01T10:00:00Z' }
retention: { days: 400 }
`;

let sb: Sandbox;
beforeAll(() => {
  sb = sandbox(CONFIG);
  // 0, or 1 for a blocked check: never a usage error
  const ok = (args: string[]) => {
    const code = sb.run(args).code;
    expect([args, code === 0 || code === 1]).toEqual([args, true]);
  };
  ok(['consent', 'add', CALLEE, '--professional', 'acme', '--collected-at', '2023-06-01T09:00', '--categories', 'old']);
  ok([
    'consent',
    'add',
    CALLEE,
    '--professional',
    'acme',
    '--collected-at',
    '2024-06-01T09:00',
    '--categories',
    'kept',
  ]);
  ok(['consent', 'add', CALLEE, '--professional', 'acme', '--collected-at', '2026-11-01T09:00']);
  ok(['dnc', 'add', '0698765432', '--reason', 'asked in 2020']);
  ok(['refusal', 'add', CALLEE, '--professional', 'other-pro', '--at', '2020-01-01T10:00']);
  for (const at of ['2025-01-07T11:00', '2026-11-24T11:00', '2026-11-25T11:00'])
    ok(['check', '--to', CALLEE, '--caller-id', CALLER, '--at', at, '--record', '--json']);
});
afterAll(() => sb?.cleanup());

test('a dry run counts and removes nothing; then the purge removes exactly that, and a second one nothing', () => {
  const dry = sb.run(['purge', '--dry-run']);
  expect(dry.code).toBe(0);
  expect(dry.stdout).toMatch(/dry run: nothing removed/);
  expect(dry.stdout).toMatch(/would remove 1 decisions .* before 2025-10-27T10:00:00.000Z/);
  expect(dry.stdout).toMatch(/would remove 1 consents collected before 2023-12-02T10:00:00.000Z/);
  expect(json(sb.run(['history', CALLEE, '--json'])).decisions).toHaveLength(3);

  const real = sb.run(['purge']);
  expect(real.code).toBe(0);
  expect(real.stdout).toMatch(/removed 1 decisions/);
  expect(real.stdout).toMatch(/removed 1 consents/);
  const h = json(sb.run(['history', CALLEE, '--json']));
  expect(h.decisions.map((d: { at: string }) => d.at)).toEqual([
    '2026-11-24T10:00:00.000Z',
    '2026-11-25T10:00:00.000Z',
  ]);
  expect(h.attempts).toHaveLength(2);
  // consents: the one of 2023 went; the one of 2024 is older than 400 days but its proof is kept 3 years
  expect(h.consents.map((c: { categories: string[] }) => c.categories)).toEqual([['kept'], []]);
  expect(json(sb.run(['history', '0698765432', '--json'])).dnc).toHaveLength(1);
  expect(h.refusals).toHaveLength(1); // from 2020: refusals are never purged (REF-1 reads them for good)
  expect(sb.run(['purge']).stdout).toMatch(/removed 0 decisions/);
});

test('retention.days below the frequency window is a configuration error', () => {
  const bad = sandbox(`${BASE_CONFIG}\nretention: { days: 10 }\n`);
  try {
    const r = bad.run(['purge', '--dry-run']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/retention.days: must be at least policy.windowDays \(30\)/);
  } finally {
    bad.cleanup();
  }
});
