/**
 * The fsync of a COMMIT at store.durability 'full', off the event loop (issues 12 and 13).
 *
 * With PRAGMA synchronous = FULL in WAL mode, every COMMIT ends in an fdatasync of the -wal file
 * on the thread that runs it: the gate's only thread, blocked 0.5–2.5 ms per group while the next
 * calls' HTTP requests and PBX events wait behind the disk. Instead, at 'full', the store runs its
 * connection at synchronous = NORMAL and syncs the WAL itself, with fs.fdatasync on libuv's thread
 * pool, before any write's promise resolves:
 *
 *  - In WAL mode at NORMAL a COMMIT write()s its frames to the -wal file (into the OS page cache:
 *    another process sees them at once) and returns without a sync (SQLite 3.53,
 *    better-sqlite3/deps/sqlite3/sqlite3.c, sqlite3WalFrames: the commit's sync runs only when WAL_SYNC_FLAGS(sync_flags) != 0, i.e. at FULL; at NORMAL
 *    sqlite3PagerSetFlags gives walSyncFlags only the checkpoint bits). SQLite still syncs, at
 *    NORMAL as at FULL: the WAL header each time the WAL (re)starts (pWal->syncHeader, so that the
 *    frames of a rewound WAL can never be read with a stale header, ticket ff5be73dee), the
 *    folder on the -wal file's first sync (UNIXFILE_DIRSYNC), and, at every checkpoint, the WAL
 *    before its frames are copied and the database file before the WAL may be rewound.
 *  - fdatasync flushes every dirty page of the file, whatever descriptor wrote it (it acts on the
 *    inode), and the size change of an appended frame with it. So once an fdatasync of the -wal
 *    file that STARTED after a COMMIT returned has succeeded, that COMMIT's frames are on disk:
 *    the same state as at FULL when COMMIT returns. `after` resolves exactly then.
 *  - The descriptor stays valid: SQLite only deletes the -wal file when the last connection to
 *    the database closes (ours is open until close()) and truncates it in place otherwise (same
 *    inode). It is opened read-only: this module never writes the file.
 *  - A WAL rewound after a complete checkpoint: its old frames are in the database file, synced by
 *    the checkpoint before the rewind was allowed; new frames are covered by the next fdatasync.
 *  - Durability is prefix-closed: the WAL is written in commit order, so any write that read an
 *    unsynced commit (in this process or another gate process) is later in the WAL and the sync
 *    that makes it durable makes the earlier one durable too. A reader may see a
 *    committed-but-not-yet-synced attempt: that only makes FREQ-1 (D. 223-9 al. 3) stricter (it
 *    counts one attempt more, until a crash loses it), never lets a fifth call through, and the
 *    call itself is not placed before its own promise resolves, after the sync.
 *
 * At most one fdatasync is in flight. Writes committed while it runs wait for the next one, which
 * starts as soon as it returns and covers all of them: the event loop keeps parsing requests and
 * committing groups meanwhile, so groups pipeline with the disk and grow under load.
 *
 * A failed fdatasync rejects the writes it covered and every one waiting, and fails the store for
 * good (CG_ERR_STORE_FAULT): after a failed fsync the kernel may have dropped the dirty pages and
 * a later fsync may report success for data that never reached the disk (PostgreSQL panics for the
 * same reason, "fsyncgate" 2018). The gate must be restarted (SQLite's recovery then reads what is
 * really on disk).
 */
import * as fs from 'node:fs';
import type { StoreError } from '../../gate/store';
import { storeError } from '../memory/common';

/** fs.fdatasync's shape: injectable for tests (a failing disk); the real one otherwise. */
export type SyncFn = (fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => void;

/** Called once the sync covering a write has succeeded (no argument) or failed (the store's failure). */
type Waiter = (err?: StoreError) => void;

export type WalSyncStats = {
  /** fdatasync calls completed. */
  syncs: number;
  /** Commits (groups, or other writes) that waited for one. */
  commits: number;
};

export class WalSync {
  private readonly fd: number;
  /** An fdatasync is running. */
  private running = false;
  /** Commits that came while one runs: the next fdatasync covers them. */
  private next: Waiter[] = [];
  /** Resolved when nothing is running nor waiting (close). */
  private idle: (() => void)[] = [];
  private failure: StoreError | undefined;
  private closed = false;
  private readonly counts: WalSyncStats = { syncs: 0, commits: 0 };

  /**
   * Opens `walPath`, which must exist (the connection has read the database once): the database
   * file's name as SQLite resolved it (PRAGMA database_list: symbolic links followed, as SQLite
   * does to place its -wal file) followed by "-wal". libuv opens it close-on-exec.
   */
  constructor(
    private readonly walPath: string,
    private readonly syncFn: SyncFn = fs.fdatasync,
  ) {
    this.fd = fs.openSync(walPath, 'r');
  }

  /** The error every write gets once a sync failed (undefined while the disk is fine). */
  get failed(): StoreError | undefined {
    return this.failure;
  }

  stats(): WalSyncStats {
    return { ...this.counts };
  }

  /**
   * `done` runs once an fdatasync that started after this call has succeeded, or with the error
   * once one failed. Call it right after the COMMIT returned.
   */
  after(done: Waiter): void {
    if (this.failure) {
      done(this.failure);
      return;
    }
    this.counts.commits++;
    this.next.push(done);
    if (!this.running) this.start();
  }

  /** `after` as a promise (the store's writes outside the call path). */
  synced(): Promise<void> {
    return new Promise((resolve, reject) => this.after((err) => (err ? reject(err) : resolve())));
  }

  private start(): void {
    const covered = this.next;
    this.next = [];
    this.running = true;
    let called = false;
    const finish = (err: NodeJS.ErrnoException | null) => {
      if (called) return;
      called = true;
      this.running = false;
      this.counts.syncs++;
      if (err) this.fail(err);
      const failure = this.failure;
      for (const w of covered) w(failure);
      if (failure) {
        const rest = this.next;
        this.next = [];
        for (const w of rest) w(failure);
      } else if (this.next.length > 0) {
        this.start();
        return;
      }
      for (const r of this.idle.splice(0)) r();
    };
    try {
      this.syncFn(this.fd, finish);
    } catch (err) {
      finish(err as NodeJS.ErrnoException);
    }
  }

  private fail(err: NodeJS.ErrnoException): void {
    this.failure ??= storeError(
      'CG_ERR_STORE_FAULT',
      `the disk failed to sync ${this.walPath} (${err.code ?? ''} ${err.message}): the writes it covered may not be on disk, and after a failed fsync a later one may report success for data that was lost, so this store accepts no more writes; check the disk and restart the gate (SQLite then recovers what really is in the file)`,
      err,
    );
  }

  /** Resolves once no fdatasync runs nor waits (every write handed to `after` has been answered). */
  drain(): Promise<void> {
    if (!this.running && this.next.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** After drain(): closes the descriptor. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    fs.closeSync(this.fd);
  }
}
