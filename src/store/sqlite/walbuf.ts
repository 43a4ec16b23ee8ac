/**
 * The WAL write buffer: native/walbuf.c, a SQLite VFS shim that writes each
 * WAL commit with one pwrite instead of two per page (~20% more
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

/** The package's folder: three up from src/store/sqlite, four from dist/src/store/sqlite. */
function packageRoot(): string | undefined {
  for (const rel of ['../../..', '../../../..']) {
    const root = path.resolve(__dirname, rel);
    if (fs.existsSync(path.join(root, 'package.json')) && fs.existsSync(path.join(root, 'native', 'walbuf.c')))
      return root;
  }
  return undefined;
}

/**
 * build/walbuf.so if it is there and not older than native/walbuf.c (a checkout that changed the
 * source without a rebuild must not load the old code); otherwise why not.
 */
export function walBufferLibrary(
  root = packageRoot(),
): { library: string; problem?: undefined } | { library?: string; problem: string } {
  if (!root) return { problem: 'its source native/walbuf.c is not in the package' };
  const library = path.join(root, 'build', 'walbuf.so');
  let built: fs.Stats;
  try {
    built = fs.statSync(library);
  } catch {
    return {
      library,
      problem: 'not built (no C compiler when npm installed callgate?); npm run build:native builds it',
    };
  }
  if (built.mtimeMs < fs.statSync(path.join(root, 'native', 'walbuf.c')).mtimeMs)
    return { library, problem: 'build/walbuf.so is older than native/walbuf.c; npm run build:native rebuilds it' };
  return { library };
}

/**
 * Loads the buffer into this process (once; later calls return the first answer).
 * `want` false: the process stays on SQLite's unix VFS.
 */
export function enableWalBuffer(want = true): WalBufferStatus {
  if (decided) return decided;
  const found = walBufferLibrary();
  // loaded by an earlier copy of this module (a test runner's fresh module registry): it stays
  if (found.library && loadedInProcess()) return (decided = { active: true, library: found.library });
  if (!want) return (decided = { active: false, reason: 'turned off (store.walBuffer: false)' });
  if (found.problem !== undefined)
    return (decided = { active: false, reason: found.problem, ...(found.library ? { library: found.library } : {}) });
  const library = found.library;
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
