/**
 * `callgate store copy` on the SQLite store: everything the file holds, read in batches by key
 * (constant memory, the file may hold millions of decisions), and another store's rows written
 * idempotently (see Store.exportAll / Store.copyIn in src/gate/store.ts).
 */
import type Database from 'better-sqlite3';
import type {
  CallOutcome,
  CopyBatch,
  CopyResult,
  DecisionRow,
  PurgeCutoffs,
  PurgeReport,
  StoredDecisionRow,
} from '../../gate/store';
import { checkNumber, checkText, decisionFromText, decodeCategories, ms, msOpt } from '../memory/common';
import { consentRow, contractRow, dncRow } from '../memory/memory-store';
import { CONSENT_ON_CONFLICT, CONTRACT_ON_CONFLICT, DNC_ON_CONFLICT } from './upsert';

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
  type Dec = {
    k: number;
    id: string;
    at: number;
    e164: string | null;
    professional: string;
    campaign: string;
    verdict: 'allow' | 'block';
    reasons: string;
    json: string;
    counted: number;
    released: number;
    answered: Num;
    dial_status: string | null;
    hangup_cause: string | null;
    duration_ms: Num;
    ended_at: Num;
  };
  for (const rows of pages<Dec>(
    db,
    'SELECT rowid AS k, id, at, e164, professional, campaign, verdict, reasons, json, counted, released, answered, dial_status, hangup_cause, duration_ms, ended_at FROM decisions WHERE rowid > @after ORDER BY rowid LIMIT @n',
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
        return row;
      }),
    };
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
          'INSERT OR IGNORE INTO decisions (id, at, e164, professional, campaign, verdict, reasons, json, counted, released, answered, dial_status, hangup_cause, duration_ms, ended_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        );
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
            ).changes > 0;
          let updated = false;
          if (!inserted) {
            if (row.released && release.run(row.id).changes > 0) updated = true;
            if (o && outcome.run(...oc, row.id).changes > 0) updated = true;
          }
          count(inserted, updated);
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

/** Store.purge on SQLite: one IMMEDIATE transaction (counts only with dryRun). */
export function purgeSqlite(db: Database.Database, c: PurgeCutoffs, dryRun: boolean): PurgeReport {
  const v = {
    d: ms(c.decisionsBefore, 'decisionsBefore'),
    c: ms(c.consentsCollectedBefore, 'consentsCollectedBefore'),
    k: ms(c.contractsEndedBefore, 'contractsEndedBefore'),
  };
  const where = {
    decisions: 'FROM decisions WHERE at < @d',
    consents: 'FROM consents WHERE collected_at < @c',
    contracts: 'FROM contracts WHERE "end" IS NOT NULL AND "end" < @k',
  };
  const tx = db.transaction((): PurgeReport => {
    const out = { decisions: 0, consents: 0, contracts: 0 };
    for (const t of ['decisions', 'consents', 'contracts'] as const) {
      const args = t === 'decisions' ? { d: v.d } : t === 'consents' ? { c: v.c } : { k: v.k };
      out[t] = dryRun
        ? (db.prepare(`SELECT COUNT(*) ${where[t]}`).pluck().get(args) as number)
        : db.prepare(`DELETE ${where[t]}`).run(args).changes;
    }
    return out;
  });
  return tx.immediate();
}
