/**
 * DNC-1 and REF-1 (FR-RULES.md section 4, both regimes).
 *
 * - DNC-1 (RGPD art. 21, right to object to prospecting; CNIL guidance): the number is on the professional's
 *   internal do-not-call list (its own entries and global ones, added at or before the attempt) → do_not_call.
 * - REF-1: a refusal during a call.
 *   Consent regime (C. consom. R. 223-3): with refusalIsPermanentInConsentRegime (policy, default on) any
 *   refusal at or before the attempt puts the number on DNC for good → do_not_call.
 *   Opposition regime (D. 223-9 as worded by décret 2022-1313), and the consent regime when the policy is off:
 *   no new attempt for refusalCooldownDays (60) calendar days after the latest refusal → refusal_cooldown,
 *   retryAfter = latest refusal + N Europe/Paris calendar days (blocked iff at < that instant).
 */
import type { Campaign, Facts, Policy, Regime } from '../types';
import { addCalendarDays } from './calendar';
import { type Acc, fail, pass } from './result';

export function checkDnc(
  acc: Acc,
  regime: Regime,
  at: Date,
  facts: Pick<Facts, 'dnc' | 'refusals'>,
  campaign: Pick<Campaign, 'professional'>,
  policy: Pick<Policy, 'refusalIsPermanentInConsentRegime' | 'refusalCooldownDays'>,
): void {
  const t = at.getTime();
  const entry = facts.dnc.find(
    (d) =>
      (d.professional === undefined || d.professional === campaign.professional) &&
      !(d.addedAt instanceof Date && d.addedAt.getTime() > t),
  );
  if (entry) {
    fail(acc, 'DNC-1', 'do_not_call', {
      message:
        `the number is on the do-not-call list${entry.professional === undefined ? ' (all professionals)' : ''}` +
        (entry.reason ? ` (${entry.reason})` : '') +
        '; remove it from the campaign',
    });
  } else {
    pass(acc, 'DNC-1');
  }

  let latest = NaN;
  for (const r of facts.refusals) {
    if (r.professional !== campaign.professional) continue;
    const rt = r.at instanceof Date ? r.at.getTime() : NaN;
    if (rt <= t && !(rt <= latest)) latest = rt;
  }
  if (Number.isNaN(latest)) {
    pass(acc, 'REF-1');
    return;
  }
  const refusedOn = new Date(latest).toISOString();
  if (regime === 'consent' && policy.refusalIsPermanentInConsentRegime) {
    fail(acc, 'REF-1', 'do_not_call', {
      message: `the consumer refused a call on ${refusedOn}: in the consent regime a refusal is permanent (policy); do not call again`,
      legalRef: 'C. consom. R. 223-3',
    });
    return;
  }
  const until = addCalendarDays(new Date(latest), policy.refusalCooldownDays);
  if (t < until.getTime()) {
    fail(acc, 'REF-1', 'refusal_cooldown', {
      message: `the consumer refused a call on ${refusedOn}; no new attempt for ${policy.refusalCooldownDays} calendar days, until ${until.toISOString()}`,
      retryAfter: until,
      legalRef: 'C. consom. D. 223-9 (décret 2022-1313)',
    });
  } else {
    pass(acc, 'REF-1', `cool-down after the refusal of ${refusedOn} is over`);
  }
}
