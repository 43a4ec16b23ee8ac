/**
 * The Asterisk adapter: every call the dialplan sends into Stasis(callgate,…) is judged before
 * a trunk channel exists, then continued with tags or refused with a cause.
 *
 * Legal frame: the checks themselves live in core/ (FR-RULES.md); this file is the plumbing that
 * makes them apply to every outbound attempt in real time — GATE-1 (fail mode when the gate
 * cannot decide in time) and FREQ-2 (every attempt counts; its outcome is recorded) included.
 * Emergency numbers never reach it: the shipped dialplan routes them around the gate (SCOPE-1).
 *
 * Flow for one channel:
 *   StasisStart → attempt → gate.decide (gate.deadlineMs) → set CALLGATE_* variables and clear the
 *   dialplan's TIMEOUT(absolute) backstop, in one request →
 *     allow: subscribe to the channel, continue in asterisk.allowContext (exten = number, prio 1)
 *     block: continue in asterisk.blockContext, or hang up with asterisk.hangupReason (21 by default)
 *   → allowed calls are followed until ChannelDestroyed and their outcome recorded.
 *
 * Backstops, in the order they can fire (dialplan/asterisk/README.md, "When the gate is down or late"):
 *   1. the gate's own deadline (gate.deadlineMs): the gate gives policy.failMode's decision;
 *   2. this adapter's, BACKSTOP_GRACE_MS later, if gate.decide gave nothing at all: gate.failModeDecision
 *      (core's one builder, audited like any other decision);
 *   3. the dialplan's TIMEOUT(absolute), when the gate process is hung or cut off: the snippet's `T`
 *      extension refuses the call. The adapter disarms it in the request that sets the CALLGATE_*
 *      variables, so its last release (2, then at most asterisk.requestTimeoutMs for that request)
 *      must land before it: checked on every call against the time the dialplan passes in.
 *   Asterisk runs the release request and the timeout on the channel's own thread, so whichever
 *   comes first owns the call; the other finds it gone (a 409/404 here, nothing in the dialplan).
 *
 * Outcomes: the channel's state is the truth (ChannelStateChange to Up, ChannelDestroyed with its
 * cause, outcome.ts). The app asks Asterisk for only the event types it reads (setEventFilter).
 * After a reconnect every call still followed is reconciled (subscribed again, its state read);
 * an allowed call whose end the gate could not see gets no fabricated outcome: it is counted in an
 * "outcome unknown" warning. A decision whose REST actions could not be sent (connection dropped)
 * is re-applied after the reconnect — never decided twice; channels found in the app without a
 * decision are decided then.
 */
import type { Logger } from 'pino';
import { randomUUID } from 'node:crypto';
import type { CallAttempt, Decision } from '../../core/types';
import { CallgateError } from '../../errors';
import type { GateService, OriginateRequest, OriginateResult, PbxAdapter, PbxStatus } from '../../gate/service';
import type { CallOutcome } from '../../gate/store';
import { AriConnection, AriHttpError, type AriChannel, type AriEvent, type AriRest } from './ari';
import { argsFromAppData, buildAttempt, maskNumber, parseStasisArgs, type StasisArgs } from './attempt';
import type { AsteriskConfig } from './config';
import { OutcomeTracker } from './outcome';
import { limitRepeats, type RepeatLimiter } from '../../gate/logger';

/** Grace after gate.deadlineMs before the adapter stops waiting for the gate itself. */
export const BACKSTOP_GRACE_MS = 250;
/** The dialplan's backstop must leave at least this much after the adapter's last release could land. */
export const DIALPLAN_BACKSTOP_MARGIN_MS = 250;
/** How many times a failed action is retried while connected (then on each reconnect). */
const MAX_QUICK_RETRIES = 5;

/**
 * The only ARI event types the adapter reads: StasisStart/End (calls in and out of the app),
 * ChannelStateChange (Up = answered), ChannelHangupRequest (the cause of a hangup in Stasis),
 * ChannelDestroyed (the end and its cause), Dial (the dial status, extra information), and the
 * application's own events. Everything else (ChannelVarset of every Set(), ChannelDialplan of every
 * priority, …) is no longer serialised by Asterisk for the app.
 */
export const ARI_EVENT_TYPES = [
  'StasisStart',
  'StasisEnd',
  'ChannelStateChange',
  'ChannelHangupRequest',
  'ChannelDestroyed',
  'Dial',
  'ApplicationReplaced',
  'ApplicationRegistered',
] as const;

type CallState = 'deciding' | 'acting' | 'pending' | 'tracking' | 'done';

type Call = {
  channelId: string;
  args: StasisArgs;
  attempt?: CallAttempt;
  state: CallState;
  decision?: Decision;
  /** The channel left Stasis without the gate (a hangup, the dialplan's backstop); its cause if seen (0 = unknown). */
  goneCause?: number;
  /** Cause of a hangup request seen while in Stasis. */
  requestCause?: number;
  /** The app is subscribed to the channel (events keep coming after it leaves Stasis). */
  subscribed: boolean;
  /** The outcome, when ChannelDestroyed was seen before the call was being followed. */
  ended?: CallOutcome;
  tracker: OutcomeTracker;
  retries: number;
  /** The call's child logger (channel, masked number), made on its first line: most calls write none. */
  log?: Logger;
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
  /** gate.deadlineMs: the gate's one deadline; the adapter's backstop fires BACKSTOP_GRACE_MS after it. */
  deadlineMs: number;
  /** policy.failMode, for the log lines of the backstop (the gate's failModeDecision applies it). */
  failMode: 'closed' | 'open';
  logger: Logger;
  /** Called after the action for a call was accepted by Asterisk (or the channel was gone). */
  onHandled?: (r: AsteriskCallReport) => void;
  /** Called when the outcome of an allowed call is recorded, or given up as unknown (tests and bench). */
  onOutcome?: (decisionId: string, outcome: CallOutcome | 'unknown') => void;
};

export class AsteriskAdapter implements PbxAdapter {
  readonly name = 'asterisk' as const;
  private readonly calls = new Map<string, Call>();
  private readonly ari: AriConnection;
  private readonly rest: AriRest;
  private readonly log: Logger;
  /** Warnings that can come once per call: a few, then a summary (an overloaded gate must not flood the log). */
  private readonly repeats: RepeatLimiter;
  private stopping = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly inflight = new Set<Promise<void>>();
  /** Warned once: the dialplan passes no backstop / one too short for the adapter's. */
  private warnedBackstop = false;
  /** Outcomes given up as unknown since start (metrics and tests). */
  unknownOutcomes = 0;
  /** Times the event socket opened (the first connection and every reconnection). */
  private connects = 0;

  constructor(private readonly opts: AsteriskAdapterOptions) {
    const c = opts.config;
    this.log = opts.logger; // the composition root passes a child with component: 'asterisk'
    this.repeats = limitRepeats(this.log);
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
    this.ari.on('connected', () => {
      this.connects++;
      this.track(this.recover());
    });
    this.ari.on('disconnected', (e: Error) =>
      this.log.warn(
        { err: e.message },
        'ARI event socket lost; calls now fail in the dialplan (STASISSTATUS=FAILED) until it is back',
      ),
    );
  }

  /** The ARI connection (tests pin its jitter). */
  get connection(): AriConnection {
    return this.ari;
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
    const limit = this.opts.deadlineMs + BACKSTOP_GRACE_MS + 3 * this.opts.config.requestTimeoutMs;
    await Promise.race([Promise.allSettled([...this.inflight]), new Promise((r) => setTimeout(r, limit).unref())]);
    await this.ari.stop();
    // Calls still up when the gate stops: their end will not be seen by this process.
    const open = [...this.calls.values()].filter((c) => c.decision?.verdict === 'allow' && c.state !== 'done');
    this.giveUp(open, 'the gate stopped before these calls ended');
    this.calls.clear();
  }

  status(): PbxStatus {
    return { connected: this.ari.connected, reconnects: Math.max(0, this.connects - 1) };
  }

  /**
   * The admin API's originate: POST /channels to Local/NUMBER@asterisk.originateContext/n, so the
   * ;2 half runs the gated dialplan (Stasis: this gate decides it again and records its attempt)
   * before any trunk channel exists; the ;1 half goes to `connect` once the callee answers. The
   * CALLGATE_* variables land on the ;2 half (Local copies them), the caller ID is presented there.
   */
  async originate(req: OriginateRequest): Promise<OriginateResult> {
    if (!this.ari.connected)
      throw new CallgateError(
        'CG_ERR_PBX_ORIGINATE',
        'not connected to Asterisk (ARI): a call placed now would find no gate in Stasis',
      );
    const channelId = randomUUID();
    const gatedChannelId = randomUUID();
    const variables: Record<string, string> = {};
    if (req.campaign !== undefined) variables.CALLGATE_CAMPAIGN = req.campaign;
    if (req.postalCode !== undefined) variables.CALLGATE_POSTAL_CODE = req.postalCode;
    try {
      const ch = await this.ari.originate({
        endpoint: `Local/${req.to}@${this.opts.config.originateContext}/n`,
        context: req.connect.context,
        extension: req.connect.extension,
        priority: 1,
        callerId: req.callerId,
        timeout: req.timeoutSec,
        channelId,
        otherChannelId: gatedChannelId,
        variables,
      });
      return { channelId: ch.id, gatedChannelId };
    } catch (e) {
      throw new CallgateError(
        'CG_ERR_PBX_ORIGINATE',
        `Asterisk refused the originate: ${e instanceof Error ? e.message : String(e)}`,
        {
          cause: e,
        },
      );
    }
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
        if (ev.channel && !ev.replace_channel) this.track(this.onStasisStart(ev.channel, ev.args ?? [], true));
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
    if (call.state === 'tracking' && call.decision) {
      const outcome = call.tracker.feed(ev, () => this.opts.gate.clock.now());
      if (outcome) this.recordOutcome(call, outcome);
      return;
    }
    // Before the gate released it, the app sees the channel because it is in Stasis. A hangup there
    // sends ChannelHangupRequest (with the Q.850 cause of a caller hangup) and StasisEnd;
    // ChannelDestroyed only reaches subscribed apps. (Cause 32 is the soft-hangup flag of an ARI
    // DELETE, not a Q.850 cause.) StasisEnd without a hangup request: the dialplan's backstop fired.
    // A pending release of ours may have landed with its answer lost: what is seen still counts.
    const ended = call.tracker.feed(ev, () => this.opts.gate.clock.now());
    if (ended) call.ended = ended;
    if (ev.type === 'ChannelHangupRequest' && typeof ev.cause === 'number' && ev.cause !== 32)
      call.requestCause ??= ev.cause;
    if (ev.type === 'ChannelDestroyed') {
      call.goneCause = ev.cause ?? call.requestCause ?? 0;
      if (call.state === 'pending') this.finishGone(call);
    } else if (ev.type === 'StasisEnd' && call.state !== 'acting') {
      // Out of Stasis while a release of ours is pending: whoever released it, a subscribed app
      // sees how the call ends.
      if (call.state === 'pending' && call.subscribed && call.decision?.verdict === 'allow') call.state = 'tracking';
      else {
        call.goneCause = call.requestCause ?? 0;
        if (call.state === 'pending') this.finishGone(call);
      }
    }
  }

  /* ------------------------------------------------------------------------------ decide */

  private async onStasisStart(channel: AriChannel, rawArgs: readonly string[], live: boolean): Promise<void> {
    if (this.calls.has(channel.id)) return; // already ours (recovery raced the event)
    const args = parseStasisArgs(rawArgs, channel);
    const call: Call = {
      channelId: channel.id,
      args,
      state: 'deciding',
      subscribed: false,
      tracker: new OutcomeTracker(channel.id, channel.state === 'Up'),
      retries: 0,
    };
    this.calls.set(channel.id, call);
    if (args.presentation === 'restricted' && !/^prohib/i.test(args.rawPresentation)) {
      this.repeats.warn(
        'asterisk.pres',
        { channel: channel.id, pres: args.rawPresentation },
        'CALLERID(pres) missing or unknown in the Stasis() arguments: treated as withheld. Use the shipped dialplan snippet (it passes ${CALLERID(pres)} as 4th argument)',
      );
    }
    if (live) this.checkDialplanBackstop(args);
    call.decision = await this.decide(call);
    call.state = 'acting';
    await this.act(call);
  }

  /**
   * The dialplan's TIMEOUT(absolute) must fire after the adapter's last release could land:
   * gate.deadlineMs + BACKSTOP_GRACE_MS (the adapter's backstop) + asterisk.requestTimeoutMs (the
   * request that disarms it) + a margin. Said once, at error level, with what to change.
   */
  private checkDialplanBackstop(args: StasisArgs): void {
    if (this.warnedBackstop) return;
    const needMs =
      this.opts.deadlineMs + BACKSTOP_GRACE_MS + this.opts.config.requestTimeoutMs + DIALPLAN_BACKSTOP_MARGIN_MS;
    const have = args.dialplanBackstopMs;
    if (have !== undefined && have !== 0 && have >= needMs) return;
    this.warnedBackstop = true;
    const atLeast = Math.ceil(needMs / 100) / 10;
    if (have === undefined || have === 0)
      this.log.error(
        { code: 'CG_ERR_CONFIG', dialplanBackstopS: have === undefined ? 'not passed' : 0 },
        `the dialplan sets no TIMEOUT(absolute) before Stasis(): a gate that hangs would hold calls in Stasis forever. Use the shipped snippet (Set(TIMEOUT(absolute)=${Math.max(4, atLeast)}) and \${TIMEOUT(absolute)} as the last Stasis() argument)`,
      );
    else
      this.log.error(
        { code: 'CG_ERR_CONFIG', dialplanBackstopS: have / 1000, neededS: atLeast },
        `the dialplan's TIMEOUT(absolute) (${have / 1000} s) could fire before the gate's own backstop has released the call (gate.deadlineMs + ${BACKSTOP_GRACE_MS} ms + asterisk.requestTimeoutMs + ${DIALPLAN_BACKSTOP_MARGIN_MS} ms = ${atLeast} s): raise it to at least ${atLeast} in the snippet, or lower gate.deadlineMs / asterisk.requestTimeoutMs`,
      );
  }

  private async decide(call: Call): Promise<Decision> {
    const { gate, deadlineMs, failMode } = this.opts;
    const attempt = buildAttempt(call.args, call.channelId, gate.clock.now());
    call.attempt = attempt;
    let timer: NodeJS.Timeout | undefined;
    const waitMs = deadlineMs + BACKSTOP_GRACE_MS;
    const backstop = new Promise<Decision>((resolve) => {
      timer = setTimeout(() => {
        this.repeats.error(
          'asterisk.backstop',
          { channel: call.channelId, code: 'CG_ERR_GATE_DEADLINE', deadlineMs, failMode },
          'the gate did not answer at all within its deadline; the adapter applies policy.failMode',
        );
        resolve(gate.failModeDecision(attempt, `asterisk adapter backstop: no answer from the gate in ${waitMs} ms`));
      }, waitMs);
    });
    try {
      return await Promise.race([gate.decide(attempt, { record: true }), backstop]);
    } catch (e) {
      // GateService.decide never rejects by contract; if it does, it is a fault: fail mode.
      this.repeats.error(
        'asterisk.decide',
        { channel: call.channelId, code: 'CG_ERR_INTERNAL', err: String(e) },
        'gate.decide rejected; policy.failMode applies',
      );
      return gate.failModeDecision(attempt, `asterisk adapter: gate.decide rejected (${String(e)})`);
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
      // The gate has the call: disarm the dialplan's backstop in the same request (no extra round trip).
      'TIMEOUT(absolute)': '0',
    };
    const number = call.args.number;
    try {
      if (d.verdict === 'allow') {
        // Both settle before deciding what a failure means: a subscription in place follows the call.
        const [set, sub] = await Promise.allSettled([
          this.rest.setChannelVars(call.channelId, vars),
          this.rest.subscribeChannel(call.channelId),
        ]);
        if (sub.status === 'fulfilled') call.subscribed = true;
        if (set.status === 'rejected') throw set.reason;
        if (sub.status === 'rejected') throw sub.reason;
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
      if (e instanceof AriHttpError && (e.channelGone || e.notInStasis)) return this.releasedElsewhere(call, e);
      if (call.goneCause !== undefined) return this.finishGone(call);
      call.state = 'pending';
      call.retries++;
      const err = e instanceof Error ? e.message : String(e);
      if (call.retries > MAX_QUICK_RETRIES) {
        this.repeats.error(
          'asterisk.apply',
          { channel: call.channelId, code: 'CG_ERR_PBX_CONNECT', err, retries: call.retries },
          'decision could not be applied; the channel waits in Stasis until the next ARI reconnect re-applies it (or the dialplan backstop refuses it)',
        );
        return;
      }
      this.repeats.warn(
        'asterisk.reapply',
        { channel: call.channelId, err, retries: call.retries },
        'decision taken but not yet applied on the channel; will re-apply',
      );
      this.scheduleRetry();
    }
  }

  /**
   * A release request found the channel gone or out of Stasis: a hangup, the dialplan's backstop, or
   * an earlier `continue` of ours whose answer was lost. When the app is subscribed to the channel its
   * events tell the truth (ChannelDestroyed ends it); otherwise the call is finished with what was seen.
   */
  private releasedElsewhere(call: Call, e: AriHttpError): void {
    const d = call.decision as Decision;
    if (d.verdict === 'allow' && call.subscribed && e.notInStasis && !call.ended) {
      this.debug(call, { err: e.message }, 'channel already out of Stasis; following it by its events');
      call.state = 'tracking';
      return;
    }
    call.goneCause ??= call.requestCause ?? 0;
    this.finishGone(call);
  }

  private report(call: Call, action: AsteriskCallReport['action']): void {
    const d = call.decision as Decision;
    this.debug(call, { decisionId: d.id, verdict: d.verdict, action }, 'decision applied');
    this.opts.onHandled?.({ channelId: call.channelId, verdict: d.verdict, action, decisionId: d.id });
  }

  /**
   * A debug line of one call, on its child logger (channel and masked number bound). The child is
   * made on the first line written, not per call: at the default level (info) none is, and a pino
   * child (its bindings serialised) plus the masked number cost every call for nothing.
   */
  private debug(call: Call, fields: Record<string, unknown>, msg: string): void {
    if (!this.log.isLevelEnabled('debug')) return;
    call.log ??= this.log.child({ channel: call.channelId, to: maskNumber(call.args.number) });
    call.log.debug(fields, msg);
  }

  private recordOutcome(call: Call, outcome: CallOutcome): void {
    const d = call.decision as Decision;
    call.state = 'done';
    this.calls.delete(call.channelId);
    this.debug(call, { outcome }, 'call ended');
    this.opts.onOutcome?.(d.id, outcome);
    this.track(this.opts.gate.recordOutcome(d.id, outcome));
  }

  /**
   * The channel left Stasis without the gate's release. An allowed attempt whose hangup was seen ends
   * with that outcome (never placed: not answered, its cause); one whose end was not seen (the
   * dialplan's backstop took it, the PBX restarted) is given up as unknown — nothing is made up.
   */
  private finishGone(call: Call): void {
    const d = call.decision;
    if (!d) {
      call.state = 'done';
      this.calls.delete(call.channelId);
      return;
    }
    this.opts.onHandled?.({ channelId: call.channelId, verdict: d.verdict, action: 'none', decisionId: d.id });
    if (d.verdict !== 'allow') {
      call.state = 'done';
      this.calls.delete(call.channelId);
      return;
    }
    if (call.ended) return this.recordOutcome(call, call.ended);
    if (call.goneCause) {
      const outcome: CallOutcome = {
        answered: false,
        durationMs: 0,
        hangupCause: String(call.goneCause),
        endedAt: this.opts.gate.clock.now(),
      };
      this.recordOutcome(call, outcome);
      return;
    }
    this.giveUp([call], 'the channel left Stasis before the gate released it, and its end was not seen');
  }

  /** Allowed calls whose end this gate cannot see: no outcome is written; one warning says how many. */
  private giveUp(calls: Call[], why: string): void {
    if (calls.length === 0) return;
    for (const call of calls) {
      call.state = 'done';
      this.calls.delete(call.channelId);
      this.opts.onOutcome?.((call.decision as Decision).id, 'unknown');
    }
    this.unknownOutcomes += calls.length;
    this.log.warn(
      {
        code: 'CG_ERR_OUTCOME_UNKNOWN',
        count: calls.length,
        decisionIds: calls.slice(0, 20).map((c) => (c.decision as Decision).id),
      },
      `outcome unknown for ${calls.length} allowed call${calls.length === 1 ? '' : 's'}: ${why}. Their attempts stay counted (FREQ-2); no outcome is recorded for them`,
    );
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

  /**
   * After each (re)connect: ask for only the events the adapter reads, reconcile the calls it
   * follows, re-apply pending decisions, decide channels left in the app without one.
   */
  private async recover(): Promise<void> {
    await this.applyEventFilter();
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
    const tracked = [...this.calls.values()].filter((c) => c.state === 'tracking');
    const lost: Call[] = [];
    await Promise.all(tracked.map((c) => this.reconcile(c, lost)));
    this.giveUp(lost, 'they ended while ARI was disconnected, so their end was not seen');
    for (const call of [...this.calls.values()]) {
      if (call.state !== 'pending') continue;
      if (!present.has(call.channelId)) {
        call.goneCause ??= call.requestCause ?? 0;
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
      this.track(this.onStasisStart(ch, args, false));
    }
  }

  private async applyEventFilter(): Promise<void> {
    try {
      const applied = await this.rest.setEventFilter(ARI_EVENT_TYPES);
      if (!applied)
        this.log.warn(
          { app: this.opts.config.app },
          'Asterisk did not apply the application event filter (PUT /applications/{app}/eventFilter needs Asterisk 16.3 or later): every event of the calls the gate follows is still sent to it, which costs the PBX CPU',
        );
    } catch (e) {
      this.log.warn({ err: e instanceof Error ? e.message : String(e) }, 'could not set the application event filter');
    }
  }

  /**
   * A call followed before the connection dropped: subscribe again (first, so no event is missed from
   * here on), then read its state. Gone → its end was not seen. Up → answered (when, if not seen
   * before, is unknown, and so is the duration). Events missed in between are not guessed at.
   */
  private async reconcile(call: Call, lost: Call[]): Promise<void> {
    try {
      await this.rest.subscribeChannel(call.channelId);
      const ch = await this.rest.getChannel(call.channelId);
      if (!ch) {
        if (call.state === 'tracking') lost.push(call);
        return;
      }
      if (ch.state === 'Up') call.tracker.answeredUnseen();
    } catch (e) {
      if (e instanceof AriHttpError && e.channelGone) {
        if (call.state === 'tracking') lost.push(call);
        return;
      }
      this.repeats.warn(
        'asterisk.refollow',
        { channel: call.channelId, err: e instanceof Error ? e.message : String(e) },
        'could not follow this call again after the reconnect; trying at the next one',
      );
    }
  }
}
