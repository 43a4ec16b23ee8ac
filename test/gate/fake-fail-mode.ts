/**
 * failModeDecision for the in-test and bench stand-in gates (GateService fakes): core's one
 * builder, with the default policy and a consumer-prospecting campaign, so a fake's backstop
 * decision has the same shape as the real gate's.
 */
import { failModeDecision } from '../../src/core';
import { DEFAULT_POLICY, type CallAttempt, type Decision } from '../../src/core/types';

let n = 0;

export function fakeFailModeDecision(attempt: CallAttempt, why: string): Decision {
  return failModeDecision(
    attempt,
    {
      decisionId: `failmode-${++n}`,
      campaign: {
        id: attempt.campaignId ?? 'default',
        professional: 'p',
        purpose: 'prospecting',
        audience: 'consumer',
        dialing: 'manual',
        sector: 'other',
        categories: [],
      },
      campaignKnown: false,
      policy: DEFAULT_POLICY,
    },
    why,
  );
}
