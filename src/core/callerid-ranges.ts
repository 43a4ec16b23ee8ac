/**
 * Caller-ID numbering rules: which presented numbers are forbidden ranges,
 * mobiles, or numéros polyvalents vérifiés (NPV).
 *
 * Legal sources (FR-RULES.md §2):
 * - CID-3: arrêté du 5 juillet 2016 (numbers that may not be presented):
 *   premium-rate 089x, directory enquiries 118xyz, short numbers 3BPQ other
 *   than 30PQ/31PQ; (policy, default on) shared-cost 081x/082x.
 * - CID-4: ARCEP numbering plan, décision 2022-1583: a PBX may not present a
 *   mobile number (06, 07; overseas 0690, 0691, 0694, 0696, 0697, 0692, 0693,
 *   0639 and the other overseas mobile blocks).
 * - CID-5: ARCEP décision 2022-1583 (in force 2023-01-01): automated calls must
 *   present a numéro polyvalent vérifié: metropolitan 0162, 0163, 0270, 0271,
 *   0377, 0378, 0424, 0425, 0568, 0569, 0948, 0949; overseas 09475 (+590),
 *   09476 (+594), 09477 (+596), 09478 and 09479 (+262).
 *
 * Pure: works on an already normalized NumberInfo (see numbers.ts).
 */
import type { NumberInfo } from './numbers';

export type CallerIdRange =
  { forbidden: false } | { forbidden: true; why: 'premium' | 'directory' | 'short' | 'shared_cost' };

/** CID-5 metropolitan NPV prefixes (French national form). */
export const NPV_METROPOLITAN_PREFIXES: readonly string[] = Object.freeze([
  '0162',
  '0163',
  '0270',
  '0271',
  '0377',
  '0378',
  '0424',
  '0425',
  '0568',
  '0569',
  '0948',
  '0949',
]);

/** CID-5 overseas NPV prefixes and the only E.164 calling code each may carry. */
export const NPV_OVERSEAS_PREFIXES: Readonly<Record<string, string>> = Object.freeze({
  '09475': '+590',
  '09476': '+594',
  '09477': '+596',
  '09478': '+262',
  '09479': '+262',
});

/**
 * CID-5 on the two forms of a French-plan number: national '0948…' with
 * E.164 '+33948…', or national '09475…' with E.164 '+590 9475…' (and so on).
 */
export function isNpvNumber(national: string | undefined, e164: string): boolean {
  if (!national || national.length !== 10) return false;
  const overseasCode = NPV_OVERSEAS_PREFIXES[national.slice(0, 5)];
  if (overseasCode) return e164 === overseasCode + national.slice(1);
  return e164 === '+33' + national.slice(1) && NPV_METROPOLITAN_PREFIXES.includes(national.slice(0, 4));
}

/** CID-5: is this number a numéro polyvalent vérifié? */
export function isNpv(n: NumberInfo): boolean {
  return isNpvNumber(n.national, n.e164);
}

/**
 * CID-4: a mobile number. Uses the kind found by normalizeNumber, so it covers
 * 06/07 and every overseas mobile block (0690, 0691, 0694, 0696, 0697, 0692,
 * 0693, 0639, 0709x) in national, E.164 and wrong '+33 6xx' forms, and the
 * mobiles of other numbering plans as libphonenumber classifies them.
 */
export function isMobile(n: NumberInfo): boolean {
  return n.kind === 'mobile';
}

/**
 * CID-3: is the presented number in a range that may not be presented?
 * Short numbers 30PQ/31PQ are allowed; every other short or emergency code
 * is forbidden as 'short'.
 */
export function callerIdRange(n: NumberInfo, opts: { blockSharedCost: boolean }): CallerIdRange {
  switch (n.kind) {
    case 'premium':
      return { forbidden: true, why: 'premium' };
    case 'directory':
      return { forbidden: true, why: 'directory' };
    case 'shared_cost':
      return opts.blockSharedCost ? { forbidden: true, why: 'shared_cost' } : { forbidden: false };
    case 'emergency':
      return { forbidden: true, why: 'short' };
    case 'short':
      return /^3[01]\d\d$/.test(n.e164) ? { forbidden: false } : { forbidden: true, why: 'short' };
    default:
      return { forbidden: false };
  }
}
