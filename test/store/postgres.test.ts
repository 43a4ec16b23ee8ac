/**
 * The Store contract on the PostgreSQL store (a database of its own on the machine's server),
 * and what only PostgreSQL has: its schema migrations, run by several gates at once.
 */
import { Client } from 'pg';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { FACTS_SQL, PostgresStore } from '../../src/store/postgres/postgres-store';
import { PG_MIGRATIONS } from '../../src/store/postgres/migrations';
import { openStore } from '../../src/store';
import { NUM, PRO, decision, runStoreContract } from './contract';
import { decisionToText } from '../../src/store/memory/common';
import { verifyChains } from '../../src/store/audit-chain';
import { importMergeContract } from './import-merge';
import { createTestDb, sql, truncateAll, type TestDb } from './pg-db';

let db: TestDb;
beforeAll(async () => {
  db = await createTestDb('contract');
  // the schema, once; each test then starts from empty tables
  const s = new PostgresStore({ url: db.url });
  await s.ready();
  await s.close();
}, 30_000);
afterAll(async () => {
  await db?.drop();
});

runStoreContract('postgres', async () => {
  await truncateAll(db.url);
  return new PostgresStore({ url: db.url, poolSize: 4 });
});
importMergeContract('postgres', async () => {
  await truncateAll(db.url);
  return new PostgresStore({ url: db.url, poolSize: 4 });
});
runStoreContract('postgres via openStore', async () => {
  await truncateAll(db.url);
  return openStore({ driver: 'postgres', url: db.url }, {}, { deadlineMs: 500 });
});

test('the opposition list is not looked up when the query says no rule needs it (consent regime)', async () => {
  await truncateAll(db.url);
  const store = new PostgresStore({ url: db.url });
  try {
    const asOf = new Date('2026-05-01T00:00:00Z');
    const imp = await store.beginImport('opposition', { asOf });
    await imp.opposition([NUM]);
    await imp.commit();
    const q = { e164: NUM, professional: PRO, at: new Date('2026-06-02T10:00:00Z'), windowStart: new Date(0) };
    expect((await store.getFacts(q)).opposition).toEqual({ listed: true, asOf });
    expect((await store.getFacts({ ...q, opposition: false })).opposition).toEqual({ listed: false });
  } finally {
    await store.close();
  }
});

test('the facts statement is planned once per connection: PostgreSQL keeps its generic plan, of index lookups', async () => {
  // every execution planned again cost the server ~0.3-0.5 ms of CPU per group; the generic plan
  // of the unnest-and-join form, had it been kept, scanned whole tables joined by hash
  await truncateAll(db.url);
  const store = new PostgresStore({ url: db.url });
  await store.addContract({ e164: NUM, professional: PRO, categories: ['energy-supply'], start: new Date(0) });
  await store.close();
  const c = new Client({ connectionString: db.url });
  await c.connect();
  try {
    // groups of 1 to 4 numbers, as the store sends them (the custom plans of the first five
    // executions see each group's size)
    for (let n = 1; n <= 12; n++) {
      const size = 1 + (n % 4);
      const values = [
        Array.from({ length: size }, () => NUM),
        Array.from({ length: size }, () => PRO),
        Array.from({ length: size }, () => 0),
        Array.from({ length: size }, () => true),
      ];
      const r = await c.query({ name: 'cg_facts', text: FACTS_SQL, values, rowMode: 'array' });
      // per number: its opposition row and its contract
      expect(r.rows).toHaveLength(2 * size);
    }
    const [ps] = (
      await c.query<{ generic_plans: string; custom_plans: string }>(
        "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = 'cg_facts'",
      )
    ).rows;
    expect(Number(ps!.custom_plans)).toBe(5);
    expect(Number(ps!.generic_plans)).toBe(7);
    const plan = (
      await c.query<{ 'QUERY PLAN': string }>(`EXPLAIN EXECUTE cg_facts('{${NUM}}', '{${PRO}}', '{0}', '{t}')`)
    ).rows
      .map((r) => r['QUERY PLAN'])
      .join('\n');
    expect(plan).not.toMatch(/Seq Scan on (consents|contracts|dnc|refusals|decisions)|Hash Join/);
    expect(plan).toMatch(/Index (Only )?Scan using decisions_number/);
  } finally {
    await c.end();
  }
});

describe('migrations', () => {
  let fresh: TestDb;
  beforeEach(async () => {
    fresh = await createTestDb('migrate');
  });
  afterEach(async () => {
    await fresh.drop();
  });

  test('eight gates opening one new database at once: the schema is created once, all of them work', async () => {
    const stores = Array.from({ length: 8 }, () => new PostgresStore({ url: fresh.url, poolSize: 2 }));
    try {
      await Promise.all(stores.map((s) => s.ready()));
      const versions = await sql<{ version: number }>(
        fresh.url,
        'SELECT version FROM callgate.schema_migrations ORDER BY version',
      );
      expect(versions.map((v) => v.version)).toEqual(PG_MIGRATIONS.map((m) => m.version));
      await Promise.all(stores.map((s) => s.addRefusal(NUM, PRO, new Date('2026-01-01T00:00:00Z'))));
      expect((await stores[0]!.history(NUM)).refusals).toHaveLength(8);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  }, 30_000);

  test('a new database is created without upgrade warnings; an older one says each step it upgrades', async () => {
    const steps: { from: number; to: number }[] = [];
    const created = new PostgresStore({ url: fresh.url, onMigration: (x) => steps.push({ from: x.from, to: x.to }) });
    await created.ready();
    await created.close();
    expect(steps).toEqual([]);
    // back to version 1, as a callgate of schema 1 left it (each later step undone)
    await sql(fresh.url, 'DROP INDEX callgate.decisions_at');
    await sql(
      fresh.url,
      'DROP FUNCTION callgate.record_decisions(text[], bigint[], text[], text[], text[], text[], text[], text[], boolean[], bigint[], integer[], integer[], text, text[])',
    );
    await sql(fresh.url, 'DROP TABLE callgate.chain_heads');
    await sql(
      fresh.url,
      'ALTER TABLE callgate.decisions DROP COLUMN chain, DROP COLUMN position, DROP COLUMN prev_hash, DROP COLUMN row_hash',
    );
    await sql(fresh.url, 'DELETE FROM callgate.schema_migrations WHERE version > 1');
    const older = new PostgresStore({ url: fresh.url, onMigration: (x) => steps.push({ from: x.from, to: x.to }) });
    await older.ready();
    await older.close();
    expect(steps).toEqual(PG_MIGRATIONS.slice(1).map((m) => ({ from: m.version - 1, to: m.version })));
  });

  test('a database written by a newer callgate is refused at open, untouched', async () => {
    const s = new PostgresStore({ url: fresh.url });
    await s.ready();
    await s.close();
    await sql(fresh.url, "INSERT INTO callgate.schema_migrations VALUES (999, 'from the future', 0)");
    const again = new PostgresStore({ url: fresh.url });
    try {
      await expect(again.ready()).rejects.toMatchObject({ code: 'CG_ERR_STORE_SCHEMA' });
      await expect(again.history(NUM)).rejects.toMatchObject({ code: 'CG_ERR_STORE_SCHEMA' });
    } finally {
      await again.close();
    }
    expect(await sql(fresh.url, 'SELECT max(version) AS v FROM callgate.schema_migrations')).toEqual([{ v: 999 }]);
  });
});

test('a process that opens the store and never closes it still ends by itself, its write kept', async () => {
  // an idle pooled connection must not hold the process: a script, or a test that failed before
  // its close(), would otherwise keep jest (in band on CI) waiting until CI's time limit
  await truncateAll(db.url);
  const script = `
    const fs = require('node:fs');
    const ts = require('typescript');
    require.extensions['.ts'] = (m, f) => m._compile(ts.transpileModule(fs.readFileSync(f, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true }, fileName: f }).outputText, f);
    const { PostgresStore } = require(${JSON.stringify(path.resolve(__dirname, '../../src/store/postgres/postgres-store.ts'))});
    (async () => {
      const store = new PostgresStore({ url: ${JSON.stringify(db.url)} });
      await store.addRefusal('+33612345678', 'acme', new Date());
      process.stdout.write('written');
    })();`;
  const r = spawnSync(process.execPath, ['-e', script], {
    cwd: path.resolve(__dirname, '../..'),
    encoding: 'utf8',
    timeout: 20_000, // a bound for a hang, never reached when the process ends by itself
  });
  expect(r.error).toBeUndefined();
  expect(r.signal).toBeNull();
  expect(r.stderr).toBe('');
  expect(r.stdout).toBe('written');
  expect(r.status).toBe(0);
  expect(await sql(db.url, 'SELECT count(*)::int AS n FROM callgate.refusals')).toEqual([{ n: 1 }]);
});

test('every connection commits to disk (synchronous_commit on), whatever the database default says', async () => {
  const fresh = await createTestDb('synccommit');
  try {
    await sql(fresh.url, `ALTER DATABASE ${fresh.name} SET synchronous_commit = off`);
    expect(await sql(fresh.url, 'SHOW synchronous_commit')).toEqual([{ synchronous_commit: 'off' }]);
    // even when the URL's own options say otherwise
    const store = new PostgresStore({ url: `${fresh.url}?options=-c%20synchronous_commit%3Doff` });
    try {
      await store.ready();
      const seen = [];
      for await (const rows of store.cursor<{ synchronous_commit: string }>(
        'test',
        "SELECT current_setting('synchronous_commit') AS synchronous_commit",
        [],
        1,
      ))
        seen.push(...rows);
      expect(seen).toEqual([{ synchronous_commit: 'on' }]);
    } finally {
      await store.close();
    }
  } finally {
    await fresh.drop();
  }
});

test('the array parameters built by the store carry any text as it is: quotes, backslashes, braces, commas, "NULL", accents, control characters, emoji', async () => {
  // the store builds its PostgreSQL array literals itself (one pass, not pg's per-element encoding)
  await truncateAll(db.url);
  const store = new PostgresStore({ url: db.url, poolSize: 2 });
  try {
    const awkward = [
      'a"b',
      'c\\d',
      '{e,f}',
      'NULL',
      ' g ',
      'é\u00a0ü',
      '\\"',
      '',
      'tab\there',
      'line\nnext',
      '\u0001"\\',
      'émoji 📞 "x"',
    ];
    const decided = await Promise.all(
      awkward.map((s, i) => {
        const d = decision({
          id: `awk-${i}-${s}`,
          e164: `+3361234560${i}`,
          campaign: { id: `camp ${s}`, professional: PRO, dialing: 'manual', purpose: 'prospecting' },
          source: { pbx: 'asterisk', channelId: `chan ${s}` },
        });
        return store.decideAndCommit(
          { e164: d.callee!.e164, professional: PRO, at: d.at, windowStart: new Date(0) },
          () => d,
          { recordAttempt: true, maxAttempts: 4 },
        );
      }),
    );
    const rows = await sql<{ id: string; campaign: string; json: string }>(
      db.url,
      "SELECT id, campaign, json FROM callgate.decisions WHERE id LIKE 'awk-%'",
    );
    expect(rows).toHaveLength(awkward.length);
    for (const [i, s] of awkward.entries()) {
      const row = rows.find((r) => r.id === `awk-${i}-${s}`);
      expect(row?.campaign).toBe(`camp ${s}`);
      expect(row?.json).toBe(decisionToText(decided[i]!));
    }
    expect((await verifyChains(store)).problems).toEqual([]);
  } finally {
    await store.close();
  }
});
