/**
 * Composition root: config → logger → clock → store → gate → PBX adapters.
 * Signals (SIGTERM/SIGINT) are handled by the CLI's `start` command, which
 * calls stop(): adapters stop taking calls and let in-flight decisions finish,
 * then the store is closed.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type { Logger } from 'pino';
import { type Config, DEFAULT_SQLITE_PATH } from './config/schema';
import { ConfigError } from './config/load';
import { type Clock, fixedClock, shiftedClock, systemClock } from './gate/clock';
import { Gate } from './gate/gate';
import { createLogger, flushRepeats } from './gate/logger';
import type { PbxAdapter } from './gate/service';
import type { ApiServer } from './api';
import type { Store } from './gate/store';
import { openStore } from './store';

export type Runtime = {
  config: Config;
  logger: Logger;
  clock: Clock;
  store: Store;
  gate: Gate;
  /** Waits for the gate's late writes, then closes the store (idempotent). */
  close(): Promise<void>;
};

export function clockFromConfig(c: Config['clock']): Clock {
  switch (c.mode) {
    case 'system':
      return systemClock;
    case 'fixed':
      return fixedClock(c.at);
    case 'shifted':
      return shiftedClock(c.start);
  }
}

/**
 * The default store path './data/callgate.db' works out of the box: its folder
 * is created when missing. A path the operator chose is left to the store,
 * which refuses a missing folder (a typo must not create a new, empty store).
 */
function ensureDefaultDataFolder(config: Config, logger: Logger): void {
  if (config.store.driver !== 'sqlite' || path.normalize(config.store.path) !== path.normalize(DEFAULT_SQLITE_PATH))
    return;
  const dir = path.dirname(path.resolve(config.store.path));
  if (existsSync(dir)) return;
  // the audit holds phone numbers and consents: only callgate's user may list or read it
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  logger.info({ dir }, 'created the data folder of the default store path');
}

/**
 * A store file that other users may read or write: created by an older callgate (0644) or by
 * hand. Its mode is the operator's to change, so it is left alone and said once, at start.
 */
function warnIfOthersCanRead(storePath: string, logger: Logger): void {
  for (const file of [storePath, `${storePath}-wal`, `${storePath}-shm`]) {
    let mode: number;
    try {
      mode = statSync(file).mode & 0o777;
    } catch {
      continue; // not there (yet)
    }
    if ((mode & 0o006) !== 0) {
      logger.warn(
        { file, mode: `0${mode.toString(8)}` },
        `${file} can be read by every user of this machine (mode 0${mode.toString(8)}): it holds phone numbers and consents; chmod 600 it (callgate creates its files 0600)`,
      );
    }
  }
}

export type RuntimeOptions = {
  logger?: Logger;
  /**
   * Who checkpoints the SQLite write-ahead log (ignored by the memory store):
   * 'worker' (default) a background thread with its own connection, off the
   * gate's hot path: for `callgate start`; 'sqlite' SQLite's automatic
   * checkpoint inside the committing connection, no thread to start: for
   * one-shot commands, which commit once or twice and exit.
   */
  checkpoint?: 'worker' | 'sqlite';
  /** Refuse a store that can be read but not written (CG_ERR_STORE_READONLY): for `callgate start`. */
  requireWritable?: boolean;
  /** The gate's clock instead of the configured one (`callgate demo`'s accelerated day). */
  clock?: Clock;
};

/** Opens the store and builds the gate. The store is open when this returns: call close(). */
export function createRuntime(config: Config, opts: RuntimeOptions = {}): Runtime {
  const logger = opts.logger ?? createLogger(config.log);
  const clock = opts.clock ?? clockFromConfig(config.clock);
  if (config.policy.monitorOnly) {
    logger.warn('policy.monitorOnly is on: calls that would be blocked are only tagged and are placed');
  }
  if (config.policy.abandonRateThreshold !== null) {
    // SIL-2 needs each call's abandoned/silent status, which neither PBX adapter can tell yet
    logger.warn(
      { abandonRateThreshold: config.policy.abandonRateThreshold },
      'policy.abandonRateThreshold is set, but callgate does not measure abandoned-call rates yet: SIL-2 is audited as skipped (abandon rate unknown) and no call is tagged abandon_rate_high',
    );
  }
  ensureDefaultDataFolder(config, logger);
  const store = openStore(
    config.store,
    {
      checkpoint: opts.checkpoint,
      requireWritable: opts.requireWritable,
      // the gate never sleeps in SQLite's busy handler: calls keep their deadlines while an import holds the lock
      pollLocks: (opts.checkpoint ?? 'worker') === 'worker',
      onMigration: ({ from, to, name }) =>
        logger.warn(
          { from, to, migration: name },
          `upgrading the database schema from version ${from} to ${to} (${name}); on a large file this takes a while and the file stays locked until it is done`,
        ),
    },
    {
      deadlineMs: config.gate.deadlineMs,
      // PostgreSQL: one line when the database stops answering, one when it is back (the URL's password redacted)
      onState: (e) =>
        e.state === 'down'
          ? logger.error(
              { code: 'CG_ERR_STORE_FAULT', failMode: config.policy.failMode },
              `PostgreSQL is not answering (${e.why}); every call gets the fail mode (${config.policy.failMode}) until it is back`,
            )
          : logger.info({ downMs: e.downMs }, `PostgreSQL answers again after ${e.downMs} ms; calls are decided again`),
    },
  );
  const gate = new Gate({ store, config, clock, logger });
  let closing: Promise<void> | undefined;
  return {
    config,
    logger,
    clock,
    store,
    gate,
    close() {
      closing ??= gate.drain().then(() => store.close());
      return closing;
    },
  };
}

/**
 * Starts the gate, an adapter for each configured PBX section and, with an api: section, the admin
 * API (which may run without a PBX: it decides calls itself). None of them configured → ConfigError
 * (nothing is opened), and so is an API without a token.
 */
export async function startGate(
  config: Config,
  opts: { logger?: Logger; clock?: Clock } = {},
): Promise<{
  runtime: Runtime;
  adapters: PbxAdapter[];
  api?: ApiServer;
  stop(signal?: NodeJS.Signals): Promise<void>;
}> {
  if (!config.asterisk && !config.freeswitch && !config.api) {
    throw new ConfigError('(start)', [
      {
        path: 'asterisk',
        message:
          'no PBX to gate: configure asterisk: or freeswitch: in callgate.yaml (see the commented sections of config/callgate.yaml), or api: to serve only the admin API',
      },
    ]);
  }
  const apiToken = config.api ? apiTokenOf(config) : undefined;
  const logger = opts.logger ?? createLogger(config.log);
  const clock = opts.clock ?? clockFromConfig(config.clock);
  if (!opts.clock && config.clock.mode !== 'system') {
    logger.warn(
      { clock: clock.describe },
      `CLOCK IS NOT THE SYSTEM CLOCK (${clock.describe}): calling hours and frequency windows are judged at that time, not now. Use clock: { mode: system } in production.`,
    );
  }
  const runtime = createRuntime(config, { logger, requireWritable: true, clock });
  const { gate } = runtime;
  try {
    // PostgreSQL: connect and migrate now, so that a database that cannot be used stops the start
    await runtime.store.ready?.();
  } catch (err) {
    await runtime.close();
    throw err;
  }
  if (config.store.driver === 'sqlite') warnIfOthersCanRead(config.store.path, logger);
  const adapters: PbxAdapter[] = [];
  try {
    if (config.asterisk) {
      adapters.push(
        // Loaded here, not at the top: one-shot CLI commands never pay for ari-client or esl.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        (require('./pbx/asterisk') as typeof import('./pbx/asterisk')).createAsteriskAdapter({
          gate,
          config: config.asterisk,
          deadlineMs: config.gate.deadlineMs,
          failMode: config.policy.failMode,
          logger,
        }),
      );
    }
    if (config.freeswitch) {
      adapters.push(
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        (require('./pbx/freeswitch') as typeof import('./pbx/freeswitch')).createFreeswitchAdapter({
          gate,
          config: config.freeswitch,
          deadlineMs: config.gate.deadlineMs,
          logger,
        }),
      );
    }
  } catch (err) {
    await runtime.close();
    throw err;
  }

  let api: ApiServer | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (signal?: NodeJS.Signals): Promise<void> => {
    stopping ??= (async () => {
      await api?.close(); // no new API requests; live streams ended
      logger.info(
        { adapters: adapters.map((a) => a.name), ...(signal ? { signal } : {}) },
        `${signal ? `${signal} received, stopping` : 'stopping'}: no new calls, letting in-flight decisions finish`,
      );
      const results = await Promise.allSettled(adapters.map((a) => a.stop()));
      results.forEach((r, i) => {
        if (r.status === 'rejected')
          logger.error({ err: r.reason, adapter: adapters[i]!.name }, 'adapter did not stop cleanly');
      });
      await runtime.close();
      flushRepeats(logger);
      logger.info('stopped');
    })();
    return stopping;
  };

  const started: PbxAdapter[] = [];
  try {
    for (const a of adapters) {
      await a.start();
      started.push(a);
    }
  } catch (err) {
    await Promise.allSettled(started.map((a) => a.stop()));
    await runtime.close();
    throw err;
  }
  if (config.api && apiToken !== undefined) {
    try {
      // Loaded here, not at the top: one-shot CLI commands never pay for fastify.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      api = await (require('./api') as typeof import('./api')).startApi({
        config,
        token: apiToken,
        listen: config.api.listen,
        gate,
        store: runtime.store,
        clock: runtime.clock,
        logger,
        adapters,
      });
    } catch (err) {
      await Promise.allSettled(adapters.map((a) => a.stop()));
      await runtime.close();
      throw err;
    }
  }
  logger.info(
    {
      adapters: adapters.map((a) => a.name),
      ...(api ? { api: api.url } : {}),
      store: config.store.driver,
      ...(config.store.driver === 'sqlite' ? { durability: config.store.durability } : {}),
      clock: runtime.clock.describe,
      failMode: config.policy.failMode,
      deadlineMs: config.gate.deadlineMs,
      logDecisions: config.log.decisions,
    },
    'callgate started',
  );
  return { runtime, adapters, ...(api ? { api } : {}), stop };
}

/** The admin API's token (api.token, else CALLGATE_API_TOKEN); a ConfigError when there is none. */
function apiTokenOf(config: Config): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const r = (require('./api/config') as typeof import('./api/config')).resolveApiToken(config.api!);
  if (!r.ok) throw new ConfigError('(start)', [{ path: r.path, message: r.message }]);
  return r.token;
}
