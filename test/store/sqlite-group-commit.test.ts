/**
 * Group commit of the SQLite store (decideAndCommit): the calls of one
 * event-loop turn run in one write transaction and are acknowledged only after
 * its COMMIT; a fault in one call's statements is that call's alone, a failed
 * COMMIT fails them all. FREQ-1 (D. 223-9 al. 3) holds inside a group.
 */
import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Facts } from '../../src/core/types';
import { StoreError } from '../../src/gate/store';
import { MAX_GROUP, OUTCOME_JOIN_MS, SqliteStore } from '../../src/store/sqlite/sqlite-store';
import { decision, NUM, OTHER, PRO } from './contract';
import { poisonCommit } from './poison';

let dir: string;
let n = 0;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'callgate-sqlite-group-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const windowStart = new Date('2026-11-01T00:00:00Z');
const q = (e164 = NUM) => ({ e164, professional: PRO, at: new Date('2026-11-30T10:00:00Z'), windowStart });
const REC = { recordAttempt: true, maxAttempts: 4 };
const byCount =
  (e164 = NUM) =>
  (f: Facts) =>
    decision({ e164, verdict: f.recentAttempts.length < 4 ? 'allow' : 'block' });

function open(): { store: SqliteStore; file: string } {
  const file = path.join(dir, `g${++n}.db`);
  return { store: SqliteStore.open(file), file };
}

test('one group, one transaction: another connection sees none of it until COMMIT, then all of it', async () => {
  const { store, file } = open();
  const other = new Database(file, { readonly: true });
  const seenByOther: number[] = [];
  const look = (e164: string) => (f: Facts) => {
    seenByOther.push(other.prepare('SELECT COUNT(*) FROM decisions').pluck().get() as number);
    return byCount(e164)(f);
  };
  try {
    const p1 = store.decideAndCommit(q(NUM), look(NUM), REC);
    const p2 = store.decideAndCommit(q(OTHER), look(OTHER), REC);
    const first = await p1;
    expect(store.db.inTransaction).toBe(false); // acknowledged only after COMMIT
    expect(first?.verdict).toBe('allow');
    expect((await p2)?.verdict).toBe('allow');
    expect(seenByOther).toEqual([0, 0]); // the second call ran before the first was committed: same transaction
    expect(other.prepare('SELECT COUNT(*) FROM decisions').pluck().get()).toBe(2);
  } finally {
    other.close();
    await store.close();
  }
});

test(`more calls than a group holds (${MAX_GROUP}) are all decided, in several groups, FREQ-1 still exact`, async () => {
  const { store } = open();
  try {
    const total = MAX_GROUP * 2 + 10;
    const ds = await Promise.all(Array.from({ length: total }, () => store.decideAndCommit(q(), byCount(), REC)));
    expect(ds.filter((d) => d?.verdict === 'allow')).toHaveLength(4);
    expect((await store.getFacts(q())).recentAttempts).toHaveLength(4);
    expect((await store.history(NUM)).decisions).toHaveLength(total);
  } finally {
    await store.close();
  }
});

test('a call whose row cannot be written is rejected alone and leaves nothing; the group commits the others', async () => {
  const { store } = open();
  store.db.exec(
    "CREATE TEMP TRIGGER refuse_attempt AFTER INSERT ON main.decisions WHEN NEW.id = 'poisoned' BEGIN SELECT RAISE(ABORT, 'attempt refused by test trigger'); END",
  );
  try {
    const results = await Promise.allSettled([
      store.decideAndCommit(q(), () => decision({ id: 'before' }), REC),
      store.decideAndCommit(q(), () => decision({ id: 'poisoned' }), REC),
      store.decideAndCommit(q(), () => decision({ id: 'after' }), REC),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const err = (results[1] as PromiseRejectedResult).reason as StoreError;
    expect(err).toBeInstanceOf(StoreError);
    expect(err.code).toBe('CG_ERR_STORE_FAULT');
    expect(err.message).toContain('attempt refused by test trigger');
    const h = await store.history(NUM);
    expect(h.decisions.map((d) => d.id)).toEqual(['before', 'after']); // no orphan decision row for 'poisoned'
    expect(h.attempts.map((a) => a.decisionId).sort()).toEqual(['after', 'before']);
  } finally {
    await store.close();
  }
});

test('a failed COMMIT rejects every call of the group and writes none of them; the store works afterwards', async () => {
  const { store } = open();
  poisonCommit(store.db, 'poisoned');
  try {
    const results = await Promise.allSettled([
      store.decideAndCommit(q(), () => decision({ id: 'a' }), REC),
      store.decideAndCommit(q(OTHER), () => decision({ id: 'poisoned', e164: OTHER }), REC),
      store.decideAndCommit(q(), () => decision({ id: 'c' }), REC),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    for (const r of results)
      expect(((r as PromiseRejectedResult).reason as StoreError).code).toBe('CG_ERR_STORE_FAULT');
    expect(store.db.inTransaction).toBe(false);
    expect((await store.history(NUM)).decisions).toEqual([]);
    expect((await store.history(OTHER)).decisions).toEqual([]);
    expect((await store.decideAndCommit(q(), () => decision({ id: 'later' }), REC))?.id).toBe('later');
    expect((await store.getFacts(q())).recentAttempts).toHaveLength(1);
  } finally {
    await store.close();
  }
});

test('outcomes, releases and audit writes arriving with the calls join their group: one COMMIT for all', async () => {
  const { store, file } = open();
  const other = new Database(file, { readonly: true });
  try {
    await store.decideAndCommit(q(), () => decision({ id: 'earlier' }), REC);
    await store.decideAndCommit(q(OTHER), () => decision({ id: 'to-release', e164: OTHER }), REC);
    const before = store.groupStats();
    const outcome = { answered: true, endedAt: new Date('2026-11-30T10:05:00Z'), durationMs: 60_000 };
    const seen = () => other.prepare('SELECT COUNT(*) FROM decisions').pluck().get();
    const turn = [
      store.decideAndCommit(q(), () => decision({ id: 'd1' }), REC),
      store.recordOutcome('earlier', outcome),
      store.commitDecision(decision({ id: 'audit', verdict: 'block' }), {
        recordAttempt: false,
        windowStart,
        maxAttempts: 4,
      }),
      store.releaseAttempt('to-release'),
      store.recordOutcome('no-such-decision', outcome),
      // a duplicate id: rejected alone, the group commits the rest
      store.commitDecision(decision({ id: 'earlier' }), { recordAttempt: false, windowStart, maxAttempts: 4 }),
      store.decideAndCommit(q(), () => decision({ id: 'd2' }), REC),
    ];
    const results = await Promise.allSettled(turn);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as StoreError).code))).toEqual([
      expect.objectContaining({ id: 'd1' }),
      true,
      { ok: true },
      true,
      false,
      'CG_ERR_STORE_DUPLICATE',
      expect.objectContaining({ id: 'd2' }),
    ]);
    const after = store.groupStats();
    expect({ commits: after.commits - before.commits, writes: after.calls - before.calls }).toEqual({
      commits: 1,
      writes: 6,
    });
    expect(seen()).toBe(5);
    const h = await store.history(NUM);
    expect(h.attempts.find((a) => a.decisionId === 'earlier')?.outcome).toMatchObject({
      answered: true,
      durationMs: 60_000,
    });
    expect((await store.getFacts(q(OTHER))).recentAttempts).toEqual([]); // released
  } finally {
    other.close();
    await store.close();
  }
});

test(`an outcome waits up to ${OUTCOME_JOIN_MS} ms for the next write and shares its COMMIT; alone, it is committed then`, async () => {
  const outcome = { answered: true, endedAt: new Date('2026-11-30T10:05:00Z'), durationMs: 1_000 };
  // a write that does not wait is committed on the setImmediate queued with it, before this one
  const nextTurn = () => new Promise<void>((r) => setImmediate(r));
  const seen = (file: string) => {
    const other = new Database(file, { readonly: true });
    return {
      outcome: (id: string) =>
        other.prepare('SELECT answered FROM decisions WHERE id = ?').pluck().get(id) as number | null,
      close: () => other.close(),
    };
  };

  // Joining: the wait made long (60 s) so that nothing here depends on two lines running within
  // 20 ms of each other on a loaded machine; what joins is the same whatever the wait.
  const file = path.join(dir, `g${++n}.db`);
  const store = SqliteStore.open(file, { outcomeJoinMs: 60_000 });
  const other = seen(file);
  try {
    await store.decideAndCommit(q(), () => decision({ id: 'first' }), REC);
    await store.decideAndCommit(q(OTHER), () => decision({ id: 'second', e164: OTHER }), REC);

    // an outcome, then a decision an event-loop turn later: one group, one COMMIT
    const before = store.groupStats();
    const recorded = store.recordOutcome('first', outcome);
    await nextTurn();
    expect(other.outcome('first')).toBeNull(); // still waiting in the queue, nothing committed
    const decided = store.decideAndCommit(q(), () => decision({ id: 'third' }), REC);
    expect(await recorded).toBe(true);
    expect((await decided)?.id).toBe('third');
    const after = store.groupStats();
    expect({ commits: after.commits - before.commits, writes: after.calls - before.calls }).toEqual({
      commits: 1,
      writes: 2,
    });
    expect(other.outcome('first')).toBe(1);

    // one still waiting when the store closes is committed by close(), without waiting its time out
    const last = store.recordOutcome('second', outcome);
    await nextTurn();
    expect(other.outcome('second')).toBeNull();
    await store.close();
    expect(await last).toBe(true);
    expect(other.outcome('second')).toBe(1);
  } finally {
    other.close();
    await store.close();
  }

  // Alone, at the default wait: committed by itself once the wait is over
  const { store: alone, file: aloneFile } = open();
  const seenAlone = seen(aloneFile);
  try {
    await alone.decideAndCommit(q(), () => decision({ id: 'first' }), REC);
    const before = alone.groupStats();
    expect(await alone.recordOutcome('first', outcome)).toBe(true);
    const after = alone.groupStats();
    expect({ commits: after.commits - before.commits, writes: after.calls - before.calls }).toEqual({
      commits: 1,
      writes: 1,
    });
    expect(seenAlone.outcome('first')).toBe(1);
  } finally {
    seenAlone.close();
    await alone.close();
  }
});

test('close() runs the calls already queued before closing the file', async () => {
  const { store, file } = open();
  const p = store.decideAndCommit(q(), () => decision({ id: 'queued' }), REC);
  await store.close();
  expect((await p)?.id).toBe('queued');
  const again = SqliteStore.open(file);
  try {
    expect((await again.history(NUM)).decisions.map((d) => d.id)).toEqual(['queued']);
  } finally {
    await again.close();
  }
});
