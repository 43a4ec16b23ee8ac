/**
 * The gate while another process holds the SQLite write lock (an operator's `callgate consent
 * import` merging a large file, a backup tool): the gate must keep its event loop running and
 * answer within its deadline (GATE-1 fail mode), never sleep inside SQLite's busy handler, which
 * froze every call, timer and PBX socket of the process for as long as the lock was held.
 * The lock holder runs in a worker thread with its own connection, so it keeps time on its own.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { fixedClock } from '../../src/gate/clock';
import { Gate } from '../../src/gate/gate';
import { SqliteStore } from '../../src/store';
import { AT, attempt, CONSUMER, logSink, testConfig, withConsent } from './helpers';

const HOLDER = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.exec('BEGIN IMMEDIATE');
parentPort.postMessage('locked');
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, workerData.holdMs);
db.exec('COMMIT');
db.close();
parentPort.postMessage('released');
`;

/**
 * How long the other thread holds the lock. The bounds checked are fractions of it, so that a busy
 * CI machine cannot fail them: the event loop either froze about this long, or not at all.
 */
const HOLD_MS = 1000;

/** Holds the write lock of `file` for `holdMs` from another thread; resolves once it is held. */
async function holdLock(file: string, holdMs: number): Promise<{ released: Promise<void> }> {
  const w = new Worker(HOLDER, { eval: true, workerData: { file, holdMs, driver: require.resolve('better-sqlite3') } });
  let onReleased!: () => void;
  const released = new Promise<void>((r) => (onReleased = r));
  await new Promise<void>((resolve, reject) => {
    w.on('message', (m) => (m === 'locked' ? resolve() : onReleased()));
    w.once('error', reject);
  });
  return { released };
}

/** The longest gap between ticks of a 5 ms timer while `during` runs: how long the event loop was frozen. */
async function longestStall<T>(during: () => Promise<T>): Promise<{ value: T; stallMs: number }> {
  let last = Date.now();
  let worst = 0;
  const t = setInterval(() => {
    const now = Date.now();
    worst = Math.max(worst, now - last);
    last = now;
  }, 5);
  try {
    const value = await during();
    worst = Math.max(worst, Date.now() - last);
    return { value, stallMs: worst };
  } finally {
    clearInterval(t);
  }
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'callgate-locked-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function openWithConsent(file: string, pollLocks: boolean, busyTimeoutMs?: number): Promise<SqliteStore> {
  return withConsent(SqliteStore.open(file, { pollLocks, ...(busyTimeoutMs !== undefined ? { busyTimeoutMs } : {}) }));
}

describe.each([
  ['the gate (pollLocks: busy_timeout 0 for good)', true],
  ['a one-shot command (busy_timeout lifted around BEGIN only)', false],
])('%s', (_name, pollLocks) => {
  test('a call arriving while another process holds the write lock gets the fail-mode decision within the deadline; the loop keeps running', async () => {
    const file = path.join(dir, 'g.db');
    const store = await openWithConsent(file, pollLocks);
    const log = logSink();
    const gate = new Gate({
      store,
      config: testConfig('gate: {deadlineMs: 100}'),
      clock: fixedClock(AT),
      logger: log.logger,
    });
    try {
      const lock = await holdLock(file, HOLD_MS);
      const t0 = Date.now();
      const { value: d, stallMs } = await longestStall(() => gate.decide(attempt(), { record: true }));
      const answeredMs = Date.now() - t0;
      expect([d.verdict, d.reasons.map((r) => r.code)]).toEqual(['block', ['gate_unavailable']]);
      expect(answeredMs).toBeLessThan(HOLD_MS / 2); // deadline 100 ms
      expect(stallMs).toBeLessThan(HOLD_MS / 2);
      await lock.released;
      // once the lock is gone, calls are decided as usual, and the fail-mode decision reached the audit
      expect((await gate.decide(attempt(), { record: true })).verdict).toBe('allow');
      expect(await gate.drain(2000)).toBe(true);
      const h = await store.history(CONSUMER);
      expect(h.decisions.map((x) => x.verdict).sort()).toEqual(['allow', 'block']);
      expect(h.attempts).toHaveLength(1);
    } finally {
      await store.close();
    }
  });

  test('a lock held past the busy timeout fails the waiting calls with a clear store fault, without freezing the loop', async () => {
    const file = path.join(dir, 'b.db');
    const store = await openWithConsent(file, pollLocks, 200);
    const log = logSink();
    const gate = new Gate({
      store,
      config: testConfig('gate: {deadlineMs: 5000}'),
      clock: fixedClock(AT),
      logger: log.logger,
    });
    try {
      const lock = await holdLock(file, HOLD_MS);
      const { value: ds, stallMs } = await longestStall(() =>
        Promise.all([1, 2, 3].map(() => gate.decide(attempt(), { record: true }))),
      );
      for (const d of ds) expect(d.reasons.map((r) => r.code)).toEqual(['gate_unavailable']);
      expect(stallMs).toBeLessThan(HOLD_MS / 2);
      const faults = log.lines().filter((l) => l.level === 'error' && l.code === 'CG_ERR_STORE_FAULT');
      expect(faults.length).toBeGreaterThanOrEqual(3);
      expect(JSON.stringify(faults[0])).toMatch(/locked by another process/);
      await lock.released;
      expect((await gate.decide(attempt(), { record: true })).verdict).toBe('allow');
      // the three blocks the PBX was given reached the audit once the lock was gone (tried again)
      expect(await gate.drain(5000)).toBe(true);
      const h = await store.history(CONSUMER);
      expect(h.decisions.map((x) => x.verdict).sort()).toEqual(['allow', 'block', 'block', 'block']);
      expect(log.lines().filter((l) => /could not write the fail-mode decision/.test(l.msg))).toEqual([]);
    } finally {
      await gate.drain(2000);
      await store.close();
    }
  });

  test('outcomes and releases written while the lock is held wait for it without freezing the loop', async () => {
    const file = path.join(dir, 'o.db');
    const store = await openWithConsent(file, pollLocks);
    const gate = new Gate({ store, config: testConfig(), clock: fixedClock(AT), logger: logSink().logger });
    try {
      const d = await gate.decide(attempt(), { record: true });
      const lock = await holdLock(file, HOLD_MS);
      const { value, stallMs } = await longestStall(() =>
        Promise.all([
          store.recordOutcome(d.id, { answered: true, endedAt: new Date(AT.getTime() + 60_000), durationMs: 60_000 }),
          store.releaseAttempt(d.id),
        ]),
      );
      expect(value).toEqual([true, true]);
      expect(stallMs).toBeLessThan(HOLD_MS / 2);
      await lock.released;
      const h = await store.history(CONSUMER);
      expect(h.decisions[0]!.outcome?.durationMs).toBe(60_000);
    } finally {
      await store.close();
    }
  });
});
