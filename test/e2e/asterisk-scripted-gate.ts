/**
 * A small in-test GateService for the Asterisk adapter tests: decides by a table (every number
 * allowed unless listed), can answer late or never (a hung gate), and keeps what it was asked and
 * the outcomes it was given. Its failModeDecision is core's one builder (in policy.failMode `failMode`).
 */
import { fixedClock } from '../../src/gate/clock';
import type { DecideOptions, GateService } from '../../src/gate/service';
import type { CallOutcome } from '../../src/gate/store';
import type { CallAttempt, Decision } from '../../src/core/types';
import { fakeFailModeDecision } from '../gate/fake-fail-mode';
import { failModeDecision as coreFailMode } from '../../src/core';
import { DEFAULT_POLICY } from '../../src/core/types';

function failModeContext(attempt: CallAttempt) {
  return {
    decisionId: 'fm-open',
    campaign: {
      id: attempt.campaignId ?? 'default',
      professional: 'p',
      purpose: 'prospecting' as const,
      audience: 'consumer' as const,
      dialing: 'manual' as const,
      sector: 'other' as const,
      categories: [],
    },
    campaignKnown: false,
    policy: DEFAULT_POLICY,
  };
}

export class ScriptedGate implements GateService {
  readonly clock = fixedClock(new Date('2026-12-01T10:00:00+01:00'));
  readonly attempts: CallAttempt[] = [];
  readonly outcomes: Array<{ id: string; outcome: CallOutcome }> = [];
  /** Numbers to block, with their reason code. */
  block = new Map<string, string>();
  /** Delay before answering, ms (a hung gate when Infinity). */
  delayMs = 0;
  private n = 0;

  async decide(attempt: CallAttempt, _opts?: DecideOptions): Promise<Decision> {
    this.attempts.push(attempt);
    if (this.delayMs === Infinity) await new Promise(() => undefined);
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    const code = this.block.get(attempt.to);
    return {
      id: `d${++this.n}`,
      verdict: code ? 'block' : 'allow',
      reasons: code ? [{ code: code as never, rule: 'FREQ-1', message: 'm', legalRef: 'r' }] : [],
      tags: code ? [] : ['basis:consent', 'recording_required'],
      regime: 'consent',
      basis: code ? 'none' : 'consent',
      at: attempt.at,
      callerId: { number: attempt.callerId.number, presentation: attempt.callerId.presentation },
      campaign: { id: attempt.campaignId ?? 'default', professional: 'p', dialing: 'manual', purpose: 'prospecting' },
      rules: [],
      monitorOnly: false,
      source: attempt.source,
    };
  }
  async recordOutcome(id: string, outcome: CallOutcome): Promise<void> {
    this.outcomes.push({ id, outcome });
  }
  /** policy.failMode of this gate (what its failModeDecision applies, as the real Gate does). */
  failMode: 'closed' | 'open' = 'closed';
  readonly failModeCalls: Array<{ attempt: CallAttempt; why: string }> = [];
  failModeDecision(attempt: CallAttempt, why: string): Decision {
    this.failModeCalls.push({ attempt, why });
    if (this.failMode === 'closed') return fakeFailModeDecision(attempt, why);
    return coreFailMode(attempt, { ...failModeContext(attempt), policy: { ...DEFAULT_POLICY, failMode: 'open' } }, why);
  }
}
