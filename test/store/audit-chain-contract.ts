/**
 * The audit chain (issue 15.7, docs/audit-trail.md) on every store: an intact chain verifies, and
 * each way of tampering with the rows is caught at the right row. Tampering is done the way
 * someone with write access to the database would do it: SQL on the tables (so this part runs on
 * SQLite and PostgreSQL; the memory store runs the rest).
 */
import type { Decision } from '../../src/core/types';
import type { Store } from '../../src/gate/store';
import { rowHash, verifyChains, type VerifyReport } from '../../src/store/audit-chain';
import { decision } from './contract';

export type ChainHarness = {
  store: Store;
  /** SQL on the store's database with ? placeholders; {d} is the decisions table, {h} chain_heads. */
  sql?: (text: string, ...args: unknown[]) => Promise<Record<string, unknown>[]>;
  /** Another store instance (another gate) on the same database. */
  another?: () => Promise<Store>;
  close(): Promise<void>;
};

const WINDOW = { windowStart: new Date('2026-11-01T00:00:00Z'), maxAttempts: Infinity };
const at = (day: number) => new Date(Date.UTC(2026, 10, day, 10));

/** Six decisions, one a day from 20 to 25 November, through both write paths, one after the other. */
export async function writeSix(store: Store, tag: string): Promise<Decision[]> {
  const out: Decision[] = [];
  for (let i = 0; i < 6; i++) {
    const d = decision({ id: `${tag}-${i + 1}`, at: at(20 + i), verdict: i === 2 ? 'block' : 'allow' });
    if (i % 2 === 0) await store.commitDecision(d, { recordAttempt: true, ...WINDOW });
    else
      await store.decideAndCommit(
        { e164: d.callee!.e164, professional: 'acme', at: d.at, windowStart: WINDOW.windowStart },
        () => d,
        { recordAttempt: true, maxAttempts: Infinity },
      );
    out.push(d);
  }
  return out;
}

const verify = (store: Store) => verifyChains(store, { batchSize: 2 });
const intact = (r: VerifyReport) => expect(r.problems).toEqual([]);

export function runChainContract(
  name: string,
  make: () => Promise<ChainHarness>,
  opts: { twoWriters: boolean } = { twoWriters: true },
): void {
  describe(`audit chain: ${name}`, () => {
    let h: ChainHarness;
    let store: Store;
    beforeEach(async () => {
      h = await make();
      store = h.store;
    });
    afterEach(async () => {
      await h.close();
    });

    test('an intact chain verifies: one chain, every row checked, its head at the last row', async () => {
      await writeSix(store, 'ok');
      const r = await verify(store);
      intact(r);
      expect(r).toMatchObject({ chains: 1, rows: 6, unchained: 0 });
      expect(r.heads).toHaveLength(1);
      expect(r.heads[0]).toMatchObject({ position: 6, anchorPosition: 0 });
    });

    test('the outcome and the release, written later into the row, are not hashed: still intact', async () => {
      const [d1, d2] = await writeSix(store, 'later');
      await store.recordOutcome(d1!.id, { answered: true, dialStatus: 'ANSWER', durationMs: 1000, endedAt: at(27) });
      await store.releaseAttempt(d2!.id);
      intact(await verify(store));
    });

    test('purge keeps the chain verifiable: the oldest rows go, the last one removed becomes the anchor', async () => {
      const six = await writeSix(store, 'purge');
      const cut = { consentsCollectedBefore: new Date(0), contractsEndedBefore: new Date(0) };
      expect((await store.purge({ ...cut, decisionsBefore: at(23) }, true)).decisions).toBe(3);
      intact(await verify(store)); // a dry run changes nothing
      expect((await store.purge({ ...cut, decisionsBefore: at(23) }, false)).decisions).toBe(3);
      const r = await verify(store);
      intact(r);
      expect(r).toMatchObject({ chains: 1, rows: 3 });
      expect(r.heads[0]).toMatchObject({ position: 6, anchorPosition: 3 });
      // writing goes on after a purge, and a second purge moves the anchor on
      await store.commitDecision(decision({ id: 'purge-7', at: at(26) }), { recordAttempt: true, ...WINDOW });
      expect((await store.purge({ ...cut, decisionsBefore: at(25) }, false)).decisions).toBe(2);
      const again = await verify(store);
      intact(again);
      expect(again).toMatchObject({ rows: 2 });
      expect(again.heads[0]).toMatchObject({ position: 7, anchorPosition: 5 });
      expect(six).toHaveLength(6);
    });

    test('purge removes only a prefix of each chain: a row recorded later at an earlier instant waits', async () => {
      await writeSix(store, 'prefix');
      // position 7, but an instant before the cutoff (a fail-mode audit written late)
      await store.commitDecision(decision({ id: 'prefix-late', at: at(1) }), { recordAttempt: false, ...WINDOW });
      const cut = { consentsCollectedBefore: new Date(0), contractsEndedBefore: new Date(0) };
      expect((await store.purge({ ...cut, decisionsBefore: at(22) }, false)).decisions).toBe(2);
      const r = await verify(store);
      intact(r);
      expect(r.rows).toBe(5);
    });

    if (opts.twoWriters)
      test('two writers on one database: each keeps its own chain, and both verify', async () => {
        const other = await h.another!();
        try {
          await Promise.all([writeSix(store, 'w1'), writeSix(other, 'w2')]);
          const r = await verify(store);
          intact(r);
          expect(r).toMatchObject({ chains: 2, rows: 12 });
          expect(r.heads.map((x) => x.position)).toEqual([6, 6]);
        } finally {
          await other.close();
        }
      });
  });
}

/** Tampering, on a store whose database SQL can reach. */
export function runTamperContract(name: string, make: () => Promise<ChainHarness>): void {
  describe(`audit chain, tampered with: ${name}`, () => {
    let h: ChainHarness;
    let store: Store;
    let sql: NonNullable<ChainHarness['sql']>;
    let ids: string[];
    beforeEach(async () => {
      h = await make();
      store = h.store;
      sql = h.sql!;
      await writeSix(store, 't');
      ids = (await sql('SELECT id FROM {d} ORDER BY position')).map((r) => r.id as string);
      expect(ids).toEqual(['t-1', 't-2', 't-3', 't-4', 't-5', 't-6']);
      intact(await verify(store));
    });
    afterEach(async () => {
      await h.close();
    });

    const only = async (): Promise<VerifyReport['problems'][number]> => {
      const r = await verify(store);
      expect(r.problems).toHaveLength(1);
      return r.problems[0]!;
    };

    test('a field edited (the verdict) → that row, edited', async () => {
      await sql("UPDATE {d} SET verdict = 'allow' WHERE id = ?", 't-3');
      expect(await only()).toMatchObject({ position: 3, decisionId: 't-3', kind: 'edited' });
    });

    test('the audit text edited (its legal basis) → that row, edited', async () => {
      await sql("UPDATE {d} SET json = replace(json, 'consent', 'contract') WHERE id = ?", 't-4');
      expect(await only()).toMatchObject({ position: 4, decisionId: 't-4', kind: 'edited' });
    });

    test('a row deleted in the middle → its position, deleted, naming the row after the gap', async () => {
      await sql('DELETE FROM {d} WHERE id = ?', 't-3');
      const p = await only();
      expect(p).toMatchObject({ position: 3, decisionId: 't-4', kind: 'deleted' });
      expect(p.message).toMatch(/position 3 is missing/);
    });

    test('the tail deleted → the head says where the chain ended', async () => {
      await sql('DELETE FROM {d} WHERE id IN (?, ?)', 't-5', 't-6');
      const p = await only();
      expect(p).toMatchObject({ position: 5, kind: 'tail-deleted' });
      expect(p.message).toMatch(/positions 5\.\.6 are missing/);
    });

    test('the head deleted too → the chain has no head', async () => {
      await sql('DELETE FROM {h}');
      expect(await only()).toMatchObject({ kind: 'no-head' });
    });

    test('a forged row inserted with a valid hash, the later rows renumbered → the forged row, inserted', async () => {
      const [r3] = await sql('SELECT chain, row_hash FROM {d} WHERE id = ?', 't-3');
      const chain = r3!.chain as string;
      await sql('UPDATE {d} SET position = position + 1000 WHERE position > 3');
      await sql('UPDATE {d} SET position = position - 999 WHERE position > 1000');
      await sql('UPDATE {h} SET position = 7');
      const forged = {
        id: 'forged',
        at: at(22).getTime() + 1,
        e164: '+33612345678',
        professional: 'acme',
        campaign: 'camp-1',
        verdict: 'allow' as const,
        reasons: '',
        auditText: '{}',
        counted: true,
      };
      const hash = rowHash(forged, chain, 4, r3!.row_hash as string);
      await sql(
        'INSERT INTO {d} (id, at, e164, professional, campaign, verdict, reasons, json, counted, chain, position, prev_hash, row_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        forged.id,
        forged.at,
        forged.e164,
        forged.professional,
        forged.campaign,
        forged.verdict,
        forged.reasons,
        forged.auditText,
        true,
        chain,
        4,
        r3!.row_hash,
        hash,
      );
      expect(await only()).toMatchObject({ position: 4, decisionId: 'forged', kind: 'inserted' });
    });

    test('a forged row at a position already taken → caught at that position', async () => {
      await sql(
        "INSERT INTO {d} (id, at, e164, professional, campaign, verdict, reasons, json, counted, chain, position, prev_hash, row_hash) SELECT 'dup', at, e164, professional, campaign, verdict, reasons, json, counted, chain, position, prev_hash, row_hash FROM {d} WHERE id = ?",
        't-3',
      );
      const p = await only();
      expect(p.position).toBe(3);
      expect(['inserted', 'edited']).toContain(p.kind);
    });

    test('two rows swapped (their positions) → the first of them, reordered', async () => {
      await sql('UPDATE {d} SET position = 1002 WHERE id = ?', 't-2');
      await sql('UPDATE {d} SET position = 2 WHERE id = ?', 't-4');
      await sql('UPDATE {d} SET position = 4 WHERE id = ?', 't-2');
      const p = await only();
      expect(p).toMatchObject({ position: 2, decisionId: 't-4', kind: 'reordered' });
      expect(p.message).toMatch(/written at position 4/);
    });

    test('re-sealed: a row edited and its hash recomputed → caught at the next row, which names it', async () => {
      const [r] = await sql(
        'SELECT id, at, e164, professional, campaign, verdict, reasons, json, counted, chain, position, prev_hash FROM {d} WHERE id = ?',
        't-3',
      );
      const edited = {
        id: 't-3',
        at: Number(r!.at),
        e164: r!.e164 as string,
        professional: r!.professional as string,
        campaign: r!.campaign as string,
        verdict: 'allow' as const,
        reasons: '',
        auditText: r!.json as string,
        counted: r!.counted === true || r!.counted === 1,
      };
      const hash = rowHash(edited, r!.chain as string, 3, r!.prev_hash as string);
      await sql("UPDATE {d} SET verdict = 'allow', reasons = '', row_hash = ? WHERE id = ?", hash, 't-3');
      const p = await only();
      expect(p).toMatchObject({ position: 4, decisionId: 't-4', kind: 'resealed' });
      expect(p.message).toMatch(/position 3 \(decision t-3/);
    });

    test('the whole chain rewritten consistently is only caught against heads anchored elsewhere', async () => {
      const anchored = (await verify(store)).heads.map((x) => ({ chain: x.chain, position: x.position, hash: x.hash }));
      // edit row 6 (the last) and re-seal it and the head: consistent again
      const [r] = await sql(
        'SELECT at, e164, professional, campaign, reasons, json, counted, chain, prev_hash FROM {d} WHERE id = ?',
        't-6',
      );
      const edited = {
        id: 't-6',
        at: Number(r!.at),
        e164: r!.e164 as string,
        professional: r!.professional as string,
        campaign: r!.campaign as string,
        verdict: 'block' as const,
        reasons: r!.reasons as string,
        auditText: r!.json as string,
        counted: r!.counted === true || r!.counted === 1,
      };
      const hash = rowHash(edited, r!.chain as string, 6, r!.prev_hash as string);
      await sql("UPDATE {d} SET verdict = 'block', row_hash = ? WHERE id = ?", hash, 't-6');
      await sql('UPDATE {h} SET hash = ?', hash);
      intact(await verify(store));
      const r2 = await verifyChains(store, { against: anchored });
      expect(r2.problems).toHaveLength(1);
      expect(r2.problems[0]).toMatchObject({ position: 6, decisionId: 't-6', kind: 'resealed' });
      expect(r2.anchored).toEqual({ checked: 1, mismatched: 1 });
    });
  });
}

export type { Decision };
