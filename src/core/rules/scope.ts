/**
 * Section 1 of FR-RULES.md: which calls are gated.
 *
 * - SCOPE-1 emergency and public-safety numbers (15, 17, 18, 112, 114, 115, 116xxx, 119, 191, 196, 197) are
 *   never blocked by any rule → allow, tag 'emergency'; every other rule is 'skip' (policy of FR-RULES §1;
 *   the duty to route emergency calls is CPCE L. 33-1). Caller-ID rules are skipped too: a withheld caller
 *   ID never delays an emergency call.
 * - SCOPE-2 the consumer rules (sections 3–6: sectors, legal basis, DNC/refusals, days and hours, frequency)
 *   and AUTO-1 (direct marketing, CPCE L. 34-5) apply only to campaigns whose purpose is 'prospecting' or 'press'
 *   and whose audience is 'consumer' or 'unknown'. Other calls (service, survey, charity, collection, or a
 *   professional audience) get tag 'not_prospecting' and only the caller-ID rules (section 2); in particular
 *   TIME-* and FREQ-1 do not apply to them (D. 223-9 regulates prospecting). SIL-2 (a tag) still applies.
 *   (Policy) a call whose campaign is missing or unknown is consumer prospecting, whatever the configured
 *   default campaign says: the gate never exempts a call it cannot attribute.
 * - SCOPE-3 a destination that is not a valid dialable number → block 'invalid_destination'.
 */
import { isEmergencyNumber, type NumberInfo } from '../numbers';
import type { Campaign } from '../types';

export function isEmergency(to: unknown, number?: NumberInfo): boolean {
  return (typeof to === 'string' && isEmergencyNumber(to)) || number?.kind === 'emergency';
}

export function isConsumerProspecting(
  campaign: Pick<Campaign, 'purpose' | 'audience'>,
  campaignKnown: boolean,
): boolean {
  if (!campaignKnown) return true;
  return (campaign.purpose === 'prospecting' || campaign.purpose === 'press') && campaign.audience !== 'professional';
}
