/**
 * What the admin API learns from the gate's decisions as they are given (Gate.observe): the counts
 * behind the Prometheus metrics, the last hour per minute for the dashboard, and the decisions pushed
 * to the dashboards connected to GET /v1/events (server-sent events).
 *
 * The gate calls `record` once per decision, on its hot path (~20,000 decisions/s on one thread), so
 * it only adds to typed arrays indexed by small integers: no label objects, no strings built, no
 * allocation. Everything else (Prometheus text, JSON for the dashboard) is built when asked for.
 *
 * Label cardinality is bounded by the configuration: verdict (2) × reason (the reason codes of
 * FR-RULES.md, 'none' for a decision without reasons, 'other' for anything else) × campaign (the
 * configured campaign ids and the default campaign's, 'other' for anything else).
 */
import { REASON_CODES } from '../core/types';
import type { Decision } from '../core/types';
import type { Config } from '../config/schema';
import type { DecisionEvent } from '../gate/service';

/** Upper bounds of callgate_decision_duration_seconds, seconds (the gate answers in about a millisecond; its deadline is 0.5 s). */
export const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] as const;
const BUCKET_NS = DURATION_BUCKETS.map((s) => s * 1e9);

/** Minutes kept for the dashboard's last hour. */
export const MINUTES = 60;
/** The latest decisions kept (a newly opened dashboard shows them; a push sends at most these). */
const RECENT = 100;
/** How often the decisions given meanwhile are pushed, ms (the live view is ≤ this late). */
export const PUSH_EVERY_MS = 200;
/** How often the last hour's counts are pushed, ms. */
const STATS_EVERY_MS = 5000;

/** A decision as the live view shows it (numbers masked per log.maskNumbers). */
export type LiveDecision = {
  id: string;
  at: string;
  decidedAt: string;
  verdict: 'allow' | 'block';
  reasons: string[];
  tags: string[];
  campaign: string;
  professional: string;
  to: string;
  callerId: string;
  source: string;
  monitorOnly: boolean;
  failMode: boolean;
  recorded: boolean;
  retryAfter?: string;
  durationMs: number;
};

/** The dashboard's last hour (GET /v1/stats and the `stats` event). */
export type LiveStats = {
  since: string;
  now: string;
  minutes: { start: string; blocked: Record<string, number> }[];
  campaigns: { campaign: string; attempts: number; allowed: number; blocked: number }[];
  totals: { decisions: number; allowed: number; blocked: number; failMode: number };
};

/** A connected dashboard (GET /v1/events): where its events are written. */
export type LiveClient = { write(chunk: string): boolean; readonly writableNeedDrain?: boolean };

type Minute = {
  minute: number;
  blocked: Int32Array; // by reason index
  allowed: Int32Array; // by campaign index
  blockedBy: Int32Array; // by campaign index
  attempts: Int32Array; // by campaign index
};

export class LiveHub {
  readonly reasons: readonly string[];
  readonly campaigns: readonly string[];
  private readonly reasonIndex = new Map<string, number>();
  private readonly campaignIndex = new Map<string, number>();
  private readonly otherReason: number;
  private readonly otherCampaign: number;

  /** callgate_decisions_total by [verdict][reason][campaign], flattened. */
  readonly decisionCounts: Float64Array;
  /** callgate_decision_duration_seconds: count per bucket (not cumulative), then +Inf. */
  readonly durationBuckets: Float64Array;
  durationSumNs = 0;
  durationCount = 0;
  /** Decisions the fail mode took, as seen by this hub (the gate counts them too). */
  failModeDecisions = 0;

  private readonly minutes: Minute[] = [];
  private readonly startedAt = Date.now();
  /** A ring of the latest decisions and when they were given: no allocation per decision. */
  private readonly recentEvents: (DecisionEvent | undefined)[] = new Array<DecisionEvent | undefined>(RECENT);
  private readonly recentTimes = new Float64Array(RECENT);
  /** Decisions recorded so far; the ring holds numbers seq-RECENT..seq-1. */
  private seq = 0;
  /** Decisions up to this number were pushed. */
  private pushed = 0;
  private readonly clients = new Set<LiveClient>();
  private pushTimer: NodeJS.Timeout | undefined;
  private statsTimer: NodeJS.Timeout | undefined;

  constructor(
    config: Config,
    private readonly mask: (n: string) => string,
    private readonly now: () => number = Date.now,
  ) {
    this.reasons = ['none', ...REASON_CODES, 'other'];
    this.reasons.forEach((r, i) => this.reasonIndex.set(r, i));
    this.otherReason = this.reasons.length - 1;
    this.campaigns = [...new Set([...config.campaigns.map((c) => c.id), config.defaultCampaign.id]), 'other'];
    this.campaigns.forEach((c, i) => this.campaignIndex.set(c, i));
    this.otherCampaign = this.campaigns.length - 1;
    this.decisionCounts = new Float64Array(2 * this.reasons.length * this.campaigns.length);
    this.durationBuckets = new Float64Array(DURATION_BUCKETS.length + 1);
  }

  /** The gate's observer: called once per decision, on the hot path. */
  readonly record = (e: DecisionEvent): void => {
    const d = e.decision;
    const v = d.verdict === 'block' ? 1 : 0;
    const first = d.reasons.length > 0 ? d.reasons[0]!.code : 'none';
    const r = this.reasonIndex.get(first) ?? this.otherReason;
    const c = this.campaignIndex.get(d.campaign.id) ?? this.otherCampaign;
    this.decisionCounts[(v * this.reasons.length + r) * this.campaigns.length + c]!++;
    const ns = e.durationNs;
    let b = 0;
    while (b < BUCKET_NS.length && ns > BUCKET_NS[b]!) b++;
    this.durationBuckets[b]!++;
    this.durationSumNs += ns;
    this.durationCount++;
    if (e.failCode !== undefined) this.failModeDecisions++;

    const nowMs = this.now();
    const m = this.minute(nowMs);
    if (v === 1) {
      m.blockedBy[c]!++;
      for (const reason of d.reasons) m.blocked[this.reasonIndex.get(reason.code) ?? this.otherReason]!++;
      if (d.reasons.length === 0) m.blocked[0]!++;
    } else m.allowed[c]!++;
    if (e.recorded) m.attempts[c]!++;

    const slot = this.seq % RECENT;
    this.recentEvents[slot] = e;
    this.recentTimes[slot] = nowMs;
    this.seq++;
  };

  /** The bucket of the minute of `nowMs`, opening it (and forgetting minutes older than the hour) when new. */
  private minute(nowMs: number): Minute {
    const minute = Math.floor(nowMs / 60_000);
    const last = this.minutes[this.minutes.length - 1];
    if (last !== undefined && last.minute === minute) return last;
    if (last !== undefined && last.minute > minute) return last; // the clock stepped back: keep counting in the newest
    const m: Minute = {
      minute,
      blocked: new Int32Array(this.reasons.length),
      allowed: new Int32Array(this.campaigns.length),
      blockedBy: new Int32Array(this.campaigns.length),
      attempts: new Int32Array(this.campaigns.length),
    };
    this.minutes.push(m);
    while (this.minutes.length > 0 && this.minutes[0]!.minute <= minute - MINUTES) this.minutes.shift();
    return m;
  }

  /** The dashboard's last hour: blocked calls per reason per minute, and per campaign over the hour. */
  stats(): LiveStats {
    const nowMs = this.now();
    const current = Math.floor(nowMs / 60_000);
    const kept = this.minutes.filter((m) => m.minute > current - MINUTES);
    const byMinute = new Map(kept.map((m) => [m.minute, m]));
    const minutes: LiveStats['minutes'] = [];
    for (let k = current - MINUTES + 1; k <= current; k++) {
      const m = byMinute.get(k);
      const blocked: Record<string, number> = {};
      if (m) m.blocked.forEach((n, i) => n > 0 && (blocked[this.reasons[i]!] = n));
      minutes.push({ start: new Date(k * 60_000).toISOString(), blocked });
    }
    const campaigns = this.campaigns
      .map((campaign, i) => {
        let attempts = 0;
        let allowed = 0;
        let blocked = 0;
        for (const m of kept) {
          attempts += m.attempts[i]!;
          allowed += m.allowed[i]!;
          blocked += m.blockedBy[i]!;
        }
        return { campaign, attempts, allowed, blocked };
      })
      .filter((c) => c.campaign !== 'other' || c.allowed + c.blocked > 0);
    let allowed = 0;
    let blocked = 0;
    const R = this.reasons.length;
    const C = this.campaigns.length;
    for (let r = 0; r < R; r++)
      for (let c = 0; c < C; c++) {
        allowed += this.decisionCounts[r * C + c]!;
        blocked += this.decisionCounts[(R + r) * C + c]!;
      }
    return {
      since: new Date(Math.max(this.startedAt, (current - MINUTES + 1) * 60_000)).toISOString(),
      now: new Date(nowMs).toISOString(),
      minutes,
      campaigns,
      totals: { decisions: allowed + blocked, allowed, blocked, failMode: this.failModeDecisions },
    };
  }

  /** The decisions numbered from..seq-1 still in the ring, oldest first, as the live view shows them. */
  private since(from: number): LiveDecision[] {
    const out: LiveDecision[] = [];
    for (let n = Math.max(from, this.seq - RECENT); n < this.seq; n++) {
      const e = this.recentEvents[n % RECENT];
      if (e) out.push(this.live(e, this.recentTimes[n % RECENT]!));
    }
    return out;
  }

  /** A dashboard connects: it gets the last hour and the latest decisions at once, then the rest as it comes. */
  attach(client: LiveClient): () => void {
    if (this.clients.size === 0) this.pushed = this.seq;
    this.clients.add(client);
    client.write(`retry: 2000\nevent: stats\ndata: ${JSON.stringify(this.stats())}\n\n`);
    const latest = this.since(this.pushed - 20);
    if (latest.length > 0) client.write(`event: decisions\ndata: ${JSON.stringify(latest)}\n\n`);
    this.pushTimer ??= setInterval(() => this.push(), PUSH_EVERY_MS).unref();
    this.statsTimer ??= setInterval(() => this.pushStats(), STATS_EVERY_MS).unref();
    return () => {
      this.clients.delete(client);
      if (this.clients.size === 0) this.stopTimers();
    };
  }

  get connected(): number {
    return this.clients.size;
  }

  private stopTimers(): void {
    if (this.pushTimer) clearInterval(this.pushTimer);
    if (this.statsTimer) clearInterval(this.statsTimer);
    this.pushTimer = this.statsTimer = undefined;
  }

  /** Writes to every dashboard that keeps up; one whose socket buffer is full misses this one. */
  private broadcast(chunk: string): void {
    for (const c of this.clients) if (!c.writableNeedDrain) c.write(chunk);
  }

  private push(): void {
    if (this.pushed === this.seq) return;
    const batch = this.since(this.pushed);
    this.pushed = this.seq;
    this.broadcast(`event: decisions\ndata: ${JSON.stringify(batch)}\n\n`);
  }

  private pushStats(): void {
    this.broadcast(`event: stats\ndata: ${JSON.stringify(this.stats())}\n\n`);
  }

  private live(e: DecisionEvent, decidedAt: number): LiveDecision {
    const d: Decision = e.decision;
    const retry = d.reasons.reduce<number | undefined>(
      (max, r) => (r.retryAfter && (max === undefined || r.retryAfter.getTime() > max) ? r.retryAfter.getTime() : max),
      undefined,
    );
    const out: LiveDecision = {
      id: d.id,
      at: iso(d.at),
      decidedAt: new Date(decidedAt).toISOString(),
      verdict: d.verdict,
      reasons: d.reasons.map((r) => r.code),
      tags: [...d.tags],
      campaign: d.campaign.id,
      professional: d.campaign.professional,
      to: this.mask(d.callee?.e164 ?? '(invalid destination)'),
      callerId: this.mask(d.callerId.e164 ?? d.callerId.number),
      source: d.source.pbx,
      monitorOnly: d.monitorOnly,
      failMode: e.failCode !== undefined,
      recorded: e.recorded,
      durationMs: Math.round(e.durationNs / 1e4) / 100,
    };
    if (retry !== undefined) out.retryAfter = new Date(retry).toISOString();
    return out;
  }

  /** Ends every dashboard's stream (shutdown). */
  close(end: (c: LiveClient) => void): void {
    for (const c of this.clients) end(c);
    this.clients.clear();
    this.stopTimers();
  }
}

/** An instant as ISO-8601, '' for one that is not (a decision on an unjudgeable instant, GATE-1). */
function iso(d: Date): string {
  return d instanceof Date && Number.isFinite(d.getTime()) ? d.toISOString() : '';
}
