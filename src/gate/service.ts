/**
 * What the PBX adapters, the API and the CLI see of the gate.
 * Implemented in gate/gate.ts.
 */
import type { CallAttempt, Decision } from '../core/types';
import type { ErrorCode } from '../errors';
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

/**
 * What the gate tells its observers (the admin API's metrics and live view) after each decision it
 * gives, PBX and API alike, fail-mode decisions included: once per decision, synchronously, on the
 * gate's hot path, so an observer must be quick and must not throw (a throw is swallowed).
 */
export type DecisionEvent = {
  decision: Decision;
  /** From decide() being called to the decision, in nanoseconds (the fail mode's included). */
  durationNs: number;
  /** The attempt was recorded (an allowed call with record asked): it counts towards FREQ-1. */
  recorded: boolean;
  /** Set when the fail mode decided (GATE-1): why, as a catalogue code. */
  failCode?: ErrorCode;
};

/** A PBX connection's state, for the admin API (GET /readyz, callgate_pbx_connected). */
export type PbxStatus = {
  /**
   * The gate can take calls from this PBX: Asterisk, the ARI event socket is open (the Stasis app is
   * registered); FreeSWITCH, the socket-app listener is up and, when freeswitch.inbound is set, the
   * inbound Event Socket is connected.
   */
  connected: boolean;
  /** How many times the connection came back after it was lost, since start. */
  reconnects: number;
};

/**
 * A call the admin API asks the PBX to place (POST /v1/originate), always into the PBX's gated path
 * (Asterisk: Local/NUMBER@asterisk.originateContext; FreeSWITCH: loopback/NUMBER/freeswitch.originateContext),
 * so the PBX's own gate decides it again, authoritatively, and records its attempt. The API asks only
 * for calls its own check allowed: a blocked originate never reaches the PBX.
 */
export type OriginateRequest = {
  /** The number to call, E.164 (the callee of the allowing decision). */
  to: string;
  /** The caller ID to present. */
  callerId: string;
  /** Channel variables of the gated path (CALLGATE_CAMPAIGN / callgate_campaign, …). */
  campaign?: string;
  postalCode?: string;
  /** Where the originated channel goes once the callee answers (an agent, a queue): dialplan context and extension. */
  connect: { context: string; extension: string };
  /** Seconds the callee may ring. */
  timeoutSec: number;
};

/** What the PBX accepted. */
export type OriginateResult = {
  /** Id of the originated channel (ARI channel id, FreeSWITCH Unique-ID). */
  channelId: string;
  /** Id of the channel that runs the gated path, when the PBX lets the gate choose it (ARI: the Local ;2 half). */
  gatedChannelId?: string;
};

/** A PBX connection run by `callgate start`. */
export interface PbxAdapter {
  readonly name: 'asterisk' | 'freeswitch';
  /** Connect/listen. Resolves once ready to take calls (or keeps retrying in the background and resolves). */
  start(): Promise<void>;
  /** Stop taking new calls, let in-flight decisions finish, close connections. Never retries afterwards. */
  stop(): Promise<void>;
  /** Connection state, read by the admin API (cheap, synchronous). */
  status?(): PbxStatus;
  /**
   * Places a call into the PBX's gated path (see OriginateRequest). Rejects with a CallgateError
   * CG_ERR_PBX_ORIGINATE when the PBX is not connected or refuses it; resolves once the PBX accepted
   * the request (the callee is not rung yet).
   */
  originate?(req: OriginateRequest): Promise<OriginateResult>;
}
