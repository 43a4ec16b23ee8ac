/**
 * `callgate store copy` on the PostgreSQL store: everything the database holds, read in batches
 * by key (constant memory), and another store's rows written idempotently, each batch in one
 * statement per table (unnest) inside one transaction (see Store.exportAll / Store.copyIn).
 */
import type { CallOutcome, CopyBatch, StoredDecisionRow } from '../../gate/store';
import { checkChainHead, checkLink, checkNumber, checkText, decodeCategories, ms, msOpt } from '../memory/common';
import { consentRow, contractRow, dncRow } from '../memory/memory-store';
import { MERGE, type MergeKind, mergeSql, rounds } from './upsert';
import type { DecisionCols } from '../decision-cols';

/** Runs one statement (the store's own, with its error handling). */
export type Sql = <R extends object>(what: string, text: string, values?: unknown[]) => Promise<R[]>;

type Num = number | null;

export async function* exportPostgres(
  sql: Sql,
  n: number,
  cursor: <R extends object>(text: string) => AsyncIterable<R[]>,
): AsyncIterable<CopyBatch> {
  async function* pages<T extends { k: number | string }>(text: string, first: number | string) {
    let after = first;
    for (;;) {
      const rows = await sql<T>('store copy (read)', text, [after, n]);
      if (rows.length === 0) return;
      yield rows;
      after = rows[rows.length - 1]!.k;
      if (rows.length < n) return;
    }
  }
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
    automated: boolean | null;
  };
  for await (const rows of pages<C>('SELECT id AS k, * FROM callgate.consents WHERE id > $1 ORDER BY id LIMIT $2', 0))
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
        ...(r.automated !== null ? { automated: r.automated } : {}),
      })),
    };
  type K = { k: number; e164: string; professional: string; categories: string; start: number; end: Num };
  for await (const rows of pages<K>('SELECT id AS k, * FROM callgate.contracts WHERE id > $1 ORDER BY id LIMIT $2', 0))
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
  for await (const rows of pages<D>('SELECT id AS k, * FROM callgate.dnc WHERE id > $1 ORDER BY id LIMIT $2', 0))
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
  for await (const rows of pages<R>('SELECT id AS k, * FROM callgate.refusals WHERE id > $1 ORDER BY id LIMIT $2', 0))
    yield {
      kind: 'refusal',
      rows: rows.map((r) => ({ e164: r.e164, professional: r.professional, at: new Date(r.at) })),
    };
  const [meta] = await sql<{ as_of: number }>(
    'store copy (read)',
    'SELECT as_of FROM callgate.opposition_meta WHERE id = 1',
  );
  if (meta !== undefined) {
    const asOf = new Date(meta.as_of);
    let first = true;
    for await (const rows of pages<{ k: string }>(
      'SELECT e164 AS k FROM callgate.opposition WHERE e164 > $1 ORDER BY e164 LIMIT $2',
      '',
    )) {
      yield { kind: 'opposition', rows: rows.map((r) => r.k), asOf, first };
      first = false;
    }
    if (first) yield { kind: 'opposition', rows: [], asOf, first };
  }
  type H = {
    chain: string;
    position: number;
    hash: string;
    anchor_position: number;
    anchor_hash: string;
    updated_at: number;
  };
  const heads = await sql<H>(
    'store copy (read)',
    'SELECT chain, position, hash, anchor_position, anchor_hash, updated_at FROM callgate.chain_heads ORDER BY chain',
  );
  if (heads.length > 0)
    yield {
      kind: 'chainHead',
      rows: heads.map((h) => ({
        chain: h.chain,
        position: h.position,
        hash: h.hash,
        anchorPosition: h.anchor_position,
        anchorHash: h.anchor_hash,
        updatedAt: h.updated_at,
      })),
    };
  type Dec = DecisionCols & {
    k: number;
    counted: boolean;
    released: boolean;
    answered: boolean | null;
    dial_status: string | null;
    hangup_cause: string | null;
    duration_ms: Num;
    ended_at: Num;
    chain: string | null;
    position: Num;
    prev_hash: string | null;
    row_hash: string | null;
  };
  // decisions through a cursor, in recording order: seq has no index (none is needed on the hot path)
  for await (const rows of cursor<Dec>(
    'SELECT seq AS k, id, at, e164, professional, campaign, verdict, reasons, json, counted, released, answered, dial_status, hangup_cause, duration_ms, ended_at, chain, position, prev_hash, row_hash FROM callgate.decisions ORDER BY seq',
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
          counted: r.counted,
          released: r.released,
        };
        if (r.e164 !== null) row.e164 = r.e164;
        if (r.ended_at !== null) {
          const o: CallOutcome = { answered: r.answered === true, endedAt: new Date(r.ended_at) };
          if (r.dial_status !== null) o.dialStatus = r.dial_status;
          if (r.hangup_cause !== null) o.hangupCause = r.hangup_cause;
          if (r.duration_ms !== null) o.durationMs = r.duration_ms;
          row.outcome = o;
        }
        if (r.chain !== null && r.position !== null && r.prev_hash !== null && r.row_hash !== null)
          row.link = { chain: r.chain, position: r.position, prevHash: r.prev_hash, rowHash: r.row_hash };
        return row;
      }),
    };
}

const n = (rows: { n: number }[]) => rows[0]?.n ?? 0;

/** The statements of one copied batch (run by the store in one transaction): [what, text, values] each; the counts come from the first two. */
export function copyStatements(batch: CopyBatch): {
  insert?: [string, unknown[]];
  update?: [string, unknown[]];
  before?: [string, unknown[]][];
  after?: [string, unknown[]][];
  /** Consents, contracts, dnc: merged in rounds of distinct keys (upsert.ts). */
  merge?: { sql: string; rounds: unknown[][][]; columns: (round: unknown[][]) => unknown[] };
} {
  const merged = (kind: MergeKind, rows: unknown[][], keyWidth: number[]) => ({
    merge: {
      sql: mergeSql(kind),
      rounds: rounds(rows, (r) => JSON.stringify(keyWidth.map((i) => r[i] ?? ''))),
      columns: (round: unknown[][]) => MERGE[kind].types.map((_, i) => round.map((r) => r[i])),
    },
  });
  switch (batch.kind) {
    case 'consent':
      return merged(
        'consent',
        batch.rows.map((r) => {
          const c = consentRow(r);
          return [
            c.e164,
            c.professional,
            c.categories,
            c.collectedAt,
            c.validUntil,
            c.slot,
            c.source,
            c.withdrawnAt,
            c.automated,
          ];
        }),
        [0, 1, 2, 3],
      );
    case 'contract':
      return merged(
        'contract',
        batch.rows.map((r) => {
          const c = contractRow(r);
          return [c.e164, c.professional, c.categories, c.start, c.end];
        }),
        [0, 1, 2, 3],
      );
    case 'dnc':
      return merged(
        'dnc',
        batch.rows.map((r) => {
          const d = dncRow(r);
          return [d.e164, d.professional, d.reason, d.addedAt];
        }),
        [0, 1],
      );
    case 'refusal': {
      const rows = batch.rows.map(
        (r) =>
          [
            checkNumber(r.e164, 'refusal'),
            checkText(r.professional, 'refusal.professional'),
            ms(r.at, 'refusal.at'),
          ] as const,
      );
      return {
        insert: [
          `WITH v AS (SELECT DISTINCT * FROM unnest($1::text[], $2::text[], $3::bigint[]) AS v(e164, pro, at)),
           i AS (INSERT INTO callgate.refusals (e164, professional, at)
             SELECT v.e164, v.pro, v.at FROM v WHERE NOT EXISTS
               (SELECT 1 FROM callgate.refusals r WHERE r.e164 = v.e164 AND r.professional = v.pro AND r.at = v.at) RETURNING 1)
           SELECT count(*)::int AS n FROM i`,
          [rows.map((x) => x[0]), rows.map((x) => x[1]), rows.map((x) => x[2])],
        ],
      };
    }
    case 'opposition': {
      for (const x of batch.rows) checkNumber(x, 'opposition');
      // a list is known by its date: the same list again is merged (its rows skipped), another replaces it
      const asOf = ms(batch.asOf, 'opposition asOf');
      const before: [string, unknown[]][] = batch.first
        ? [
            [
              'DELETE FROM callgate.opposition WHERE NOT EXISTS (SELECT 1 FROM callgate.opposition_meta WHERE id = 1 AND as_of = $1)',
              [asOf],
            ],
            [
              'INSERT INTO callgate.opposition_meta (id, as_of, imported_at, count) VALUES (1, $1, $2, 0) ON CONFLICT (id) DO UPDATE SET as_of = excluded.as_of, imported_at = excluded.imported_at',
              [asOf, Date.now()],
            ],
          ]
        : [];
      return {
        before,
        insert: [
          `WITH i AS (INSERT INTO callgate.opposition (e164) SELECT * FROM unnest($1::text[]) ON CONFLICT DO NOTHING RETURNING 1) SELECT count(*)::int AS n FROM i`,
          [batch.rows],
        ],
        after: [
          ['UPDATE callgate.opposition_meta SET count = (SELECT count(*) FROM callgate.opposition) WHERE id = 1', []],
        ],
      };
    }
    case 'decision': {
      const r = batch.rows;
      const cols = [
        r.map((x) => checkText(x.id, 'decision.id')),
        r.map((x) => ms(x.at, 'decision.at')),
        r.map((x) => x.e164 ?? null),
        r.map((x) => x.professional),
        r.map((x) => x.campaignId),
        r.map((x) => x.verdict),
        r.map((x) => x.reasons),
        r.map((x) => x.auditText),
        r.map((x) => x.counted),
        r.map((x) => x.released),
        r.map((x) => (x.outcome ? x.outcome.answered : null)),
        r.map((x) => x.outcome?.dialStatus ?? null),
        r.map((x) => x.outcome?.hangupCause ?? null),
        r.map((x) => x.outcome?.durationMs ?? null),
        r.map((x) => msOpt(x.outcome?.endedAt, 'outcome.endedAt')),
      ];
      // the chain columns verbatim
      const links = r.map((x) => (x.link ? checkLink(x.link) : undefined));
      const chains = [...new Set(links.flatMap((l) => (l ? [l.chain] : [])))];
      return {
        insert: [
          `WITH i AS (INSERT INTO callgate.decisions (id, at, e164, professional, campaign, verdict, reasons, json, counted, released, answered, dial_status, hangup_cause, duration_ms, ended_at, chain, position, prev_hash, row_hash)
             SELECT id, at, e164, pro, campaign, verdict, reasons, json, counted, released, answered, dial_status, hangup_cause, duration_ms, ended_at, chain, position, prev_hash, row_hash
             FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::boolean[], $10::boolean[],
                         $11::boolean[], $12::text[], $13::text[], $14::bigint[], $15::bigint[], $16::text[], $17::bigint[], $18::text[], $19::text[]) WITH ORDINALITY
                  AS v(id, at, e164, pro, campaign, verdict, reasons, json, counted, released, answered, dial_status, hangup_cause, duration_ms, ended_at, chain, position, prev_hash, row_hash, o)
             ORDER BY o ON CONFLICT (id) DO NOTHING RETURNING 1) SELECT count(*)::int AS n FROM i`,
          [
            ...cols,
            links.map((l) => l?.chain ?? null),
            links.map((l) => l?.position ?? null),
            links.map((l) => l?.prevHash ?? null),
            links.map((l) => l?.rowHash ?? null),
          ],
        ],
        // a chain's head follows its copied rows (never moves back)
        after:
          chains.length === 0
            ? []
            : [
                [
                  `INSERT INTO callgate.chain_heads AS h (chain, position, hash, started_at, updated_at)
                   SELECT c.chain, t.position, t.row_hash, $2, $2 FROM unnest($1::text[]) AS c(chain)
                   CROSS JOIN LATERAL (SELECT d.position, d.row_hash FROM callgate.decisions d
                                       WHERE d.chain = c.chain ORDER BY d.position DESC LIMIT 1) AS t
                   ON CONFLICT (chain) DO UPDATE SET position = excluded.position, hash = excluded.hash
                   WHERE excluded.position > h.position`,
                  [chains, Date.now()],
                ],
              ],
        // rows already here: a release or an outcome the copy knows and the target does not
        update: [
          `WITH u AS (UPDATE callgate.decisions d SET
               released = d.released OR (d.counted AND v.released),
               answered = CASE WHEN d.ended_at IS NULL THEN v.answered ELSE d.answered END,
               dial_status = CASE WHEN d.ended_at IS NULL THEN v.dial_status ELSE d.dial_status END,
               hangup_cause = CASE WHEN d.ended_at IS NULL THEN v.hangup_cause ELSE d.hangup_cause END,
               duration_ms = CASE WHEN d.ended_at IS NULL THEN v.duration_ms ELSE d.duration_ms END,
               ended_at = COALESCE(d.ended_at, v.ended_at)
             FROM unnest($1::text[], $2::boolean[], $3::boolean[], $4::text[], $5::text[], $6::bigint[], $7::bigint[])
               AS v(id, released, answered, dial_status, hangup_cause, duration_ms, ended_at)
             WHERE d.id = v.id AND ((d.counted AND v.released AND NOT d.released) OR (d.ended_at IS NULL AND v.ended_at IS NOT NULL))
             RETURNING 1) SELECT count(*)::int AS n FROM u`,
          [cols[0], cols[9], cols[10], cols[11], cols[12], cols[13], cols[14]],
        ],
      };
    }
    case 'chainHead': {
      // heads and purge anchors only ever move forward: a re-run, or an older copy, changes nothing
      const h = batch.rows.map((x) => checkChainHead(x));
      const cols = [
        h.map((x) => x.chain),
        h.map((x) => x.position),
        h.map((x) => x.hash),
        h.map((x) => x.anchorPosition),
        h.map((x) => x.anchorHash),
        h.map((x) => x.updatedAt),
      ];
      const v = `unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[], $5::text[], $6::bigint[]) AS v(chain, position, hash, anchor_position, anchor_hash, updated_at)`;
      return {
        // a head this batch inserts equals its row: it is not counted as updated too
        update: [
          `WITH u AS (UPDATE callgate.chain_heads h SET
               hash = CASE WHEN v.position > h.position THEN v.hash ELSE h.hash END,
               position = GREATEST(h.position, v.position),
               anchor_hash = CASE WHEN v.anchor_position > h.anchor_position THEN v.anchor_hash ELSE h.anchor_hash END,
               anchor_position = GREATEST(h.anchor_position, v.anchor_position)
             FROM ${v} WHERE h.chain = v.chain AND (v.position > h.position OR v.anchor_position > h.anchor_position)
             RETURNING 1) SELECT count(*)::int AS n FROM u`,
          cols,
        ],
        insert: [
          `WITH i AS (INSERT INTO callgate.chain_heads (chain, position, hash, anchor_position, anchor_hash, started_at, updated_at)
             SELECT chain, position, hash, anchor_position, anchor_hash, updated_at, updated_at FROM ${v}
             ON CONFLICT (chain) DO NOTHING RETURNING 1) SELECT count(*)::int AS n FROM i`,
          cols,
        ],
      };
    }
  }
}

export { n as countOf };
