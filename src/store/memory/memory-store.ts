/**
 * In-memory Store: the fake used by the gate and PBX adapter tests, and the
 * reference behaviour the SQLite store is held to (test/store/contract.ts).
 *
 * Same rules as the SQLite store: FREQ-1/FREQ-2 (D. 223-9 al. 3) counting of
 * non-released attempts at or after windowStart, checked and written in one
 * step (trivially atomic here: JavaScript runs one commit at a time); imports
 * invisible until commit; the opposition list (L. 223-1, 2020 wording)
 * replaced as a whole.
 */
import type { Decision, Facts } from '../../core/types';
import {
  ChainWriter,
  GENESIS,
  type AuditChainBatch,
  type AuditChainRow,
  type ChainHead,
  type ChainLink,
} from '../audit-chain';
import type {
  AttemptRow,
  CallOutcome,
  CommitOptions,
  CommitResult,
  ConsentRow,
  CopyBatch,
  CopyResult,
  ContractRow,
  DecideCommitOptions,
  DecideFn,
  DecisionPage,
  DecisionQuery,
  DecisionRow,
  DncRow,
  FactsQuery,
  History,
  ImportKind,
  ImportSession,
  PurgeCutoffs,
  PurgeReport,
  RefusalRow,
  Store,
  StoredDecisionRow,
} from '../../gate/store';
import {
  checkChainHead,
  checkLink,
  checkNumber,
  checkOutcome,
  checkSessionKind,
  checkText,
  checkWithinLimit,
  copyOutcome,
  decisionFromText,
  decisionToText,
  decodeCategories,
  encodeCategories,
  mergeConsent,
  mergeContract,
  type MergeCounts,
  mergeDnc,
  ms,
  pageLimit,
  msOpt,
  storeError,
} from './common';

type Attempt = {
  seq: number;
  decisionId: string;
  e164: string;
  professional: string;
  campaignId: string;
  at: number;
  released: boolean;
  outcome?: CallOutcome;
};
type StoredDecision = {
  seq: number;
  id: string;
  at: number;
  e164?: string;
  professional: string;
  campaign: string;
  verdict: 'allow' | 'block';
  reasons: string;
  json: string;
  outcome?: CallOutcome;
  /** Its place in the audit chain (absent: copied from a row written before the chain existed). */
  link?: ChainLink;
};
type Consent = {
  seq: number;
  e164: string;
  professional: string;
  categories: string;
  collectedAt: number;
  validUntil: number | null;
  slot: number | null;
  source: string | null;
  withdrawnAt: number | null;
  automated: boolean | null;
};
type Contract = {
  seq: number;
  e164: string;
  professional: string;
  categories: string;
  start: number;
  end: number | null;
};
type Dnc = { seq: number; e164: string; professional: string | null; reason: string | null; addedAt: number };
type Refusal = { seq: number; e164: string; professional: string; at: number };

function push<T>(m: Map<string, T[]>, k: string, v: T): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

function bySeqTime<T extends { seq: number }>(time: (x: T) => number): (a: T, b: T) => number {
  return (a, b) => time(a) - time(b) || a.seq - b.seq;
}

export function consentRow(c: ConsentRow, what = 'consent'): Consent {
  const row: Consent = {
    seq: 0,
    e164: checkNumber(c.e164, what),
    professional: checkText(c.professional, `${what}.professional`),
    categories: encodeCategories(c.categories ?? [], what),
    collectedAt: ms(c.collectedAt, `${what}.collectedAt`),
    validUntil: msOpt(c.validUntil, `${what}.validUntil`),
    slot: msOpt(c.slot, `${what}.slot`),
    source: c.source ?? null,
    withdrawnAt: msOpt(c.withdrawnAt, `${what}.withdrawnAt`),
    automated: c.automated === undefined ? null : c.automated,
  };
  return row;
}

export function contractRow(c: ContractRow, what = 'contract'): Contract {
  return {
    seq: 0,
    e164: checkNumber(c.e164, what),
    professional: checkText(c.professional, `${what}.professional`),
    categories: encodeCategories(c.categories ?? [], what),
    start: ms(c.start, `${what}.start`),
    end: msOpt(c.end, `${what}.end`),
  };
}

export function dncRow(d: DncRow, what = 'dnc'): Dnc {
  return {
    seq: 0,
    e164: checkNumber(d.e164, what),
    professional: d.professional === undefined ? null : checkText(d.professional, `${what}.professional`),
    reason: d.reason ?? null,
    addedAt: ms(d.addedAt, `${what}.addedAt`),
  };
}

function toConsent(c: Consent): ConsentRow {
  const out: ConsentRow = {
    e164: c.e164,
    professional: c.professional,
    categories: decodeCategories(c.categories),
    collectedAt: new Date(c.collectedAt),
  };
  if (c.validUntil !== null) out.validUntil = new Date(c.validUntil);
  if (c.slot !== null) out.slot = new Date(c.slot);
  if (c.source !== null) out.source = c.source;
  if (c.withdrawnAt !== null) out.withdrawnAt = new Date(c.withdrawnAt);
  if (c.automated !== null) out.automated = c.automated;
  return out;
}

function toContract(c: Contract): ContractRow {
  const out: ContractRow = {
    e164: c.e164,
    professional: c.professional,
    categories: decodeCategories(c.categories),
    start: new Date(c.start),
  };
  if (c.end !== null) out.end = new Date(c.end);
  return out;
}

function toDnc(d: Dnc): DncRow {
  const out: DncRow = { e164: d.e164, addedAt: new Date(d.addedAt) };
  if (d.professional !== null) out.professional = d.professional;
  if (d.reason !== null) out.reason = d.reason;
  return out;
}

function withoutE164<T extends { e164: string }>(r: T): Omit<T, 'e164'> {
  const { e164: _e164, ...rest } = r;
  void _e164;
  return rest;
}

export class MemoryStore implements Store {
  readonly driver = 'memory' as const;
  private seq = 0;
  private closed = false;
  private readonly decisions = new Map<string, StoredDecision>();
  private readonly decisionsByNumber = new Map<string, StoredDecision[]>();
  private readonly attempts = new Map<string, Attempt>();
  private readonly attemptsByKey = new Map<string, Attempt[]>();
  private readonly consents = new Map<string, Consent[]>();
  private readonly contracts = new Map<string, Contract[]>();
  private readonly dnc = new Map<string, Dnc[]>();
  private readonly refusals = new Map<string, Refusal[]>();
  /** The stored consents, contracts and dnc rows by natural key: a row with a stored key is merged into it. */
  private readonly keyed = new Map<string, Consent | Contract | Dnc>();
  private opposition = new Set<string>();
  private oppositionMeta: { asOf: number; importedAt: number; count: number } | undefined;
  /** This store's audit chain, and every chain's head (its own and copied ones). */
  private readonly chain = new ChainWriter();
  private readonly heads = new Map<string, ChainHead>();

  private live(): void {
    if (this.closed) throw storeError('CG_ERR_STORE_FAULT', 'the memory store is closed');
  }

  private counted(e164: string, professional: string, windowStart: number): number[] {
    const list = this.attemptsByKey.get(`${e164}\u0000${professional}`) ?? [];
    return list
      .filter((a) => !a.released && a.at >= windowStart)
      .map((a) => a.at)
      .sort((a, b) => a - b);
  }

  async getFacts(q: FactsQuery): Promise<Facts> {
    this.live();
    return this.factsOf(q);
  }

  /**
   * One step, trivially atomic here (JavaScript runs one call at a time): the
   * facts, the callback's decision, its audit and attempt.
   */
  async decideAndCommit(q: FactsQuery, decide: DecideFn, opts: DecideCommitOptions): Promise<Decision | undefined> {
    this.live();
    const facts = this.factsOf(q);
    const counted = facts.recentAttempts.length;
    const decision = decide(facts);
    if (decision === undefined) return undefined;
    const record = opts.recordAttempt && decision.verdict === 'allow';
    if (record) checkWithinLimit(decision, q, counted, opts.maxAttempts);
    this.write(decision, record);
    return decision;
  }

  private factsOf(q: FactsQuery): Facts {
    const windowStart = ms(q.windowStart, 'windowStart');
    const asOf = this.oppositionMeta?.asOf;
    return {
      consents: (this.consents.get(q.e164) ?? []).map((c) => withoutE164(toConsent(c))),
      contracts: (this.contracts.get(q.e164) ?? [])
        .filter((c) => c.professional === q.professional)
        .map((c) => withoutE164(toContract(c))),
      dnc: (this.dnc.get(q.e164) ?? [])
        .filter((d) => d.professional === null || d.professional === q.professional)
        .map((d) => withoutE164(toDnc(d))),
      refusals: (this.refusals.get(q.e164) ?? [])
        .filter((r) => r.professional === q.professional)
        .map((r) => ({ professional: r.professional, at: new Date(r.at) })),
      opposition:
        asOf === undefined ? { listed: false } : { listed: this.opposition.has(q.e164), asOf: new Date(asOf) },
      recentAttempts: this.counted(q.e164, q.professional, windowStart).map((t) => new Date(t)),
    };
  }

  async commitDecision(decision: Decision, opts: CommitOptions): Promise<CommitResult> {
    this.live();
    const id = checkText(decision.id, 'decision.id');
    if (this.decisions.has(id))
      throw storeError('CG_ERR_STORE_DUPLICATE', `decision ${id} is already recorded; decision ids must be unique`);
    ms(decision.at, 'decision.at');
    const windowStart = ms(opts.windowStart, 'windowStart');
    const e164 = decision.callee?.e164;
    const professional = decision.campaign.professional;
    const record = opts.recordAttempt && decision.verdict === 'allow';
    if (record) {
      if (e164 === undefined)
        throw storeError('CG_ERR_STORE_INVALID', `decision ${id}: cannot record an attempt without callee.e164`);
      const counted = this.counted(e164, professional, windowStart);
      if (counted.length >= opts.maxAttempts) return { ok: false, recentAttempts: counted.map((t) => new Date(t)) };
    }
    this.write(decision, record);
    return { ok: true };
  }

  /** Writes a checked decision (and its attempt when `record`). */
  private write(decision: Decision, record: boolean): void {
    const id = checkText(decision.id, 'decision.id');
    if (this.decisions.has(id))
      throw storeError('CG_ERR_STORE_DUPLICATE', `decision ${id} is already recorded; decision ids must be unique`);
    const at = ms(decision.at, 'decision.at');
    const e164 = decision.callee?.e164;
    if (record && e164 === undefined)
      throw storeError('CG_ERR_STORE_INVALID', `decision ${id}: cannot record an attempt without callee.e164`);
    const professional = decision.campaign.professional;
    const json = decisionToText(decision);
    const d: StoredDecision = {
      seq: ++this.seq,
      id,
      at,
      professional,
      campaign: decision.campaign.id,
      verdict: decision.verdict,
      reasons: decision.reasons.map((r) => r.code).join(' '),
      json,
    };
    if (e164 !== undefined) d.e164 = e164;
    const link = this.chain.next({ ...d, e164: e164 ?? null, auditText: json, counted: record });
    d.link = link;
    this.chain.advance(link);
    this.chain.committedNow();
    const head = this.heads.get(link.chain);
    this.heads.set(link.chain, {
      chain: link.chain,
      position: link.position,
      hash: link.rowHash,
      anchorPosition: head?.anchorPosition ?? 0,
      anchorHash: head?.anchorHash ?? GENESIS,
      updatedAt: Date.now(),
    });
    this.decisions.set(id, d);
    if (e164 !== undefined) push(this.decisionsByNumber, e164, d);
    if (record && e164 !== undefined) {
      const a: Attempt = {
        seq: ++this.seq,
        decisionId: id,
        e164,
        professional,
        campaignId: decision.campaign.id,
        at,
        released: false,
      };
      this.attempts.set(id, a);
      push(this.attemptsByKey, `${e164}\u0000${professional}`, a);
    }
  }

  async recordOutcome(decisionId: string, outcome: CallOutcome): Promise<boolean> {
    this.live();
    checkOutcome(outcome);
    const d = this.decisions.get(decisionId);
    if (!d) return false;
    d.outcome = copyOutcome(outcome);
    const a = this.attempts.get(decisionId);
    if (a) a.outcome = copyOutcome(outcome);
    return true;
  }

  async releaseAttempt(decisionId: string): Promise<boolean> {
    this.live();
    const a = this.attempts.get(decisionId);
    if (!a) return false;
    a.released = true;
    return true;
  }

  async addConsent(row: ConsentRow): Promise<void> {
    this.live();
    this.insertConsents([consentRow(row)]);
  }

  async withdrawConsent(e164: string, professional: string, at: Date): Promise<number> {
    this.live();
    const t = ms(at, 'withdrawConsent at');
    let n = 0;
    for (const c of this.consents.get(e164) ?? []) {
      if (c.professional === professional && c.withdrawnAt === null) {
        c.withdrawnAt = t;
        n++;
      }
    }
    return n;
  }

  async addContract(row: ContractRow): Promise<void> {
    this.live();
    this.insertContracts([contractRow(row)]);
  }

  async addDnc(row: DncRow): Promise<void> {
    this.live();
    this.insertDnc([dncRow(row)]);
  }

  async addRefusal(e164: string, professional: string, at: Date): Promise<void> {
    this.live();
    const r: Refusal = {
      seq: ++this.seq,
      e164: checkNumber(e164, 'refusal'),
      professional: checkText(professional, 'refusal.professional'),
      at: ms(at, 'refusal.at'),
    };
    push(this.refusals, e164, r);
  }

  /**
   * Each insert merges rows whose natural key is stored into the stored row (same keys as the
   * SQLite unique indexes; the merge rules of ImportCommitResult, common.ts) and counts them.
   */
  private upsert<T extends Consent | Contract | Dnc>(
    rows: T[],
    keyOf: (r: T) => string,
    merge: (stored: T, row: T) => boolean,
    add: (r: T) => void,
    counts: MergeCounts,
  ): void {
    for (const r of rows) {
      const key = keyOf(r);
      const stored = this.keyed.get(key) as T | undefined;
      if (stored === undefined) {
        const row = { ...r, seq: ++this.seq };
        this.keyed.set(key, row);
        add(row);
        counts.inserted++;
      } else if (merge(stored, r)) counts.updated++;
      else counts.unchanged++;
    }
  }
  private insertConsents(rows: Consent[], counts: MergeCounts = newCounts()): MergeCounts {
    this.upsert(
      rows,
      (r) => `c\u0000${r.e164}\u0000${r.professional}\u0000${r.collectedAt}\u0000${r.categories}`,
      mergeConsent,
      (r) => push(this.consents, r.e164, r),
      counts,
    );
    return counts;
  }
  private insertContracts(rows: Contract[], counts: MergeCounts = newCounts()): MergeCounts {
    this.upsert(
      rows,
      (r) => `k\u0000${r.e164}\u0000${r.professional}\u0000${r.start}\u0000${r.categories}`,
      mergeContract,
      (r) => push(this.contracts, r.e164, r),
      counts,
    );
    return counts;
  }
  private insertDnc(rows: Dnc[], counts: MergeCounts = newCounts()): MergeCounts {
    this.upsert(
      rows,
      (r) => `d\u0000${r.e164}\u0000${r.professional ?? ''}`,
      mergeDnc,
      (r) => push(this.dnc, r.e164, r),
      counts,
    );
    return counts;
  }

  async beginImport(kind: ImportKind, opts?: { asOf?: Date }): Promise<ImportSession> {
    this.live();
    const asOf = kind === 'opposition' ? requireAsOf(opts) : undefined;
    const staged = {
      consents: [] as Consent[],
      contracts: [] as Contract[],
      dnc: [] as Dnc[],
      opposition: [] as string[],
    };
    let open = true;
    const check = (called: ImportKind) => {
      this.live();
      if (!open)
        throw storeError(
          'CG_ERR_STORE_IMPORT',
          'this import session is already committed or rolled back; begin a new one',
        );
      checkSessionKind(kind, called);
    };
    return {
      consents: async (rows) => {
        check('consent');
        const mapped = rows.map((r) => consentRow(r));
        for (const r of mapped) staged.consents.push(r);
      },
      contracts: async (rows) => {
        check('contract');
        const mapped = rows.map((r) => contractRow(r));
        for (const r of mapped) staged.contracts.push(r);
      },
      dnc: async (rows) => {
        check('dnc');
        const mapped = rows.map((r) => dncRow(r));
        for (const r of mapped) staged.dnc.push(r);
      },
      opposition: async (e164s) => {
        check('opposition');
        for (const n of e164s) checkNumber(n, 'opposition');
        for (const n of e164s) staged.opposition.push(n);
      },
      commit: async () => {
        check(kind);
        open = false;
        if (kind === 'opposition' && asOf !== undefined) {
          this.opposition = new Set(staged.opposition);
          this.oppositionMeta = { asOf, importedAt: Date.now(), count: this.opposition.size };
          return {
            inserted: this.opposition.size,
            updated: 0,
            unchanged: staged.opposition.length - this.opposition.size,
          };
        }
        const counts = newCounts();
        this.insertConsents(staged.consents, counts);
        this.insertContracts(staged.contracts, counts);
        this.insertDnc(staged.dnc, counts);
        return counts;
      },
      rollback: async () => {
        open = false;
      },
    };
  }

  async history(e164: string, professional?: string): Promise<History> {
    this.live();
    const mine = (p: string | null) => professional === undefined || p === null || p === professional;
    const own = (p: string) => professional === undefined || p === professional;
    const attempts = [...this.attemptsByKey.entries()]
      .filter(([k]) => k.startsWith(`${e164}\u0000`))
      .flatMap(([, list]) => list)
      .filter((a) => own(a.professional))
      .sort(bySeqTime((a) => a.at))
      .map((a): AttemptRow => {
        const row: AttemptRow = {
          decisionId: a.decisionId,
          e164: a.e164,
          professional: a.professional,
          campaignId: a.campaignId,
          at: new Date(a.at),
        };
        if (a.outcome) row.outcome = copyOutcome(a.outcome);
        return row;
      });
    const decisions = (this.decisionsByNumber.get(e164) ?? [])
      .filter((d) => own(d.professional))
      .sort(bySeqTime((d) => d.at))
      .map((d): DecisionRow => {
        const row: DecisionRow = {
          id: d.id,
          at: new Date(d.at),
          e164,
          professional: d.professional,
          verdict: d.verdict,
          decision: decisionFromText(d.json),
        };
        if (d.outcome) row.outcome = copyOutcome(d.outcome);
        return row;
      });
    const asOf = this.oppositionMeta?.asOf;
    return {
      e164,
      attempts,
      decisions,
      consents: (this.consents.get(e164) ?? [])
        .filter((c) => own(c.professional))
        .sort(bySeqTime((c) => c.collectedAt))
        .map(toConsent),
      contracts: (this.contracts.get(e164) ?? [])
        .filter((c) => own(c.professional))
        .sort(bySeqTime((c) => c.start))
        .map(toContract),
      dnc: (this.dnc.get(e164) ?? [])
        .filter((d) => mine(d.professional))
        .sort(bySeqTime((d) => d.addedAt))
        .map(toDnc),
      refusals: (this.refusals.get(e164) ?? [])
        .filter((r) => own(r.professional))
        .sort(bySeqTime((r) => r.at))
        .map((r) => ({ e164, professional: r.professional, at: new Date(r.at) })),
      opposition: asOf === undefined ? { listed: false } : { listed: this.opposition.has(e164), asOf: new Date(asOf) },
    };
  }

  async *exportAll(batchSize = 10_000): AsyncIterable<CopyBatch> {
    this.live();
    const all = <T extends { seq: number }>(m: Map<string, T[]>) =>
      [...m.values()].flat().sort((a, b) => a.seq - b.seq);
    function* chunks<T>(rows: T[]): Iterable<T[]> {
      for (let i = 0; i < rows.length; i += batchSize) yield rows.slice(i, i + batchSize);
    }
    for (const rows of chunks(all(this.consents).map(toConsent))) yield { kind: 'consent', rows };
    for (const rows of chunks(all(this.contracts).map(toContract))) yield { kind: 'contract', rows };
    for (const rows of chunks(all(this.dnc).map(toDnc))) yield { kind: 'dnc', rows };
    const refusals = all(this.refusals).map((r): RefusalRow => ({
      e164: r.e164,
      professional: r.professional,
      at: new Date(r.at),
    }));
    for (const rows of chunks(refusals)) yield { kind: 'refusal', rows };
    if (this.oppositionMeta !== undefined) {
      const asOf = new Date(this.oppositionMeta.asOf);
      const list = [...this.opposition];
      if (list.length === 0) yield { kind: 'opposition', rows: [], asOf, first: true };
      let first = true;
      for (const rows of chunks(list)) {
        yield { kind: 'opposition', rows, asOf, first };
        first = false;
      }
    }
    if (this.heads.size > 0) yield { kind: 'chainHead', rows: [...this.heads.values()].map((h) => ({ ...h })) };
    const decisions = [...this.decisions.values()]
      .sort((a, b) => a.seq - b.seq)
      .map((d): StoredDecisionRow => {
        const a = this.attempts.get(d.id);
        const row: StoredDecisionRow = {
          id: d.id,
          at: new Date(d.at),
          professional: d.professional,
          campaignId: d.campaign,
          verdict: d.verdict,
          reasons: d.reasons,
          auditText: d.json,
          counted: a !== undefined,
          released: a?.released ?? false,
        };
        if (d.e164 !== undefined) row.e164 = d.e164;
        if (d.outcome) row.outcome = copyOutcome(d.outcome);
        if (d.link) row.link = { ...d.link };
        return row;
      });
    for (const rows of chunks(decisions)) yield { kind: 'decision', rows };
  }

  /** The heads, then the chained rows in (chain, position) order, then the unchained ones (a copy taken at once). */
  async *auditChain(batchSize = 1000): AsyncIterable<AuditChainBatch> {
    this.live();
    const heads = [...this.heads.values()].map((h) => ({ ...h })).sort((a, b) => (a.chain < b.chain ? -1 : 1));
    const rows = [...this.decisions.values()].map((d): AuditChainRow => ({
      id: d.id,
      at: d.at,
      e164: d.e164 ?? null,
      professional: d.professional,
      campaign: d.campaign,
      verdict: d.verdict,
      reasons: d.reasons,
      auditText: d.json,
      counted: this.attempts.has(d.id),
      chain: d.link?.chain ?? null,
      position: d.link?.position ?? null,
      prevHash: d.link?.prevHash ?? null,
      rowHash: d.link?.rowHash ?? null,
    }));
    const chained = rows
      .filter((r) => r.chain !== null)
      .sort((a, b) => (a.chain! < b.chain! ? -1 : a.chain! > b.chain! ? 1 : a.position! - b.position!));
    const all = [...chained, ...rows.filter((r) => r.chain === null)];
    yield { kind: 'heads', heads };
    for (let i = 0; i < all.length; i += batchSize) yield { kind: 'rows', rows: all.slice(i, i + batchSize) };
  }

  async *auditBetween(from: Date, to: Date, batchSize = 1000): AsyncIterable<DecisionRow[]> {
    this.live();
    const a = ms(from, 'from');
    const b = ms(to, 'to');
    const rows = [...this.decisions.values()]
      .filter((d) => d.at >= a && d.at < b && d.json !== '')
      .sort(bySeqTime((d) => d.at))
      .map((d): DecisionRow => {
        const row: DecisionRow = {
          id: d.id,
          at: new Date(d.at),
          professional: d.professional,
          verdict: d.verdict,
          decision: decisionFromText(d.json),
        };
        if (d.e164 !== undefined) row.e164 = d.e164;
        if (d.outcome) row.outcome = copyOutcome(d.outcome);
        return row;
      });
    for (let i = 0; i < rows.length; i += batchSize) yield rows.slice(i, i + batchSize);
  }

  async purge(c: PurgeCutoffs, dryRun: boolean): Promise<PurgeReport> {
    this.live();
    const dBefore = ms(c.decisionsBefore, 'decisionsBefore');
    const cBefore = ms(c.consentsCollectedBefore, 'consentsCollectedBefore');
    const kBefore = ms(c.contractsEndedBefore, 'contractsEndedBefore');
    // audit chains: per chain only its oldest rows go, up to its first row at or after the cutoff;
    // the last removed row becomes the chain's anchor (as SQLite's purgeChainsSqlite)
    const byChain = new Map<string, StoredDecision[]>();
    for (const d of this.decisions.values()) if (d.link) push(byChain, d.link.chain, d);
    const anchors: [ChainHead, number, string][] = [];
    const old = [...this.decisions.values()].filter((d) => d.link === undefined && d.at < dBefore);
    for (const [chain, list] of byChain) {
      const h = this.heads.get(chain);
      if (!h) continue;
      list.sort((a, b) => a.link!.position - b.link!.position);
      const live = list.filter((d) => d.link!.position > h.anchorPosition);
      const firstKept = live.findIndex((d) => d.at >= dBefore);
      const gone = firstKept === -1 ? live : live.slice(0, firstKept);
      const lastGone = gone[gone.length - 1];
      if (!lastGone) continue;
      old.push(...gone);
      anchors.push([h, lastGone.link!.position, lastGone.link!.rowHash]);
    }
    const report: PurgeReport = {
      decisions: old.length,
      consents: [...this.consents.values()].flat().filter((x) => x.collectedAt < cBefore).length,
      contracts: [...this.contracts.values()].flat().filter((x) => x.end !== null && x.end < kBefore).length,
    };
    if (dryRun) return report;
    for (const [h, position, hash] of anchors) {
      h.anchorPosition = position;
      h.anchorHash = hash;
    }
    for (const d of old) {
      this.decisions.delete(d.id);
      if (d.e164 !== undefined) {
        const list = this.decisionsByNumber.get(d.e164)!.filter((x) => x.id !== d.id);
        this.decisionsByNumber.set(d.e164, list);
      }
      const a = this.attempts.get(d.id);
      if (a) {
        this.attempts.delete(d.id);
        const k = `${a.e164}\u0000${a.professional}`;
        this.attemptsByKey.set(
          k,
          this.attemptsByKey.get(k)!.filter((x) => x.decisionId !== d.id),
        );
      }
    }
    for (const [k, list] of this.consents) {
      const gone = list.filter((x) => x.collectedAt < cBefore);
      for (const x of gone)
        this.keyed.delete(`c\u0000${x.e164}\u0000${x.professional}\u0000${x.collectedAt}\u0000${x.categories}`);
      this.consents.set(
        k,
        list.filter((x) => x.collectedAt >= cBefore),
      );
    }
    for (const [k, list] of this.contracts) {
      const gone = list.filter((x) => x.end !== null && x.end < kBefore);
      for (const x of gone)
        this.keyed.delete(`k\u0000${x.e164}\u0000${x.professional}\u0000${x.start}\u0000${x.categories}`);
      this.contracts.set(
        k,
        list.filter((x) => !(x.end !== null && x.end < kBefore)),
      );
    }
    return report;
  }

  async copyIn(batch: CopyBatch): Promise<CopyResult> {
    this.live();
    const r: CopyResult = { inserted: 0, updated: 0, skipped: 0 };
    switch (batch.kind) {
      // consents, contracts and dnc entries merge as an import does (towards fewer calls, ImportCommitResult)
      case 'consent':
        return copied(this.insertConsents(batch.rows.map((x) => consentRow(x))));
      case 'contract':
        return copied(this.insertContracts(batch.rows.map((x) => contractRow(x))));
      case 'dnc':
        return copied(this.insertDnc(batch.rows.map((x) => dncRow(x))));
      case 'refusal':
        for (const row of batch.rows) {
          const at = ms(row.at, 'refusal.at');
          const have = (this.refusals.get(row.e164) ?? []).some(
            (x) => x.professional === row.professional && x.at === at,
          );
          if (have) r.skipped++;
          else {
            await this.addRefusal(row.e164, row.professional, row.at);
            r.inserted++;
          }
        }
        return r;
      case 'opposition': {
        // a list is known by its date: the same list again is merged (its rows skipped), another replaces it
        if (batch.first && this.oppositionMeta?.asOf !== ms(batch.asOf, 'opposition asOf')) {
          this.opposition = new Set();
          this.oppositionMeta = { asOf: ms(batch.asOf, 'opposition asOf'), importedAt: Date.now(), count: 0 };
        }
        for (const n of batch.rows) {
          checkNumber(n, 'opposition');
          if (this.opposition.has(n)) r.skipped++;
          else {
            this.opposition.add(n);
            r.inserted++;
          }
        }
        if (this.oppositionMeta) this.oppositionMeta.count = this.opposition.size;
        return r;
      }
      case 'decision':
        for (const row of batch.rows) {
          const have = this.decisions.get(row.id);
          if (have) {
            const a = this.attempts.get(row.id);
            let changed = false;
            if (a && row.released && !a.released) {
              a.released = true;
              changed = true;
            }
            if (!have.outcome && row.outcome) {
              have.outcome = copyOutcome(row.outcome);
              if (a) a.outcome = copyOutcome(row.outcome);
              changed = true;
            }
            if (changed) r.updated++;
            else r.skipped++;
            continue;
          }
          const at = ms(row.at, 'decision.at');
          const d: StoredDecision = {
            seq: ++this.seq,
            id: checkText(row.id, 'decision.id'),
            at,
            professional: row.professional,
            campaign: row.campaignId,
            verdict: row.verdict,
            reasons: row.reasons,
            json: row.auditText,
          };
          if (row.e164 !== undefined) d.e164 = row.e164;
          if (row.outcome) d.outcome = copyOutcome(row.outcome);
          if (row.link) {
            const l = checkLink(row.link);
            d.link = { ...l };
            // a chain's head follows its copied rows (never moves back)
            const h = this.heads.get(l.chain);
            if (!h)
              this.heads.set(l.chain, {
                chain: l.chain,
                position: l.position,
                hash: l.rowHash,
                anchorPosition: 0,
                anchorHash: GENESIS,
                updatedAt: Date.now(),
              });
            else if (h.position < l.position) {
              h.position = l.position;
              h.hash = l.rowHash;
            }
          }
          this.decisions.set(d.id, d);
          if (row.e164 !== undefined) push(this.decisionsByNumber, row.e164, d);
          if (row.counted && row.e164 !== undefined) {
            const a: Attempt = {
              seq: ++this.seq,
              decisionId: d.id,
              e164: row.e164,
              professional: row.professional,
              campaignId: row.campaignId,
              at,
              released: row.released,
            };
            if (row.outcome) a.outcome = copyOutcome(row.outcome);
            this.attempts.set(d.id, a);
            push(this.attemptsByKey, `${row.e164}\u0000${row.professional}`, a);
          }
          r.inserted++;
        }
        return r;
      case 'chainHead':
        for (const row of batch.rows) {
          const c = checkChainHead(row);
          const h = this.heads.get(c.chain);
          if (!h) {
            this.heads.set(c.chain, { ...c });
            r.inserted++;
            continue;
          }
          let changed = false;
          if (c.position > h.position) {
            h.position = c.position;
            h.hash = c.hash;
            changed = true;
          }
          if (c.anchorPosition > h.anchorPosition) {
            h.anchorPosition = c.anchorPosition;
            h.anchorHash = c.anchorHash;
            changed = true;
          }
          if (changed) r.updated++;
          else r.skipped++;
        }
        return r;
    }
  }

  async listDecisions(q: DecisionQuery): Promise<DecisionPage> {
    this.live();
    const limit = pageLimit(q.limit);
    const from = q.from?.getTime() ?? -Infinity;
    const to = q.to?.getTime() ?? Infinity;
    const after = q.after ? { at: ms(q.after.at, 'after.at'), id: q.after.id } : undefined;
    // A fake: every row is looked at, and the matches sorted. (SQLite reads one page by its index.)
    const matches: { d: StoredDecision; decision: Decision }[] = [];
    for (const d of this.decisions.values()) {
      if (d.json === '' || d.at < from || d.at >= to) continue;
      if (after && (d.at < after.at || (d.at === after.at && d.id <= after.id))) continue;
      if (q.verdict !== undefined && d.verdict !== q.verdict) continue;
      if (q.campaign !== undefined && d.campaign !== q.campaign) continue;
      if (q.reason !== undefined && !d.reasons.split(' ').includes(q.reason)) continue;
      matches.push({ d, decision: decisionFromText(d.json) });
    }
    matches.sort((x, y) => x.d.at - y.d.at || (x.d.id < y.d.id ? -1 : x.d.id > y.d.id ? 1 : 0));
    const rows = matches.slice(0, limit).map(({ d, decision }): DecisionRow => {
      const row: DecisionRow = {
        id: d.id,
        at: new Date(d.at),
        professional: d.professional,
        verdict: d.verdict,
        decision,
      };
      if (d.e164 !== undefined) row.e164 = d.e164;
      if (d.outcome) row.outcome = copyOutcome(d.outcome);
      return row;
    });
    const last = rows[rows.length - 1];
    return matches.length > limit && last ? { rows, next: { at: last.at, id: last.id } } : { rows };
  }

  async checkWritable(): Promise<void> {
    this.live();
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** An import's merge counts as a copy's. */
function copied(c: MergeCounts): CopyResult {
  return { inserted: c.inserted, updated: c.updated, skipped: c.unchanged };
}

function newCounts(): MergeCounts {
  return { inserted: 0, updated: 0, unchanged: 0 };
}

export function requireAsOf(opts: { asOf?: Date } | undefined): number {
  if (!opts?.asOf)
    throw storeError(
      'CG_ERR_STORE_IMPORT',
      'an opposition import needs opts.asOf, the date of the list (OPP-2 screens its age)',
    );
  return ms(opts.asOf, 'opposition asOf');
}
