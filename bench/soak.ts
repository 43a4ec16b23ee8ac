/**
 * The soak (issue 14): each PBX simulator drives the real gate at a sustained rate (300 new calls per
 * second by default) for minutes, half allowed (consent on file: the number's last digit is even) and
 * half blocked (no_consent), allowed calls answered and their outcomes recorded. Run in its own
 * process: node dist/bench/soak.js asterisk|freeswitch SECONDS RATE STANDIN_SECONDS
 *
 * Reported beside a floor measured in the same run, on the same simulator at the same rate: the
 * stand-in gate (no store, no rules; bench/standin-ari.ts). Figures: decisions
 * per second, p50/p99/max added latency (callgate's, the stand-in's, the difference and the ratio),
 * RSS and heap in use at minute 2 (a fifth of the run when shorter than 10 minutes) and at the end,
 * and the growth between them; errors (warnings and errors the gate logged, store faults, fail-mode
 * decisions, calls that did not end as decided, calls cut by the dialplan's backstop); lost decisions:
 * the calls the PBX was told to continue against the attempts the store holds, and calls that got
 * no release at all.
 */
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { createLogger, flushRepeats } from '../src/gate/logger';
import { fixedClock } from '../src/gate/clock';
import { Gate } from '../src/gate/gate';
import type { ConsentRow, Store } from '../src/gate/store';
import { AsteriskAdapter } from '../src/pbx/asterisk/adapter';
import { asteriskConfigSchema } from '../src/pbx/asterisk/config';
import { openStore } from '../src/store';
import { CHILD_ENTRY, SIM_EXEC_ARGV, type ChildRunResult } from '../src/sim/ari/child';
import { BENCH_AT, benchConfig } from './fixture-config';
import { emit, heapAfterGcMb, latencyMs, mobileE164, peakRssMb, tempDir } from './util';
import { startStandIn } from './standin-ari';

const USER = 'callgate';
const PASS = 's3cret:pa ss';
const DAY = 86_400_000;

type Mem = { atS: number; rssMb: number; heapUsedMb: number };
type PbxRun = {
  calls: number;
  /** The PBX was told to continue (allowed) / to hang up (blocked). */
  continued: number;
  blocked: number;
  /** Calls that got no release at all (neither continue nor hangup). */
  noRelease: number;
  /** Calls that did not end as decided. */
  wrong: number;
  /** Calls the dialplan's own backstop cut (the gate late). */
  cutByBackstop: number;
  /** Calls left up 30 s after the last was placed (in Stasis, never released), hung up by the caller. */
  stuck: number;
  samplesNs: number[];
  wallS: number;
};

/**
 * A logger destination that counts the lines at warn level and above (the gate's errors). With
 * CALLGATE_SOAK_LOG=FILE every line is also appended to FILE, to read what happened.
 */
function countingDestination(): { dest: Writable; warnings: () => number; first: string[] } {
  let n = 0;
  const first: string[] = [];
  const copy = process.env.CALLGATE_SOAK_LOG
    ? fs.createWriteStream(process.env.CALLGATE_SOAK_LOG, { flags: 'a' })
    : undefined;
  const dest = new Writable({
    write(chunk: Buffer, _enc, cb) {
      copy?.write(chunk);
      for (const line of chunk.toString().split('\n')) {
        // createLogger writes the level as its label
        if (/^\{"level":"(warn|error|fatal)"/.test(line)) {
          n++;
          if (first.length < 5) first.push(line.slice(0, 400));
        }
      }
      cb();
    },
  });
  return { dest, warnings: () => n, first };
}

async function seed(store: Store, total: number): Promise<void> {
  const session = await store.beginImport('consent');
  const rows: ConsentRow[] = [];
  for (let i = 0; i < total; i += 2) {
    rows.push({
      e164: mobileE164(i), // even last digit: allowed; odd: blocked (no_consent)
      professional: 'acme',
      categories: [],
      collectedAt: new Date(BENCH_AT.getTime() - 30 * DAY),
    });
    if (rows.length === 10_000) await session.consents(rows.splice(0));
  }
  if (rows.length) await session.consents(rows.splice(0));
  await session.commit();
}

/** What the store holds after the run: allowed decisions (each a recorded attempt on the PBX path) and their outcomes. */
async function audited(store: Store): Promise<{ decisions: number; attempts: number; withOutcome: number }> {
  let decisions = 0;
  let attempts = 0;
  let withOutcome = 0;
  for await (const batch of store.auditBetween(
    new Date(BENCH_AT.getTime() - DAY),
    new Date(BENCH_AT.getTime() + DAY),
  )) {
    for (const row of batch) {
      decisions++;
      if (row.verdict === 'allow') {
        attempts++;
        if (row.outcome) withOutcome++;
      }
    }
  }
  return { decisions, attempts, withOutcome };
}

/** Samples this process's memory every second (no forced GC: what the process really holds). */
function memorySampler(): { stop(): Mem[] } {
  const t0 = Date.now();
  const out: Mem[] = [];
  const take = () => {
    const m = process.memoryUsage();
    out.push({
      atS: Math.round((Date.now() - t0) / 1000),
      rssMb: Math.round(m.rss / 1e5) / 10,
      heapUsedMb: Math.round(m.heapUsed / 1e5) / 10,
    });
  };
  take();
  const timer = setInterval(take, 1000);
  return {
    stop() {
      clearInterval(timer);
      take();
      return out;
    },
  };
}

/** Memory at minute 2 (or a fifth of a shorter run) and at the end, and the growth between them. */
function memoryFigures(samples: Mem[], durationS: number) {
  const markS = durationS >= 600 ? 120 : Math.max(1, Math.round(durationS / 5));
  const near = (s: number) => samples.reduce((b, m) => (Math.abs(m.atS - s) < Math.abs(b.atS - s) ? m : b));
  const mark = near(markS);
  const end = samples[samples.length - 1]!;
  const pct = (a: number, b: number) => Math.round(((b - a) / a) * 1000) / 10;
  return {
    markS: mark.atS,
    endS: end.atS,
    atMark: mark,
    atEnd: end,
    rssGrowthPct: pct(mark.rssMb, end.rssMb),
    heapUsedGrowthPct: pct(mark.heapUsedMb, end.heapUsedMb),
    maxRssMb: Math.max(...samples.map((m) => m.rssMb)),
  };
}

/* ------------------------------------------------------------------------------ Asterisk */

async function ariRun(
  total: number,
  ratePerS: number,
  start: (url: string) => Promise<{ stop(): Promise<void> }>,
): Promise<PbxRun> {
  const child = fork(CHILD_ENTRY, [], { execArgv: SIM_EXEC_ARGV, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (m: { url?: string }) =>
      m.url ? resolve(m.url) : reject(new Error('simulator did not start')),
    );
    child.once('exit', (code) => reject(new Error(`simulator exited (${code})`)));
  });
  const app = await start(url);
  const t0 = Date.now();
  const res = await new Promise<ChildRunResult>((resolve) => {
    child.once('message', (m: { result: ChildRunResult }) => resolve(m.result));
    child.send({ cmd: 'run', total, ratePerS });
  });
  const wallS = (Date.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 300)); // the last outcomes land
  await app.stop();
  child.send({ cmd: 'stop' });
  await new Promise((r) => child.once('exit', r));
  return {
    calls: res.calls,
    continued: res.continued,
    blocked: res.blocked,
    noRelease: res.lost,
    wrong: res.wrong,
    cutByBackstop: res.timedOut,
    stuck: res.stuck,
    samplesNs: res.samples,
    wallS,
  };
}

async function soakAsterisk(durationS: number, ratePerS: number, standInS: number) {
  const standIn = await ariRun(Math.round(standInS * ratePerS), ratePerS, (url) =>
    startStandIn({ url, username: USER, password: PASS, app: 'callgate', allowContext: 'callgate-allowed' }),
  );
  return soakGate(durationS, ratePerS, standIn, async (gate, logger, config, total) =>
    ariRun(total, ratePerS, async (url) => {
      const adapter = new AsteriskAdapter({
        gate,
        config: asteriskConfigSchema.parse({ url, username: USER, password: PASS, allowContext: 'callgate-allowed' }),
        deadlineMs: config.gate.deadlineMs,
        failMode: config.policy.failMode,
        logger,
      });
      await adapter.start();
      return {
        stop: async () => {
          await adapter.stop();
          await gate.drain();
        },
      };
    }),
  );
}

/* ------------------------------------------------------------------------------ shared */

type GateRun = (
  gate: Gate,
  logger: ReturnType<typeof createLogger>,
  config: ReturnType<typeof benchConfig>,
  total: number,
) => Promise<PbxRun>;

async function soakGate(durationS: number, ratePerS: number, standIn: PbxRun, run: GateRun) {
  const total = Math.round(durationS * ratePerS);
  const dir = tempDir('soak');
  const dbPath = path.join(dir, 'callgate.db');
  const config = benchConfig(dbPath);
  const store = openStore({ driver: 'sqlite', path: dbPath }, { pollLocks: true });
  await seed(store, total);
  // Production-like logging (an info line per blocked call), counted at warn and above.
  const counted = countingDestination();
  const logger = createLogger(config.log, counted.dest);
  const gate = new Gate({ store, config, clock: fixedClock(BENCH_AT), logger });
  const heapBefore = heapAfterGcMb();
  const mem = memorySampler();
  const cpu0 = process.cpuUsage();
  const r = await run(gate, logger, config, total);
  const cpu = process.cpuUsage(cpu0);
  // the lines written at stop (outcomes given up, a summary of repeated warnings) are counted too
  flushRepeats(logger);
  logger.flush();
  await new Promise((res) => setTimeout(res, 200));
  const memory = memoryFigures(mem.stop(), r.wallS);
  const heapAfter = heapAfterGcMb();
  const inStore = await audited(store);
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
  const lat = latencyMs(r.samplesNs);
  const floor = latencyMs(standIn.samplesNs);
  const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
  const errors = {
    gateWarningsAndErrors: counted.warnings(),
    firstLines: counted.first,
    storeErrors: gate.stats.storeErrors,
    failModeDecisions: gate.stats.failModeDecisions,
    wrongEndings: r.wrong,
    cutByDialplanBackstop: r.cutByBackstop,
    stuckInPbx: r.stuck,
  };
  const lost = {
    toldToContinue: r.continued,
    attemptsInStore: inStore.attempts,
    continuedWithoutAttempt: Math.max(0, r.continued - inStore.attempts),
    attemptsNotContinued: Math.max(0, inStore.attempts - r.continued),
    callsWithoutRelease: r.noRelease,
  };
  return {
    durationS,
    ratePerS,
    calls: r.calls,
    allowed: r.continued,
    blocked: r.blocked,
    decisionsPerS: Math.round((inStore.decisions / r.wallS) * 10) / 10,
    wallS: Math.round(r.wallS * 10) / 10,
    decisionsInStore: inStore.decisions,
    outcomesRecorded: inStore.withOutcome,
    latencyMs: {
      callgate: lat,
      standIn: floor,
      addedOverStandIn: {
        p50: Math.round((lat.p50 - floor.p50) * 1000) / 1000,
        p99: Math.round((lat.p99 - floor.p99) * 1000) / 1000,
        max: Math.round((lat.max - floor.max) * 1000) / 1000,
      },
      ratioToStandIn: {
        p50: ratio(lat.p50, floor.p50),
        p99: ratio(lat.p99, floor.p99),
        max: ratio(lat.max, floor.max),
      },
    },
    standIn: {
      stuck: standIn.stuck,
      calls: standIn.calls,
      durationS: Math.round(standIn.wallS),
      noRelease: standIn.noRelease,
      wrong: standIn.wrong,
    },
    memory: { ...memory, heapAfterGcMb: { before: heapBefore, after: heapAfter } },
    cpuMsPerCall: Math.round(((cpu.user + cpu.system) / 1000 / total) * 1000) / 1000,
    errors,
    lost,
    pass: {
      noLostDecision:
        lost.continuedWithoutAttempt === 0 && lost.attemptsNotContinued === 0 && lost.callsWithoutRelease === 0,
      noError:
        errors.gateWarningsAndErrors === 0 &&
        errors.storeErrors === 0 &&
        errors.failModeDecisions === 0 &&
        errors.wrongEndings === 0 &&
        errors.cutByDialplanBackstop === 0 &&
        errors.stuckInPbx === 0,
      rssGrowthUnder10Pct: memory.rssGrowthPct < 10,
    },
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
    cpus: os.cpus().length,
    peakRssMb: peakRssMb(),
  };
}

/* ------------------------------------------------------------------------------ FreeSWITCH */

async function soakFreeswitch(durationS: number, ratePerS: number, standInS: number) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const fsSoak = require('./soak-freeswitch') as typeof import('./soak-freeswitch');
  const standIn = await fsSoak.eslStandInRun(standInS, ratePerS);
  return soakGate(durationS, ratePerS, standIn, (gate, logger, _config, total) =>
    fsSoak.eslGateRun(gate, logger, total / ratePerS, ratePerS),
  );
}

export type { PbxRun };

async function main() {
  const [pbx, seconds, rate, standInSeconds] = process.argv.slice(2);
  const durationS = Number(seconds ?? 600);
  const ratePerS = Number(rate ?? 300);
  const standInS = Number(standInSeconds ?? Math.min(120, durationS));
  const result =
    pbx === 'freeswitch'
      ? await soakFreeswitch(durationS, ratePerS, standInS)
      : await soakAsterisk(durationS, ratePerS, standInS);
  emit({ bench: `soak-${pbx}`, ...result });
  process.exit(0);
}

if (require.main === module)
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
