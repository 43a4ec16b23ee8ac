/**
 * Numbered schema migrations of the PostgreSQL store, run when a gate (or a
 * command) opens it. Every table lives in the schema `callgate`.
 *
 * Several gates may start at once on one database: each step runs in its own
 * transaction under a transaction-level advisory lock (MIGRATION_LOCK), and
 * reads the version again once it holds the lock, so a step runs exactly once
 * and a gate that waited finds the work done. A database at a version above
 * the last one here was written by a newer callgate: refused rather than guessed.
 *
 * Times are integer epoch ms (bigint), as in the SQLite store, categories are
 * joined with U+001F: the same rows, so that `callgate store copy` moves them
 * as they are. Tables: decisions (audit, FR-RULES section 9; counted = true
 * makes the row an attempt for FREQ-1/2, D. 223-9 al. 3), consents (L. 223-1,
 * R. 223-1..3), contracts (L. 223-1 al. 4), dnc (RGPD art. 21), refusals
 * (R. 223-3, D. 223-9), opposition (L. 223-1, 2020 wording).
 */
import type { PoolClient } from 'pg';
import { storeError } from '../memory/common';

export type PgMigration = { version: number; name: string; sql: string };

/** Key of the transaction-level advisory lock held while a migration step runs ('callgate' in ASCII). */
export const MIGRATION_LOCK = 0x63616c6c67617465n;

export const PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
CREATE TABLE callgate.decisions (
  id           text PRIMARY KEY,
  at           bigint NOT NULL,
  e164         text,
  professional text NOT NULL,
  campaign     text NOT NULL,
  verdict      text NOT NULL CHECK (verdict IN ('allow', 'block')),
  reasons      text NOT NULL,              -- reason codes, space separated
  json         text NOT NULL,              -- the whole Decision, for audit (src/store/memory/common.ts)
  counted      boolean NOT NULL DEFAULT false,  -- an attempt (FREQ-1)
  released     boolean NOT NULL DEFAULT false,  -- FREQ-2: failed before reaching the network
  answered     boolean,
  dial_status  text,
  hangup_cause text,
  duration_ms  bigint,
  ended_at     bigint,
  seq          bigint GENERATED ALWAYS AS IDENTITY  -- insertion order, for ties in history
);
-- hot path (FREQ-1: counted, non-released attempts of a number and professional since the window start) and history
CREATE INDEX decisions_number ON callgate.decisions (e164, professional, at) INCLUDE (counted, released);
CREATE TABLE callgate.consents (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  e164         text NOT NULL,
  professional text NOT NULL,
  categories   text NOT NULL,
  collected_at bigint NOT NULL,
  valid_until  bigint,
  slot         bigint,
  source       text,
  withdrawn_at bigint,
  automated    boolean,
  UNIQUE (e164, professional, collected_at, categories)
);
CREATE TABLE callgate.contracts (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  e164         text NOT NULL,
  professional text NOT NULL,
  categories   text NOT NULL,
  start        bigint NOT NULL,
  "end"        bigint,
  UNIQUE (e164, professional, start, categories)
);
CREATE TABLE callgate.dnc (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  e164         text NOT NULL,
  professional text,                       -- NULL = every professional ('' cannot be one: checked on write)
  reason       text,
  added_at     bigint NOT NULL
);
CREATE UNIQUE INDEX dnc_key ON callgate.dnc (e164, COALESCE(professional, ''));
CREATE TABLE callgate.refusals (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  e164         text NOT NULL,
  professional text NOT NULL,
  at           bigint NOT NULL
);
CREATE INDEX refusals_number ON callgate.refusals (e164, professional);
CREATE TABLE callgate.opposition (e164 text PRIMARY KEY);
CREATE TABLE callgate.opposition_meta (
  id          integer PRIMARY KEY CHECK (id = 1),
  as_of       bigint NOT NULL,
  imported_at bigint NOT NULL,
  count       bigint NOT NULL
);

-- FREQ-1 across gates (D. 223-9 al. 3), see docs/postgres.md: records one decision in one
-- statement (so one transaction: autocommit), after taking a transaction-level advisory lock on
-- (professional, number) when the decision is an attempt, and counting again under it. A row is
-- written only when the count is below p_max (NULL: no limit) and, when p_seen is given, equal to
-- it (the count the decision was made from). Returns NULL when written; otherwise the times of the
-- counted attempts found, oldest first, and nothing is written. VOLATILE, so under READ COMMITTED
-- the count is read with a snapshot taken after the lock was granted: it sees every attempt
-- committed by the gate that held the lock before.
CREATE FUNCTION callgate.record_decision(
  p_id text, p_at bigint, p_e164 text, p_professional text, p_campaign text, p_verdict text,
  p_reasons text, p_json text, p_counted boolean, p_window bigint, p_max integer, p_seen integer)
RETURNS bigint[] LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
  found_at bigint[];
BEGIN
  IF p_counted AND (p_max IS NOT NULL OR p_seen IS NOT NULL) THEN
    PERFORM pg_advisory_xact_lock(hashtextextended(p_professional || chr(31) || p_e164, 0));
    SELECT COALESCE(array_agg(at ORDER BY at), '{}') INTO found_at FROM callgate.decisions
      WHERE e164 = p_e164 AND professional = p_professional AND at >= p_window AND counted AND NOT released;
    IF (p_max IS NOT NULL AND cardinality(found_at) >= p_max)
       OR (p_seen IS NOT NULL AND cardinality(found_at) <> p_seen) THEN
      RETURN found_at;
    END IF;
  END IF;
  INSERT INTO callgate.decisions (id, at, e164, professional, campaign, verdict, reasons, json, counted)
    VALUES (p_id, p_at, p_e164, p_professional, p_campaign, p_verdict, p_reasons, p_json, p_counted);
  RETURN NULL;
END
$fn$;
`,
  },
];

export const PG_SCHEMA_VERSION = PG_MIGRATIONS[PG_MIGRATIONS.length - 1]!.version;

/** Told before a step runs on a database that already had a schema. */
export type OnPgMigration = (step: { from: number; to: number; name: string }) => void;

async function currentVersion(c: PoolClient): Promise<number> {
  const t = await c.query<{ t: string | null }>("SELECT to_regclass('callgate.schema_migrations')::text AS t");
  if (t.rows[0]?.t == null) return 0;
  const r = await c.query<{ v: number | null }>('SELECT max(version) AS v FROM callgate.schema_migrations');
  return Number(r.rows[0]?.v ?? 0);
}

/**
 * Brings the database to the last version; each step in its own transaction under the
 * migration lock (safe when several gates start at once). `where` names the database
 * (password redacted) in errors.
 */
export async function migratePg(
  c: PoolClient,
  where: string,
  migrations: readonly PgMigration[] = PG_MIGRATIONS,
  onStep?: OnPgMigration,
): Promise<number> {
  const latest = migrations[migrations.length - 1]!.version;
  for (;;) {
    await c.query('BEGIN');
    try {
      // migrations may take longer than the hot path's statement timeout
      await c.query('SET LOCAL statement_timeout = 0');
      await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK.toString()]);
      const current = await currentVersion(c);
      if (current > latest) {
        throw storeError(
          'CG_ERR_STORE_SCHEMA',
          `${where} has schema version ${current} but this callgate knows versions up to ${latest}; upgrade callgate or use a database written by this version`,
        );
      }
      const next = migrations.find((m) => m.version === current + 1);
      if (!next) {
        await c.query('COMMIT');
        return current;
      }
      if (current > 0) onStep?.({ from: current, to: next.version, name: next.name });
      await c.query(`CREATE SCHEMA IF NOT EXISTS callgate;
CREATE TABLE IF NOT EXISTS callgate.schema_migrations (
  version    integer PRIMARY KEY,
  name       text NOT NULL,
  applied_at bigint NOT NULL
)`);
      await c.query(next.sql);
      await c.query('INSERT INTO callgate.schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
        next.version,
        next.name,
        Date.now(),
      ]);
      await c.query('COMMIT');
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }
}
