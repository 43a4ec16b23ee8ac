/** The composition root: runtime wiring, start-up warnings, startGate/stop with a real FreeSWITCH adapter on loopback. */
import { chmodSync, closeSync, existsSync, openSync, statSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { ConfigError, parseConfig } from '../../src/config';
import Database from 'better-sqlite3';
import { createRuntime, startGate } from '../../src/main';
import { migrate, MIGRATIONS } from '../../src/store/sqlite/migrations';
import type { SqliteStore } from '../../src/store/sqlite/sqlite-store';
import { AT, logSink } from './helpers';
import { scratchDirs } from '../scratch';
import { freePort } from '../../src/sim/free-port';

const tempDir = scratchDirs('callgate-main-');

const BASE = `
professionals:
  - id: acme
    callerIds: ['+33162000001']
`;

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect({ host: '127.0.0.1', port });
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

describe('createRuntime', () => {
  // A one-off command (check, consent add…) builds a runtime too: the fixed-clock warning is for
  // `start` (startGate), not a line on every command (check says it in its own output).
  it('builds clock, store and gate from the config, without a warning line for a fixed clock', async () => {
    const log = logSink();
    const rt = createRuntime(
      parseConfig(`${BASE}store: {driver: memory}\nclock: {mode: fixed, at: '2026-11-30T09:30:00Z'}\n`, 't'),
      { logger: log.logger },
    );
    expect(rt.clock.now()).toEqual(AT);
    expect(rt.gate.clock).toBe(rt.clock);
    expect(rt.store.driver).toBe('memory');
    expect(log.lines().filter((l) => l.level === 'warn')).toEqual([]);
    await rt.close();
    await rt.close(); // idempotent
  });

  it('says at start that SIL-2 is not measured when policy.abandonRateThreshold is set', async () => {
    const log = logSink();
    const rt = createRuntime(
      parseConfig(`${BASE}store: {driver: memory}\npolicy: {abandonRateThreshold: 0.03}\n`, 't'),
      {
        logger: log.logger,
      },
    );
    const warned = log.lines().filter((l) => l.level === 'warn' && /abandonRateThreshold is set/.test(l.msg));
    expect(warned).toHaveLength(1);
    expect(warned[0]!.abandonRateThreshold).toBe(0.03);
    await rt.close();
  });

  it('opens the SQLite store at the configured path, and no warning with the system clock', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'gate.db');
    const log = logSink();
    const rt = createRuntime(parseConfig(`${BASE}store: {driver: sqlite, path: '${file}'}\n`, 't'), {
      logger: log.logger,
    });
    expect(rt.store.driver).toBe('sqlite');
    expect(existsSync(file)).toBe(true);
    expect(log.lines().filter((l) => l.level === 'warn')).toEqual([]);
    await rt.close();
  });

  it('says so when opening upgrades an existing database schema (it can take a while)', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'old.db');
    const old = new Database(file);
    migrate(old, file, MIGRATIONS.slice(0, 3));
    old.close();
    const log = logSink();
    const rt = createRuntime(parseConfig(`${BASE}store: {driver: sqlite, path: '${file}'}\n`, 't'), {
      logger: log.logger,
    });
    try {
      const upgrades = log.lines().filter((l) => l.level === 'warn' && /upgrading the database schema/.test(l.msg));
      // every step from 3 to the latest, one line each
      expect(upgrades.map((l) => [l.from, l.to])).toEqual(MIGRATIONS.slice(3).map((m) => [m.version - 1, m.version]));
      expect(upgrades.slice(0, 2).map((l) => [l.from, l.to])).toEqual([
        [3, 4],
        [4, 5],
      ]);
    } finally {
      await rt.close(); // a failed expectation must not leave the checkpoint worker running (jest would never exit)
    }
    // reopening an up-to-date file says nothing
    const again = logSink();
    const rt2 = createRuntime(parseConfig(`${BASE}store: {driver: sqlite, path: '${file}'}\n`, 't'), {
      logger: again.logger,
    });
    expect(again.lines().filter((l) => l.level === 'warn')).toEqual([]);
    await rt2.close();
  });
});

describe('the default store path', () => {
  const cwd = process.cwd();
  afterEach(() => process.chdir(cwd));

  it('creates ./data for the default path, but never a folder the operator named', async () => {
    const dir = tempDir();
    process.chdir(dir);
    const rt = createRuntime(parseConfig(BASE, 't'), { logger: logSink().logger });
    expect(existsSync(path.join(dir, 'data', 'callgate.db'))).toBe(true);
    // the audit holds phone numbers and consents: only callgate's user may list or read it
    expect(statSync(path.join(dir, 'data')).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(dir, 'data', 'callgate.db')).mode & 0o777).toBe(0o600);
    await rt.close();
    expect(() =>
      createRuntime(parseConfig(`${BASE}store: {driver: sqlite, path: ./dta/callgate.db}\n`, 't'), {
        logger: logSink().logger,
      }),
    ).toThrow(/CG_ERR_STORE_OPEN/);
    expect(existsSync(path.join(dir, 'dta'))).toBe(false);
  });
});

describe('startGate', () => {
  it('refuses to start without a PBX section, before opening anything', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'never.db');
    const config = parseConfig(`${BASE}store: {driver: sqlite, path: '${file}'}\n`, 't');
    await expect(startGate(config, { logger: logSink().logger })).rejects.toThrow(ConfigError);
    await expect(startGate(config, { logger: logSink().logger })).rejects.toThrow(/configure asterisk: or freeswitch:/);
    expect(existsSync(file)).toBe(false);
  });

  it('starts the FreeSWITCH adapter on loopback; stop() stops it, then closes the store', async () => {
    const port = await freePort();
    const log = logSink();
    const config = parseConfig(
      `${BASE}store: {driver: memory}\nfreeswitch: {listen: {host: 127.0.0.1, port: ${port}}, allowContext: out}\n`,
      't',
    );
    const g = await startGate(config, { logger: log.logger });
    expect(g.adapters.map((a) => a.name)).toEqual(['freeswitch']);
    expect(await connects(port)).toBe(true);
    expect(log.lines().some((l) => l.msg === 'callgate started')).toBe(true);
    await g.stop();
    await g.stop(); // idempotent
    expect(await connects(port)).toBe(false);
    await expect(
      g.runtime.store.getFacts({ e164: '+33612345678', professional: 'acme', at: AT, windowStart: AT }),
    ).rejects.toThrow(/closed/);
  });

  it('warns once at start when the clock is not the system clock', async () => {
    const port = await freePort();
    const log = logSink();
    const config = parseConfig(
      `${BASE}store: {driver: memory}\nclock: {mode: fixed, at: '2026-11-30T09:30:00Z'}\nfreeswitch: {listen: {host: 127.0.0.1, port: ${port}}, allowContext: out}\n`,
      't',
    );
    const g = await startGate(config, { logger: log.logger });
    try {
      const warned = log.lines().filter((l) => l.level === 'warn' && /CLOCK IS NOT THE SYSTEM CLOCK/.test(l.msg));
      expect(warned).toHaveLength(1);
    } finally {
      await g.stop();
    }
  });

  it('warns at start about a store file every user can read, and leaves its mode alone', async () => {
    const port = await freePort();
    const file = path.join(tempDir(), 'old.db');
    closeSync(openSync(file, 'w'));
    chmodSync(file, 0o644); // as callgate created it before
    const log = logSink();
    const config = parseConfig(
      `${BASE}store: {driver: sqlite, path: '${file}'}\nfreeswitch: {listen: {host: 127.0.0.1, port: ${port}}, allowContext: out}\n`,
      't',
    );
    const g = await startGate(config, { logger: log.logger });
    try {
      const warned = log.lines().filter((l) => l.level === 'warn' && /can be read by every user/.test(l.msg));
      expect(warned.map((l) => [l.file, l.mode])).toEqual([
        [file, '0644'],
        [`${file}-wal`, '0644'],
        [`${file}-shm`, '0644'],
      ]);
      expect(statSync(file).mode & 0o777).toBe(0o644);
    } finally {
      await g.stop();
    }
  });

  it('on a SQLite file, says its durability in the start line and runs the store at it', async () => {
    for (const durability of ['full', 'normal'] as const) {
      const port = await freePort();
      const log = logSink();
      const file = path.join(tempDir(), `gate-${durability}.db`);
      const store = durability === 'full' ? '' : ', durability: normal';
      const config = parseConfig(
        `${BASE}store: {driver: sqlite, path: '${file}'${store}}\nfreeswitch: {listen: {host: 127.0.0.1, port: ${port}}, allowContext: out}\n`,
        't',
      );
      const g = await startGate(config, { logger: log.logger });
      try {
        const started = log.lines().find((l) => l.msg === 'callgate started');
        expect(started).toMatchObject({ store: 'sqlite', durability, logDecisions: 'blocks' });
        expect(started).not.toHaveProperty('walBuffer');
        expect(log.lines().filter((l) => l.level === 'warn')).toEqual([]);
        // at full the connection runs at NORMAL and the store fdatasyncs the WAL before any write
        // resolves (src/store/sqlite/wal-sync.ts); at normal nothing syncs per commit
        const sqlite = g.runtime.store as SqliteStore;
        expect(sqlite.db.pragma('synchronous', { simple: true })).toBe(1);
        expect(sqlite.syncStats() !== undefined).toBe(durability === 'full');
      } finally {
        await g.stop();
      }
    }
  });
});
