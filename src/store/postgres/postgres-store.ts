/**
 * The PostgreSQL Store: one database shared by every gate of a professional
 * (several PBXs, sites, subcontractors), through a bounded pool of connections
 * (npm `pg`), every hot-path statement prepared (named) once per connection.
 *
 * FREQ-1/FREQ-2 across gates (D. 223-9 al. 3), see docs/postgres.md:
 * decideAndCommit reads the facts of (number, professional) with one statement,
 * lets the gate decide, then records the decision with one call of
 * callgate.record_decisions (migrations.ts), which — for an attempt — takes a
 * transaction-level advisory lock on (professional, number), counts the
 * attempts again under it and writes only if the count is the one the
 * decision was made from. When another gate recorded (or released) an attempt
 * of that number in between, nothing is written and the call decides again
 * from fresh facts. The lock is held for one statement, on one key: gates
 * deciding for other numbers never wait for it. Each statement runs in its own
 * transaction (autocommit): a decision is durable (COMMIT acknowledged) before
 * the promise resolves. Group commit: the calls of this process that are waiting
 * (for other numbers) are read by one statement and written by one call (one
 * COMMIT), at most one group per connection of the pool at a time.
 *
 * Failures: every statement has a server-side statement_timeout below the
 * gate's deadline and a client-side read timeout a little above it (a
 * connection that went silent); a connection that fails is dropped from the
 * pool and a new one is opened for the next call, so the store recovers by
 * itself when the database is back. A write whose outcome is unknown (the
 * connection broke after the statement was sent) is "in doubt": the caller is
 * told it failed (the gate applies its fail mode), so the store releases that
 * attempt (released = true: FREQ-2) as soon as the database answers again, and
 * an allowed call is never left without a recorded attempt nor a refused one
 * with one. The password of store.url never appears in an error message.
 */
import { Client, Pool, type PoolClient, type QueryArrayConfig, type QueryConfig, types as pgTypes } from 'pg';
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
  checkWithinLimit,
  decisionFromText,
  decisionToText,
  decodeCategories,
  ms,
  pageLimit,
  storeError,
} from '../memory/common';
import { consentRow, contractRow, dncRow, requireAsOf } from '../memory/memory-store';
import { copyStatements, countOf, exportPostgres } from './bulk';
import { PG_DEFAULT_POOL, PG_DEFAULT_STATEMENT_TIMEOUT_MS } from './defaults';
import { migratePg, type OnPgMigration } from './migrations';
import { long } from './long';
import { contentHash, newChainId, type AuditChainBatch, type AuditChainRow, type ChainHead } from '../audit-chain';
import { MERGE, PG_CONSENT_ON_CONFLICT, PG_CONTRACT_ON_CONFLICT, PG_DNC_ON_CONFLICT } from './upsert';
import { redactUrl, scrub, urlProblem, urlSecrets } from './url';
import type { DecisionCols } from '../decision-cols';

export type PostgresOptions = {
  /** postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE */
  url: string;
  /** Most connections this process opens (default 8). */
  poolSize?: number;
  /**
   * statement_timeout of every connection, ms (default 250). Keep it below gate.deadlineMs
   * (the configuration checks it does): a statement the gate has stopped waiting for is cancelled.
   * Migrations and imports lift it for their own transactions.
   */
  statementTimeoutMs?: number;
  /** How long a call waits for a connection (a free one from the pool, or a new one), ms (default: twice statementTimeoutMs). */
  connectTimeoutMs?: number;
  /** Told before each migration step on a database that already had a schema. */
  onMigration?: OnPgMigration;
  /** Told when the database stops answering (once) and when it answers again. */
  onState?: (event: { state: 'down'; why: string } | { state: 'up'; downMs: number }) => void;
  /** application_name of the connections (pg_stat_activity); default 'callgate'. */
  applicationName?: string;
};

/** The client-side read timeout is the statement timeout plus this (the server's own timeout answers first). */
const READ_TIMEOUT_MARGIN_MS = 250;
/** Decide again at most this many times when other gates keep changing the attempts of one number. */
const MAX_ROUNDS = 8;
/** Rows per INSERT … SELECT FROM unnest() when staging an import. */
const IMPORT_BATCH = 5000;

/** int8 as a JS number (epoch ms and counts are far below 2^53), int8[] too; only for this store's pool. */
const INT8 = 20;
const INT8_ARRAY = 1016;
const parseInt8Array = pgTypes.getTypeParser(INT8_ARRAY as Parameters<typeof pgTypes.getTypeParser>[0]);
const typeParsers = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === INT8) return (v: string) => Number(v);
    if (oid === INT8_ARRAY) return (v: string) => (parseInt8Array(v) as string[]).map(Number);
    return pgTypes.getTypeParser(oid, format as 'text');
  }) as typeof pgTypes.getTypeParser,
};

/** SQLSTATE classes and driver errors after which the outcome of a write is unknown or the server is away. */
function isConnectionFault(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : '';
  if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03') return true;
  if (/^E[A-Z]+$/.test(code)) return true; // ECONNREFUSED, ECONNRESET, EPIPE, ETIMEDOUT…
  const msg = typeof e?.message === 'string' ? e.message : '';
  return /Connection terminated|Query read timeout|timeout exceeded when trying to connect|Client has encountered a connection error|connection is closed|not queryable/i.test(
    msg,
  );
}

/** [query index (1-based), kind, order, professional, text, t1, t2, t3, source, t4, flag] */
type FactRow = [
  number,
  number,
  number,
  string | null,
  string | null,
  number | null,
  number | null,
  number | null,
  string | null,
  number | null,
  boolean | null,
];

/**
 * Every fact of several (number, professional) pairs in ONE statement: rows tagged by the index
 * of their query (column 0) and kind (column 1: 0 opposition, only when asked; 1 consents,
 * 2 contracts, 3 dnc, 4 refusals, 5 counted attempts), each kind in its order (column 2).
 *
 * Planned once per connection, not per execution. The lookups of each number are LATERAL, so
 * the plan is index lookups per number whatever the planner thinks the group's size is; and the
 * arrays are read through scalar sub-selects, so that a custom plan sees no more of them than the
 * generic one does (an unnest of the bound array let it estimate the group's real size): with
 * equal costs PostgreSQL keeps the generic plan after its fifth execution. Before, every
 * execution was planned again (a custom plan: ~0.3–0.5 ms of the server's CPU per group), and
 * the generic plan, had it been used, scanned whole tables joined by hash. Exported for the test
 * that checks the plan is kept.
 */
export const FACTS_SQL = `
SELECT q.i, f.* FROM unnest((SELECT $1::text[]), (SELECT $2::text[]), (SELECT $3::bigint[]), (SELECT $4::boolean[]))
    WITH ORDINALITY AS q(e164, pro, w, opp, i)
CROSS JOIN LATERAL (
SELECT 0, 0::bigint, NULL::text, NULL::text, (SELECT as_of FROM callgate.opposition_meta WHERE id = 1),
    NULL::bigint, NULL::bigint, NULL::text, NULL::bigint, EXISTS (SELECT 1 FROM callgate.opposition o WHERE o.e164 = q.e164)
  WHERE q.opp
UNION ALL
SELECT 1, c.id, c.professional, c.categories, c.collected_at, c.valid_until, c.slot, c.source, c.withdrawn_at, c.automated
  FROM callgate.consents c WHERE c.e164 = q.e164
UNION ALL
SELECT 2, k.id, k.professional, k.categories, k.start, k."end", NULL, NULL, NULL, NULL
  FROM callgate.contracts k WHERE k.e164 = q.e164 AND k.professional = q.pro
UNION ALL
SELECT 3, d.id, d.professional, d.reason, d.added_at, NULL, NULL, NULL, NULL, NULL
  FROM callgate.dnc d WHERE d.e164 = q.e164 AND (d.professional IS NULL OR d.professional = q.pro)
UNION ALL
SELECT 4, r.id, NULL, NULL, r.at, NULL, NULL, NULL, NULL, NULL
  FROM callgate.refusals r WHERE r.e164 = q.e164 AND r.professional = q.pro
UNION ALL
SELECT 5, a.at, NULL, NULL, a.at, NULL, NULL, NULL, NULL, NULL
  FROM callgate.decisions a WHERE a.e164 = q.e164 AND a.professional = q.pro AND a.at >= q.w AND a.counted AND NOT a.released
) f
ORDER BY 1, 2, 3`;

const RECORD_SQL =
  'SELECT i, written, attempts FROM callgate.record_decisions($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)';

/** Most decideAndCommit calls read and written together (one statement each, one COMMIT). */
export const PG_MAX_GROUP = 64;

const CONSENT_COLS = 'e164, professional, categories, collected_at, valid_until, slot, source, withdrawn_at, automated';
const CONSENT_TYPES = 'text[], text[], text[], bigint[], bigint[], bigint[], text[], bigint[], boolean[]';
const CONTRACT_COLS = 'e164, professional, categories, start, "end"';
const CONTRACT_TYPES = 'text[], text[], text[], bigint[], bigint[]';
const DNC_COLS = 'e164, professional, reason, added_at';
const DNC_TYPES = 'text[], text[], text[], bigint[]';
const OUTCOME_COLS = 'answered, dial_status, hangup_cause, duration_ms, ended_at';

type OutcomeDb = {
  answered: boolean | null;
  dial_status: string | null;
  hangup_cause: string | null;
  duration_ms: number | null;
  ended_at: number | null;
};
type ConsentDb = {
  professional: string;
  categories: string;
  collected_at: number;
  valid_until: number | null;
  slot: number | null;
  source: string | null;
  withdrawn_at: number | null;
  automated: boolean | null;
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
  if (r.automated !== null) out.automated = r.automated;
  return out;
}
function outcomeFrom(r: OutcomeDb): CallOutcome | undefined {
  if (r.ended_at === null) return undefined;
  const out: CallOutcome = { answered: r.answered === true, endedAt: new Date(r.ended_at) };
  if (r.dial_status !== null) out.dialStatus = r.dial_status;
  if (r.hangup_cause !== null) out.hangupCause = r.hangup_cause;
  if (r.duration_ms !== null) out.durationMs = r.duration_ms;
  return out;
}

type DbRow = {
  id: string;
  at: number;
  e164: string | null;
  professional: string;
  campaign: string;
  verdict: string;
  reasons: string;
  json: string;
  /** SHA-256 of the row's immutable fields (src/store/audit-chain.ts), made here, linked by record_decisions. */
  content: string;
};
/** A connection held for a group's statements; failed: a statement failed on it (dropped, not reused). */
type Hot = { client: PoolClient; failed: boolean };

/**
 * Array parameters as PostgreSQL array literals, built here in one pass: pg's own encoding
 * (prepareValue per element, then two replace() passes per string) cost more than the statement's
 * other work for a group's audit texts. Same literal: elements quoted, \\ and " escaped, NULL bare.
 */
function textArray<T>(xs: readonly T[], f: (x: T) => string | null): string {
  let out = '{';
  for (let i = 0; i < xs.length; i++) {
    if (i > 0) out += ',';
    const v = f(xs[i]!);
    out += v === null ? 'NULL' : quoted(v);
  }
  return `${out}}`;
}
/**
 * An array element in double quotes, `"` and `\` escaped by a backslash. JSON.stringify writes
 * exactly that, natively (5× faster than a regex replace on an audit text full of quotes: ~25 µs
 * of the gate's CPU per decision), unless the text holds a control character or a surrogate, which
 * JSON writes as `\n`, `\u0001`… and an array literal would read as `n`, `u0001`: those go the
 * slow way.
 */
function quoted(v: string): string {
  if (!JSON_OTHER_ESCAPES.test(v)) return JSON.stringify(v);
  return `"${NEEDS_ESCAPE.test(v) ? v.replace(ESCAPED, '\\$&') : v}"`;
}
// eslint-disable-next-line no-control-regex
const JSON_OTHER_ESCAPES = /[\u0000-\u001f\ud800-\udfff]/;
const NEEDS_ESCAPE = /[\\"]/;
const ESCAPED = /[\\"]/g;
function numberArray<T>(xs: readonly T[], f: (x: T) => number | null): string {
  let out = '{';
  for (let i = 0; i < xs.length; i++) {
    if (i > 0) out += ',';
    const v = f(xs[i]!);
    out += v === null ? 'NULL' : String(v);
  }
  return `${out}}`;
}
function boolArray<T>(xs: readonly T[], f: (x: T) => boolean): string {
  let out = '{';
  for (let i = 0; i < xs.length; i++) out += (i > 0 ? ',' : '') + (f(xs[i]!) ? 't' : 'f');
  return `${out}}`;
}

type RecordArgs = { row: DbRow; counted: boolean; windowStart: number; max: number | null; seen: number | null };
type RecordOutcome = 'written' | 'duplicate' | { attempts: number[] };
type Pending = {
  q: FactsQuery;
  windowStart: number;
  decide: DecideFn;
  opts: DecideCommitOptions;
  resolve: (d: Decision | undefined) => void;
  reject: (err: unknown) => void;
  /** How many times it has been decided (another gate may change its attempts in between). */
  round: number;
};

export class PostgresStore implements Store {
  readonly driver = 'postgres' as const;
  /** store.url with its password replaced by ***: the only form of it in messages. */
  readonly where: string;
  private readonly pool: Pool;
  private readonly secrets: string[];
  private readonly statementTimeoutMs: number;
  /** Groups of decideAndCommit calls in flight at once: one per connection of the pool. */
  private readonly maxGroups: number;
  private closed = false;
  private opened = false;
  private opening: Promise<void> | undefined;
  private downSince: number | undefined;
  /** Decisions whose attempt write failed with an unknown outcome: released once the database answers (id → not before, epoch ms). */
  private readonly inDoubt = new Map<string, number>();
  private releasing: Promise<void> | undefined;
  private importSeq = 0;

  constructor(private readonly opts: PostgresOptions) {
    const problem = typeof opts.url === 'string' ? urlProblem(opts.url) : 'is missing';
    if (problem !== undefined) throw storeError('CG_ERR_STORE_OPEN', `store.url ${problem}`);
    this.where = redactUrl(opts.url);
    this.secrets = urlSecrets(opts.url);
    this.statementTimeoutMs = opts.statementTimeoutMs ?? PG_DEFAULT_STATEMENT_TIMEOUT_MS;
    this.maxGroups = opts.poolSize ?? PG_DEFAULT_POOL;
    this.pool = new Pool({
      Client: SyncCommitClient,
      connectionString: opts.url,
      max: opts.poolSize ?? PG_DEFAULT_POOL,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 2 * this.statementTimeoutMs,
      // a connection, once opened, stays: closing it after a quiet spell made the next burst of
      // calls open new ones, each paying its connect, SET, the function's compilation and both
      // statements' plans (tens of ms) inside the decisions' latency. At most poolSize per process;
      // keep-alive finds the dead ones, a broken one is dropped and replaced on the next call.
      idleTimeoutMillis: 0,
      // an idle connection does not keep the process alive: a script or a test that never calls
      // close() still ends (a gate is kept alive by its server; a busy connection is ref'd again)
      allowExitOnIdle: true,
      statement_timeout: this.statementTimeoutMs,
      query_timeout: this.statementTimeoutMs + READ_TIMEOUT_MARGIN_MS,
      keepAlive: true,
      application_name: opts.applicationName ?? 'callgate',
      types: typeParsers,
    });
    // an idle connection that breaks (server restart, network cut) must not crash the process
    this.pool.on('error', (err) => this.wentDown(err));
  }

  /**
   * Resolves once the database answered and is at this callgate's schema (migrations run);
   * rejects with the StoreError that says why not. Every call waits for it; a failed open is
   * tried again by the next call.
   */
  ready(): Promise<void> {
    if (this.opened) return Promise.resolve();
    if (this.closed) return Promise.reject(this.closedError('open'));
    this.opening ??= this.open().then(
      () => {
        this.opened = true;
      },
      (err: unknown) => {
        this.opening = undefined;
        throw err;
      },
    );
    return this.opening;
  }

  private async open(): Promise<void> {
    let c: PoolClient;
    try {
      c = await this.connectFor('open', this.opts.connectTimeoutMs ?? Math.max(5000, this.statementTimeoutMs));
    } catch (err) {
      const e = this.fault('connecting', err, 'CG_ERR_STORE_OPEN');
      e.message += '; check store.url (host, port, database, role and password) and that the PostgreSQL server runs';
      throw e;
    }
    try {
      await migratePg(c, this.where, undefined, this.opts.onMigration);
      c.release();
    } catch (err) {
      c.release(true);
      if (err instanceof StoreError) throw err;
      const e = this.fault('creating or upgrading the schema', err, 'CG_ERR_STORE_OPEN');
      e.message += '; the role of store.url needs CREATE on the database the first time (docs/postgres.md)';
      throw e;
    }
  }

  /** A client of the pool, waiting at most `timeoutMs` for it when that differs from the pool's own. */
  private async connectFor(what: string, timeoutMs?: number): Promise<PoolClient> {
    if (timeoutMs === undefined) return this.pool.connect();
    // a Pool has one connection timeout; opening (a server that starts) may wait longer: retry on ours
    const until = Date.now() + timeoutMs;
    for (;;) {
      try {
        return await this.pool.connect();
      } catch (err) {
        if (Date.now() >= until || !isConnectionFault(err)) throw err;
        await new Promise((r) => setTimeout(r, 100));
        void what;
      }
    }
  }

  private closedError(what: string): StoreError {
    return storeError('CG_ERR_STORE_FAULT', `${what}: the PostgreSQL store ${this.where} is closed`);
  }

  /** A pg error as a StoreError whose message names the database (password redacted) and never echoes a secret. */
  private fault(what: string, err: unknown, code: 'CG_ERR_STORE_FAULT' | 'CG_ERR_STORE_OPEN' = 'CG_ERR_STORE_FAULT') {
    if (err instanceof StoreError) return err;
    const e = err as { code?: unknown; message?: unknown };
    const raw = scrub(typeof e?.message === 'string' ? e.message : String(err), this.secrets);
    if (e?.code === '23505')
      return storeError('CG_ERR_STORE_DUPLICATE', `${what}: ${raw}; decision ids must be unique`, this.safeCause(err));
    let hint = '';
    if (e?.code === '57014')
      hint = ` (statement_timeout of ${this.statementTimeoutMs} ms: the database is slow or locked)`;
    else if (/Query read timeout/.test(raw))
      hint = ` (no answer within ${this.statementTimeoutMs + READ_TIMEOUT_MARGIN_MS} ms: the connection was dropped)`;
    else if (isConnectionFault(err)) hint = ' (the database is unreachable or the connection was lost)';
    const out = storeError(code, `${what} on ${this.where} failed: ${raw}${hint}`, this.safeCause(err));
    if (isConnectionFault(err) || e?.code === '57014') out.transient = true;
    return out;
  }

  /** The cause kept on a StoreError: its code and scrubbed message only (a pg error can carry the query's values). */
  private safeCause(err: unknown): Error {
    const e = err as { code?: unknown; message?: unknown };
    const c = new Error(scrub(typeof e?.message === 'string' ? e.message : String(err), this.secrets));
    if (typeof e?.code === 'string') (c as Error & { code?: string }).code = e.code;
    return c;
  }

  private wentDown(err: unknown): void {
    if (this.downSince !== undefined || this.closed) return;
    this.downSince = Date.now();
    const why = scrub(String((err as Error)?.message ?? err), this.secrets);
    try {
      this.opts.onState?.({ state: 'down', why: `${this.where}: ${why}` });
    } catch {
      // a listener's fault is not the store's
    }
  }

  private cameBack(): void {
    if (this.downSince === undefined) return;
    const downMs = Date.now() - this.downSince;
    this.downSince = undefined;
    try {
      this.opts.onState?.({ state: 'up', downMs });
    } catch {
      // a listener's fault is not the store's
    }
    this.releaseInDoubt();
  }

  /**
   * One statement on a pooled connection (dropped from the pool if it fails); faults become
   * StoreErrors. With `hot`, on that connection, which the caller holds (a group's two statements
   * take the connection once, not once each) and drops if a statement failed (hot.failed).
   */
  private async q<R extends object = Record<string, unknown>>(
    what: string,
    config: QueryConfig | QueryArrayConfig,
    hot?: Hot,
  ): Promise<R[]> {
    if (this.closed) throw this.closedError(what);
    if (!this.opened) await this.ready();
    try {
      const r = hot ? await hot.client.query(config as QueryConfig) : await this.pool.query(config as QueryConfig);
      if (this.downSince !== undefined) this.cameBack();
      return r.rows as R[];
    } catch (err) {
      if (hot) hot.failed = true;
      if (isConnectionFault(err)) this.wentDown(err);
      else if (this.downSince !== undefined) this.cameBack(); // the server answered, with an error
      throw this.fault(what, err);
    }
  }

  /** A connection of the pool for a group's statements (see q); a fault to connect becomes a StoreError. */
  private async hot(what: string): Promise<Hot> {
    if (this.closed) throw this.closedError(what);
    if (!this.opened) await this.ready();
    try {
      return { client: await this.pool.connect(), failed: false };
    } catch (err) {
      if (isConnectionFault(err)) this.wentDown(err);
      throw this.fault(what, err);
    }
  }

  async getFacts(q: FactsQuery): Promise<Facts> {
    return (await this.readFacts([{ q, windowStart: ms(q.windowStart, 'windowStart') }]))[0]!;
  }

  /** The facts of several queries, by one prepared statement. */
  private async readFacts(qs: { q: FactsQuery; windowStart: number }[], hot?: Hot): Promise<Facts[]> {
    const rows = (await this.q(
      'getFacts',
      {
        name: 'cg_facts',
        text: FACTS_SQL,
        values: [
          textArray(qs, (x) => x.q.e164),
          textArray(qs, (x) => x.q.professional),
          numberArray(qs, (x) => x.windowStart),
          boolArray(qs, (x) => x.q.opposition !== false),
        ],
        rowMode: 'array',
      },
      hot,
    )) as unknown as FactRow[];
    const out: Facts[] = qs.map(() => ({
      consents: [],
      contracts: [],
      dnc: [],
      refusals: [],
      opposition: { listed: false },
      recentAttempts: [],
    }));
    for (const r of rows) {
      const facts = out[r[0] - 1]!;
      switch (r[1]) {
        case 0:
          if (r[5] !== null) facts.opposition = { listed: r[10] === true, asOf: new Date(r[5]) };
          break;
        case 1:
          facts.consents.push(
            consentFrom({
              professional: r[3]!,
              categories: r[4]!,
              collected_at: r[5]!,
              valid_until: r[6],
              slot: r[7],
              source: r[8],
              withdrawn_at: r[9],
              automated: r[10],
            }),
          );
          break;
        case 2: {
          const c: Omit<ContractRow, 'e164'> = {
            professional: r[3]!,
            categories: decodeCategories(r[4]!),
            start: new Date(r[5]!),
          };
          if (r[6] !== null) c.end = new Date(r[6]);
          facts.contracts.push(c);
          break;
        }
        case 3: {
          const d: Omit<DncRow, 'e164'> = { addedAt: new Date(r[5]!) };
          if (r[3] !== null) d.professional = r[3];
          if (r[4] !== null) d.reason = r[4];
          facts.dnc.push(d);
          break;
        }
        case 4:
          facts.refusals.push({ professional: qs[r[0] - 1]!.q.professional, at: new Date(r[5]!) });
          break;
        default:
          facts.recentAttempts.push(new Date(r[5]!));
      }
    }
    return out;
  }

  /** The columns of a decision row, validated. */
  private row(decision: Decision, record: boolean): DbRow {
    const id = checkText(decision.id, 'decision.id');
    const at = ms(decision.at, 'decision.at');
    const e164 = decision.callee?.e164 ?? null;
    if (record && e164 === null)
      throw storeError('CG_ERR_STORE_INVALID', `decision ${id}: cannot record an attempt without callee.e164`);
    const row = {
      id,
      at,
      e164,
      professional: decision.campaign.professional,
      campaign: decision.campaign.id,
      verdict: decision.verdict,
      reasons: decision.reasons.map((r) => r.code).join(' '),
      json: decisionToText(decision),
    };
    return { ...row, content: contentHash({ ...row, auditText: row.json, counted: record }) };
  }

  /**
   * Audit chains not in use by a group right now: one group at a time per chain, so no group
   * ever waits for another's chain head (one chain per connection slot of this process, made on
   * first use).
   */
  private readonly freeChains: string[] = [];

  /**
   * callgate.record_decisions for a group: one statement, one COMMIT. Per row: 'written', the
   * counted attempts found (nothing written), or 'duplicate'. A connection fault leaves the
   * group's attempts in doubt (see releaseInDoubt).
   */
  private async record(what: string, rows: RecordArgs[], hot?: Hot): Promise<(RecordOutcome | undefined)[]> {
    const chain = this.freeChains.pop() ?? newChainId();
    try {
      const out = (await this.q(
        what,
        {
          name: 'cg_record',
          text: RECORD_SQL,
          values: [
            textArray(rows, (r) => r.row.id),
            numberArray(rows, (r) => r.row.at),
            textArray(rows, (r) => r.row.e164),
            textArray(rows, (r) => r.row.professional),
            textArray(rows, (r) => r.row.campaign),
            textArray(rows, (r) => r.row.verdict),
            textArray(rows, (r) => r.row.reasons),
            textArray(rows, (r) => r.row.json),
            boolArray(rows, (r) => r.counted),
            numberArray(rows, (r) => r.windowStart),
            numberArray(rows, (r) => r.max),
            numberArray(rows, (r) => r.seen),
            chain,
            textArray(rows, (r) => r.row.content),
          ],
          rowMode: 'array',
        },
        hot,
      )) as unknown as [number, boolean, number[] | null][];
      const result: (RecordOutcome | undefined)[] = rows.map(() => undefined);
      for (const [i, written, attempts] of out)
        result[i - 1] = written ? 'written' : attempts === null ? 'duplicate' : { attempts };
      this.freeChains.push(chain);
      return result;
    } catch (err) {
      // the chain is not used again: a statement whose outcome is unknown may still be running on
      // the server, and would race the next group for the chain's first head
      void chain;
      if ((err as StoreError).transient === true) for (const r of rows) if (r.counted) this.doubt(r.row.id);
      throw err;
    }
  }

  /** An attempt whose write may or may not have committed: the caller was told it failed, so it must not count. */
  private doubt(id: string): void {
    // a statement the server still runs ends within its statement_timeout: release after that
    this.inDoubt.set(id, Date.now() + this.statementTimeoutMs + 1000);
    setTimeout(() => this.releaseInDoubt(), this.statementTimeoutMs + 1100).unref();
  }

  /** Releases the in-doubt attempts whose time has come (FREQ-2: a call that was never placed does not count). */
  private releaseInDoubt(): void {
    if (this.releasing || this.inDoubt.size === 0 || this.closed) return;
    const now = Date.now();
    const due = [...this.inDoubt].filter(([, t]) => t <= now).map(([id]) => id);
    if (due.length === 0) return;
    this.releasing = this.q('release in-doubt attempts', {
      name: 'cg_release_many',
      text: 'UPDATE callgate.decisions SET released = true WHERE id = ANY($1) AND counted',
      values: [due],
    }).then(
      () => {
        for (const id of due) this.inDoubt.delete(id);
        this.releasing = undefined;
        if (this.inDoubt.size > 0) setTimeout(() => this.releaseInDoubt(), 1000).unref();
      },
      () => {
        this.releasing = undefined;
        setTimeout(() => this.releaseInDoubt(), 1000).unref();
      },
    );
  }

  /** Attempts whose outcome was unknown and are not yet released (tests, shutdown). */
  inDoubtCount(): number {
    return this.inDoubt.size;
  }

  /** Per (number, professional): the last decideAndCommit of this process queued for it. */
  private readonly lanes = new Map<string, Promise<unknown>>();

  /**
   * Calls of this process for one (number, professional) run one after the other, in the order
   * they came (each sees the attempts of the ones before it, and they never make each other
   * decide again); calls for other numbers are grouped (group commit, see runGroup).
   */
  decideAndCommit(q: FactsQuery, decide: DecideFn, opts: DecideCommitOptions): Promise<Decision | undefined> {
    const key = `${q.e164}\u0000${q.professional}`;
    const prev = this.lanes.get(key);
    const run = prev === undefined ? this.enqueue(q, decide, opts) : prev.then(() => this.enqueue(q, decide, opts));
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.lanes.set(key, tail);
    void tail.then(() => {
      if (this.lanes.get(key) === tail) this.lanes.delete(key);
    });
    return run;
  }

  private queue: Pending[] = [];
  private scheduled = false;
  /** Groups being read or written now (at most the pool size). */
  private running = 0;

  private enqueue(q: FactsQuery, decide: DecideFn, opts: DecideCommitOptions): Promise<Decision | undefined> {
    return new Promise((resolve, reject) => {
      try {
        if (this.closed) throw this.closedError('decideAndCommit');
        this.queue.push({ q, windowStart: ms(q.windowStart, 'windowStart'), decide, opts, resolve, reject, round: 1 });
      } catch (err) {
        reject(err);
        return;
      }
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.flush);
  }

  /** Starts groups of the queued calls while connections are free; the rest wait for a group to end. */
  private readonly flush = (): void => {
    this.scheduled = false;
    while (this.queue.length > 0 && this.running < this.maxGroups) {
      const group = this.queue.splice(0, PG_MAX_GROUP);
      this.running++;
      void this.runGroup(group).finally(() => {
        this.running--;
        if (this.queue.length > 0) this.schedule();
      });
    }
  };

  /**
   * One group: its facts in one statement, `decide` for each call, then its decisions in one
   * statement (callgate.record_decisions: one COMMIT for the group). A call whose attempts another
   * gate changed in between goes back to the queue to decide again from fresh facts (at most
   * MAX_ROUNDS times). A fault in one call (decide throws, a duplicate id) rejects that call
   * alone; a failed statement rejects the whole group.
   */
  private async runGroup(group: Pending[]): Promise<void> {
    let hot: Hot;
    try {
      hot = await this.hot(`decideAndCommit (${group.length} decisions)`);
    } catch (err) {
      for (const p of group) p.reject(err);
      return;
    }
    try {
      await this.decideGroup(group, hot);
    } finally {
      hot.client.release(hot.failed ? true : undefined);
    }
  }

  private async decideGroup(group: Pending[], hot: Hot): Promise<void> {
    let facts: Facts[];
    try {
      facts = await this.readFacts(group, hot);
    } catch (err) {
      for (const p of group) p.reject(err);
      return;
    }
    const rows: RecordArgs[] = [];
    const calls: { p: Pending; decision: Decision }[] = [];
    for (const [i, p] of group.entries()) {
      try {
        const f = facts[i]!;
        const seen = f.recentAttempts.length;
        const decision = p.decide(f);
        if (decision === undefined) {
          p.resolve(undefined);
          continue;
        }
        const record = p.opts.recordAttempt && decision.verdict === 'allow';
        if (record) checkWithinLimit(decision, p.q, seen, p.opts.maxAttempts);
        // a block is written as it is (made from facts that can only have been stricter); an attempt
        // only if the count under the lock is still the one `decide` saw
        rows.push({
          row: this.row(decision, record),
          counted: record,
          windowStart: p.windowStart,
          max: record && Number.isFinite(p.opts.maxAttempts) ? p.opts.maxAttempts : null,
          seen: record ? seen : null,
        });
        calls.push({ p, decision });
      } catch (err) {
        p.reject(err);
      }
    }
    if (rows.length === 0) return;
    let outcomes: (RecordOutcome | undefined)[];
    try {
      outcomes = await this.record(`decideAndCommit (${rows.length} decisions)`, rows, hot);
    } catch (err) {
      for (const { p } of calls) p.reject(err);
      return;
    }
    const again: Pending[] = [];
    for (const [i, { p, decision }] of calls.entries()) {
      const o = outcomes[i];
      if (o === 'written') p.resolve(decision);
      else if (o === 'duplicate' || o === undefined)
        p.reject(
          storeError(
            'CG_ERR_STORE_DUPLICATE',
            `decideAndCommit: decision ${decision.id} is already recorded; decision ids must be unique`,
          ),
        );
      else if (p.round >= MAX_ROUNDS)
        p.reject(
          storeError(
            'CG_ERR_STORE_FAULT',
            `decideAndCommit ${decision.id}: the attempts of this number changed under ${MAX_ROUNDS} decisions in a row (other gates); nothing was written`,
          ),
        );
      else again.push({ ...p, round: p.round + 1 });
    }
    if (again.length > 0) {
      this.queue.unshift(...again);
      this.schedule();
    }
  }

  async commitDecision(decision: Decision, opts: CommitOptions): Promise<CommitResult> {
    if (this.closed) throw this.closedError('commitDecision');
    const windowStart = ms(opts.windowStart, 'windowStart');
    const record = opts.recordAttempt && decision.verdict === 'allow';
    const row = this.row(decision, record);
    const [o] = await this.record(`commitDecision ${row.id}`, [
      {
        row,
        counted: record,
        windowStart,
        max: record && Number.isFinite(opts.maxAttempts) ? opts.maxAttempts : null,
        seen: null,
      },
    ]);
    if (o === 'written') return { ok: true };
    if (o === 'duplicate' || o === undefined)
      throw storeError(
        'CG_ERR_STORE_DUPLICATE',
        `commitDecision: decision ${row.id} is already recorded; decision ids must be unique`,
      );
    return { ok: false, recentAttempts: o.attempts.map((t) => new Date(t)) };
  }

  async recordOutcome(decisionId: string, outcome: CallOutcome): Promise<boolean> {
    checkOutcome(outcome);
    const rows = await this.q<{ n: number }>(`recordOutcome ${decisionId}`, {
      name: 'cg_outcome',
      text: `WITH u AS (UPDATE callgate.decisions SET answered = $2, dial_status = $3, hangup_cause = $4, duration_ms = $5, ended_at = $6 WHERE id = $1 RETURNING 1) SELECT count(*)::int AS n FROM u`,
      values: [
        decisionId,
        outcome.answered,
        outcome.dialStatus ?? null,
        outcome.hangupCause ?? null,
        outcome.durationMs ?? null,
        outcome.endedAt.getTime(),
      ],
    });
    return rows[0]!.n > 0;
  }

  async releaseAttempt(decisionId: string): Promise<boolean> {
    const rows = await this.q<{ n: number }>(`releaseAttempt ${decisionId}`, {
      name: 'cg_release',
      text: 'WITH u AS (UPDATE callgate.decisions SET released = true WHERE id = $1 AND counted RETURNING 1) SELECT count(*)::int AS n FROM u',
      values: [decisionId],
    });
    return rows[0]!.n > 0;
  }

  async addConsent(row: ConsentRow): Promise<void> {
    const c = consentRow(row);
    await this.q('addConsent', {
      text: `INSERT INTO callgate.consents AS t (${CONSENT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ${PG_CONSENT_ON_CONFLICT}`,
      values: [
        c.e164,
        c.professional,
        c.categories,
        c.collectedAt,
        c.validUntil,
        c.slot,
        c.source,
        c.withdrawnAt,
        c.automated,
      ],
    });
  }

  async withdrawConsent(e164: string, professional: string, at: Date): Promise<number> {
    const t = ms(at, 'withdrawConsent at');
    const rows = await this.q<{ n: number }>('withdrawConsent', {
      text: 'WITH u AS (UPDATE callgate.consents SET withdrawn_at = $1 WHERE e164 = $2 AND professional = $3 AND withdrawn_at IS NULL RETURNING 1) SELECT count(*)::int AS n FROM u',
      values: [t, e164, professional],
    });
    return rows[0]!.n;
  }

  async addContract(row: ContractRow): Promise<void> {
    const c = contractRow(row);
    await this.q('addContract', {
      text: `INSERT INTO callgate.contracts AS t (${CONTRACT_COLS}) VALUES ($1, $2, $3, $4, $5) ${PG_CONTRACT_ON_CONFLICT}`,
      values: [c.e164, c.professional, c.categories, c.start, c.end],
    });
  }

  async addDnc(row: DncRow): Promise<void> {
    const d = dncRow(row);
    await this.q('addDnc', {
      text: `INSERT INTO callgate.dnc AS t (${DNC_COLS}) VALUES ($1, $2, $3, $4) ${PG_DNC_ON_CONFLICT}`,
      values: [d.e164, d.professional, d.reason, d.addedAt],
    });
  }

  async addRefusal(e164: string, professional: string, at: Date): Promise<void> {
    const n = checkNumber(e164, 'refusal');
    const p = checkText(professional, 'refusal.professional');
    const t = ms(at, 'refusal.at');
    await this.q('addRefusal', {
      text: 'INSERT INTO callgate.refusals (e164, professional, at) VALUES ($1, $2, $3)',
      values: [n, p, t],
    });
  }

  /**
   * A bulk import on its own connection, in one transaction: rows are staged in a TEMP table
   * (ON COMMIT DROP), then copied into the target at commit (idempotent on the natural key: the
   * first of equal rows wins). Nothing is visible to the gates before COMMIT; rollback leaves the
   * store as it was. The opposition list is replaced as a whole at commit.
   */
  async beginImport(kind: ImportKind, opts?: { asOf?: Date }): Promise<ImportSession> {
    if (this.closed) throw this.closedError('beginImport');
    const asOf = kind === 'opposition' ? requireAsOf(opts) : undefined;
    await this.ready();
    const spec = {
      consent: { cols: CONSENT_COLS, types: CONSENT_TYPES, target: 'consents' },
      contract: { cols: CONTRACT_COLS, types: CONTRACT_TYPES, target: 'contracts' },
      dnc: { cols: DNC_COLS, types: DNC_TYPES, target: 'dnc' },
      opposition: { cols: 'e164', types: 'text[]', target: 'opposition' },
    }[kind];
    const width = spec.types.split(',').length;
    const table = `import_${process.pid}_${++this.importSeq}`;
    const client = await this.pooled('beginImport');
    let open = true;
    const run = async (what: string, text: string, values?: unknown[]) => {
      try {
        return await long(client, text, values);
      } catch (err) {
        throw this.fault(what, err);
      }
    };
    const finish = (err?: unknown) => {
      if (!open) return;
      open = false;
      client.release(err === undefined ? undefined : err instanceof Error ? err : true);
    };
    try {
      await run('beginImport', 'BEGIN');
      await run('beginImport', 'SET LOCAL statement_timeout = 0');
      await run(
        'beginImport',
        `CREATE TEMP TABLE ${table} (seq bigint GENERATED ALWAYS AS IDENTITY, occ integer, ${spec.cols
          .split(', ')
          .map((col, i) => `${col} ${spec.types.split(', ')[i]!.replace('[]', '')}`)
          .join(', ')}) ON COMMIT DROP`,
      );
    } catch (err) {
      await long(client, 'ROLLBACK').catch(() => undefined);
      finish(err);
      throw err;
    }
    const guard = (called: ImportKind) => {
      if (!open || this.closed)
        throw storeError(
          'CG_ERR_STORE_IMPORT',
          'this import session is already committed or rolled back; begin a new one',
        );
      checkSessionKind(kind, called);
    };
    /** Stages rows given as columns (one array per column), IMPORT_BATCH rows per statement. */
    const stage = async (columns: unknown[][]) => {
      const n = columns[0]!.length;
      for (let i = 0; i < n; i += IMPORT_BATCH) {
        const slice = columns.map((col) => col.slice(i, i + IMPORT_BATCH));
        const params = spec.types
          .split(', ')
          .map((t, j) => `$${j + 1}::${t}`)
          .join(', ');
        try {
          await run(`import ${kind}`, `INSERT INTO ${table} (${spec.cols}) SELECT * FROM unnest(${params})`, slice);
        } catch (err) {
          await long(client, 'ROLLBACK').catch(() => undefined);
          finish(err);
          throw err;
        }
      }
    };
    const columnsOf = (flat: readonly unknown[]) => {
      const cols: unknown[][] = Array.from({ length: width }, () => []);
      for (let i = 0; i < flat.length; i++) cols[i % width]!.push(flat[i]);
      return cols;
    };
    const session: ImportSession & ConsentValuesSession = {
      consentValues: async (flat) => {
        guard('consent');
        if (flat.length % CONSENT_WIDTH !== 0)
          throw storeError('CG_ERR_STORE_IMPORT', `consentValues: ${flat.length} values is not a whole number of rows`);
        const cols = columnsOf(flat);
        cols[8] = cols[8]!.map((a) => (a === null ? null : a === 1 || a === true));
        await stage(cols);
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
            c.automated,
          );
        }
        await stage(columnsOf(flat));
      },
      contracts: async (rows) => {
        guard('contract');
        const flat: unknown[] = [];
        for (const r of rows) {
          const c = contractRow(r);
          flat.push(c.e164, c.professional, c.categories, c.start, c.end);
        }
        await stage(columnsOf(flat));
      },
      dnc: async (rows) => {
        guard('dnc');
        const flat: unknown[] = [];
        for (const r of rows) {
          const d = dncRow(r);
          flat.push(d.e164, d.professional, d.reason, d.addedAt);
        }
        await stage(columnsOf(flat));
      },
      opposition: async (e164s) => {
        guard('opposition');
        for (const n of e164s) checkNumber(n, 'opposition');
        await stage([[...e164s]]);
      },
      commit: async () => {
        guard(kind);
        try {
          const staged = Number((await run(`import ${kind} commit`, `SELECT count(*) AS n FROM ${table}`)).rows[0].n);
          let result: ImportCommitResult;
          if (kind === 'opposition') {
            await run('import opposition commit', 'DELETE FROM callgate.opposition');
            const inserted =
              (
                await run(
                  'import opposition commit',
                  `INSERT INTO callgate.opposition (e164) SELECT e164 FROM ${table} ORDER BY seq ON CONFLICT DO NOTHING`,
                )
              ).rowCount ?? 0;
            await run(
              'import opposition commit',
              'INSERT INTO callgate.opposition_meta (id, as_of, imported_at, count) VALUES (1, $1, $2, $3) ON CONFLICT (id) DO UPDATE SET as_of = excluded.as_of, imported_at = excluded.imported_at, count = excluded.count',
              [asOf, Date.now(), inserted],
            );
            result = { inserted, updated: 0, unchanged: staged - inserted };
          } else {
            // merged on the natural key in file order (upsert.ts): round k applies the k-th row of
            // each key (one statement may not touch a row twice), which is the same as one by one
            const m = MERGE[kind];
            await run(
              `import ${kind} commit`,
              `UPDATE ${table} s SET occ = r.n FROM (SELECT seq, row_number() OVER (PARTITION BY ${m.key} ORDER BY seq) AS n FROM ${table}) r WHERE s.seq = r.seq`,
            );
            const roundsN = Number(
              (await run(`import ${kind} commit`, `SELECT coalesce(max(occ), 0) AS n FROM ${table}`)).rows[0].n,
            );
            let inserted = 0;
            let changed = 0;
            for (let k = 1; k <= roundsN; k++) {
              const r = await run(
                `import ${kind} commit`,
                `WITH c AS (INSERT INTO ${m.table} AS t (${m.cols}) SELECT ${m.cols} FROM ${table} WHERE occ = $1 ORDER BY seq ${m.onConflict} RETURNING (xmax = 0) AS inserted)
                 SELECT count(*) FILTER (WHERE inserted)::int AS i, count(*)::int AS n FROM c`,
                [k],
              );
              inserted += r.rows[0].i as number;
              changed += r.rows[0].n as number;
            }
            result = { inserted, updated: changed - inserted, unchanged: staged - changed };
          }
          await run(`import ${kind} commit`, 'COMMIT');
          finish();
          return result;
        } catch (err) {
          await long(client, 'ROLLBACK').catch(() => undefined);
          finish(err);
          throw err;
        }
      },
      rollback: async () => {
        if (!open) return;
        try {
          await long(client, 'ROLLBACK');
          finish();
        } catch (err) {
          finish(err);
        }
      },
    };
    return session;
  }

  async history(e164: string, professional?: string): Promise<History> {
    const p = professional ?? null;
    const [attempts, decisions, consents, contracts, dnc, refusals, opp] = await Promise.all([
      this.q<OutcomeDb & { id: string; e164: string; professional: string; campaign: string; at: number }>('history', {
        text: `SELECT id, e164, professional, campaign, at, ${OUTCOME_COLS} FROM callgate.decisions WHERE e164 = $1 AND ($2::text IS NULL OR professional = $2) AND counted ORDER BY at, seq`,
        values: [e164, p],
      }),
      this.q<OutcomeDb & { id: string; at: number; professional: string; verdict: 'allow' | 'block'; json: string }>(
        'history',
        {
          text: `SELECT id, at, professional, verdict, json, ${OUTCOME_COLS} FROM callgate.decisions WHERE e164 = $1 AND ($2::text IS NULL OR professional = $2) AND json <> '' ORDER BY at, seq`,
          values: [e164, p],
        },
      ),
      this.q<ConsentDb>('history', {
        text: `SELECT ${CONSENT_COLS} FROM callgate.consents WHERE e164 = $1 AND ($2::text IS NULL OR professional = $2) ORDER BY collected_at, id`,
        values: [e164, p],
      }),
      this.q<{ professional: string; categories: string; start: number; end: number | null }>('history', {
        text: `SELECT ${CONTRACT_COLS} FROM callgate.contracts WHERE e164 = $1 AND ($2::text IS NULL OR professional = $2) ORDER BY start, id`,
        values: [e164, p],
      }),
      this.q<{ professional: string | null; reason: string | null; added_at: number }>('history', {
        text: `SELECT ${DNC_COLS} FROM callgate.dnc WHERE e164 = $1 AND ($2::text IS NULL OR professional IS NULL OR professional = $2) ORDER BY added_at, id`,
        values: [e164, p],
      }),
      this.q<{ professional: string; at: number }>('history', {
        text: 'SELECT professional, at FROM callgate.refusals WHERE e164 = $1 AND ($2::text IS NULL OR professional = $2) ORDER BY at, id',
        values: [e164, p],
      }),
      this.q<{ as_of: number | null; listed: boolean }>('history', {
        text: 'SELECT (SELECT as_of FROM callgate.opposition_meta WHERE id = 1) AS as_of, EXISTS (SELECT 1 FROM callgate.opposition WHERE e164 = $1) AS listed',
        values: [e164],
      }),
    ]);
    return {
      e164,
      attempts: attempts.map((r) => {
        const row: AttemptRow = {
          decisionId: r.id,
          e164: r.e164,
          professional: r.professional,
          campaignId: r.campaign,
          at: new Date(r.at),
        };
        const o = outcomeFrom(r);
        if (o) row.outcome = o;
        return row;
      }),
      decisions: decisions.map((r) => {
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
      consents: consents.map((r) => ({ e164, ...consentFrom(r) })),
      contracts: contracts.map((r) => {
        const c: ContractRow = {
          e164,
          professional: r.professional,
          categories: decodeCategories(r.categories),
          start: new Date(r.start),
        };
        if (r.end !== null) c.end = new Date(r.end);
        return c;
      }),
      dnc: dnc.map((r) => {
        const d: DncRow = { e164, addedAt: new Date(r.added_at) };
        if (r.professional !== null) d.professional = r.professional;
        if (r.reason !== null) d.reason = r.reason;
        return d;
      }),
      refusals: refusals.map((r) => ({ e164, professional: r.professional, at: new Date(r.at) })),
      opposition:
        opp[0]!.as_of === null ? { listed: false } : { listed: opp[0]!.listed, asOf: new Date(opp[0]!.as_of) },
    };
  }

  /** Everything in the database, in batches (`callgate store copy`, see ./bulk.ts). */
  exportAll(batchSize = 10_000): AsyncIterable<CopyBatch> {
    if (this.closed) throw this.closedError('exportAll');
    return exportPostgres(
      <R extends object>(what: string, text: string, values?: unknown[]) => this.q<R>(what, { text, values }),
      batchSize,
      <R extends object>(text: string) => this.cursor<R>('store copy (read)', text, [], batchSize),
    );
  }

  /** A pooled connection for `what`, or the store's fault naming it. */
  private async pooled(what: string): Promise<PoolClient> {
    try {
      return await this.pool.connect();
    } catch (err) {
      throw this.fault(what, err);
    }
  }

  /**
   * Rows of `text` through a server-side cursor on a connection of its own, `n` at a time: one
   * pass over the table, constant memory whatever it holds. The transaction is read-only and
   * lifts the statement timeout; it ends when the caller stops reading.
   */
  async *cursor<R extends object>(what: string, text: string, values: unknown[], n: number): AsyncIterable<R[]> {
    if (this.closed) throw this.closedError(what);
    await this.ready();
    const client = await this.pooled(what);
    let failed: unknown;
    try {
      await long(client, 'BEGIN READ ONLY');
      await long(client, 'SET LOCAL statement_timeout = 0');
      await long(client, `DECLARE cg_cursor NO SCROLL CURSOR FOR ${text}`, values);
      for (;;) {
        const rows = (await long<R>(client, `FETCH ${Math.max(1, Math.floor(n))} FROM cg_cursor`)).rows;
        if (rows.length === 0) break;
        yield rows;
      }
    } catch (err) {
      failed = err;
      throw this.fault(what, err);
    } finally {
      await long(client, 'ROLLBACK').catch((err: unknown) => (failed ??= err));
      client.release(failed === undefined ? undefined : true);
    }
  }

  /**
   * The heads, then the chained rows in (chain, position) order (the partial index
   * decisions_chain), then the unchained ones: ONE read-only REPEATABLE READ transaction on a
   * connection of its own, so that a gate writing meanwhile never shows a row beyond its head;
   * rows through a server-side cursor, `n` at a time (constant memory).
   */
  async *auditChain(n = 1000): AsyncIterable<AuditChainBatch> {
    const what = 'audit verify (read)';
    if (this.closed) throw this.closedError(what);
    await this.ready();
    const client = await this.pooled(what);
    let failed: unknown;
    type H = {
      chain: string;
      position: number;
      hash: string;
      anchor_position: number;
      anchor_hash: string;
      updated_at: number;
    };
    type R = DecisionCols & {
      counted: boolean;
      chain: string | null;
      position: number | null;
      prev_hash: string | null;
      row_hash: string | null;
    };
    try {
      await long(client, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      await long(client, 'SET LOCAL statement_timeout = 0');
      const heads = (
        await long<H>(
          client,
          'SELECT chain, position, hash, anchor_position, anchor_hash, updated_at FROM callgate.chain_heads ORDER BY chain',
        )
      ).rows.map((h): ChainHead => ({
        chain: h.chain,
        position: h.position,
        hash: h.hash,
        anchorPosition: h.anchor_position,
        anchorHash: h.anchor_hash,
        updatedAt: h.updated_at,
      }));
      yield { kind: 'heads', heads };
      for (const where of ['chain IS NOT NULL ORDER BY chain, position', 'chain IS NULL']) {
        await long(
          client,
          `DECLARE cg_chain NO SCROLL CURSOR FOR SELECT id, at, e164, professional, campaign, verdict, reasons, json, counted, chain, position, prev_hash, row_hash FROM callgate.decisions WHERE ${where}`,
        );
        for (;;) {
          const rows = (await long<R>(client, `FETCH ${Math.max(1, Math.floor(n))} FROM cg_chain`)).rows;
          if (rows.length === 0) break;
          yield {
            kind: 'rows',
            rows: rows.map((r): AuditChainRow => ({
              id: r.id,
              at: r.at,
              e164: r.e164,
              professional: r.professional,
              campaign: r.campaign,
              verdict: r.verdict,
              reasons: r.reasons,
              auditText: r.json,
              counted: r.counted,
              chain: r.chain,
              position: r.position,
              prevHash: r.prev_hash,
              rowHash: r.row_hash,
            })),
          };
        }
        await long(client, 'CLOSE cg_chain');
      }
    } catch (err) {
      failed = err;
      throw this.fault(what, err);
    } finally {
      await long(client, 'ROLLBACK').catch((err: unknown) => (failed ??= err));
      client.release(failed === undefined ? undefined : true);
    }
  }

  /** One page of the decision list (admin API): a range of the decisions_at index (schema 2). */
  async listDecisions(q: DecisionQuery): Promise<DecisionPage> {
    const limit = pageLimit(q.limit);
    const rows = await this.q<
      OutcomeDb & {
        id: string;
        at: number;
        e164: string | null;
        professional: string;
        verdict: 'allow' | 'block';
        json: string;
      }
    >('listDecisions', {
      name: 'cg_list_decisions',
      text: `SELECT id, at, e164, professional, verdict, json, ${OUTCOME_COLS} FROM callgate.decisions
             WHERE at >= $1 AND at < $2 AND (at, id COLLATE "C") > ($3, $4 COLLATE "C") AND json <> ''
               AND ($5::text IS NULL OR verdict = $5) AND ($6::text IS NULL OR campaign = $6)
               AND ($7::text IS NULL OR $7 = ANY (string_to_array(reasons, ' ')))
             ORDER BY at, id COLLATE "C" LIMIT $8`,
      values: [
        q.from === undefined ? Number.MIN_SAFE_INTEGER : ms(q.from, 'from'),
        q.to === undefined ? Number.MAX_SAFE_INTEGER : ms(q.to, 'to'),
        q.after === undefined ? Number.MIN_SAFE_INTEGER : ms(q.after.at, 'after.at'),
        q.after === undefined ? '' : checkText(q.after.id, 'after.id'),
        q.verdict ?? null,
        q.campaign ?? null,
        q.reason ?? null,
        limit + 1,
      ],
    });
    const page = rows.slice(0, limit).map((r) => {
      const row: DecisionRow = {
        id: r.id,
        at: new Date(Number(r.at)),
        professional: r.professional,
        verdict: r.verdict,
        decision: decisionFromText(r.json),
      };
      if (r.e164 !== null) row.e164 = r.e164;
      const o = outcomeFrom(r);
      if (o) row.outcome = o;
      return row;
    });
    const last = page[page.length - 1];
    return rows.length > limit && last ? { rows: page, next: { at: last.at, id: last.id } } : { rows: page };
  }

  /**
   * The database answers and takes writes: not a hot standby, not a read-only session
   * (default_transaction_read_only). One round trip, nothing written.
   */
  async checkWritable(): Promise<void> {
    const [r] = await this.q<{ standby: boolean; ro: string }>('checkWritable', {
      text: "SELECT pg_is_in_recovery() AS standby, current_setting('transaction_read_only') AS ro",
    });
    if (r?.standby || r?.ro === 'on')
      throw storeError(
        'CG_ERR_STORE_FAULT',
        `checkWritable: the PostgreSQL database is read-only (${r.standby ? 'a standby in recovery' : 'transaction_read_only is on'}); point store.url at the primary`,
      );
  }

  /** Decisions of a time range, oldest first, through a cursor (`callgate audit export`). */
  async *auditBetween(from: Date, to: Date, batchSize = 1000): AsyncIterable<DecisionRow[]> {
    type Dec = OutcomeDb & {
      id: string;
      at: number;
      e164: string | null;
      professional: string;
      verdict: 'allow' | 'block';
      json: string;
    };
    for await (const rows of this.cursor<Dec>(
      'auditBetween',
      `SELECT id, at, e164, professional, verdict, json, ${OUTCOME_COLS} FROM callgate.decisions WHERE at >= $1 AND at < $2 AND json <> '' ORDER BY at, seq`,
      [ms(from, 'from'), ms(to, 'to')],
      batchSize,
    ))
      yield rows.map((r) => {
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
  }

  /** Removes (or counts) what is older than the cutoffs, in one transaction. */
  async purge(c: PurgeCutoffs, dryRun: boolean): Promise<PurgeReport> {
    const v = {
      decisions: ms(c.decisionsBefore, 'decisionsBefore'),
      consents: ms(c.consentsCollectedBefore, 'consentsCollectedBefore'),
      contracts: ms(c.contractsEndedBefore, 'contractsEndedBefore'),
    };
    const where = {
      // rows of the audit chains go per chain (purgeChains); these are the unchained ones
      decisions: 'callgate.decisions WHERE chain IS NULL AND at < $1',
      consents: 'callgate.consents WHERE collected_at < $1',
      contracts: 'callgate.contracts WHERE "end" IS NOT NULL AND "end" < $1',
    };
    await this.ready();
    const client = await this.pooled('purge');
    try {
      await long(client, 'BEGIN');
      await long(client, 'SET LOCAL statement_timeout = 0');
      const out: PurgeReport = { decisions: 0, consents: 0, contracts: 0 };
      const anchors = await this.purgeChains(client, v.decisions, dryRun, out);
      for (const t of ['decisions', 'consents', 'contracts'] as const) {
        const text = dryRun
          ? `SELECT count(*)::int AS n FROM ${where[t]}`
          : `WITH x AS (DELETE FROM ${where[t]} RETURNING 1) SELECT count(*)::int AS n FROM x`;
        out[t] += (await long<{ n: number }>(client, text, [v[t]])).rows[0]!.n;
      }
      // last, so that the gates writing to these chains wait for their head rows only until COMMIT
      for (const [chain, position, hash] of anchors)
        await long(
          client,
          'UPDATE callgate.chain_heads SET anchor_position = $2, anchor_hash = $3 WHERE chain = $1 AND anchor_position < $2',
          [chain, position, hash],
        );
      await long(client, 'COMMIT');
      client.release();
      return out;
    } catch (err) {
      await long(client, 'ROLLBACK').catch(() => undefined);
      client.release(true);
      throw this.fault('purge', err);
    }
  }

  /**
   * The audit chains' part of a purge (same transaction, see SQLite's purgeChainsSqlite): per
   * chain only its oldest rows go, up to its first row at or after `cut`; returns the new anchors
   * (chain, position, row_hash of the last removed row), for the caller to write before COMMIT.
   */
  private async purgeChains(
    client: PoolClient,
    cut: number,
    dryRun: boolean,
    out: PurgeReport,
  ): Promise<[string, number, string][]> {
    const heads = (
      await long<{ chain: string; anchor_position: number }>(
        client,
        'SELECT chain, anchor_position FROM callgate.chain_heads ORDER BY chain',
      )
    ).rows;
    const anchors: [string, number, string][] = [];
    for (const h of heads) {
      const [kept] = (
        await long<{ position: number }>(
          client,
          'SELECT position FROM callgate.decisions WHERE chain = $1 AND position > $2 AND at >= $3 ORDER BY position LIMIT 1',
          [h.chain, h.anchor_position, cut],
        )
      ).rows;
      const upto =
        kept !== undefined
          ? kept.position - 1
          : ((
              await long<{ p: number | null }>(
                client,
                'SELECT max(position) AS p FROM callgate.decisions WHERE chain = $1',
                [h.chain],
              )
            ).rows[0]?.p ?? 0);
      if (upto <= h.anchor_position) continue;
      const [at] = (
        await long<{ row_hash: string }>(
          client,
          'SELECT row_hash FROM callgate.decisions WHERE chain = $1 AND position = $2',
          [h.chain, upto],
        )
      ).rows;
      if (at === undefined) continue; // tampered with: left whole, for `audit verify` to report
      const args = [h.chain, h.anchor_position, upto];
      const text = dryRun
        ? 'SELECT count(*)::int AS n FROM callgate.decisions WHERE chain = $1 AND position > $2 AND position <= $3'
        : 'WITH x AS (DELETE FROM callgate.decisions WHERE chain = $1 AND position > $2 AND position <= $3 RETURNING 1) SELECT count(*)::int AS n FROM x';
      out.decisions += (await long<{ n: number }>(client, text, args)).rows[0]!.n;
      anchors.push([h.chain, upto, at.row_hash]);
    }
    return dryRun ? [] : anchors;
  }

  /** Another store's rows, written idempotently in one transaction (see ./bulk.ts). */
  async copyIn(batch: CopyBatch): Promise<CopyResult> {
    if (this.closed) throw this.closedError('copyIn');
    const st = copyStatements(batch);
    await this.ready();
    const client = await this.pooled(`copy ${batch.kind}`);
    const run = async (text: string, values: unknown[]) => {
      try {
        return (await long<{ n: number }>(client, text, values)).rows;
      } catch (err) {
        throw this.fault(`copy ${batch.kind}`, err);
      }
    };
    try {
      await run('BEGIN', []);
      await run('SET LOCAL statement_timeout = 0', []);
      if (st.merge) {
        // consents, contracts and dnc entries merge as an import does (towards fewer calls, upsert.ts)
        let inserted = 0;
        let changed = 0;
        for (const round of st.merge.rounds) {
          const rows = await run(st.merge.sql, st.merge.columns(round));
          inserted += rows.filter((r) => (r as unknown as { inserted: boolean }).inserted).length;
          changed += rows.length;
        }
        await run('COMMIT', []);
        client.release();
        return { inserted, updated: changed - inserted, skipped: batch.rows.length - changed };
      }
      for (const [text, values] of st.before ?? []) await run(text, values);
      const inserted = countOf(await run(...st.insert!));
      const updated = st.update ? countOf(await run(...st.update)) : 0;
      for (const [text, values] of st.after ?? []) await run(text, values);
      await run('COMMIT', []);
      client.release();
      return { inserted, updated, skipped: batch.rows.length - inserted - updated };
    } catch (err) {
      await long(client, 'ROLLBACK').catch(() => undefined);
      client.release(true);
      throw err;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // one last try at releasing the attempts in doubt (their time may not have come: best effort)
    if (this.inDoubt.size > 0 && this.downSince === undefined) {
      for (const id of this.inDoubt.keys()) this.inDoubt.set(id, 0);
      this.releaseInDoubt();
    }
    await this.releasing?.catch(() => undefined);
    this.closed = true;
    await this.pool.end().catch(() => undefined);
  }
}

/**
 * A decision is answered once its COMMIT is on disk, whatever the server's, the database's or
 * store.url's `options` say (a COMMIT is on disk or it failed: never traded for speed). The SET is
 * part of connecting, so the pool hands out a connection only once it is done (a query sent from
 * the pool's 'connect' event would overlap the first query of the client's user).
 */
class SyncCommitClient extends Client {
  constructor(config?: ConstructorParameters<typeof Client>[0]) {
    super(config);
    // A connection that breaks makes its client emit 'error', and Node ends a process on an
    // 'error' event nobody listens to. The pool listens only while the client is idle in it: not
    // during the SET below (cut, or destroyed by the pool's connect timeout on a loaded machine),
    // nor while the client is lent out. The break reaches the caller anyway (the statement that
    // runs, or the next one, rejects: a connection fault, and the client is dropped), so this
    // listener only keeps the gate alive; the pool's own still reports an idle client's break.
    this.on('error', () => undefined);
  }

  override connect(): Promise<Client>;
  override connect(callback: (err: Error) => void): void;
  override connect(callback?: (err: Error) => void): Promise<Client> | void {
    const done = super.connect().then(async () => {
      await super.query('SET synchronous_commit = on');
      return this as Client;
    });
    if (!callback) return done;
    done.then(
      () => callback(undefined as unknown as Error),
      (err: Error) => callback(err),
    );
  }
}
