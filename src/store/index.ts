/**
 * Store factory for the composition root: `openStore(config.store)`.
 * Synchronous; a store that cannot be opened throws a StoreError whose
 * message says what to fix (CG_ERR_STORE_OPEN, CG_ERR_STORE_NOT_SQLITE,
 * CG_ERR_STORE_SCHEMA).
 */
import { quoteValue } from '../core/quote';
import type { Store } from '../gate/store';
import { storeError } from './memory/common';
import { MemoryStore } from './memory/memory-store';
import type { SqliteOptions } from './sqlite/open';
import { SqliteStore } from './sqlite/sqlite-store';

export type StoreConfig =
  { driver: 'sqlite'; path: string; busyTimeoutMs?: number; walBuffer?: boolean } | { driver: 'memory' };

/** `sqlite`: options of the SQLite store beyond the configuration (checkpoint mode, migration notices). */
export function openStore(cfg: StoreConfig, sqlite: Omit<SqliteOptions, 'busyTimeoutMs'> = {}): Store {
  switch (cfg?.driver) {
    case 'sqlite':
      return SqliteStore.open(cfg.path, { ...sqlite, busyTimeoutMs: cfg.busyTimeoutMs, walBuffer: cfg.walBuffer });
    case 'memory':
      return new MemoryStore();
    default:
      throw storeError(
        'CG_ERR_STORE_OPEN',
        `store.driver ${quoteValue((cfg as { driver?: unknown } | undefined)?.driver)} is not supported here; use 'sqlite' (with store.path) or 'memory'`,
      );
  }
}

export { MemoryStore } from './memory/memory-store';
export { SqliteStore } from './sqlite/sqlite-store';
export { STORE_ERROR_CODES } from './memory/common';
