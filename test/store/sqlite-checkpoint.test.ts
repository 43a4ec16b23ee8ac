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

test('the gate connection does not checkpoint inside commits; the worker does', async () => {
  const file = path.join(dir, 'worker.db');
  const store = SqliteStore.open(file, { checkpointer: { restartFrames: 50, busyMs: 1, idleMs: 2 } });
  try {
    expect(store.db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    for (let round = 0; round < 200 && (store.checkpointStats()?.restart ?? 0) === 0; round++) {
      await commitMany(store, 20, `r${round}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    const stats = store.checkpointStats();
    expect(stats?.failed).toBe(0);
    expect(stats?.passive).toBeGreaterThan(0);
    // the WAL passed 50 frames and was rewound instead of growing with every commit
    expect(stats?.restart).toBeGreaterThan(0);
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
