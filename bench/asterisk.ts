/**
 * The Asterisk path at 200 new calls per second (issue 12): what callgate costs per call, beside a
 * stand-in gate run in the same benchmark on the same simulator at the same rate.
 *
 * - The ARI simulator runs the shipped dialplan in its own process (src/sim/ari/child.ts), like a
 *   real Asterisk, and measures on its own clock the added latency: StasisStart written → the request
 *   that releases the call received (`continue`, or the hangup of a blocked call). It also counts
 *   the events it serialised to the app per call (what the application event filter saves the PBX).
 * - The stand-in (bench/standin-ari.ts): a bare ARI app, no store, no rules, no ari-client, allowing
 *   a number whose last digit is even; same requests per call as callgate, same filter.
 * - callgate: the real Gate on a temp SQLite store (consents for the numbers whose last digit is even,
 *   so the same half is allowed, the other half blocked with no_consent) behind the Asterisk adapter,
 *   outcomes recorded. Its heap after a full GC before and after all its calls (60,000 in a full run).
 *   Then five PBX restarts (2 s down): how long after Asterisk listens again callgate is registered.
 *
 * CPU per call is this process's (the gate side) user + system time over the run, divided by the
 * calls; the simulator's is reported beside it. Targets: callgate's CPU per call ≤ 2× the stand-in's,
 * its p99 within 1 ms of the stand-in's, heap flat.
 *
 * Rounds (bench/util.ts roundsPlan): stand-in, callgate, stand-in, callgate, … each phase on a fresh
 * simulator process, callgate's on a fresh store, Gate and adapter (the simulator numbers its calls
 * from 0 every run: the same store would see every number again). The calls placed in the first
 * `warmupS` seconds of a phase are its warm-up, reported apart (the simulator gives each sample's
 * StasisStart instant); latency percentiles and the CPU per call are the rest's, and each ratio is
 * computed round by round with its median. The stand-in's phases last at most 20 s.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as os from 'node:os';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bufferedDestination, createLogger } from '../src/gate/logger';
import { fixedClock } from '../src/gate/clock';
import { Gate } from '../src/gate/gate';
import type { ConsentRow } from '../src/gate/store';
import { AsteriskAdapter } from '../src/pbx/asterisk/adapter';
import { asteriskConfigSchema } from '../src/pbx/asterisk/config';
import { openStore } from '../src/store';
import { PASS, USER } from '../src/sim/ari/harness';
import { CHILD_ENTRY, SIM_EXEC_ARGV, type ChildRunResult } from '../src/sim/ari/child';
import { BENCH_AT, benchConfig } from './fixture-config';
import { heapAfterGcMb, latencyMs, median, mobileE164, peakRssMb, perRound, round, roundsPlan, tempDir } from './util';
import { startStandIn } from './standin-ari';

const DAY = 86_400_000;

/** Starts the simulator in a child process; resolves its URL and a way to talk to it. */
async function startChild(): Promise<{ url: string; child: ChildProcess }> {
  const child = fork(CHILD_ENTRY, [], { execArgv: SIM_EXEC_ARGV, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (m: { url?: string }) =>
      m.url ? resolve(m.url) : reject(new Error('simulator did not start')),
    );
    child.once('exit', (code) => reject(new Error(`simulator exited (${code})`)));
  });
  return { url, child };
}

type Figures = {
  calls: number;
  allowed: number;
  blocked: number;
  lost: number;
  wrong: number;
  cutByDialplanBackstop: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  /** after the warm-up: CPU over the calls released after it */
  cpuMsPerCall: number;
  cpuMsPerCallWholePhase: number;
  warmup: { calls: number; p50Ms: number; p99Ms: number; maxMs: number; cpuMsPerCall: number };
  simulatorCpuMsPerCall: number;
  eventsPerCall: number;
  wallS: number;
  heapAfterGcMb?: { before?: number; after?: number };
  afterRestart?: { downMs: number; backToRegisteredMs: number[]; callsDecidedRightAfter: number };
};

/** One run of `total` calls at `ratePerS` against a fresh simulator, with the app `start` connects. */
async function runPhase(
  total: number,
  ratePerS: number,
  start: (url: string) => Promise<{ stop(): Promise<void> }>,
  heap: boolean,
  warmupS: number,
  restarts = 0,
): Promise<Figures & { steadyNs: number[] }> {
  const { url, child } = await startChild();
  const app = await start(url);
  const heapBefore = heap ? heapAfterGcMb() : undefined;
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  // the gate side's CPU as the warm-up ends (its calls: those placed in its first warmupS seconds)
  let cpuWarm: NodeJS.CpuUsage | undefined;
  const warmTimer = setTimeout(() => (cpuWarm = process.cpuUsage()), warmupS * 1000);
  const res = await new Promise<ChildRunResult>((resolve) => {
    child.once('message', (m: { result: ChildRunResult }) => resolve(m.result));
    child.send({ cmd: 'run', total, ratePerS });
  });
  const wallS = (Date.now() - t0) / 1000;
  clearTimeout(warmTimer);
  cpuWarm ??= cpu0;
  const cpu = process.cpuUsage(cpu0);
  const cpuSteady = process.cpuUsage(cpuWarm);
  await new Promise((r) => setTimeout(r, 200)); // the last outcomes land
  const heapAfter = heap ? heapAfterGcMb() : undefined;
  // PBX restarts (2 s down each): from the instant Asterisk listens again to the app registered
  const backToRegisteredMs: number[] = [];
  let decidedAfterRestart = 0;
  for (let i = 0; i < restarts; i++) {
    const r = await new Promise<{ backToRegisteredMs: number; decided: boolean }>((resolve) => {
      child.once('message', (m: { restarted: { backToRegisteredMs: number; decided: boolean } }) =>
        resolve(m.restarted),
      );
      child.send({ cmd: 'restart', downMs: 2_000 });
    });
    backToRegisteredMs.push(r.backToRegisteredMs);
    if (r.decided) decidedAfterRestart++;
  }
  await app.stop();
  child.send({ cmd: 'stop' });
  await new Promise((r) => child.once('exit', r));
  // the warm-up: the calls whose StasisStart came in its first warmupS seconds (the simulator's clock)
  const steadyNs: number[] = [];
  const warmNs: number[] = [];
  res.samples.forEach((ns, i) => ((res.placedMs[i] ?? 0) < warmupS * 1000 ? warmNs : steadyNs).push(ns));
  const warmN = warmNs.length;
  const lat = latencyMs(steadyNs);
  const warm = latencyMs(warmNs);
  const ms = (us: number, calls: number) => round(us / 1000 / Math.max(1, calls));
  return {
    steadyNs,
    calls: res.calls,
    allowed: res.allowed,
    blocked: res.blocked,
    lost: res.lost,
    wrong: res.wrong,
    cutByDialplanBackstop: res.timedOut,
    p50Ms: lat.p50,
    p99Ms: lat.p99,
    p999Ms: lat.p999,
    maxMs: lat.max,
    cpuMsPerCall: ms(cpuSteady.user + cpuSteady.system, res.samples.length - warmN),
    cpuMsPerCallWholePhase: ms(cpu.user + cpu.system, total),
    warmup: {
      calls: warmN,
      p50Ms: warm.p50,
      p99Ms: warm.p99,
      maxMs: warm.max,
      cpuMsPerCall: ms(cpu.user + cpu.system - cpuSteady.user - cpuSteady.system, warmN),
    },
    simulatorCpuMsPerCall: res.simCpuMsPerCall,
    eventsPerCall: res.eventsPerCall,
    wallS: Math.round(wallS * 10) / 10,
    ...(heap ? { heapAfterGcMb: { before: heapBefore, after: heapAfter } } : {}),
    ...(restarts
      ? { afterRestart: { downMs: 2_000, backToRegisteredMs, callsDecidedRightAfter: decidedAfterRestart } }
      : {}),
  };
}

/** One callgate phase: the real Gate on a fresh SQLite store with consents for the even numbers. */
async function callgatePhase(total: number, ratePerS: number, warmupS: number, restarts: number) {
  const dir = tempDir('asterisk');
  const dbPath = path.join(dir, 'callgate.db');
  const config = benchConfig(dbPath);
  const store = openStore({ driver: 'sqlite', path: dbPath }, { pollLocks: true });
  const session = await store.beginImport('consent');
  const rows: ConsentRow[] = [];
  for (let i = 0; i < total; i += 2) {
    rows.push({
      e164: mobileE164(i), // even last digit: allowed, like the stand-in
      professional: 'acme',
      categories: [],
      collectedAt: new Date(BENCH_AT.getTime() - 30 * DAY),
    });
    if (rows.length === 10_000) await session.consents(rows.splice(0));
  }
  if (rows.length) await session.consents(rows.splice(0));
  await session.commit();
  // Production-like logging (the default config: an info line per blocked call), written to /dev/null.
  const logger = createLogger(config.log, bufferedDestination('/dev/null'));
  const gate = new Gate({ store, config, clock: fixedClock(BENCH_AT), logger });
  const figures = await runPhase(
    total,
    ratePerS,
    async (url) => {
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
    },
    true,
    warmupS,
    restarts,
  );
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return figures;
}

/** A phase's figures without its raw samples. */
function shown(f: Figures & { steadyNs: number[] }): Figures {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { steadyNs, ...rest } = f;
  return rest;
}

/** Every round of one side: latency over all the steady samples pooled, CPU per call per round. */
function pooled(phases: Array<Figures & { steadyNs: number[] }>) {
  const lat = latencyMs(phases.flatMap((p) => p.steadyNs));
  return {
    calls: phases.reduce((n, p) => n + p.calls, 0),
    lost: phases.reduce((n, p) => n + p.lost, 0),
    p50Ms: lat.p50,
    p99Ms: lat.p99,
    p999Ms: lat.p999,
    maxMs: lat.max,
    cpuMsPerCall: perRound(phases.map((p) => p.cpuMsPerCall)),
    simulatorCpuMsPerCall: round(median(phases.map((p) => p.simulatorCpuMsPerCall))),
  };
}

/**
 * @param opts.durationS callgate's time over all rounds (300 s = 60,000 calls at 200/s in a full run,
 *   3 rounds of 100 s by default); each stand-in phase lasts as long as a callgate phase, at most 20 s.
 */
export async function benchAsterisk(opts: { durationS: number; ratePerS: number }): Promise<Record<string, unknown>> {
  const { rounds, phaseS, warmupS } = roundsPlan(opts.durationS);
  const total = Math.round(phaseS * opts.ratePerS);
  const standInS = Math.min(20, phaseS);
  const standInTotal = Math.round(standInS * opts.ratePerS);
  const standIns: Array<Figures & { steadyNs: number[] }> = [];
  const callgates: Array<Figures & { steadyNs: number[] }> = [];
  // stand-in, callgate, stand-in, callgate, …: each round's pair measured seconds apart
  for (let r = 0; r < rounds; r++) {
    standIns.push(
      await runPhase(
        standInTotal,
        opts.ratePerS,
        (url) =>
          startStandIn({ url, username: USER, password: PASS, app: 'callgate', allowContext: 'callgate-allowed' }),
        false,
        Math.min(warmupS, standInS / 4),
      ),
    );
    // five PBX restarts after the last round's calls
    callgates.push(await callgatePhase(total, opts.ratePerS, warmupS, r === rounds - 1 ? 5 : 0));
  }
  const pairs = standIns.map((s, i) => ({ s, g: callgates[i] as Figures }));
  return {
    bench: 'asterisk',
    what: "a stand-in ARI gate (no store, no rules, last digit decides) and callgate in alternated rounds, each phase on a fresh simulator (own process, shipped dialplan), same rate; latency = StasisStart sent → releasing request received, on the simulator clock; latency and CPU per call after each phase's warm-up (reported apart); ratios round by round, with their median",
    ratePerS: opts.ratePerS,
    rounds,
    phaseS: round(phaseS, 2),
    standInPhaseS: round(standInS, 2),
    warmupS: round(warmupS, 2),
    callgate: { ...pooled(callgates), rounds: callgates.map(shown) },
    standIn: { ...pooled(standIns), rounds: standIns.map(shown) },
    ratios: {
      cpuPerCall: perRound(
        pairs.map(({ s, g }) => g.cpuMsPerCall / Math.max(0.001, s.cpuMsPerCall)),
        2,
      ),
      p50AddedMs: perRound(pairs.map(({ s, g }) => g.p50Ms - s.p50Ms)),
      p99AddedMs: perRound(pairs.map(({ s, g }) => g.p99Ms - s.p99Ms)),
      p999AddedMs: perRound(pairs.map(({ s, g }) => g.p999Ms - s.p999Ms)),
      heapGrowthMbPerRound: callgates.map((g) =>
        g.heapAfterGcMb?.before !== undefined && g.heapAfterGcMb.after !== undefined
          ? round(g.heapAfterGcMb.after - g.heapAfterGcMb.before, 1)
          : undefined,
      ),
    },
    targets: { cpuPerCallRatio: '≤ 2 (median of the rounds)', p99AddedMs: '≤ 1 (median of the rounds)', heap: 'flat' },
    peakRssMb: peakRssMb(),
    loadAverage1m: Math.round(os.loadavg()[0]! * 10) / 10,
    cpus: os.cpus().length,
  };
}

if (require.main === module) {
  const [d, r] = process.argv.slice(2);
  benchAsterisk({ durationS: Number(d ?? 300), ratePerS: Number(r ?? 200) }).then(
    (res) => {
      process.stdout.write(`${JSON.stringify(res)}\n`);
      process.exit(0);
    },
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
