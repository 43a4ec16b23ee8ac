/**
 * FREQ-1..3 — at most `maxAttempts` (4) attempts by the same professional (any campaign, site or
 * subcontractor) to the same consumer in the `windowDays` (30) calendar days before the attempt, rolling.
 * Source: C. consom. D. 223-9 al. 3 (décret 2022-1313) — "tenter de démarcher" counts every attempt (FREQ-2),
 * and the limit holds whatever the legal basis, consent or contract included (FREQ-3).
 *
 * Window arithmetic (one definition, used for the count, for the store and for retryAfter):
 *   an attempt t counts iff  at − windowDays calendar days  <  t          (Europe/Paris wall clock).
 * An attempt stamped after `at` counts too: it is on record, so it was made before this decision,
 * by a gate whose clock runs ahead of this one or before this host's clock stepped back. Leaving
 * it out would let a fifth call through (two gates must never both place one, FR-RULES §6) and
 * disagree with the store, which counts every attempt from the window start on.
 * Going back from `at`, day 1 is (at−1d, at], day 30 is (at−30d, at−29d]: an attempt exactly 30 days ago is on
 * the 31st day and no longer counts. Hence retryAfter = (the attempt that must age out) + windowDays, and at
 * that instant the attempt passes.
 * frequencyWindowStart returns the FIRST COUNTED instant, (at − windowDays calendar days) + 1 ms, so that the
 * store port's "attempts at or after windowStart count" (FactsQuery, CommitOptions) is exactly this rule.
 */
import { LEGAL_REFS } from '../legal-refs';
import type { Facts, Policy } from '../types';
import { addCalendarDays } from './calendar';
import { type Acc, fail, pass } from './result';

/** First instant whose attempts count: at minus windowDays calendar days (Europe/Paris), plus 1 ms. */
export function frequencyWindowStart(at: Date, policy: Pick<Policy, 'windowDays'>): Date {
  return new Date(addCalendarDays(at, -policy.windowDays).getTime() + 1);
}

export type FrequencyCount = { counted: Date[]; windowStart: Date };

/** The attempts that count at `at`, oldest first. */
export function countedAttempts(at: Date, recent: readonly Date[], policy: Pick<Policy, 'windowDays'>): FrequencyCount {
  const windowStart = frequencyWindowStart(at, policy);
  const lo = windowStart.getTime();
  const counted: Date[] = [];
  for (const d of recent) {
    const t = d instanceof Date ? d.getTime() : NaN;
    if (t >= lo) counted.push(d);
  }
  counted.sort((a, b) => a.getTime() - b.getTime());
  return { counted, windowStart };
}

export function checkFrequency(
  acc: Acc,
  at: Date,
  facts: Pick<Facts, 'recentAttempts'>,
  policy: Pick<Policy, 'windowDays' | 'maxAttempts'>,
): void {
  const { counted } = countedAttempts(at, facts.recentAttempts, policy);
  const max = policy.maxAttempts;
  if (counted.length < max) {
    pass(acc, 'FREQ-1', `${counted.length} of ${max} attempts in ${policy.windowDays} days`);
    return;
  }
  // The attempt passes once enough of the oldest counted attempts leave the window to fall below max.
  // (maxAttempts <= 0 forbids every call: no retryAfter.)
  const mustAgeOut = max > 0 ? counted[counted.length - max] : undefined;
  const retryAfter = mustAgeOut ? addCalendarDays(mustAgeOut, policy.windowDays) : undefined;
  fail(acc, 'FREQ-1', 'frequency_limit', {
    message:
      `this professional already made ${counted.length} attempts to this consumer in the last ${policy.windowDays} calendar days (limit ${max})` +
      (retryAfter ? `; next allowed at ${retryAfter.toISOString()}` : ''),
    retryAfter,
    legalRef: LEGAL_REFS['FREQ-1'],
  });
}
