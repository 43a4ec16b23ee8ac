/**
 * Queries of the long work (migrations, imports, store copy, cursors): no client-side read
 * timeout. The pool's is set for the hot path (statement timeout + 250 ms, a connection that went
 * silent); these transactions lift the server's statement_timeout and may run for minutes.
 */
import type { PoolClient, QueryConfig, QueryResult, QueryResultRow } from 'pg';

/** The longest setTimeout Node accepts (~24.8 days): no read timeout in practice. */
const NO_READ_TIMEOUT = 2_147_483_647;

export function long<R extends QueryResultRow = QueryResultRow>(
  c: PoolClient,
  text: string,
  values?: unknown[],
): Promise<QueryResult<R>> {
  return c.query<R>({ text, values, query_timeout: NO_READ_TIMEOUT } as QueryConfig);
}
