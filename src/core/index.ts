/**
 * The public core: the law as pure functions (FR-RULES.md). Everything outside src/core imports from here.
 */
export * from './types';
export * from './legal-refs';
export {
  evaluate,
  EMPTY_FACTS,
  locateCallee,
  failModeDecision,
  type EvaluationContext,
  type Located,
  type ZoneSource,
} from './evaluate';
export { regimeAt } from './regime';
export { decisionToJson, decisionFromJson, explainDecision, type DecisionJson, type ReasonJson } from './decision-json';
export { frequencyWindowStart, countedAttempts } from './rules/frequency';
export { addCalendarDays } from './rules/calendar';
export {
  consentExpiry,
  consentStateAt,
  validConsents,
  ongoingRelatedContract,
  categoriesIntersect,
  MAX_CONSENT_DAYS,
} from './rules/records';
export { isWithheldNumber } from './rules/caller-id';
export { isConsumerProspecting } from './rules/scope';
export * from './numbers';
export * from './callerid-ranges';
export * from './postal';
export * from './holidays';
export * from './calling-time';
export * from './instant';
export * from './quote';
