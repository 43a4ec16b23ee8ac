/**
 * `callgate check`: ask the gate about one call attempt, exactly as a PBX
 * would, and print the Decision. Exit 0 allowed, 1 blocked, 2 bad input.
 *
 * The rules applied are those of FR-RULES.md (Code de la consommation
 * L. 221-17, L. 223-1 and D. 223-9, among others); every reason printed
 * carries its legal reference.
 */
import type { CallAttempt } from '../../core/types';
import { parseCallerId, parseDialled, parseInstant, parsePostalCode } from '../args';
import { loadCliConfig, requireCampaign, withRuntime } from '../context';
import { EXIT_BLOCKED, EXIT_OK } from '../errors';
import type { Io } from '../io';

export type CheckOptions = {
  to: string;
  callerId: string;
  at?: string;
  campaign?: string;
  postalCode?: string;
  record?: boolean;
  json?: boolean;
  config?: string;
};

export async function checkCommand(opts: CheckOptions, io: Io): Promise<number> {
  // Every argument first: a bad one must not open (or create) the store.
  const to = parseDialled(opts.to, '--to');
  const callerId = parseCallerId(opts.callerId, '--caller-id');
  const at = opts.at === undefined ? undefined : parseInstant(opts.at, '--at');
  const postalCode = opts.postalCode === undefined ? undefined : parsePostalCode(opts.postalCode, '--postal-code');
  const config = loadCliConfig(opts.config);
  let campaignId = opts.campaign === undefined ? undefined : requireCampaign(config, opts.campaign);
  // `--campaign <defaultCampaign.id>` means the default campaign: the gate knows it only by omission
  // (given by id, it would be logged and tagged as an unknown campaign).
  if (campaignId === config.defaultCampaign.id && !config.campaigns.some((c) => c.id === campaignId)) {
    campaignId = undefined;
  }

  return withRuntime(config, async (rt) => {
    const attempt: CallAttempt = {
      to,
      callerId,
      at: at ?? rt.clock.now(),
      ...(campaignId !== undefined ? { campaignId } : {}),
      ...(postalCode !== undefined ? { contact: { postalCode } } : {}),
      source: { pbx: 'cli' },
    };
    const decision = await rt.gate.decide(attempt, { record: opts.record === true });
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded with the gate, not before the arguments are checked
    const { decisionToJson, explainDecision } = require('../../core') as typeof import('../../core');
    // Judged at the configured clock's time rather than now: said in the output itself (start warns in its log).
    const clock = at === undefined && config.clock.mode !== 'system' ? rt.clock.describe : undefined;
    if (opts.json)
      io.out(JSON.stringify(clock ? { ...decisionToJson(decision), clock } : decisionToJson(decision)) + '\n');
    else {
      const clockLine = clock
        ? `judged at ${attempt.at.toISOString()}: the configured clock is not the system clock (clock: ${clock}); give --at or use clock: { mode: system }\n`
        : '';
      io.out(explainDecision(decision).replace(/\n?$/, '\n') + clockLine);
    }
    return decision.verdict === 'allow' ? EXIT_OK : EXIT_BLOCKED;
  });
}
