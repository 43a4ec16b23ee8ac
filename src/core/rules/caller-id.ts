/**
 * Section 2 of FR-RULES.md: the presented caller ID. Applies to every gated call (prospecting or not).
 *
 * - CID-1 withheld: presentation 'restricted' (CLIR / privacy), or the number is empty, 'anonymous', 'unknown',
 *   'restricted', 'unavailable' (case-insensitive) → caller_id_withheld. C. consom. L. 221-17.
 * - CID-2 the number does not parse as a valid number → caller_id_invalid. L. 221-17, ARCEP plan.
 * - CID-3 premium 089x, directory 118xyz, short 3BPQ other than 30PQ/31PQ, (policy) shared-cost 081x/082x
 *   → caller_id_forbidden_range. Arrêté du 5 juillet 2016.
 * - CID-4 a mobile number presented by a PBX → caller_id_mobile. ARCEP décision 2022-1583.
 * - CID-5 an automated campaign (dialing !== 'manual') not presenting a numéro polyvalent vérifié
 *   → caller_id_not_npv. ARCEP décision 2022-1583 (2023-01-01).
 * - CID-6 the professional declares the numbers it may present and this one is not among them (E.164 of both
 *   sides compared) → caller_id_not_authorised. L. 221-17 al. 2; ARCEP décision 2025-2215.
 *
 * A withheld presentation that still carries a real number (CLIR with the number in the network signalling) has
 * that number checked by CID-2..6 as well; a placeholder number ('anonymous'…) leaves nothing to check (skip).
 * Number arithmetic: ../numbers.ts and ../callerid-ranges.ts.
 */
import { callerIdRange, isMobile, isNpv } from '../callerid-ranges';
import { type NumberInfo, normalizeNumber } from '../numbers';
import type { CallAttempt, Campaign, Policy, Professional } from '../types';
import { type Acc, fail, pass, skip } from './result';
import { quoteValue } from '../quote';

/** Words a PBX, a dialer or a person uses for a withheld caller ID (CID-1), lower case. */
const PLACEHOLDERS: ReadonlySet<string> = new Set([
  '',
  'anonymous',
  'unknown',
  'restricted',
  'unavailable',
  'private',
  'withheld',
]);

export function isWithheldNumber(number: unknown): boolean {
  return typeof number !== 'string' || PLACEHOLDERS.has(number.trim().toLowerCase());
}

const FORBIDDEN_WHY = {
  premium: 'a premium-rate number (089x)',
  directory: 'a directory-enquiry number (118xyz)',
  short: 'a short number other than 30PQ/31PQ',
  shared_cost: 'a shared-cost number (081x/082x)',
} as const;

/** Declared caller IDs of a professional, normalized once per Professional object. */
const declaredCache = new WeakMap<Professional, ReadonlySet<string>>();

function declaredSet(p: Professional): ReadonlySet<string> {
  let set = declaredCache.get(p);
  if (!set) {
    const s = new Set<string>();
    for (const raw of p.callerIds) {
      const n = normalizeNumber(raw);
      s.add(n.ok ? n.value.e164 : String(raw).trim());
    }
    set = s;
    declaredCache.set(p, set);
  }
  return set;
}

/** Checks CID-1..6 and returns the normalized caller ID when it parses. */
export function checkCallerId(
  acc: Acc,
  callerId: Partial<CallAttempt['callerId']> | undefined,
  campaign: Pick<Campaign, 'dialing'>,
  professional: Professional | undefined,
  policy: Pick<Policy, 'blockSharedCostCallerId'>,
  normalize: (raw: string) => ReturnType<typeof normalizeNumber> = normalizeNumber,
): NumberInfo | undefined {
  const raw = callerId?.number;
  const placeholder = isWithheldNumber(raw);
  if (placeholder || callerId?.presentation === 'restricted') {
    fail(acc, 'CID-1', 'caller_id_withheld', {
      message: placeholder
        ? `no caller ID is presented (${quoteValue(raw ?? '')}); present a number (turn CLIR/privacy off)`
        : 'the caller ID presentation is restricted (CLIR / privacy); present the number',
    });
  } else {
    pass(acc, 'CID-1');
  }
  if (placeholder) {
    skip(acc, ['CID-2', 'CID-3', 'CID-4', 'CID-5', 'CID-6'], 'no caller ID number');
    return undefined;
  }
  const parsed = normalize(raw as string);
  if (!parsed.ok) {
    fail(acc, 'CID-2', 'caller_id_invalid', {
      message: `the presented caller ID ${quoteValue(raw)} is not a valid number (${parsed.error}); configure a valid number to present`,
    });
    skip(acc, ['CID-3', 'CID-4', 'CID-5', 'CID-6'], 'caller ID does not parse');
    return undefined;
  }
  const n = parsed.value;
  pass(acc, 'CID-2');

  const range = callerIdRange(n, { blockSharedCost: policy.blockSharedCostCallerId });
  if (range.forbidden) {
    fail(acc, 'CID-3', 'caller_id_forbidden_range', {
      message: `the presented caller ID ${n.e164} is ${FORBIDDEN_WHY[range.why]}, which may not be presented; present a geographic or NPV number`,
      detail: range.why,
    });
  } else {
    pass(acc, 'CID-3');
  }

  if (isMobile(n)) {
    fail(acc, 'CID-4', 'caller_id_mobile', {
      message: `the presented caller ID ${n.e164} is a mobile number, which a PBX may not present; present a fixed or NPV number`,
    });
  } else {
    pass(acc, 'CID-4');
  }

  if (campaign.dialing === 'manual') {
    skip(acc, ['CID-5'], 'manual dialing');
  } else if (isNpv(n)) {
    pass(acc, 'CID-5');
  } else {
    fail(acc, 'CID-5', 'caller_id_not_npv', {
      message: `the campaign dials automatically ('${campaign.dialing}') and the presented caller ID ${n.e164} is not a numéro polyvalent vérifié (0162, 0163, 0270, 0271, 0377, 0378, 0424, 0425, 0568, 0569, 0948, 0949, overseas 09475-09479)`,
    });
  }

  if (!professional || !Array.isArray(professional.callerIds) || professional.callerIds.length === 0) {
    skip(acc, ['CID-6'], 'the professional declares no caller IDs');
  } else if (declaredSet(professional).has(n.e164)) {
    pass(acc, 'CID-6');
  } else {
    fail(acc, 'CID-6', 'caller_id_not_authorised', {
      message: `the presented caller ID ${n.e164} is not among the numbers professional '${professional.id}' declared; present a declared number or add it to the declaration`,
    });
  }
  return n;
}
