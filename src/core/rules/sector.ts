/**
 * Section 3 of FR-RULES.md: sector bans, which consent does not lift.
 *
 * - SEC-1 (C. consom. L. 223-1, 2020 and 2025 wording): energy-saving works or equipment ('energy_renovation'),
 *   renewable-energy production ('renewable_energy'), adapting housing to ageing or disability
 *   ('housing_adaptation') → sector_banned, unless the consumer has an ongoing contract with the professional
 *   related to the offer (records.ts: ongoing, categories intersect).
 * - SEC-2 (C. trav. L. 6323-8-1): CPF-funded training or CPF data collection ('cpf_training') → sector_banned,
 *   unless "a training action is in progress": we read that as an ongoing contract of this professional whose
 *   categories intersect the campaign's (the training agreement), the same test as SEC-1.
 * - SEC-3 (C. assur. R. 112-7): 'insurance' campaigns must record the call and announce it → tag
 *   'recording_required' (never blocks).
 */
import type { Campaign, ContractRecord } from '../types';
import { ongoingRelatedContract } from './records';
import { type Acc, exempt, fail, pass, skip, tag } from './result';

const SEC1_SECTORS: ReadonlySet<string> = new Set(['energy_renovation', 'renewable_energy', 'housing_adaptation']);

export function checkSector(
  acc: Acc,
  at: Date,
  contracts: readonly ContractRecord[],
  campaign: Pick<Campaign, 'professional' | 'categories' | 'sector'>,
): void {
  const sector = campaign.sector;
  const sec1 = SEC1_SECTORS.has(sector);
  const sec2 = sector === 'cpf_training';
  for (const [rule, banned] of [
    ['SEC-1', sec1],
    ['SEC-2', sec2],
  ] as const) {
    if (!banned) {
      pass(acc, rule);
    } else if (ongoingRelatedContract(contracts, campaign, at)) {
      exempt(
        acc,
        rule,
        rule === 'SEC-1' ? 'ongoing related contract' : 'training action in progress (ongoing related contract)',
      );
    } else {
      fail(acc, rule, 'sector_banned', {
        message:
          rule === 'SEC-1'
            ? `telephone prospecting is banned for the sector '${sector}' (energy renovation, renewable energy, housing adaptation) unless the consumer has an ongoing related contract`
            : 'telephone prospecting for CPF-funded training or CPF data collection is banned unless a training action is in progress',
      });
    }
  }
  if (sector === 'insurance') {
    pass(acc, 'SEC-3', 'insurance: record the call and announce it');
    tag(acc, 'recording_required');
  } else {
    skip(acc, ['SEC-3'], 'not an insurance campaign');
  }
}
