/** `callgate config check`: load the configuration as `start` would, print OK and a summary, or every problem (exit 2). */
import type { Config } from '../../config/schema';
import { configPath, loadCliConfig } from '../context';
import { EXIT_OK } from '../errors';
import type { Io } from '../io';
import type { StoreDurability } from '../../config/schema';
import { maskUrlCredentials } from '../../gate/mask';
import { defaultStatementTimeoutMs } from '../../store/postgres/defaults';
import { redactUrl } from '../../store/postgres/url';

/** What a COMMIT of the SQLite store survives (store.durability, README "Durability"). */
function durabilityLine(d: StoreDurability): string {
  return d === 'full'
    ? 'durability full (each COMMIT synced to disk: survives a power cut)'
    : 'durability normal (survives a crash of callgate; a power cut may lose the last commits)';
}

/** The store line; a PostgreSQL URL with its password redacted. */
function storeLine(c: ReturnType<typeof loadCliConfig>): string {
  const s = c.store;
  if (s.driver === 'sqlite') return `sqlite ${s.path}, ${durabilityLine(s.durability)}`;
  if (s.driver === 'postgres')
    return `postgres ${redactUrl(s.url)}, pool ${s.poolSize}, statement timeout ${s.statementTimeoutMs ?? defaultStatementTimeoutMs(c.gate.deadlineMs)} ms`;
  return s.driver;
}

/** Where `start` will find the API's token (never the token itself). */
function apiTokenLine(api: NonNullable<Config['api']>): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- only when an api: section is there
  const r = (require('../../api/config') as typeof import('../../api/config')).resolveApiToken(api);
  if (!r.ok) return `NO TOKEN: start will refuse it (${r.path}: ${r.message})`;
  return api.token !== undefined ? 'token from api.token' : 'token from CALLGATE_API_TOKEN';
}

export async function configCheck(opts: { config?: string }, io: Io): Promise<number> {
  const file = configPath(opts.config);
  const c = loadCliConfig(opts.config);
  const pbx = [
    c.asterisk ? `asterisk ${maskUrlCredentials(c.asterisk.url)}` : '',
    c.freeswitch ? `freeswitch socket ${c.freeswitch.listen.host}:${c.freeswitch.listen.port}` : '',
  ].filter(Boolean);
  const lines = [
    `OK ${file}`,
    `  store: ${storeLine(c)}`,
    `  clock: ${c.clock.mode === 'system' ? 'system' : c.clock.mode === 'fixed' ? `fixed ${c.clock.at.toISOString()}` : `shifted, start ${c.clock.start.toISOString()}`}`,
    `  professionals: ${c.professionals.map((p) => p.id).join(', ') || '(none)'}`,
    `  campaigns: ${c.campaigns.map((k) => k.id).join(', ') || '(none)'} (default: ${c.defaultCampaign.id}, professional ${c.defaultCampaign.professional})`,
    `  policy: regime ${c.policy.regime}, failMode ${c.policy.failMode}${c.policy.monitorOnly ? ', MONITOR ONLY' : ''}`,
    `  pbx: ${pbx.join(', ') || (c.api ? '(none)' : '(none: `callgate start` needs asterisk:, freeswitch: or api:)')}`,
    ...(c.api ? [`  api: http://${c.api.listen.host}:${c.api.listen.port}, ${apiTokenLine(c.api)}`] : []),
  ];
  io.out(lines.join('\n') + '\n');
  return EXIT_OK;
}
