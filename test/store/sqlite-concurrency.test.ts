/**
 * FREQ-1 (D. 223-9 al. 3) across gates: several processes on one SQLite file
 * can never store a fifth attempt in the window.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store';
import { decision, NUM, PRO } from './contract';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'callgate-sqlite-conc-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const windowStart = new Date('2026-11-01T00:00:00Z');

test('two connections that both read 3 attempts: only one may record the 4th, the other is refused', async () => {
  const file = path.join(dir, 'two.db');
  const a = SqliteStore.open(file);
  const b = SqliteStore.open(file);
  try {
    for (let i = 0; i < 3; i++) {
      await a.commitDecision(decision({ at: new Date(Date.UTC(2026, 10, 10 + i)) }), {
        recordAttempt: true,
        windowStart,
        maxAttempts: 4,
      });
    }
    const q = { e164: NUM, professional: PRO, at: new Date('2026-11-20T10:00:00Z'), windowStart };
    expect((await a.getFacts(q)).recentAttempts).toHaveLength(3);
    expect((await b.getFacts(q)).recentAttempts).toHaveLength(3);
    expect(await a.commitDecision(decision(), { recordAttempt: true, windowStart, maxAttempts: 4 })).toEqual({
      ok: true,
    });
    const late = await b.commitDecision(decision(), { recordAttempt: true, windowStart, maxAttempts: 4 });
    expect(late.ok).toBe(false);
    expect((await b.getFacts(q)).recentAttempts).toHaveLength(4);
  } finally {
    await a.close();
    await b.close();
  }
});

type HammerResult = { ok: number; refused: number; errorCount: number; errors: string[] };

function child(
  file: string,
  barrier: string,
  count: number,
  tag: string,
  mode: 'commit' | 'decide' = 'commit',
  locks: 'wait' | 'poll' = 'wait',
): { ready: Promise<void>; done: Promise<HammerResult> } {
  const p = spawn(
    process.execPath,
    [path.join(__dirname, 'fixtures', 'hammer.js'), file, barrier, String(count), tag, mode, locks],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  let readyResolve: () => void;
  const ready = new Promise<void>((r) => (readyResolve = r));
  p.stdout.on('data', (b: Buffer) => {
    out += b.toString();
    if (out.startsWith('ready\n')) readyResolve();
  });
  p.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const done = new Promise<HammerResult>((resolve, reject) => {
    // 'close', not 'exit': 'exit' can come before the result line in the pipe has been read
    p.on('close', (code) => {
      if (code !== 0) return reject(new Error(`hammer ${tag} exited ${code}: ${err}`));
      resolve(JSON.parse(out.trim().split('\n').pop() as string));
    });
  });
  return { ready, done };
}

/** Four children on a fresh file, started together; checks none stored a fifth attempt; returns the history. */
async function hammer(name: string, mode: 'commit' | 'decide', locks: 'wait' | 'poll' = 'wait') {
  const file = path.join(dir, `${name}.db`);
  (await SqliteStore.open(file)).close(); // create + migrate once
  const barrier = path.join(dir, `go-${name}`);
  const kids = ['p1', 'p2', 'p3', 'p4'].map((tag) => child(file, barrier, 150, tag, mode, locks));
  await Promise.all(kids.map((k) => k.ready));
  fs.writeFileSync(barrier, 'go');
  const results = await Promise.all(kids.map((k) => k.done));

  expect(results.map((r) => r.errors).flat()).toEqual([]);
  expect(results.reduce((n, r) => n + r.ok, 0)).toBe(4);
  expect(results.reduce((n, r) => n + r.refused, 0)).toBe(4 * 150 - 4);
  const store = SqliteStore.open(file);
  try {
    const h = await store.history(NUM);
    expect(h.attempts).toHaveLength(4);
    return h;
  } finally {
    await store.close();
  }
}

test('four processes hammering one number never store a fifth attempt in the window', async () => {
  const h = await hammer('hammer', 'commit');
  expect(h.decisions).toHaveLength(4); // refused commits write nothing
}, 60_000);

test.each([
  ['wait', 'one-shot commands'],
  ['poll', 'gates as `callgate start` opens them (pollLocks)'],
] as const)(
  'four processes (%s: %s), each with 8 decideAndCommit calls in flight (grouped), never store a fifth attempt',
  async (locks, _who) => {
    const h = await hammer(`hammer-decide-${locks}`, 'decide', locks);
    expect(h.decisions).toHaveLength(4 * 150); // every decision is in the audit, blocks included
  },
  60_000,
);
