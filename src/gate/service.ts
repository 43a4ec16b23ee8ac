/**
 * What the PBX adapters, the API and the CLI see of the gate.
 * Implemented in gate/gate.ts.
 */
import type { CallAttempt, Decision } from '../core/types';
import type { Clock } from './clock';
import type { CallOutcome } from './store';

export type DecideOptions = {
  /** Record the attempt when allowed (the PBX path always does; `callgate check` only with --record). */
  record?: boolean;
  /** Overrides the configured deadline (ms). */
  deadlineMs?: number;
};

export interface GateService {
  /**
   * Decide one attempt. Never rejects: a store failure or a passed deadline
   * yields the fail-mode decision (reason gate_unavailable when closed).
   */
  decide(attempt: CallAttempt, opts?: DecideOptions): Promise<Decision>;
  /**
   * A fail-mode decision (GATE-1) for an adapter whose own backstop fired because decide() gave no
   * answer at all: built by core's one builder (failModeDecision), logged, and audited in the
   * background like any other decision. Never throws. `record` (default true): with failMode open
   * the call is placed, so its attempt is recorded.
   */
  failModeDecision(attempt: CallAttempt, why: string, opts?: { record?: boolean }): Decision;
  /** Record the outcome of a placed call on its attempt. Never rejects (logs). */
  recordOutcome(decisionId: string, outcome: CallOutcome): Promise<void>;
  readonly clock: Clock;
}

/** A PBX connection run by `callgate start`. */
export interface PbxAdapter {
  readonly name: 'asterisk' | 'freeswitch';
  /** Connect/listen. Resolves once ready to take calls (or keeps retrying in the background and resolves). */
  start(): Promise<void>;
  /** Stop taking new calls, let in-flight decisions finish, close connections. Never retries afterwards. */
  stop(): Promise<void>;
}
