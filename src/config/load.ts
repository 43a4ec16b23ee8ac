/**
 * Loading callgate.yaml: read, parse YAML, validate against ./schema.ts, check
 * cross-references, apply defaults, deep-freeze. Invalid config fails with a
 * ConfigError listing every problem at once, each with its path.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import type { Campaign } from '../core/types';
import { CallgateError } from '../errors';
import { crossChecks } from './checks';
import { expandEnv } from './env';
import { formatPath, type Problem, zodProblems } from './problems';
import { type Config, configSchema, DEFAULT_CAMPAIGN_ID, type RawConfig } from './schema';

export type { Problem };

/** An invalid or unreadable configuration (code CG_ERR_CONFIG in src/errors.ts). */
export class ConfigError extends CallgateError {
  constructor(
    readonly source: string,
    readonly problems: Problem[],
    options?: { cause?: unknown; code?: 'CG_ERR_CONFIG' | 'CG_ERR_CONFIG_ALIASES' },
  ) {
    super(
      options?.code ?? 'CG_ERR_CONFIG',
      `invalid configuration ${source}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n` +
        problems.map((p) => `  - ${p.path}: ${p.message}`).join('\n'),
      options,
    );
    this.name = 'ConfigError';
  }
}

export const DEFAULT_CONFIG_PATH = './config/callgate.yaml';

/** --config, else CALLGATE_CONFIG, else ./config/callgate.yaml (relative to the working directory). */
export function resolveConfigPath(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (flag !== undefined && flag !== '') return flag;
  const fromEnv = env.CALLGATE_CONFIG;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  return DEFAULT_CONFIG_PATH;
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
  }
  return v;
}

function resolveDefaultCampaign(c: RawConfig): Campaign {
  const dc = c.defaultCampaign;
  if (typeof dc === 'string') {
    const found = c.campaigns.find((x) => x.id === dc);
    if (!found) throw new Error(`defaultCampaign '${dc}' not found`); // unreachable: crossChecks reports it
    return { ...found, categories: [...found.categories] };
  }
  return {
    id: dc.id ?? DEFAULT_CAMPAIGN_ID,
    professional: dc.professional ?? c.professionals[0]!.id,
    purpose: dc.purpose,
    audience: dc.audience,
    dialing: dc.dialing,
    sector: dc.sector,
    categories: dc.categories,
  };
}

/** Aliases (*name) expanded at most: a config needs a handful; a "billion laughs" file needs many. */
export const MAX_YAML_ALIASES = 100;

/** The document as plain values; a file whose aliases expand too far is refused before it takes memory. */
function documentValue(doc: YAML.Document, source: string): unknown {
  try {
    const value: unknown = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
    // `a: &x [*x]`: an alias inside the node it names makes a structure that contains itself, which
    // every later step (environment expansion, the schema) would walk forever
    if (containsItself(value))
      throw new ConfigError(source, [
        {
          path: 'YAML',
          message:
            'an alias (*name) is used inside the very node its anchor (&name) names, so the settings would contain themselves; write them out instead',
        },
      ]);
    return value;
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    if (!(e instanceof ReferenceError)) throw e;
    if (/alias count/i.test(e.message)) {
      throw new ConfigError(
        source,
        [
          {
            path: 'YAML',
            message: `the file's aliases (*name) expand to more than ${MAX_YAML_ALIASES} copies (a file built to exhaust memory looks like this); write the settings out instead of through aliases`,
          },
        ],
        { cause: e, code: 'CG_ERR_CONFIG_ALIASES' },
      );
    }
    throw new ConfigError(source, [{ path: 'YAML', message: `YAML error: ${e.message}` }], { cause: e });
  }
}

/** True when a value built from YAML contains itself (an alias inside its own anchor). */
function containsItself(v: unknown, open = new Set<object>()): boolean {
  if (v === null || typeof v !== 'object') return false;
  if (open.has(v)) return true;
  open.add(v);
  const children = v instanceof Map ? [...v.keys(), ...v.values()] : Object.values(v as object);
  const found = children.some((c) => containsItself(c, open));
  open.delete(v);
  return found;
}

/**
 * Parse and validate YAML text. `source` names it in errors (a file path, '<inline>').
 * String values may reference the environment: ${NAME} or ${NAME:-default} (see ./env.ts).
 */
export function parseConfig(yamlText: string, source: string, env: NodeJS.ProcessEnv = process.env): Config {
  const doc = YAML.parseDocument(yamlText, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      source,
      doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        const where = pos ? `line ${pos.line}:${pos.col}` : 'YAML';
        return {
          path: where,
          message: `YAML syntax error: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`,
        };
      }),
    );
  }
  const problems: Problem[] = [];
  const raw = expandEnv(documentValue(doc, source) ?? {}, env, problems);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(source, [
      { path: formatPath([]), message: 'expected a mapping of settings (store:, policy:, professionals:, …)' },
    ]);
  }
  withDatabaseUrl(raw as Record<string, unknown>, env);
  const parsed = configSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) {
    // A value whose environment variable is unset is reported once, for that reason.
    const reported = new Set(problems.map((p) => p.path));
    problems.push(...zodProblems(parsed.error, configSchema).filter((p) => !reported.has(p.path)));
  }
  problems.push(...crossChecks(raw as Record<string, unknown>));
  if (!parsed.success || problems.length > 0) throw new ConfigError(source, problems);

  const c = parsed.data;
  const config: Config = {
    store: c.store,
    policy: c.policy,
    professionals: c.professionals,
    campaigns: c.campaigns,
    defaultCampaign: resolveDefaultCampaign(c),
    gate: c.gate,
    retention: c.retention,
    clock: c.clock,
    log: c.log,
    ...(c.asterisk ? { asterisk: c.asterisk } : {}),
    ...(c.freeswitch ? { freeswitch: c.freeswitch } : {}),
    ...(c.api ? { api: c.api } : {}),
  };
  return deepFreeze(config);
}

/** store.driver postgres without store.url: the URL comes from CALLGATE_DATABASE_URL (kept out of the file: it may hold a password). */
function withDatabaseUrl(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): void {
  const store = raw.store;
  if (typeof store !== 'object' || store === null || Array.isArray(store)) return;
  const s = store as Record<string, unknown>;
  const fromEnv = env.CALLGATE_DATABASE_URL;
  if (s.driver === 'postgres' && s.url === undefined && fromEnv !== undefined && fromEnv !== '')
    raw.store = { ...s, url: fromEnv };
}

/** Read and parse a config file. Unreadable file or YAML syntax error → ConfigError. */
export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'file not found'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'is a directory'
            : String((err as Error).message);
    throw new ConfigError(
      file,
      [
        {
          path: '(file)',
          message: `cannot read ${path.resolve(file)}: ${why}; pass --config FILE or set CALLGATE_CONFIG`,
        },
      ],
      { cause: err },
    );
  }
  return parseConfig(text, file, env);
}
