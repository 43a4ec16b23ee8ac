/**
 * `callgate purge [--dry-run]`: removes what is older than retention.days, keeping what the law
 * still needs: the attempts of the frequency window (FREQ-1, D. 223-9 al. 3: retention.days is at
 * least policy.windowDays), the proof of consent for 3 years from its collection (R. 223-2), and
 * for good the do-not-call entries, the refusals (REF-1 reads them) and the opposition list.
 */
import { existsSync } from 'node:fs';
import { DEFAULT_RETENTION_DAYS } from '../../config/schema';
import { loadCliConfig, withRuntime } from '../context';
import { EXIT_OK } from '../errors';
import type { Io } from '../io';

const DAY = 86_400_000;

export type PurgeOptions = { dryRun?: boolean; config?: string };

export async function purgeCommand(opts: PurgeOptions, io: Io): Promise<number> {
  const config = loadCliConfig(opts.config);
  if (config.store.driver === 'sqlite' && !existsSync(config.store.path)) {
    io.err(`callgate: no database at ${config.store.path} yet (store.path): nothing to purge\n`);
    return EXIT_OK;
  }
  return withRuntime(config, async (rt) => {
    const now = rt.clock.now().getTime();
    const days = config.retention.days;
    const cutoffs = {
      decisionsBefore: new Date(now - days * DAY),
      // the proof of a consent is kept 3 years from its collection, whatever retention.days says
      consentsCollectedBefore: new Date(now - Math.max(days, DEFAULT_RETENTION_DAYS) * DAY),
      contractsEndedBefore: new Date(now - days * DAY),
    };
    const r = await rt.store.purge(cutoffs, opts.dryRun === true);
    const verb = opts.dryRun ? 'would remove' : 'removed';
    io.out(
      [
        `purge${opts.dryRun ? ' (dry run: nothing removed)' : ''}, retention ${days} days:`,
        `  ${verb} ${r.decisions} decisions (with their attempts and outcomes) recorded before ${cutoffs.decisionsBefore.toISOString()}`,
        `  ${verb} ${r.consents} consents collected before ${cutoffs.consentsCollectedBefore.toISOString()}`,
        `  ${verb} ${r.contracts} contracts ended before ${cutoffs.contractsEndedBefore.toISOString()}`,
        '  kept: do-not-call entries, refusals and the opposition list (always)',
      ].join('\n') + '\n',
    );
    return EXIT_OK;
  });
}
