/**
 * Store factory for the composition root: `openStore(config.store)`.
 * Synchronous; a store that cannot be opened throws a StoreError whose
 * message says what to fix (CG_ERR_STORE_OPEN, CG_ERR_STORE_NOT_SQLITE,
 * CG_ERR_STORE_SCHEMA). The PostgreSQL store connects and migrates on its
 * first call, or when its `ready()` is awaited (the runtime does, at start).
 */
import { quoteValue } from '../core/quote';
import type { Store } from '../gate/store';
import { storeError } from './memory/common';
import { MemoryStore } from './memory/memory-store';
import { defaultStatementTimeoutMs } from './postgres/defaults';
import type { PostgresOptions } from './postgres/postgres-store';
import type { Durability, SqliteOptions } from './sqlite/open';
import { SqliteStore } from './sqlite/sqlite-store';

export type StoreConfig =
  | { driver: 'sqlite'; path: string; busyTimeoutMs?: number; durability?: Durability }
  | { driver: 'postgres'; url: string; poolSize?: number; statementTimeoutMs?: number }
  | { driver: 'memory' };

/** Options of the PostgreSQL store beyond the configuration; deadlineMs (gate.deadlineMs) sets the default statement timeout. */
export type PostgresOpenOptions = Omit<PostgresOptions, 'url' | 'poolSize' | 'statementTimeoutMs'> & {
  deadlineMs?: number;
};

/** `sqlite`: options of the SQLite store beyond the configuration (checkpoint mode, migration notices). */
export function openStore(
  cfg: StoreConfig,
  sqlite: Omit<SqliteOptions, 'busyTimeoutMs'> = {},
  postgres: PostgresOpenOptions = {},
): Store {
  switch (cfg?.driver) {
    case 'sqlite':
      return SqliteStore.open(cfg.path, { ...sqlite, busyTimeoutMs: cfg.busyTimeoutMs, durability: cfg.durability });
    case 'postgres': {
      // loaded here: a SQLite gate or a one-shot command never pays for `pg`
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { PostgresStore } = require('./postgres/postgres-store') as typeof import('./postgres/postgres-store');
      const { deadlineMs, ...rest } = postgres;
      return new PostgresStore({
        ...rest,
        onMigration: rest.onMigration ?? sqlite.onMigration,
        url: cfg.url,
        poolSize: cfg.poolSize,
        statementTimeoutMs:
          cfg.statementTimeoutMs ?? (deadlineMs === undefined ? undefined : defaultStatementTimeoutMs(deadlineMs)),
      });
    }
    case 'memory':
      return new MemoryStore();
    default:
      throw storeError(
        'CG_ERR_STORE_OPEN',
        `store.driver ${quoteValue((cfg as { driver?: unknown } | undefined)?.driver)} is not supported here; use 'sqlite' (with store.path), 'postgres' (with store.url) or 'memory'`,
      );
  }
}

export { MemoryStore } from './memory/memory-store';
export { SqliteStore } from './sqlite/sqlite-store';
export { STORE_ERROR_CODES } from './memory/common';
