/**
 * `callgate audit verify`, through the built command: exit 0 on an intact trail with a summary
 * line, 1 with the tampered row named, 2 on a usage error; --heads prints the heads to keep
 * elsewhere, --against catches a consistent rewrite made since.
 */
import Database from 'better-sqlite3';
import { rowHash } from '../../src/store/audit-chain';
import { CALLEE, CALLER, sandbox, type Sandbox } from './helpers';

let sb: Sandbox;
beforeEach(() => {
  sb = sandbox();
  const ok = (args: string[]) => expect(sb.run(args).code).not.toBe(2);
  ok(['consent', 'add', CALLEE, '--professional', 'acme', '--collected-at', '2026-11-01T09:00']);
  ok(['check', '--to', CALLEE, '--caller-id', CALLER, '--at', '2026-11-24T11:00', '--record']);
  ok(['check', '--to', CALLEE, '--caller-id', CALLER, '--at', '2026-11-25T11:00', '--record']);
  ok(['check', '--to', CALLEE, '--caller-id', CALLER, '--at', '2026-11-28T11:00', '--record']); // Saturday: blocked
});
afterEach(() => sb?.cleanup());

const edit = (sqlText: string, ...args: unknown[]) => {
  const db = new Database(sb.db);
  try {
    db.prepare(sqlText).run(...args);
  } finally {
    db.close();
  }
};

test('an intact trail: exit 0 and one summary line (chains, rows, time)', () => {
  const r = sb.run(['audit', 'verify']);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/^callgate: audit verify: 3 chains, 3 rows checked, \d+\.\d s: intact\n$/);
  expect(r.code).toBe(0);
});

test('an edited row: exit 1, the row named (chain, position, decision id, what is wrong)', () => {
  const db = new Database(sb.db, { readonly: true });
  const row = db.prepare("SELECT id, chain FROM decisions WHERE verdict = 'block'").get() as {
    id: string;
    chain: string;
  };
  db.close();
  edit("UPDATE decisions SET verdict = 'allow', reasons = '' WHERE id = ?", row.id);
  const r = sb.run(['audit', 'verify']);
  expect(r.stderr).toContain(`callgate: audit chain ${row.chain} position 1 (decision ${row.id}): edited: `);
  expect(r.stderr).toMatch(/NOT INTACT \(1 chain with a problem\)\n$/);
  expect(r.code).toBe(1);
});

test('--heads prints one JSON head per chain; --against catches a consistent rewrite made since', () => {
  const heads = sb.run(['audit', 'verify', '--heads']);
  expect(heads.code).toBe(0);
  const lines = heads.stdout
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(lines).toHaveLength(3);
  expect(lines[0]).toEqual({
    chain: expect.stringMatching(/^[0-9a-f]{32}$/),
    position: 1,
    hash: expect.stringMatching(/^[0-9a-f]{64}$/),
    anchorPosition: 0,
    updatedAt: expect.any(String),
  });
  const anchored = sb.write('heads.jsonl', heads.stdout);
  expect(sb.run(['audit', 'verify', '--against', anchored]).code).toBe(0);
  // rewrite the allowed call of the 24th as a block, and re-seal its hash and its chain's head
  const db = new Database(sb.db);
  const r = db.prepare('SELECT * FROM decisions ORDER BY at LIMIT 1').get() as Record<string, unknown>;
  const hash = rowHash(
    {
      id: r.id as string,
      at: r.at as number,
      e164: r.e164 as string,
      professional: r.professional as string,
      campaign: r.campaign as string,
      verdict: 'block',
      reasons: r.reasons as string,
      auditText: r.json as string,
      counted: r.counted === 1,
    },
    r.chain as string,
    1,
    r.prev_hash as string,
  );
  db.prepare("UPDATE decisions SET verdict = 'block', row_hash = ? WHERE id = ?").run(hash, r.id);
  db.prepare('UPDATE chain_heads SET hash = ? WHERE chain = ?').run(hash, r.chain);
  db.close();
  expect(sb.run(['audit', 'verify']).code).toBe(0); // consistent: the database alone cannot tell
  const v = sb.run(['audit', 'verify', '--against', anchored]);
  expect(v.stderr).toContain(
    `callgate: audit chain ${r.chain as string} position 1 (decision ${r.id as string}): resealed: `,
  );
  expect(v.stderr).toMatch(/3 anchored heads compared/);
  expect(v.code).toBe(1);
});

test('usage errors exit 2 and change nothing: an unreadable or malformed --against file', () => {
  const missing = sb.run(['audit', 'verify', '--against', 'nowhere.jsonl']);
  expect(missing.code).toBe(2);
  expect(missing.stderr).toMatch(/--against: cannot read nowhere\.jsonl/);
  const bad = sb.write('bad.jsonl', '{"chain": "x", "position": 1}\n');
  const r = sb.run(['audit', 'verify', '--against', bad]);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/line 1 is not a chain head/);
});
