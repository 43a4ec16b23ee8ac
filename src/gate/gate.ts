/**
 * The gate service: attempt → facts (store) → core.evaluate → atomic record →
 * decision, under a deadline, with the configured fail mode.
 *
 * Legal sources: the frequency check and the recording of an allowed attempt
 * are one atomic step (FR-RULES FREQ-1, C. consom. D. 223-9 al. 3: "tenter de
 * démarcher" at most 4 times in 30 days, across every site and gate of the
 * professional); when the gate cannot decide, GATE-1's fail mode decides.
 *
 * Deadline design (GATE-1): decide() races the work against a timer.
 *  - The work checks `run.expired` before every store write: once the deadline
 *    has fired it writes nothing of its own.
 *  - A commit already in flight when the deadline fires cannot be recalled: if
 *    it recorded an allowed attempt, the work releases that attempt at once
 *    (store.releaseAttempt) so the caller, told "fail mode", is not charged an
 *    attempt it did not place. The late decision stays in the audit, with a warn.
 *  - The fail-mode decision gets its own id and is committed (best effort, in
 *    the background) so the audit shows what the PBX was told. With failMode
 *    open the call is placed, so its attempt is recorded (no limit check).
 *
 * Writes still running after their decision was given are tracked; drain()
 * lets shutdown wait for them before the store closes.
 *
 * Exactly one info line per decision; causes of fail-mode decisions at warn
 * (deadline) or error (store fault, internal fault).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { EMPTY_FACTS, evaluate, failModeDecision, frequencyWindowStart, locateCallee } from '../core';
import { regimeAt } from '../core/regime';
import type { CallAttempt, Campaign, Decision, Facts, Policy, Professional } from '../core/types';
import type { Config } from '../config/schema';
import type { ErrorCode } from '../errors';
import type { Clock } from './clock';
import { maskNumber } from './mask';
import type { DecideOptions, GateService } from './service';
import type { CallOutcome, CommitOptions, Store } from './store';

export type GateDeps = {
  store: Store;
  config: Config;
  clock: Clock;
  logger: Logger;
  /** Decision ids; default crypto.randomUUID. */
  idGenerator?: () => string;
};

type EvalContext = {
  decisionId: string;
  campaign: Campaign;
  campaignKnown: boolean;
  professional?: Professional;
  policy: Policy;
};

type Run = { expired: boolean; stage: 'facts' | 'evaluate' | 'commit' };

/** How many times a commit refused by a concurrent gate is re-evaluated before giving up (fault). */
const MAX_COMMIT_TRIES = 3;
/** Unknown campaign ids warned about once each, up to this many. */
const MAX_UNKNOWN_CAMPAIGNS_WARNED = 1000;

export class Gate implements GateService {
  readonly clock: Clock;
  private readonly store: Store;
  private readonly config: Config;
  private readonly log: Logger;
  private readonly newId: () => string;
  private readonly campaigns: Map<string, Campaign>;
  private readonly professionals: Map<string, Professional>;
  private readonly policy: Policy;
  private readonly maxAttempts: number;
  private readonly mask: (n: string) => string;
  private readonly unknownCampaigns = new Set<string>();
  /** Writes still running after their decision was given: fail-mode audit commits, late work. */
  private readonly background = new Set<Promise<void>>();

  constructor(deps: GateDeps) {
    this.store = deps.store;
    this.config = deps.config;
    this.clock = deps.clock;
    this.log = deps.logger.child({ component: 'gate' });
    this.newId = deps.idGenerator ?? randomUUID;
    this.campaigns = new Map(deps.config.campaigns.map((c) => [c.id, c]));
    // A call that names the default campaign explicitly is attributed to it, not 'unknown'.
    if (!this.campaigns.has(deps.config.defaultCampaign.id))
      this.campaigns.set(deps.config.defaultCampaign.id, deps.config.defaultCampaign);
    this.professionals = new Map(deps.config.professionals.map((p) => [p.id, p]));
    this.policy = deps.config.policy;
    this.maxAttempts = this.policy.monitorOnly ? Infinity : this.policy.maxAttempts;
    this.mask = deps.config.log.maskNumbers ? maskNumber : (n) => n;
  }

  decide(attempt: CallAttempt, opts: DecideOptions = {}): Promise<Decision> {
    const started = process.hrtime.bigint();
    const record = opts.record ?? true;
    const deadlineMs = opts.deadlineMs ?? this.config.gate.deadlineMs;
    const ctx = this.context(attempt);
    const run: Run = { expired: false, stage: 'facts' };
    const work = this.work(attempt, ctx, record, run);

    return new Promise<Decision>((resolve) => {
      let settled = false;
      const timer =
        Number.isFinite(deadlineMs) && deadlineMs >= 0
          ? setTimeout(() => {
              if (settled) return;
              settled = true;
              run.expired = true;
              this.track(work);
              resolve(
                this.failMode(
                  attempt,
                  ctx,
                  record,
                  started,
                  'CG_ERR_GATE_DEADLINE',
                  `deadline of ${deadlineMs} ms passed during ${run.stage}`,
                ),
              );
            }, deadlineMs)
          : undefined;
      work.then(
        (decision) => {
          if (settled) return; // late: work() has already undone any attempt it recorded
          settled = true;
          if (timer) clearTimeout(timer);
          this.logDecision(decision, attempt, started);
          resolve(decision);
        },
        (err: unknown) => {
          if (settled) {
            this.log.warn(
              { code: 'CG_ERR_STORE_FAULT', err, stage: run.stage },
              'late failure after the deadline (fail-mode decision already given)',
            );
            return;
          }
          settled = true;
          if (timer) clearTimeout(timer);
          const code: ErrorCode = run.stage === 'evaluate' ? 'CG_ERR_INTERNAL' : 'CG_ERR_STORE_FAULT';
          resolve(this.failMode(attempt, ctx, record, started, code, `${run.stage} failed`, err));
        },
      );
    });
  }

  /**
   * Waits (at most `timeoutMs`) for writes still running after their decision
   * was given, so that shutdown closes the store after them. False on timeout.
   */
  async drain(timeoutMs = 2000): Promise<boolean> {
    if (this.background.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const done = Promise.all([...this.background]).then(() => true as const);
    const ok = await Promise.race([done, timeout]);
    clearTimeout(timer);
    if (!ok)
      this.log.warn({ pending: this.background.size }, 'shutdown: some late store writes did not finish in time');
    return ok;
  }

  private track(p: Promise<unknown>): void {
    const q: Promise<void> = p.then(
      () => undefined,
      () => undefined,
    );
    this.background.add(q);
    void q.then(() => this.background.delete(q));
  }

  async recordOutcome(decisionId: string, outcome: CallOutcome): Promise<void> {
    try {
      const found = await this.store.recordOutcome(decisionId, outcome);
      if (!found)
        this.log.warn({ code: 'CG_ERR_OUTCOME', decisionId }, 'outcome for an unknown decision id, not recorded');
    } catch (err) {
      this.log.error({ code: 'CG_ERR_OUTCOME', decisionId, err }, 'could not record the call outcome');
    }
  }

  private context(attempt: CallAttempt): EvalContext {
    const id = attempt.campaignId;
    const known = id !== undefined ? this.campaigns.get(id) : undefined;
    if (id !== undefined && known === undefined) this.warnUnknownCampaign(id);
    const campaign = known ?? this.config.defaultCampaign;
    return {
      decisionId: this.newId(),
      campaign,
      campaignKnown: known !== undefined,
      professional: this.professionals.get(campaign.professional),
      policy: this.policy,
    };
  }

  private async work(attempt: CallAttempt, ctx: EvalContext, record: boolean, run: Run): Promise<Decision> {
    const located = locateCallee(attempt);
    const windowStart = frequencyWindowStart(attempt.at, this.policy);
    let facts: Facts = EMPTY_FACTS;
    if (located.ok) {
      facts = await this.store.getFacts({
        e164: located.number.e164,
        professional: ctx.campaign.professional,
        at: attempt.at,
        windowStart,
        campaignId: ctx.campaign.id,
      });
    }
    run.stage = 'evaluate';
    let decision = evaluate(attempt, facts, ctx);
    for (let tries = 1; ; tries++) {
      if (run.expired) return decision; // the caller already has the fail-mode decision: write nothing
      const recordAttempt = record && decision.verdict === 'allow' && decision.callee !== undefined;
      const opts: CommitOptions = { recordAttempt, windowStart, maxAttempts: this.maxAttempts };
      run.stage = 'commit';
      const res = await this.store.commitDecision(decision, opts);
      if (res.ok) {
        if (run.expired && recordAttempt) await this.undoLateAttempt(decision);
        return decision;
      }
      // A concurrent gate placed an attempt between our read and our write: judge again with its count.
      if (tries >= MAX_COMMIT_TRIES) throw new Error(`commit refused ${tries} times by the frequency check`);
      run.stage = 'evaluate';
      decision = evaluate(attempt, { ...facts, recentAttempts: res.recentAttempts }, ctx);
    }
  }

  private async undoLateAttempt(decision: Decision): Promise<void> {
    try {
      const released = await this.store.releaseAttempt(decision.id);
      this.log.warn(
        { code: 'CG_ERR_GATE_DEADLINE', decisionId: decision.id, released },
        'a commit finished after the deadline; its attempt was released (the PBX was given the fail-mode decision)',
      );
    } catch (err) {
      this.log.error(
        { code: 'CG_ERR_STORE_FAULT', decisionId: decision.id, err },
        'a commit finished after the deadline and its attempt could not be released: it counts towards the frequency limit',
      );
    }
  }

  private failMode(
    attempt: CallAttempt,
    ctx: EvalContext,
    record: boolean,
    started: bigint,
    code: ErrorCode,
    why: string,
    cause?: unknown,
  ): Decision {
    const fctx: EvalContext = { ...ctx, decisionId: this.newId() };
    let decision: Decision;
    try {
      decision = failModeDecision(attempt, fctx, `${code}: ${why}`);
    } catch (err) {
      // Never reject: without core's help, block (the safe side) and say so.
      this.log.error({ code: 'CG_ERR_INTERNAL', err }, 'failModeDecision threw; blocking');
      decision = fallbackBlock(attempt, fctx, `${code}: ${why}`);
    }
    const fields = {
      code,
      decisionId: decision.id,
      failMode: this.policy.failMode,
      err: cause,
      supersedes: ctx.decisionId,
    };
    if (code === 'CG_ERR_GATE_DEADLINE') this.log.warn(fields, `fail mode decided: ${why}`);
    else this.log.error(fields, `fail mode decided: ${why}`);
    this.logDecision(decision, attempt, started);

    const recordAttempt = record && decision.verdict === 'allow' && decision.callee !== undefined;
    const windowStart = frequencyWindowStart(attempt.at, this.policy);
    this.track(
      Promise.resolve()
        .then(() => this.store.commitDecision(decision, { recordAttempt, windowStart, maxAttempts: Infinity }))
        .then(
          () => undefined,
          (err: unknown) =>
            this.log.error(
              { code: 'CG_ERR_STORE_FAULT', decisionId: decision.id, err },
              'could not write the fail-mode decision to the audit',
            ),
        ),
    );
    return decision;
  }

  private logDecision(d: Decision, attempt: CallAttempt, started: bigint): void {
    if (!this.log.isLevelEnabled('info')) return;
    const latencyUs = Number(process.hrtime.bigint() - started) / 1000;
    this.log.info(
      {
        decisionId: d.id,
        verdict: d.verdict,
        reasons: d.reasons.map((r) => r.code),
        tags: d.tags,
        to: this.mask(d.callee?.e164 ?? attempt.to),
        callerId: this.mask(d.callerId.e164 ?? d.callerId.number),
        campaign: d.campaign.id,
        professional: d.campaign.professional,
        monitorOnly: d.monitorOnly,
        pbx: attempt.source.pbx,
        channelId: attempt.source.channelId,
        latencyUs: Math.round(latencyUs),
      },
      'decision',
    );
  }

  private warnUnknownCampaign(id: string): void {
    if (this.unknownCampaigns.has(id) || this.unknownCampaigns.size >= MAX_UNKNOWN_CAMPAIGNS_WARNED) return;
    this.unknownCampaigns.add(id);
    this.log.warn(
      { campaignId: id, defaultCampaign: this.config.defaultCampaign.id },
      `unknown campaign id '${id}': judged as the default campaign (add it to campaigns: in callgate.yaml)`,
    );
  }
}

/** Last resort when core itself fails: a GATE-1 block that says why. */
function fallbackBlock(attempt: CallAttempt, ctx: EvalContext, why: string): Decision {
  return {
    id: ctx.decisionId,
    verdict: 'block',
    reasons: [
      {
        code: 'gate_unavailable',
        rule: 'GATE-1',
        message: `the gate could not decide (${why})`,
        legalRef: 'FR-RULES GATE-1 (policy failMode)',
      },
    ],
    tags: [],
    regime: regimeAt(attempt.at, ctx.policy),
    basis: 'none',
    at: attempt.at,
    callerId: { number: attempt.callerId.number, presentation: attempt.callerId.presentation },
    campaign: {
      id: ctx.campaign.id,
      professional: ctx.campaign.professional,
      dialing: ctx.campaign.dialing,
      purpose: ctx.campaign.purpose,
    },
    rules: [{ rule: 'GATE-1', outcome: 'fail', note: why }],
    monitorOnly: false,
    source: attempt.source,
  };
}
