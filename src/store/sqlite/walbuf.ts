/**
 * The WAL write buffer: native/walbuf.c, a SQLite VFS shim that writes each
 * WAL commit with one pwrite instead of two per page (15-30% more
 * check-and-record decisions per second, docs/BENCHMARKS.md). Built at
 * install into build/walbuf.so by scripts/build-walbuf.js.
 *
 * Loading it makes it the default VFS of the whole process, for every SQLite
 * connection opened afterwards (the checkpoint worker's too): SQLite has one
 * VFS list per process, and better-sqlite3 cannot name a VFS per connection.
 * So it is decided once, by the first store the process opens
 * (store.walBuffer, default on); it cannot be unloaded.
 *
 * Not built (no C compiler at install) or not loadable: the store runs on
 * SQLite's own unix VFS, the same file format and locking, only slower.
 */
import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as path from 'node:path';

export type WalBufferStatus = { active: true; library: string } | { active: false; reason: string; library?: string };

let decided: WalBufferStatus | undefined;

/** build/walbuf.so of the package: three folders up from src/store/sqlite, four from dist/src/store/sqlite. */
function libraryPath(): string | undefined {
  for (const rel of ['../../..', '../../../..']) {
    const root = path.resolve(__dirname, rel);
    if (fs.existsSync(path.join(root, 'package.json')) && fs.existsSync(path.join(root, 'native', 'walbuf.c')))
      return path.join(root, 'build', 'walbuf.so');
  }
  return undefined;
}

/**
 * Loads the buffer into this process (once; later calls return the first answer).
 * `want` false: the process stays on SQLite's unix VFS.
 */
export function enableWalBuffer(want = true): WalBufferStatus {
  if (decided) return decided;
  const library = libraryPath();
  // loaded by an earlier copy of this module (a test runner's fresh module registry): it stays
  if (library && loadedInProcess()) return (decided = { active: true, library });
  if (!want) return (decided = { active: false, reason: 'turned off (store.walBuffer: false)' });
  if (!library || !fs.existsSync(library)) {
    return (decided = {
      active: false,
      library,
      reason: 'not built (no C compiler when npm installed callgate?); npm run build:native builds it',
    });
  }
  const boot = new Database(':memory:');
  try {
    boot.loadExtension(library); // entry point sqlite3_walbuf_init, from the file name
    decided = { active: true, library };
  } catch (err) {
    decided = { active: false, library, reason: `could not be loaded: ${(err as Error).message}` };
  } finally {
    boot.close();
  }
  return decided;
}

/** Whether this process's SQLite already has the buffer (its SQL function exists in a new connection). */
function loadedInProcess(): boolean {
  const db = new Database(':memory:');
  try {
    db.prepare('SELECT callgate_walbuf()');
    return true;
  } catch {
    return false;
  } finally {
    db.close();
  }
}

/** What enableWalBuffer decided, if it ran in this process. */
export function walBufferStatus(): WalBufferStatus | undefined {
  return decided;
}

/** Counters of the buffer as seen by `db` (callgate_walbuf()), or undefined when it is not loaded. */
export function walBufferStats(db: Database.Database): { vfs: string; writes: number; flushes: number } | undefined {
  try {
    return JSON.parse(db.prepare('SELECT callgate_walbuf()').pluck().get() as string) as {
      vfs: string;
      writes: number;
      flushes: number;
    };
  } catch {
    return undefined;
  }
}
