/**
 * SIL-2 (FR-RULES.md section 8, policy, off by default): the campaign's abandoned-call rate over the last
 * 24 h is above abandonRateThreshold (UK Ofcom persistent-misuse practice: 3 %) → tag 'abandon_rate_high'.
 * Never blocks. SIL-1 (silent calls count as attempts) is applied by the store when it counts (FREQ-2).
 */
import type { Facts, Policy } from '../types';
import { type Acc, pass, skip, tag } from './result';

export function checkAbandonRate(
  acc: Acc,
  facts: Pick<Facts, 'abandonRate'>,
  policy: Pick<Policy, 'abandonRateThreshold'>,
): void {
  const threshold = policy.abandonRateThreshold;
  if (threshold === null || threshold === undefined) {
    skip(acc, ['SIL-2'], 'abandonRateThreshold is off (policy)');
    return;
  }
  const rate = facts.abandonRate;
  if (typeof rate !== 'number' || Number.isNaN(rate)) {
    skip(acc, ['SIL-2'], 'abandon rate unknown');
  } else if (rate > threshold) {
    pass(acc, 'SIL-2', `abandon rate ${(rate * 100).toFixed(1)} % above ${(threshold * 100).toFixed(1)} %`);
    tag(acc, 'abandon_rate_high');
  } else {
    pass(acc, 'SIL-2');
  }
}
