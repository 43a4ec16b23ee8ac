/**
 * Numbered schema migrations of the SQLite store, run on open.
 *
 * PRAGMA user_version is the version the file is at; schema_migrations keeps
 * when each step ran (audit). A file at a version above the last one here was
 * written by a newer callgate: we refuse it rather than guess.
 *
 * Times are integer epoch ms. Categories are joined with U+001F, which a
 * category may not contain (checked on write). The tables hold the facts of
 * FR-RULES.md: decisions (audit, section 9; since version 4 a row with counted = 1
 * is also an attempt for FREQ-1/2, D. 223-9 al. 3),
 * consents (L. 223-1, R. 223-1..3), contracts (L. 223-1 al. 4), dnc
 * (RGPD art. 21), refusals (R. 223-3, D. 223-9), opposition (L. 223-1, 2020).
 */
import type Database from 'better-sqlite3';
import { storeError } from '../memory/common';

export type Migration = { version: number; name: string; sql: string };

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
CREATE TABLE IF NOT EXISTS schema_migrations (
  version    INTEGER PRIMARY KEY,
  name       TEXT NOT NULL,
  applied_at INTEGER NOT NULL
);
CREATE TABLE decisions (
  id           TEXT PRIMARY KEY,
  at           INTEGER NOT NULL,
  e164         TEXT,
  professional TEXT NOT NULL,
  campaign     TEXT NOT NULL,
  verdict      TEXT NOT NULL CHECK (verdict IN ('allow', 'block')),
  reasons      TEXT NOT NULL,              -- reason codes, space separated
  json         TEXT NOT NULL,              -- the whole Decision, for audit
  answered     INTEGER,
  dial_status  TEXT,
  hangup_cause TEXT,
  duration_ms  INTEGER,
  ended_at     INTEGER
);
CREATE INDEX decisions_number ON decisions (e164, at);
CREATE TABLE attempts (
  decision_id  TEXT NOT NULL UNIQUE,
  e164         TEXT NOT NULL,
  professional TEXT NOT NULL,
  campaign     TEXT NOT NULL,
  at           INTEGER NOT NULL,
  answered     INTEGER,
  dial_status  TEXT,
  hangup_cause TEXT,
  duration_ms  INTEGER,
  ended_at     INTEGER,
  released     INTEGER NOT NULL DEFAULT 0
);
-- hot path (FREQ-1): covering, so the count never touches the table
CREATE INDEX attempts_hot ON attempts (e164, professional, at, released);
CREATE TABLE consents (
  id           INTEGER PRIMARY KEY,
  e164         TEXT NOT NULL,
  professional TEXT NOT NULL,
  categories   TEXT NOT NULL,
  collected_at INTEGER NOT NULL,
  valid_until  INTEGER,
  slot         INTEGER,
  source       TEXT,
  withdrawn_at INTEGER,
  automated    INTEGER
);
CREATE INDEX consents_number ON consents (e164);
CREATE TABLE contracts (
  id           INTEGER PRIMARY KEY,
  e164         TEXT NOT NULL,
  professional TEXT NOT NULL,
  categories   TEXT NOT NULL,
  start        INTEGER NOT NULL,
  "end"        INTEGER
);
CREATE INDEX contracts_number ON contracts (e164, professional);
CREATE TABLE dnc (
  id           INTEGER PRIMARY KEY,
  e164         TEXT NOT NULL,
  professional TEXT,                       -- NULL = every professional
  reason       TEXT,
  added_at     INTEGER NOT NULL
);
CREATE INDEX dnc_number ON dnc (e164);
CREATE TABLE refusals (
  id           INTEGER PRIMARY KEY,
  e164         TEXT NOT NULL,
  professional TEXT NOT NULL,
  at           INTEGER NOT NULL
);
CREATE INDEX refusals_number ON refusals (e164, professional);
CREATE TABLE opposition (e164 TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE opposition_meta (
  id          INTEGER PRIMARY KEY CHECK (id = 1),
  as_of       INTEGER NOT NULL,
  imported_at INTEGER NOT NULL,
  count       INTEGER NOT NULL
);
`,
  },
  {
    version: 2,
    name: 'natural keys: re-importing a file adds no duplicate consent, contract or dnc row',
    // Rows already duplicated on the key are merged into the first one (lowest id), keeping the
    // safe side of what the copies say: the earliest withdrawal, the earliest contract end,
    // the earliest dnc date. The unique indexes then replace the plain lookup indexes
    // (same leading columns, so getFacts uses them).
    sql: `
UPDATE consents SET withdrawn_at = (
  SELECT MIN(c.withdrawn_at) FROM consents c
  WHERE c.e164 = consents.e164 AND c.professional = consents.professional
    AND c.collected_at = consents.collected_at AND c.categories = consents.categories)
WHERE id IN (SELECT MIN(id) FROM consents GROUP BY e164, professional, collected_at, categories HAVING COUNT(*) > 1);
DELETE FROM consents WHERE id NOT IN (SELECT MIN(id) FROM consents GROUP BY e164, professional, collected_at, categories);
DROP INDEX consents_number;
CREATE UNIQUE INDEX consents_key ON consents (e164, professional, collected_at, categories);

UPDATE contracts SET "end" = (
  SELECT MIN(c."end") FROM contracts c
  WHERE c.e164 = contracts.e164 AND c.professional = contracts.professional
    AND c.start = contracts.start AND c.categories = contracts.categories)
WHERE id IN (SELECT MIN(id) FROM contracts GROUP BY e164, professional, start, categories HAVING COUNT(*) > 1);
DELETE FROM contracts WHERE id NOT IN (SELECT MIN(id) FROM contracts GROUP BY e164, professional, start, categories);
DROP INDEX contracts_number;
CREATE UNIQUE INDEX contracts_key ON contracts (e164, professional, start, categories);

-- professional NULL means every professional; '' cannot be a professional id (checked on write)
UPDATE dnc SET added_at = (
  SELECT MIN(d.added_at) FROM dnc d WHERE d.e164 = dnc.e164 AND IFNULL(d.professional, '') = IFNULL(dnc.professional, ''))
WHERE id IN (SELECT MIN(id) FROM dnc GROUP BY e164, IFNULL(professional, '') HAVING COUNT(*) > 1);
DELETE FROM dnc WHERE id NOT IN (SELECT MIN(id) FROM dnc GROUP BY e164, IFNULL(professional, ''));
DROP INDEX dnc_number;
CREATE UNIQUE INDEX dnc_key ON dnc (e164, IFNULL(professional, ''));
`,
  },
  {
    version: 3,
    name: 'attempts keyed by (number, professional, time): one b-tree page per recorded attempt',
    // Each check-and-record writes its attempt; as a rowid table with a unique decision_id and
    // the attempts_hot index that was three b-trees (three WAL pages per commit). Keyed on the
    // hot path's own order it is one, and the FREQ-1 count reads it directly. An attempt is
    // found by decision id through its decision row (same number, professional and time).
    sql: `
CREATE TABLE attempts_v3 (
  e164         TEXT NOT NULL,
  professional TEXT NOT NULL,
  at           INTEGER NOT NULL,
  decision_id  TEXT NOT NULL,
  campaign     TEXT NOT NULL,
  answered     INTEGER,
  dial_status  TEXT,
  hangup_cause TEXT,
  duration_ms  INTEGER,
  ended_at     INTEGER,
  released     INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (e164, professional, at, decision_id)
) WITHOUT ROWID;
INSERT INTO attempts_v3 (e164, professional, at, decision_id, campaign, answered, dial_status, hangup_cause, duration_ms, ended_at, released)
  SELECT e164, professional, at, decision_id, campaign, answered, dial_status, hangup_cause, duration_ms, ended_at, released
  FROM attempts;
DROP TABLE attempts;
ALTER TABLE attempts_v3 RENAME TO attempts;
`,
  },
  {
    version: 4,
    name: 'an attempt is its decision row (counted = 1): one row and one number index per check-and-record',
    // Each check-and-record wrote a decision row (table, id index, number index) and an attempt
    // row in a second b-tree keyed by number: two random WAL pages and two statements under a
    // SAVEPOINT per decision. The attempt now lives in its decision row (counted, released), and
    // one index on (number, professional, time) serves FREQ-1 (covering) and history alike, so a
    // decision is one INSERT. Outcomes were written to both rows; the decision row's win. An
    // attempt without a decision row (never written by callgate, kept all the same) becomes a row
    // with an empty json: history lists it among the attempts, not the decisions.
    sql: `
ALTER TABLE decisions ADD COLUMN counted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE decisions ADD COLUMN released INTEGER NOT NULL DEFAULT 0;
UPDATE decisions SET
  counted = 1,
  released = a.released,
  answered = CASE WHEN decisions.ended_at IS NULL THEN a.answered ELSE decisions.answered END,
  dial_status = CASE WHEN decisions.ended_at IS NULL THEN a.dial_status ELSE decisions.dial_status END,
  hangup_cause = CASE WHEN decisions.ended_at IS NULL THEN a.hangup_cause ELSE decisions.hangup_cause END,
  duration_ms = CASE WHEN decisions.ended_at IS NULL THEN a.duration_ms ELSE decisions.duration_ms END,
  ended_at = CASE WHEN decisions.ended_at IS NULL THEN a.ended_at ELSE decisions.ended_at END
FROM attempts a WHERE a.decision_id = decisions.id;
INSERT INTO decisions (id, at, e164, professional, campaign, verdict, reasons, json,
  answered, dial_status, hangup_cause, duration_ms, ended_at, counted, released)
  SELECT decision_id, at, e164, professional, campaign, 'allow', '', '',
    answered, dial_status, hangup_cause, duration_ms, ended_at, 1, released
  FROM attempts a WHERE NOT EXISTS (SELECT 1 FROM decisions d WHERE d.id = a.decision_id)
  ORDER BY at, decision_id;
DROP TABLE attempts;
DROP INDEX decisions_number;
-- hot path (FREQ-1) and history: covering, so the count never touches the table
CREATE INDEX decisions_number ON decisions (e164, professional, at, counted, released);
`,
  },
  {
    version: 5,
    name: 'decision rows may hold the short rule list (src/store/audit-rules.ts)',
    // No table changes: new rows store `rules` as a short string (and `ruleNotes`), which a
    // callgate of schema 4 cannot read. The version moves so that such a callgate refuses the
    // file at open (CG_ERR_STORE_SCHEMA: upgrade callgate) instead of failing on `history`.
    // Rows written before stay as they are; this version reads both forms.
    sql: `SELECT 1;`,
  },
  {
    version: 6,
    name: 'decisions by instant, for the admin API (GET /v1/decisions, paged by (at, id))',
    // One index on (at, id): a page of the decision list is a range read of it, whatever the size
    // of the audit. Decisions are recorded at about the current instant, so new entries go to the
    // right-hand end of this b-tree (the page a group commit already holds), not to random pages.
    sql: `CREATE INDEX decisions_at ON decisions (at, id);`,
  },
  {
    version: 7,
    name: 'audit chain: each decision row chained by a hash to the one its writer wrote before (src/store/audit-chain.ts)',
    // Rows written before stay unchained (chain NULL): `audit verify` counts them, not checks them.
    // The partial index serves verification and purge, in (chain, position) order; a writer appends
    // at the right-hand end of its own chain. chain_heads: each chain's last position and hash (a
    // deleted tail shows), and its purge anchor (the last purged row: the chain starts after it).
    sql: `
ALTER TABLE decisions ADD COLUMN chain TEXT;
ALTER TABLE decisions ADD COLUMN position INTEGER;
ALTER TABLE decisions ADD COLUMN prev_hash TEXT;
ALTER TABLE decisions ADD COLUMN row_hash TEXT;
CREATE INDEX decisions_chain ON decisions (chain, position) WHERE chain IS NOT NULL;
CREATE TABLE chain_heads (
  chain           TEXT PRIMARY KEY,
  position        INTEGER NOT NULL,
  hash            TEXT NOT NULL,
  anchor_position INTEGER NOT NULL DEFAULT 0,
  anchor_hash     TEXT NOT NULL DEFAULT '${'0'.repeat(64)}',
  started_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL
) WITHOUT ROWID;
`,
  },
];

/** The schema version that brought the audit chain: rows written before it are unchained. */
export const CHAIN_SCHEMA = 7;

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/** Told before a step runs (the step may take a while on a large file: the file is locked meanwhile). */
export type OnMigration = (step: { from: number; to: number; name: string }) => void;

/** Brings the file to SCHEMA_VERSION; each step in its own IMMEDIATE transaction. */
export function migrate(
  db: Database.Database,
  path: string,
  migrations: readonly Migration[] = MIGRATIONS,
  onStep?: OnMigration,
): number {
  const latest = migrations[migrations.length - 1].version;
  for (;;) {
    const current = db.pragma('user_version', { simple: true }) as number;
    if (current > latest) {
      throw storeError(
        'CG_ERR_STORE_SCHEMA',
        `${path} has schema version ${current} but this callgate knows versions up to ${latest}; upgrade callgate or use a database written by this version`,
      );
    }
    const next = migrations.find((m) => m.version === current + 1);
    if (!next) return current;
    db.exec('BEGIN IMMEDIATE');
    try {
      // another process may have migrated between our read and our lock
      if ((db.pragma('user_version', { simple: true }) as number) === current) {
        onStep?.({ from: current, to: next.version, name: next.name });
        db.exec(next.sql);
        db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
          next.version,
          next.name,
          Date.now(),
        );
        db.pragma(`user_version = ${next.version}`);
      }
      db.exec('COMMIT');
    } catch (err) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw err;
    }
  }
}
