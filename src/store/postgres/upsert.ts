/**
 * The merge of ImportCommitResult (src/gate/store.ts) on PostgreSQL: the ON CONFLICT clause of
 * every consent, contract and dnc insert (addConsent, addContract, addDnc, the import commit,
 * store copy), on the natural keys of the unique indexes. The same rules as SQLite's upsert.ts
 * and common.ts's mergeConsent/mergeContract/mergeDnc: only ever towards fewer calls. The target
 * is aliased `t`; the WHERE makes a row that would change nothing a no-op (not RETURNed), and
 * `RETURNING (xmax = 0)` tells an inserted row from an updated one.
 *
 * PostgreSQL refuses one statement that would touch a row twice, so rows sharing a key are applied
 * in rounds (the k-th row of each key in round k, see rounds()): the same result as one by one.
 */
const earlier = (col: string) => `(excluded.${col} IS NOT NULL AND (t.${col} IS NULL OR excluded.${col} < t.${col}))`;
const earliest = (col: string) => `${col} = CASE WHEN ${earlier(col)} THEN excluded.${col} ELSE t.${col} END`;

export const PG_CONSENT_ON_CONFLICT = `ON CONFLICT (e164, professional, collected_at, categories) DO UPDATE SET
  ${earliest('withdrawn_at')},
  ${earliest('valid_until')},
  automated = CASE WHEN excluded.automated = false THEN false ELSE t.automated END,
  source = COALESCE(t.source, excluded.source)
  WHERE ${earlier('withdrawn_at')} OR ${earlier('valid_until')}
    OR (excluded.automated = false AND t.automated IS DISTINCT FROM false)
    OR (t.source IS NULL AND excluded.source IS NOT NULL)`;

export const PG_CONTRACT_ON_CONFLICT = `ON CONFLICT (e164, professional, start, categories) DO UPDATE SET
  "end" = excluded."end"
  WHERE ${earlier('"end"')}`;

export const PG_DNC_ON_CONFLICT = `ON CONFLICT (e164, (COALESCE(professional, ''))) DO UPDATE SET
  reason = COALESCE(t.reason, excluded.reason),
  added_at = LEAST(t.added_at, excluded.added_at)
  WHERE (t.reason IS NULL AND excluded.reason IS NOT NULL) OR excluded.added_at < t.added_at`;

export type MergeKind = 'consent' | 'contract' | 'dnc';

export const MERGE = {
  consent: {
    table: 'callgate.consents',
    cols: 'e164, professional, categories, collected_at, valid_until, slot, source, withdrawn_at, automated',
    types: ['text', 'text', 'text', 'bigint', 'bigint', 'bigint', 'text', 'bigint', 'boolean'],
    key: 'e164, professional, collected_at, categories',
    onConflict: PG_CONSENT_ON_CONFLICT,
  },
  contract: {
    table: 'callgate.contracts',
    cols: 'e164, professional, categories, start, "end"',
    types: ['text', 'text', 'text', 'bigint', 'bigint'],
    key: 'e164, professional, start, categories',
    onConflict: PG_CONTRACT_ON_CONFLICT,
  },
  dnc: {
    table: 'callgate.dnc',
    cols: 'e164, professional, reason, added_at',
    types: ['text', 'text', 'text', 'bigint'],
    key: "e164, COALESCE(professional, '')",
    onConflict: PG_DNC_ON_CONFLICT,
  },
} as const;

/** One merging insert of rows given as columns (one array per column): returns one `inserted` flag per row that changed something. */
export function mergeSql(kind: MergeKind): string {
  const m = MERGE[kind];
  const params = m.types.map((t, i) => `$${i + 1}::${t}[]`).join(', ');
  return `INSERT INTO ${m.table} AS t (${m.cols}) SELECT * FROM unnest(${params}) ${m.onConflict} RETURNING (xmax = 0) AS inserted`;
}

/** Rows split into rounds: round k holds the k-th row of each key, in the order given. */
export function rounds<T>(rows: readonly T[], keyOf: (r: T) => string): T[][] {
  const seen = new Map<string, number>();
  const out: T[][] = [];
  for (const r of rows) {
    const k = keyOf(r);
    const n = seen.get(k) ?? 0;
    seen.set(k, n + 1);
    (out[n] ??= []).push(r);
  }
  return out;
}
