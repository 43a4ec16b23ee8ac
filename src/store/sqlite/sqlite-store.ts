/**
 * The default Store: one embedded SQLite file (better-sqlite3, synchronous,
 * every statement prepared once at open).
 *
 * FREQ-1/FREQ-2 (D. 223-9 al. 3): decideAndCommit reads the facts (the
 * non-released attempts of (number, professional) since windowStart among
 * them), lets the gate decide and records the decision (one row, which is
 * also the attempt when counted = 1) inside one BEGIN IMMEDIATE transaction, so two gates (two processes on the same file)
 * serialize and can never both place the fifth call. commitDecision does the
 * same count-and-record for an already made decision.
 *
 * Group commit: decideAndCommit calls, and the other writes of the call path
 * (commitDecision, recordOutcome, releaseAttempt), arriving in the same
 * event-loop turn are queued and run, one after the other, in ONE transaction
 * on the next setImmediate (at most MAX_GROUP writes), then one COMMIT; no
 * promise resolves before that COMMIT is on disk. At store.durability full the
 * COMMIT's fsync does not run on the event loop: the connection runs at
 * synchronous NORMAL and each COMMIT is followed by an fdatasync of the -wal
 * file on libuv's thread pool, one at a time, the promises resolving only once
 * one that started after their COMMIT has succeeded (./wal-sync.ts says why
 * that is the same guarantee as FULL). Every other write of the store (imports,
 * upserts, purge, copy) waits for the same sync; the migrations at open and the
 * checkpoints keep SQLite's own syncs. A failed sync fails the store for good.
 * A call outcome alone does not start a group: it waits up to OUTCOME_JOIN_MS
 * for the next write and joins its group (nobody waits on it).
 * Each write sees the rows of the writes before it (two calls for one number in
 * one group are both counted). A write whose statement fails writes nothing (a
 * statement is atomic) and is rejected alone; a failed BEGIN or COMMIT rejects
 * every write of the group.
 *
 * Imports are staged in a TEMP table of this connection (no lock on the main
 * database while the file is parsed), then copied in one IMMEDIATE transaction
 * at commit; rollback drops the staging table. The opposition list
 * (L. 223-1, 2020 wording) is replaced as a whole at commit.
 */
import type Database from 'better-sqlite3';
import type { Decision, Facts } from '../../core/types';
import type {
  AttemptRow,
  CallOutcome,
  CommitOptions,
  CommitResult,
  ConsentRow,
  ContractRow,
  CopyBatch,
  CopyResult,
  PurgeCutoffs,
  PurgeReport,
  DecideCommitOptions,
  DecideFn,
  DecisionPage,
  DecisionQuery,
  DecisionRow,
  DncRow,
  FactsQuery,
  History,
  ImportCommitResult,
  ImportKind,
  ImportSession,
  Store,
} from '../../gate/store';
import { StoreError } from '../../gate/store';
import {
  CONSENT_WIDTH,
  type ConsentValuesSession,
  checkNumber,
  checkOutcome,
  checkSessionKind,
  checkText,
  pageLimit,
  checkWithinLimit,
  dateOpt,
  decisionFromText,
  decisionToText,
  decodeCategories,
  ms,
  storeError,
} from '../memory/common';
import { consentRow, contractRow, dncRow, requireAsOf } from '../memory/memory-store';
import { ChainWriter, type AuditChainBatch } from '../audit-chain';
import { Checkpointer, type CheckpointStats } from './checkpointer';
import { auditChainSqlite, auditSqlite, copyIntoSqlite, exportSqlite, purgeSqlite } from './bulk';
import { DEFAULT_DURABILITY, openSqlite, type SqliteOptions } from './open';
import { WalSync, type WalSyncStats } from './wal-sync';
import { CONSENT_ON_CONFLICT, CONTRACT_ON_CONFLICT, DNC_ON_CONFLICT } from './upsert';
import type { DecisionCols } from '../decision-cols';

type ConsentDb = {
  e164?: string;
  professional: string;
  categories: string;
  collected_at: number;
  valid_until: number | null;
  slot: number | null;
  source: string | null;
  withdrawn_at: number | null;
  automated: number | null;
};
type ContractDb = { e164?: string; professional: string; categories: string; start: number; end: number | null };
type DncDb = { e164?: string; professional: string | null; reason: string | null; added_at: number };
type OutcomeDb = {
  answered: number | null;
  dial_status: string | null;
  hangup_cause: string | null;
  duration_ms: number | null;
  ended_at: number | null;
};

function consentFrom(r: ConsentDb): Omit<ConsentRow, 'e164'> {
  const out: Omit<ConsentRow, 'e164'> = {
    professional: r.professional,
    categories: decodeCategories(r.categories),
    collectedAt: new Date(r.collected_at),
  };
  if (r.valid_until !== null) out.validUntil = new Date(r.valid_until);
  if (r.slot !== null) out.slot = new Date(r.slot);
  if (r.source !== null) out.source = r.source;
  if (r.withdrawn_at !== null) out.withdrawnAt = new Date(r.withdrawn_at);
  if (r.automated !== null) out.automated = r.automated === 1;
  return out;
}
function contractFrom(r: ContractDb): Omit<ContractRow, 'e164'> {
  const out: Omit<ContractRow, 'e164'> = {
    professional: r.professional,
    categories: decodeCategories(r.categories),
    start: new Date(r.start),
  };
  if (r.end !== null) out.end = new Date(r.end);
  return out;
}
function dncFrom(r: DncDb): Omit<DncRow, 'e164'> {
  const out: Omit<DncRow, 'e164'> = { addedAt: new Date(r.added_at) };
  if (r.professional !== null) out.professional = r.professional;
  if (r.reason !== null) out.reason = r.reason;
  return out;
}
function outcomeFrom(r: OutcomeDb): CallOutcome | undefined {
  if (r.ended_at === null) return undefined;
  const out: CallOutcome = { answered: r.answered === 1, endedAt: new Date(r.ended_at) };
  if (r.dial_status !== null) out.dialStatus = r.dial_status;
  if (r.hangup_cause !== null) out.hangupCause = r.hangup_cause;
  if (r.duration_ms !== null) out.durationMs = r.duration_ms;
  return out;
}

const CONSENT_COLS = 'e164, professional, categories, collected_at, valid_until, slot, source, withdrawn_at, automated';
const CONTRACT_COLS = 'e164, professional, categories, start, "end"';
const DNC_COLS = 'e164, professional, reason, added_at';
const OUTCOME_COLS = 'answered, dial_status, hangup_cause, duration_ms, ended_at';

const SET_OUTCOME =
  'SET answered = @answered, dial_status = @dialStatus, hangup_cause = @hangupCause, duration_ms = @durationMs, ended_at = @endedAt';

/**
 * Every fact of one (number, professional) in ONE statement (one call into
 * SQLite instead of six): rows tagged by kind (column 0), each kind in its own
 * order (column 1: id, or time for the counted attempts; see ordered()), then its columns. Kinds: 0 opposition, 1 consents, 2 contracts,
 * 3 dnc, 4 refusals, 5 counted attempts (FREQ-1, D. 223-9 al. 3). Kind 0 (FACTS_OPPOSITION) only when the
 * query asks for it: in the consent regime no rule reads the opposition list.
 */
const FACTS_OPPOSITION = `
SELECT 0, 0, (SELECT as_of FROM opposition_meta WHERE id = 1), EXISTS (SELECT 1 FROM opposition WHERE e164 = @e164),
  NULL, NULL, NULL, NULL, NULL, NULL
UNION ALL`;
const FACTS_SQL = `
SELECT 1, id, professional, categories, collected_at, valid_until, slot, source, withdrawn_at, automated
  FROM consents WHERE e164 = @e164
UNION ALL
SELECT 2, id, professional, categories, start, "end", NULL, NULL, NULL, NULL
  FROM contracts WHERE e164 = @e164 AND professional = @p
UNION ALL
SELECT 3, id, professional, reason, added_at, NULL, NULL, NULL, NULL, NULL
  FROM dnc WHERE e164 = @e164 AND (professional IS NULL OR professional = @p)
UNION ALL
SELECT 4, id, at, NULL, NULL, NULL, NULL, NULL, NULL, NULL
  FROM refusals WHERE e164 = @e164 AND professional = @p
UNION ALL
SELECT 5, at, at, NULL, NULL, NULL, NULL, NULL, NULL, NULL
  FROM decisions WHERE e164 = @e164 AND professional = @p AND at >= @w AND counted = 1 AND released = 0`;

/** The decision row; counted = 1 makes it an attempt too (FREQ-1). */
const INSERT_DECISION_SQL =
  'INSERT INTO decisions (id, at, e164, professional, campaign, verdict, reasons, json, counted, chain, position, prev_hash, row_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';

/** The SQL of the check-and-record path, for the benchmark's floor (bench/decisions.ts) to run the same statements. */
export const HOT_PATH_SQL = { facts: FACTS_SQL, insertDecision: INSERT_DECISION_SQL } as const;

/** Rows of FACTS_SQL in (kind, order) order: SQLite returns them per kind, in index order (sorted only if not). */
const byKindThenOrder = (a: FactRow, b: FactRow) => a[0] - b[0] || a[1] - b[1];
function ordered(rows: FactRow[]): FactRow[] {
  for (let i = 1; i < rows.length; i++)
    if (byKindThenOrder(rows[i - 1]!, rows[i]!) > 0) return rows.sort(byKindThenOrder);
  return rows;
}

type FactRow = [number, number, unknown, unknown, unknown, unknown, unknown, unknown, unknown, unknown];

/** Rows per multi-row INSERT in imports (9 columns × 100 = 900 bound parameters, under SQLite's limit). */
const IMPORT_BATCH = 100;

type CommitArgs = DecisionCols & {
  record: boolean;
  windowStart: number;
  maxAttempts: number;
};

/** busy_timeout when the options name none (open.ts uses the same default). */
const DEFAULT_BUSY_MS = 5000;
/** While another connection holds the write lock, a waiting write tries again this often, ms. */
const WRITE_RETRY_MS = 2;

const isBusy = (err: unknown) => String((err as { code?: unknown })?.code ?? '').startsWith('SQLITE_BUSY');
const sleep = (msec: number) => new Promise<void>((r) => setTimeout(r, msec));

/** Most writes run in one transaction (group commit). */
export const MAX_GROUP = 256;
/**
 * How long a call outcome may wait in the queue for the next group to join before it is committed
 * by itself. Nobody waits on an outcome (the PBX adapters record it in the background), and at the
 * rates where commits cost (200 calls/s: a decision every 5 ms) it nearly always rides with the
 * next decision's COMMIT instead of taking one (and, at durability full, an fsync) of its own, which
 * every decision arriving meanwhile waited behind. Committed before its promise resolves, as always.
 */
export const OUTCOME_JOIN_MS = 20;

/** A write waiting for its group: a check-and-record, or another write of the call path (outcome, release, audit). */
type Pending = (
  | { kind: 'decide'; q: FactsQuery; windowStart: number; decide: DecideFn; opts: DecideCommitOptions }
  | { kind: 'write'; what: string; body: () => unknown }
) & {
  resolve: (v: never) => void;
  reject: (err: unknown) => void;
  /** When it was queued (Date.now()): it waits for another connection's write lock at most busyMs from then. */
  since: number;
};
const nameOf = (p: Pending) => (p.kind === 'decide' ? 'decideAndCommit' : p.what);

/** Every statement of the store, prepared once at open. */
function prepareAll(db: Database.Database) {
  const p = (sql: string) => db.prepare(sql);
  return {
    opposition: p(
      'SELECT (SELECT as_of FROM opposition_meta WHERE id = 1) AS as_of, EXISTS (SELECT 1 FROM opposition WHERE e164 = ?) AS listed',
    ),
    counted: p(
      'SELECT at FROM decisions WHERE e164 = ? AND professional = ? AND at >= ? AND counted = 1 AND released = 0 ORDER BY at',
    ).pluck(),
    facts: p(FACTS_OPPOSITION + FACTS_SQL).raw(),
    /** Without the opposition list (FactsQuery.opposition false: consent regime). */
    factsNoOpposition: p(FACTS_SQL).raw(),
    insertDecision: p(INSERT_DECISION_SQL),
    outcome: p(`UPDATE decisions ${SET_OUTCOME} WHERE id = @id`),
    release: p('UPDATE decisions SET released = 1 WHERE id = @id AND counted = 1'),
    insertConsent: p(
      `INSERT INTO consents (${CONSENT_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ${CONSENT_ON_CONFLICT}`,
    ),
    withdraw: p('UPDATE consents SET withdrawn_at = ? WHERE e164 = ? AND professional = ? AND withdrawn_at IS NULL'),
    insertContract: p(`INSERT INTO contracts (${CONTRACT_COLS}) VALUES (?, ?, ?, ?, ?) ${CONTRACT_ON_CONFLICT}`),
    insertDnc: p(`INSERT INTO dnc (${DNC_COLS}) VALUES (?, ?, ?, ?) ${DNC_ON_CONFLICT}`),
    insertRefusal: p('INSERT INTO refusals (e164, professional, at) VALUES (?, ?, ?)'),
    hAttempts: p(
      `SELECT id AS decision_id, e164, professional, campaign, at, ${OUTCOME_COLS} FROM decisions WHERE e164 = @e164 AND (@p IS NULL OR professional = @p) AND counted = 1 ORDER BY at, id`,
    ),
    hDecisions: p(
      `SELECT id, at, professional, verdict, json, ${OUTCOME_COLS} FROM decisions WHERE e164 = @e164 AND (@p IS NULL OR professional = @p) AND json <> '' ORDER BY at, rowid`,
    ),
    hConsents: p(
      `SELECT ${CONSENT_COLS} FROM consents WHERE e164 = @e164 AND (@p IS NULL OR professional = @p) ORDER BY collected_at, id`,
    ),
    hContracts: p(
      `SELECT ${CONTRACT_COLS} FROM contracts WHERE e164 = @e164 AND (@p IS NULL OR professional = @p) ORDER BY start, id`,
    ),
    hDnc: p(
      `SELECT ${DNC_COLS} FROM dnc WHERE e164 = @e164 AND (@p IS NULL OR professional IS NULL OR professional = @p) ORDER BY added_at, id`,
    ),
    /** A page of the decision list (listDecisions): a range of the decisions_at index. */
    listDecisions: p(
      `SELECT id, at, e164, professional, verdict, json, ${OUTCOME_COLS} FROM decisions
       WHERE at >= @from AND at < @to AND (at, id) > (@afterAt, @afterId) AND json <> ''
         AND (@verdict IS NULL OR verdict = @verdict) AND (@campaign IS NULL OR campaign = @campaign)
         AND (@reason IS NULL OR instr(' ' || reasons || ' ', ' ' || @reason || ' ') > 0)
       ORDER BY at, id LIMIT @n`,
    ),
    /** The chain's head, once per group that wrote decisions (src/store/audit-chain.ts). */
    head: p(
      'INSERT INTO chain_heads (chain, position, hash, started_at, updated_at) VALUES (@chain, @position, @hash, @startedAt, @now) ON CONFLICT (chain) DO UPDATE SET position = excluded.position, hash = excluded.hash, updated_at = excluded.updated_at',
    ),
    begin: p('BEGIN IMMEDIATE'),
    commit: p('COMMIT'),
    rollback: p('ROLLBACK'),
    hRefusals: p(
      'SELECT professional, at FROM refusals WHERE e164 = @e164 AND (@p IS NULL OR professional = @p) ORDER BY at, id',
    ),
  };
}

export class SqliteStore implements Store {
  readonly driver = 'sqlite' as const;
  private readonly s: ReturnType<typeof prepareAll>;
  private importSeq = 0;
  private closed = false;
  /** This store's audit chain (one per store instance: no other writer ever waits for it). */
  private readonly chain = new ChainWriter();

  constructor(
    readonly db: Database.Database,
    readonly path: string,
    /** How long a write waits for another connection's write lock before it fails (store busyTimeoutMs). */
    private readonly busyMs = DEFAULT_BUSY_MS,
    /** SqliteOptions.pollLocks: the connection's busy_timeout is 0 for good (see tryBegin). */
    private readonly pollLocks = false,
    /**
     * At store.durability full on a file: the fdatasync of the WAL that every write awaits (the
     * connection is then at synchronous NORMAL, see ./wal-sync.ts). Undefined: each COMMIT is
     * as durable as the connection's PRAGMA synchronous makes it when it returns.
     */
    private readonly walSync?: WalSync,
    /** SqliteOptions.outcomeJoinMs. */
    private readonly outcomeJoinMs = OUTCOME_JOIN_MS,
  ) {
    this.s = prepareAll(db);
    if (pollLocks) db.pragma('busy_timeout = 0');
  }

  private checkpointer: Checkpointer | undefined;

  static open(path: string, opts?: SqliteOptions): SqliteStore {
    // the migrations run at the configured PRAGMA synchronous (FULL: SQLite syncs their COMMITs)
    const db = openSqlite(path, opts);
    let walSync: WalSync | undefined;
    if (path !== ':memory:' && (opts?.durability ?? DEFAULT_DURABILITY) === 'full') {
      try {
        // the -wal file exists (the migrations read the database through it), beside the file
        // SQLite opened: store.path may be a symbolic link, which SQLite follows
        const main = (db.pragma('database_list') as { name: string; file: string }[]).find((d) => d.name === 'main');
        walSync = new WalSync(`${main?.file || path}-wal`, opts?.syncWal);
      } catch (err) {
        db.close();
        throw storeError(
          'CG_ERR_STORE_OPEN',
          `cannot open the -wal file of ${path} to sync it: ${(err as Error).message}; check the permissions of the folder and its files`,
          err,
        );
      }
    }
    const store = new SqliteStore(
      db,
      path,
      opts?.busyTimeoutMs ?? DEFAULT_BUSY_MS,
      opts?.pollLocks === true,
      walSync,
      opts?.outcomeJoinMs,
    );
    if (path !== ':memory:' && (opts?.checkpoint ?? 'worker') === 'worker') {
      try {
        // the worker's connection takes this connection's level, FULL at durability full (read
        // before the switch to NORMAL below): its checkpoints sync either way, never OFF
        store.checkpointer = new Checkpointer(store.db, path, opts?.checkpointer);
      } catch {
        store.db.pragma('wal_autocheckpoint = 1000'); // no worker: SQLite checkpoints by itself (with its syncs)
      }
    }
    // from here every write of the store awaits walSync instead of fsyncing in its COMMIT
    if (walSync) db.pragma('synchronous = NORMAL');
    return store;
  }

  /** The WAL syncs done at durability full, and the commits that waited for them (undefined otherwise). */
  syncStats(): WalSyncStats | undefined {
    return this.walSync?.stats();
  }

  /**
   * For a caller that writes through `db` itself (the benchmark's floor, tests): at durability full
   * the connection's COMMIT does not sync, so such a write is on disk only once this resolves.
   */
  async syncWal(): Promise<void> {
    if (this.walSync) await this.walSync.synced();
  }

  /** A write outside the call path: run now (one transaction), durable before it resolves. */
  private async durable<T>(what: string, fn: () => T): Promise<T> {
    const failed = this.walSync?.failed;
    if (failed && !this.closed) throw failed;
    const v = this.run(what, fn);
    if (this.walSync) await this.walSync.synced();
    return v;
  }

  /** Groups committed, and the writes in them (how many share a COMMIT). */
  private groups = { commits: 0, calls: 0 };

  groupStats(): { commits: number; calls: number } {
    return { ...this.groups };
  }

  /**
   * Between two writes of a caller that writes through `db` itself while no group is queued (the
   * benchmark's floor): the pause the checkpoint worker may be asking for, as between two groups.
   */
  async yieldToCheckpointer(): Promise<void> {
    if (this.checkpointer?.wantsPause()) await this.checkpointer.pause();
  }

  /** Counters of the background checkpointer (undefined when SQLite checkpoints by itself). */
  checkpointStats(): CheckpointStats | undefined {
    return this.checkpointer?.stats();
  }

  /** Runs a synchronous store step; SQLite faults become StoreError CG_ERR_STORE_FAULT. */
  private run<T>(what: string, fn: () => T): T {
    if (this.closed) throw storeError('CG_ERR_STORE_FAULT', `${what}: the SQLite store ${this.path} is closed`);
    try {
      return fn();
    } catch (err) {
      if (err instanceof StoreError) throw err;
      const code = (err as { code?: string }).code ?? '';
      if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE') {
        throw storeError(
          'CG_ERR_STORE_DUPLICATE',
          `${what}: ${(err as Error).message}; decision ids must be unique`,
          err,
        );
      }
      const hint = code.startsWith('SQLITE_BUSY')
        ? ' (the database stayed locked by another process longer than the busy timeout)'
        : '';
      throw storeError('CG_ERR_STORE_FAULT', `${what} on ${this.path} failed: ${(err as Error).message}${hint}`, err);
    }
  }

  async getFacts(q: FactsQuery): Promise<Facts> {
    return this.run('getFacts', () => this.readFacts(q, ms(q.windowStart, 'windowStart')));
  }

  /** The facts of q, by one prepared statement (inside the caller's transaction, if any). */
  private readFacts(q: FactsQuery, windowStart: number): Facts {
    const stmt = q.opposition === false ? this.s.factsNoOpposition : this.s.facts;
    // no ORDER BY in SQL: a sorter per statement costs more than checking the order here
    const rows = ordered(stmt.all({ e164: q.e164, p: q.professional, w: windowStart }) as FactRow[]);
    const facts: Facts = {
      consents: [],
      contracts: [],
      dnc: [],
      refusals: [],
      opposition: { listed: false },
      recentAttempts: [],
    };
    for (const r of rows) {
      switch (r[0]) {
        case 0:
          if (r[2] !== null) facts.opposition = { listed: r[3] === 1, asOf: new Date(r[2] as number) };
          break;
        case 1:
          facts.consents.push(
            consentFrom({
              professional: r[2] as string,
              categories: r[3] as string,
              collected_at: r[4] as number,
              valid_until: r[5] as number | null,
              slot: r[6] as number | null,
              source: r[7] as string | null,
              withdrawn_at: r[8] as number | null,
              automated: r[9] as number | null,
            }),
          );
          break;
        case 2:
          facts.contracts.push(
            contractFrom({
              professional: r[2] as string,
              categories: r[3] as string,
              start: r[4] as number,
              end: r[5] as number | null,
            }),
          );
          break;
        case 3:
          facts.dnc.push(
            dncFrom({ professional: r[2] as string | null, reason: r[3] as string | null, added_at: r[4] as number }),
          );
          break;
        case 4:
          facts.refusals.push({ professional: q.professional, at: new Date(r[2] as number) });
          break;
        default:
          facts.recentAttempts.push(new Date(r[2] as number));
      }
    }
    return facts;
  }

  private queue: Pending[] = [];
  private scheduled = false;
  /** A group runs between two pauses for the checkpointer (its commit is what rewinds the WAL). */
  private justPaused = false;
  /** Armed when only outcomes wait: commits them after OUTCOME_JOIN_MS if no other write came. */
  private joinTimer: NodeJS.Timeout | undefined;

  decideAndCommit(q: FactsQuery, decide: DecideFn, opts: DecideCommitOptions): Promise<Decision | undefined> {
    return new Promise((resolve, reject) => {
      try {
        if (this.closed)
          throw storeError('CG_ERR_STORE_FAULT', `decideAndCommit: the SQLite store ${this.path} is closed`);
        if (this.walSync?.failed) throw this.walSync.failed;
        const windowStart = ms(q.windowStart, 'windowStart');
        this.enqueue({ kind: 'decide', q, windowStart, decide, opts, resolve, reject, since: Date.now() });
      } catch (err) {
        reject(err);
      }
    });
  }

  /**
   * The other writes of the call path (commitDecision, recordOutcome, releaseAttempt) join the
   * same groups: one COMMIT, and at durability full one fsync, for everything that arrived in the
   * same event-loop turn, instead of one per write. Resolves after that COMMIT; `body` runs inside
   * the group's transaction (it sees the writes queued before it) and fails alone.
   */
  private write<T>(what: string, body: () => T, join = false): Promise<T> {
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject(storeError('CG_ERR_STORE_FAULT', `${what}: the SQLite store ${this.path} is closed`));
        return;
      }
      if (this.walSync?.failed) {
        reject(this.walSync.failed);
        return;
      }
      this.enqueue({ kind: 'write', what, body, resolve, reject, since: Date.now() }, join);
    });
  }

  /** `join`: the write may wait OUTCOME_JOIN_MS for another one to share its group (outcomes). */
  private enqueue(p: Pending, join = false): void {
    this.queue.push(p);
    if (this.scheduled) return;
    if (join) {
      this.joinTimer ??= setTimeout(this.flushJoined, this.outcomeJoinMs);
      return;
    }
    this.scheduled = true;
    setImmediate(this.flush);
  }

  /** Only outcomes came in OUTCOME_JOIN_MS: they are committed now, as one group. */
  private readonly flushJoined = (): void => {
    this.joinTimer = undefined;
    if (this.scheduled || this.queue.length === 0) return;
    this.scheduled = true;
    this.flush();
  };

  /** Runs the queued calls, MAX_GROUP per transaction; the rest on the next turn (I/O gets its turn). */
  private readonly flush = (): void => {
    if (!this.justPaused && !this.closed && this.checkpointer?.wantsPause()) {
      // no transaction is open between two groups: let the worker copy the WAL's last frames,
      // so the next commit rewinds the WAL (see checkpointer.ts); calls keep queueing meanwhile
      this.justPaused = true;
      void this.checkpointer.pause().then(this.flush, this.flush);
      return;
    }
    this.justPaused = false;
    this.scheduled = false;
    if (this.joinTimer) {
      clearTimeout(this.joinTimer); // the outcomes waiting join this group
      this.joinTimer = undefined;
    }
    const group = this.queue.length <= MAX_GROUP ? this.queue.splice(0) : this.queue.splice(0, MAX_GROUP);
    const waiting = this.runGroup(group);
    if (waiting.length > 0) {
      // another connection holds the write lock: try again after a short timer, never in SQLite's
      // busy handler (see tryBegin), so that the deadlines of the waiting calls can fire
      this.queue.unshift(...waiting);
      this.scheduled = true;
      setTimeout(this.flush, WRITE_RETRY_MS);
    } else if (this.queue.length > 0) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  };

  /**
   * One write transaction for the whole group; resolves each call only after COMMIT. Returns the
   * calls that could not start because another connection holds the write lock (they wait, each at
   * most busyMs from when it was queued, then fail).
   */
  private runGroup(group: Pending[]): Pending[] {
    if (group.length === 0) return [];
    if (this.closed) {
      for (const p of group)
        p.reject(storeError('CG_ERR_STORE_FAULT', `${nameOf(p)}: the SQLite store ${this.path} is closed`));
      return [];
    }
    const failed = this.walSync?.failed;
    if (failed) {
      for (const p of group) p.reject(failed);
      return [];
    }
    let done: [Pending, unknown][] = [];
    let open = false;
    for (const [i, p] of group.entries()) {
      if (!open) {
        try {
          if (!this.tryBegin('decideAndCommit BEGIN IMMEDIATE')) {
            const now = Date.now();
            const waiting: Pending[] = [];
            for (const w of group.slice(i)) {
              if (now - w.since >= this.busyMs) w.reject(this.busyError(nameOf(w), now - w.since));
              else waiting.push(w);
            }
            return waiting;
          }
          open = true;
        } catch (err) {
          p.reject(err);
          continue;
        }
      }
      try {
        done.push([p, p.kind === 'decide' ? this.decideOne(p) : this.run(p.what, p.body)]);
      } catch (err) {
        p.reject(err);
        if (!this.db.inTransaction) {
          // SQLite rolled the whole transaction back (I/O error, disk full…): the calls before were lost too
          const lost = storeError(
            'CG_ERR_STORE_FAULT',
            `${nameOf(p)} on ${this.path}: the transaction was rolled back by a fault in another write of its group (${(err as Error).message})`,
            err,
          );
          for (const [q] of done) q.reject(lost);
          done = [];
          open = false;
          this.chain.rolledBack();
        }
      }
    }
    if (!open) return [];
    try {
      this.run('decideAndCommit COMMIT', () => {
        const head = this.chain.pendingHead();
        if (head) this.s.head.run({ ...head, now: Date.now() });
        this.s.commit.run();
      });
      this.chain.committedNow();
    } catch (err) {
      try {
        if (this.db.inTransaction) this.s.rollback.run();
      } catch {
        // the connection is unusable; the next BEGIN will say so
      }
      this.chain.rolledBack();
      for (const [p] of done) p.reject(err);
      return [];
    }
    this.groups.commits++;
    this.groups.calls += done.length;
    if (this.walSync) {
      // committed (visible to every reader), not yet on disk: answered once an fdatasync that
      // starts from now has succeeded; the next groups commit meanwhile (see ./wal-sync.ts)
      this.walSync.after((err) => {
        if (err) for (const [p] of done) p.reject(err);
        else for (const [p, v] of done) (p.resolve as (v: unknown) => void)(v);
      });
    } else for (const [p, v] of done) (p.resolve as (v: unknown) => void)(v);
    return [];
  }

  /** One call inside the group's transaction: facts, decide, write its row. */
  private decideOne(p: Extract<Pending, { kind: 'decide' }>): Decision | undefined {
    const facts = this.run('decideAndCommit facts', () => this.readFacts(p.q, p.windowStart));
    const counted = facts.recentAttempts.length;
    const decision = p.decide(facts);
    if (decision === undefined) return undefined;
    const record = p.opts.recordAttempt && decision.verdict === 'allow';
    if (record) checkWithinLimit(decision, p.q, counted, p.opts.maxAttempts);
    const c = this.commitArgs(decision, record);
    // one statement (decision and attempt are one row): it fails whole, the group goes on
    return this.run(`decideAndCommit ${c.id}`, () => {
      this.insertRow(c, record);
      return decision;
    });
  }

  /** The decision row; with `record` it is also an attempt (counted = 1, FREQ-1). */
  private insertRow(c: Omit<CommitArgs, 'record' | 'windowStart' | 'maxAttempts'>, record: boolean): void {
    // the next link of this store's chain, taken only once the row is written
    const link = this.chain.next({ ...c, auditText: c.json, counted: record });
    this.s.insertDecision.run(
      c.id,
      c.at,
      c.e164,
      c.professional,
      c.campaign,
      c.verdict,
      c.reasons,
      c.json,
      record ? 1 : 0,
      link.chain,
      link.position,
      link.prevHash,
      link.rowHash,
    );
    this.chain.advance(link);
  }

  /** The columns of a decision row, validated. */
  private commitArgs(decision: Decision, record: boolean) {
    const id = checkText(decision.id, 'decision.id');
    const at = ms(decision.at, 'decision.at');
    const e164 = decision.callee?.e164 ?? null;
    if (record && e164 === null)
      throw storeError('CG_ERR_STORE_INVALID', `decision ${id}: cannot record an attempt without callee.e164`);
    return {
      id,
      at,
      e164,
      professional: decision.campaign.professional,
      campaign: decision.campaign.id,
      verdict: decision.verdict,
      reasons: decision.reasons.map((r) => r.code).join(' '),
      json: decisionToText(decision),
    };
  }

  async commitDecision(decision: Decision, opts: CommitOptions): Promise<CommitResult> {
    const id = checkText(decision.id, 'decision.id');
    const at = ms(decision.at, 'decision.at');
    const windowStart = ms(opts.windowStart, 'windowStart');
    const e164 = decision.callee?.e164 ?? null;
    const professional = decision.campaign.professional;
    const record = opts.recordAttempt && decision.verdict === 'allow';
    if (record && e164 === null)
      throw storeError('CG_ERR_STORE_INVALID', `decision ${id}: cannot record an attempt without callee.e164`);
    const json = decisionToText(decision);
    const reasons = decision.reasons.map((r) => r.code).join(' ');
    return this.write(`commitDecision ${id}`, () =>
      this.commitOne({
        id,
        at,
        e164,
        professional,
        campaign: decision.campaign.id,
        verdict: decision.verdict,
        reasons,
        json,
        record,
        windowStart,
        maxAttempts: opts.maxAttempts,
      }),
    );
  }

  async recordOutcome(decisionId: string, outcome: CallOutcome): Promise<boolean> {
    checkOutcome(outcome);
    const v = {
      answered: outcome.answered ? 1 : 0,
      dialStatus: outcome.dialStatus ?? null,
      hangupCause: outcome.hangupCause ?? null,
      durationMs: outcome.durationMs ?? null,
      endedAt: outcome.endedAt.getTime(),
      id: decisionId,
    };
    return this.write(`recordOutcome ${decisionId}`, () => this.s.outcome.run(v).changes > 0, true);
  }

  async releaseAttempt(decisionId: string): Promise<boolean> {
    return this.write(`releaseAttempt ${decisionId}`, () => this.s.release.run({ id: decisionId }).changes > 0);
  }

  /** commitDecision's transaction body: the limit check (FREQ-1) and the row. */
  private commitOne(c: CommitArgs): CommitResult {
    if (c.record && Number.isFinite(c.maxAttempts)) {
      const counted = this.s.counted.all(c.e164, c.professional, c.windowStart) as number[];
      if (counted.length >= c.maxAttempts) return { ok: false, recentAttempts: counted.map((t) => new Date(t)) };
    }
    this.insertRow(c, c.record);
    return { ok: true };
  }

  /**
   * BEGIN IMMEDIATE without sleeping in SQLite's busy handler: false at once when another
   * connection holds the write lock (an import's final merge, another gate, a backup). The gate
   * shares its thread with every call, timer and PBX socket of the process: SQLite's handler
   * would freeze all of them for as long as the lock is held (up to busy_timeout, per attempt).
   * The callers wait between tries with a timer instead, and give up after busyMs.
   */
  private tryBegin(what: string): boolean {
    // busy_timeout is applied when a PRAGMA is compiled, so it is set with db.pragma (~3 µs a
    // call) around BEGIN; with pollLocks the connection stays at 0 and needs neither call
    if (!this.pollLocks) this.db.pragma('busy_timeout = 0');
    try {
      this.run(what, () => this.s.begin.run());
      return true;
    } catch (err) {
      if (isBusy((err as StoreError).cause)) return false;
      throw err;
    } finally {
      if (!this.pollLocks && !this.closed) this.db.pragma(`busy_timeout = ${this.busyMs}`);
    }
  }

  /** The write lock stayed with another connection for busyMs: the error every waiting write gets. */
  private busyError(what: string, waitedMs: number): StoreError {
    // the cause says SQLITE_BUSY, as when SQLite's own busy handler gives up: callers may try again later
    return storeError(
      'CG_ERR_STORE_FAULT',
      `${what} on ${this.path} failed: the database stayed locked by another process longer than the busy timeout (waited ${Math.round(waitedMs)} ms of at most ${this.busyMs}): an import or another program held its write lock`,
      Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' }),
    );
  }

  async addConsent(row: ConsentRow): Promise<void> {
    const c = consentRow(row);
    await this.durable('addConsent', () =>
      this.s.insertConsent.run(
        c.e164,
        c.professional,
        c.categories,
        c.collectedAt,
        c.validUntil,
        c.slot,
        c.source,
        c.withdrawnAt,
        c.automated === null ? null : c.automated ? 1 : 0,
      ),
    );
  }

  async withdrawConsent(e164: string, professional: string, at: Date): Promise<number> {
    const t = ms(at, 'withdrawConsent at');
    return this.durable('withdrawConsent', () => this.s.withdraw.run(t, e164, professional).changes);
  }

  async addContract(row: ContractRow): Promise<void> {
    const c = contractRow(row);
    await this.durable('addContract', () =>
      this.s.insertContract.run(c.e164, c.professional, c.categories, c.start, c.end),
    );
  }

  async addDnc(row: DncRow): Promise<void> {
    const d = dncRow(row);
    await this.durable('addDnc', () => this.s.insertDnc.run(d.e164, d.professional, d.reason, d.addedAt));
  }

  async addRefusal(e164: string, professional: string, at: Date): Promise<void> {
    const n = checkNumber(e164, 'refusal');
    const p = checkText(professional, 'refusal.professional');
    const t = ms(at, 'refusal.at');
    await this.durable('addRefusal', () => this.s.insertRefusal.run(n, p, t));
  }

  async beginImport(kind: ImportKind, opts?: { asOf?: Date }): Promise<ImportSession> {
    const asOf = kind === 'opposition' ? requireAsOf(opts) : undefined;
    const table = `temp.import_${++this.importSeq}_${kind}`;
    const spec = {
      consent: { cols: CONSENT_COLS, n: 9, target: 'consents', onConflict: CONSENT_ON_CONFLICT },
      contract: { cols: CONTRACT_COLS, n: 5, target: 'contracts', onConflict: CONTRACT_ON_CONFLICT },
      dnc: { cols: DNC_COLS, n: 4, target: 'dnc', onConflict: DNC_ON_CONFLICT },
      opposition: { cols: 'e164', n: 1, target: 'opposition', onConflict: '' },
    }[kind];
    const db = this.db;
    this.run('beginImport', () => db.exec(`CREATE TABLE ${table} (${spec.cols})`));
    const values = (rows: number) =>
      Array.from({ length: rows }, () => `(${Array(spec.n).fill('?').join(', ')})`).join(', ');
    const many = this.run('beginImport', () =>
      db.prepare(`INSERT INTO ${table} (${spec.cols}) VALUES ${values(IMPORT_BATCH)}`),
    );
    const one = this.run('beginImport', () => db.prepare(`INSERT INTO ${table} (${spec.cols}) VALUES ${values(1)}`));
    const stage = db.transaction((flat: unknown[]) => {
      const per = spec.n * IMPORT_BATCH;
      let i = 0;
      for (; i + per <= flat.length; i += per) many.run(flat.slice(i, i + per));
      for (; i < flat.length; i += spec.n) one.run(flat.slice(i, i + spec.n));
    });
    let open = true;
    const guard = (called: ImportKind) => {
      if (!open)
        throw storeError(
          'CG_ERR_STORE_IMPORT',
          'this import session is already committed or rolled back; begin a new one',
        );
      checkSessionKind(kind, called);
    };
    const close = () => {
      open = false;
      if (!this.closed) db.exec(`DROP TABLE IF EXISTS ${table}`);
    };
    const write = (called: ImportKind, flat: unknown[]) => {
      guard(called);
      this.run(`import ${kind}`, () => stage(flat));
    };
    const session: ImportSession & ConsentValuesSession = {
      consentValues: async (flat) => {
        // internal fast path of csv-import: the values are already validated (see ../memory/common.ts)
        guard('consent');
        if (flat.length % CONSENT_WIDTH !== 0)
          throw storeError('CG_ERR_STORE_IMPORT', `consentValues: ${flat.length} values is not a whole number of rows`);
        write('consent', flat as unknown[]);
      },
      consents: async (rows) => {
        guard('consent');
        const flat: unknown[] = [];
        for (const r of rows) {
          const c = consentRow(r);
          flat.push(
            c.e164,
            c.professional,
            c.categories,
            c.collectedAt,
            c.validUntil,
            c.slot,
            c.source,
            c.withdrawnAt,
            c.automated === null ? null : c.automated ? 1 : 0,
          );
        }
        write('consent', flat);
      },
      contracts: async (rows) => {
        guard('contract');
        const flat: unknown[] = [];
        for (const r of rows) {
          const c = contractRow(r);
          flat.push(c.e164, c.professional, c.categories, c.start, c.end);
        }
        write('contract', flat);
      },
      dnc: async (rows) => {
        guard('dnc');
        const flat: unknown[] = [];
        for (const r of rows) {
          const d = dncRow(r);
          flat.push(d.e164, d.professional, d.reason, d.addedAt);
        }
        write('dnc', flat);
      },
      opposition: async (e164s) => {
        guard('opposition');
        for (const n of e164s) checkNumber(n, 'opposition');
        write('opposition', e164s);
      },
      commit: async () => {
        guard(kind);
        const copy = db.transaction((): ImportCommitResult => {
          const staged = db.prepare(`SELECT COUNT(*) FROM ${table}`).pluck().get() as number;
          if (kind === 'opposition') {
            db.exec('DELETE FROM opposition');
            const inserted = db
              .prepare(`INSERT OR IGNORE INTO opposition (e164) SELECT e164 FROM ${table}`)
              .run().changes;
            db.prepare(
              'INSERT INTO opposition_meta (id, as_of, imported_at, count) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET as_of = excluded.as_of, imported_at = excluded.imported_at, count = excluded.count',
            ).run(asOf, Date.now(), inserted);
            return { inserted, updated: 0, unchanged: staged - inserted };
          }
          // merged on the natural key (unique indexes of migration 2), in file order (see upsert.ts);
          // a new row gets a rowid above every stored one, so the rows above the old maximum are
          // the inserted ones and changes() - inserted the updated ones
          const before = (db.prepare(`SELECT MAX(id) FROM ${spec.target}`).pluck().get() as number | null) ?? 0;
          const changes = db
            .prepare(
              `INSERT INTO ${spec.target} (${spec.cols}) SELECT ${spec.cols} FROM ${table} WHERE true ORDER BY rowid ${spec.onConflict}`,
            )
            .run().changes;
          const inserted = db.prepare(`SELECT COUNT(*) FROM ${spec.target} WHERE id > ?`).pluck().get(before) as number;
          return { inserted, updated: changes - inserted, unchanged: staged - changes };
        });
        let result: ImportCommitResult;
        try {
          // staging wrote only the TEMP table (never the WAL): this is the import's one durable write
          result = this.run(`import ${kind} commit`, () => {
            const failed = this.walSync?.failed;
            if (failed) throw failed;
            return copy.immediate();
          });
        } finally {
          close();
        }
        if (this.walSync) await this.walSync.synced();
        return result;
      },
      rollback: async () => {
        if (!open) return;
        this.run(`import ${kind} rollback`, close);
      },
    };
    return session;
  }

  async history(e164: string, professional?: string): Promise<History> {
    return this.run('history', () => {
      const args = { e164, p: professional ?? null };
      const opp = this.s.opposition.get(e164) as { as_of: number | null; listed: number };
      return {
        e164,
        attempts: (
          this.s.hAttempts.all(args) as (OutcomeDb & {
            decision_id: string;
            e164: string;
            professional: string;
            campaign: string;
            at: number;
          })[]
        ).map((r) => {
          const row: AttemptRow = {
            decisionId: r.decision_id,
            e164: r.e164,
            professional: r.professional,
            campaignId: r.campaign,
            at: new Date(r.at),
          };
          const o = outcomeFrom(r);
          if (o) row.outcome = o;
          return row;
        }),
        decisions: (
          this.s.hDecisions.all(args) as (OutcomeDb & {
            id: string;
            at: number;
            professional: string;
            verdict: 'allow' | 'block';
            json: string;
          })[]
        ).map((r) => {
          const row: DecisionRow = {
            id: r.id,
            at: new Date(r.at),
            e164,
            professional: r.professional,
            verdict: r.verdict,
            decision: decisionFromText(r.json),
          };
          const o = outcomeFrom(r);
          if (o) row.outcome = o;
          return row;
        }),
        consents: (this.s.hConsents.all(args) as ConsentDb[]).map((r) => ({ e164, ...consentFrom(r) })),
        contracts: (this.s.hContracts.all(args) as ContractDb[]).map((r) => ({ e164, ...contractFrom(r) })),
        dnc: (this.s.hDnc.all(args) as DncDb[]).map((r) => ({ e164, ...dncFrom(r) })),
        refusals: (this.s.hRefusals.all(args) as { professional: string; at: number }[]).map((r) => ({
          e164,
          professional: r.professional,
          at: new Date(r.at),
        })),
        opposition:
          opp.as_of === null ? { listed: false } : { listed: opp.listed === 1, asOf: dateOpt(opp.as_of) as Date },
      };
    });
  }

  /** Everything in the file, in batches (`callgate store copy`, see ./bulk.ts). */
  exportAll(batchSize = 10_000): AsyncIterable<CopyBatch> {
    if (this.closed) throw storeError('CG_ERR_STORE_FAULT', `exportAll: the SQLite store ${this.path} is closed`);
    return exportSqlite(this.db, batchSize);
  }

  /** Decisions of a time range, in pages (`callgate audit export`, see ./bulk.ts). */
  auditBetween(from: Date, to: Date, batchSize = 1000): AsyncIterable<DecisionRow[]> {
    if (this.closed) throw storeError('CG_ERR_STORE_FAULT', `auditBetween: the SQLite store ${this.path} is closed`);
    return auditSqlite(this.db, ms(from, 'from'), ms(to, 'to'), batchSize);
  }

  /**
   * The heads, then every decision row with its chain columns, in one read transaction of a
   * connection of its own (see ./bulk.ts): the gate's connection keeps writing meanwhile.
   */
  auditChain(batchSize = 1000): AsyncIterable<AuditChainBatch> {
    if (this.closed) throw storeError('CG_ERR_STORE_FAULT', `auditChain: the SQLite store ${this.path} is closed`);
    return auditChainSqlite(this.db, this.path, batchSize);
  }

  /** Removes (or counts) what is older than the cutoffs, in one transaction (see ./bulk.ts). */
  async purge(cutoffs: PurgeCutoffs, dryRun: boolean): Promise<PurgeReport> {
    return this.durable('purge', () => purgeSqlite(this.db, cutoffs, dryRun));
  }

  /** Another store's rows, written idempotently in one transaction (see ./bulk.ts). */
  async copyIn(batch: CopyBatch): Promise<CopyResult> {
    return this.durable(`copy ${batch.kind}`, () => copyIntoSqlite(this.db, batch));
  }

  async listDecisions(q: DecisionQuery): Promise<DecisionPage> {
    const limit = pageLimit(q.limit);
    const args = {
      from: q.from === undefined ? Number.MIN_SAFE_INTEGER : ms(q.from, 'from'),
      to: q.to === undefined ? Number.MAX_SAFE_INTEGER : ms(q.to, 'to'),
      afterAt: q.after === undefined ? Number.MIN_SAFE_INTEGER : ms(q.after.at, 'after.at'),
      afterId: q.after === undefined ? '' : checkText(q.after.id, 'after.id'),
      verdict: q.verdict ?? null,
      campaign: q.campaign ?? null,
      reason: q.reason ?? null,
      n: limit + 1,
    };
    return this.run('listDecisions', () => {
      const found = this.s.listDecisions.all(args) as (OutcomeDb & {
        id: string;
        at: number;
        e164: string | null;
        professional: string;
        verdict: 'allow' | 'block';
        json: string;
      })[];
      const rows = found.slice(0, limit).map((r) => {
        const row: DecisionRow = {
          id: r.id,
          at: new Date(r.at),
          professional: r.professional,
          verdict: r.verdict,
          decision: decisionFromText(r.json),
        };
        if (r.e164 !== null) row.e164 = r.e164;
        const o = outcomeFrom(r);
        if (o) row.outcome = o;
        return row;
      });
      const last = rows[rows.length - 1];
      return found.length > limit && last ? { rows, next: { at: last.at, id: last.id } } : { rows };
    });
  }

  /**
   * Takes the write lock and gives it back at once (BEGIN IMMEDIATE; ROLLBACK): fails when the file
   * is read-only, locked by another process, or the store is closed. Never waits for a lock (the
   * busy timeout is 0 meanwhile: SQLite's busy handler would block the event loop), and runs
   * synchronously, so it never interleaves with a group commit of this connection.
   */
  async checkWritable(): Promise<void> {
    this.run('checkWritable', () => {
      if (this.walSync?.failed) throw this.walSync.failed; // writes would all fail: say so
      if (this.db.inTransaction) return; // this connection is writing right now
      const busy = this.db.pragma('busy_timeout', { simple: true }) as number;
      if (busy !== 0) this.db.pragma('busy_timeout = 0');
      try {
        this.s.begin.run();
        this.s.rollback.run();
      } finally {
        if (busy !== 0) this.db.pragma(`busy_timeout = ${busy}`);
      }
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.joinTimer) clearTimeout(this.joinTimer);
    this.joinTimer = undefined;
    // calls already queued are run (and committed) before the file closes; those waiting for
    // another connection's write lock wait here too (at most busyMs each, then they fail)
    while (this.queue.length > 0) {
      const waiting = this.runGroup(this.queue.splice(0, MAX_GROUP));
      if (waiting.length > 0) {
        this.queue.unshift(...waiting);
        await sleep(WRITE_RETRY_MS);
      }
    }
    this.closed = true;
    try {
      // the groups committed above, or earlier, are answered once their sync is done
      await this.walSync?.drain();
      if (this.checkpointer) {
        await this.checkpointer.stop();
        // copy the WAL back and truncate it (best effort: another process may be writing)
        try {
          this.db.pragma('wal_checkpoint(TRUNCATE)');
        } catch {
          // its own checkpointer, or the last connection to close, will do it
        }
      }
    } finally {
      this.db.close();
      this.walSync?.close();
    }
  }
}
