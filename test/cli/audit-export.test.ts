/**
 * `callgate audit export` and `callgate subject export`, through the built command: what a
 * compliance officer and a consumer's access request get, and an export of 100,000 decisions
 * under a 48 MB heap (it streams: constant memory) from SQLite and from PostgreSQL.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { BASE_CONFIG, BIN, CALLEE, CALLEE_E164, CALLER, sandbox, type Sandbox } from './helpers';
import { createTestDb, sql, type TestDb } from '../store/pg-db';

let sb: Sandbox;
beforeAll(() => {
  sb = sandbox();
  const ok = (args: string[]) => expect(sb.run(args).code).not.toBe(2);
  ok([
    'consent',
    'add',
    CALLEE,
    '--professional',
    'acme',
    '--collected-at',
    '2026-11-01T09:00',
    '--source',
    'form "B", page 2',
  ]);
  ok(['check', '--to', CALLEE, '--caller-id', CALLER, '--at', '2026-11-24T11:00', '--record']);
  ok(['check', '--to', CALLEE, '--caller-id', CALLER, '--at', '2026-11-28T11:00', '--record']); // Saturday: blocked
  ok(['check', '--to', CALLEE, '--caller-id', CALLER, '--at', '2026-12-02T11:00', '--record']); // after the period
});
afterAll(() => sb?.cleanup());

test('csv: a header, then one line per decision of the period, oldest first, with reasons, legal references, basis', () => {
  const r = sb.run(['audit', 'export', '--from', '2026-11-01', '--to', '2026-12-01']);
  expect(r.code).toBe(0);
  const lines = r.stdout.trimEnd().split('\n');
  expect(lines[0]).toBe(
    'decision_id,at,number,professional,campaign,verdict,regime,basis,reasons,legal_refs,rules,tags,monitor_only,pbx,channel_id,answered,dial_status,hangup_cause,duration_ms,ended_at',
  );
  expect(lines).toHaveLength(3);
  const [allowed, blocked] = lines.slice(1).map((l) => l.split(','));
  expect(allowed!.slice(1, 9)).toEqual([
    '2026-11-24T10:00:00.000Z',
    CALLEE_E164,
    'acme',
    'energy',
    'allow',
    'consent',
    'consent',
    '',
  ]);
  expect(blocked![5]).toBe('block');
  expect(blocked![8]).toMatch(/non_working_day/);
  expect(blocked![9]).toMatch(/^TIME-\d: ./);
  expect(r.stderr).toBe('callgate: 2 decisions from 2026-10-31T23:00:00.000Z to 2026-11-30T23:00:00.000Z\n');
});

test('jsonl: one JSON object per decision, the whole decision with its rules', () => {
  const r = sb.run(['audit', 'export', '--from', '2026-11-01', '--to', '2026-12-31', '--format', 'jsonl']);
  expect(r.code).toBe(0);
  const rows = r.stdout
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l));
  expect(rows.map((x) => x.verdict)).toEqual(['allow', 'block', 'allow']);
  expect(rows[0].number).toBe(CALLEE_E164);
  expect(rows[0].decision.rules.length).toBeGreaterThan(5);
  expect(rows[0].decision.basis).toBe('consent');
});

test('bad periods and formats are refused with what to fix', () => {
  expect(sb.run(['audit', 'export', '--from', '2026-12-01', '--to', '2026-11-01']).stderr).toMatch(
    /must be after --from/,
  );
  expect(sb.run(['audit', 'export', '--from', '2026-11-01', '--to', '2026-12-01', '--format', 'xml']).stderr).toMatch(
    /'xml' is not an export format; use csv or jsonl/,
  );
  expect(sb.run(['audit', 'export', '--from', 'yesterday', '--to', '2026-12-01']).code).toBe(2);
});

test('subject export: everything about one number as one JSON document', () => {
  const r = sb.run(['subject', 'export', CALLEE]);
  expect(r.code).toBe(0);
  const doc = JSON.parse(r.stdout);
  expect(doc.subject).toBe(CALLEE_E164);
  expect(doc.consents).toEqual([
    expect.objectContaining({ professional: 'acme', source: 'form "B", page 2', e164: CALLEE_E164 }),
  ]);
  expect(doc.decisions).toHaveLength(3);
  expect(doc.attempts).toHaveLength(2);
  expect(Object.keys(doc)).toEqual(expect.arrayContaining(['contracts', 'dnc', 'refusals', 'opposition']));
});

/** 100,000 decision rows (one template, distinct ids and times) for the streaming tests. */
const N = 100_000;
function rows(template: string) {
  const t0 = Date.parse('2026-11-02T09:00:00Z');
  return Array.from({ length: N }, (_, i) => ({
    id: `bulk-${String(i).padStart(6, '0')}`,
    at: t0 + i * 1000,
    json: template,
  }));
}

/** Runs `audit export` with a 48 MB heap, stdout to a file; returns the number of lines written. */
function exportUnderSmallHeap(config: string): number {
  const out = join(sb.dir, 'export.jsonl');
  const fd = openSync(out, 'w');
  try {
    const r = spawnSync(
      process.execPath,
      [
        '--max-old-space-size=48',
        BIN,
        'audit',
        'export',
        '--from',
        '2026-11-01',
        '--to',
        '2026-12-01',
        '--format',
        'jsonl',
        '--config',
        config,
      ],
      { cwd: sb.dir, stdio: ['ignore', fd, 'pipe'], encoding: 'utf8', timeout: 240_000 },
    );
    expect({ code: r.status, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.stringMatching(/decisions from/) });
  } finally {
    closeSync(fd);
  }
  expect(statSync(out).size).toBeGreaterThan(48 * 1024 * 1024); // more than the heap could hold
  return readFileSync(out, 'utf8').split('\n').length - 1;
}

test('100,000 decisions from SQLite stream out under a 48 MB heap', () => {
  const db = new Database(sb.db);
  const template = (
    db.prepare("SELECT json FROM decisions WHERE verdict = 'allow' LIMIT 1").pluck().get() as string
  ).padEnd(0);
  const ins = db.prepare(
    "INSERT INTO decisions (id, at, e164, professional, campaign, verdict, reasons, json, counted) VALUES (@id, @at, '+33612000000', 'acme', 'energy', 'allow', '', @json, 1)",
  );
  db.transaction(() => rows(template).forEach((r) => ins.run(r)))();
  db.close();
  expect(exportUnderSmallHeap(sb.config)).toBe(N + 2); // and the two decisions of November 24 and 28
}, 300_000);

describe('on PostgreSQL', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb('auditexport');
  }, 30_000);
  afterAll(async () => {
    await db?.drop();
  });

  test('100,000 decisions stream out under a 48 MB heap', async () => {
    const yaml = sb.write(
      'pg.yaml',
      BASE_CONFIG.replace(
        'store:\n  driver: sqlite\n  path: ./callgate.db',
        `store:\n  driver: postgres\n  url: ${db.url}`,
      ),
    );
    // the schema (any command creates it), then 100,000 rows in one statement, the audit text of a real decision
    expect(sb.run(['history', CALLEE, '--config', yaml]).code).toBe(0);
    const sqliteDb = new Database(sb.db, { readonly: true });
    const template = sqliteDb
      .prepare("SELECT json FROM decisions WHERE verdict = 'allow' LIMIT 1")
      .pluck()
      .get() as string;
    sqliteDb.close();
    await sql(
      db.url,
      "INSERT INTO callgate.decisions (id, at, e164, professional, campaign, verdict, reasons, json, counted) SELECT 'pg-' || i, $1::bigint + i * 1000, '+33612000000', 'acme', 'energy', 'allow', '', $2, true FROM generate_series(0, $3::int - 1) AS i",
      [Date.parse('2026-11-02T09:00:00Z'), template, N],
    );
    expect(exportUnderSmallHeap(yaml)).toBe(N);
  }, 300_000);
});
