/**
 * `callgate history N`: everything the store holds about one number — the
 * audit trail FR-RULES.md section 9 requires (decisions with their rules and
 * legal references, attempts and outcomes, consents kept 3 years per R. 223-2,
 * contracts, do-not-call entries, refusals).
 */
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
  return withRuntime(config, async (rt) => {
    const h = await rt.store.history(e164, professional);
    io.out(opts.json ? JSON.stringify(historyToJson(h)) + '\n' : formatHistory(h));
    return EXIT_OK;
  });
}
