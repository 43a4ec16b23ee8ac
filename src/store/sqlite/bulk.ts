/**
 * `callgate store copy` on the SQLite store: everything the file holds, read in batches by key
 * (constant memory, the file may hold millions of decisions), and another store's rows written
 * idempotently (see Store.exportAll / Store.copyIn in src/gate/store.ts).
 */
import Database from 'better-sqlite3';
import type {
  CallOutcome,
  CopyBatch,
  CopyResult,
  DecisionRow,
  PurgeCutoffs,
  PurgeReport,
  StoredDecisionRow,
} from '../../gate/store';
import type { AuditChainBatch, AuditChainRow, ChainHead, ChainLink } from '../audit-chain';
import {
  checkChainHead,
  checkLink,
  checkNumber,
  checkText,
  decisionFromText,
  decodeCategories,
  ms,
  msOpt,
} from '../memory/common';
import { consentRow, contractRow, dncRow } from '../memory/memory-store';
import { CONSENT_ON_CONFLICT, CONTRACT_ON_CONFLICT, DNC_ON_CONFLICT } from './upsert';
import type { DecisionCols } from '../decision-cols';

type Num = number | null;

function outcomeOf(r: {
  answered: Num;
  dial_status: string | null;
  hangup_cause: string | null;
  duration_ms: Num;
  ended_at: Num;
}): CallOutcome | undefined {
  if (r.ended_at === null) return undefined;
  const o: CallOutcome = { answered: r.answered === 1, endedAt: new Date(r.ended_at) };
  if (r.dial_status !== null) o.dialStatus = r.dial_status;
  if (r.hangup_cause !== null) o.hangupCause = r.hangup_cause;
  if (r.duration_ms !== null) o.durationMs = r.duration_ms;
  return o;
}

/** Rows of `sql` (which takes @after and @n and returns a `k` key column) in batches by key. */
function* pages<T extends { k: number | string }>(
  db: Database.Database,
  sql: string,
  n: number,
  first: number | string,
): Iterable<T[]> {
  const stmt = db.prepare(sql);
  let after = first;
  for (;;) {
    const rows = stmt.all({ after, n }) as T[];
    if (rows.length === 0) return;
    yield rows;
    after = rows[rows.length - 1]!.k;
    if (rows.length < n) return;
  }
}

export async function* exportSqlite(db: Database.Database, n: number): AsyncIterable<CopyBatch> {
  type C = {
    k: number;
    e164: string;
    professional: string;
    categories: string;
    collected_at: number;
    valid_until: Num;
    slot: Num;
    source: string | null;
    withdrawn_at: Num;
    automated: Num;
  };
  for (const rows of pages<C>(db, 'SELECT id AS k, * FROM consents WHERE id > @after ORDER BY id LIMIT @n', n, -1))
    yield {
      kind: 'consent',
      rows: rows.map((r) => ({
        e164: r.e164,
        professional: r.professional,
        categories: decodeCategories(r.categories),
        collectedAt: new Date(r.collected_at),
        ...(r.valid_until !== null ? { validUntil: new Date(r.valid_until) } : {}),
        ...(r.slot !== null ? { slot: new Date(r.slot) } : {}),
        ...(r.source !== null ? { source: r.source } : {}),
        ...(r.withdrawn_at !== null ? { withdrawnAt: new Date(r.withdrawn_at) } : {}),
        ...(r.automated !== null ? { automated: r.automated === 1 } : {}),
      })),
    };
  type K = { k: number; e164: string; professional: string; categories: string; start: number; end: Num };
  for (const rows of pages<K>(db, 'SELECT id AS k, * FROM contracts WHERE id > @after ORDER BY id LIMIT @n', n, -1))
    yield {
      kind: 'contract',
      rows: rows.map((r) => ({
        e164: r.e164,
        professional: r.professional,
        categories: decodeCategories(r.categories),
        start: new Date(r.start),
        ...(r.end !== null ? { end: new Date(r.end) } : {}),
      })),
    };
  type D = { k: number; e164: string; professional: string | null; reason: string | null; added_at: number };
  for (const rows of pages<D>(db, 'SELECT id AS k, * FROM dnc WHERE id > @after ORDER BY id LIMIT @n', n, -1))
    yield {
      kind: 'dnc',
      rows: rows.map((r) => ({
        e164: r.e164,
        addedAt: new Date(r.added_at),
        ...(r.professional !== null ? { professional: r.professional } : {}),
        ...(r.reason !== null ? { reason: r.reason } : {}),
      })),
    };
  type R = { k: number; e164: string; professional: string; at: number };
  for (const rows of pages<R>(db, 'SELECT id AS k, * FROM refusals WHERE id > @after ORDER BY id LIMIT @n', n, -1))
    yield {
      kind: 'refusal',
      rows: rows.map((r) => ({ e164: r.e164, professional: r.professional, at: new Date(r.at) })),
    };
  const meta = db.prepare('SELECT as_of FROM opposition_meta WHERE id = 1').get() as { as_of: number } | undefined;
  if (meta !== undefined) {
    const asOf = new Date(meta.as_of);
    let first = true;
    for (const rows of pages<{ k: string }>(
      db,
      'SELECT e164 AS k FROM opposition WHERE e164 > @after ORDER BY e164 LIMIT @n',
      n,
      '',
    )) {
      yield { kind: 'opposition', rows: rows.map((r) => r.k), asOf, first };
      first = false;
    }
    if (first) yield { kind: 'opposition', rows: [], asOf, first };
  }
  const heads = headsOf(db);
  if (heads.length > 0) yield { kind: 'chainHead', rows: heads };
  type Dec = DecisionCols & {
    k: number;
    counted: number;
    released: number;
    answered: Num;
    dial_status: string | null;
    hangup_cause: string | null;
    duration_ms: Num;
    ended_at: Num;
  } & LinkDb;
  for (const rows of pages<Dec>(
    db,
    'SELECT rowid AS k, id, at, e164, professional, campaign, verdict, reasons, json, counted, released, answered, dial_status, hangup_cause, duration_ms, ended_at, chain, position, prev_hash, row_hash FROM decisions WHERE rowid > @after ORDER BY rowid LIMIT @n',
    n,
    -1,
  ))
    yield {
      kind: 'decision',
      rows: rows.map((r) => {
        const row: StoredDecisionRow = {
          id: r.id,
          at: new Date(r.at),
          professional: r.professional,
          campaignId: r.campaign,
          verdict: r.verdict,
          reasons: r.reasons,
          auditText: r.json,
          counted: r.counted === 1,
          released: r.released === 1,
        };
        if (r.e164 !== null) row.e164 = r.e164;
        const o = outcomeOf(r);
        if (o) row.outcome = o;
        const link = linkOf(r);
        if (link) row.link = link;
        return row;
      }),
    };
}

type LinkDb = { chain: string | null; position: Num; prev_hash: string | null; row_hash: string | null };

function linkOf(r: LinkDb): ChainLink | undefined {
  if (r.chain === null || r.position === null || r.prev_hash === null || r.row_hash === null) return undefined;
  return { chain: r.chain, position: r.position, prevHash: r.prev_hash, rowHash: r.row_hash };
}

const HEADS_SQL =
  'SELECT chain, position, hash, anchor_position, anchor_hash, updated_at FROM chain_heads ORDER BY chain';

function headsOf(db: Database.Database): ChainHead[] {
  type H = {
    chain: string;
    position: number;
    hash: string;
    anchor_position: number;
    anchor_hash: string;
    updated_at: number;
  };
  return (db.prepare(HEADS_SQL).all() as H[]).map((h) => ({
    chain: h.chain,
    position: h.position,
    hash: h.hash,
    anchorPosition: h.anchor_position,
    anchorHash: h.anchor_hash,
    updatedAt: h.updated_at,
  }));
}

/**
 * Store.auditChain on SQLite: the heads, then the chained rows in (chain, position) order (the
 * partial index decisions_chain), then the unchained ones, all in ONE read transaction, so that a
 * gate writing meanwhile never shows a row beyond its head. On a connection of its own (the
 * store's keeps writing), read only; `n` rows per batch, constant memory.
 */
export async function* auditChainSqlite(
  db: Database.Database,
  path: string,
  n: number,
): AsyncIterable<AuditChainBatch> {
  const own = path !== ':memory:';
  const rdb = own ? new Database(path, { readonly: true, fileMustExist: true }) : db;
  try {
    rdb.exec('BEGIN');
    yield { kind: 'heads', heads: headsOf(rdb) };
    type Row = DecisionCols & {
      counted: number;
    } & LinkDb;
    for (const where of ['chain IS NOT NULL ORDER BY chain, position', 'chain IS NULL']) {
      const it = rdb
        .prepare(
          `SELECT id, at, e164, professional, campaign, verdict, reasons, json, counted, chain, position, prev_hash, row_hash FROM decisions WHERE ${where}`,
        )
        .iterate() as IterableIterator<Row>;
      try {
        let batch: AuditChainRow[] = [];
        for (const r of it) {
          batch.push({
            id: r.id,
            at: r.at,
            e164: r.e164,
            professional: r.professional,
            campaign: r.campaign,
            verdict: r.verdict,
            reasons: r.reasons,
            auditText: r.json,
            counted: r.counted === 1,
            chain: r.chain,
            position: r.position,
            prevHash: r.prev_hash,
            rowHash: r.row_hash,
          });
          if (batch.length >= n) {
            yield { kind: 'rows', rows: batch };
            batch = [];
          }
        }
        if (batch.length > 0) yield { kind: 'rows', rows: batch };
      } finally {
        it.return?.();
      }
    }
  } finally {
    if (rdb.open && rdb.inTransaction) rdb.exec('ROLLBACK');
    if (own) rdb.close();
  }
}

/** Writes one batch of another store's rows, in one IMMEDIATE transaction. */
export function copyIntoSqlite(db: Database.Database, batch: CopyBatch): CopyResult {
  const r: CopyResult = { inserted: 0, updated: 0, skipped: 0 };
  const count = (inserted: boolean, updated: boolean) => {
    if (inserted) r.inserted++;
    else if (updated) r.updated++;
    else r.skipped++;
  };
  const tx = db.transaction(() => {
    switch (batch.kind) {
      // consents, contracts and dnc entries merge as an import does (towards fewer calls: upsert.ts)
      case 'consent': {
        const has = db.prepare(
          'SELECT 1 FROM consents WHERE e164 = ? AND professional = ? AND collected_at = ? AND categories = ?',
        );
        const ins = db.prepare(
          `INSERT INTO consents (e164, professional, categories, collected_at, valid_until, slot, source, withdrawn_at, automated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ${CONSENT_ON_CONFLICT}`,
        );
        for (const row of batch.rows) {
          const c = consentRow(row);
          const existed = has.get(c.e164, c.professional, c.collectedAt, c.categories) !== undefined;
          const a = c.automated === null ? null : c.automated ? 1 : 0;
          const changed =
            ins.run(
              c.e164,
              c.professional,
              c.categories,
              c.collectedAt,
              c.validUntil,
              c.slot,
              c.source,
              c.withdrawnAt,
              a,
            ).changes > 0;
          count(changed && !existed, changed && existed);
        }
        return;
      }
      case 'contract': {
        const has = db.prepare(
          'SELECT 1 FROM contracts WHERE e164 = ? AND professional = ? AND start = ? AND categories = ?',
        );
        const ins = db.prepare(
          `INSERT INTO contracts (e164, professional, categories, start, "end") VALUES (?, ?, ?, ?, ?) ${CONTRACT_ON_CONFLICT}`,
        );
        for (const row of batch.rows) {
          const c = contractRow(row);
          const existed = has.get(c.e164, c.professional, c.start, c.categories) !== undefined;
          const changed = ins.run(c.e164, c.professional, c.categories, c.start, c.end).changes > 0;
          count(changed && !existed, changed && existed);
        }
        return;
      }
      case 'dnc': {
        const has = db.prepare("SELECT 1 FROM dnc WHERE e164 = ? AND IFNULL(professional, '') = IFNULL(?, '')");
        const ins = db.prepare(
          `INSERT INTO dnc (e164, professional, reason, added_at) VALUES (?, ?, ?, ?) ${DNC_ON_CONFLICT}`,
        );
        for (const row of batch.rows) {
          const d = dncRow(row);
          const existed = has.get(d.e164, d.professional) !== undefined;
          const changed = ins.run(d.e164, d.professional, d.reason, d.addedAt).changes > 0;
          count(changed && !existed, changed && existed);
        }
        return;
      }
      case 'refusal': {
        const ins = db.prepare(
          'INSERT INTO refusals (e164, professional, at) SELECT @e, @p, @t WHERE NOT EXISTS (SELECT 1 FROM refusals WHERE e164 = @e AND professional = @p AND at = @t)',
        );
        for (const row of batch.rows) {
          const v = {
            e: checkNumber(row.e164, 'refusal'),
            p: checkText(row.professional, 'refusal.professional'),
            t: ms(row.at, 'refusal.at'),
          };
          count(ins.run(v).changes > 0, false);
        }
        return;
      }
      case 'opposition': {
        // a list is known by its date: the same list again is merged (its rows skipped), another replaces it
        const asOf = ms(batch.asOf, 'opposition asOf');
        const have = db.prepare('SELECT as_of FROM opposition_meta WHERE id = 1').pluck().get() as number | undefined;
        if (batch.first && have !== asOf) {
          db.exec('DELETE FROM opposition');
          db.prepare(
            'INSERT INTO opposition_meta (id, as_of, imported_at, count) VALUES (1, ?, ?, 0) ON CONFLICT (id) DO UPDATE SET as_of = excluded.as_of, imported_at = excluded.imported_at',
          ).run(asOf, Date.now());
        }
        const ins = db.prepare('INSERT OR IGNORE INTO opposition (e164) VALUES (?)');
        for (const n of batch.rows) count(ins.run(checkNumber(n, 'opposition')).changes > 0, false);
        db.prepare('UPDATE opposition_meta SET count = (SELECT COUNT(*) FROM opposition) WHERE id = 1').run();
        return;
      }
      case 'decision': {
        const ins = db.prepare(
          'INSERT OR IGNORE INTO decisions (id, at, e164, professional, campaign, verdict, reasons, json, counted, released, answered, dial_status, hangup_cause, duration_ms, ended_at, chain, position, prev_hash, row_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        );
        // the chain columns verbatim; a chain's head follows its copied rows (never moves back)
        const tops = new Map<string, ChainLink>();
        const release = db.prepare('UPDATE decisions SET released = 1 WHERE id = ? AND counted = 1 AND released = 0');
        const outcome = db.prepare(
          'UPDATE decisions SET answered = ?, dial_status = ?, hangup_cause = ?, duration_ms = ?, ended_at = ? WHERE id = ? AND ended_at IS NULL',
        );
        for (const row of batch.rows) {
          const o = row.outcome;
          const oc = [
            o ? (o.answered ? 1 : 0) : null,
            o?.dialStatus ?? null,
            o?.hangupCause ?? null,
            o?.durationMs ?? null,
            msOpt(o?.endedAt, 'outcome.endedAt'),
          ];
          const inserted =
            ins.run(
              checkText(row.id, 'decision.id'),
              ms(row.at, 'decision.at'),
              row.e164 ?? null,
              row.professional,
              row.campaignId,
              row.verdict,
              row.reasons,
              row.auditText,
              row.counted ? 1 : 0,
              row.released ? 1 : 0,
              ...oc,
              ...(row.link ? linkValues(checkLink(row.link)) : [null, null, null, null]),
            ).changes > 0;
          if (inserted && row.link) {
            const top = tops.get(row.link.chain);
            if (!top || top.position < row.link.position) tops.set(row.link.chain, row.link);
          }
          let updated = false;
          if (!inserted) {
            if (row.released && release.run(row.id).changes > 0) updated = true;
            if (o && outcome.run(...oc, row.id).changes > 0) updated = true;
          }
          count(inserted, updated);
        }
        const head = db.prepare(
          'INSERT INTO chain_heads (chain, position, hash, started_at, updated_at) VALUES (@chain, @position, @hash, @now, @now) ON CONFLICT (chain) DO UPDATE SET position = excluded.position, hash = excluded.hash WHERE excluded.position > chain_heads.position',
        );
        for (const t of tops.values())
          head.run({ chain: t.chain, position: t.position, hash: t.rowHash, now: Date.now() });
        return;
      }
      case 'chainHead': {
        // heads and purge anchors only ever move forward: a re-run, or an older copy, changes nothing
        const has = db.prepare('SELECT position, anchor_position FROM chain_heads WHERE chain = ?');
        const up = db.prepare(
          `INSERT INTO chain_heads (chain, position, hash, anchor_position, anchor_hash, started_at, updated_at)
           VALUES (@chain, @position, @hash, @anchorPosition, @anchorHash, @updatedAt, @updatedAt)
           ON CONFLICT (chain) DO UPDATE SET
             hash = CASE WHEN excluded.position > position THEN excluded.hash ELSE hash END,
             position = max(position, excluded.position),
             anchor_hash = CASE WHEN excluded.anchor_position > anchor_position THEN excluded.anchor_hash ELSE anchor_hash END,
             anchor_position = max(anchor_position, excluded.anchor_position)`,
        );
        for (const h of batch.rows) {
          const c = checkChainHead(h);
          const before = has.get(c.chain) as { position: number; anchor_position: number } | undefined;
          up.run(c);
          count(
            before === undefined,
            before !== undefined && (c.position > before.position || c.anchorPosition > before.anchor_position),
          );
        }
        return;
      }
    }
  });
  tx.immediate();
  return r;
}

/**
 * The decisions with from <= at < to, oldest first (then in recording order): one statement read
 * through SQLite's cursor (its sorter spills to temporary files: constant memory whatever the
 * table holds), `n` rows per batch. The connection stays busy until the last batch is read.
 */
export async function* auditSqlite(
  db: Database.Database,
  from: number,
  to: number,
  n: number,
): AsyncIterable<DecisionRow[]> {
  type Dec = {
    id: string;
    at: number;
    e164: string | null;
    professional: string;
    verdict: 'allow' | 'block';
    json: string;
    answered: Num;
    dial_status: string | null;
    hangup_cause: string | null;
    duration_ms: Num;
    ended_at: Num;
  };
  const it = db
    .prepare(
      "SELECT id, at, e164, professional, verdict, json, answered, dial_status, hangup_cause, duration_ms, ended_at FROM decisions WHERE at >= ? AND at < ? AND json <> '' ORDER BY at, rowid",
    )
    .iterate(from, to) as IterableIterator<Dec>;
  try {
    let batch: DecisionRow[] = [];
    for (const r of it) {
      const row: DecisionRow = {
        id: r.id,
        at: new Date(r.at),
        professional: r.professional,
        verdict: r.verdict,
        decision: decisionFromText(r.json),
      };
      if (r.e164 !== null) row.e164 = r.e164;
      const o = outcomeOf(r);
      if (o) row.outcome = o;
      batch.push(row);
      if (batch.length >= n) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  } finally {
    it.return?.();
  }
}

const linkValues = (l: ChainLink) => [l.chain, l.position, l.prevHash, l.rowHash];

/**
 * The audit chains' part of a purge (same transaction): per chain, only its oldest rows go — those
 * before its first row recorded at or after `cut` (a later row recorded at an earlier instant
 * keeps its older neighbours until the next purge) — and the last removed row becomes the chain's
 * anchor (position, row_hash), so that what is left verifies. A chain whose row at the new anchor
 * is missing (tampered with) is left whole, for `audit verify` to report. Returns the rows removed.
 */
function purgeChainsSqlite(db: Database.Database, cut: number, dryRun: boolean): number {
  const heads = db.prepare('SELECT chain, anchor_position FROM chain_heads').all() as {
    chain: string;
    anchor_position: number;
  }[];
  const firstKept = db
    .prepare('SELECT position FROM decisions WHERE chain = ? AND position > ? AND at >= ? ORDER BY position LIMIT 1')
    .pluck();
  const lastRow = db.prepare('SELECT MAX(position) FROM decisions WHERE chain = ?').pluck();
  const hashAt = db.prepare('SELECT row_hash FROM decisions WHERE chain = ? AND position = ?').pluck();
  const count = db.prepare('SELECT COUNT(*) FROM decisions WHERE chain = ? AND position > ? AND position <= ?').pluck();
  const del = db.prepare('DELETE FROM decisions WHERE chain = ? AND position > ? AND position <= ?');
  const anchor = db.prepare('UPDATE chain_heads SET anchor_position = ?, anchor_hash = ? WHERE chain = ?');
  let removed = 0;
  for (const h of heads) {
    const kept = firstKept.get(h.chain, h.anchor_position, cut) as number | undefined;
    const upto = kept === undefined ? ((lastRow.get(h.chain) as number | null) ?? 0) : kept - 1;
    if (upto <= h.anchor_position) continue;
    const hash = hashAt.get(h.chain, upto) as string | undefined;
    if (hash === undefined) continue;
    if (dryRun) removed += count.get(h.chain, h.anchor_position, upto) as number;
    else {
      removed += del.run(h.chain, h.anchor_position, upto).changes;
      anchor.run(upto, hash, h.chain);
    }
  }
  return removed;
}

/** Store.purge on SQLite: one IMMEDIATE transaction (counts only with dryRun). */
export function purgeSqlite(db: Database.Database, c: PurgeCutoffs, dryRun: boolean): PurgeReport {
  const v = {
    d: ms(c.decisionsBefore, 'decisionsBefore'),
    c: ms(c.consentsCollectedBefore, 'consentsCollectedBefore'),
    k: ms(c.contractsEndedBefore, 'contractsEndedBefore'),
  };
  const where = {
    // rows of the audit chains go per chain (purgeChainsSqlite); these are the unchained ones
    decisions: 'FROM decisions WHERE chain IS NULL AND at < @d',
    consents: 'FROM consents WHERE collected_at < @c',
    contracts: 'FROM contracts WHERE "end" IS NOT NULL AND "end" < @k',
  };
  const tx = db.transaction((): PurgeReport => {
    const out = { decisions: purgeChainsSqlite(db, v.d, dryRun), consents: 0, contracts: 0 };
    for (const t of ['decisions', 'consents', 'contracts'] as const) {
      const args = t === 'decisions' ? { d: v.d } : t === 'consents' ? { c: v.c } : { k: v.k };
      out[t] += dryRun
        ? (db.prepare(`SELECT COUNT(*) ${where[t]}`).pluck().get(args) as number)
        : db.prepare(`DELETE ${where[t]}`).run(args).changes;
    }
    return out;
  });
  return tx.immediate();
}
