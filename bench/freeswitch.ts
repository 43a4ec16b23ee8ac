/**
 * The FreeSWITCH path at `ratePerS` new calls per second with a dialer's noise (issue 12): callgate
 * beside a stand-in gate (bench/standin-esl.ts: same round trips, no store, no rules, allow/block by
 * the last digit), each on its own Event Socket simulator process, at the same rate, in the same run.
 *
 * - The simulator runs in a CHILD PROCESS (src/sim/esl/child.ts), as a real FreeSWITCH runs beside
 *   the gate, with the shipped dialplan (sync `full`). Every call is placed as a dialer places it,
 *   `bgapi originate {…}loopback/NUMBER/callgate-outbound &park` on an inbound connection of the
 *   dialer's own: its BACKGROUND_JOB results (`-ERR CALL_REJECTED` for a blocked call) and the
 *   CHANNEL_EXECUTE_COMPLETE of every application go to every connection subscribed to them.
 * - Half the numbers are allowed (consent on record for an even last digit; the stand-in allows the
 *   even ones), half blocked (no_consent). An allowed call is answered after 10 ms and talks 50 ms;
 *   its outcome is followed on the inbound Event Socket (callgate writes it on the attempt).
 * - Latency: the simulator's `socket` TCP connect → the release command (transfer or hangup) arriving,
 *   both on the child's clock. CPU: the gate's process (callgate or stand-in) over the run, per call.
 * - Rounds (bench/util.ts roundsPlan): stand-in, callgate, stand-in, callgate, … each phase with a
 *   fresh simulator process (and, for callgate, a fresh store, Gate and adapter in the same process);
 *   the first seconds of every phase are the `warmup`, reported apart; latency percentiles (p50, p99,
 *   p99.9) and the CPU per call are the steady part's; each ratio is computed round by round and its
 *   median quoted.
 * - Heap: after a full GC (--expose-gc) before and after each callgate phase.
 * - BENCH_PROFILE=PREFIX writes a CPU profile of every phase's steady part (see profileName);
 *   with BENCH_ALLOC=1 also an allocation profile beside it (PREFIX-<side>-<round>.heapprofile:
 *   sampled every 4 KiB, objects the GC has since collected included, so it shows where each
 *   call's garbage is made).
 */
import { fork } from 'node:child_process';
import { Session } from 'node:inspector';
import * as os from 'node:os';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bufferedDestination, createLogger } from '../src/gate/logger';
import { fixedClock } from '../src/gate/clock';
import { Gate } from '../src/gate/gate';
import type { ConsentRow } from '../src/gate/store';
import { createFreeswitchAdapter } from '../src/pbx/freeswitch';
import { freeswitchConfigSchema } from '../src/pbx/freeswitch/config';
import { openStore } from '../src/store';
import { freePort } from '../test/e2e/freeswitch-helpers';
import { CHILD_ENTRY, SIM_EXEC_ARGV, type ChildListening, type ChildResult, type ChildRun } from '../src/sim/esl/child';
import { BENCH_AT, benchConfig } from './fixture-config';
import { startEslStandIn } from './standin-esl';
import { startEslLibStandIn } from './standin-esl-lib';
import { PerformanceObserver, constants as perfConstants, performance } from 'node:perf_hooks';
import { heapAfterGcMb, latencyMs, median, mobileE164, peakRssMb, perRound, round, roundsPlan, tempDir } from './util';

/**
 * The simulator process: forked, ready, listening (its inbound port given to `attach`), then one run.
 * `onGo` is called as the run is let go (the gate side's CPU is counted from there).
 */
async function runSimulatorProcess(
  run: ChildRun,
  attach: (inboundPort: number) => Promise<void>,
  onGo: () => void,
): Promise<ChildResult> {
  const child = fork(CHILD_ENTRY, [], { execArgv: SIM_EXEC_ARGV, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    let result: ChildResult | undefined;
    child.on('message', (m: { type: string }) => {
      if (m.type === 'ready') child.send(run);
      else if (m.type === 'listening')
        attach((m as ChildListening).port).then(
          () => {
            onGo();
            child.send({ type: 'go' });
          },
          (e: unknown) => {
            child.kill();
            reject(e instanceof Error ? e : new Error(String(e)));
          },
        );
      else if (m.type === 'result') result = m as ChildResult;
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      result ? resolve(result) : reject(new Error(`simulator process exited with ${code} and no result`)),
    );
  });
}

function runOf(socketPort: number, opts: { durationS: number; ratePerS: number }): ChildRun {
  return {
    type: 'run',
    socket: `127.0.0.1:${socketPort}`,
    durationS: opts.durationS,
    ratePerS: opts.ratePerS,
    to: { prefix: '061', digits: 7 },
    callerIdNumber: '0162000001',
    variables: { callgate_campaign: 'bench' },
    callee: { answerAfterMs: 10, talkMs: 50 },
    dialer: true,
  };
}

type PhasePlan = { phaseS: number; ratePerS: number; warmupS: number };

/**
 * The garbage collector's pauses in this process (the gate's), split into scavenges (young
 * generation) and the rest, from `warm` on: a call that arrives during a pause waits for it, so the
 * pauses are where a p99 comes from when the processor is otherwise free.
 */
function gcRecorder() {
  const minor: number[] = [];
  const other: number[] = [];
  let counting = false;
  const obs = new PerformanceObserver((list) => {
    if (!counting) return;
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
      (kind === perfConstants.NODE_PERFORMANCE_GC_MINOR ? minor : other).push(e.duration);
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  const sum = (xs: number[]) =>
    round(
      xs.reduce((a, b) => a + b, 0),
      1,
    );
  const top = (xs: number[]) => round(xs.length ? Math.max(...xs) : 0, 2);
  const over = (xs: number[], ms: number) => xs.filter((x) => x > ms).length;
  return {
    warm: () => (counting = true),
    stop(seconds: number) {
      obs.disconnect();
      const sorted = [...minor].sort((a, b) => a - b);
      return {
        scavenges: minor.length,
        scavengesPerS: round(minor.length / Math.max(1e-9, seconds), 2),
        scavengeMs: {
          p50: round(sorted[Math.floor(sorted.length / 2)] ?? 0, 2),
          max: top(minor),
          total: sum(minor),
          over2: over(minor, 2),
        },
        otherGcs: other.length,
        otherGcMs: { max: top(other), total: sum(other) },
      };
    },
  };
}

/**
 * One phase: a fresh simulator process placing `phaseS × ratePerS` calls at the gate `attach` starts.
 * The gate side's CPU and the calls it has released (`released()`) are read as the run is let go,
 * `warmupS` later (a timer) and at the end: the steady CPU per call is the CPU after the warm-up over
 * the calls released after it (not the calls placed after it: on a loaded VM a backlog of the
 * warm-up's calls is worked off later).
 */
async function phase(
  plan: PhasePlan,
  port: number,
  attach: (inboundPort: number) => Promise<void>,
  released: () => number,
  profileTo?: string,
) {
  let cpu0 = process.cpuUsage();
  let warm: { cpu: NodeJS.CpuUsage; released: number } | undefined;
  const gc = gcRecorder();
  let warmAt = 0;
  let warmTimer: NodeJS.Timeout | undefined;
  const profiler = profileTo !== undefined ? new Session() : undefined;
  const sim = await runSimulatorProcess(
    runOf(port, { durationS: plan.phaseS, ratePerS: plan.ratePerS }),
    attach,
    () => {
      cpu0 = process.cpuUsage();
      warmTimer = setTimeout(() => {
        warm = { cpu: process.cpuUsage(), released: released() };
        gc.warm();
        warmAt = performance.now();
        if (profiler) {
          profiler.connect();
          profiler.post('Profiler.enable');
          profiler.post('Profiler.setSamplingInterval', { interval: 200 });
          profiler.post('Profiler.start');
          if (process.env.BENCH_ALLOC === '1')
            profiler.post('HeapProfiler.startSampling', {
              samplingInterval: 4096,
              includeObjectsCollectedByMajorGC: true,
              includeObjectsCollectedByMinorGC: true,
            } as never);
        }
      }, plan.warmupS * 1000);
    },
  );
  const cpuEnd = process.cpuUsage();
  const releasedEnd = released();
  const gcSteady = gc.stop(warmAt > 0 ? (performance.now() - warmAt) / 1000 : 0);
  clearTimeout(warmTimer);
  if (profiler && profileTo !== undefined && warm !== undefined)
    await new Promise<void>((resolve) =>
      profiler.post('Profiler.stop', (err, r) => {
        if (!err) fs.writeFileSync(profileTo, JSON.stringify(r.profile));
        if (process.env.BENCH_ALLOC !== '1') {
          profiler.disconnect();
          resolve();
          return;
        }
        profiler.post('HeapProfiler.stopSampling', (e2, h) => {
          if (!e2) fs.writeFileSync(profileTo.replace(/\.cpuprofile$/, '.heapprofile'), JSON.stringify(h.profile));
          profiler.disconnect();
          resolve();
        });
      }),
    );
  warm ??= { cpu: cpu0, released: 0 };
  const diff = (a: NodeJS.CpuUsage, b: NodeJS.CpuUsage) => ({ user: a.user - b.user, system: a.system - b.system });
  return {
    sim,
    cpuSteady: diff(cpuEnd, warm.cpu),
    cpuWarmup: diff(warm.cpu, cpu0),
    releasedWarmup: warm.released,
    releasedSteady: releasedEnd - warm.released,
    gcSteady,
  };
}

function summary(p: Awaited<ReturnType<typeof phase>>, plan: PhasePlan) {
  const { sim } = p;
  const total = sim.calls;
  const warmupCalls = p.releasedWarmup;
  const steadyCalls = p.releasedSteady;
  const steady: number[] = [];
  const warm: number[] = [];
  sim.samples.forEach((ms, i) => ((sim.placedMs[i] ?? 0) < plan.warmupS * 1000 ? warm : steady).push(ms * 1e6));
  const perCall = (us: number, calls: number) => round(us / 1000 / Math.max(1, calls));
  return {
    calls: total,
    offeredRatePerS: sim.offeredRatePerS,
    released: sim.samples.length,
    transferred: sim.transferred,
    hangupCauses: sim.hangupCauses,
    /** the steady part: the calls placed after the warm-up */
    latency: latencyMs(steady),
    /** CPU after the warm-up over the calls released after it */
    cpuMsPerCall: perCall(p.cpuSteady.user + p.cpuSteady.system, steadyCalls),
    cpuMsPerCallWholePhase: perCall(
      p.cpuSteady.user + p.cpuSteady.system + p.cpuWarmup.user + p.cpuWarmup.system,
      total,
    ),
    cpuUserMsPerCall: perCall(p.cpuSteady.user, steadyCalls),
    cpuSystemMsPerCall: perCall(p.cpuSteady.system, steadyCalls),
    warmup: {
      seconds: round(plan.warmupS, 2),
      latency: latencyMs(warm),
      callsReleased: warmupCalls,
      cpuMsPerCall: perCall(p.cpuWarmup.user + p.cpuWarmup.system, warmupCalls),
    },
    maxLatencyMsBySecond: sim.maxBySecond,
    /** the gate process's GC pauses in the steady part */
    gc: p.gcSteady,
    simulatorCpuMsPerCall: round((sim.cpuMs.user + sim.cpuMs.system) / Math.max(1, total)),
    dialerNoise: sim.dialer,
    /** kept for pooling across rounds, dropped from the output */
    steadyNs: steady,
    warmupNs: warm,
  };
}

type Side = ReturnType<typeof summary>;

/** BENCH_PROFILE=PREFIX: a CPU profile of each phase's steady part, PREFIX-<side>-<round>.cpuprofile. */
const profiled: Record<string, number> = {};
function profileName(side: string): string | undefined {
  const prefix = process.env.BENCH_PROFILE;
  if (prefix === undefined || prefix === '') return undefined;
  profiled[side] = (profiled[side] ?? 0) + 1;
  return `${prefix}-${side}-${profiled[side]}.cpuprofile`;
}

/**
 * A stand-in gate's phase: the floor. `raw`: bench/standin-esl.ts, no library; `esl`:
 * bench/standin-esl-lib.ts, the same gate on the esl package as callgate's adapter uses it.
 */
async function standInPhase(plan: PhasePlan, kind: 'raw' | 'esl') {
  const port = await freePort();
  let stand: Awaited<ReturnType<typeof startEslStandIn>> | undefined;
  const start = kind === 'raw' ? startEslStandIn : startEslLibStandIn;
  const p = await phase(
    plan,
    port,
    async (inboundPort) => {
      stand = await start({ inboundPort, allowContext: 'callgate-allowed', listenPort: port });
    },
    () => stand?.released() ?? 0,
    profileName(kind === 'raw' ? 'standin' : 'esl-standin'),
  );
  const outcomesSeen = stand?.outcomes() ?? 0;
  await stand?.stop();
  return { ...summary(p, plan), outcomesSeen };
}

/** callgate's phase: the real Gate on a fresh store (consents for the even numbers), the real adapter. */
async function callgatePhase(plan: PhasePlan, storeKind: 'sqlite' | 'memory', durability: 'full' | 'normal') {
  const total = Math.round(plan.phaseS * plan.ratePerS);
  const dir = tempDir('freeswitch');
  const config = benchConfig(path.join(dir, 'callgate.db'));
  const store = openStore(
    storeKind === 'memory'
      ? { driver: 'memory' }
      : { driver: 'sqlite', path: path.join(dir, 'callgate.db'), durability },
    { pollLocks: true },
  );
  const imp = await store.beginImport('consent');
  const rows: ConsentRow[] = [];
  for (let i = 0; i < total; i += 2)
    rows.push({
      e164: mobileE164(i),
      professional: 'acme',
      categories: [],
      collectedAt: new Date(BENCH_AT.getTime() - 30 * 86_400_000),
    });
  await imp.consents(rows);
  await imp.commit();
  // Production-like logging (the default config: an info line per blocked call, buffered), written to /dev/null.
  const logger = createLogger(config.log, bufferedDestination('/dev/null'));
  const gate = new Gate({ store, config, clock: fixedClock(BENCH_AT), logger });
  const port = await freePort();
  let adapter: ReturnType<typeof createFreeswitchAdapter> | undefined;
  let heapBefore: number | undefined;
  const released = () => {
    const st = adapter?.server.stats;
    return st ? st.allowed + st.blocked + st.dropped : 0;
  };
  const p = await phase(
    plan,
    port,
    async (inboundPort) => {
      const fsConfig = freeswitchConfigSchema.parse({
        allowContext: 'callgate-allowed',
        listen: { host: '127.0.0.1', port },
        inbound: { port: inboundPort },
      });
      adapter = createFreeswitchAdapter({ gate, config: fsConfig, logger, deadlineMs: config.gate.deadlineMs });
      await adapter.start();
      await adapter.outcomes?.ready(5000);
      heapBefore = heapAfterGcMb();
    },
    released,
    profileName('callgate'),
  );
  // the last outcomes are written, then a full GC
  await new Promise((r) => setTimeout(r, 300));
  const heapAfter = heapAfterGcMb();
  const follower = adapter?.outcomes;
  const gateStats = {
    outcomesWritten: follower?.stats.outcomes,
    eventsReceivedByFollower: follower?.stats.events,
    callsStillTracked: follower?.trackedCount,
    eslRetained: follower?.eslRetained,
    heapAfterGcMb: { before: heapBefore, after: heapAfter },
  };
  await adapter?.stop();
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return { ...summary(p, plan), ...gateStats };
}

/** What a phase reports (without the raw samples). */
function shown<T extends Side>(s: T): Omit<T, 'steadyNs' | 'warmupNs'> {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { steadyNs, warmupNs, ...rest } = s;
  return rest;
}

/** Every round's figures of one side pooled: latency over all steady (and all warm-up) samples, CPU medians. */
function pooled(sides: Side[]) {
  return {
    calls: sides.reduce((n, s) => n + s.calls, 0),
    released: sides.reduce((n, s) => n + s.released, 0),
    latency: latencyMs(sides.flatMap((s) => s.steadyNs)),
    warmupLatency: latencyMs(sides.flatMap((s) => s.warmupNs)),
    cpuMsPerCall: perRound(sides.map((s) => s.cpuMsPerCall)),
    cpuUserMsPerCall: round(median(sides.map((s) => s.cpuUserMsPerCall))),
    cpuSystemMsPerCall: round(median(sides.map((s) => s.cpuSystemMsPerCall))),
  };
}

export async function benchFreeswitch(opts: { durationS: number; ratePerS: number }): Promise<Record<string, unknown>> {
  const { rounds, phaseS, warmupS } = roundsPlan(opts.durationS);
  const plan: PhasePlan = { phaseS, ratePerS: opts.ratePerS, warmupS };
  // callgate at the default durability (full: a COMMIT survives a power cut, fsync on the event loop) and at normal
  const durability = process.env.CALLGATE_BENCH_DURABILITY === 'normal' ? 'normal' : 'full';
  // CALLGATE_BENCH_STORE=memory: the same run on the in-memory store, to split the store's cost from the rest
  const storeKind = process.env.CALLGATE_BENCH_STORE === 'memory' ? 'memory' : 'sqlite';

  // stand-in, esl stand-in, callgate, stand-in, …: each round's three phases measured seconds apart
  const standIns: Side[] = [];
  const eslStandIns: Side[] = [];
  const callgates: Awaited<ReturnType<typeof callgatePhase>>[] = [];
  for (let r = 0; r < rounds; r++) {
    standIns.push(await standInPhase(plan, 'raw'));
    eslStandIns.push(await standInPhase(plan, 'esl'));
    callgates.push(await callgatePhase(plan, storeKind, durability));
  }
  const pairs = standIns.map((s, i) => ({ s, g: callgates[i] as Side }));
  const eslPairs = eslStandIns.map((s, i) => ({ s, g: callgates[i] as Side }));
  const floorPairs = standIns.map((s, i) => ({ s, g: eslStandIns[i] as Side }));
  const ratios = (ps: { s: Side; g: Side }[]) => ({
    cpuPerCall: perRound(
      ps.map(({ s, g }) => g.cpuMsPerCall / Math.max(0.001, s.cpuMsPerCall)),
      2,
    ),
    p50AddedMs: perRound(ps.map(({ s, g }) => g.latency.p50 - s.latency.p50)),
    p99AddedMs: perRound(ps.map(({ s, g }) => g.latency.p99 - s.latency.p99)),
    p999AddedMs: perRound(ps.map(({ s, g }) => g.latency.p999 - s.latency.p999)),
  });
  return {
    what: "dialer bgapi originates through the shipped dialplan (sync full) at the rate below; latency = socket TCP connect → release command received (ms), on the simulator (child process) clock; a stand-in gate (same round trips, no store, no rules), the same stand-in on the esl package, and callgate (real Gate, outcomes followed) in alternated rounds; latency and CPU per call of the steady part (after each phase's warm-up, reported apart); ratios round by round, with their median",
    ratePerS: opts.ratePerS,
    durationS: opts.durationS,
    rounds,
    phaseS: round(phaseS, 2),
    warmupS: round(warmupS, 2),
    durability,
    store: storeKind,
    callgate: { ...pooled(callgates), rounds: callgates.map(shown) },
    standIn: { ...pooled(standIns), rounds: standIns.map(shown) },
    /** the same stand-in on the esl package, as callgate's adapter uses it (bench/standin-esl-lib.ts) */
    eslStandIn: { ...pooled(eslStandIns), rounds: eslStandIns.map(shown) },
    /** callgate against the stand-in without a library: the target */
    ratios: ratios(pairs),
    /** callgate against the esl stand-in: callgate's own cost above the library it is specified with */
    ratiosToEslStandIn: ratios(eslPairs),
    /** the esl stand-in against the raw one: what the esl package costs by itself */
    eslStandInToStandIn: ratios(floorPairs),
    targets: 'callgate CPU/call ≤ 2× the stand-in, p99 within 1 ms of the stand-in, heap flat (medians of the rounds)',
    loadAverage: os.loadavg().map((l: number) => Math.round(l * 100) / 100),
    peakRssMb: peakRssMb(),
  };
}
