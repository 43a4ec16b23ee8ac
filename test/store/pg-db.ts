/**
 * A PostgreSQL database of its own for one test file (or worker, or child process): created on
 * the machine's server (CALLGATE_TEST_PG_URL, default postgres://postgres@127.0.0.1:5432/postgres,
 * the server .ci/run starts) under a unique name, dropped after. No test touches another's data,
 * and none stops the shared server.
 */
import { Client } from 'pg';
import { randomBytes } from 'node:crypto';

export const PG_ADMIN_URL = process.env.CALLGATE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** The URL of database `name` on the test server. */
export function pgUrl(name: string, admin = PG_ADMIN_URL): string {
  const u = new URL(admin);
  u.pathname = `/${name}`;
  return u.toString();
}

async function admin<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: PG_ADMIN_URL });
  try {
    await c.connect();
  } catch (err) {
    throw new Error(
      `the test PostgreSQL server at ${PG_ADMIN_URL} is not reachable (${(err as Error).message}); start it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`,
      { cause: err },
    );
  }
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export type TestDb = { name: string; url: string; drop(): Promise<void> };

/** A new, empty database named cg_test_<tag>_<pid>_<worker>_<random>. */
export async function createTestDb(tag: string): Promise<TestDb> {
  const name = `cg_test_${tag.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${process.pid}_${process.env.JEST_WORKER_ID ?? 0}_${randomBytes(3).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  return {
    name,
    url: pgUrl(name),
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

/** Empties every table of the callgate schema (between tests on one database). */
export async function truncateAll(url: string): Promise<void> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query<{ t: string }>(
      "SELECT format('%I.%I', schemaname, tablename) AS t FROM pg_tables WHERE schemaname = 'callgate' AND tablename <> 'schema_migrations'",
    );
    if (r.rows.length > 0) await c.query(`TRUNCATE ${r.rows.map((x) => x.t).join(', ')} RESTART IDENTITY`);
  } finally {
    await c.end();
  }
}

/** One statement on database `url` (for checks the Store port does not offer). */
export async function sql<T extends object = Record<string, unknown>>(
  url: string,
  text: string,
  values?: unknown[],
): Promise<T[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(text, values)).rows;
  } finally {
    await c.end();
  }
}

/** A short random suffix (unique names inside one database). */
export const rand = () => randomBytes(4).toString('hex');
