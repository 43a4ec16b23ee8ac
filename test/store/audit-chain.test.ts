/**
 * The audit chain (issue 15.7) on the memory and SQLite stores: the hash's golden vector, the
 * chain contract and the tampering cases (test/store/audit-chain-contract.ts), the migration of a
 * file written before the chain existed, and `store copy` between stores keeping the chain.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Store } from '../../src/gate/store';
import {
  contentHash,
  contentText,
  GENESIS,
  rowHash,
  verifyChains,
  type ChainContent,
} from '../../src/store/audit-chain';
import { MemoryStore } from '../../src/store/memory/memory-store';
import { migrate, MIGRATIONS } from '../../src/store/sqlite/migrations';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store';
import { runChainContract, runTamperContract, writeSix } from './audit-chain-contract';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'callgate-chain-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = () => join(dir, `chain-${++n}.db`);

describe('the hash of a row (version 1)', () => {
  const row: ChainContent = {
    id: 'dec-golden-1',
    at: 1764496800000, // 2025-11-30T10:00:00Z
    e164: '+33612345678',
    professional: 'acme',
    campaign: 'camp-1',
    verdict: 'allow',
    reasons: '',
    auditText: '{"v":1}',
    counted: true,
  };
  test('golden vector: a fixed row gives fixed hashes (computed apart, with sha256sum)', () => {
    expect(contentText(row)).toBe(
      'callgate-audit-row/1\n["dec-golden-1",1764496800000,"+33612345678","acme","camp-1","allow","",true]\n{"v":1}',
    );
    expect(contentHash(row)).toBe('7720c9ef3363aae425c5b690e607eee113ac146798a9a4481cbc3f88eef761dc');
    expect(rowHash(row, '0123456789abcdef0123456789abcdef', 1, GENESIS)).toBe(
      'c064295986822a2944780f41923a67bd187895cc5e1b6baf6c9707412badc0b7',
    );
  });
  test('every immutable field, the chain, the position and the previous hash change it', () => {
    const base = rowHash(row, '0123456789abcdef0123456789abcdef', 1, GENESIS);
    const variants: ChainContent[] = [
      { ...row, id: 'dec-golden-2' },
      { ...row, at: row.at + 1 },
      { ...row, e164: null },
      { ...row, professional: 'acme2' },
      { ...row, campaign: 'camp-2' },
      { ...row, verdict: 'block' },
      { ...row, reasons: 'dnc' },
      { ...row, auditText: '{"v":2}' },
      { ...row, counted: false },
    ];
    for (const v of variants) expect(rowHash(v, '0123456789abcdef0123456789abcdef', 1, GENESIS)).not.toBe(base);
    expect(rowHash(row, 'f123456789abcdef0123456789abcdef', 1, GENESIS)).not.toBe(base);
    expect(rowHash(row, '0123456789abcdef0123456789abcdef', 2, GENESIS)).not.toBe(base);
    expect(rowHash(row, '0123456789abcdef0123456789abcdef', 1, '1'.repeat(64))).not.toBe(base);
    // fields that cannot be told apart by concatenation are still two fields
    expect(contentHash({ ...row, professional: 'ac', campaign: 'mecamp-1' })).not.toBe(contentHash(row));
  });
});

runChainContract(
  'memory',
  async () => {
    const store = new MemoryStore();
    return { store, close: () => store.close() };
  },
  { twoWriters: false },
);

function sqliteHarness(path = file()) {
  const store = SqliteStore.open(path, { checkpoint: 'sqlite' });
  const sql = async (text: string, ...args: unknown[]) => {
    const stmt = store.db.prepare(text.replace(/\{d\}/g, 'decisions').replace(/\{h\}/g, 'chain_heads'));
    const values = args.map((a) => (typeof a === 'boolean' ? (a ? 1 : 0) : a));
    return stmt.reader ? (stmt.all(...values) as Record<string, unknown>[]) : (stmt.run(...values), []);
  };
  return {
    store,
    sql,
    another: async () => SqliteStore.open(path, { checkpoint: 'sqlite' }),
    close: () => store.close(),
  };
}

runChainContract('sqlite', async () => sqliteHarness());
runTamperContract('sqlite', async () => sqliteHarness());

test('sqlite: a file of schema 6 is migrated; its rows are counted as unchained, the new ones chained', async () => {
  const path = file();
  const db = new Database(path);
  migrate(db, path, MIGRATIONS.slice(0, 6));
  for (let i = 0; i < 3; i++)
    db.prepare(
      "INSERT INTO decisions (id, at, e164, professional, campaign, verdict, reasons, json, counted) VALUES (?, ?, '+33612345678', 'acme', 'camp-1', 'allow', '', '{}', 1)",
    ).run(`old-${i}`, Date.UTC(2026, 10, 1 + i));
  db.close();
  const store = SqliteStore.open(path, { checkpoint: 'sqlite' });
  try {
    expect(store.db.pragma('user_version', { simple: true })).toBe(7);
    await writeSix(store, 'new');
    const r = await verifyChains(store);
    expect(r.problems).toEqual([]);
    expect(r).toMatchObject({ chains: 1, rows: 6, unchained: 3 });
    // purge removes unchained rows by their instant, and the chain's prefix
    const cut = { consentsCollectedBefore: new Date(0), contractsEndedBefore: new Date(0) };
    expect(
      (await store.purge({ ...cut, decisionsBefore: new Date(Date.UTC(2026, 10, 21, 12)) }, false)).decisions,
    ).toBe(5);
    expect((await verifyChains(store)).problems).toEqual([]);
  } finally {
    await store.close();
  }
});

/** What `callgate store copy` does: every batch of the source into the target. */
export async function copyAll(from: Store, to: Store): Promise<void> {
  for await (const batch of from.exportAll(4)) await to.copyIn(batch);
}

test('store copy keeps the chains verbatim: SQLite → memory → SQLite verifies, a re-run is harmless', async () => {
  const a = SqliteStore.open(file(), { checkpoint: 'sqlite' });
  const m = new MemoryStore();
  const b = SqliteStore.open(file(), { checkpoint: 'sqlite' });
  try {
    await writeSix(a, 'copy');
    const cut = { consentsCollectedBefore: new Date(0), contractsEndedBefore: new Date(0) };
    await a.purge({ ...cut, decisionsBefore: new Date(Date.UTC(2026, 10, 22)) }, false); // an anchor to copy
    await writeSix(m, 'mem'); // the memory store's own chain
    await copyAll(a, m);
    await copyAll(m, b);
    await copyAll(m, b);
    for (const s of [a, m, b]) expect((await verifyChains(s)).problems).toEqual([]);
    const rb = await verifyChains(b);
    expect(rb).toMatchObject({ chains: 2, rows: 10 });
    expect(rb.heads).toEqual((await verifyChains(m)).heads);
    // the copy goes on being written by its own gate: a third chain
    await b.commitDecision((await import('./contract')).decision({ id: 'after-copy' }), {
      recordAttempt: false,
      windowStart: new Date(0),
      maxAttempts: Infinity,
    });
    expect(await verifyChains(b)).toMatchObject({ chains: 3, rows: 11, problems: [] });
  } finally {
    await a.close();
    await m.close();
    await b.close();
  }
});

describe('the hashed serialisation (version 1) never changes: rows written by earlier versions must verify', () => {
  const row = {
    id: '0193a6e1-aaaa-7bbb-8ccc-123456789abc',
    at: 1764583200000,
    e164: '+33612345678' as string | null,
    professional: 'acme',
    campaign: 'bench',
    verdict: 'allow' as 'allow' | 'block',
    reasons: '',
    auditText: '{"id":"x","note":"été – \u2028 "}',
    counted: true,
  };
  const blocked = {
    ...row,
    e164: null,
    verdict: 'block' as const,
    reasons: 'no_consent frequency_limit',
    counted: false,
  };
  /** The serialisation as docs/audit-trail.md spells it, hashed with createHash. */
  const spelled = (r: typeof row) =>
    createHash('sha256')
      .update(
        `callgate-audit-row/1\n${JSON.stringify([r.id, r.at, r.e164, r.professional, r.campaign, r.verdict, r.reasons, r.counted])}\n${r.auditText}`,
        'utf8',
      )
      .digest('hex');

  test('content and row hashes of fixed rows are the ones computed before (fixed vectors)', () => {
    expect(contentHash(row)).toBe('4cd8482c43c3f221dcdf227b4eff28b291ac6d959a27f200b0ce32c5c97dca1a');
    expect(rowHash(row, '0123456789abcdef0123456789abcdef', 7, 'a'.repeat(64))).toBe(
      'b9142ab0d7b996103209a1fb0669adb9861bc975e48d3be1e6f54aa83900bb32',
    );
    expect(contentHash(blocked)).toBe('2f5f18962b5af6a037a180b515bc383a4ae642a6130c99f4519144334de078a2');
    expect(rowHash(blocked, '0123456789abcdef0123456789abcdef', 1, GENESIS)).toBe(
      'f6fe0af091a77c87911715695f6418f401d25dc36821a01e6c76eceb7acfa07a',
    );
  });

  test('the content hash is SHA-256 of the versioned head and the audit text, as documented', () => {
    expect(contentHash(row)).toBe(spelled(row));
    expect(contentHash(blocked)).toBe(spelled(blocked));
    const link = `callgate-audit/1|0123456789abcdef0123456789abcdef|7|${'a'.repeat(64)}|${spelled(row)}`;
    expect(rowHash(row, '0123456789abcdef0123456789abcdef', 7, 'a'.repeat(64))).toBe(
      createHash('sha256').update(link, 'utf8').digest('hex'),
    );
  });
  test('the hashed text is the JSON.stringify spelling of the row fields, whatever they hold', () => {
    const str = fc.oneof(
      fc.string({ maxLength: 10 }),
      fc.string({ unit: 'binary', maxLength: 10 }),
      fc.constantFrom('a"b\\', '\u2028', '\ud800', '\n'),
    );
    const odd = fc.constantFrom(undefined, null, 1.5, NaN, -0, 'x', true);
    fc.assert(
      fc.property(
        fc.record({
          id: fc.oneof(str, odd),
          at: fc.oneof(fc.integer({ min: -8.64e15, max: 8.64e15 }), odd),
          e164: fc.oneof(str, fc.constant(null), odd),
          professional: str,
          campaign: str,
          verdict: fc.oneof(fc.constantFrom('allow', 'block'), odd),
          reasons: str,
          auditText: str,
          counted: fc.oneof(fc.boolean(), odd),
        }),
        (r) => {
          const c = r as unknown as ChainContent;
          expect(contentText(c)).toBe(
            `callgate-audit-row/1\n${JSON.stringify([c.id, c.at, c.e164, c.professional, c.campaign, c.verdict, c.reasons, c.counted])}\n${c.auditText}`,
          );
        },
      ),
      { numRuns: 1000, seed: 1412 },
    );
  });
});
