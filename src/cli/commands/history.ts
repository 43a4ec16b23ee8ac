/**
 * `callgate history N`: everything the store holds about one number — the
 * audit trail FR-RULES.md section 9 requires (decisions with their rules and
 * legal references, attempts and outcomes, consents kept 3 years per R. 223-2,
 * contracts, do-not-call entries, refusals).
 */
import { existsSync } from 'node:fs';
import type { History } from '../../gate/store';
import { parseNumber } from '../args';
import { loadCliConfig, requireProfessional, withRuntime } from '../context';
import { EXIT_OK } from '../errors';
import { formatHistory, historyToJson } from '../format';
import type { Io } from '../io';

export type HistoryOptions = { professional?: string; json?: boolean; config?: string };

export async function historyCommand(number: string, opts: HistoryOptions, io: Io): Promise<number> {
  const e164 = parseNumber(number, 'NUMBER');
  const config = loadCliConfig(opts.config);
  const professional = opts.professional === undefined ? undefined : requireProfessional(config, opts.professional);
  const print = (h: History): number => {
    io.out(opts.json ? JSON.stringify(historyToJson(h)) + '\n' : formatHistory(h, config.policy));
    return EXIT_OK;
  };
  // A read-only command must not create a database: no file yet = nothing recorded (or a wrong store.path).
  if (config.store.driver === 'sqlite' && !existsSync(config.store.path)) {
    io.err(
      `callgate: no database at ${config.store.path} yet (store.path): nothing recorded; check the path if you expected data\n`,
    );
    return print(emptyHistory(e164));
  }
  return withRuntime(config, async (rt) => print(await rt.store.history(e164, professional)));
}

function emptyHistory(e164: string): History {
  return {
    e164,
    attempts: [],
    decisions: [],
    consents: [],
    contracts: [],
    dnc: [],
    refusals: [],
    opposition: { listed: false },
  };
}
