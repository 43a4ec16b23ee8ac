/** Defaults of the PostgreSQL store, shared with the configuration schema (which must not load `pg`). */
export const PG_DEFAULT_POOL = 8;
export const PG_DEFAULT_STATEMENT_TIMEOUT_MS = 250;

/** statement_timeout when store.statementTimeoutMs is not set: half the gate's decision deadline. */
export function defaultStatementTimeoutMs(deadlineMs: number): number {
  return Math.max(1, Math.floor(deadlineMs / 2));
}
