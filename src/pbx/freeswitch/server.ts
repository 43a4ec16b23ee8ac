/**
 * Outbound-socket server: FreeSWITCH's `socket` dialplan app connects here for every gated call
 * (PROTOCOLS.md §A.6, §A.8). Per connection: channel data → CallAttempt → gate.decide (deadline)
 * → channel variables → `transfer` to the allow context + `exit`, or hangup with the configured cause.
 *
 * Whatever goes wrong (unreadable channel data, a command failing or timing out, the gate not answering
 * before the backstop) ends with the socket dropped WITHOUT releasing the call: the dialplan's next
 * action then decides, and the shipped one hangs up (GATE-1, fail closed).
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { FreeSwitchServer, type StringMap } from 'esl';
import type { Logger } from 'pino';
import type { Decision } from '../../core/types';
import type { GateService } from '../../gate/service';
import { planFor, type Plan } from './actions';
import { attemptFromChannelData } from './channel';
import type { FreeswitchConfig } from './config';
import { describeEslError, executeCommand, hangupCommand, replyOf, sendBatch, silentEslLogger, type Command, type EslCall } from './esl';
import { FreeswitchAdapterError } from './errors';

export type CallTiming = {
  uuid: string;
  verdict: Decision['verdict'] | 'dropped';
  /** ms from the `connection` event (connect + filters + event subscription done) to the decision. */
  decideMs: number;
  /** ms from the `connection` event to the release command (transfer or hangup) being written. */
  releaseMs: number;
};

export type OutboundServerDeps = {
  gate: GateService;
  config: FreeswitchConfig;
  logger: Logger;
  /** Called once per handled call, for metrics and the bench. */
  onCall?: (t: CallTiming) => void;
};

type Internals = { __server?: import('node:net').Server };
type CallInternals = { __socket?: Socket };

export class OutboundServer {
  private readonly server: FreeSwitchServer;
  private readonly log: Logger;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly calls = new Set<EslCall>();
  private readonly rawSockets = new Map<Socket, NodeJS.Timeout>();
  private closing = false;
  private listening = false;
  private notFullReported = false;
  readonly stats = { connections: 0, allowed: 0, blocked: 0, dropped: 0, setupFailures: 0 };

  constructor(private readonly deps: OutboundServerDeps) {
    this.log = deps.logger.child({ component: 'freeswitch-outbound' });
    this.server = new FreeSwitchServer({ all_events: false, my_events: true, logger: silentEslLogger });
    this.server.on('connection', (call, info) => {
      const p = this.handle(call, info.data, info.uuid).finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
    });
    this.server.on('error', (e) => this.onSetupError(e));
    // esl keeps no handle on a socket whose setup failed (e.g. `socket` without `full`) and never closes
    // it: watch the raw sockets so a stuck setup is dropped and the dialplan can go on.
    const net = (this.server as unknown as Internals).__server;
    net?.on('connection', (socket: Socket) => {
      const timer = setTimeout(() => {
        this.rawSockets.delete(socket);
        this.stats.setupFailures++;
        this.log.warn({ timeoutMs: deps.config.commandTimeoutMs }, 'socket app connection not set up in time, dropping it');
        socket.destroy();
      }, deps.config.commandTimeoutMs * 2);
      this.rawSockets.set(socket, timer);
      socket.once('close', () => {
        clearTimeout(timer);
        this.rawSockets.delete(socket);
      });
    });
  }

  async start(): Promise<void> {
    const { host, port } = this.deps.config.listen;
    const net = (this.server as unknown as Internals).__server;
    try {
      await new Promise<void>((resolve, reject) => {
        const onError = (e: Error): void => reject(e);
        net?.once('error', onError);
        this.server.listen({ host, port }).then(() => {
          net?.removeListener('error', onError);
          resolve();
        }, reject);
      });
    } catch (e) {
      throw new FreeswitchAdapterError(
        'CG_ERR_FS_LISTEN',
        `cannot listen on ${host}:${port} (${(e as Error).message}); free the port or change freeswitch.listen.port, and the socket app's port in callgate.xml with it`,
        { cause: e },
      );
    }
    this.listening = true;
    this.log.info({ host, port, mode: this.deps.config.mode }, 'listening for the FreeSWITCH socket app');
  }

  /** The port actually bound (useful with port 0 in tests). */
  address(): { host: string; port: number } | undefined {
    const a = (this.server as unknown as Internals).__server?.address();
    return a !== null && typeof a === 'object' ? { host: a.address, port: a.port } : undefined;
  }

  async stop(): Promise<void> {
    this.closing = true;
    const closed = this.listening ? this.server.close() : Promise.resolve();
    this.listening = false;
    // Let in-flight decisions finish, but never wait on a gate that does not answer.
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((r) => (grace = setTimeout(r, this.deps.config.commandTimeoutMs)))]);
    clearTimeout(grace);
    for (const call of this.calls) call.end();
    for (const [socket, timer] of this.rawSockets) {
      clearTimeout(timer);
      socket.destroy();
    }
    await closed;
  }

  private onSetupError(e: Error): void {
    this.stats.setupFailures++;
    const reply = replyOf(e);
    if (reply !== undefined && /command not found/.test(reply)) {
      if (!this.notFullReported) {
        this.notFullReported = true;
        this.log.error(
          { code: 'CG_ERR_FS_NOT_FULL' },
          'CG_ERR_FS_NOT_FULL: FreeSWITCH refused event/filter commands on the socket: add `full` to the socket app data (e.g. `socket 127.0.0.1:8085 full`) as in dialplan/freeswitch/callgate.xml',
        );
      }
      return;
    }
    this.log.warn({ err: describeEslError(e) }, 'socket app connection setup failed');
  }

  private async handle(call: EslCall, data: StringMap, uuid: string | undefined): Promise<void> {
    const t0 = performance.now();
    this.stats.connections++;
    this.untrackRaw(call);
    this.calls.add(call);
    call.once('socket.close', () => this.calls.delete(call));
    const { gate, config } = this.deps;
    const log = this.log.child({ channel: uuid });
    const drop = (why: string, extra: Record<string, unknown> = {}): void => {
      this.stats.dropped++;
      log.warn(extra, `dropping the socket without releasing the call (${why}); the dialplan's next action decides`);
      call.end();
      this.deps.onCall?.({ uuid: uuid ?? '', verdict: 'dropped', decideMs: performance.now() - t0, releaseMs: performance.now() - t0 });
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
    let backstop: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (backstop = setTimeout(() => resolve('late'), config.backstopMs)));
    const decided = gate
      .decide(attempt, config.deadlineMs !== undefined ? { record: true, deadlineMs: config.deadlineMs } : { record: true })
      .then((d) => ({ d }), (e: unknown) => ({ e }));
    const first = await Promise.race([decided, late]);
    clearTimeout(backstop);
    if (first === 'late') return drop(`no decision within ${config.backstopMs} ms`);
    // GateService.decide never rejects; if it does anyway, fail closed through the dialplan.
    if ('e' in first) return drop('the gate failed', { err: (first.e as Error)?.message });
    const decision = first.d;
    const decideMs = performance.now() - t0;
    const plan = planFor(decision, attempt.to, config);
    try {
      const releaseMs = await this.apply(call, uuid, plan, t0);
      if (decision.verdict === 'allow') this.stats.allowed++;
      else this.stats.blocked++;
      log.debug({ decision: decision.id, verdict: decision.verdict, decideMs, releaseMs }, 'call released');
      this.deps.onCall?.({ uuid, verdict: decision.verdict, decideMs, releaseMs });
    } catch (e) {
      drop('an Event Socket command failed', { code: 'CG_ERR_FS_COMMAND', err: describeEslError(e), decision: decision.id });
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
      r.kind === 'transfer' ? [executeCommand(uuid, 'transfer', `${r.extension} XML ${r.context}`), { command: 'exit', args: {} }] : [hangupCommand(uuid, r.cause)];
    const p = sendBatch(call, release, timeoutMs);
    const releaseMs = performance.now() - t0;
    await p;
    return releaseMs;
  }

  private untrackRaw(call: EslCall): void {
    const socket = (call as unknown as CallInternals).__socket;
    if (socket === undefined) return;
    const timer = this.rawSockets.get(socket);
    if (timer !== undefined) clearTimeout(timer);
    this.rawSockets.delete(socket);
  }
}
