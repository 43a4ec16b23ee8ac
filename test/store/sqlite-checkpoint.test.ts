/**
 * WAL checkpoints off the hot path (src/store/sqlite/checkpointer.ts): the
 * gate's connection never checkpoints inside a commit, a worker thread does,
 * close() stops it and leaves the WAL copied back and truncated.
 */
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Checkpointer } from '../../src/store/sqlite/checkpointer';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store';
import { decision } from './contract';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'callgate-sqlite-ckpt-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const windowStart = new Date('2026-11-01T00:00:00Z');
const commitMany = async (store: SqliteStore, n: number, tag: string) => {
  for (let i = 0; i < n; i++) {
    const d = decision({ id: `${tag}-${i}`, at: new Date(Date.UTC(2026, 10, 20, 10, 0, 0, i)) });
    await store.commitDecision(d, { recordAttempt: true, windowStart, maxAttempts: Infinity });
  }
};
const walSize = (file: string) => (fs.existsSync(`${file}-wal`) ? fs.statSync(`${file}-wal`).size : 0);

test('the gate connection does not checkpoint inside commits; the worker does, and the WAL is rewound, not grown', async () => {
  const file = path.join(dir, 'worker.db');
  const store = SqliteStore.open(file, { checkpointer: { busyMs: 1, idleMs: 2 } });
  try {
    expect(store.db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    let maxWal = 0;
    for (let round = 0; round < 40; round++) {
      await commitMany(store, 50, `r${round}`);
      maxWal = Math.max(maxWal, walSize(file));
      // a quiet moment, as between calls: long enough for the worker to run a pass, however
      // slow the host (a fixed 20 ms was not, on a loaded CI machine)
      const before = store.checkpointStats()?.passive ?? 0;
      for (let waited = 0; waited < 10_000 && (store.checkpointStats()?.passive ?? 0) <= before; waited += 10)
        await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 20));
    }
    const stats = store.checkpointStats();
    expect(stats?.failed).toBe(0);
    expect(stats?.passive).toBeGreaterThan(0);
    // 2,000 commits of several frames each (> 30 MB of WAL) through a file that stays small:
    // once the worker has copied everything, the next commit rewinds the WAL. A round writes
    // ~1 MB; on a slow disk the worker's fsync can outlast a quiet moment or two, hence 8 MB.
    // (Whether the worker also asked the store to pause during a round depends on the host's
    // speed, so it is not asserted here; the next test covers pauses.)
    expect(maxWal).toBeLessThan(8 * 1024 * 1024);
  } finally {
    await store.close();
  }
});

test('under continuous load the store pauses between two groups for the worker, and the WAL is rewound', async () => {
  const file = path.join(dir, 'busy.db');
  const restartFrames = 300;
  const store = SqliteStore.open(file, { checkpointer: { restartFrames, busyMs: 1, idleMs: 2, pauseMs: 2000 } });
  const at = new Date('2026-11-30T10:00:00Z');
  try {
    let maxWal = 0;
    let next = 0;
    // 16 callers that never leave the store a quiet moment: no rewind can happen by itself
    const caller = async () => {
      while (next < 6000) {
        const i = next++;
        const e164 = `+336${String(10_000_000 + i).slice(1)}`;
        await store.decideAndCommit(
          { e164, professional: 'acme', at, windowStart },
          () => decision({ id: `busy-${i}`, e164, at }),
          { recordAttempt: true, maxAttempts: 4 },
        );
        if (i % 100 === 0) maxWal = Math.max(maxWal, walSize(file));
      }
    };
    await Promise.all(Array.from({ length: 16 }, caller));
    const stats = store.checkpointStats();
    expect(stats?.failed).toBe(0);
    expect(stats?.pauses).toBeGreaterThan(0);
    expect(stats?.caughtUp).toBeGreaterThan(0);
    expect(stats?.pauseMsMax).toBeGreaterThan(0);
    // 6,000 decisions (thousands of frames, ~50 MB without a rewind) in a WAL rewound near 300
    // frames (~1.2 MB); a loaded host's slow worker may let it grow several times that
    expect(maxWal).toBeLessThan(restartFrames * 4120 * 16);
    expect(store.db.prepare('SELECT COUNT(*) FROM decisions').pluck().get()).toBe(6000);
  } finally {
    await store.close();
  }
});

test('close() stops the worker, copies the WAL back and truncates it; every row is in the file', async () => {
  const file = path.join(dir, 'close.db');
  const store = SqliteStore.open(file);
  await commitMany(store, 300, 'c');
  expect(walSize(file)).toBeGreaterThan(0);
  await store.close();
  expect(walSize(file)).toBe(0);
  const db = new Database(file, { readonly: true });
  try {
    expect(db.prepare('SELECT COUNT(*) FROM decisions').pluck().get()).toBe(300);
    expect(db.prepare('SELECT COUNT(*) FROM decisions WHERE counted = 1').pluck().get()).toBe(300);
  } finally {
    db.close();
  }
  await store.close(); // twice is harmless
});

test('a process that opens the store, commits and closes ends by itself once close() has resolved', () => {
  const file = path.join(dir, 'child.db');
  const marker = path.join(dir, 'child.closed');
  const script = `
    const fs = require('node:fs');
    const ts = require('typescript');
    require.extensions['.ts'] = (m, f) => m._compile(ts.transpileModule(fs.readFileSync(f, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true }, fileName: f }).outputText, f);
    const { SqliteStore } = require(${JSON.stringify(path.resolve(__dirname, '../../src/store/sqlite/sqlite-store.ts'))});
    (async () => {
      const store = SqliteStore.open(${JSON.stringify(file)});
      await store.addRefusal('+33612345678', 'acme', new Date());
      await store.close();
      fs.writeFileSync(${JSON.stringify(marker)}, 'closed');
    })();`;
  const r = spawnSync(process.execPath, ['-e', script], { cwd: path.resolve(__dirname, '../..'), encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  // the process did not exit while close() was still waiting for the worker
  expect(fs.readFileSync(marker, 'utf8')).toBe('closed');
  expect(walSize(file)).toBe(0);
});

test('a process that opens the store and never closes it still ends by itself, its commits kept', () => {
  // a forgotten close() (a script, a test that failed half-way) must not hang the process on the
  // checkpoint worker: jest running in band waited for it until CI's time limit
  const file = path.join(dir, 'forgotten.db');
  const script = `
    const fs = require('node:fs');
    const ts = require('typescript');
    require.extensions['.ts'] = (m, f) => m._compile(ts.transpileModule(fs.readFileSync(f, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true }, fileName: f }).outputText, f);
    const { SqliteStore } = require(${JSON.stringify(path.resolve(__dirname, '../../src/store/sqlite/sqlite-store.ts'))});
    (async () => {
      const store = SqliteStore.open(${JSON.stringify(file)});
      await store.addRefusal('+33612345678', 'acme', new Date());
      process.stdout.write(String(store.checkpointStats() !== undefined));
    })();`;
  const r = spawnSync(process.execPath, ['-e', script], {
    cwd: path.resolve(__dirname, '../..'),
    encoding: 'utf8',
    timeout: 20_000, // a bound for a hang, never reached when the process ends by itself
  });
  expect(r.error).toBeUndefined();
  expect(r.signal).toBeNull();
  expect(r.stderr).toBe('');
  expect(r.stdout).toBe('true'); // the worker was running
  expect(r.status).toBe(0);
  const db = new Database(file, { readonly: true });
  try {
    expect(db.prepare('SELECT COUNT(*) FROM refusals').pluck().get()).toBe(1);
  } finally {
    db.close();
  }
});

test('a worker that cannot open the file hands checkpointing back to SQLite', async () => {
  const file = path.join(dir, 'fallback.db');
  const store = SqliteStore.open(file, { checkpoint: 'sqlite' });
  try {
    expect(store.checkpointStats()).toBeUndefined();
    const cp = new Checkpointer(store.db, path.join(dir, 'no-such-folder', 'x.db'));
    expect(store.db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    await cp.exited;
    expect(cp.stats().lastError).toMatch(/unable to open|no such file|directory does not exist/i);
    expect(store.db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
  } finally {
    await store.close();
  }
});

test("the worker's connection runs at the store's durability (synchronous FULL or NORMAL, never OFF)", async () => {
  for (const [durability, level] of [
    ['full', 2],
    ['normal', 1],
  ] as const) {
    const store = SqliteStore.open(path.join(dir, `durability-${durability}.db`), { durability });
    try {
      // the gate's connection is at NORMAL at both (at full the store syncs the WAL itself, see
      // wal-sync.ts); the worker's at the store's durability, so its checkpoints always sync
      expect(store.db.pragma('synchronous', { simple: true })).toBe(1);
      // the worker says its level once its connection is open
      for (let i = 0; i < 500 && store.checkpointStats()?.synchronous === undefined; i++)
        await new Promise((r) => setTimeout(r, 10));
      expect(store.checkpointStats()?.synchronous).toBe(level);
    } finally {
      await store.close();
    }
  }
});
