/**
 * The store's files hold phone numbers, consents and the audit: a new store is created 0600 (its
 * -wal and -shm files too), whatever the umask. `callgate start` refuses a store it cannot write
 * (test/cli/start.test.ts runs that as an unprivileged user).
 */
import { chmodSync, statSync } from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { openSqlite } from '../../src/store/sqlite/open';
import { scratchDirs } from '../scratch';

const tempDir = scratchDirs('callgate-modes-');
const mode = (file: string): number => statSync(file).mode & 0o777;

describe('SQLite store files', () => {
  it('are created 0600: the database, its -wal and its -shm, even with a permissive umask', () => {
    const file = path.join(tempDir(), 'gate.db');
    const old = process.umask(0o000);
    try {
      const db = openSqlite(file, { checkpoint: 'sqlite' });
      db.exec('CREATE TABLE IF NOT EXISTS probe (a)');
      db.prepare('INSERT INTO probe VALUES (1)').run();
      expect([mode(file), mode(`${file}-wal`), mode(`${file}-shm`)]).toEqual([0o600, 0o600, 0o600]);
      db.close();
    } finally {
      process.umask(old);
    }
  });

  it('leave the mode of an existing file alone', () => {
    const file = path.join(tempDir(), 'old.db');
    new Database(file).close();
    chmodSync(file, 0o640);
    openSqlite(file, { checkpoint: 'sqlite' }).close();
    expect(mode(file)).toBe(0o640);
  });

  it('a writable file passes the writable check, and the check changes nothing', () => {
    const file = path.join(tempDir(), 'gate.db');
    openSqlite(file, { checkpoint: 'sqlite' }).close();
    const before = statSync(file).mtimeMs;
    const db = openSqlite(file, { checkpoint: 'sqlite', requireWritable: true });
    expect(db.inTransaction).toBe(false);
    db.close();
    expect(statSync(file).mtimeMs).toBe(before);
  });
});
