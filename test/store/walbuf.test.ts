/**
 * The WAL write buffer (native/walbuf.c, src/store/sqlite/walbuf.ts): the
 * store uses it, it saves writes, and it keeps SQLite's guarantees: another
 * process sees a commit as soon as it returns, a process killed mid-write
 * leaves a file that recovers with every commit whole, and a failed write
 * fails its COMMIT exactly as without the buffer.
 *
 * The other store tests run on it too: the first SQLite file a process opens
 * loads it for the whole process (the writers spawned by the concurrency
 * tests included).
 */
import Database from 'better-sqlite3';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store';
import { enableWalBuffer, walBufferLibrary, walBufferStats, walBufferStatus } from '../../src/store/sqlite/walbuf';
import { scratchDirs } from '../scratch';
import { decision } from './contract';

const tempDir = scratchDirs('callgate-walbuf-');
const WRITER = path.join(__dirname, 'fixtures', 'walbuf-writer.js');

/** Rows and groups of a writer's file, and whether every group is whole (8 rows). */
function inspect(file: string) {
  const db = new Database(file);
  try {
    return {
      integrity: db.pragma('integrity_check', { simple: true }),
      rows: db.prepare('SELECT count(*) FROM t').pluck().get() as number,
      maxGroup: (db.prepare('SELECT coalesce(max(g), 0) FROM t').pluck().get() as number) ?? 0,
      broken: db.prepare('SELECT g FROM t GROUP BY g HAVING count(*) <> 8').pluck().all(),
    };
  } finally {
    db.close();
  }
}

describe('the store', () => {
  it('loads the buffer (npm install built it) and writes each commit in fewer writes than SQLite asked for', async () => {
    const store = SqliteStore.open(path.join(tempDir(), 'store.db'));
    try {
      expect(walBufferStatus()).toEqual({ active: true, library: expect.stringMatching(/build\/walbuf\.so$/) });
      const before = walBufferStats(store.db)!;
      expect(before.vfs).toBe('callgate-walbuf');
      for (let i = 0; i < 20; i++)
        await store.commitDecision(decision(), {
          recordAttempt: false,
          windowStart: new Date(0),
          maxAttempts: 4,
        });
      const after = walBufferStats(store.db)!;
      const writes = after.writes - before.writes;
      const flushes = after.flushes - before.flushes;
      // 20 commits of a few frames each (two writes per frame): one write of the file per commit
      expect(writes).toBeGreaterThanOrEqual(20 * 4);
      expect(flushes).toBeGreaterThanOrEqual(20);
      expect(flushes).toBeLessThanOrEqual(writes / 4);
    } finally {
      await store.close();
    }
  });

  it('decides once per process: a later call gets the first answer, whatever it asks', () => {
    expect(enableWalBuffer(false)).toEqual(walBufferStatus());
    jest.isolateModules(() => {
      // a fresh copy of the module (as a test runner makes): the process's SQLite already has it
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const fresh = require('../../src/store/sqlite/walbuf') as typeof import('../../src/store/sqlite/walbuf');
      expect(fresh.enableWalBuffer(false)).toEqual({
        active: true,
        library: walBufferStatus()!.active && walBufferStatus()!.library,
      });
    });
  });

  it('store.walBuffer: false keeps a process on the SQLite unix VFS', () => {
    const file = path.join(tempDir(), 'off.db');
    const r = spawnSync(process.execPath, [path.join(__dirname, 'fixtures', 'walbuf-off.js'), file], {
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({
      status: { active: false, reason: 'turned off (store.walBuffer: false)' },
      stats: null,
      verdict: 'allow',
    });
  });
});

describe('the library', () => {
  it('is used only when built and not older than its source (a checkout that changed it needs a rebuild)', () => {
    const root = tempDir();
    fs.mkdirSync(path.join(root, 'native'));
    fs.writeFileSync(path.join(root, 'native', 'walbuf.c'), '/* source */');
    const so = path.join(root, 'build', 'walbuf.so');
    expect(walBufferLibrary(root)).toEqual({
      library: so,
      problem: expect.stringMatching(/^not built .*npm run build:native/),
    });
    fs.mkdirSync(path.join(root, 'build'));
    fs.writeFileSync(so, 'binary');
    const t = Date.now() / 1000;
    fs.utimesSync(path.join(root, 'native', 'walbuf.c'), t, t);
    fs.utimesSync(so, t - 60, t - 60);
    expect(walBufferLibrary(root)).toEqual({
      library: so,
      problem: 'build/walbuf.so is older than native/walbuf.c; npm run build:native rebuilds it',
    });
    fs.utimesSync(so, t + 1, t + 1);
    expect(walBufferLibrary(root)).toEqual({ library: so });
  });
});

describe('what SQLite guarantees, through the buffer', () => {
  it('another process sees every commit as soon as it has returned', async () => {
    const file = path.join(tempDir(), 'visible.db');
    const child = spawn(process.execPath, [WRITER, file, 'groups 300', 'walbuf'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    let reader: Database.Database | undefined;
    let checked = 0;
    const seen: string[] = [];
    let pending = '';
    child.stdout.on('data', (b: Buffer) => {
      pending += b.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        const told = Number(line);
        reader ??= new Database(file, { readonly: true });
        const [rows, max] = reader.prepare('SELECT count(*), coalesce(max(g), 0) FROM t').raw().get() as number[];
        // the writer may be ahead of what it printed, never behind, and never shows half a group
        if (max! < told || rows! !== max! * 8) seen.push(`told ${told}, saw ${rows} rows up to group ${max}`);
        checked++;
      }
    });
    // 'close', not 'exit': 'exit' can come before the last lines in the pipe have been read
    const code = await new Promise<number | null>((r) => child.on('close', r));
    reader?.close();
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(checked).toBe(300);
    expect(seen).toEqual([]);
    expect(inspect(file)).toEqual({ integrity: 'ok', rows: 2400, maxGroup: 300, broken: [] });
  });

  it('killed mid-write (SIGKILL), five times: the file recovers with every commit it reported, each whole', async () => {
    const file = path.join(tempDir(), 'killed.db');
    for (let round = 0; round < 5; round++) {
      const child = spawn(process.execPath, [WRITER, file, 'groups 0', 'walbuf'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      const firstLine = new Promise<void>((r) =>
        child.stdout.on('data', (b: Buffer) => {
          out += b.toString();
          if (out.includes('\n')) r();
        }),
      );
      // 'close', not 'exit': 'exit' can come before the last lines in the pipe have been read
      const exited = new Promise<NodeJS.Signals | null>((r) => child.on('close', (_c, sig) => r(sig)));
      await firstLine;
      await new Promise((r) => setTimeout(r, 20 + round * 37));
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
      expect(stderr).toBe('');
      const reported = Math.max(...out.trim().split('\n').map(Number));
      const after = inspect(file);
      expect(after.integrity).toBe('ok');
      expect(after.broken).toEqual([]);
      // the group being committed when it died may have made it (COMMIT returned, not yet printed)
      expect([reported, reported + 1]).toContain(after.maxGroup);
      expect(after.rows).toBe(after.maxGroup * 8);
    }
  });

  it('a WAL write that fails fails its COMMIT and publishes nothing, exactly as without the buffer', () => {
    const run = (vfs: 'walbuf' | 'plain') => {
      const file = path.join(tempDir(), `full-${vfs}.db`);
      // the file size limit (1 MiB) makes the WAL write that crosses it fail with EFBIG
      const r = spawnSync(
        'bash',
        ['-c', `ulimit -f 1024; exec "${process.execPath}" "${WRITER}" "${file}" full ${vfs}`],
        {
          encoding: 'utf8',
        },
      );
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const res = JSON.parse(r.stdout) as { committed: number; code: string; count: number };
      return { ...res, file };
    };
    const buffered = run('walbuf');
    const plain = run('plain');
    expect(buffered.code).toMatch(/^SQLITE_(IOERR|FULL)/);
    expect(buffered.committed).toBeGreaterThan(10);
    // same commits made it, the same failed, and the writer itself saw only the committed rows
    expect({ committed: buffered.committed, code: buffered.code }).toEqual({
      committed: plain.committed,
      code: plain.code,
    });
    expect(buffered.count).toBe(buffered.committed * 8);
    expect(inspect(buffered.file)).toEqual({
      integrity: 'ok',
      rows: buffered.committed * 8,
      maxGroup: buffered.committed,
      broken: [],
    });
  });
});
