/**
 * Wiring for one CLI invocation: find and load the configuration, check the
 * professional and campaign ids given on the command line against it, open
 * the runtime (store + gate) with a quiet stderr logger, and always close it.
 *
 * Every argument is validated BEFORE the runtime opens the store, so a bad
 * input never writes anything (not even a new empty database).
 */
import type { Config } from '../config/schema';
import type { Logger } from '../gate/logger';
import type { Runtime } from '../main';
import { configProblems, usage } from './errors';

/* eslint-disable-next-line @typescript-eslint/no-require-imports */
const quote = (v: unknown): string => (require('../core/quote') as typeof import('../core/quote')).quoteValue(v);

/*
 * The configuration loader (zod, yaml), the logger (pino) and the runtime
 * (store, gate) are required when first used, after the arguments are parsed:
 * a usage error costs only commander and the argument parsers. (The PBX
 * adapters still come with src/main.ts, which every runtime loads.)
 */
/* eslint-disable @typescript-eslint/no-require-imports */
const configLoad = (): typeof import('../config/load') => require('../config/load');
const runtimeMod = (): typeof import('../main') => require('../main');
/* eslint-enable @typescript-eslint/no-require-imports */

/**
 * One-shot commands log at warn on stderr (CALLGATE_LOG_LEVEL overrides), with
 * the configured masking; stdout carries only the command's output.
 */
export function cliLogger(config: Config): Logger {
  const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
  const env = process.env.CALLGATE_LOG_LEVEL;
  const level = levels.find((l) => l === env) ?? 'warn';
  if (env !== undefined && env !== level) {
    throw usage(`CALLGATE_LOG_LEVEL: ${quote(env)} is not a log level; use one of ${levels.join(', ')}`);
  }
  /* eslint-disable @typescript-eslint/no-require-imports */
  const pino = require('pino') as typeof import('pino');
  const { createLogger } = require('../gate/logger') as typeof import('../gate/logger');
  /* eslint-enable @typescript-eslint/no-require-imports */
  return createLogger({ ...config.log, level }, pino.destination({ dest: 2, sync: true }));
}

/** `--config` flag, else CALLGATE_CONFIG, else ./config/callgate.yaml. */
export function configPath(flag: string | undefined): string {
  if (flag !== undefined && flag.trim() === '') {
    throw usage('--config: empty file name; give the configuration file, e.g. --config config/callgate.yaml');
  }
  return configLoad().resolveConfigPath(flag, process.env);
}

/** Load the configuration or fail with every problem listed (exit 2). */
export function loadCliConfig(flag: string | undefined): Config {
  const file = configPath(flag);
  const { ConfigError, loadConfig } = configLoad();
  try {
    return loadConfig(file);
  } catch (e) {
    if (e instanceof ConfigError) {
      throw configProblems(file, e);
    }
    throw e;
  }
}

/** A professional id given on the command line must be declared in the config (the importer's check, src/store/rows.ts). */
export function requireProfessional(config: Config, id: string, flag = '--professional'): string {
  /* eslint-disable-next-line @typescript-eslint/no-require-imports */
  const { CLI_ROWS, professionalId, RowError } = require('../store/rows') as typeof import('../store/rows');
  const ctx = {
    ...CLI_ROWS,
    names: { ...CLI_ROWS.names, professional: flag },
    professionals: config.professionals.map((p) => p.id),
  };
  try {
    return professionalId(ctx, id);
  } catch (e) {
    if (e instanceof RowError) throw usage(e.message);
    throw e;
  }
}

/** An explicit --campaign must be declared in the config (a typo must not fall back to the default campaign). */
export function requireCampaign(config: Config, id: string, flag = '--campaign'): string {
  const known = [...new Set([...config.campaigns.map((c) => c.id), config.defaultCampaign.id])];
  if (!known.includes(id)) {
    throw usage(`${flag}: unknown campaign ${quote(id)}; declared in the config: ${known.join(', ') || '(none)'}`);
  }
  return id;
}

/**
 * Open the runtime, run `fn`, close the runtime whatever happens. One-shot
 * commands let SQLite checkpoint its WAL itself: starting the checkpoint
 * worker thread (what `callgate start` uses) costs more than the command.
 */
export async function withRuntime<T>(config: Config, fn: (rt: Runtime) => Promise<T>): Promise<T> {
  const rt = runtimeMod().createRuntime(config, { logger: cliLogger(config), checkpoint: 'sqlite' });
  try {
    await rt.store.ready?.();
    return await fn(rt);
  } finally {
    await rt.close();
  }
}
