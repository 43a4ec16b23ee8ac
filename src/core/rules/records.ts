/**
 * Validity of consent and contract records at an instant — shared by CONS-* (legal-basis.ts), SEC-1/2
 * (sector.ts), OPP-1, TIME-4 (time.ts) and AUTO-1 (robocall.ts).
 *
 * Consent (C. consom. L. 223-1 as amended by loi 2025-594; R. 223-1, R. 223-3):
 * - it belongs to the campaign's professional and covers the offer: its categories are empty (= every
 *   category of this professional) or intersect the campaign's categories; a campaign that declares no
 *   category is matched by any consent of its professional (we cannot tell the offers apart);
 * - it exists at `at`: collectedAt <= at;
 * - it is not withdrawn at `at`: withdrawnAt undefined or withdrawnAt > at (R. 223-3, any channel);
 * - it has not expired: at < expiry, where
 *     expiry = min(validUntil ?? collectedAt + consentValidityDays, collectedAt + 365 days)
 *   with "+ N days" in Europe/Paris calendar days (calendar.ts). No tacit renewal.
 *   Counting the collection instant as the start of day 1, day 365 = [c+364d, c+365d) passes and
 *   day 366 = [c+365d, c+366d) fails; consentValidityDays above 365 is capped at 365 (R. 223-1).
 *
 * Contract (L. 223-1 al. 4, "contrat en cours"): ongoing iff start <= at and (no end or at < end), and it is
 * related to the offer: its categories intersect the campaign's. The relation must be shown, so a contract or a
 * campaign without categories relates to nothing (stricter than consent, on purpose: it lifts sector bans).
 * An ended contract does not count.
 */
import type { Campaign, ConsentRecord, ContractRecord, Policy } from '../types';
import { addCalendarDays } from './calendar';

export const MAX_CONSENT_DAYS = 365;

export function categoriesIntersect(a: readonly string[], b: readonly string[]): boolean {
  for (const x of a) if (b.includes(x)) return true;
  return false;
}

function ms(d: Date | undefined): number {
  return d instanceof Date ? d.getTime() : NaN;
}

/** Consent names this campaign's professional and covers its offer (CONS-2). */
export function consentCovers(c: ConsentRecord, campaign: Pick<Campaign, 'professional' | 'categories'>): boolean {
  if (c.professional !== campaign.professional) return false;
  if (c.categories.length === 0 || campaign.categories.length === 0) return true;
  return categoriesIntersect(c.categories, campaign.categories);
}

/** First instant the consent is no longer valid (CONS-3). */
export function consentExpiry(c: ConsentRecord, policy: Pick<Policy, 'consentValidityDays'>): Date {
  const days = Math.min(Math.max(0, Math.floor(policy.consentValidityDays)), MAX_CONSENT_DAYS);
  const byPeriod = addCalendarDays(c.collectedAt, days);
  const cap = days === MAX_CONSENT_DAYS ? byPeriod : addCalendarDays(c.collectedAt, MAX_CONSENT_DAYS);
  const until = ms(c.validUntil);
  const limit = Number.isNaN(until) ? byPeriod.getTime() : until;
  return new Date(Math.min(limit, cap.getTime()));
}

export type ConsentState = 'valid' | 'not_collected' | 'withdrawn' | 'expired';

/** State of one consent at `at`, in the order the law checks it: exists, withdrawn, expired. */
export function consentStateAt(c: ConsentRecord, at: Date, policy: Pick<Policy, 'consentValidityDays'>): ConsentState {
  const t = at.getTime();
  const collected = ms(c.collectedAt);
  if (Number.isNaN(collected) || collected > t) return 'not_collected';
  const withdrawn = ms(c.withdrawnAt);
  if (!Number.isNaN(withdrawn) && withdrawn <= t) return 'withdrawn';
  if (t >= consentExpiry(c, policy).getTime()) return 'expired';
  return 'valid';
}

/** Consents of the campaign's professional covering its offer and valid at `at`. */
export function validConsents(
  consents: readonly ConsentRecord[],
  campaign: Pick<Campaign, 'professional' | 'categories'>,
  at: Date,
  policy: Pick<Policy, 'consentValidityDays'>,
): ConsentRecord[] {
  const out: ConsentRecord[] = [];
  for (const c of consents) {
    if (consentCovers(c, campaign) && consentStateAt(c, at, policy) === 'valid') out.push(c);
  }
  return out;
}

export function contractOngoing(k: ContractRecord, at: Date): boolean {
  const t = at.getTime();
  const start = ms(k.start);
  if (Number.isNaN(start) || start > t) return false;
  const end = ms(k.end);
  return Number.isNaN(end) || t < end;
}

/** An ongoing contract of the campaign's professional related to its offer (CONS-5, SEC-1/2, OPP-1). */
export function ongoingRelatedContract(
  contracts: readonly ContractRecord[],
  campaign: Pick<Campaign, 'professional' | 'categories'>,
  at: Date,
): ContractRecord | undefined {
  for (const k of contracts) {
    if (
      k.professional === campaign.professional &&
      categoriesIntersect(k.categories, campaign.categories) &&
      contractOngoing(k, at)
    ) {
      return k;
    }
  }
  return undefined;
}
