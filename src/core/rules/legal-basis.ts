/**
 * Section 4 of FR-RULES.md: the legal basis to call this consumer.
 *
 * Consent regime (from 2026-08-11), C. consom. L. 223-1 as rewritten by loi 2025-594 art. 13:
 * - CONS-1 no consent record at `at` (L. 223-1 al. 1)                              → no_consent
 * - CONS-2 consents exist but none of this professional covering the offer (R. 223-1) → no_consent, detail 'scope'
 * - CONS-3 the covering consent expired (R. 223-1; 365 days at most, no tacit renewal) → consent_expired
 * - CONS-4 the covering consent was withdrawn (R. 223-3)                              → consent_withdrawn
 * - CONS-5 exception: ongoing contract related to the offer (L. 223-1 al. 4)          → basis 'contract'
 * - CONS-6 exception: purpose 'press' (L. 223-5)                                      → basis 'press'
 * Basis preference: consent > contract > press. When an exception applies, failed consent checks are 'exempt'.
 * Among several covering consents, one valid consent suffices; otherwise the reported failure is withdrawn,
 * then expired, then not yet collected (collected after the attempt → CONS-1).
 *
 * Opposition regime (until 2026-08-10), L. 223-1 in its 2020 wording:
 * - OPP-1 number on the imported opposition list, no ongoing related contract, purpose not press → opposition_list
 * - OPP-2 list older than oppositionMaxAgeDays calendar days (at > asOf + N days), or no list ever imported
 *   (asOf undefined: the gate cannot screen at all) → opposition_list_stale when oppositionStaleBlocks
 *   (policy, fail closed), otherwise tag 'opposition_list_stale'.
 * Basis preference: contract > press > consent > none (only contract and press lift OPP-1).
 *
 * Tags: 'basis:consent' | 'basis:contract' | 'basis:press' (none when the basis is 'none').
 */
import type { Campaign, ConsentRecord, Facts, LegalBasis, Policy, Regime } from '../types';
import { addCalendarDays } from './calendar';
import { consentCovers, consentExpiry, consentStateAt, ongoingRelatedContract } from './records';
import { type Acc, exempt, fail, pass, skip, tag } from './result';

type BasisPolicy = Pick<Policy, 'consentValidityDays' | 'oppositionMaxAgeDays' | 'oppositionStaleBlocks'>;

export type BasisResult = { basis: LegalBasis; validConsents: ConsentRecord[] };

function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

export function checkLegalBasis(
  acc: Acc,
  regime: Regime,
  at: Date,
  facts: Pick<Facts, 'consents' | 'contracts' | 'opposition'>,
  campaign: Pick<Campaign, 'professional' | 'categories' | 'purpose'>,
  policy: BasisPolicy,
): BasisResult {
  // Consent states of the covering consents (needed in both regimes: TIME-4 and AUTO-1 use them).
  let existing = 0;
  let covering = 0;
  let withdrawn: ConsentRecord | undefined;
  let expired: ConsentRecord | undefined;
  const valid: ConsentRecord[] = [];
  const t = at.getTime();
  for (const c of facts.consents) {
    const collected = c.collectedAt instanceof Date ? c.collectedAt.getTime() : NaN;
    if (!(collected <= t)) continue;
    existing++;
    if (!consentCovers(c, campaign)) continue;
    covering++;
    const state = consentStateAt(c, at, policy);
    if (state === 'valid') valid.push(c);
    else if (state === 'withdrawn') withdrawn ??= c;
    else if (state === 'expired') expired ??= c;
  }
  const contract = ongoingRelatedContract(facts.contracts, campaign, at);
  const press = campaign.purpose === 'press';

  if (regime === 'opposition') {
    skip(acc, ['CONS-1', 'CONS-2', 'CONS-3', 'CONS-4', 'CONS-5', 'CONS-6'], 'opposition regime');
    const basis: LegalBasis = contract ? 'contract' : press ? 'press' : valid.length > 0 ? 'consent' : 'none';
    if (contract || press) {
      const why = contract ? 'ongoing related contract (L. 223-1 al. 4)' : "purpose 'press' (L. 223-5)";
      exempt(acc, 'OPP-1', why);
      exempt(acc, 'OPP-2', why);
    } else {
      if (facts.opposition.listed) fail(acc, 'OPP-1', 'opposition_list');
      else pass(acc, 'OPP-1');
      checkListAge(acc, at, facts.opposition.asOf, policy);
    }
    if (basis !== 'none') tag(acc, `basis:${basis}`);
    return { basis, validConsents: valid };
  }

  skip(acc, ['OPP-1', 'OPP-2'], 'consent regime');
  const basis: LegalBasis = valid.length > 0 ? 'consent' : contract ? 'contract' : press ? 'press' : 'none';
  // A failed consent check is 'exempt' when an exception gives the call a basis anyway.
  const failOr = (rule: 'CONS-1' | 'CONS-2' | 'CONS-3' | 'CONS-4', run: () => void): void => {
    if (basis === 'none') run();
    else exempt(acc, rule, `legal basis: ${basis}`);
  };
  if (valid.length > 0) {
    pass(acc, 'CONS-1');
    pass(acc, 'CONS-2');
    pass(acc, 'CONS-3', `valid until ${consentExpiry(valid[0], policy).toISOString()}`);
    pass(acc, 'CONS-4');
  } else if (existing === 0) {
    // Nothing on record at `at` (consents collected after the attempt do not exist yet).
    failOr('CONS-1', () => fail(acc, 'CONS-1', 'no_consent'));
    skip(acc, ['CONS-2', 'CONS-3', 'CONS-4'], 'no consent record at the time of the attempt');
  } else if (covering === 0) {
    pass(acc, 'CONS-1');
    failOr('CONS-2', () =>
      fail(acc, 'CONS-2', 'no_consent', {
        detail: 'scope',
        message:
          'the consents on record name another professional or do not cover this offer; collect a consent for this professional and category',
      }),
    );
    skip(acc, ['CONS-3', 'CONS-4'], 'no covering consent');
  } else if (withdrawn) {
    pass(acc, 'CONS-1');
    pass(acc, 'CONS-2');
    skip(acc, ['CONS-3'], 'consent withdrawn');
    failOr('CONS-4', () =>
      fail(acc, 'CONS-4', 'consent_withdrawn', {
        message: `the consumer withdrew consent on ${isoDay(withdrawn.withdrawnAt as Date)}; do not call again`,
      }),
    );
  } else {
    const c = expired as ConsentRecord;
    pass(acc, 'CONS-1');
    pass(acc, 'CONS-2');
    failOr('CONS-3', () =>
      fail(acc, 'CONS-3', 'consent_expired', {
        message: `the consent collected on ${isoDay(c.collectedAt)} expired at ${consentExpiry(c, policy).toISOString()} (no tacit renewal, 365 days at most); collect a new consent`,
      }),
    );
    pass(acc, 'CONS-4');
  }
  if (contract) pass(acc, 'CONS-5', 'ongoing related contract');
  else skip(acc, ['CONS-5'], 'no ongoing related contract');
  if (press) pass(acc, 'CONS-6', "purpose 'press'");
  else skip(acc, ['CONS-6'], "purpose is not 'press'");
  if (basis !== 'none') tag(acc, `basis:${basis}`);
  return { basis, validConsents: valid };
}

function checkListAge(acc: Acc, at: Date, asOf: Date | undefined, policy: BasisPolicy): void {
  let stale: string | undefined;
  if (!(asOf instanceof Date) || Number.isNaN(asOf.getTime())) {
    stale = 'no opposition list was ever imported: the gate cannot screen; import the current list';
  } else if (at.getTime() > addCalendarDays(asOf, policy.oppositionMaxAgeDays).getTime()) {
    stale = `the opposition list is dated ${asOf.toISOString()}, more than ${policy.oppositionMaxAgeDays} days before the attempt; import a fresh list`;
  }
  if (stale === undefined) {
    pass(acc, 'OPP-2');
  } else if (policy.oppositionStaleBlocks) {
    fail(acc, 'OPP-2', 'opposition_list_stale', { message: stale });
  } else {
    pass(acc, 'OPP-2', `stale list tolerated by policy: ${stale}`);
    tag(acc, 'opposition_list_stale');
  }
}
