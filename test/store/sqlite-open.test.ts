/**
 * Opening the SQLite store: pragmas, migrations, and the clear errors for a
 * path that cannot be a callgate database.
 */
import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decisionToJson } from '../../src/core';
import { StoreError } from '../../src/gate/store';
import { openStore } from '../../src/store';
import { migrate, MIGRATIONS, SCHEMA_VERSION, type Migration } from '../../src/store/sqlite/migrations';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store';
import { decision, NUM, PRO } from './contract';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'callgate-sqlite-open-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function openError(cfg: Parameters<typeof openStore>[0]): StoreError {
  try {
    openStore(cfg);
  } catch (err) {
    expect(err).toBeInstanceOf(StoreError);
    return err as StoreError;
  }
  throw new Error('openStore did not throw');
}

test('a new file is created in WAL mode, durability full (the default: the store syncs the WAL), with a busy timeout and the schema', async () => {
  const file = path.join(dir, 'new.db');
  const store = SqliteStore.open(file, { busyTimeoutMs: 1234 });
  try {
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.syncStats()).toBeDefined();
    expect(store.db.pragma('busy_timeout', { simple: true })).toBe(1234);
    expect(store.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    const applied = store.db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all();
    expect(applied[0]).toEqual({ version: 1, name: 'initial schema' });
    expect(applied).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
    const indexes = store.db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      .pluck()
      .all();
    expect(indexes).toEqual([
      'consents_key',
      'contracts_key',
      'decisions_at',
      'decisions_chain',
      'decisions_number',
      'dnc_key',
      'refusals_number',
    ]);
  } finally {
    await store.close();
  }
});

test('store.durability: full syncs the WAL itself (synchronous NORMAL + fdatasync), normal is NORMAL alone; anything else is refused', async () => {
  for (const [durability, synced] of [
    ['full', true],
    ['normal', false],
  ] as const) {
    const store = openStore({ driver: 'sqlite', path: path.join(dir, `${durability}.db`), durability }) as SqliteStore;
    try {
      // at full the COMMIT's fsync is the store's own fdatasync of the WAL (wal-sync.ts)
      expect(store.db.pragma('synchronous', { simple: true })).toBe(1);
      expect(store.syncStats() !== undefined).toBe(synced);
    } finally {
      await store.close();
    }
  }
  const file = path.join(dir, 'off.db');
  const err = openError({ driver: 'sqlite', path: file, durability: 'off' as 'full' });
  expect(err.code).toBe('CG_ERR_STORE_OPEN');
  expect(err.message).toMatch(/store\.durability "off" is not one of normal\|full/);
  expect(fs.existsSync(file)).toBe(false);
});

test('the hot-path queries use their indexes', async () => {
  const store = SqliteStore.open(path.join(dir, 'plan.db'));
  try {
    const plan = (sql: string) =>
      (store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail).join(' | ');
    // FREQ-1 count: the number index alone (covering), never the table
    expect(
      plan(
        "SELECT at FROM decisions WHERE e164 = '+1' AND professional = 'p' AND at >= 0 AND counted = 1 AND released = 0 ORDER BY at",
      ),
    ).toMatch(/SEARCH decisions USING COVERING INDEX decisions_number \(e164=\? AND professional=\? AND at>\?\)/);
    // an attempt by decision id (release, outcome): the id index
    expect(plan("UPDATE decisions SET released = 1 WHERE id = 'x' AND counted = 1")).toMatch(
      /SEARCH decisions USING INDEX sqlite_autoindex_decisions_1/,
    );
    expect(plan("SELECT * FROM consents WHERE e164 = '+1' ORDER BY id")).toMatch(/USING INDEX consents_key/);
    expect(plan("SELECT * FROM contracts WHERE e164 = '+1' AND professional = 'p'")).toMatch(
      /USING INDEX contracts_key/,
    );
    expect(plan("SELECT * FROM dnc WHERE e164 = '+1'")).toMatch(/USING INDEX dnc_key/);
    expect(plan("SELECT * FROM refusals WHERE e164 = '+1' AND professional = 'p'")).toMatch(
      /USING INDEX refusals_number/,
    );
  } finally {
    await store.close();
  }
});

test('data survives a close and reopen; reopening does not re-run migrations', async () => {
  const file = path.join(dir, 'persist.db');
  const a = openStore({ driver: 'sqlite', path: file });
  await a.commitDecision(decision(), {
    recordAttempt: true,
    windowStart: new Date('2026-11-01T00:00:00Z'),
    maxAttempts: 4,
  });
  await a.close();
  const b = SqliteStore.open(file);
  try {
    expect((await b.history(NUM, PRO)).attempts).toHaveLength(1);
    expect(b.db.prepare('SELECT COUNT(*) FROM schema_migrations').pluck().get()).toBe(MIGRATIONS.length);
  } finally {
    await b.close();
  }
});

test('a later migration runs on open of an older file, in order', () => {
  const db = new Database(':memory:');
  const steps: Migration[] = [
    {
      version: 1,
      name: 'one',
      sql: 'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL); CREATE TABLE t (a INTEGER);',
    },
    { version: 2, name: 'two', sql: 'ALTER TABLE t ADD COLUMN b TEXT;' },
  ];
  expect(migrate(db, ':memory:', steps.slice(0, 1))).toBe(1);
  expect(migrate(db, ':memory:', steps)).toBe(2);
  expect(db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all('t')).toEqual(['a', 'b']);
  expect(db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all()).toEqual([1, 2]);
  db.close();
});

test('a failing migration leaves the file at the previous version', () => {
  const db = new Database(':memory:');
  const steps: Migration[] = [
    {
      version: 1,
      name: 'one',
      sql: 'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL);',
    },
    { version: 2, name: 'broken', sql: 'CREATE TABLE ok (a); CREATE TABLE ok (a);' },
  ];
  expect(() => migrate(db, ':memory:', steps)).toThrow(/already exists/);
  expect(db.pragma('user_version', { simple: true })).toBe(1);
  expect(db.prepare("SELECT COUNT(*) FROM sqlite_master WHERE name = 'ok'").pluck().get()).toBe(0);
  db.close();
});

test('a database with a newer schema is refused with CG_ERR_STORE_SCHEMA', () => {
  const file = path.join(dir, 'future.db');
  const db = new Database(file);
  db.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
  db.close();
  const err = openError({ driver: 'sqlite', path: file });
  expect(err.code).toBe('CG_ERR_STORE_SCHEMA');
  expect(err.message).toContain(`schema version ${SCHEMA_VERSION + 5}`);
  expect(err.message).toContain(`up to ${SCHEMA_VERSION}`);
  expect(err.message).toMatch(/upgrade callgate/);
});

test('a text file is refused with CG_ERR_STORE_NOT_SQLITE and left byte for byte untouched', () => {
  const file = path.join(dir, 'notes.txt');
  const content = 'these are my notes\nnot a database\n';
  fs.writeFileSync(file, content);
  const before = fs.statSync(file);
  const err = openError({ driver: 'sqlite', path: file });
  expect(err.code).toBe('CG_ERR_STORE_NOT_SQLITE');
  expect(err.message.startsWith(`CG_ERR_STORE_NOT_SQLITE: ${file} is not a SQLite database`)).toBe(true);
  expect(fs.readFileSync(file, 'utf8')).toBe(content);
  expect(fs.statSync(file).mtimeMs).toBe(before.mtimeMs);
  expect(fs.existsSync(`${file}-wal`)).toBe(false);
  expect(fs.existsSync(`${file}-shm`)).toBe(false);
});

test('a directory, a missing folder and an empty path are refused with CG_ERR_STORE_OPEN', () => {
  const d = openError({ driver: 'sqlite', path: dir });
  expect(d.code).toBe('CG_ERR_STORE_OPEN');
  expect(d.message).toContain(`${dir} is a directory`);
  const missing = path.join(dir, 'no', 'such', 'folder', 'x.db');
  const m = openError({ driver: 'sqlite', path: missing });
  expect(m.code).toBe('CG_ERR_STORE_OPEN');
  expect(m.message).toContain(`its folder ${path.dirname(missing)} does not exist`);
  expect(fs.existsSync(path.join(dir, 'no'))).toBe(false);
  expect(openError({ driver: 'sqlite', path: '' }).code).toBe('CG_ERR_STORE_OPEN');
  expect(openError({ driver: 'mysql' } as never).message).toMatch(/not supported here/);
});

test('a path whose parent is a file is refused with CG_ERR_STORE_OPEN', () => {
  const f = path.join(dir, 'plain');
  fs.writeFileSync(f, 'x');
  const err = openError({ driver: 'sqlite', path: path.join(f, 'x.db') });
  expect(err.code).toBe('CG_ERR_STORE_OPEN');
});

test('an empty existing file becomes a new database', async () => {
  const file = path.join(dir, 'empty.db');
  fs.writeFileSync(file, '');
  const store = SqliteStore.open(file);
  expect(store.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
  await store.close();
});

test('an import being staged does not hold the write lock another gate needs', async () => {
  const file = path.join(dir, 'staged.db');
  const importer = SqliteStore.open(file);
  const gate = SqliteStore.open(file, { busyTimeoutMs: 50 });
  try {
    const s = await importer.beginImport('consent');
    await s.consents([{ e164: NUM, professional: PRO, categories: [], collectedAt: new Date('2026-09-01T00:00:00Z') }]);
    // while the session is open, another connection still commits at once
    expect(
      await gate.commitDecision(decision(), {
        recordAttempt: true,
        windowStart: new Date('2026-11-01T00:00:00Z'),
        maxAttempts: 4,
      }),
    ).toEqual({ ok: true });
    expect(
      (await gate.getFacts({ e164: NUM, professional: PRO, at: new Date(), windowStart: new Date(0) })).consents,
    ).toEqual([]);
    await s.commit();
    expect(
      (await gate.getFacts({ e164: NUM, professional: PRO, at: new Date(), windowStart: new Date(0) })).consents,
    ).toHaveLength(1);
  } finally {
    await importer.close();
    await gate.close();
  }
});

test('a write blocked past the busy timeout is a StoreError CG_ERR_STORE_FAULT, not a hang', async () => {
  const file = path.join(dir, 'busy.db');
  const gate = SqliteStore.open(file, { busyTimeoutMs: 20 });
  const other = new Database(file);
  try {
    other.exec('BEGIN IMMEDIATE');
    const err = await gate
      .commitDecision(decision(), { recordAttempt: true, windowStart: new Date(0), maxAttempts: 4 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe('CG_ERR_STORE_FAULT');
    expect((err as StoreError).message).toMatch(/locked by another process longer than the busy timeout/);
    other.exec('ROLLBACK');
  } finally {
    other.close();
    await gate.close();
  }
});

test('migration 2 merges rows a version-1 file already holds twice, keeping the earliest withdrawal/end/date', async () => {
  const file = path.join(dir, 'v1-duplicates.db');
  const v1 = new Database(file);
  migrate(v1, file, MIGRATIONS.slice(0, 1));
  const c = v1.prepare(
    'INSERT INTO consents (e164, professional, categories, collected_at, source, withdrawn_at) VALUES (?, ?, ?, ?, ?, ?)',
  );
  c.run(NUM, PRO, 'a', 1000, 'first', null);
  c.run(NUM, PRO, 'a', 1000, 'second', 5000);
  c.run(NUM, PRO, 'a', 1000, 'third', 7000);
  c.run(NUM, PRO, 'b', 1000, 'other categories', null);
  const k = v1.prepare('INSERT INTO contracts (e164, professional, categories, start, "end") VALUES (?, ?, ?, ?, ?)');
  k.run(NUM, PRO, '', 1000, null);
  k.run(NUM, PRO, '', 1000, 9000);
  const n = v1.prepare('INSERT INTO dnc (e164, professional, reason, added_at) VALUES (?, ?, ?, ?)');
  n.run(NUM, null, 'first', 3000);
  n.run(NUM, null, 'second', 2000);
  n.run(NUM, PRO, null, 4000);
  v1.prepare(
    "INSERT INTO decisions (id, at, e164, professional, campaign, verdict, reasons, json) VALUES ('d1', 6000, ?, ?, 'c', 'allow', '', ?)",
  ).run(NUM, PRO, JSON.stringify(decisionToJson(decision({ id: 'd1', at: new Date(6000) }))));
  v1.prepare(
    "INSERT INTO attempts (decision_id, e164, professional, campaign, at, answered, dial_status, ended_at, released) VALUES ('d1', ?, ?, 'c', 6000, 1, 'ANSWER', 7000, 0), ('d0', ?, ?, 'c', 5000, NULL, NULL, NULL, 1)",
  ).run(NUM, PRO, NUM, PRO);
  v1.close();

  const store = SqliteStore.open(file);
  try {
    expect(store.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    const h = await store.history(NUM);
    expect(h.consents.map((x) => [x.source, x.withdrawnAt?.getTime()])).toEqual([
      ['first', 5000],
      ['other categories', undefined],
    ]);
    expect(h.contracts.map((x) => x.end?.getTime())).toEqual([9000]);
    // migrations 3 and 4 carry the attempts over, outcome and released flag included; the
    // attempt that had no decision row stays an attempt and does not become a decision
    expect(h.attempts.map((a) => [a.decisionId, a.at.getTime(), a.outcome?.dialStatus])).toEqual([
      ['d0', 5000, undefined],
      ['d1', 6000, 'ANSWER'],
    ]);
    expect(h.decisions.map((d) => [d.id, d.outcome?.dialStatus])).toEqual([['d1', 'ANSWER']]);
    const facts = await store.getFacts({ e164: NUM, professional: PRO, at: new Date(8000), windowStart: new Date(0) });
    expect(facts.recentAttempts).toEqual([new Date(6000)]);
    expect(await store.releaseAttempt('d1')).toBe(true);
    expect(
      (await store.getFacts({ e164: NUM, professional: PRO, at: new Date(8000), windowStart: new Date(0) }))
        .recentAttempts,
    ).toEqual([]);
    expect(h.dnc.map((x) => [x.professional ?? '*', x.reason, x.addedAt.getTime()])).toEqual([
      ['*', 'first', 2000],
      [PRO, undefined, 4000],
    ]);
  } finally {
    await store.close();
  }
});
