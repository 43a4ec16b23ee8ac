/**
 * The accumulator every rule writes into: rule outcomes, failed-rule reasons, tags.
 * Rules push into one shared object instead of returning arrays, so evaluate() allocates little.
 * Legal references come from ../legal-refs.ts (one table), never from the rule files.
 */
import { LEGAL_REFS, REASON_MESSAGES } from '../legal-refs';
import type { Reason, ReasonCode, RuleId, RuleOutcome } from '../types';

export type Acc = { rules: RuleOutcome[]; reasons: Reason[]; tags: string[] };

export function newAcc(): Acc {
  return { rules: [], reasons: [], tags: [] };
}

export function pass(acc: Acc, rule: RuleId, note?: string): void {
  acc.rules.push(note === undefined ? { rule, outcome: 'pass' } : { rule, outcome: 'pass', note });
}

export function exempt(acc: Acc, rule: RuleId, note: string): void {
  acc.rules.push({ rule, outcome: 'exempt', note });
}

export function skip(acc: Acc, rules: readonly RuleId[], note: string): void {
  for (const rule of rules) acc.rules.push({ rule, outcome: 'skip', note });
}

export type FailExtra = { message?: string; retryAfter?: Date; detail?: string; legalRef?: string; note?: string };

/** Records a failed rule and its reason (message defaults to the catalogue's). */
export function fail(acc: Acc, rule: RuleId, code: ReasonCode, extra: FailExtra = {}): void {
  const message = extra.message ?? REASON_MESSAGES[code];
  acc.rules.push({ rule, outcome: 'fail', note: extra.note ?? code });
  const reason: Reason = { code, rule, message, legalRef: extra.legalRef ?? LEGAL_REFS[rule] };
  if (extra.retryAfter !== undefined) reason.retryAfter = extra.retryAfter;
  if (extra.detail !== undefined) reason.detail = extra.detail;
  acc.reasons.push(reason);
}

export function tag(acc: Acc, t: string): void {
  if (!acc.tags.includes(t)) acc.tags.push(t);
}
