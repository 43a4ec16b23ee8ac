/**
 * Core types of callgate: what an attempt is, which facts the law needs about
 * it, the policy knobs of FR-RULES.md marked (policy), and the Decision.
 *
 * Pure data. Nothing here does I/O or reads a clock.
 */

export type Regime = 'opposition' | 'consent';

/** Reason codes, spelled exactly as in FR-RULES.md. */
export const REASON_CODES = [
  'invalid_destination',
  'caller_id_withheld',
  'caller_id_invalid',
  'caller_id_forbidden_range',
  'caller_id_mobile',
  'caller_id_not_npv',
  'caller_id_not_authorised',
  'sector_banned',
  'no_consent',
  'consent_expired',
  'consent_withdrawn',
  'opposition_list',
  'opposition_list_stale',
  'do_not_call',
  'refusal_cooldown',
  'non_working_day',
  'public_holiday',
  'outside_calling_hours',
  'frequency_limit',
  'robocall_without_consent',
  'gate_unavailable',
] as const;
export type ReasonCode = (typeof REASON_CODES)[number];

/** Rule IDs of FR-RULES.md. */
export const RULE_IDS = [
  'SCOPE-1',
  'SCOPE-2',
  'SCOPE-3',
  'CID-1',
  'CID-2',
  'CID-3',
  'CID-4',
  'CID-5',
  'CID-6',
  'SEC-1',
  'SEC-2',
  'SEC-3',
  'CONS-1',
  'CONS-2',
  'CONS-3',
  'CONS-4',
  'CONS-5',
  'CONS-6',
  'OPP-1',
  'OPP-2',
  'DNC-1',
  'REF-1',
  'TIME-1',
  'TIME-2',
  'TIME-3',
  'TIME-4',
  'FREQ-1',
  'FREQ-2',
  'FREQ-3',
  'AUTO-1',
  'SIL-1',
  'SIL-2',
  'GATE-1',
] as const;
export type RuleId = (typeof RULE_IDS)[number];

export type Dialing = 'manual' | 'automated' | 'prerecorded';
export type Purpose = 'prospecting' | 'press' | 'service' | 'survey' | 'charity' | 'collection';
export type Audience = 'consumer' | 'professional' | 'unknown';
/**
 * Sectors. SEC-1 bans energy_renovation, renewable_energy and housing_adaptation;
 * SEC-2 bans cpf_training (CPF-funded training or CPF data collection);
 * SEC-3 tags insurance. Anything else is 'other'.
 */
export const SECTORS = [
  'energy_renovation',
  'renewable_energy',
  'housing_adaptation',
  'cpf_training',
  'insurance',
  'other',
] as const;
export type Sector = (typeof SECTORS)[number];

export type Professional = {
  id: string;
  /** Numbers this professional may present (CID-6); empty = no declared list. */
  callerIds: string[];
};

export type Campaign = {
  id: string;
  professional: string;
  purpose: Purpose;
  audience: Audience;
  dialing: Dialing;
  sector: Sector;
  /** Product categories of the offer, matched against consent/contract categories. */
  categories: string[];
};

export type CallAttempt = {
  /** Destination as dialled. */
  to: string;
  callerId: { number: string; presentation: 'allowed' | 'restricted' };
  /** Instant of the attempt. */
  at: Date;
  campaignId?: string;
  contact?: { postalCode?: string; timeZone?: string };
  source: { pbx: 'asterisk' | 'freeswitch' | 'api' | 'cli' | 'bench'; channelId?: string };
};

export type ConsentRecord = {
  professional: string;
  /** Empty = consent to every category of this professional. */
  categories: string[];
  collectedAt: Date;
  validUntil?: Date;
  /** TIME-4: a precise date and time the consumer agreed to be called at. */
  slot?: Date;
  source?: string;
  withdrawnAt?: Date;
  /** AUTO-1: consent explicitly covers pre-recorded / robot calls. */
  automated?: boolean;
};

export type ContractRecord = {
  professional: string;
  categories: string[];
  start: Date;
  end?: Date;
};

export type DncRecord = {
  /** Undefined = applies to every professional. */
  professional?: string;
  reason?: string;
  addedAt: Date;
};

export type RefusalRecord = { professional: string; at: Date };

/** Everything the store knows that the rules need, for one (number, professional). */
export type Facts = {
  /** Every consent on record for this number, whatever the professional (CONS-2 needs the others). */
  consents: ConsentRecord[];
  /** Contracts of this number with the attempt's professional. */
  contracts: ContractRecord[];
  /** DNC entries for this number that apply to this professional (its own and global ones). */
  dnc: DncRecord[];
  /** Refusals of this number to this professional. */
  refusals: RefusalRecord[];
  /** Legacy national opposition list. asOf undefined = no list was ever imported. */
  opposition: { listed: boolean; asOf?: Date };
  /** Instants of the attempts of this professional to this number that count (FREQ-1/2) in the window. */
  recentAttempts: Date[];
  /** SIL-2: abandoned-call rate of this campaign over the last 24 h (0..1), when known. */
  abandonRate?: number;
};

export type LocalHolidaysMode = 'by-location' | 'strict';

/** Every (policy) value of FR-RULES.md, with its default in DEFAULT_POLICY. */
export type Policy = {
  /** Section 0: 'auto' picks by the attempt's date; otherwise forced. */
  regime: 'auto' | Regime;
  /** First Europe/Paris date of the consent regime. */
  consentRegimeStart: string;
  /** Would-be blocks are reported as tags and the call is allowed. */
  monitorOnly: boolean;
  /** CID-3: also forbid shared-cost 081x/082x numbers. */
  blockSharedCostCallerId: boolean;
  /** REF-1 (consent regime): a refusal puts the number on DNC for good. */
  refusalIsPermanentInConsentRegime: boolean;
  /** REF-1 (opposition regime): cool-down after a refusal, calendar days. */
  refusalCooldownDays: number;
  /** OPP-2: list age after which the gate cannot screen, days. */
  oppositionMaxAgeDays: number;
  /** OPP-2: fail closed (block) when the list is stale. */
  oppositionStaleBlocks: boolean;
  /** CONS-3: validity of a consent with no valid-until, days (never above 365). */
  consentValidityDays: number;
  /** TIME-4: tolerance around an agreed slot, minutes. */
  slotToleranceMinutes: number;
  /** Section 5: apply Alsace-Moselle and overseas local holidays. */
  localHolidays: boolean;
  localHolidaysMode: LocalHolidaysMode;
  /** FREQ-1. */
  maxAttempts: number;
  windowDays: number;
  /** FREQ-2: attempts that failed before reaching the network are released. */
  releaseNetworkFailures: boolean;
  /** AUTO-1: pre-recorded/robot campaigns need consent to that channel. */
  robocallNeedsConsent: boolean;
  /** SIL-1: abandoned/silent calls count as attempts. */
  silentCallsCount: boolean;
  /** SIL-2: tag abandon_rate_high above this rate (0..1); null = off. */
  abandonRateThreshold: number | null;
  /** GATE-1. */
  failMode: 'closed' | 'open';
};

export const DEFAULT_POLICY: Readonly<Policy> = Object.freeze({
  regime: 'auto',
  consentRegimeStart: '2026-08-11',
  monitorOnly: false,
  blockSharedCostCallerId: true,
  refusalIsPermanentInConsentRegime: true,
  refusalCooldownDays: 60,
  oppositionMaxAgeDays: 30,
  oppositionStaleBlocks: true,
  consentValidityDays: 365,
  slotToleranceMinutes: 15,
  localHolidays: true,
  localHolidaysMode: 'by-location',
  maxAttempts: 4,
  windowDays: 30,
  releaseNetworkFailures: false,
  robocallNeedsConsent: true,
  silentCallsCount: true,
  abandonRateThreshold: null,
  failMode: 'closed',
});

export type Reason = {
  code: ReasonCode;
  rule: RuleId;
  message: string;
  legalRef: string;
  /** For time and frequency blocks: the next instant the attempt would pass that rule. */
  retryAfter?: Date;
  /** Finer detail, e.g. 'scope' for CONS-2. */
  detail?: string;
};

export type RuleOutcome = { rule: RuleId; outcome: 'pass' | 'fail' | 'skip' | 'exempt'; note?: string };

export type LegalBasis = 'consent' | 'contract' | 'press' | 'none';

export type Callee = {
  e164: string;
  territory: string;
  /** Primary zone (the first candidate). */
  timeZone: string;
  /** Every candidate zone (more than one when ambiguous, e.g. 09478). */
  timeZones: string[];
  /** ISO-8601 local time with offset in timeZone. */
  localTime: string;
  /** How the zone was found: 'number', 'postal-code', 'contact-zone'. */
  zoneSource: string;
};

export type Decision = {
  id: string;
  verdict: 'allow' | 'block';
  reasons: Reason[];
  tags: string[];
  regime: Regime;
  basis: LegalBasis;
  at: Date;
  /** Undefined only when the destination itself is invalid. */
  callee?: Callee;
  callerId: { number: string; e164?: string; presentation: 'allowed' | 'restricted' };
  campaign: { id: string; professional: string; dialing: Dialing; purpose: Purpose };
  rules: RuleOutcome[];
  monitorOnly: boolean;
  source: CallAttempt['source'];
};
