/**
 * Opening the SQLite file safely: refuse a directory, a missing folder, a file
 * that is not SQLite (without writing a byte to it), then WAL, the durability
 * (synchronous FULL or NORMAL), busy_timeout and the migrations.
 *
 * WAL lets the gate read facts while an import or another gate writes; the
 * busy timeout makes two processes on one file wait for each other's
 * BEGIN IMMEDIATE instead of failing, which is how the FREQ-1 check-and-record
 * (D. 223-9 al. 3) stays atomic across gates.
 */
import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { StoreError } from '../../gate/store';
import { storeError } from '../memory/common';
import type { CheckpointerOptions } from './checkpointer';
import { migrate, type OnMigration } from './migrations';
import type { SyncFn } from './wal-sync';

/**
 * What a write survives once its promise has resolved (store.durability). In WAL mode both survive
 * a crash of the process (the WAL is written before COMMIT returns); 'full' also has the WAL on
 * disk (fdatasync) before the promise resolves, so the write survives a power cut or a kernel
 * crash: SQLite's PRAGMA synchronous = FULL while the file is opened and migrated, then NORMAL
 * with the store's own fdatasync of the WAL off the event loop (./wal-sync.ts); 'normal'
 * (synchronous = NORMAL, no per-commit sync) syncs only at checkpoints, so the last commits before
 * a power cut may be lost (the file stays consistent). Both sync the WAL before each checkpoint
 * and the database after it.
 */
export type Durability = 'normal' | 'full';
export const DEFAULT_DURABILITY: Durability = 'full';
/** PRAGMA synchronous for each durability (and the number SQLite reads back). */
export const SYNCHRONOUS: Readonly<Record<Durability, { pragma: string; level: number }>> = {
  normal: { pragma: 'NORMAL', level: 1 },
  full: { pragma: 'FULL', level: 2 },
};

export type SqliteOptions = {
  /** How long a writer waits for another's lock before failing, ms. */
  busyTimeoutMs?: number;
  /** Page cache per connection, KiB. */
  cacheKiB?: number;
  /**
   * Bytes of the file read through a memory map instead of read() calls
   * (PRAGMA mmap_size; 0 = off). Default 1 GiB: each page-cache miss on the
   * hot path is otherwise one pread syscall.
   */
  mmapBytes?: number;
  /**
   * Who checkpoints the WAL: 'worker' (default for files: a worker thread with
   * its own connection, off the hot path, see checkpointer.ts) or 'sqlite'
   * (SQLite's automatic checkpoint inside the committing transaction).
   */
  checkpoint?: 'worker' | 'sqlite';
  /** Tuning of the checkpoint worker (tests, benchmarks). */
  checkpointer?: CheckpointerOptions;
  /**
   * Tests only: how long a call outcome alone waits for another write to share its COMMIT
   * (default OUTCOME_JOIN_MS, sqlite-store.ts), so that a test of the joining does not depend on
   * two of its lines running within 20 ms of each other on a loaded machine.
   */
  outcomeJoinMs?: number;
  /**
   * For the long-running gate: once open, the connection never sleeps in SQLite's busy handler
   * (busy_timeout 0). The store's own writes (decideAndCommit, commitDecision, recordOutcome,
   * releaseAttempt) still wait for another connection's write lock up to busyTimeoutMs, with
   * timers, so that the process keeps answering calls meanwhile; anything else on a locked file
   * (imports, reads outside a write) fails at once. Without it (one-shot commands) the store's
   * writes wait the same way and the rest waits in SQLite's handler.
   */
  pollLocks?: boolean;
  /**
   * Told before each schema migration step runs on an existing file, so that
   * the caller can say why opening takes a while (migration 4 rewrites the
   * decisions table: ~20 s per million decisions, the file locked meanwhile).
   */
  onMigration?: OnMigration;
  /** What a write survives (store.durability, default 'full'); the checkpoint worker uses the same. */
  durability?: Durability;
  /**
   * Tests only: the fdatasync of the WAL at durability full (fs.fdatasync by default), e.g. one
   * that fails as a dying disk would, or that counts its calls. Ignored at 'normal' and in memory.
   */
  syncWal?: SyncFn;
  /**
   * Refuse a file this process can read but not write (CG_ERR_STORE_READONLY) instead of opening
   * it: `callgate start` would otherwise run a gate whose every decision fails to commit.
   */
  requireWritable?: boolean;
};

const SQLITE_MAGIC = Buffer.from('SQLite format 3\u0000', 'latin1');

function checkPath(path: string): void {
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw storeError(
        'CG_ERR_STORE_OPEN',
        `cannot read ${path}: ${(err as Error).message}; check store.path and its permissions`,
        err,
      );
    }
  }
  if (st === undefined) {
    const dir = nodePath.dirname(nodePath.resolve(path));
    let dst: fs.Stats;
    try {
      dst = fs.statSync(dir);
    } catch (err) {
      throw storeError(
        'CG_ERR_STORE_OPEN',
        `cannot create ${path}: its folder ${dir} does not exist; create it or fix store.path`,
        err,
      );
    }
    if (!dst.isDirectory())
      throw storeError('CG_ERR_STORE_OPEN', `cannot create ${path}: ${dir} is not a folder; fix store.path`);
    return;
  }
  if (st.isDirectory())
    throw storeError(
      'CG_ERR_STORE_OPEN',
      `${path} is a directory; store.path must name a database file, e.g. ${nodePath.join(path, 'callgate.db')}`,
    );
  if (!st.isFile())
    throw storeError('CG_ERR_STORE_OPEN', `${path} is not a regular file; store.path must name a database file`);
  if (st.size === 0) return; // an empty file is an empty SQLite database
  const head = Buffer.alloc(SQLITE_MAGIC.length);
  let fd: number | undefined;
  try {
    fd = fs.openSync(path, 'r');
    fs.readSync(fd, head, 0, head.length, 0);
  } catch (err) {
    throw storeError('CG_ERR_STORE_OPEN', `cannot read ${path}: ${(err as Error).message}; check its permissions`, err);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
  if (!head.equals(SQLITE_MAGIC)) {
    throw storeError(
      'CG_ERR_STORE_NOT_SQLITE',
      `${path} is not a SQLite database (its first bytes are not "SQLite format 3"); it was left untouched. Point store.path at a callgate database or at a new file name`,
    );
  }
}

/**
 * A new store file is created 0600: it holds phone numbers and consents. SQLite gives its -wal and
 * -shm files the mode of the database file. An existing file's mode is left as it is.
 */
function createPrivate(path: string): void {
  try {
    fs.closeSync(fs.openSync(path, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_RDWR, 0o600));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

/**
 * A write that is rolled back: SQLite itself says whether this connection can write the file. A
 * read-only file answers SQLITE_READONLY before any lock is asked for; SQLITE_BUSY (another
 * process is writing) means the file is writable, and the probe does not wait for it.
 */
function checkWritable(db: Database.Database, path: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  const busy = db.pragma('busy_timeout', { simple: true }) as number;
  db.pragma('busy_timeout = 0');
  try {
    db.exec('BEGIN');
    db.pragma(`user_version = ${version}`);
  } catch (err) {
    const code = String((err as { code?: unknown }).code ?? '');
    if (code.startsWith('SQLITE_BUSY')) return;
    if (code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_PERM')) {
      throw storeError(
        'CG_ERR_STORE_READONLY',
        `${path} can be read but not written by this process (${(err as Error).message}); give the user callgate runs as write access to the file, its -wal and -shm files and its folder, or point store.path at a writable place`,
        err,
      );
    }
    throw err;
  } finally {
    if (db.inTransaction) db.exec('ROLLBACK');
    db.pragma(`busy_timeout = ${busy}`);
  }
}

/** Opens (creating if needed) and migrates; throws StoreError with what to fix. */
export function openSqlite(path: string, opts: SqliteOptions = {}): Database.Database {
  if (typeof path !== 'string' || path.length === 0)
    throw storeError('CG_ERR_STORE_OPEN', 'store.path is empty; give the path of the database file');
  const inMemory = path === ':memory:';
  if (!inMemory) checkPath(path);
  const durability = opts.durability ?? DEFAULT_DURABILITY;
  if (!Object.hasOwn(SYNCHRONOUS, durability))
    throw storeError(
      'CG_ERR_STORE_OPEN',
      `store.durability ${JSON.stringify(durability)} is not one of normal|full; fix the configuration`,
    );
  const busy = opts.busyTimeoutMs ?? 5000;
  let db: Database.Database;
  try {
    if (!inMemory) createPrivate(path);
    db = new Database(path, { timeout: busy });
  } catch (err) {
    throw storeError(
      'CG_ERR_STORE_OPEN',
      `cannot open ${path}: ${(err as Error).message}; check store.path, its permissions and free disk space`,
      err,
    );
  }
  try {
    if (!inMemory) {
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') throw new Error(`journal_mode is ${String(mode)}, WAL could not be enabled`);
    }
    db.pragma(`synchronous = ${SYNCHRONOUS[durability].pragma}`);
    db.pragma(`busy_timeout = ${busy}`);
    db.pragma(`cache_size = -${opts.cacheKiB ?? 65536}`);
    db.pragma('temp_store = FILE');
    if (!inMemory) db.pragma(`mmap_size = ${opts.mmapBytes ?? 1073741824}`);
    // The WAL is rewound, not trimmed: trimming a large WAL is one ftruncate of ~300 ms inside a
    // commit. Its size is bounded by the checkpointer (checkpointer.ts) and it is truncated at close.
    db.pragma('journal_size_limit = -1');
    // a new file (version 0) is created, not migrated: nothing worth telling
    const fresh = (db.pragma('user_version', { simple: true }) as number) === 0;
    migrate(db, path, undefined, fresh ? undefined : opts.onMigration);
    if (opts.requireWritable && !inMemory) checkWritable(db, path);
    return db;
  } catch (err) {
    db.close();
    if (err instanceof StoreError) throw err;
    const code = (err as { code?: string }).code;
    if (code === 'SQLITE_NOTADB') {
      throw storeError(
        'CG_ERR_STORE_NOT_SQLITE',
        `${path} is not a SQLite database (${(err as Error).message}); point store.path at a callgate database`,
        err,
      );
    }
    throw storeError(
      'CG_ERR_STORE_OPEN',
      `cannot open ${path}: ${(err as Error).message}; check its permissions, that the folder is writable (WAL needs -wal and -shm files beside it) and free disk space`,
      err,
    );
  }
}
