/**
 * `callgate store copy --to OTHER.yaml`: a site moves from its SQLite file to PostgreSQL with its
 * whole history (the README's steps), and a re-run is harmless.
 */
import { BASE_CONFIG, CALLEE, CALLER, TUESDAY_11H, json, sandbox, type Sandbox } from './helpers';
import { createTestDb, type TestDb } from '../store/pg-db';

let sb: Sandbox;
let db: TestDb;
let pgYaml: string;
beforeAll(async () => {
  db = await createTestDb('storecopy');
  sb = sandbox();
  const u = new URL(db.url);
  u.password = 'n0t-in-any-output';
  pgYaml = sb.write(
    'postgres.yaml',
    BASE_CONFIG.replace(
      'store:\n  driver: sqlite\n  path: ./callgate.db',
      `store:\n  driver: postgres\n  url: ${u.toString()}`,
    ),
  );
}, 30_000);
afterAll(async () => {
  sb?.cleanup();
  await db?.drop();
});

test('SQLite to PostgreSQL: the history moves whole, the attempts keep counting, a re-run copies nothing twice', () => {
  const ok = (args: string[]) => {
    const r = sb.run(args);
    expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 0, stderr: '' });
    return r;
  };
  ok([
    'consent',
    'add',
    CALLEE,
    '--professional',
    'acme',
    '--collected-at',
    '2026-11-01T09:00',
    '--source',
    'web form',
  ]);
  ok(['dnc', 'add', '0698765432']);
  ok(['refusal', 'add', '0611223344', '--professional', 'acme', '--at', '2026-11-02T10:00']);
  for (let i = 0; i < 3; i++)
    ok(['check', '--to', CALLEE, '--caller-id', CALLER, '--at', TUESDAY_11H, '--record', '--json']);

  const first = ok(['store', 'copy', '--to', pgYaml]);
  expect(first.stdout).toMatch(/consents: 1 copied, 0 updated, 0 already there/);
  expect(first.stdout).toMatch(/decisions: 3 copied, 0 updated, 0 already there/);
  const fromSqlite = json(ok(['history', CALLEE, '--json']));
  const fromPostgres = json(ok(['history', CALLEE, '--json', '--config', pgYaml]));
  expect(fromPostgres).toEqual(fromSqlite);
  expect(fromPostgres.attempts).toHaveLength(3);

  // on PostgreSQL, the three attempts made on SQLite still count: the fourth is the last one allowed
  const check = (config: string[]) =>
    json(
      sb.run(['check', '--to', CALLEE, '--caller-id', CALLER, '--at', TUESDAY_11H, '--record', '--json', ...config]),
    );
  expect(check(['--config', pgYaml]).verdict).toBe('allow');
  expect(check(['--config', pgYaml]).reasons.map((r: { code: string }) => r.code)).toEqual(['frequency_limit']);

  const again = ok(['store', 'copy', '--to', pgYaml]);
  expect(again.stdout).toMatch(/consents: 0 copied, 0 updated, 1 already there/);
  expect(again.stdout).toMatch(/decisions: 0 copied, 0 updated, 3 already there/);
  expect(`${first.stdout}${again.stdout}`).not.toContain('n0t-in-any-output');
  expect(json(ok(['history', CALLEE, '--json', '--config', pgYaml])).decisions).toHaveLength(5);
}, 120_000);

test('copying a store into itself, or without --to, is refused and changes nothing', () => {
  const self = sb.run(['store', 'copy', '--to', sb.config]);
  expect(self.code).toBe(2);
  expect(self.stderr).toMatch(/names the same store/);
  const none = sb.run(['store', 'copy']);
  expect(none.code).toBe(2);
  expect(none.stderr).toMatch(/--to/);
});
