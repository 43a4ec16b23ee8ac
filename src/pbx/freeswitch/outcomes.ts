/**
 * Inbound Event Socket client (port 8021) that follows the outcome of the calls the gate allowed and
 * records it on their attempt (FR-RULES §9 audit "later the call outcome"; FREQ-2 needs to know what
 * happened).
 *
 * What it asks FreeSWITCH for (issue 12.1): on a connection of its own, `noevents` first, then
 * `filter variable_callgate_verdict allow` and `event plain CHANNEL_HANGUP_COMPLETE` — one event per
 * allowed call, nothing else. Not esl's FreeSwitchClient: it subscribes every connection to
 * `CHANNEL_EXECUTE_COMPLETE BACKGROUND_JOB` by itself, so every `bgapi` result of anyone on the PBX (a
 * dialer's originates) arrived and was kept forever in the connection's `__later` map (~2.7 KB a call),
 * and a CHANNEL_EXECUTE_COMPLETE of every application of every call came too (~69 KB of JSON a call).
 * Plain, not JSON: esl splits a plain event into its headers without decoding them (and without
 * scanning the whole text for control characters, then JSON-parsing it); the few values read here are
 * URL-decoded here. CHANNEL_HANGUP_COMPLETE carries everything an outcome needs (answer and hangup
 * times, billmsec, the cause): no CHANNEL_ANSWER is followed.
 *
 * What it keeps (issue 12.1): the calls the gate allowed and whose end it has not seen yet (uuid →
 * decision id), each dropped once its outcome is written. Nothing else per call.
 *
 * Coming back (issue 12.3): its own reconnect loop — esl's never resets its backoff, grows it only on
 * ECONNREFUSED (to ~5.3 s) and retries every 200 ms forever on a wrong password — with a capped
 * exponential backoff with jitter (reconnectMinMs doubling up to reconnectMaxMs, at most 1 s; each delay
 * drawn in [½, 1] of its step), so it is back within a second of FreeSWITCH. After every (re)connect it
 * reconciles the calls it still tracks: `api uuid_exists` for each; a call still up keeps being followed
 * (its hangup comes on the new connection), a call that ended meanwhile gets no outcome (its end was not
 * seen; nothing is guessed) and one warning (CG_ERR_OUTCOME_UNKNOWN) says how many. So does stop() for
 * the calls still up.
 *
 * A wrong password is reported ONCE (CG_ERR_FS_INBOUND_AUTH) and retries stop until a restart.
 */
import net from 'node:net';
import { unescape } from 'node:querystring';
import { FreeSwitchResponse, type StringMap } from 'esl';
import type { Logger } from 'pino';
import type { GateService } from '../../gate/service';
import type { CallOutcome } from '../../gate/store';
import type { FreeswitchConfig } from './config';
import { api, describeEslError, replyOf, sendBatch, silentEslLogger, type Command } from './esl';
import { FreeswitchAdapterError, fsMeaning } from './errors';

export type InboundState = 'idle' | 'connecting' | 'connected' | 'auth-failed' | 'stopped';

type InboundConfig = NonNullable<FreeswitchConfig['inbound']>;

export type OutcomeFollowerDeps = {
  gate: GateService;
  inbound: InboundConfig;
  commandTimeoutMs: number;
  logger: Logger;
  /** Told of every reconnect delay drawn (tests and the bench count them). */
  onRetry?: (delayMs: number, attempt: number) => void;
  /** Told when an outcome is written, or given up as unknown (tests and the bench). */
  onOutcome?: (decisionId: string, outcome: CallOutcome | 'unknown') => void;
  /** The jitter's random source (tests pin it). */
  random?: () => number;
};

/** What the follower asks FreeSWITCH for on each connection, in this order (one pipelined write). */
export const SUBSCRIPTION: Command[] = [
  // nothing before this one: whatever the connection receives by default, it receives nothing now
  { command: 'noevents', args: {}, mayFail: /^-ERR not listening/ },
  // only events of calls this gate allowed (the variable it sets on them before releasing them)
  { command: 'filter variable_callgate_verdict allow', args: {} },
  { command: 'event plain CHANNEL_HANGUP_COMPLETE', args: {} },
];

/** The headers an outcome is read from (plain events: URL-encoded, `_undef_` for empty). */
const READ = [
  'Unique-ID',
  'Hangup-Cause',
  'Caller-Channel-Answered-Time',
  'Caller-Channel-Hangup-Time',
  'variable_callgate_decision_id',
  'variable_callgate_verdict',
  'variable_billmsec',
  'variable_hangup_cause',
  'variable_DIALSTATUS',
  'variable_originate_disposition',
];

/** The headers of a plain event this follower reads, decoded (absent or `_undef_` → absent). */
export function decodePlain(body: StringMap): StringMap {
  const out: StringMap = {};
  for (const k of READ) {
    const v = body[k];
    if (v === undefined || v === '_undef_') continue;
    out[k] = v.includes('%') ? unescape(v) : v;
  }
  return out;
}

/** Parses a FreeSWITCH µs timestamp header; undefined for absent or 0. */
function micros(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d+$/.test(v) || v === '0') return undefined;
  return Number(v) / 1000;
}

/** CHANNEL_HANGUP_COMPLETE headers → CallOutcome. `answeredSeen`: the call is known to have been answered. */
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

/** How long a call FreeSWITCH says is gone may still have its hangup event on the way (events are queued). */
const LATE_EVENT_GRACE_MS = 500;

export class OutcomeFollower {
  private conn: FreeSwitchResponse | undefined;
  private socket: net.Socket | undefined;
  private closing = false;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private downSince: number | undefined;
  /** CG_ERR_FS_INBOUND_SUBSCRIBE was logged since the last good connection (said once per outage). */
  private subscribeReported = false;
  /** Allowed calls whose end has not been seen: uuid → decision id. The only per-call state. */
  private readonly tracked = new Map<string, string>();
  private readonly waiters: Array<() => void> = [];
  private readonly log: Logger;
  private readonly random: () => number;
  private _state: InboundState = 'idle';
  /** The last reconnect delays drawn, ms (at most 100; tests and the bench check them against the cap). */
  readonly retryDelays: number[] = [];
  readonly stats = {
    connects: 0,
    /** Connection attempts made (the first and every retry). */
    attempts: 0,
    outcomes: 0,
    unknown: 0,
    authFailures: 0,
    /** Events received on the connection (what FreeSWITCH sent, whatever its type). */
    events: 0,
  };

  constructor(private readonly deps: OutcomeFollowerDeps) {
    this.log = deps.logger.child({ component: 'freeswitch-inbound' });
    this.random = deps.random ?? Math.random;
  }

  get state(): InboundState {
    return this._state;
  }

  /** Calls allowed and not yet ended (tests and the bench: nothing else is kept per call). */
  get trackedCount(): number {
    return this.tracked.size;
  }

  /** BACKGROUND_JOB results esl keeps on this connection for nobody (issue 12.1's leak; 0 here). */
  get eslRetained(): number {
    return (this.conn as unknown as { __later?: Map<string, unknown> } | undefined)?.__later?.size ?? 0;
  }

  start(): void {
    this.closing = false;
    this.connect();
  }

  async stop(): Promise<void> {
    this.closing = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.conn?.end();
    this.socket?.destroy();
    this.conn = undefined;
    this.socket = undefined;
    this.giveUp([...this.tracked.keys()], 'the calls were still up when callgate stopped');
    this.setState('stopped');
  }

  /** The gate is about to release this allowed call: follow it until its hangup (called BEFORE the release). */
  track(uuid: string, decisionId: string): void {
    this.tracked.set(uuid, decisionId);
  }

  /** The release failed: the call is not placed by this gate. */
  untrack(uuid: string): void {
    this.tracked.delete(uuid);
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

  /** One connection attempt; any failure before it is subscribed schedules the next one. */
  private connect(): void {
    if (this.closing) return;
    const { host, port, password } = this.deps.inbound;
    const t = this.deps.commandTimeoutMs;
    this.stats.attempts++;
    this.setState('connecting');
    const socket = new net.Socket();
    const conn = new FreeSwitchResponse(socket, silentEslLogger);
    this.socket = socket;
    this.conn = conn;
    let lost = false;
    const onLost = (why: string): void => {
      if (lost || this.socket !== socket) return;
      lost = true;
      conn.end();
      socket.destroy();
      this.conn = undefined;
      this.socket = undefined;
      if (this.closing || this._state === 'auth-failed') return;
      if (this._state === 'connected') {
        this.downSince = Date.now();
        this.log.warn(
          { code: 'CG_ERR_PBX_CONNECT', host, port, err: why },
          'inbound Event Socket lost: call outcomes are not followed until it is back; reconnecting',
        );
      }
      this.scheduleRetry(why);
    };
    socket.once('error', (e) => onLost(e.message));
    socket.once('close', () => onLost('connection closed'));
    socket.setTimeout(t, () => {
      if (this._state !== 'connected') onLost(`no answer within ${t} ms`);
    });
    conn.on('CHANNEL_HANGUP_COMPLETE', ({ body }: { body: StringMap }) => this.onHangupComplete(body));

    void (async () => {
      const authRequest = conn.onceAsync('freeswitch_auth_request', t, 'inbound: authentication request');
      socket.connect({ host, port });
      await authRequest;
      try {
        await conn.auth(password);
      } catch (e) {
        const reply = replyOf(e);
        if (reply !== undefined && reply.startsWith('-ERR')) return this.refused(reply);
        throw e;
      }
      await sendBatch(conn, SUBSCRIPTION, t);
      socket.setTimeout(0);
      if (this.socket !== socket || this.closing) return;
      const outageMs = this.downSince !== undefined ? Date.now() - this.downSince : undefined;
      this.downSince = undefined;
      const attempts = this.attempt;
      this.attempt = 0;
      this.stats.connects++;
      this.subscribeReported = false;
      this.log.info(
        { host, port, ...(outageMs !== undefined ? { outageMs, attempts } : {}) },
        outageMs !== undefined
          ? `inbound Event Socket back after ${outageMs} ms: following call outcomes again`
          : 'following call outcomes on the inbound Event Socket',
      );
      this.setState('connected');
      await this.reconcile(conn);
    })().catch((e: unknown) => {
      const reply = replyOf(e);
      if (reply !== undefined && this.socket === socket && !this.subscribeReported) {
        this.subscribeReported = true;
        // FreeSWITCH refused a subscription command (an ACL without events): say so, retry later.
        this.log.error(
          { code: 'CG_ERR_FS_INBOUND_SUBSCRIBE', reply },
          `CG_ERR_FS_INBOUND_SUBSCRIBE: ${fsMeaning('CG_ERR_FS_INBOUND_SUBSCRIBE')} (${reply}); check the ACL of event_socket.conf.xml`,
        );
      }
      onLost(describeEslError(e));
    });
  }

  private refused(reply: string): void {
    const { host, port } = this.deps.inbound;
    this.stats.authFailures++;
    // Once, and without the password: no retries until the configuration is fixed.
    this.log.error(
      { code: 'CG_ERR_FS_INBOUND_AUTH', host, port },
      `CG_ERR_FS_INBOUND_AUTH: FreeSWITCH at ${host}:${port} refused the Event Socket password (${reply}); set freeswitch.inbound.password to the password of event_socket.conf.xml and restart. Call outcomes are not recorded until then; calls are still gated.`,
    );
    this.setState('auth-failed');
    this.conn?.end();
    this.socket?.destroy();
  }

  /**
   * Capped exponential backoff with jitter, as the Asterisk adapter's: reconnectMinMs doubling up to
   * reconnectMaxMs (at most 1000), each delay drawn in [½, 1] of its step; forever, until stop(). The
   * first failure of an outage is a warning, the retries are debug lines.
   */
  private scheduleRetry(why: string): void {
    if (this.closing || this.retryTimer) return;
    const { reconnectMinMs, reconnectMaxMs, host, port } = this.deps.inbound;
    const step = Math.min(reconnectMaxMs, reconnectMinMs * 2 ** Math.min(this.attempt, 20));
    const delay = Math.max(1, Math.round(step * (0.5 + 0.5 * this.random())));
    this.attempt++;
    this.downSince ??= Date.now();
    const fields = { code: 'CG_ERR_PBX_CONNECT', host, port, err: why, retryInMs: delay, attempt: this.attempt };
    if (this.attempt === 1)
      this.log.warn(
        fields,
        'inbound Event Socket not connected: call outcomes are not followed until FreeSWITCH answers there (calls are still gated); retrying every second at most',
      );
    else this.log.debug(fields, 'inbound Event Socket still not connected, retrying');
    this.retryDelays.push(delay);
    if (this.retryDelays.length > 100) this.retryDelays.shift();
    this.deps.onRetry?.(delay, this.attempt);
    this.setState('connecting');
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.connect();
    }, delay);
  }

  /**
   * After a (re)connect: asks FreeSWITCH whether each call still tracked exists. One that does keeps
   * being followed; one that does not ended while nobody listened (its hangup event, if it is still on
   * its way, is given a moment), and its outcome is unknown.
   */
  private async reconcile(conn: FreeSwitchResponse): Promise<void> {
    if (this.tracked.size === 0) return;
    const gone: string[] = [];
    try {
      for (const uuid of [...this.tracked.keys()]) {
        if (!this.tracked.has(uuid)) continue;
        const answer = await api(conn, `uuid_exists ${uuid}`, this.deps.commandTimeoutMs);
        if (answer.trim() === 'false') gone.push(uuid);
      }
    } catch (e) {
      // The connection went again: the next connect reconciles.
      this.log.debug({ err: describeEslError(e) }, 'reconciling tracked calls interrupted');
      return;
    }
    if (gone.length === 0) return;
    await new Promise((r) => setTimeout(r, LATE_EVENT_GRACE_MS));
    this.giveUp(
      gone.filter((u) => this.tracked.has(u)),
      'they ended while the inbound Event Socket was down, so their end was not seen',
    );
  }

  /** Allowed calls whose end this gate cannot see: no outcome is written; one warning says how many. */
  private giveUp(uuids: string[], why: string): void {
    if (uuids.length === 0) return;
    const ids: string[] = [];
    for (const uuid of uuids) {
      const id = this.tracked.get(uuid);
      if (id === undefined) continue;
      this.tracked.delete(uuid);
      ids.push(id);
      this.deps.onOutcome?.(id, 'unknown');
    }
    if (ids.length === 0) return;
    this.stats.unknown += ids.length;
    this.log.warn(
      { code: 'CG_ERR_OUTCOME_UNKNOWN', count: ids.length, decisionIds: ids.slice(0, 20) },
      `CG_ERR_OUTCOME_UNKNOWN: outcome unknown for ${ids.length} allowed call${ids.length === 1 ? '' : 's'}: ${why}. Their attempts stay counted (FREQ-2); no outcome is recorded for them`,
    );
  }

  private onHangupComplete(raw: StringMap): void {
    this.stats.events++;
    const body = decodePlain(raw);
    const id = body['variable_callgate_decision_id'];
    if (id === undefined || body['variable_callgate_verdict'] !== 'allow') return;
    const uuid = body['Unique-ID'];
    if (uuid !== undefined) this.tracked.delete(uuid);
    const outcome = outcomeFromHangup(body, false, this.deps.gate.clock.now());
    this.stats.outcomes++;
    this.deps.onOutcome?.(id, outcome);
    void this.deps.gate.recordOutcome(id, outcome);
  }
}
