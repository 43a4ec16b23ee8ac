/**
 * Outbound-socket server: FreeSWITCH's `socket` dialplan app connects here for every gated call
 * (mod_event_socket's outbound mode, transcripts in src/sim/fixtures/esl/). Per connection: channel data → CallAttempt → gate.decide (deadline)
 * → channel variables → `transfer` to the allow context + `exit`, or hangup with the configured cause.
 *
 * Whatever goes wrong (unreadable channel data, a command failing or timing out, the gate not answering
 * before the backstop) ends with the socket dropped WITHOUT releasing the call: the dialplan's next
 * action then decides, and the shipped one hangs up (GATE-1, fail closed).
 */
import net, { type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { FreeSwitchResponse, type StringMap } from 'esl';
import type { Logger } from 'pino';
import type { Decision } from '../../core/types';
import { limitRepeats, type RepeatLimiter } from '../../gate/logger';
import type { GateService } from '../../gate/service';
import { planFor, type Plan } from './actions';
import { attemptFromChannelData } from './channel';
import { BACKSTOP_GRACE_MS, type FreeswitchConfig } from './config';
import {
  describeEslError,
  executeCommand,
  hangupCommand,
  sendBatch,
  silentEslLogger,
  type Command,
  type EslCall,
} from './esl';
import { FreeswitchAdapterError } from './errors';

export type CallTiming = {
  uuid: string;
  verdict: Decision['verdict'] | 'dropped';
  /** ms from the `connect` reply (channel data in hand) to the decision. */
  decideMs: number;
  /** ms from the `connect` reply to the release command (transfer or hangup) being written. */
  releaseMs: number;
};

/** What the server tells the outcome follower of the calls it allows. */
export type AllowedCalls = { track(uuid: string, decisionId: string): void; untrack(uuid: string): void };

export type OutboundServerDeps = {
  gate: GateService;
  config: FreeswitchConfig;
  /** gate.deadlineMs: the gate's one deadline; the adapter drops the call BACKSTOP_GRACE_MS after it. */
  deadlineMs: number;
  /** The outcome follower, when freeswitch.inbound is set: told of each allowed call before its release. */
  allowed?: AllowedCalls;
  logger: Logger;
  /** Called once per handled call, for metrics and the bench. */
  onCall?: (t: CallTiming) => void;
};

/**
 * Why not esl's FreeSwitchServer: on every connection it sends `connect`, `filter Unique-ID`,
 * `filter Job-Owner-UUID` and `event json CHANNEL_EXECUTE_COMPLETE BACKGROUND_JOB`, one round trip
 * each, before the application sees the call, and FreeSWITCH then sends a ~2.5 KB JSON event for every
 * command the gate runs. The gate needs none of it: in synchronous mode a `sendmsg` is answered once its
 * app has run, and in async mode the queued apps run before the socket app returns. So the server here
 * is a plain net.Server whose connections are esl's own FreeSwitchResponse (its parser and command
 * layer, unmodified), with a single `connect` round trip and no event subscription.
 */
export class OutboundServer {
  private readonly server: net.Server;
  private readonly log: Logger;
  private readonly inFlight = new Set<Promise<void>>();
  /** The open connections (removed on the socket's close, whoever ends it). */
  private readonly calls = new Map<Socket, EslCall>();
  private closing = false;
  /**
   * Told when stop() is called: a call still waiting for the gate is then dropped (its backstop timer
   * cleared). One entry per waiting call, removed when it stops waiting: racing every call against one
   * long-lived "stopped" promise left a reaction on it per call, which kept every decision in memory
   * (~3.4 KB a call) until stop().
   */
  private readonly stopWaiters = new Set<() => void>();
  private listening = false;
  private notFullReported = false;
  private readonly repeats: RepeatLimiter;
  readonly stats = { connections: 0, allowed: 0, blocked: 0, dropped: 0, setupFailures: 0 };

  constructor(private readonly deps: OutboundServerDeps) {
    this.log = deps.logger.child({ component: 'freeswitch-outbound' });
    // one line per dropped call would flood the log under overload: a few, then a count
    this.repeats = limitRepeats(this.log);
    // no noDelay/keepAlive options: esl's FreeSwitchResponse sets both on every socket it wraps
    this.server = net.createServer((socket) => this.accept(socket));
  }

  async start(): Promise<void> {
    const { host, port } = this.deps.config.listen;
    try {
      await new Promise<void>((resolve, reject) => {
        this.server.once('error', reject);
        this.server.listen({ host, port }, () => {
          this.server.removeListener('error', reject);
          resolve();
        });
      });
    } catch (e) {
      throw new FreeswitchAdapterError(
        'CG_ERR_FS_LISTEN',
        `cannot listen on ${host}:${port} (${(e as Error).message}); free the port or change freeswitch.listen.port, and the socket app's port in callgate.xml with it`,
        { cause: e },
      );
    }
    this.server.on('error', (e) => this.log.error({ err: e.message }, 'outbound-socket server error'));
    this.listening = true;
    this.log.info({ host, port, mode: this.deps.config.mode }, 'listening for the FreeSWITCH socket app');
  }

  /** Connections open now (each removed on its socket's close, whoever ended it). */
  get openConnections(): number {
    return this.calls.size;
  }

  /** The port actually bound (useful with port 0 in tests). */
  address(): { host: string; port: number } | undefined {
    const a = this.server.address();
    return a !== null && typeof a === 'object' ? { host: a.address, port: a.port } : undefined;
  }

  async stop(): Promise<void> {
    this.closing = true;
    for (const wake of this.stopWaiters) wake();
    const closed = this.listening ? new Promise<void>((r) => this.server.close(() => r())) : Promise.resolve();
    this.listening = false;
    // Let in-flight decisions finish, but never wait on a gate that does not answer.
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.inFlight]),
      new Promise((r) => (grace = setTimeout(r, this.deps.config.commandTimeoutMs))),
    ]);
    clearTimeout(grace);
    for (const [socket, call] of this.calls) {
      if (!call.closed) call.end();
      socket.destroy();
    }
    await closed;
  }

  private accept(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const call = new FreeSwitchResponse(socket, silentEslLogger);
    this.calls.set(socket, call);
    socket.once('close', () => this.calls.delete(socket));
    // The end of a connection. FreeSWITCH closes it itself once the call is released (`exit`, or the
    // hangup): a disconnect notice, then its FIN, upon which Node ends the gate's side too. Left to
    // itself, esl then ended the connection on the socket's `close`, calling socket.end() on a socket
    // Node had already finished (an ERR_STREAM_ALREADY_FINISHED error and its stack trace, per call),
    // and esl's auto_cleanup() added a 100 ms timer and, at its end, an end() (another error object)
    // on a connection long closed. So, on FreeSWITCH's FIN with nothing left to flush, esl's `closed`
    // flag is set (what its end() sets first: no command is written any more, and its clean-up on the
    // close skips the socket.end()); with bytes still to flush, esl's end() ends it (and the command
    // timeout below destroys it if the peer never reads them). Nothing lingers: a `linger` disposition
    // ends the connection at once (the gate needs no event after the release).
    socket.once('end', () => {
      if (call.closed) return;
      if (socket.writableLength === 0) call.closed = true;
      else call.end();
    });
    call.once('freeswitch_disconnect_notice', (res: { headers: StringMap }) => {
      if (res.headers['Content-Disposition'] === 'linger' && !call.closed) call.end();
    });
    // esl ends a connection it is done with (end(), a write or socket error) with socket.end(), which
    // waits for the gate's last writes to be read: a peer that stops reading kept the connection and
    // its buffers forever. Destroyed if still open a command timeout later — unless the peer has closed
    // its side and nothing is left to flush, when the close follows at once.
    const destroyLater = () => {
      if (socket.readableEnded && socket.writableLength === 0) return;
      const t = setTimeout(() => socket.destroy(), this.deps.config.commandTimeoutMs).unref();
      socket.once('close', () => clearTimeout(t));
    };
    for (const e of ['socket.end', 'socket.write', 'socket.error'] as const) call.once(e, destroyLater);
    const p = this.setUp(call).finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  /** `connect` → the channel data; anything wrong ends the connection and the dialplan goes on. */
  private async setUp(call: EslCall): Promise<void> {
    let reply;
    try {
      [reply] = await sendBatch(call, [{ command: 'connect', args: {} }], this.deps.config.commandTimeoutMs);
    } catch (e) {
      this.stats.setupFailures++;
      this.repeats.warn('fs.setup', { err: describeEslError(e) }, 'socket app connection not set up, dropping it');
      call.end();
      return;
    }
    const data = (typeof reply?.body === 'object' ? reply.body : {}) as StringMap;
    if (reply?.headers['Control'] !== 'full') {
      this.stats.setupFailures++;
      if (!this.notFullReported) {
        this.notFullReported = true;
        this.log.error(
          { code: 'CG_ERR_FS_NOT_FULL', control: reply?.headers['Control'] },
          'CG_ERR_FS_NOT_FULL: the socket app is not in full mode (Control: ' +
            String(reply?.headers['Control']) +
            '): add `full` to the socket app data (e.g. `socket 127.0.0.1:8085 full`) as in dialplan/freeswitch/callgate.xml; calls are refused until then',
        );
      }
      call.end();
      return;
    }
    await this.handle(call, data, data['Unique-ID']);
  }

  private async handle(call: EslCall, data: StringMap, uuid: string | undefined): Promise<void> {
    const t0 = performance.now();
    this.stats.connections++;
    const { gate, config } = this.deps;
    const drop = (why: string, extra: Record<string, unknown> = {}): void => {
      this.stats.dropped++;
      this.repeats.warn(
        'fs.drop',
        { channel: uuid, ...extra },
        `dropping the socket without releasing the call (${why}); the dialplan's next action decides`,
      );
      call.end();
      this.deps.onCall?.({
        uuid: uuid ?? '',
        verdict: 'dropped',
        decideMs: performance.now() - t0,
        releaseMs: performance.now() - t0,
      });
    };
    if (this.closing) return drop('the gate is stopping');
    if (uuid === undefined) return drop('channel data without Unique-ID');

    let attempt;
    try {
      attempt = attemptFromChannelData(data, gate.clock.now());
    } catch (e) {
      return drop('unusable channel data', { code: 'CG_ERR_FS_CHANNEL_DATA', err: (e as Error).message });
    }

    // The gate promises a decision within its deadline; the backstop covers a gate that breaks that promise.
    // It comes BACKSTOP_GRACE_MS after the deadline, and the dialplan's sched_hangup at least a second
    // after that (freeswitch.dialplanBackstopS, checked against gate.deadlineMs): never two at once.
    const backstopMs = this.deps.deadlineMs + BACKSTOP_GRACE_MS;
    let backstop: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (backstop = setTimeout(() => resolve('late'), backstopMs)));
    const decided = gate.decide(attempt, { record: true }).then(
      (d) => ({ d }),
      (e: unknown) => ({ e }),
    );
    let wake: (() => void) | undefined;
    const stopped = new Promise<'stopped'>((resolve) => {
      wake = () => resolve('stopped');
      if (this.closing) wake();
      else this.stopWaiters.add(wake);
    });
    const first = await Promise.race([decided, late, stopped]);
    clearTimeout(backstop);
    if (wake) this.stopWaiters.delete(wake);
    if (first === 'late') return drop(`no decision within ${backstopMs} ms`);
    if (first === 'stopped') return drop('the gate is stopping');
    // GateService.decide never rejects; if it does anyway, fail closed through the dialplan.
    if ('e' in first) return drop('the gate failed', { err: (first.e as Error)?.message });
    const decision = first.d;
    const decideMs = performance.now() - t0;
    const plan = planFor(decision, attempt.to, config);
    // Followed from before its release: its hangup may come before the release's reply does.
    const follow = decision.verdict === 'allow' ? this.deps.allowed : undefined;
    follow?.track(uuid, decision.id);
    try {
      const releaseMs = await this.apply(call, uuid, plan, t0);
      if (decision.verdict === 'allow') this.stats.allowed++;
      else this.stats.blocked++;
      // no child logger per call: the channel goes on the lines that are written
      if (this.log.isLevelEnabled('debug'))
        this.log.debug(
          { channel: uuid, decision: decision.id, verdict: decision.verdict, decideMs, releaseMs },
          'call released',
        );
      this.deps.onCall?.({ uuid, verdict: decision.verdict, decideMs, releaseMs });
    } catch (e) {
      follow?.untrack(uuid);
      drop('an Event Socket command failed', {
        code: 'CG_ERR_FS_COMMAND',
        err: describeEslError(e),
        decision: decision.id,
      });
    }
  }

  /**
   * Sends the plan; resolves with ms from t0 to the release command being written.
   * Two pipelined writes: the variables (+ sched_cancel), checked; then the release (+ `exit` after a
   * transfer). Nothing is released before every variable is confirmed set; if the release fails, the
   * `exit` only closes the socket and the dialplan's next action refuses the call, as a drop would.
   */
  private async apply(call: EslCall, uuid: string, plan: Plan, t0: number): Promise<number> {
    const timeoutMs = this.deps.config.commandTimeoutMs;
    const setup: Command[] = plan.variables.map((v) => executeCommand(uuid, 'set', `${v.name}=${v.value}`));
    if (plan.cancelScheduledHangup) setup.push(executeCommand(uuid, 'sched_cancel', uuid));
    await sendBatch(call, setup, timeoutMs);
    const r = plan.release;
    const release: Command[] =
      r.kind === 'transfer'
        ? [executeCommand(uuid, 'transfer', `${r.extension} XML ${r.context}`), { command: 'exit', args: {} }]
        : [hangupCommand(uuid, r.cause)];
    const p = sendBatch(call, release, timeoutMs);
    const releaseMs = performance.now() - t0;
    await p;
    return releaseMs;
  }
}
