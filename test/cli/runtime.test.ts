/**
 * Who checkpoints the SQLite WAL: the long-running gate (createRuntime's
 * default, used by `callgate start`) starts the checkpoint worker thread; the
 * one-shot commands (withRuntime) let SQLite checkpoint by itself and start no
 * thread.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withRuntime } from '../../src/cli/context';
import { parseConfig } from '../../src/config/load';
import { createLogger } from '../../src/gate/logger';
import { createRuntime } from '../../src/main';
import { SqliteStore } from '../../src/store';
import { BASE_CONFIG } from './helpers';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'callgate-rt-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const configAt = (dbPath: string) =>
  parseConfig(BASE_CONFIG.replace('path: ./callgate.db', `path: ${JSON.stringify(dbPath)}`), '<test>');
const logger = createLogger({ level: 'silent' } as Parameters<typeof createLogger>[0]);

function sqliteOf(store: unknown): SqliteStore {
  expect(store).toBeInstanceOf(SqliteStore);
  return store as SqliteStore;
}

describe('WAL checkpointing per kind of run', () => {
  it('createRuntime starts the checkpoint worker by default (the gate)', async () => {
    const rt = createRuntime(configAt(join(dir, 'a.db')), { logger });
    try {
      expect(sqliteOf(rt.store).checkpointStats()).toBeDefined();
      // and never sleeps in SQLite's busy handler (test/gate/locked-store.test.ts)
      expect(sqliteOf(rt.store).db.pragma('busy_timeout', { simple: true })).toBe(0);
    } finally {
      await rt.close();
    }
  });

  it("createRuntime with checkpoint 'sqlite' starts no worker and lets SQLite checkpoint every 1000 pages", async () => {
    const config = configAt(join(dir, 'b.db'));
    const rt = createRuntime(config, { logger, checkpoint: 'sqlite' });
    try {
      const store = sqliteOf(rt.store);
      expect(store.checkpointStats()).toBeUndefined();
      expect(store.db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
      expect(store.db.pragma('busy_timeout', { simple: true })).toBe(5000);
      expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(store.path).toBe(config.store.driver === 'sqlite' ? config.store.path : '');
    } finally {
      await rt.close();
    }
  });

  it('one-shot commands (withRuntime) use SQLite checkpointing, and what they write is there afterwards', async () => {
    const config = configAt(join(dir, 'c.db'));
    await withRuntime(config, async (rt) => {
      expect(sqliteOf(rt.store).checkpointStats()).toBeUndefined();
      await rt.store.addDnc({ e164: '+33123456789', addedAt: new Date('2026-11-01T00:00:00Z') });
    });
    const again = createRuntime(config, { logger });
    try {
      expect((await again.store.history('+33123456789')).dnc).toHaveLength(1);
    } finally {
      await again.close();
    }
  });

  it('the memory store ignores the option', async () => {
    const config = parseConfig(BASE_CONFIG.replace(/store:\n.*\n.*\n/, 'store:\n  driver: memory\n'), '<test>');
    const rt = createRuntime(config, { logger, checkpoint: 'sqlite' });
    expect(rt.store).not.toBeInstanceOf(SqliteStore);
    await rt.close();
  });
});
