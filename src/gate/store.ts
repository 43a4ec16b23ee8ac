/**
 * The Store port: everything the gate, the CLI and the imports need from
 * persistence. Implementations: store/sqlite (default, embedded),
 * store/memory (fake for tests, same contract).
 *
 * Numbers are always E.164 here: callers normalize with core before calling.
 */
import { CallgateError, type ErrorCode } from '../errors';
import type {
  ConsentRecord,
  ContractRecord,
  Decision,
  DncRecord,
  Facts,
  ReasonCode,
  RefusalRecord,
} from '../core/types';
import type { AuditChainBatch, ChainHead, ChainLink } from '../store/audit-chain';

export type CallOutcome = {
  answered: boolean;
  /** PBX dial status (ANSWER, BUSY, NOANSWER, CANCEL, CONGESTION, CHANUNAVAIL…). */
  dialStatus?: string;
  /** Hangup cause, Q.850 name or number as the PBX reports it. */
  hangupCause?: string;
  /** Talk duration in ms (0 when never answered). */
  durationMs?: number;
  endedAt: Date;
};

export type FactsQuery = {
  e164: string;
  professional: string;
  at: Date;
  /** Start of the frequency window (FREQ-1): attempts at or after it count. */
  windowStart: Date;
  campaignId?: string;
  /**
   * False when the rules will not look at the opposition list (consent regime,
   * OPP-1/OPP-2 are skipped): a store may then leave facts.opposition empty
   * and save a lookup. Default true.
   */
  opposition?: boolean;
};

export type CommitOptions = {
  /** Record the attempt (only for an allowed verdict). */
  recordAttempt: boolean;
  windowStart: Date;
  /** Refuse to record when this many counted attempts already exist; Infinity = no check (monitor mode). */
  maxAttempts: number;
};

/** Options of Store.decideAndCommit. */
export type DecideCommitOptions = {
  /** Record the attempt when the decision allows the call (the callee must be known). */
  recordAttempt: boolean;
  /**
   * Informational for decideAndCommit: the facts given to `decide` are read in
   * the same write transaction, so `decide` sees every counted attempt and
   * enforces the limit itself. Infinity = monitor mode.
   */
  maxAttempts: number;
};

/**
 * Made inside the store's write transaction from authoritative facts. Must be
 * synchronous and quick (it holds the write lock). Returning undefined writes
 * nothing (e.g. the caller's deadline already passed). Throwing writes nothing
 * for this call and rejects its promise with what was thrown.
 */
export type DecideFn = (facts: Facts) => Decision | undefined;

export type CommitResult =
  | { ok: true }
  /** The limit was reached between the read and the write: nothing was written. */
  | { ok: false; recentAttempts: Date[] };

export type ImportKind = 'consent' | 'contract' | 'dnc' | 'opposition';

export type ConsentRow = ConsentRecord & { e164: string };
export type ContractRow = ContractRecord & { e164: string };
export type DncRow = DncRecord & { e164: string };

export type AttemptRow = {
  decisionId: string;
  e164: string;
  professional: string;
  campaignId: string;
  at: Date;
  outcome?: CallOutcome;
};

export type DecisionRow = {
  id: string;
  at: Date;
  e164?: string;
  professional: string;
  verdict: 'allow' | 'block';
  decision: Decision;
  outcome?: CallOutcome;
};

export type History = {
  e164: string;
  attempts: AttemptRow[];
  decisions: DecisionRow[];
  consents: ConsentRow[];
  contracts: ContractRow[];
  dnc: DncRow[];
  refusals: (RefusalRecord & { e164: string })[];
  opposition: { listed: boolean; asOf?: Date };
};

/** A position in the decision list (Store.listDecisions): after this decision, in (at, id) order. */
export type DecisionCursor = { at: Date; id: string };

/** Which decisions Store.listDecisions returns: every filter given must hold. */
export type DecisionQuery = {
  /** The decision's instant (Decision.at) is at or after this. */
  from?: Date;
  /** The decision's instant is before this. */
  to?: Date;
  verdict?: 'allow' | 'block';
  /** One of the decision's reasons has this code. */
  reason?: ReasonCode;
  /** The decision's campaign id (Decision.campaign.id). */
  campaign?: string;
  /** Only decisions after this position (the `next` of the previous page). */
  after?: DecisionCursor;
  /** At most this many rows (1..1000). */
  limit: number;
};

/** One page of Store.listDecisions. */
export type DecisionPage = {
  rows: DecisionRow[];
  /** Where the next page starts; absent when this page holds the last matching decision. */
  next?: DecisionCursor;
};

/**
 * What an import commit did, one count per row given to the session:
 * inserted + updated + unchanged = rows given.
 *
 * Rows are merged on a natural key (consent: number, professional, collected_at,
 * categories; contract: number, professional, start, categories; dnc: number,
 * professional). A row whose key is new is `inserted`. A row whose key is
 * already stored (or came earlier in the same import) is merged into the
 * stored one, field by field, and is `updated` when that changed something,
 * `unchanged` otherwise. Merging only ever moves towards fewer calls, so an
 * older file imported again never undoes a newer one:
 *
 * - consent `withdrawnAt`: the earliest of the two (a withdrawal is never
 *   removed; an earlier withdrawal date replaces a later one);
 * - consent `validUntil`: the earliest of the two (validity only shortens;
 *   a longer one needs a new consent with its own collection date);
 * - consent `automated`: false as soon as a row says false (consent to robot
 *   calls withdrawn); a row saying true never grants it to a stored consent;
 * - consent `source`: filled in when the stored consent has none, else kept
 *   (the proof recorded first stays); `slot`: kept as first recorded;
 * - contract `end`: the earliest of the two (an end is never removed or
 *   postponed; a renewed contract is a new contract with its own start);
 * - dnc `reason`: filled in when the stored entry has none; `addedAt`: the
 *   earliest of the two.
 * An absent (empty) field never changes the stored one.
 *
 * The opposition list is replaced as a whole: `inserted` is the number of
 * numbers on the new list, `unchanged` the repeated lines, `updated` 0.
 *
 * The same merge applies to Store.addConsent, addContract and addDnc.
 * (Port change of issue 11.1: this replaced { inserted, duplicates }, where a
 * row equal on the key was skipped whatever it said.)
 */
export type ImportCommitResult = { inserted: number; updated: number; unchanged: number };

/**
 * A bulk import in one transaction: nothing is visible until commit, rollback leaves the store as
 * it was. Rows are merged at commit in the order given (see ImportCommitResult).
 */
export interface ImportSession {
  consents(rows: ConsentRow[]): Promise<void>;
  contracts(rows: ContractRow[]): Promise<void>;
  dnc(rows: DncRow[]): Promise<void>;
  /** Numbers of the legacy list; the list is replaced as a whole at commit. */
  opposition(e164s: string[]): Promise<void>;
  commit(): Promise<ImportCommitResult>;
  rollback(): Promise<void>;
}

/** A refusal as stored (R. 223-3). */
export type RefusalRow = RefusalRecord & { e164: string };

/**
 * A decision row exactly as stored, for `callgate store copy`: the audit text verbatim (not
 * rebuilt), whether it is an attempt (counted) and whether that attempt was released (FREQ-2).
 */
export type StoredDecisionRow = {
  id: string;
  at: Date;
  e164?: string;
  professional: string;
  campaignId: string;
  verdict: 'allow' | 'block';
  /** Reason codes, space separated. */
  reasons: string;
  /** The stored audit text (src/store/memory/common.ts decisionToText); '' for an attempt without decision (old files). */
  auditText: string;
  counted: boolean;
  released: boolean;
  outcome?: CallOutcome;
  /** Its place in the audit chain (src/store/audit-chain.ts), copied verbatim; absent on rows written before the chain existed. */
  link?: ChainLink;
};

/** One batch of everything a store holds (Store.exportAll), in the order exportAll yields them. */
export type CopyBatch =
  | { kind: 'consent'; rows: ConsentRow[] }
  | { kind: 'contract'; rows: ContractRow[] }
  | { kind: 'dnc'; rows: DncRow[] }
  | { kind: 'refusal'; rows: RefusalRow[] }
  /** The opposition list, dated; `first` on its first batch (the target's list is replaced from there). */
  | { kind: 'opposition'; rows: string[]; asOf: Date; first: boolean }
  | { kind: 'decision'; rows: StoredDecisionRow[] }
  /** The audit chains' heads and purge anchors (yielded before the decisions: a live source's rows may go further). */
  | { kind: 'chainHead'; rows: ChainHead[] };

/** What Store.copyIn did with a batch. */
export type CopyResult = { inserted: number; updated: number; skipped: number };

/** What Store.purge removes: rows older than these instants (see `callgate purge`). */
export type PurgeCutoffs = {
  /** Decisions (and their attempts, outcomes) recorded before this instant. */
  decisionsBefore: Date;
  /** Consents collected before this instant (their proof is kept 3 years from collection, R. 223-2). */
  consentsCollectedBefore: Date;
  /** Contracts that ended before this instant (ongoing ones are kept). */
  contractsEndedBefore: Date;
};
/** How many rows a purge removed (or, dry run, would remove). */
export type PurgeReport = { decisions: number; consents: number; contracts: number };

export interface Store {
  readonly driver: 'sqlite' | 'memory' | 'postgres';
  /**
   * Resolves once the store can serve calls (a PostgreSQL store has connected and migrated);
   * rejects with the StoreError that says why not. Optional: a store opened synchronously
   * (SQLite, memory) is ready when built. Every other call waits for it anyway; the runtime
   * awaits it at start so that a store that cannot open stops `callgate start` at once.
   */
  ready?(): Promise<void>;
  /** The facts of one number, read at once (one read transaction). */
  getFacts(q: FactsQuery): Promise<Facts>;
  /**
   * The gate's hot path (FREQ-1, D. 223-9 al. 3): reads the facts of `q`,
   * calls `decide` with them and writes what it returns — the decision (audit)
   * and, when `opts.recordAttempt` and the verdict allows, the attempt — all in
   * ONE write transaction, so the facts (recentAttempts included) are
   * authoritative: two gates, even two processes on one file, serialize and can
   * never both place the fifth call. Resolves only once the write is durable
   * (committed), with the decision written, or undefined when `decide` returned
   * undefined (nothing written).
   *
   * A store may run several calls in one transaction (group commit): each call
   * then sees the rows written by the calls before it, a fault in one call's
   * statements rejects that call alone, a failed COMMIT rejects all of them.
   *
   * A store may also read the facts first and write only if the counted
   * attempts are still the ones `decide` saw (PostgreSQL: docs/postgres.md);
   * when another gate changed them in between, it calls `decide` again with
   * fresh facts and writes only what the last call returned. A rejection means
   * nothing of this call counts: a write whose outcome the store could not
   * learn (a connection lost during COMMIT) is released by the store.
   */
  decideAndCommit(q: FactsQuery, decide: DecideFn, opts: DecideCommitOptions): Promise<Decision | undefined>;
  /**
   * Writes an already made decision (audit) and, when asked and the verdict is
   * allow, the attempt — atomically with the frequency check: two concurrent
   * commits can never both pass `maxAttempts`. The gate uses it for the
   * fail-mode decision's audit (maxAttempts Infinity); decideAndCommit is the
   * hot path.
   */
  commitDecision(decision: Decision, opts: CommitOptions): Promise<CommitResult>;
  /** Outcome of a placed call; false when no such decision. */
  recordOutcome(decisionId: string, outcome: CallOutcome): Promise<boolean>;
  /** Release an attempt that failed before reaching the network (FREQ-2 policy). */
  releaseAttempt(decisionId: string): Promise<boolean>;

  /** Inserts the consent, or merges it into the stored one with the same key (see ImportCommitResult). */
  addConsent(row: ConsentRow): Promise<void>;
  /** Marks every active consent of (number, professional) withdrawn at `at`; returns how many. */
  withdrawConsent(e164: string, professional: string, at: Date): Promise<number>;
  /** Inserts the contract, or merges it into the stored one with the same key (see ImportCommitResult). */
  addContract(row: ContractRow): Promise<void>;
  /** Inserts the entry, or merges it into the stored one with the same key (see ImportCommitResult). */
  addDnc(row: DncRow): Promise<void>;
  addRefusal(e164: string, professional: string, at: Date): Promise<void>;

  /** Start a bulk import. For opposition, asOf is the list date. */
  beginImport(kind: ImportKind, opts?: { asOf?: Date }): Promise<ImportSession>;

  history(e164: string, professional?: string): Promise<History>;

  /**
   * Everything the store holds, in batches of at most `batchSize` rows (constant memory):
   * consents, contracts, do-not-call entries, refusals, the opposition list (if one was
   * imported), decisions (in the order they were recorded). For `callgate store copy`.
   */
  exportAll(batchSize?: number): AsyncIterable<CopyBatch>;
  /**
   * Writes a batch of another store's rows. Idempotent: a row already here (consent, contract and
   * dnc by their natural key, a refusal by number, professional and time, a decision by id) is
   * skipped, or updated where the batch knows more and nothing is lost: a consent's withdrawal, a
   * contract's end, a decision's outcome, an attempt's release. An opposition batch with `first`
   * replaces the list (and its date).
   */
  copyIn(batch: CopyBatch): Promise<CopyResult>;
  /**
   * The decisions recorded with `from` <= at < `to` (every verdict, with its outcome), oldest
   * first, in batches of at most `batchSize` (constant memory: `callgate audit export`).
   */
  auditBetween(from: Date, to: Date, batchSize?: number): AsyncIterable<DecisionRow[]>;
  /**
   * Removes what is older than the cutoffs (one transaction), or with `dryRun` only counts it.
   * Do-not-call entries, refusals (REF-1 reads them for good) and the opposition list are never
   * purged; the caller keeps the cutoffs behind the frequency window and the consent proofs.
   */
  purge(cutoffs: PurgeCutoffs, dryRun: boolean): Promise<PurgeReport>;
  /**
   * Recorded decisions (the audit rows, not attempts without a decision), ordered by (at, id), one
   * page at a time: a page costs memory for its own rows only, whatever the size of the audit, and
   * paging from `next` to `next` visits each matching decision exactly once, even while the gate
   * keeps recording (a decision recorded later at an earlier instant is not seen by a pass that is
   * already past it). For the admin API (GET /v1/decisions). (Port method of issue 13.)
   */
  listDecisions(q: DecisionQuery): Promise<DecisionPage>;
  /**
   * The audit chains, for `callgate audit verify` (constant memory), read in ONE snapshot: first
   * every chain's head and purge anchor (one batch), then every decision row with its chain
   * columns, the chained rows in (chain, position) order, then the rows written before the chain
   * existed (chain null). (Port method of issue 15.7, src/store/audit-chain.ts.)
   */
  auditChain(batchSize?: number): AsyncIterable<AuditChainBatch>;
  /**
   * Resolves when the store can be written right now; rejects with a StoreError that says why not
   * (read-only, locked by another process, closed, unreachable). Writes nothing. For the admin API's
   * GET /readyz. Optional: without it, /readyz reads instead. (Port method of issue 13.)
   */
  checkWritable?(): Promise<void>;
  close(): Promise<void>;
}

/** Thrown by a store for a fault (not a block): unreadable file, not SQLite, schema too new. */
export class StoreError extends CallgateError {
  /**
   * True when the store could not be reached (PostgreSQL refused or lost the connection, or did
   * not answer in time): the same write may succeed once it is back.
   */
  transient?: boolean;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'StoreError';
  }
}
