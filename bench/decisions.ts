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
 * Usage: node dist/bench/decisions.js [consents] [attempts] [decisions] [inFlight,...]
 *   e.g. node --max-semi-space-size=64 dist/bench/decisions.js 1000000 1000000 200000 1,8,32
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
import { decisionToText } from '../src/store/memory/common';
import { BENCH_AT, benchConfig } from './fixture-config';
import { emit, latencyMs, mobileE164, mobileNational, peakRssMb, tempDir } from './util';

const DAY = 86_400_000;

export async function seed(dbPath: string, consents: number, attempts: number) {
  const t0 = Date.now();
  const store = SqliteStore.open(dbPath);
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

/** `n` decisions, `inFlight` at a time: each worker starts its next decision when its last one is answered. */
export async function run(
  gate: Gate,
  attemptFor: (i: number) => CallAttempt,
  from: number,
  n: number,
  inFlight: number,
): Promise<RunResult> {
  const samples: number[] = new Array(n);
  const verdicts: Record<string, number> = {};
  let next = 0;
  const load = os.loadavg().map((x) => Math.round(x * 100) / 100);
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const worker = async () => {
    for (let i = next++; i < n; i = next++) {
      const s = process.hrtime.bigint();
      const d = await gate.decide(attemptFor(from + i), { record: true });
      samples[i] = Number(process.hrtime.bigint() - s);
      const k = d.verdict === 'allow' ? 'allow' : d.reasons.map((r) => r.code).join('+');
      verdicts[k] = (verdicts[k] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const totalS = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  return {
    inFlight,
    decisions: n,
    perSecond: Math.round(n / totalS),
    latencyMs: latencyMs(samples),
    cpuS: { user: Math.round(cpu.user / 1e4) / 100, system: Math.round(cpu.system / 1e4) / 100 },
    cpuPerWallS: Math.round(((cpu.user + cpu.system) / 1e6 / totalS) * 100) / 100,
    loadAvg: { before: load, after: os.loadavg().map((x) => Math.round(x * 100) / 100) },
    verdicts,
  };
}

async function main() {
  const consents = Number(process.argv[2] ?? 1_000_000);
  const attempts = Number(process.argv[3] ?? 1_000_000);
  const decisions = Number(process.argv[4] ?? 200_000);
  const inFlights = (process.argv[5] ?? '1,4,8,16,32').split(',').map(Number);
  const dir = tempDir('decisions');
  const dbPath = path.join(dir, 'callgate.db');
  const seeded = await seed(dbPath, consents, attempts);
  const fileMb = Math.round(fs.statSync(dbPath).size / 1e6);

  const config = benchConfig(dbPath);
  const store = SqliteStore.open(dbPath, { pollLocks: true }); // as `callgate start` opens it
  // The production logger (the default config: an info line per blocked call, buffered), writing to /dev/null.
  const logger = createLogger(config.log, bufferedDestination('/dev/null'));
  // The clock runs from BENCH_AT (a Tuesday 11:00 in Paris) at real speed, as the PBX stamps
  // each attempt with the time it is made: every decision has its own instant, none repeats.
  const started = Date.now();
  const benchNow = () => new Date(BENCH_AT.getTime() + Date.now() - started);
  const gate = new Gate({ store, config, clock: { now: benchNow, describe: 'bench' }, logger });
  void systemClock;

  // Distinct numbers for every decision of every run (stride prime to `consents`).
  const attemptFor = (i: number): CallAttempt => ({
    to: mobileNational((i * 104_729) % consents),
    callerId: { number: '+33162000001', presentation: 'allowed' },
    at: benchNow(),
    campaignId: 'bench',
    source: { pbx: 'bench' },
  });
  await run(gate, attemptFor, inFlights.length * decisions, 5_000, 8); // warm-up

  const runs: RunResult[] = [];
  for (const [k, inFlight] of inFlights.entries())
    runs.push(await run(gate, attemptFor, k * decisions, decisions, inFlight));
  // The same at 8 in flight with an info line for every decision (log.decisions: all), as the
  // default was before: what that line costs.
  const gateLogAll = new Gate({
    store,
    config: { ...config, log: { ...config.log, decisions: 'all' } },
    clock: { now: benchNow, describe: 'bench' },
    logger,
  });
  const logAllDecisions = await run(gateLogAll, attemptFor, (inFlights.length + 1) * decisions, decisions, 8);
  const ckpt = store.checkpointStats();
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });

  const sequential = runs.find((r) => r.inFlight === 1);
  const concurrent = runs.filter((r) => r.inFlight !== 1);
  // The target: 20,000 decisions/s with p99 under 1 ms, at one level of concurrency.
  const meeting = concurrent.filter((r) => r.perSecond >= 20_000 && r.latencyMs.p99 < 1).map((r) => r.inFlight);
  emit({
    store: { driver: 'sqlite', consents, attempts, ...seeded, fileMb },
    checkAndRecord: {
      sequential,
      concurrent,
      targets: { perSecond: 20_000, p99Ms: 1, appliesTo: 'concurrent', metAtInFlight: meeting },
      logAllDecisions,
    },
    checkpointer: ckpt,
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
