/**
 * One table of legal references and default messages.
 *
 * - LEGAL_REFS: rule ID (FR-RULES.md) → the legal source a decision cites for it.
 * - REASON_MESSAGES: reason code → the default message, saying what the caller can do about it.
 *
 * Sources are those of docs/FR-RULES.md (C. consom. = Code de la consommation,
 * C. trav. = Code du travail, C. assur. = Code des assurances, CPCE = Code des postes et des
 * communications électroniques). Entries marked "(policy)" are configurable choices, not legal figures.
 */
import type { ReasonCode, RuleId } from './types';

export const LEGAL_REFS: Readonly<Record<RuleId, string>> = Object.freeze({
  'SCOPE-1': 'FR-RULES §1 (policy): emergency and public-safety numbers are never blocked',
  'SCOPE-2': 'C. consom. L. 223-1 (consumer prospecting only); FR-RULES §1 (policy)',
  'SCOPE-3': 'ARCEP national numbering plan (FR-RULES §1)',
  'CID-1': 'C. consom. L. 221-17',
  'CID-2': 'C. consom. L. 221-17; ARCEP national numbering plan',
  'CID-3': 'Arrêté du 5 juillet 2016 (ARCEP numbering plan)',
  'CID-4': 'ARCEP décision 2022-1583',
  'CID-5': 'ARCEP décision 2022-1583 (numéros polyvalents vérifiés, in force 2023-01-01)',
  'CID-6': 'C. consom. L. 221-17 al. 2; ARCEP décision 2025-2215',
  'SEC-1': 'C. consom. L. 223-1 (2020 and 2025 wording)',
  'SEC-2': 'C. trav. L. 6323-8-1',
  'SEC-3': 'C. assur. R. 112-7',
  'CONS-1': 'C. consom. L. 223-1 al. 1 (loi 2025-594 art. 13)',
  'CONS-2': 'C. consom. R. 223-1',
  'CONS-3': 'C. consom. R. 223-1',
  'CONS-4': 'C. consom. R. 223-3',
  'CONS-5': 'C. consom. L. 223-1 al. 4',
  'CONS-6': 'C. consom. L. 223-5',
  'OPP-1': 'C. consom. L. 223-1 (2020 wording)',
  'OPP-2': 'C. consom. L. 223-1 al. 4 (monthly scrub)',
  'DNC-1': 'RGPD art. 21; CNIL',
  'REF-1': 'C. consom. R. 223-3; D. 223-9 (décret 2022-1313)',
  'TIME-1': 'C. consom. D. 223-9',
  'TIME-2': 'C. consom. D. 223-9; C. trav. L. 3133-1',
  'TIME-3': 'C. consom. D. 223-9',
  'TIME-4': 'C. consom. L. 223-1 al. 6',
  'FREQ-1': 'C. consom. D. 223-9 al. 3',
  'FREQ-2': 'C. consom. D. 223-9 al. 3',
  'FREQ-3': 'C. consom. D. 223-9 al. 3',
  'AUTO-1': 'CPCE L. 34-5',
  'SIL-1': 'C. consom. D. 223-9 al. 3 (policy: silent calls are attempts)',
  'SIL-2': 'Ofcom persistent misuse policy, 3 % abandoned calls per 24 h (policy)',
  'GATE-1': 'callgate failMode (policy, FR-RULES §8)',
});

export const REASON_MESSAGES: Readonly<Record<ReasonCode, string>> = Object.freeze({
  invalid_destination: 'the destination is not a valid dialable number; fix the number in the contact file',
  caller_id_withheld: 'the caller ID is withheld; present a number (turn CLIR/privacy off)',
  caller_id_invalid: 'the presented caller ID is not a valid number; configure a valid number to present',
  caller_id_forbidden_range:
    'the presented caller ID is in a range that may not be presented (premium 089x, directory 118, short codes, shared-cost 081x/082x)',
  caller_id_mobile: 'a PBX may not present a mobile number; present a fixed or NPV number',
  caller_id_not_npv:
    'an automated campaign must present a numéro polyvalent vérifié (0162, 0163, 0270, 0271, 0377, 0378, 0424, 0425, 0568, 0569, 0948, 0949, overseas 09475-09479)',
  caller_id_not_authorised:
    "the presented caller ID is not on the professional's declared list; present a declared number or declare it",
  sector_banned: 'telephone prospecting is banned for this sector unless an ongoing related contract exists',
  no_consent: 'no prior consent of this consumer to be called by this professional for this offer',
  consent_expired: 'the consent is older than its validity period; collect a new consent',
  consent_withdrawn: 'the consumer withdrew consent; do not call again',
  opposition_list: 'the number is on the national opposition list (Bloctel) and no exception applies',
  opposition_list_stale: 'the opposition list in use is too old to screen against; import a fresh list',
  do_not_call: "the number is on the professional's do-not-call list",
  refusal_cooldown: 'the consumer refused a call recently; wait for the cool-down to end',
  non_working_day: "it is a Saturday or Sunday in the consumer's time zone",
  public_holiday: "it is a public holiday in the consumer's territory",
  outside_calling_hours: "the consumer's local time is outside 10:00-13:00 and 14:00-20:00",
  frequency_limit: 'this professional already made the maximum number of attempts to this consumer in the window',
  robocall_without_consent: 'pre-recorded or robot calls need the consumer’s consent to that channel',
  gate_unavailable: 'the gate could not decide in time (store unavailable or deadline passed) and fails closed',
});
