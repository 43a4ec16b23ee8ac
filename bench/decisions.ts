/**
 * Check-and-record throughput and latency of the real Gate on the SQLite
 * store, holding `consents` consents and `attempts` past attempts (default one
 * million each, the attempts as full decision rows), all decisions on the one
 * JavaScript thread; the WAL checkpoint worker thread runs beside it (its CPU is
 * in cpuS / cpuPerWallS).
 *
 * Each run decides `decisions` calls (distinct numbers) with a fixed number of
 * decisions in flight: 1 = sequential (latency-bound: every decision waits for
 * its own COMMIT), 4 to 32 = concurrent, as a PBX sends many calls at once
 * (the SQLite store then groups them into one transaction per event-loop
 * turn). Latency is per decision, from decide() to its answer, queueing
 * included. Each attempt is stamped BENCH_AT + elapsed real time, as a PBX
 * stamps calls. Logging is the production logger with the default config
 * (an info line per blocked call), into /dev/null; one more run at 8 in flight
 * logs every decision (log.decisions: all, logAllDecisions). Also the
 * pure core (evaluate) alone, for comparison. Run it with the gate's node
 * flags (bench/run.ts does: --max-semi-space-size=64).
 *
 * Every level runs at each store.durability (normal, then full; each on its own
 * synced copy of the seeded file) beside its floor: a bare better-sqlite3 loop
 * doing what the store does per decision and nothing else, on the store's own
 * connection (the same pragmas, page cache, durability and checkpoint worker):
 * the same facts statement, the same decision-row INSERT (the attempt is its
 * decision row) with an audit text of the gate's size and a time-ordered id,
 * BEGIN IMMEDIATE / COMMIT around groups of the mean size the gate's run
 * committed, the checkpoint worker's pauses between groups. Gate and floor
 * alternate in chunks of 5,000 decisions, so that both meet the same host.
 * `ratio` is the gate's decisions/s over the floor's: the share of the store's
 * own speed that the gate keeps (rules, audit text, promises, log line). At
 * full durability a level with fewer than 8 in flight runs fewer decisions
 * (inFlight/8 of them: each COMMIT waits for the disk).
 *
 * Usage: node dist/bench/decisions.js [consents] [attempts] [decisions] [inFlight,...] [durability,...]
 *   e.g. node --max-semi-space-size=64 dist/bench/decisions.js 1000000 1000000 200000 1,8,32 normal,full
 * BENCH_SEED_CACHE=FILE: the seeded file is copied from FILE if it exists (and saved there
 * otherwise), so that repeated runs skip the seeding (synced to disk before the runs either way).
 */
import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { evaluate, locateCallee, EMPTY_FACTS } from '../src/core';
import type { CallAttempt, Campaign } from '../src/core/types';
import { DEFAULT_POLICY } from '../src/core/types';
import { Gate } from '../src/gate/gate';
import { systemClock } from '../src/gate/clock';
import { bufferedDestination, createLogger } from '../src/gate/logger';
import type { ConsentRow } from '../src/gate/store';
import { SqliteStore } from '../src/store';
import { ChainWriter } from '../src/store/audit-chain';
import { timeOrderedId } from '../src/gate/gate';
import { SYNCHRONOUS, type Durability } from '../src/store/sqlite/open';
import { HOT_PATH_SQL } from '../src/store/sqlite/sqlite-store';
import { decisionToText } from '../src/store/memory/common';
import { BENCH_AT, benchConfig } from './fixture-config';
import { emit, latencyMs, mobileE164, mobileNational, peakRssMb, tempDir } from './util';

const DAY = 86_400_000;

export async function seed(dbPath: string, consents: number, attempts: number) {
  const t0 = Date.now();
  const store = SqliteStore.open(dbPath, { durability: 'normal' });
  const session = await store.beginImport('consent');
  const batch: ConsentRow[] = [];
  for (let i = 0; i < consents; i++) {
    batch.push({
      e164: mobileE164(i),
      professional: 'acme',
      categories: ['energy-supply'],
      collectedAt: new Date(BENCH_AT.getTime() - (10 + (i % 300)) * DAY),
      source: `web form #${i}`,
    });
    if (batch.length === 10_000) await session.consents(batch.splice(0));
  }
  if (batch.length) await session.consents(batch.splice(0));
  await session.commit();
  await store.close();
  const consentS = (Date.now() - t0) / 1000;

  // Past attempts, written straight into the decisions table (the schema of
  // src/store/sqlite/migrations.ts: an attempt is a decision row with counted = 1),
  // each with a full audit text as the gate writes it: two per number over the
  // last 60 days, so a share of numbers sits inside the 30-day window. Rows go in
  // in time order with time-ordered ids, as a gate that ran for 60 days leaves them.
  const t1 = Date.now();
  const template = auditTemplate();
  const db = new Database(dbPath);
  db.pragma('journal_mode = WAL');
  const ins = db.prepare(
    "INSERT INTO decisions (id, at, e164, professional, campaign, verdict, reasons, json, counted) VALUES (?, ?, ?, 'acme', 'bench', 'allow', '', ?, 1)",
  );
  const rows = Array.from({ length: attempts }, (_, i) => ({
    n: (i % Math.max(1, Math.floor(attempts / 2))) % consents,
    at: BENCH_AT.getTime() - (1 + ((i * 7919) % 60)) * DAY + (i % 86_400) * 1000,
  })).sort((x, y) => x.at - y.at);
  db.transaction(() => {
    for (const [i, r] of rows.entries()) {
      const id = seedId(r.at, i);
      const e164 = mobileE164(r.n);
      ins.run(id, r.at, e164, template.replace(TEMPLATE_ID, id).replace(TEMPLATE_E164, e164));
    }
  })();
  db.close();
  // The seeded file reaches the disk before the runs: they measure the gate, not the kernel
  // writing back 2 GB of seeding behind it.
  const fd = fs.openSync(dbPath, 'r+');
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  return { consentSeedS: consentS, attemptSeedS: (Date.now() - t1) / 1000 };
}

const TEMPLATE_ID = '00000000-0000-7000-8000-000000000000';
const TEMPLATE_E164 = '+33611111111';

/** The audit text the gate writes for an allowed bench call (about 1.4 KB), with placeholders. */
function auditTemplate(): string {
  const d = evaluate(
    {
      to: '0611111111',
      callerId: { number: '+33162000001', presentation: 'allowed' },
      at: BENCH_AT,
      campaignId: 'bench',
      source: { pbx: 'bench' },
    },
    {
      ...EMPTY_FACTS,
      consents: [
        { professional: 'acme', categories: ['energy-supply'], collectedAt: new Date(BENCH_AT.getTime() - 20 * DAY) },
      ],
    },
    {
      decisionId: TEMPLATE_ID,
      campaign: BENCH_CAMPAIGN,
      campaignKnown: true,
      professional: BENCH_PRO,
      policy: DEFAULT_POLICY,
    },
  );
  return decisionToText(d);
}

/** A UUIDv7-shaped id for a seeded row at `at` (ms), unique by `i`. */
function seedId(at: number, i: number): string {
  const h = at.toString(16).padStart(12, '0');
  const r = i.toString(16).padStart(15, '0');
  return `${h.slice(0, 8)}-${h.slice(8)}-7${r.slice(0, 3)}-8${r.slice(3, 6)}-${r.slice(6)}000`;
}

const BENCH_CAMPAIGN: Campaign = {
  id: 'bench',
  professional: 'acme',
  purpose: 'prospecting',
  audience: 'consumer',
  dialing: 'manual',
  sector: 'other',
  categories: ['energy-supply'],
};
const BENCH_PRO = { id: 'acme', callerIds: ['+33162000001'] };

function coreOnly(n: number) {
  const facts = {
    ...EMPTY_FACTS,
    consents: [
      { professional: 'acme', categories: ['energy-supply'], collectedAt: new Date(BENCH_AT.getTime() - 20 * DAY) },
    ],
  };
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const attempt: CallAttempt = {
      to: mobileNational(i % 100_000),
      callerId: { number: '+33162000001', presentation: 'allowed' },
      at: BENCH_AT,
      campaignId: 'bench',
      source: { pbx: 'bench' },
    };
    locateCallee(attempt);
    evaluate(attempt, facts, {
      decisionId: String(i),
      campaign: BENCH_CAMPAIGN,
      campaignKnown: true,
      professional: BENCH_PRO,
      policy: DEFAULT_POLICY,
    });
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return { decisions: n, perSecond: Math.round(n / s) };
}

type RunResult = {
  inFlight: number;
  decisions: number;
  perSecond: number;
  latencyMs: ReturnType<typeof latencyMs>;
  cpuS: { user: number; system: number };
  /** CPU seconds per wall second (1 = one core busy). */
  cpuPerWallS: number;
  loadAvg: { before: number[]; after: number[] };
  verdicts: Record<string, number>;
};

/** What a stretch of gate decisions took: merged over the chunks of one level. */
type Tally = {
  samples: number[];
  seconds: number;
  cpuUs: { user: number; system: number };
  verdicts: Record<string, number>;
};

const newTally = (): Tally => ({ samples: [], seconds: 0, cpuUs: { user: 0, system: 0 }, verdicts: {} });

/** `n` decisions, `inFlight` at a time: each worker starts its next decision when its last one is answered. */
async function decideMany(
  gate: Gate,
  attemptFor: (i: number) => CallAttempt,
  from: number,
  n: number,
  inFlight: number,
  tally: Tally,
): Promise<void> {
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const worker = async () => {
    for (let i = next++; i < n; i = next++) {
      const s = process.hrtime.bigint();
      const d = await gate.decide(attemptFor(from + i), { record: true });
      tally.samples.push(Number(process.hrtime.bigint() - s));
      const k = d.verdict === 'allow' ? 'allow' : d.reasons.map((r) => r.code).join('+');
      tally.verdicts[k] = (tally.verdicts[k] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  tally.seconds += Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  tally.cpuUs.user += cpu.user;
  tally.cpuUs.system += cpu.system;
}

function result(inFlight: number, t: Tally, load: number[]): RunResult {
  return {
    inFlight,
    decisions: t.samples.length,
    perSecond: Math.round(t.samples.length / t.seconds),
    latencyMs: latencyMs(t.samples),
    cpuS: { user: Math.round(t.cpuUs.user / 1e4) / 100, system: Math.round(t.cpuUs.system / 1e4) / 100 },
    cpuPerWallS: Math.round(((t.cpuUs.user + t.cpuUs.system) / 1e6 / t.seconds) * 100) / 100,
    loadAvg: { before: load, after: loadNow() },
    verdicts: t.verdicts,
  };
}

const loadNow = () => os.loadavg().map((x) => Math.round(x * 100) / 100);

/**
 * The floor: what the store does per decision and nothing else, on the store's own connection
 * (same pragmas, page cache, durability and checkpoint worker): one facts read (the same
 * statement), one decision-row INSERT (the attempt is its decision row) with an audit text of the
 * gate's size and a time-ordered id, BEGIN IMMEDIATE / COMMIT around groups of `meanGroup`
 * decisions on average, and between groups the pause the checkpoint worker may ask for.
 */
function floorStatements(db: Database.Database) {
  return {
    facts: db.prepare(HOT_PATH_SQL.facts).raw(),
    insert: db.prepare(HOT_PATH_SQL.insertDecision),
    begin: db.prepare('BEGIN IMMEDIATE'),
    commit: db.prepare('COMMIT'),
  };
}

/** The floor's audit chain: the same links as the store's (src/store/audit-chain.ts). */
const floorChain = new ChainWriter();

type FloorTally = { decisions: number; seconds: number; commits: number; owed: number };

async function floorMany(
  store: SqliteStore,
  sql: ReturnType<typeof floorStatements>,
  e164For: (i: number) => string,
  audit: { text: string; id: string; e164: string },
  from: number,
  n: number,
  meanGroup: number,
  tally: FloorTally,
): Promise<void> {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n;) {
    await store.yieldToCheckpointer();
    tally.owed += meanGroup;
    const size = Math.max(1, Math.floor(tally.owed));
    tally.owed -= size;
    const end = Math.min(n, i + size);
    sql.begin.run();
    for (; i < end; i++) {
      const e164 = e164For(from + i);
      const at = BENCH_AT.getTime() + Date.now() - started;
      sql.facts.all({ e164, p: 'acme', w: at - 30 * DAY });
      const id = timeOrderedId();
      const json = audit.text.replace(audit.id, id).replace(audit.e164, e164);
      // counted = 0: the same bytes and index entries as an attempt, without adding to the
      // frequency count of the later runs' numbers (FREQ-1 would block them)
      // the audit chain's columns and index entry, of their real size (the store also hashes the row)
      const link = floorChain.next({
        id,
        at,
        e164,
        professional: 'acme',
        campaign: 'bench',
        verdict: 'allow',
        reasons: '',
        auditText: json,
        counted: false,
      });
      floorChain.advance(link);
      sql.insert.run(
        id,
        at,
        e164,
        'acme',
        'bench',
        'allow',
        '',
        json,
        0,
        link.chain,
        link.position,
        link.prevHash,
        link.rowHash,
      );
    }
    sql.commit.run();
    // at durability full the connection's COMMIT does not sync: the store's fdatasync of the WAL
    // does, off the event loop (src/store/sqlite/wal-sync.ts); the floor waits for it, one group at a time
    await store.syncWal();
    tally.commits++;
  }
  tally.seconds += Number(process.hrtime.bigint() - t0) / 1e9;
  tally.decisions += n;
}

/** A copy of a seeded file, on disk before the runs (they measure the gate, not the kernel's write-back). */
function copySynced(from: string, to: string) {
  fs.copyFileSync(from, to);
  const fd = fs.openSync(to, 'r+');
  fs.fsyncSync(fd);
  fs.closeSync(fd);
}

/** The seeded file: BENCH_SEED_CACHE if it exists, else seeded into `dbPath` (and saved there). */
async function seeded(dbPath: string, consents: number, attempts: number) {
  const cache = process.env.BENCH_SEED_CACHE;
  if (cache && fs.existsSync(cache)) return { file: cache, times: { fromCache: cache } };
  const times = await seed(dbPath, consents, attempts);
  if (cache) copySynced(dbPath, cache);
  return { file: dbPath, times };
}

type LevelResult = {
  inFlight: number;
  gate: RunResult & { meanGroup: number };
  floor: { decisions: number; perSecond: number; commits: number; meanGroup: number };
  /** gate decisions/s over floor decisions/s */
  ratio: number;
};

/** The bench clock: BENCH_AT (a Tuesday 11:00 in Paris) + real time since the start. */
const started = Date.now();
const benchNow = () => new Date(BENCH_AT.getTime() + Date.now() - started);

/** Gate and floor alternate in chunks of this many decisions, so that both meet the same host. */
const CHUNK = 5_000;

async function main() {
  const consents = Number(process.argv[2] ?? 1_000_000);
  const attempts = Number(process.argv[3] ?? 1_000_000);
  const decisions = Number(process.argv[4] ?? 200_000);
  const inFlights = (process.argv[5] ?? '1,4,8,16,32').split(',').map(Number);
  const durabilities = (process.argv[6] ?? 'normal,full').split(',') as Durability[];
  for (const d of durabilities) if (!(d in SYNCHRONOUS)) throw new Error(`unknown durability ${d}`);
  const dir = tempDir('decisions');
  const dbPath = path.join(dir, 'callgate.db');
  const pristine = await seeded(path.join(dir, 'seeded.db'), consents, attempts);
  const fileMb = Math.round(fs.statSync(pristine.file).size / 1e6);

  const config = benchConfig(dbPath);
  // The production logger (the default config: an info line per blocked call, buffered), writing to /dev/null.
  const logger = createLogger(config.log, bufferedDestination('/dev/null'));
  void systemClock;

  // Distinct numbers for every decision of every run (stride prime to `consents`).
  const numberIndex = (i: number) => (i * 104_729) % consents;
  const attemptFor = (i: number): CallAttempt => ({
    to: mobileNational(numberIndex(i)),
    callerId: { number: '+33162000001', presentation: 'allowed' },
    at: benchNow(),
    campaignId: 'bench',
    source: { pbx: 'bench' },
  });
  const e164For = (i: number) => mobileE164(numberIndex(i));
  let next = 0;
  /** The next `n` call indexes (no number is called twice across the runs until they wrap). */
  const take = (n: number) => {
    const from = next;
    next += n;
    return from;
  };

  const byDurability: Record<string, unknown> = {};
  for (const durability of durabilities) {
    // each durability on a fresh copy of the seeded file, calling the same numbers
    copySynced(pristine.file, dbPath);
    next = 0;
    const store = SqliteStore.open(dbPath, { pollLocks: true, durability }); // as `callgate start` opens it
    const gate = new Gate({ store, config, clock: { now: benchNow, describe: 'bench' }, logger });
    const sql = floorStatements(store.db);
    await decideMany(gate, attemptFor, take(5_000), 5_000, 8, newTally()); // warm-up
    // the audit text of an allowed call, for the floor's rows
    const audit = store.db
      .prepare("SELECT json AS text, id, e164 FROM decisions WHERE verdict = 'allow' ORDER BY rowid DESC LIMIT 1")
      .get() as { text: string; id: string; e164: string };
    await floorMany(store, sql, e164For, audit, take(5_000), 5_000, 8, {
      decisions: 0,
      seconds: 0,
      commits: 0,
      owed: 0,
    });

    const levels: LevelResult[] = [];
    for (const inFlight of inFlights) {
      // at full durability each COMMIT waits for the disk: fewer decisions where few share one
      const n = durability === 'full' ? Math.round(decisions * Math.min(1, inFlight / 8)) : decisions;
      const load = loadNow();
      const g = newTally();
      const f: FloorTally = { decisions: 0, seconds: 0, commits: 0, owed: 0 };
      const g0 = store.groupStats();
      for (let done = 0; done < n; done += CHUNK) {
        const k = Math.min(CHUNK, n - done);
        await decideMany(gate, attemptFor, take(k), k, inFlight, g);
        const gs = store.groupStats();
        await floorMany(store, sql, e164For, audit, take(k), k, (gs.calls - g0.calls) / (gs.commits - g0.commits), f);
      }
      const g1 = store.groupStats();
      const meanGroup = Math.round(((g1.calls - g0.calls) / (g1.commits - g0.commits)) * 100) / 100;
      const gateResult = result(inFlight, g, load);
      const floorPerSecond = Math.round(f.decisions / f.seconds);
      levels.push({
        inFlight,
        gate: { ...gateResult, meanGroup },
        floor: {
          decisions: f.decisions,
          perSecond: floorPerSecond,
          commits: f.commits,
          meanGroup: Math.round((f.decisions / f.commits) * 100) / 100,
        },
        ratio: Math.round((gateResult.perSecond / floorPerSecond) * 1000) / 1000,
      });
      process.stderr.write(
        `bench: ${durability}, ${inFlight} in flight: gate ${gateResult.perSecond}/s (p99 ${gateResult.latencyMs.p99} ms), floor ${floorPerSecond}/s, ratio ${levels.at(-1)!.ratio}\n`,
      );
    }
    // Once, 8 in flight with an info line for every decision (log.decisions: all), as the
    // default was before: what that line costs.
    let logAllDecisions: RunResult | undefined;
    if (durability === durabilities[0]) {
      const gateLogAll = new Gate({
        store,
        config: { ...config, log: { ...config.log, decisions: 'all' } },
        clock: { now: benchNow, describe: 'bench' },
        logger,
      });
      const t = newTally();
      const load = loadNow();
      await decideMany(gateLogAll, attemptFor, take(decisions), decisions, 8, t);
      logAllDecisions = result(8, t, load);
    }
    const checkpointer = store.checkpointStats();
    await store.close();
    // The target: 20,000 decisions/s with p99 under 1 ms, at one level of concurrency.
    const meeting = levels
      .filter((l) => l.inFlight !== 1 && l.gate.perSecond >= 20_000 && l.gate.latencyMs.p99 < 1)
      .map((l) => l.inFlight);
    byDurability[durability] = {
      levels,
      targets: { perSecond: 20_000, p99Ms: 1, appliesTo: 'concurrent', metAtInFlight: meeting, floorRatio: 0.8 },
      ...(logAllDecisions ? { logAllDecisions } : {}),
      checkpointer,
    };
  }
  fs.rmSync(dir, { recursive: true, force: true });

  emit({
    store: { driver: 'sqlite', consents, attempts, ...pristine.times, fileMb },
    checkAndRecord: byDurability,
    coreEvaluateOnly: coreOnly(100_000),
    cpus: os.cpus().length,
    peakRssMb: peakRssMb(),
  });
}

if (require.main === module)
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
