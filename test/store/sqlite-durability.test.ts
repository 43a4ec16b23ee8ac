/**
 * What a COMMIT of the SQLite store means, on SQLite's own unix VFS: another
 * process sees a commit as soon as it returns, a process killed mid-write
 * leaves a file that recovers with every commit whole, a failed write fails
 * its COMMIT, and the gate never tells the PBX "allow" for an attempt that did
 * not reach the file: with the disk full under it, every call is either in the
 * file or answered with the fail mode (gate_unavailable), another connection
 * reads nothing corrupt meanwhile, and the file passes integrity_check.
 *
 * (Issue 11.2: the native WAL write buffer that the store used to load could
 * report a COMMIT as done when its write had failed; it was removed.)
 */
import Database from 'better-sqlite3';
import { spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { scratchDirs } from '../scratch';

const tempDir = scratchDirs('callgate-durability-');
const FIXTURES = path.join(__dirname, 'fixtures');
const WRITER = path.join(FIXTURES, 'wal-writer.js');
const SCENARIO = path.join(FIXTURES, 'disk-full-scenario.js');

/** Rows and groups of a writer's file, and whether every group is whole (`perGroup` rows). */
function inspect(file: string, perGroup = 8) {
  const db = new Database(file);
  try {
    return {
      integrity: db.pragma('integrity_check', { simple: true }),
      rows: db.prepare('SELECT count(*) FROM t').pluck().get() as number,
      maxGroup: (db.prepare('SELECT coalesce(max(g), 0) FROM t').pluck().get() as number) ?? 0,
      broken: db.prepare('SELECT g FROM t GROUP BY g HAVING count(*) <> ?').pluck().all(perGroup),
    };
  } finally {
    db.close();
  }
}

describe.each(['FULL', 'NORMAL'])('what SQLite guarantees (synchronous = %s)', (synchronous) => {
  it('another process sees every commit as soon as it has returned', async () => {
    const file = path.join(tempDir(), 'visible.db');
    const child = spawn(process.execPath, [WRITER, file, 'groups 300', synchronous], {
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
      const child = spawn(process.execPath, [WRITER, file, 'groups 0', synchronous], {
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

  it('a WAL write that fails (file size limit) fails its COMMIT and publishes nothing', () => {
    const file = path.join(tempDir(), 'limited.db');
    // the file size limit (1 MiB) makes the WAL write that crosses it fail with EFBIG
    const r = spawnSync(
      'bash',
      ['-c', `ulimit -f 1024; exec "$0" "$@"`, process.execPath, WRITER, file, 'full', synchronous],
      {
        encoding: 'utf8',
      },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const res = JSON.parse(r.stdout) as { committed: number; code: string; count: number };
    expect(res.code).toMatch(/^SQLITE_(IOERR|FULL)/);
    expect(res.committed).toBeGreaterThan(10);
    // the writer itself sees only the committed groups, and so does a new connection
    expect(res.count).toBe(res.committed * 8);
    expect(inspect(file)).toEqual({ integrity: 'ok', rows: res.committed * 8, maxGroup: res.committed, broken: [] });
  });

  it('a WAL write that fails anywhere in a ~128 KiB commit fails that commit, and only it', async () => {
    // where each commit of 30 one-page rows (32 WAL frames) ends, from a run without a limit
    const dry = path.join(tempDir(), 'sizes.db');
    const sizes = JSON.parse(
      spawnSync(process.execPath, [WRITER, dry, 'sizes 3', synchronous, 'pages'], { encoding: 'utf8' }).stdout,
    ) as number[];
    const [start, end] = [sizes[1]!, sizes[2]!];
    expect(end - start).toBe(32 * (24 + 4096));
    // the third commit's WAL write fails in the middle of each of its frames in turn: a limit in
    // whole KiB, inside the frame's page
    const limits = Array.from({ length: 32 }, (_, j) => Math.floor((start + j * 4120 + 24 + 2048) / 1024));
    const trial = (kib: number) =>
      new Promise<{ kib: number; res: string; after: ReturnType<typeof inspect> }>((resolve) => {
        const file = path.join(tempDir(), `limit-${kib}.db`);
        const child = spawn(
          'bash',
          ['-c', `ulimit -f ${kib}; exec "$0" "$@"`, process.execPath, WRITER, file, 'full', synchronous, 'pages'],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let out = '';
        child.stdout.on('data', (b: Buffer) => (out += b.toString()));
        child.stderr.on('data', (b: Buffer) => (out += b.toString()));
        child.on('close', () => resolve({ kib, res: out.trim(), after: inspect(file, 30) }));
      });
    const results = [];
    for (let i = 0; i < limits.length; i += 2) results.push(...(await Promise.all(limits.slice(i, i + 2).map(trial))));
    const wrong = results.filter(
      (r) =>
        !/^\{"committed":2,"code":"SQLITE_(IOERR_WRITE|FULL)","count":60\}$/.test(r.res) ||
        JSON.stringify(r.after) !== JSON.stringify({ integrity: 'ok', rows: 60, maxGroup: 2, broken: [] }),
    );
    expect(wrong).toEqual([]);
  });
});

type Scenario = {
  mode: string;
  code: number | null;
  signal: string | null;
  stderr: string;
  gate: { answered: number; freed: boolean; failModeLogged: number; faults: string[] };
  answers: number;
  allowed: number;
  failMode: number;
  other: string[][];
  firstFail: number;
  allowedAfterLastFail: number;
  readerErrors: string[];
  quickChecks: string[];
  quickCheckCount: number;
  integrity: string;
  missing: string[];
  extra: string[];
};

function scenario(command: string, args: string[]): Scenario {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 120_000 });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as Scenario;
}

/** The gate on a full disk: what every scenario must show. */
function expectNoLie(s: Scenario, fault: RegExp) {
  expect(s.stderr).toBe('');
  expect(s.code).toBe(0);
  // calls were allowed and recorded until the disk filled, then the gate failed closed
  expect(s.allowed).toBeGreaterThan(50);
  expect(s.firstFail).toBeGreaterThan(0);
  expect(s.failMode).toBeGreaterThanOrEqual(40);
  expect(s.other).toEqual([]);
  expect(s.answers).toBe(s.allowed + s.failMode);
  // each fail-mode answer was logged with the store fault behind it
  expect(s.gate.failModeLogged).toBe(s.failMode);
  expect(s.gate.faults.length).toBeGreaterThan(0);
  for (const f of s.gate.faults) expect(f).toMatch(fault);
  // the other connection found every allowed call in the file, readable, and no attempt for the
  // calls the gate failed; its quick_checks all passed
  expect(s.readerErrors).toEqual([]);
  expect(s.quickCheckCount).toBeGreaterThan(5);
  expect(s.quickChecks).toEqual(['ok']);
  // afterwards: a sound file whose recorded attempts are exactly the calls the gate allowed
  expect(s.integrity).toBe('ok');
  expect(s.missing).toEqual([]);
  expect(s.extra).toEqual([]);
}

describe('the gate on a full disk: no COMMIT reported done that did not reach the file', () => {
  it.each(['full', 'normal'])(
    'under a file size limit (EFBIG on the WAL), store.durability %s',
    (durability) => {
      const s = scenario(process.execPath, [SCENARIO, tempDir(), 'fsize', durability, '40']);
      expectNoLie(s, /^CG_ERR_STORE_FAULT: .*decideAndCommit COMMIT on FILE failed: disk I\/O error/);
      expect(s.allowedAfterLastFail).toBe(0); // the limit stays: every later call fails closed
    },
    120_000,
  );

  // A small tmpfs (ENOSPC, as on a real full disk) needs a mount: in a private mount namespace of
  // an unprivileged user namespace (unshare -rm), which some kernels and containers forbid.
  const probe = spawnSync('unshare', ['-rm', 'sh', '-c', 'mount -t tmpfs -o size=64k tmpfs "$0"', tempDir()], {
    encoding: 'utf8',
  });
  const tmpfs = probe.status === 0;
  const why = tmpfs ? '' : ` (SKIPPED: cannot mount a tmpfs here: ${(probe.stderr || String(probe.error)).trim()})`;
  (tmpfs ? it : it.skip)(
    `on a full 2 MiB tmpfs (ENOSPC on the WAL), then with space freed: the store takes calls again${why}`,
    () => {
      const s = scenario('unshare', [
        '-rm',
        'sh',
        '-c',
        'mount -t tmpfs -o size=2m tmpfs "$0" && exec "$1" "$2" "$0" tmpfs full 40',
        tempDir(),
        process.execPath,
        SCENARIO,
      ]);
      expectNoLie(s, /^CG_ERR_STORE_FAULT: .*decideAndCommit COMMIT on FILE failed: database or disk is full/);
      expect(s.gate.freed).toBe(true);
      expect(s.allowedAfterLastFail).toBeGreaterThanOrEqual(40);
    },
    120_000,
  );
});
