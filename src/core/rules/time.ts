/**
 * TIME-1..4 glue (FR-RULES.md section 5): days and hours in the consumer's time zone.
 *
 * - TIME-1 Saturday or Sunday → non_working_day; TIME-2 public holiday → public_holiday;
 *   TIME-3 outside [10:00, 13:00) and [14:00, 20:00) → outside_calling_hours.
 *   Source: C. consom. D. 223-9 (décret 2022-1313); holidays C. trav. L. 3133-1 (+ L. 3134-13, loi 83-550).
 *   The arithmetic lives in ../calling-time.ts; every place (candidate zone) must pass; each failure carries
 *   retryAfter = the next instant the attempt passes every time rule in every place.
 * - TIME-4 (C. consom. L. 223-1 al. 6): exception when the consumer agreed to be called at this precise date
 *   and time — a valid consent of this professional covering the offer (records.ts) with a `slot`, and `at`
 *   within ±slotToleranceMinutes of it (bounds inclusive) → TIME-1..3 'exempt', tag 'agreed_slot'.
 * If the time arithmetic itself fails (an unknown zone, zones whose windows never overlap) TIME-3 fails with
 * that error as its message and no retryAfter: the gate never allows a call it could not place in time.
 */
import { checkCallingTime, isWithinSlot } from '../calling-time';
import type { Place } from '../holidays';
import { LEGAL_REFS } from '../legal-refs';
import type { ConsentRecord, Policy } from '../types';
import { type Acc, exempt, fail, pass, skip, tag } from './result';

const TIME_RULES = ['TIME-1', 'TIME-2', 'TIME-3'] as const;

export function checkTime(
  acc: Acc,
  at: Date,
  places: Place[],
  validConsents: readonly ConsentRecord[],
  policy: Pick<Policy, 'localHolidays' | 'localHolidaysMode' | 'slotToleranceMinutes'>,
): void {
  const tolerance = Number.isFinite(policy.slotToleranceMinutes) ? Math.max(0, policy.slotToleranceMinutes) : 0;
  const slot = validConsents.find(
    (c) => c.slot instanceof Date && !Number.isNaN(c.slot.getTime()) && isWithinSlot(at, c.slot, tolerance),
  );
  if (slot) {
    const note = `agreed slot ${(slot.slot as Date).toISOString()} ±${tolerance} min`;
    for (const rule of TIME_RULES) exempt(acc, rule, note);
    pass(acc, 'TIME-4', note);
    tag(acc, 'agreed_slot');
    return;
  }
  let failures;
  try {
    failures = checkCallingTime(at, places, {
      localHolidays: policy.localHolidays,
      localHolidaysMode: policy.localHolidaysMode,
    });
  } catch (err) {
    pass(acc, 'TIME-1', 'not evaluated: time arithmetic failed');
    pass(acc, 'TIME-2', 'not evaluated: time arithmetic failed');
    fail(acc, 'TIME-3', 'outside_calling_hours', {
      message: `cannot establish the consumer's local calling hours: ${(err as Error).message}`,
    });
    skip(acc, ['TIME-4'], 'no agreed slot');
    return;
  }
  for (const rule of TIME_RULES) {
    const f = failures.find((x) => x.rule === rule);
    if (!f) {
      pass(acc, rule);
      continue;
    }
    fail(acc, rule, f.code, {
      message: `${f.message}${messageTail(f.code)}; next allowed at ${f.retryAfter.toISOString()}`,
      retryAfter: f.retryAfter,
      legalRef: LEGAL_REFS[rule],
    });
  }
  skip(acc, ['TIME-4'], 'no agreed slot');
}

function messageTail(code: 'non_working_day' | 'public_holiday' | 'outside_calling_hours'): string {
  switch (code) {
    case 'non_working_day':
      return ': no prospecting calls on Saturdays and Sundays';
    case 'public_holiday':
      return ': no prospecting calls on public holidays';
    case 'outside_calling_hours':
      return ''; // calling-time's message already states the windows
  }
}
