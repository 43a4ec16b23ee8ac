/**
 * Inbound Event Socket client (port 8021) that follows the outcome of gated calls and records it on
 * their attempt (FR-RULES §9 audit "later the call outcome"; FREQ-2 needs to know what happened).
 *
 * It listens to CHANNEL_ANSWER and CHANNEL_HANGUP_COMPLETE (json only: esl does not decode plain
 * events) and keeps those carrying `variable_callgate_decision_id` of an allowed call.
 *
 * esl quirks handled (read in esl 11.2.1's source):
 * - a wrong password makes esl emit `error`, then `connect` with a dead call, then reconnect every
 *   200 ms forever: here it is reported ONCE (CG_ERR_FS_INBOUND_AUTH) and the client is stopped;
 * - esl's own backoff never resets and grows only on ECONNREFUSED: each attempt uses a fresh client,
 *   ended at its first `reconnecting`, and the next attempt is scheduled here with a capped
 *   exponential backoff that resets after a good connection; a `closing` flag stops retries;
 * - the call object drops all its listeners when its socket closes: subscription and listeners are
 *   set up again on every `connect`;
 * - every command has an explicit timeout.
 */
import { FreeSwitchClient, type FreeSwitchResponse, type StringMap } from 'esl';
import type { Logger } from 'pino';
import type { GateService } from '../../gate/service';
import type { CallOutcome } from '../../gate/store';
import type { FreeswitchConfig } from './config';
import { describeEslError, silentEslLogger } from './esl';
import { FreeswitchAdapterError, fsMeaning } from './errors';

export type InboundState = 'idle' | 'connecting' | 'connected' | 'auth-failed' | 'stopped';

type InboundConfig = NonNullable<FreeswitchConfig['inbound']>;

export type OutcomeFollowerDeps = {
  gate: GateService;
  inbound: InboundConfig;
  commandTimeoutMs: number;
  logger: Logger;
};

/** Parses a FreeSWITCH µs timestamp header; undefined for absent or 0. */
function micros(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d+$/.test(v) || v === '0') return undefined;
  return Number(v) / 1000;
}

/** CHANNEL_HANGUP_COMPLETE body → CallOutcome. `answeredSeen`: a CHANNEL_ANSWER was seen for it. */
export function outcomeFromHangup(body: StringMap, answeredSeen: boolean, endedAt: Date): CallOutcome {
  const answeredAt = micros(body['Caller-Channel-Answered-Time']);
  const hungUpAt = micros(body['Caller-Channel-Hangup-Time']);
  const answered = answeredSeen || answeredAt !== undefined;
  let durationMs = 0;
  if (answered) {
    const billmsec = body['variable_billmsec'];
    if (billmsec !== undefined && /^\d+$/.test(billmsec)) durationMs = Number(billmsec);
    else if (answeredAt !== undefined && hungUpAt !== undefined)
      durationMs = Math.max(0, Math.round(hungUpAt - answeredAt));
  }
  const outcome: CallOutcome = { answered, durationMs, endedAt };
  const cause = body['variable_hangup_cause'] ?? body['Hangup-Cause'];
  if (cause !== undefined && cause !== '') outcome.hangupCause = cause;
  const dial = body['variable_DIALSTATUS'] ?? body['variable_originate_disposition'];
  if (dial !== undefined && dial !== '') outcome.dialStatus = dial;
  return outcome;
}

export class OutcomeFollower {
  private client: FreeSwitchClient | undefined;
  private closing = false;
  private retries = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly answered = new Map<string, number>();
  private readonly recorded = new Set<string>();
  private readonly waiters: Array<() => void> = [];
  private readonly log: Logger;
  private _state: InboundState = 'idle';
  readonly stats = { connects: 0, answers: 0, outcomes: 0, authFailures: 0 };

  constructor(private readonly deps: OutcomeFollowerDeps) {
    this.log = deps.logger.child({ component: 'freeswitch-inbound' });
  }

  get state(): InboundState {
    return this._state;
  }

  start(): void {
    this.closing = false;
    this.connect();
  }

  async stop(): Promise<void> {
    this.closing = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.client?.end();
    this.client = undefined;
    this.setState('stopped');
  }

  /** Resolves once connected and subscribed (or rejects if the password was refused / timeout). */
  async ready(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this._state !== 'connected') {
      if (this._state === 'auth-failed')
        throw new FreeswitchAdapterError('CG_ERR_FS_INBOUND_AUTH', fsMeaning('CG_ERR_FS_INBOUND_AUTH'));
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`inbound Event Socket not connected within ${timeoutMs} ms (state ${this._state})`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  private setState(s: InboundState): void {
    this._state = s;
    for (const w of this.waiters.splice(0)) w();
  }

  private connect(): void {
    if (this.closing) return;
    const { host, port, password } = this.deps.inbound;
    const client = new FreeSwitchClient({ host, port, password, logger: silentEslLogger });
    this.client = client;
    this.setState('connecting');
    let refused = false;
    let done = false;
    client.on('error', (e) => {
      const err = e as { args?: { command?: unknown; reply?: unknown } };
      const command = typeof err.args?.command === 'string' ? err.args.command : '';
      const reply = typeof err.args?.reply === 'string' ? err.args.reply : '';
      if (command.startsWith('auth ') && reply.startsWith('-ERR')) {
        refused = true;
        this.stats.authFailures++;
        // Once, and without the password: no retries until the configuration is fixed.
        this.log.error(
          { code: 'CG_ERR_FS_INBOUND_AUTH', host, port },
          `CG_ERR_FS_INBOUND_AUTH: FreeSWITCH at ${host}:${port} refused the Event Socket password (${reply}); set freeswitch.inbound.password to the password of event_socket.conf.xml and restart. Call outcomes are not recorded until then; calls are still gated.`,
        );
        this.setState('auth-failed');
        done = true;
        client.end();
        return;
      }
      if (command.startsWith('event ')) {
        this.log.error(
          { code: 'CG_ERR_FS_INBOUND_SUBSCRIBE', reply },
          `CG_ERR_FS_INBOUND_SUBSCRIBE: ${fsMeaning('CG_ERR_FS_INBOUND_SUBSCRIBE')} (${reply}); check the ACL of event_socket.conf.xml`,
        );
        return;
      }
      this.log.debug({ err: describeEslError(e) }, 'inbound Event Socket error');
    });
    client.on('connect', (call) => {
      if (refused || this.closing || client !== this.client) return;
      void this.subscribe(call);
    });
    client.on('reconnecting', () => {
      if (done) return;
      done = true;
      client.end();
      if (this.closing || refused) return;
      const { reconnectMinMs, reconnectMaxMs } = this.deps.inbound;
      const delay = Math.min(reconnectMaxMs, reconnectMinMs * 2 ** Math.min(this.retries, 20));
      this.retries++;
      if (this._state === 'connected')
        this.log.warn({ host, port, retryMs: delay }, 'inbound Event Socket lost, reconnecting');
      else if (this.retries === 1)
        // Say it once at warn level: outcomes are not recorded until FreeSWITCH answers; later retries are debug.
        this.log.warn(
          { host, port, retryMs: delay },
          'inbound Event Socket unreachable: call outcomes are not recorded until FreeSWITCH answers there; retrying with backoff',
        );
      else this.log.debug({ host, port, retryMs: delay }, 'inbound Event Socket unavailable, retrying');
      this.setState('connecting');
      this.retryTimer = setTimeout(() => this.connect(), delay);
    });
    client.connect();
  }

  private async subscribe(call: FreeSwitchResponse): Promise<void> {
    const t = this.deps.commandTimeoutMs;
    call.on('CHANNEL_ANSWER', ({ body }) => this.onAnswer(body));
    call.on('CHANNEL_HANGUP_COMPLETE', ({ body }) => this.onHangupComplete(body));
    try {
      await call.send('event json CHANNEL_ANSWER CHANNEL_HANGUP_COMPLETE', {}, t);
    } catch (e) {
      this.log.error(
        { code: 'CG_ERR_FS_INBOUND_SUBSCRIBE', err: describeEslError(e) },
        `CG_ERR_FS_INBOUND_SUBSCRIBE: ${fsMeaning('CG_ERR_FS_INBOUND_SUBSCRIBE')}; check the ACL of event_socket.conf.xml`,
      );
      call.end();
      return;
    }
    this.retries = 0;
    this.stats.connects++;
    this.log.info(
      { host: this.deps.inbound.host, port: this.deps.inbound.port },
      'following call outcomes on the inbound Event Socket',
    );
    this.setState('connected');
  }

  private onAnswer(body: StringMap): void {
    const id = body['variable_callgate_decision_id'];
    const uuid = body['Unique-ID'];
    if (id === undefined || uuid === undefined) return;
    this.stats.answers++;
    this.answered.set(uuid, Date.now());
    if (this.answered.size > 100_000) this.answered.delete(this.answered.keys().next().value as string);
  }

  private onHangupComplete(body: StringMap): void {
    const id = body['variable_callgate_decision_id'];
    const uuid = body['Unique-ID'] ?? '';
    if (id === undefined || id === '') return;
    const answeredSeen = this.answered.delete(uuid);
    if (body['variable_callgate_verdict'] !== 'allow' || this.recorded.has(id)) return;
    this.recorded.add(id);
    if (this.recorded.size > 100_000) this.recorded.delete(this.recorded.values().next().value as string);
    const outcome = outcomeFromHangup(body, answeredSeen, this.deps.gate.clock.now());
    this.stats.outcomes++;
    void this.deps.gate.recordOutcome(id, outcome);
  }
}
