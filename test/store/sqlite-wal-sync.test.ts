/**
 * store.durability full on SQLite: the COMMIT's fsync off the event loop (src/store/sqlite/wal-sync.ts).
 * The connection runs at synchronous NORMAL and the store fdatasyncs the -wal file on libuv's
 * thread pool: no write's promise resolves before an fdatasync that started after its COMMIT has
 * succeeded; groups committed while one runs are covered by the next; a failed one fails the store.
 *
 * The sync here is the real fs.fdatasync, held until the test lets it run (a hook through the
 * store's syncWal option), so that the order of commits, syncs and answers can be observed
 * without timing anything.
 */
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Facts } from '../../src/core/types';
import { StoreError, type Store } from '../../src/gate/store';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store';
import type { SyncFn } from '../../src/store/sqlite/wal-sync';
import { decision, NUM, OTHER, PRO } from './contract';
import { fixedClock } from '../../src/gate/clock';
import { Gate } from '../../src/gate/gate';
import { AT as CALL_AT, attempt, CONSUMER, logSink, testConfig, withConsent } from '../gate/helpers';
import { scratchDirs } from '../scratch';

const tempDir = scratchDirs('callgate-wal-sync-');
const windowStart = new Date('2026-11-01T00:00:00Z');
const AT = new Date('2026-11-30T10:00:00Z');
const q = (e164 = NUM) => ({ e164, professional: PRO, at: AT, windowStart });
const REC = { recordAttempt: true, maxAttempts: 4 };
const allow =
  (e164 = NUM, id?: string) =>
  (_f: Facts) =>
    decision({ e164, ...(id ? { id } : {}) });

/**
 * A real fdatasync that waits for the test: `release(i)` runs the i-th one (or fails it with `err`).
 * With `hold = false` it runs at once (setting a store up).
 */
function heldSync() {
  const calls: { fd: number; cb: (err: NodeJS.ErrnoException | null) => void }[] = [];
  const state = { hold: true };
  const sync: SyncFn = (fd, cb) => (state.hold ? void calls.push({ fd, cb }) : fs.fdatasync(fd, cb));
  return {
    state,
    sync,
    calls,
    release(i: number, err?: NodeJS.ErrnoException) {
      const c = calls[i]!;
      if (err) c.cb(err);
      else fs.fdatasync(c.fd, c.cb);
    },
  };
}

/** Lets the store run what is queued (its group runs on setImmediate), and the promises settle. */
const turns = async (n = 3) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};
/** Waits until `cond` holds (e.g. a sync was asked for), polling; gives up after 5,000 polls (it never came). */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; !cond(); i++) {
    if (i === 5000) throw new Error(`never happened: ${cond.toString()}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** A promise's state, without waiting for it. */
function track<T>(p: Promise<T>) {
  const s: { done: boolean; value?: T; error?: unknown } = { done: false };
  p.then(
    (v) => Object.assign(s, { done: true, value: v }),
    (e) => Object.assign(s, { done: true, error: e }),
  );
  return s;
}

function open(sync?: SyncFn): { store: SqliteStore; file: string } {
  const file = path.join(tempDir(), 'w.db');
  return { store: SqliteStore.open(file, sync ? { syncWal: sync } : {}), file };
}

const rows = (file: string, id: string) => {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('SELECT COUNT(*) FROM decisions WHERE id = ?').pluck().get(id) as number;
  } finally {
    db.close();
  }
};

test('a decision is committed (visible to another connection) at once, and answered only after the fdatasync that followed', async () => {
  const h = heldSync();
  const { store, file } = open(h.sync);
  try {
    const d = track(store.decideAndCommit(q(), allow(NUM, 'first'), REC));
    await turns();
    expect(h.calls).toHaveLength(1); // asked for right after the COMMIT
    expect(rows(file, 'first')).toBe(1); // committed, in the WAL
    expect(d.done).toBe(false); // not on disk yet: not answered
    const synced = fs.readlinkSync(`/proc/self/fd/${h.calls[0]!.fd}`); // Linux: the file behind the descriptor
    h.release(0);
    await until(() => d.done);
    expect(d.error).toBeUndefined();
    expect(d.value?.id).toBe('first');
    expect(synced).toBe(`${fs.realpathSync(file)}-wal`);
    expect(store.syncStats()).toEqual({ syncs: 1, commits: 1 });
  } finally {
    await store.close();
  }
});

test('groups committed while a sync runs wait for the next one, which covers them all', async () => {
  const h = heldSync();
  const { store } = open(h.sync);
  try {
    const a = track(store.decideAndCommit(q(), allow(NUM, 'a'), REC));
    await turns();
    expect(h.calls).toHaveLength(1);
    // two more groups (two event-loop turns), committed while the first sync runs
    const b = track(store.decideAndCommit(q(OTHER), allow(OTHER, 'b'), REC));
    await turns();
    const c = track(store.releaseAttempt('a'));
    await turns();
    expect(store.groupStats().commits).toBe(3);
    expect(h.calls).toHaveLength(1); // at most one fdatasync in flight
    expect([a.done, b.done, c.done]).toEqual([false, false, false]);
    h.release(0);
    await until(() => a.done && h.calls.length === 2);
    // the first sync started before b and c committed: it does not answer them
    await turns();
    expect([b.done, c.done]).toEqual([false, false]);
    h.release(1);
    await until(() => b.done && c.done);
    expect(b.value?.id).toBe('b');
    expect(c.value).toBe(true);
    expect(store.syncStats()).toEqual({ syncs: 2, commits: 3 });
  } finally {
    await store.close();
  }
});

test('a failed fdatasync rejects the writes it covered and those waiting, then fails the store for every write', async () => {
  const h = heldSync();
  const { store } = open(h.sync);
  try {
    const a = track(store.decideAndCommit(q(), allow(NUM, 'a'), REC));
    await turns();
    const b = track(store.decideAndCommit(q(OTHER), allow(OTHER, 'b'), REC));
    await turns();
    const eio = Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO', errno: -5 });
    h.release(0, eio);
    await until(() => a.done && b.done);
    for (const s of [a, b]) {
      expect(s.error).toBeInstanceOf(StoreError);
      expect((s.error as StoreError).code).toBe('CG_ERR_STORE_FAULT');
      expect((s.error as Error).message).toMatch(/the disk failed to sync .*w\.db-wal \(EIO .*restart the gate/);
    }
    expect(h.calls).toHaveLength(1); // no later sync is trusted
    const later: [string, () => Promise<unknown>][] = [
      ['decideAndCommit', () => store.decideAndCommit(q(), allow(NUM, 'later'), REC)],
      ['commitDecision', () => store.commitDecision(decision({ id: 'c' }), { ...REC, windowStart })],
      ['recordOutcome', () => store.recordOutcome('a', { answered: false, endedAt: AT })],
      ['releaseAttempt', () => store.releaseAttempt('a')],
      ['addDnc', () => store.addDnc({ e164: NUM, addedAt: AT })],
      ['checkWritable', () => store.checkWritable()],
    ];
    for (const [what, run] of later) {
      await expect(run()).rejects.toMatchObject({
        code: 'CG_ERR_STORE_FAULT',
        message: expect.stringMatching(/disk failed to sync/),
      });
      expect([what, h.calls.length]).toEqual([what, 1]);
    }
    expect(await store.getFacts(q())).toBeDefined(); // reads still answer
  } finally {
    await store.close();
  }
});

test('close() waits for the sync in flight, and answers the writes it covers', async () => {
  const h = heldSync();
  const { store } = open(h.sync);
  const d = track(store.decideAndCommit(q(), allow(NUM, 'x'), REC));
  await turns();
  const closed = track(store.close());
  await turns();
  expect([d.done, closed.done]).toEqual([false, false]);
  h.release(0);
  await until(() => closed.done);
  expect(d.value?.id).toBe('x');
  expect(closed.error).toBeUndefined();
});

/** Every write of the store outside the call path: each resolves only after a sync of its own commit. */
const OTHER_WRITES: [string, (s: SqliteStore) => Promise<unknown>][] = [
  ['addConsent', (s) => s.addConsent({ e164: NUM, professional: PRO, categories: ['energy-supply'], collectedAt: AT })],
  ['withdrawConsent', (s) => s.withdrawConsent(NUM, PRO, AT)],
  ['addContract', (s) => s.addContract({ e164: NUM, professional: PRO, categories: ['energy-supply'], start: AT })],
  ['addDnc', (s) => s.addDnc({ e164: OTHER, addedAt: AT })],
  ['addRefusal', (s) => s.addRefusal(NUM, PRO, AT)],
  [
    'import commit (consent)',
    async (s) => {
      const imp = await s.beginImport('consent');
      await imp.consents([{ e164: OTHER, professional: PRO, categories: ['energy-supply'], collectedAt: AT }]);
      return imp.commit();
    },
  ],
  [
    'import commit (opposition)',
    async (s) => {
      const imp = await s.beginImport('opposition', { asOf: AT });
      await imp.opposition([NUM]);
      return imp.commit();
    },
  ],
  ['purge', (s) => s.purge({ decisionsBefore: AT, consentsCollectedBefore: AT, contractsEndedBefore: AT }, false)],
  ['copyIn', (s) => s.copyIn({ kind: 'dnc', rows: [{ e164: '+33611111111', addedAt: AT }] })],
  ['commitDecision', (s) => s.commitDecision(decision({ id: 'cd' }), { ...REC, windowStart })],
  ['recordOutcome', (s) => s.recordOutcome('cd', { answered: true, endedAt: AT, durationMs: 1000 })],
  ['releaseAttempt', (s) => s.releaseAttempt('cd')],
];

test('every other write path resolves only after an fdatasync that started after its commit', async () => {
  const h = heldSync();
  const { store } = open(h.sync);
  try {
    for (const [what, write] of OTHER_WRITES) {
      const asked = h.calls.length;
      const w = track(write(store));
      // imports stage first (TEMP table, no sync), then commit: wait for the sync to be asked
      await until(() => h.calls.length > asked || w.done);
      expect([what, w.done, w.error]).toEqual([what, false, undefined]);
      expect(h.calls).toHaveLength(asked + 1);
      await turns();
      expect([what, w.done]).toEqual([what, false]);
      h.release(asked);
      await until(() => w.done);
      expect([what, w.error]).toEqual([what, undefined]);
    }
  } finally {
    await store.close();
  }
});

test('a write outside the call path fails with a failed sync too', async () => {
  const h = heldSync();
  const { store } = open(h.sync);
  try {
    const w = track(store.addConsent({ e164: NUM, professional: PRO, categories: ['energy-supply'], collectedAt: AT }));
    await until(() => h.calls.length === 1);
    h.release(0, Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    await until(() => w.done);
    expect(w.error).toMatchObject({ code: 'CG_ERR_STORE_FAULT' });
    const imp = await store.beginImport('dnc');
    await imp.dnc([{ e164: OTHER, addedAt: AT }]);
    await expect(imp.commit()).rejects.toMatchObject({ code: 'CG_ERR_STORE_FAULT' });
  } finally {
    await store.close();
  }
});

test('durability normal does not sync per commit (its meaning is unchanged)', async () => {
  const h = heldSync();
  const file = path.join(tempDir(), 'n.db');
  const store: Store & SqliteStore = SqliteStore.open(file, { durability: 'normal', syncWal: h.sync });
  try {
    expect((await store.decideAndCommit(q(), allow(NUM, 'n'), REC))?.id).toBe('n');
    await store.addDnc({ e164: OTHER, addedAt: AT });
    expect(h.calls).toHaveLength(0);
    expect(store.syncStats()).toBeUndefined();
  } finally {
    await store.close();
  }
});

test('store.path a symbolic link: the WAL synced is the one SQLite writes, beside the file the link names', async () => {
  const dir = tempDir();
  fs.mkdirSync(path.join(dir, 'real'));
  const real = path.join(dir, 'real', 'store.db');
  new Database(real).close();
  const link = path.join(dir, 'link.db');
  fs.symlinkSync(real, link);
  const h = heldSync();
  const store = SqliteStore.open(link, { syncWal: h.sync });
  try {
    const d = track(store.decideAndCommit(q(), allow(NUM, 'linked'), REC));
    await turns();
    expect(h.calls).toHaveLength(1);
    const synced = fs.readlinkSync(`/proc/self/fd/${h.calls[0]!.fd}`);
    h.release(0);
    await until(() => d.done);
    expect(fs.existsSync(`${link}-wal`)).toBe(false);
    expect(synced).toBe(`${fs.realpathSync(real)}-wal`);
    expect(d.value?.id).toBe('linked');
  } finally {
    await store.close();
  }
});

const CHILD = path.join(__dirname, 'fixtures', 'acked-writer.js');

test('killed with SIGKILL right after an acknowledged write, three times: every acknowledged row is in the file on reopen', async () => {
  const file = path.join(tempDir(), 'kill.db');
  for (let round = 0; round < 3; round++) {
    const child = spawn(process.execPath, [CHILD, file, String(round)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const acked = await new Promise<string[]>((resolve, reject) => {
      let out = '';
      const ids: string[] = [];
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        const lines = out.split('\n');
        out = lines.pop()!;
        for (const l of lines) if (l.startsWith('acked ')) ids.push(l.slice(6));
        // killed right after its third acknowledgement, while it goes on writing
        if (ids.length >= 3 && child.exitCode === null && !child.killed) {
          child.kill('SIGKILL');
          resolve(ids);
        }
      });
      child.once('exit', (code, signal) => {
        if (signal !== 'SIGKILL') reject(new Error(`writer exited ${code} ${signal}: ${stderr}`));
      });
    });
    await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r)));
    const db = new Database(file);
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      for (const id of acked) {
        const [kind, key] = id.split(':') as [string, string];
        const n =
          kind === 'decision'
            ? db.prepare('SELECT COUNT(*) FROM decisions WHERE id = ? AND counted = 1').pluck().get(key)
            : db.prepare('SELECT COUNT(*) FROM dnc WHERE e164 = ?').pluck().get(key);
        expect([id, n]).toEqual([id, 1]);
      }
    } finally {
      db.close();
    }
  }
}, 60_000);

describe('the gate on a store whose sync is slow or fails', () => {
  async function gateOn(h: ReturnType<typeof heldSync>, deadlineMs: number) {
    const file = path.join(tempDir(), 'gate.db');
    h.state.hold = false;
    const store = await withConsent(SqliteStore.open(file, { pollLocks: true, syncWal: h.sync }));
    h.state.hold = true;
    const log = logSink();
    const gate = new Gate({
      store,
      config: testConfig(`gate: {deadlineMs: ${deadlineMs}}`),
      clock: fixedClock(CALL_AT),
      logger: log.logger,
    });
    return { store, log, gate };
  }

  test('a deadline that fires while the group waits for its sync: the fail-mode decision, then the late attempt is released, as for a slow COMMIT', async () => {
    const h = heldSync();
    const { store, log, gate } = await gateOn(h, 50);
    try {
      // the sync is held: the deadline (50 ms) fires first, whatever the machine's speed
      const d = await gate.decide(attempt(), { record: true });
      expect([d.verdict, d.reasons.map((r) => r.code)]).toEqual(['block', ['gate_unavailable']]);
      expect(h.calls).toHaveLength(1);
      h.release(0); // the allowed attempt is on disk now: the gate releases it (one more write, one more sync)
      await until(() => h.calls.length >= 2);
      h.state.hold = false;
      for (let i = 1; i < h.calls.length; i++) h.release(i);
      expect(await gate.drain(5000)).toBe(true);
      await until(() => log.lines().some((l) => l.msg.includes('its attempt was released')));
      const facts = await store.getFacts({
        e164: CONSUMER,
        professional: 'acme',
        at: CALL_AT,
        windowStart: new Date(0),
      });
      expect(facts.recentAttempts).toEqual([]); // released: it does not count towards FREQ-1
    } finally {
      h.state.hold = false;
      await store.close();
    }
  });

  test('a failed sync: the call gets the fail-mode decision, the fault is logged with what to do, and so does every later call', async () => {
    const h = heldSync();
    const { store, log, gate } = await gateOn(h, 5000);
    try {
      const first = track(gate.decide(attempt(), { record: true }));
      await until(() => h.calls.length === 1);
      h.release(0, Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
      await until(() => first.done);
      const later = await gate.decide(attempt(), { record: true });
      for (const d of [first.value!, later]) expect(d.reasons.map((r) => r.code)).toEqual(['gate_unavailable']);
      const faults = log.lines().filter((l) => l.level === 'error' && l.code === 'CG_ERR_STORE_FAULT');
      expect(faults.length).toBeGreaterThanOrEqual(2);
      expect(JSON.stringify(faults[0])).toMatch(/the disk failed to sync .*restart the gate/);
      expect(h.calls).toHaveLength(1);
    } finally {
      await store.close();
    }
  });
});
