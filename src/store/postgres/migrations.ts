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
import { long } from './long';

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

-- FREQ-1 across gates (D. 223-9 al. 3), see docs/postgres.md: records a group of decisions in
-- ONE statement, so one transaction and one COMMIT (group commit). For every decision that is an
-- attempt with a limit (p_max) or an expected count (p_seen), it first takes a transaction-level
-- advisory lock on (professional, number) — all of them in one global order, so that two gates'
-- groups never wait for each other in a circle — then counts that number's attempts again under
-- the lock. A decision is written only when the count is below p_max (NULL: no limit) and, when
-- p_seen is given, equal to it (the count the decision was made from). One row out per decision
-- in: written, or not written with the counted attempts found (oldest first), or not written with
-- attempts NULL (its id is already recorded). VOLATILE, so under READ COMMITTED each count reads a
-- snapshot taken after the locks were granted: it sees every attempt the gate that held the lock
-- before committed. Locks are held until this statement's COMMIT, on these numbers only.
CREATE FUNCTION callgate.record_decisions(
  p_id text[], p_at bigint[], p_e164 text[], p_professional text[], p_campaign text[], p_verdict text[],
  p_reasons text[], p_json text[], p_counted boolean[], p_window bigint[], p_max integer[], p_seen integer[])
RETURNS TABLE (i integer, written boolean, attempts bigint[]) LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
  k bigint;
  f bigint[];
BEGIN
  FOR k IN
    SELECT DISTINCT hashtextextended(p_professional[j] || chr(31) || p_e164[j], 0) AS key
      FROM generate_subscripts(p_id, 1) AS j
      WHERE p_counted[j] AND (p_max[j] IS NOT NULL OR p_seen[j] IS NOT NULL)
      ORDER BY key
  LOOP
    PERFORM pg_advisory_xact_lock(k);
  END LOOP;
  FOR j IN 1 .. coalesce(cardinality(p_id), 0) LOOP
    i := j;
    written := false;
    attempts := NULL;
    IF p_counted[j] AND (p_max[j] IS NOT NULL OR p_seen[j] IS NOT NULL) THEN
      SELECT coalesce(array_agg(d.at ORDER BY d.at), '{}') INTO f FROM callgate.decisions d
        WHERE d.e164 = p_e164[j] AND d.professional = p_professional[j] AND d.at >= p_window[j]
          AND d.counted AND NOT d.released;
      IF (p_max[j] IS NOT NULL AND cardinality(f) >= p_max[j])
         OR (p_seen[j] IS NOT NULL AND cardinality(f) <> p_seen[j]) THEN
        attempts := f;
        RETURN NEXT;
        CONTINUE;
      END IF;
    END IF;
    INSERT INTO callgate.decisions AS d (id, at, e164, professional, campaign, verdict, reasons, json, counted)
      VALUES (p_id[j], p_at[j], p_e164[j], p_professional[j], p_campaign[j], p_verdict[j], p_reasons[j],
              p_json[j], p_counted[j])
      ON CONFLICT (id) DO NOTHING;
    written := FOUND;
    RETURN NEXT;
  END LOOP;
END
$fn$;
`,
  },
  {
    version: 2,
    name: 'decisions by instant, for the admin API (GET /v1/decisions, paged by (at, id))',
    // A page of the decision list is a range read of this index, whatever the size of the audit.
    // The id in byte order (COLLATE "C"), as SQLite and the memory store order it, whatever the
    // database's collation.
    sql: `CREATE INDEX IF NOT EXISTS decisions_at ON callgate.decisions (at, id COLLATE "C")`,
  },
  {
    version: 3,
    name: 'audit chain: each decision row chained by a hash to the one its writer wrote before (src/store/audit-chain.ts)',
    // Rows written before stay unchained (chain NULL): `audit verify` counts them, not checks them.
    // record_decisions gets two arguments: the writer's chain id and, per decision, the content
    // hash the gate computed. Under the lock of the chain's head row (one chain per connection
    // slot of a gate: nobody else ever waits for it), each decision WRITTEN takes the next
    // position and its link hash (sha256, built in since PostgreSQL 11), in the same statement:
    // no round trip more, and a decision refused under the advisory lock takes no position. The
    // 12-argument function stays, so that a gate not yet upgraded keeps working (its rows unchained).
    sql: `
ALTER TABLE callgate.decisions ADD COLUMN chain text, ADD COLUMN position bigint, ADD COLUMN prev_hash text, ADD COLUMN row_hash text;
CREATE INDEX decisions_chain ON callgate.decisions (chain, position) WHERE chain IS NOT NULL;
CREATE TABLE callgate.chain_heads (
  chain           text PRIMARY KEY,
  position        bigint NOT NULL,
  hash            text NOT NULL,
  anchor_position bigint NOT NULL DEFAULT 0,
  anchor_hash     text NOT NULL DEFAULT repeat('0', 64),
  started_at      bigint NOT NULL,
  updated_at      bigint NOT NULL
);
CREATE FUNCTION callgate.record_decisions(
  p_id text[], p_at bigint[], p_e164 text[], p_professional text[], p_campaign text[], p_verdict text[],
  p_reasons text[], p_json text[], p_counted boolean[], p_window bigint[], p_max integer[], p_seen integer[],
  p_chain text, p_content text[])
RETURNS TABLE (i integer, written boolean, attempts bigint[]) LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
  k bigint;
  f bigint[];
  pos bigint;
  prev text;
  rh text;
  moved boolean := false;
  now_ms bigint := (extract(epoch from clock_timestamp()) * 1000)::bigint;
BEGIN
  FOR k IN
    SELECT DISTINCT hashtextextended(p_professional[j] || chr(31) || p_e164[j], 0) AS key
      FROM generate_subscripts(p_id, 1) AS j
      WHERE p_counted[j] AND (p_max[j] IS NOT NULL OR p_seen[j] IS NOT NULL)
      ORDER BY key
  LOOP
    PERFORM pg_advisory_xact_lock(k);
  END LOOP;
  SELECT h.position, h.hash INTO pos, prev FROM callgate.chain_heads h WHERE h.chain = p_chain FOR UPDATE;
  IF NOT FOUND THEN
    pos := 0;
    prev := repeat('0', 64);
  END IF;
  FOR j IN 1 .. coalesce(cardinality(p_id), 0) LOOP
    i := j;
    written := false;
    attempts := NULL;
    IF p_counted[j] AND (p_max[j] IS NOT NULL OR p_seen[j] IS NOT NULL) THEN
      SELECT coalesce(array_agg(d.at ORDER BY d.at), '{}') INTO f FROM callgate.decisions d
        WHERE d.e164 = p_e164[j] AND d.professional = p_professional[j] AND d.at >= p_window[j]
          AND d.counted AND NOT d.released;
      IF (p_max[j] IS NOT NULL AND cardinality(f) >= p_max[j])
         OR (p_seen[j] IS NOT NULL AND cardinality(f) <> p_seen[j]) THEN
        attempts := f;
        RETURN NEXT;
        CONTINUE;
      END IF;
    END IF;
    rh := encode(sha256(convert_to('callgate-audit/1|' || p_chain || '|' || (pos + 1)::text || '|' || prev || '|' || p_content[j], 'UTF8')), 'hex');
    INSERT INTO callgate.decisions AS d (id, at, e164, professional, campaign, verdict, reasons, json, counted, chain, position, prev_hash, row_hash)
      VALUES (p_id[j], p_at[j], p_e164[j], p_professional[j], p_campaign[j], p_verdict[j], p_reasons[j],
              p_json[j], p_counted[j], p_chain, pos + 1, prev, rh)
      ON CONFLICT (id) DO NOTHING;
    written := FOUND;
    IF written THEN
      pos := pos + 1;
      prev := rh;
      moved := true;
    END IF;
    RETURN NEXT;
  END LOOP;
  IF moved THEN
    INSERT INTO callgate.chain_heads AS h (chain, position, hash, started_at, updated_at)
      VALUES (p_chain, pos, prev, now_ms, now_ms)
      ON CONFLICT (chain) DO UPDATE SET position = excluded.position, hash = excluded.hash, updated_at = excluded.updated_at;
  END IF;
END
$fn$;
`,
  },
];

/** The schema version that brought the audit chain: rows written before it are unchained. */
export const PG_CHAIN_SCHEMA = 3;

export const PG_SCHEMA_VERSION = PG_MIGRATIONS[PG_MIGRATIONS.length - 1]!.version;

/** Told before a step runs on a database that already had a schema. */
export type OnPgMigration = (step: { from: number; to: number; name: string }) => void;

async function currentVersion(c: PoolClient): Promise<number> {
  const t = await long<{ t: string | null }>(c, "SELECT to_regclass('callgate.schema_migrations')::text AS t");
  if (t.rows[0]?.t == null) return 0;
  const r = await long<{ v: number | null }>(c, 'SELECT max(version) AS v FROM callgate.schema_migrations');
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
  /** This run found no schema and is creating it: its later steps are part of the creation, not an upgrade. */
  let creating = false;
  for (;;) {
    await long(c, 'BEGIN');
    try {
      // migrations may take longer than the hot path's statement timeout
      await long(c, 'SET LOCAL statement_timeout = 0');
      await long(c, 'SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK.toString()]);
      const current = await currentVersion(c);
      if (current > latest) {
        throw storeError(
          'CG_ERR_STORE_SCHEMA',
          `${where} has schema version ${current} but this callgate knows versions up to ${latest}; upgrade callgate or use a database written by this version`,
        );
      }
      const next = migrations.find((m) => m.version === current + 1);
      if (!next) {
        await long(c, 'COMMIT');
        return current;
      }
      if (current === 0) creating = true;
      else if (!creating) onStep?.({ from: current, to: next.version, name: next.name });
      await long(
        c,
        `CREATE SCHEMA IF NOT EXISTS callgate;
CREATE TABLE IF NOT EXISTS callgate.schema_migrations (
  version    integer PRIMARY KEY,
  name       text NOT NULL,
  applied_at bigint NOT NULL
)`,
      );
      await long(c, next.sql);
      await long(c, 'INSERT INTO callgate.schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
        next.version,
        next.name,
        Date.now(),
      ]);
      await long(c, 'COMMIT');
    } catch (err) {
      await long(c, 'ROLLBACK').catch(() => undefined);
      throw err;
    }
  }
}
