/**
 * The audit chain (issue 15.7) on the PostgreSQL store: the link hash made inside
 * record_decisions is the one the gate process would make (golden vector), the chain contract and
 * the tampering cases (test/store/audit-chain-contract.ts), several gate connections and gates on
 * one database, the migration of a database of schema 2, and `store copy` both ways with SQLite.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '../../src/gate/store';
import { GENESIS, linkText, verifyChains } from '../../src/store/audit-chain';
import { PG_MIGRATIONS, migratePg } from '../../src/store/postgres/migrations';
import { PostgresStore } from '../../src/store/postgres/postgres-store';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store';
import { Pool } from 'pg';
import { runChainContract, runTamperContract, writeSix } from './audit-chain-contract';
import { decision } from './contract';
import { createTestDb, sql, truncateAll, type TestDb } from './pg-db';

let db: TestDb;
let dir: string;
beforeAll(async () => {
  db = await createTestDb('chain');
  const s = new PostgresStore({ url: db.url });
  await s.ready();
  await s.close();
  dir = mkdtempSync(join(tmpdir(), 'callgate-pgchain-'));
}, 30_000);
afterAll(async () => {
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

const pgSql =
  (url: string) =>
  (text: string, ...args: unknown[]) => {
    let i = 0;
    return sql(
      url,
      text
        .replace(/\{d\}/g, 'callgate.decisions')
        .replace(/\{h\}/g, 'callgate.chain_heads')
        .replace(/\?/g, () => `$${++i}`),
      args,
    );
  };

async function harness() {
  await truncateAll(db.url);
  const store = new PostgresStore({ url: db.url, poolSize: 4 });
  return {
    store,
    sql: pgSql(db.url),
    another: async () => new PostgresStore({ url: db.url, poolSize: 4 }),
    close: () => store.close(),
  };
}

test('golden vector: the link hash PostgreSQL makes is the one of src/store/audit-chain.ts', async () => {
  const content = '7720c9ef3363aae425c5b690e607eee113ac146798a9a4481cbc3f88eef761dc';
  const [r] = await sql<{ h: string }>(
    db.url,
    "SELECT encode(sha256(convert_to('callgate-audit/1|' || $1 || '|' || ($2::bigint)::text || '|' || $3 || '|' || $4, 'UTF8')), 'hex') AS h",
    ['0123456789abcdef0123456789abcdef', 1, GENESIS, content],
  );
  expect(linkText('0123456789abcdef0123456789abcdef', 1, GENESIS, content)).toBe(
    `callgate-audit/1|0123456789abcdef0123456789abcdef|1|${GENESIS}|${content}`,
  );
  expect(r!.h).toBe('c064295986822a2944780f41923a67bd187895cc5e1b6baf6c9707412badc0b7');
});

runChainContract('postgres', harness);
runTamperContract('postgres', harness);

test('a gate with decisions in flight on several connections: one chain per connection, all verify', async () => {
  await truncateAll(db.url);
  const stores = [new PostgresStore({ url: db.url, poolSize: 4 }), new PostgresStore({ url: db.url, poolSize: 4 })];
  try {
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < 400; i++) {
      const s = stores[i % 2]!;
      const d = decision({ id: `many-${i}`, e164: `+336${String(10_000_000 + (i % 37)).padStart(8, '0')}` });
      calls.push(
        s.decideAndCommit(
          { e164: d.callee!.e164, professional: 'acme', at: d.at, windowStart: new Date('2026-11-01') },
          (f) => (f.recentAttempts.length >= 4 ? { ...d, verdict: 'block' } : d),
          { recordAttempt: true, maxAttempts: 4 },
        ),
      );
    }
    await Promise.all(calls);
    const r = await verifyChains(stores[0]!);
    expect(r.problems).toEqual([]);
    expect(r.rows).toBe(400);
    expect(r.chains).toBeGreaterThanOrEqual(2);
    expect(r.chains).toBeLessThanOrEqual(8); // at most one per connection slot of each gate
    const [c] = await sql<{ n: number }>(db.url, 'SELECT count(*)::int AS n FROM callgate.decisions WHERE counted');
    expect(c!.n).toBe(37 * 4); // FREQ-1 untouched: 4 attempts per number
  } finally {
    for (const s of stores) await s.close();
  }
});

/**
 * pg-pool's end() resolves once it has asked its clients to end, before their connections have
 * closed: the DROP DATABASE … WITH (FORCE) that follows could then terminate one, whose FATAL an
 * idle client re-emits on the pool as an unhandled 'error'. Waits for every connection to close.
 */
async function endPool(pool: Pool): Promise<void> {
  let open = pool.totalCount;
  const closed = new Promise<void>((resolve) => {
    if (open === 0) resolve();
    pool.on('remove', () => {
      if (--open === 0) resolve();
    });
  });
  await pool.end();
  await closed;
}

test('a database of schema 2 is migrated (a gate not yet upgraded keeps writing, unchained); verify counts those rows', async () => {
  const fresh = await createTestDb('chainmig');
  try {
    const pool = new Pool({ connectionString: fresh.url });
    const c = await pool.connect();
    await migratePg(c, 'test', PG_MIGRATIONS.slice(0, 2));
    const old = (id: string) =>
      c.query(
        "SELECT * FROM callgate.record_decisions(ARRAY[$1], ARRAY[1764496800000::bigint], ARRAY['+33612345678'], ARRAY['acme'], ARRAY['camp-1'], ARRAY['allow'], ARRAY[''], ARRAY['{}'], ARRAY[true], ARRAY[0::bigint], ARRAY[NULL::integer], ARRAY[NULL::integer])",
        [id],
      );
    await old('old-1');
    c.release();
    const store = new PostgresStore({ url: fresh.url });
    try {
      await writeSix(store, 'new');
      // the 12-argument function is still there: a gate of the previous version writes on
      const c2 = await pool.connect();
      await c2.query(
        "SELECT * FROM callgate.record_decisions(ARRAY['old-2'], ARRAY[1764496800000::bigint], ARRAY['+33612345678'], ARRAY['acme'], ARRAY['camp-1'], ARRAY['allow'], ARRAY[''], ARRAY['{}'], ARRAY[true], ARRAY[0::bigint], ARRAY[NULL::integer], ARRAY[NULL::integer])",
      );
      c2.release();
      const r = await verifyChains(store);
      expect(r.problems).toEqual([]);
      expect(r).toMatchObject({ chains: 1, rows: 6, unchained: 2 });
    } finally {
      await store.close();
      await endPool(pool);
    }
  } finally {
    await fresh.drop();
  }
});

async function copyAll(from: Store, to: Store): Promise<void> {
  for await (const batch of from.exportAll(4)) await to.copyIn(batch);
}

test('store copy SQLite → PostgreSQL → SQLite keeps every chain verifiable (purge anchors included), re-runs harmless', async () => {
  await truncateAll(db.url);
  const a = SqliteStore.open(join(dir, 'a.db'), { checkpoint: 'sqlite' });
  const p = new PostgresStore({ url: db.url, poolSize: 2 });
  const b = SqliteStore.open(join(dir, 'b.db'), { checkpoint: 'sqlite' });
  try {
    await writeSix(a, 'sq');
    await a.purge(
      {
        decisionsBefore: new Date(Date.UTC(2026, 10, 22)),
        consentsCollectedBefore: new Date(0),
        contractsEndedBefore: new Date(0),
      },
      false,
    );
    await writeSix(p, 'pg');
    await copyAll(a, p);
    await copyAll(a, p);
    await copyAll(p, b);
    await copyAll(p, b);
    const rp = await verifyChains(p);
    expect(rp.problems).toEqual([]);
    expect(rp).toMatchObject({ chains: 2, rows: 10 });
    const rb = await verifyChains(b);
    expect(rb.problems).toEqual([]);
    expect(rb.heads).toEqual(rp.heads);
  } finally {
    await a.close();
    await p.close();
    await b.close();
  }
});
