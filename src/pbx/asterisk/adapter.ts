/**
 * The Asterisk adapter: every call the dialplan sends into Stasis(callgate,…) is judged before
 * a trunk channel exists, then continued with tags or refused with a cause.
 *
 * Legal frame: the checks themselves live in core/ (FR-RULES.md); this file is the plumbing that
 * makes them apply to every outbound attempt in real time — GATE-1 (fail mode when the gate
 * cannot decide in time) and FREQ-2 (every attempt counts; its outcome is recorded) included.
 *
 * Flow for one channel:
 *   StasisStart → attempt → gate.decide (deadline) → set CALLGATE_* variables →
 *     allow: subscribe to the channel, continue in asterisk.allowContext (exten = number, prio 1)
 *     block: continue in asterisk.blockContext, or hang up with asterisk.hangupReason (21 by default)
 *   → allowed calls are followed until ChannelDestroyed and their outcome recorded.
 * A decision whose REST actions could not be sent (connection dropped) is re-applied after the
 * reconnect — never decided twice; channels found in the app without a decision are decided then.
 */
import type { Logger } from 'pino';
import type { Decision } from '../../core/types';
import type { GateService, PbxAdapter } from '../../gate/service';
import type { CallOutcome } from '../../gate/store';
import { AriConnection, AriHttpError, type AriChannel, type AriEvent, type AriRest } from './ari';
import { argsFromAppData, buildAttempt, maskNumber, parseStasisArgs, type StasisArgs } from './attempt';
import type { AsteriskConfig } from './config';
import { OutcomeTracker } from './outcome';

/** Grace after deadlineMs before the adapter stops waiting for the gate itself. */
const BACKSTOP_GRACE_MS = 250;
/** How many times a failed action is retried while connected (then on each reconnect). */
const MAX_QUICK_RETRIES = 5;

type CallState = 'deciding' | 'acting' | 'pending' | 'tracking' | 'done';

type Call = {
  channelId: string;
  args: StasisArgs;
  state: CallState;
  decision?: Decision;
  /** Set when the channel disappeared before the gate acted on it (0 = cause unknown). */
  goneCause?: number;
  /** Cause of a hangup request seen while in Stasis. */
  requestCause?: number;
  tracker?: OutcomeTracker;
  retries: number;
  log: Logger;
};

/** What the adapter tells the world after each handled call (tests and bench listen to it). */
export type AsteriskCallReport = {
  channelId: string;
  verdict: 'allow' | 'block';
  action: 'continue' | 'hangup' | 'block-context' | 'none';
  decisionId?: string;
};

export type AsteriskAdapterOptions = {
  gate: GateService;
  config: AsteriskConfig;
  logger: Logger;
  /** Called after the action for a call was accepted by Asterisk (or the channel was gone). */
  onHandled?: (r: AsteriskCallReport) => void;
};

export class AsteriskAdapter implements PbxAdapter {
  readonly name = 'asterisk' as const;
  private readonly calls = new Map<string, Call>();
  private readonly ari: AriConnection;
  private readonly rest: AriRest;
  private readonly log: Logger;
  private stopping = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly inflight = new Set<Promise<void>>();

  constructor(private readonly opts: AsteriskAdapterOptions) {
    const c = opts.config;
    this.log = opts.logger; // the composition root passes a child with component: 'asterisk'
    this.ari = new AriConnection({
      url: c.url,
      username: c.username,
      password: c.password,
      app: c.app,
      requestTimeoutMs: c.requestTimeoutMs,
      reconnectMinMs: c.reconnectMinMs,
      reconnectMaxMs: c.reconnectMaxMs,
      pingIntervalMs: c.pingIntervalMs,
      maxConcurrentRequests: c.maxConcurrentRequests,
      rest: c.rest,
      logger: this.log,
    });
    this.rest = this.ari;
    this.ari.on('event', (ev: AriEvent) => this.onEvent(ev));
    this.ari.on('connected', () => this.track(this.recover()));
    this.ari.on('disconnected', (e: Error) =>
      this.log.warn(
        { err: e.message },
        'ARI event socket lost; calls now fail in the dialplan (STASISSTATUS=FAILED) until it is back',
      ),
    );
  }

  async start(): Promise<void> {
    this.stopping = false;
    const ok = await this.ari.start();
    if (!ok)
      this.log.warn(
        { code: 'CG_ERR_PBX_CONNECT', url: this.opts.config.url },
        'Asterisk not reachable yet; retrying in the background',
      );
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    // Let in-flight decisions land (each is bounded by the deadline and the request timeouts).
    const limit = this.opts.config.deadlineMs + BACKSTOP_GRACE_MS + 3 * this.opts.config.requestTimeoutMs;
    await Promise.race([Promise.allSettled([...this.inflight]), new Promise((r) => setTimeout(r, limit).unref())]);
    await this.ari.stop();
    this.calls.clear();
  }

  /** Calls currently known to the adapter, by state (for metrics and tests). */
  stats(): Record<CallState, number> {
    const s: Record<CallState, number> = { deciding: 0, acting: 0, pending: 0, tracking: 0, done: 0 };
    for (const c of this.calls.values()) s[c.state]++;
    return s;
  }

  private track(p: Promise<void>): void {
    this.inflight.add(p);
    p.catch((e: unknown) =>
      this.log.error({ code: 'CG_ERR_INTERNAL', err: String(e) }, 'asterisk adapter fault'),
    ).finally(() => this.inflight.delete(p));
  }

  /* ------------------------------------------------------------------------------ events */

  private onEvent(ev: AriEvent): void {
    switch (ev.type) {
      case 'StasisStart':
        if (ev.channel && !ev.replace_channel) this.track(this.onStasisStart(ev.channel, ev.args ?? []));
        return;
      case 'ApplicationReplaced':
        this.log.error(
          { code: 'CG_ERR_PBX_CONNECT', app: this.opts.config.app },
          `another ARI client registered the Stasis app '${this.opts.config.app}': this gate no longer receives calls. Give each gate instance its own asterisk.app name (and dialplan), or stop the other one`,
        );
        return;
      case 'ApplicationRegistered':
        return;
      default:
        break;
    }
    const id = ev.channel?.id;
    if (!id) {
      // Dial events name the channel as caller or peer.
      for (const ch of [ev.caller, ev.peer]) if (ch?.id && this.calls.has(ch.id)) this.onChannelEvent(ch.id, ev);
      return;
    }
    if (this.calls.has(id)) this.onChannelEvent(id, ev);
  }

  private onChannelEvent(id: string, ev: AriEvent): void {
    const call = this.calls.get(id);
    if (!call) return;
    if (call.state === 'tracking' && call.tracker && call.decision) {
      const outcome = call.tracker.feed(ev, () => this.opts.gate.clock.now());
      if (outcome) {
        call.state = 'done';
        this.calls.delete(id);
        call.log.debug({ outcome }, 'call ended');
        this.track(this.opts.gate.recordOutcome(call.decision.id, outcome));
      }
      return;
    }
    // A channel in Stasis that hangs up sends ChannelHangupRequest (with the Q.850 cause of a
    // caller hangup) and StasisEnd; ChannelDestroyed only reaches subscribed apps.
    // (cause 32 is the soft-hangup flag of an ARI DELETE, not a Q.850 cause.)
    if (ev.type === 'ChannelHangupRequest' && typeof ev.cause === 'number' && ev.cause !== 32)
      call.requestCause ??= ev.cause;
    if (ev.type === 'ChannelDestroyed' || (ev.type === 'StasisEnd' && call.state !== 'acting')) {
      call.goneCause = ev.cause ?? call.requestCause ?? 0;
      if (call.state === 'pending') this.finishGone(call);
    }
  }

  /* ------------------------------------------------------------------------------ decide */

  private async onStasisStart(channel: AriChannel, rawArgs: readonly string[]): Promise<void> {
    if (this.calls.has(channel.id)) return; // already ours (recovery raced the event)
    const args = parseStasisArgs(rawArgs, channel);
    const log = this.log.child({ channel: channel.id, to: maskNumber(args.number) });
    const call: Call = { channelId: channel.id, args, state: 'deciding', retries: 0, log };
    this.calls.set(channel.id, call);
    if (args.presentation === 'restricted' && !/^prohib/i.test(args.rawPresentation)) {
      log.warn(
        { pres: args.rawPresentation },
        'CALLERID(pres) missing or unknown in the Stasis() arguments: treated as withheld. Use the shipped dialplan snippet (it passes ${CALLERID(pres)} as 4th argument)',
      );
    }
    call.decision = await this.decide(call);
    call.state = 'acting';
    await this.act(call);
  }

  private async decide(call: Call): Promise<Decision> {
    const { gate, config } = this.opts;
    const attempt = buildAttempt(call.args, call.channelId, gate.clock.now());
    let timer: NodeJS.Timeout | undefined;
    const backstop = new Promise<Decision>((resolve) => {
      timer = setTimeout(() => {
        call.log.error(
          { code: 'CG_ERR_GATE_DEADLINE', deadlineMs: config.deadlineMs, failMode: config.failMode },
          'the gate did not answer at all within its deadline; asterisk.failMode applies',
        );
        resolve(backstopDecision(attempt, config.failMode));
      }, config.deadlineMs + BACKSTOP_GRACE_MS);
    });
    try {
      return await Promise.race([gate.decide(attempt, { record: true, deadlineMs: config.deadlineMs }), backstop]);
    } catch (e) {
      // GateService.decide never rejects by contract; if it does, it is a fault: fail mode.
      call.log.error({ code: 'CG_ERR_INTERNAL', err: String(e) }, 'gate.decide rejected; asterisk.failMode applies');
      return backstopDecision(attempt, config.failMode);
    } finally {
      clearTimeout(timer);
    }
  }

  /* ------------------------------------------------------------------------------ act */

  private async act(call: Call): Promise<void> {
    const d = call.decision as Decision;
    const { config } = this.opts;
    if (call.goneCause !== undefined) return this.finishGone(call);
    const vars: Record<string, string> = {
      CALLGATE_VERDICT: d.verdict,
      CALLGATE_DECISION_ID: d.id,
      CALLGATE_BASIS: d.basis,
      CALLGATE_TAGS: d.tags.join(','),
    };
    const number = call.args.number;
    try {
      if (d.verdict === 'allow') {
        await Promise.all([this.rest.setChannelVars(call.channelId, vars), this.rest.subscribeChannel(call.channelId)]);
        call.tracker = new OutcomeTracker(call.channelId);
        call.state = 'tracking'; // events may arrive as soon as continue is sent
        await this.rest.continueInDialplan(call.channelId, {
          context: config.allowContext,
          extension: number,
          priority: 1,
        });
        this.report(call, 'continue');
      } else {
        vars.CALLGATE_REASONS = d.reasons.map((r) => r.code).join(',');
        await this.rest.setChannelVars(call.channelId, vars);
        if (config.blockContext) {
          await this.rest.continueInDialplan(call.channelId, {
            context: config.blockContext,
            extension: number,
            priority: 1,
          });
          this.report(call, 'block-context');
        } else {
          await this.rest.hangup(call.channelId, config.hangupReason);
          this.report(call, 'hangup');
        }
        call.state = 'done';
        this.calls.delete(call.channelId);
      }
    } catch (e) {
      if ((e instanceof AriHttpError && e.channelGone) || call.goneCause !== undefined) {
        call.goneCause ??= 0;
        return this.finishGone(call);
      }
      call.state = 'pending';
      call.tracker = undefined;
      call.retries++;
      const err = e instanceof Error ? e.message : String(e);
      if (call.retries > MAX_QUICK_RETRIES) {
        call.log.error(
          { code: 'CG_ERR_PBX_CONNECT', err, retries: call.retries },
          'decision could not be applied; the channel waits in Stasis until the next ARI reconnect re-applies it',
        );
        return;
      }
      call.log.warn({ err, retries: call.retries }, 'decision taken but not yet applied on the channel; will re-apply');
      this.scheduleRetry();
    }
  }

  private report(call: Call, action: AsteriskCallReport['action']): void {
    const d = call.decision as Decision;
    call.log.debug({ decisionId: d.id, verdict: d.verdict, action }, 'decision applied');
    this.opts.onHandled?.({ channelId: call.channelId, verdict: d.verdict, action, decisionId: d.id });
  }

  /** The channel hung up before the decision could be applied: an allowed attempt still ends with an outcome. */
  private finishGone(call: Call): void {
    call.state = 'done';
    this.calls.delete(call.channelId);
    const d = call.decision;
    if (!d) return;
    this.opts.onHandled?.({ channelId: call.channelId, verdict: d.verdict, action: 'none', decisionId: d.id });
    if (d.verdict === 'allow') {
      const outcome: CallOutcome = { answered: false, durationMs: 0, endedAt: this.opts.gate.clock.now() };
      if (call.goneCause) outcome.hangupCause = String(call.goneCause);
      this.track(this.opts.gate.recordOutcome(d.id, outcome));
    }
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.stopping) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.ari.connected) return; // the 'connected' handler will re-apply
      for (const call of this.calls.values()) {
        if (call.state === 'pending' && call.retries <= MAX_QUICK_RETRIES) {
          call.state = 'acting';
          this.track(this.act(call));
        }
      }
    }, this.opts.config.reconnectMinMs);
    this.retryTimer.unref();
  }

  /* ------------------------------------------------------------------------------ recovery */

  /** After each (re)connect: re-apply pending decisions, decide channels left in the app without one. */
  private async recover(): Promise<void> {
    let ids: string[];
    try {
      ids = await this.rest.applicationChannelIds();
    } catch (e) {
      this.log.warn(
        { err: e instanceof Error ? e.message : String(e) },
        'could not list the channels held by the Stasis app after connecting',
      );
      return;
    }
    const present = new Set(ids);
    for (const call of [...this.calls.values()]) {
      if (call.state === 'tracking' && !present.has(call.channelId) && call.decision) {
        // The call ended while the event socket was down: its end is unknown, its attempt stays counted.
        call.state = 'done';
        this.calls.delete(call.channelId);
        call.log.warn('call ended while ARI was disconnected; outcome recorded without its hangup cause');
        this.track(
          this.opts.gate.recordOutcome(call.decision.id, {
            answered: false,
            durationMs: 0,
            endedAt: this.opts.gate.clock.now(),
          }),
        );
        continue;
      }
      if (call.state !== 'pending') continue;
      if (!present.has(call.channelId)) {
        call.goneCause ??= 0;
        this.finishGone(call);
        continue;
      }
      call.state = 'acting';
      call.retries = 0;
      this.track(this.act(call));
    }
    for (const id of ids) {
      if (this.calls.has(id)) continue;
      const ch = await this.rest.getChannel(id).catch(() => undefined);
      if (!ch || ch.dialplan?.app_name !== 'Stasis') continue;
      const args = argsFromAppData(ch.dialplan.app_data ?? '', this.opts.config.app);
      if (!args) continue;
      this.log.warn(
        { channel: id },
        'found a channel waiting in the Stasis app without a decision (connection was lost); deciding it now',
      );
      this.track(this.onStasisStart(ch, args));
    }
  }
}

/** The decision the adapter takes itself when the gate does not answer at all (GATE-1). */
function backstopDecision(attempt: ReturnType<typeof buildAttempt>, failMode: 'closed' | 'open'): Decision {
  const block = failMode === 'closed';
  return {
    id: '',
    verdict: block ? 'block' : 'allow',
    reasons: block
      ? [
          {
            code: 'gate_unavailable',
            rule: 'GATE-1',
            message: 'The gate did not answer within its deadline; fail mode is closed.',
            legalRef: 'GATE-1 (callgate policy)',
          },
        ]
      : [],
    tags: block ? [] : ['gate_unavailable', 'fail_open'],
    regime: 'consent',
    basis: 'none',
    at: attempt.at,
    callerId: { number: attempt.callerId.number, presentation: attempt.callerId.presentation },
    campaign: { id: attempt.campaignId ?? '', professional: '', dialing: 'manual', purpose: 'prospecting' },
    rules: [{ rule: 'GATE-1', outcome: 'fail', note: 'adapter backstop' }],
    monitorOnly: false,
    source: attempt.source,
  };
}
