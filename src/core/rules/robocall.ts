/**
 * AUTO-1 (FR-RULES.md section 8, policy on by default): a pre-recorded or robot campaign
 * (dialing 'prerecorded') needs the consumer's consent to that channel — CPCE L. 34-5 (direct marketing by
 * automated calling machines requires prior consent). Checked in both regimes.
 * "Consent to that channel" = a consent of this professional covering the offer, valid at the attempt
 * (records.ts), with automated === true. → robocall_without_consent.
 */
import type { Campaign, ConsentRecord, Policy } from '../types';
import { type Acc, fail, pass, skip } from './result';

export function checkRobocall(
  acc: Acc,
  validConsents: readonly ConsentRecord[],
  campaign: Pick<Campaign, 'dialing'>,
  policy: Pick<Policy, 'robocallNeedsConsent'>,
): void {
  if (campaign.dialing !== 'prerecorded') {
    skip(acc, ['AUTO-1'], 'not a pre-recorded campaign');
  } else if (!policy.robocallNeedsConsent) {
    skip(acc, ['AUTO-1'], 'robocallNeedsConsent is off (policy)');
  } else if (validConsents.some((c) => c.automated === true)) {
    pass(acc, 'AUTO-1', 'valid consent to automated calls');
  } else {
    fail(acc, 'AUTO-1', 'robocall_without_consent', {
      message:
        'a pre-recorded or robot call needs a valid consent of the consumer to automated calls (automated: true); collect it or dial manually',
    });
  }
}
