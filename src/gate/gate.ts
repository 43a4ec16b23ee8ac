/**
 * The gate service: attempt → facts (store) → core.evaluate → atomic record →
 * decision, under a deadline, with the configured fail mode.
 *
 * Legal sources: the frequency check and the recording of an allowed attempt
 * are one atomic step (FR-RULES FREQ-1, C. consom. D. 223-9 al. 3: "tenter de
 * démarcher" at most 4 times in 30 days, across every site and gate of the
 * professional); when the gate cannot decide, GATE-1's fail mode decides.
 *
 * Hot path: store.decideAndCommit reads the facts, calls core.evaluate and
 * writes the decision and attempt in ONE store transaction (the SQLite store
 * groups concurrent calls into one COMMIT), so the frequency count the core
 * sees is authoritative and the decision is durable before the PBX hears it.
 *
 * Deadline design (GATE-1): decide() races the work against a timer.
 *  - The evaluate callback checks `run.expired` inside the transaction: once
 *    the deadline has fired it returns undefined and the store writes nothing.
 *  - A write that finishes after the deadline although its callback ran in time
 *    (an asynchronous store) cannot be recalled: if it recorded an allowed
 *    attempt, the work releases that attempt at once (store.releaseAttempt) so
 *    the caller, told "fail mode", is not charged an attempt it did not place.
 *    The late decision stays in the audit, with a warn.
 *  - The fail-mode decision gets its own id and is committed (best effort, in
 *    the background) so the audit shows what the PBX was told. With failMode
 *    open the call is placed, so its attempt is recorded (no limit check).
 *
 * Decision ids are time-ordered (UUIDv7 layout, RFC 9562: ms timestamp, a
 * counter, a crypto-random tail) so the audit's primary-key index appends;
 * PBX adapters carry them as opaque strings.
 *
 * Writes still running after their decision was given are tracked; drain()
 * lets shutdown wait for them before the store closes.
 *
 * At most one info line per decision (log.decisions: by default the blocks and
 * monitor mode's would-be blocks, or all, or none); causes of fail-mode
 * decisions at warn (deadline) or error (store fault, internal fault).
 */
import { randomFillSync } from 'node:crypto';
import type { Logger } from 'pino';
import {
  EMPTY_FACTS,
  evaluate,
  failModeDecision,
  frequencyWindowStart,
  isJudgeableInstant,
  locateCallee,
  quoteValue,
} from '../core';
import { regimeAt } from '../core/regime';
import type { CallAttempt, Campaign, Decision, Policy, Professional } from '../core/types';
import type { Config } from '../config/schema';
import type { ErrorCode } from '../errors';
import type { Clock } from './clock';
import { infoLineWriter, limitRepeats, type RepeatLimiter } from './logger';
import { maskNumber } from './mask';
import type { DecideOptions, DecisionEvent, GateService } from './service';
import type { CallOutcome, CommitOptions, Store } from './store';

export type GateDeps = {
  store: Store;
  config: Config;
  clock: Clock;
  logger: Logger;
  /** Decision ids; default timeOrderedId (UUIDv7 layout). */
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

/** Unknown campaign ids warned about once each, up to this many. */
const MAX_UNKNOWN_CAMPAIGNS_WARNED = 1000;
/** Tries of a fail-mode decision's audit write while the store stays locked (backoff 0.1 s doubling to 2 s). */
const FAIL_AUDIT_TRIES = 10;
/**
 * Tries while the store cannot be reached (StoreError.transient: a PostgreSQL server that is down
 * or cut off), ~5 minutes: with failMode open the call was placed, and its attempt must reach the
 * store once it is back.
 */
const FAIL_AUDIT_TRANSIENT_TRIES = 150;

export class Gate implements GateService {
  readonly clock: Clock;
  private readonly store: Store;
  private readonly config: Config;
  private readonly log: Logger;
  /** Warnings that come once per call under overload or a store fault: a few, then a count. */
  private readonly repeats: RepeatLimiter;
  /** The decision line without pino's generic serializer (a logger from createLogger), see logDecision. */
  private readonly decisionLine: ReturnType<typeof infoLineWriter>;
  private readonly newId: () => string;
  private readonly campaigns: Map<string, Campaign>;
  private readonly professionals: Map<string, Professional>;
  private readonly policy: Policy;
  private readonly maxAttempts: number;
  private readonly mask: (n: string) => string;
  /** log.decisions: which decisions get their info line. */
  private readonly logDecisions: Config['log']['decisions'];
  private readonly unknownCampaigns = new Set<string>();
  /** The last caller ID of a decision line, and its masked form. */
  private lastCallerId: string | undefined;
  private lastCallerIdMasked = '';
  /** Writes still running after their decision was given: fail-mode audit commits, late work. */
  private readonly background = new Set<Promise<void>>();
  /** Told of every decision given (see observe()). */
  private observers: ((e: DecisionEvent) => void)[] = [];
  /**
   * Counters read by the admin API's metrics when scraped (nothing to do on the hot path):
   * store faults the gate met (a decision's read or write, a fail-mode audit, a late write, an
   * outcome), and decisions the fail mode took.
   */
  readonly stats = { storeErrors: 0, failModeDecisions: 0 };

  constructor(deps: GateDeps) {
    this.store = deps.store;
    this.config = deps.config;
    this.clock = deps.clock;
    this.log = deps.logger.child({ component: 'gate' });
    this.repeats = limitRepeats(this.log);
    this.decisionLine = infoLineWriter(this.log);
    this.newId = deps.idGenerator ?? timeOrderedId;
    this.campaigns = new Map(deps.config.campaigns.map((c) => [c.id, c]));
    // A call that names the default campaign explicitly is attributed to it, not 'unknown'.
    if (!this.campaigns.has(deps.config.defaultCampaign.id))
      this.campaigns.set(deps.config.defaultCampaign.id, deps.config.defaultCampaign);
    this.professionals = new Map(deps.config.professionals.map((p) => [p.id, p]));
    this.policy = deps.config.policy;
    this.maxAttempts = this.policy.monitorOnly ? Infinity : this.policy.maxAttempts;
    this.mask = deps.config.log.maskNumbers ? maskNumber : (n) => n;
    this.logDecisions = deps.config.log.decisions;
  }

  decide(attempt: CallAttempt, opts: DecideOptions = {}): Promise<Decision> {
    const started = performance.now(); // ms, a double with sub-µs precision: no BigInt per decision
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
          if (decision === undefined) {
            // cannot happen (undefined only after the deadline fired); decide safely all the same
            resolve(this.failMode(attempt, ctx, record, started, 'CG_ERR_INTERNAL', 'the store wrote no decision'));
            return;
          }
          this.logDecision(decision, attempt, started);
          if (this.observers.length > 0) this.emit(decision, started, record, undefined);
          resolve(decision);
        },
        (err: unknown) => {
          if (settled) {
            this.stats.storeErrors++;
            this.repeats.warn(
              'gate.late-failure',
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

  failModeDecision(attempt: CallAttempt, why: string, opts: { record?: boolean } = {}): Decision {
    return this.failMode(
      attempt,
      this.context(attempt),
      opts.record ?? true,
      performance.now(),
      'CG_ERR_GATE_DEADLINE',
      why,
    );
  }

  /**
   * Calls `observer` after each decision the gate gives from now on (metrics, the live view), with
   * the decision, its duration and whether its attempt was recorded. Synchronous, on the hot path:
   * the observer must be quick; what it throws is swallowed. Returns the function that stops it.
   */
  observe(observer: (e: DecisionEvent) => void): () => void {
    this.observers = [...this.observers, observer];
    return () => {
      this.observers = this.observers.filter((o) => o !== observer);
    };
  }

  private emit(decision: Decision, started: number, record: boolean, failCode: ErrorCode | undefined): void {
    const e: DecisionEvent = {
      decision,
      durationNs: Math.round((performance.now() - started) * 1e6),
      recorded: record && decision.verdict === 'allow' && decision.callee !== undefined,
    };
    if (failCode !== undefined) e.failCode = failCode;
    for (const o of this.observers) {
      try {
        o(e);
      } catch {
        // an observer's fault must never reach a call
      }
    }
  }

  /**
   * What the gate would decide for `attempt`, from the store's facts, WITHOUT writing anything (no
   * audit row, no attempt) and without the deadline: for the admin API's number lookup (when may
   * this consumer next be called). Rejects on a store fault (there is no fail mode: nothing is at
   * stake). Not a decision to act on: a call must go through decide().
   */
  async preview(attempt: CallAttempt): Promise<Decision> {
    const ctx = this.context(attempt);
    const located = locateCallee(attempt);
    const at = validInstant(attempt);
    if (!located.ok || at === undefined) return evaluate(attempt, EMPTY_FACTS, ctx);
    const facts = await this.store.getFacts({
      e164: located.number.e164,
      professional: ctx.campaign.professional,
      at,
      windowStart: frequencyWindowStart(at, this.policy),
      campaignId: ctx.campaign.id,
      opposition: regimeAt(at, this.policy) === 'opposition',
    });
    return evaluate(attempt, facts, ctx);
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
        this.repeats.warn(
          'gate.outcome-unknown-id',
          { code: 'CG_ERR_OUTCOME', decisionId },
          'outcome for an unknown decision id, not recorded',
        );
    } catch (err) {
      this.stats.storeErrors++;
      this.repeats.error(
        'gate.outcome-failed',
        { code: 'CG_ERR_OUTCOME', decisionId, err },
        'could not record the call outcome',
      );
    }
  }

  private context(attempt: CallAttempt): EvalContext {
    const id = attempt?.campaignId;
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

  /**
   * Locate, then facts + evaluate + record in one store transaction
   * (decideAndCommit): the facts are authoritative, so the frequency check
   * needs no second count and no re-evaluation. Undefined only when the
   * deadline passed before the store ran the callback (nothing was written).
   */
  private async work(attempt: CallAttempt, ctx: EvalContext, record: boolean, run: Run): Promise<Decision | undefined> {
    const located = locateCallee(attempt);
    const at = validInstant(attempt);
    const windowStart = at ? frequencyWindowStart(at, this.policy) : new Date(0);
    if (!located.ok || at === undefined) {
      // No callee number, or no instant to judge it at (GATE-1): nothing to read or count; the
      // block goes to the audit.
      run.stage = 'evaluate';
      const decision = evaluate(attempt, EMPTY_FACTS, ctx);
      if (run.expired) return undefined;
      run.stage = 'commit';
      await this.store.commitDecision(decision, { recordAttempt: false, windowStart, maxAttempts: this.maxAttempts });
      return decision;
    }
    const decision = await this.store.decideAndCommit(
      {
        e164: located.number.e164,
        professional: ctx.campaign.professional,
        at: attempt.at,
        windowStart,
        campaignId: ctx.campaign.id,
        opposition: regimeAt(at, this.policy) === 'opposition',
      },
      (facts) => {
        if (run.expired) return undefined; // the caller already has the fail-mode decision: write nothing
        run.stage = 'evaluate';
        const d = evaluate(attempt, facts, ctx);
        run.stage = 'commit';
        return d;
      },
      { recordAttempt: record, maxAttempts: this.maxAttempts },
    );
    // A store whose write finished after the deadline (the callback ran in time): undo the attempt.
    if (decision !== undefined && run.expired && record && decision.verdict === 'allow')
      await this.undoLateAttempt(decision);
    return decision;
  }

  private async undoLateAttempt(decision: Decision): Promise<void> {
    try {
      const released = await this.store.releaseAttempt(decision.id);
      this.repeats.warn(
        'gate.late-commit',
        { code: 'CG_ERR_GATE_DEADLINE', decisionId: decision.id, released },
        'a commit finished after the deadline; its attempt was released (the PBX was given the fail-mode decision)',
      );
    } catch (err) {
      this.stats.storeErrors++;
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
    started: number,
    code: ErrorCode,
    why: string,
    cause?: unknown,
  ): Decision {
    // core's one builder of fail-mode decisions never throws, whatever the attempt holds
    const decision = failModeDecision(attempt, { ...ctx, decisionId: this.newId() }, `${code}: ${why}`);
    const fields = {
      code,
      decisionId: decision.id,
      failMode: this.policy.failMode,
      err: cause,
      supersedes: ctx.decisionId,
    };
    if (code === 'CG_ERR_GATE_DEADLINE')
      this.repeats.warn(`gate.fail-mode.${code}`, fields, `fail mode decided: ${why}`);
    else this.repeats.error(`gate.fail-mode.${code}`, fields, `fail mode decided: ${why}`);
    this.logDecision(decision, attempt, started);
    this.stats.failModeDecisions++;
    if (code === 'CG_ERR_STORE_FAULT') this.stats.storeErrors++;
    if (this.observers.length > 0) this.emit(decision, started, record, code);

    const recordAttempt = record && decision.verdict === 'allow' && decision.callee !== undefined;
    const at = validInstant(attempt);
    const windowStart = at ? frequencyWindowStart(at, this.policy) : new Date(0);
    this.track(this.auditFailMode(decision, { recordAttempt, windowStart, maxAttempts: Infinity }));
    return decision;
  }

  /**
   * Writes a fail-mode decision to the audit, in the background. A store that stayed locked (an
   * import's merge, the very thing that made the gate fail) is tried again a few times, ~15 s
   * in all on top of the store's own waits, so that the block the PBX was given is not missing
   * from the audit; a store that cannot be reached (PostgreSQL down) for ~5 minutes; other
   * faults are logged at once.
   */
  private async auditFailMode(decision: Decision, opts: CommitOptions): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.store.commitDecision(decision, opts);
        return;
      } catch (err) {
        const busy = String((err as { cause?: { code?: unknown } })?.cause?.code ?? '').startsWith('SQLITE_BUSY');
        const away = (err as { transient?: unknown })?.transient === true;
        if (!(busy || away) || attempt >= (away ? FAIL_AUDIT_TRANSIENT_TRIES : FAIL_AUDIT_TRIES)) {
          this.stats.storeErrors++;
          this.repeats.error(
            'gate.fail-mode-audit',
            { code: 'CG_ERR_STORE_FAULT', decisionId: decision.id, err, tries: attempt },
            'could not write the fail-mode decision to the audit',
          );
          return;
        }
        await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** (attempt - 1))).unref());
      }
    }
  }

  /** The decision's info line, if log.decisions asks for it. Never throws: a line that cannot be written must not hold the answer back. */
  private logDecision(d: Decision, attempt: CallAttempt, started: number): void {
    try {
      this.writeDecisionLine(d, attempt, started);
    } catch (err) {
      try {
        this.log.error({ code: 'CG_ERR_INTERNAL', decisionId: d.id, err }, 'could not log a decision');
      } catch {
        // the logger itself is broken: the audit row is what counts
      }
    }
  }

  private writeDecisionLine(d: Decision, attempt: CallAttempt, started: number): void {
    // 'blocks': a block, or in monitor mode an allowed call with the reasons it would be blocked for
    if (
      this.logDecisions !== 'all' &&
      (this.logDecisions === 'none' || (d.verdict === 'allow' && d.reasons.length === 0))
    )
      return;
    if (!this.log.isLevelEnabled('info')) return;
    const latencyUs = Math.round((performance.now() - started) * 1000);
    const rawTo: unknown = attempt?.to;
    const to = this.mask(d.callee?.e164 ?? (typeof rawTo === 'string' ? rawTo : String(rawTo)));
    const callerIdRaw = d.callerId.e164 ?? d.callerId.number;
    // the caller ID repeats from one call to the next: masked once
    if (callerIdRaw !== this.lastCallerId) {
      this.lastCallerId = callerIdRaw;
      this.lastCallerIdMasked = this.mask(callerIdRaw);
    }
    const callerId = this.lastCallerIdMasked;
    // core's copy of the source (a caller may have sent none)
    const pbx = d.source.pbx;
    const channelId = d.source.channelId;
    if (this.decisionLine) {
      // the same fields, in the same order, as the object below; the values that repeat from one
      // decision to the next (reason codes, tags, campaign, caller ID, PBX) quoted once each
      let reasons = '[';
      for (let i = 0; i < d.reasons.length; i++) reasons += (i === 0 ? '' : ',') + quoted(d.reasons[i]!.code);
      let tags = '[';
      for (let i = 0; i < d.tags.length; i++) tags += (i === 0 ? '' : ',') + quoted(d.tags[i]!);
      this.decisionLine(
        `"decisionId":${JSON.stringify(d.id)},"verdict":"${d.verdict}","reasons":${reasons}],"tags":${tags}],"to":${JSON.stringify(to)},"callerId":${quoted(callerId)},"campaign":${quoted(d.campaign.id)},"professional":${quoted(d.campaign.professional)},"monitorOnly":${d.monitorOnly},"pbx":${quoted(pbx)}${channelId === undefined ? '' : `,"channelId":${JSON.stringify(channelId)}`},"latencyUs":${latencyUs}`,
        'decision',
      );
      return;
    }
    const reasons = d.reasons.map((r) => r.code);
    this.log.info(
      {
        decisionId: d.id,
        verdict: d.verdict,
        reasons,
        tags: d.tags,
        to,
        callerId,
        campaign: d.campaign.id,
        professional: d.campaign.professional,
        monitorOnly: d.monitorOnly,
        pbx,
        channelId,
        latencyUs,
      },
      'decision',
    );
  }

  private warnUnknownCampaign(id: string): void {
    if (this.unknownCampaigns.has(id) || this.unknownCampaigns.size >= MAX_UNKNOWN_CAMPAIGNS_WARNED) return;
    this.unknownCampaigns.add(id);
    this.log.warn(
      { campaignId: id, defaultCampaign: this.config.defaultCampaign.id },
      `unknown campaign id ${quoteValue(id)}: judged as the default campaign (add it to campaigns: in callgate.yaml)`,
    );
  }
}

/** JSON strings of the values of decision lines that repeat (reason codes, tags, campaign ids, caller IDs), bounded. */
const QUOTED = new Map<string, string>();
function quoted(s: string): string {
  if (typeof s !== 'string') return JSON.stringify(s); // (core gives strings; anything else as before)
  let j = QUOTED.get(s);
  if (j === undefined) {
    j = JSON.stringify(s);
    if (QUOTED.size >= 1024) QUOTED.clear();
    QUOTED.set(s, j);
  }
  return j;
}

/** attempt.at when it is a valid Date; a dialer may send anything (core then blocks with GATE-1). */
/** The attempt's instant when core can judge it (a valid Date within its years), else undefined. */
function validInstant(attempt: CallAttempt): Date | undefined {
  const at: unknown = attempt?.at;
  return isJudgeableInstant(at) ? at : undefined;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
/** Random bytes drawn 4 KiB at a time (one getrandom call per ~400 ids). */
const ID_POOL = Buffer.alloc(4096);
let idPoolAt = ID_POOL.length;
let idLastMs = -1;
let idSeq = 0;
/** The id's timestamp part ('xxxxxxxx-xxxx-') of idHeadMs: formatted once per millisecond. */
let idHead = '';
let idHeadMs = -1;
/** The version nibble and 12-bit counter ('7xxx') by counter. */
const SEQ_HEX = Array.from({ length: 0x1000 }, (_, i) => (0x7000 | i).toString(16));

/**
 * A time-ordered decision id in the UUIDv7 layout (RFC 9562 §5.7, with the
 * §6.2 method 1 counter): 48-bit Unix ms, version 7, a 12-bit counter that
 * keeps ids of one process strictly increasing (seeded at random each new ms,
 * carried into the timestamp on overflow or when the clock steps back), the
 * variant, and 62 crypto-random bits so ids of different gates never collide.
 * Ids of one process sort in creation order; the audit's primary-key index
 * then appends instead of touching a random page per decision.
 */
export function timeOrderedId(now: number = Date.now()): string {
  if (idPoolAt + 10 > ID_POOL.length) {
    randomFillSync(ID_POOL);
    idPoolAt = 0;
  }
  const b = ID_POOL;
  const o = idPoolAt;
  idPoolAt += 10;
  if (now > idLastMs) {
    idLastMs = now;
    idSeq = ((b[o + 8]! << 8) | b[o + 9]!) & 0x7ff; // leaves room to count up within the ms
  } else if (++idSeq > 0xfff) {
    idLastMs++;
    idSeq = 0;
  }
  if (idLastMs !== idHeadMs) {
    const t = idLastMs.toString(16).padStart(12, '0');
    idHead = `${t.slice(0, 8)}-${t.slice(8, 12)}-`;
    idHeadMs = idLastMs;
  }
  return (
    `${idHead}${SEQ_HEX[idSeq]}-` +
    `${HEX[0x80 | (b[o]! & 0x3f)]}${HEX[b[o + 1]!]}-` +
    `${HEX[b[o + 2]!]}${HEX[b[o + 3]!]}${HEX[b[o + 4]!]}${HEX[b[o + 5]!]}${HEX[b[o + 6]!]}${HEX[b[o + 7]!]}`
  );
}
