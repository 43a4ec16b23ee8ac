/**
 * The merge of ImportCommitResult (src/gate/store.ts) in SQL: the ON CONFLICT
 * clause of every consent, contract and dnc insert (addConsent, addContract,
 * addDnc and the import commit), on the natural keys of migration 2's unique
 * indexes. common.ts's mergeConsent/mergeContract/mergeDnc are the same rules
 * for the memory store; test/store/import-merge.ts holds both to them.
 *
 * The WHERE makes a row that would change nothing a no-op, so that SQLite's
 * changes() counts inserted + updated rows only. In DO UPDATE, a bare column
 * is the stored row's and `excluded.` the row being inserted.
 */

const earlier = (col: string) => `(excluded.${col} IS NOT NULL AND (${col} IS NULL OR excluded.${col} < ${col}))`;
const earliest = (col: string) => `${col} = CASE WHEN ${earlier(col)} THEN excluded.${col} ELSE ${col} END`;

const CONSENT_CHANGES = [
  earlier('withdrawn_at'),
  earlier('valid_until'),
  '(excluded.automated = 0 AND automated IS NOT 0)',
  '(source IS NULL AND excluded.source IS NOT NULL)',
].join(' OR ');

/** After `INSERT INTO consents (…) VALUES/SELECT …`. */
export const CONSENT_ON_CONFLICT = `ON CONFLICT (e164, professional, collected_at, categories) DO UPDATE SET
  ${earliest('withdrawn_at')},
  ${earliest('valid_until')},
  automated = CASE WHEN excluded.automated = 0 THEN 0 ELSE automated END,
  source = COALESCE(source, excluded.source)
  WHERE ${CONSENT_CHANGES}`;

/** After `INSERT INTO contracts (…) …`. */
export const CONTRACT_ON_CONFLICT = `ON CONFLICT (e164, professional, start, categories) DO UPDATE SET
  ${earliest('"end"')}
  WHERE ${earlier('"end"')}`;

/** After `INSERT INTO dnc (…) …`; the key is the expression index dnc_key (e164, IFNULL(professional, '')). */
export const DNC_ON_CONFLICT = `ON CONFLICT DO UPDATE SET
  reason = COALESCE(reason, excluded.reason),
  added_at = MIN(added_at, excluded.added_at)
  WHERE (reason IS NULL AND excluded.reason IS NOT NULL) OR excluded.added_at < added_at`;
