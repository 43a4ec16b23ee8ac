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
 * - Heap: after a full GC (--expose-gc) before and after callgate's calls.
 */
import { fork } from 'node:child_process';
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
import { heapAfterGcMb, latencyMs, mobileE164, peakRssMb, tempDir } from './util';

/** The simulator process: forked, ready, listening (its inbound port given to `attach`), then one run. */
async function runSimulatorProcess(
  run: ChildRun,
  attach: (inboundPort: number) => Promise<void>,
): Promise<ChildResult> {
  const child = fork(CHILD_ENTRY, [], { execArgv: SIM_EXEC_ARGV, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    let result: ChildResult | undefined;
    child.on('message', (m: { type: string }) => {
      if (m.type === 'ready') child.send(run);
      else if (m.type === 'listening')
        attach((m as ChildListening).port).then(
          () => child.send({ type: 'go' }),
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

const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

function summary(sim: ChildResult, cpu: NodeJS.CpuUsage, total: number) {
  return {
    calls: total,
    offeredRatePerS: sim.offeredRatePerS,
    released: sim.samples.length,
    transferred: sim.transferred,
    hangupCauses: sim.hangupCauses,
    latency: latencyMs(sim.samples.map((ms) => ms * 1e6)),
    maxLatencyMsBySecond: sim.maxBySecond,
    cpuMsPerCall: round((cpu.user + cpu.system) / 1000 / Math.max(1, total)),
    cpuUserMsPerCall: round(cpu.user / 1000 / Math.max(1, total)),
    cpuSystemMsPerCall: round(cpu.system / 1000 / Math.max(1, total)),
    simulatorCpuMsPerCall: round((sim.cpuMs.user + sim.cpuMs.system) / Math.max(1, total)),
    dialerNoise: sim.dialer,
  };
}

export async function benchFreeswitch(opts: { durationS: number; ratePerS: number }): Promise<Record<string, unknown>> {
  const total = Math.round(opts.durationS * opts.ratePerS);
  // callgate at the default durability (full: a COMMIT survives a power cut, fsync on the event loop) and at normal
  const durability = process.env.CALLGATE_BENCH_DURABILITY === 'normal' ? 'normal' : 'full';

  // 1. The stand-in gate: the floor.
  const standinPort = await freePort();
  let stand: Awaited<ReturnType<typeof startEslStandIn>> | undefined;
  let cpuS0 = process.cpuUsage();
  const simS = await runSimulatorProcess(runOf(standinPort, opts), async (inboundPort) => {
    stand = await startEslStandIn({ inboundPort, allowContext: 'callgate-allowed', listenPort: standinPort });
    cpuS0 = process.cpuUsage();
  });
  const cpuS = process.cpuUsage(cpuS0);
  const standOutcomes = stand?.outcomes() ?? 0;
  await stand?.stop();

  // 2. callgate: the real Gate on a temp SQLite store, the real adapter (outbound server + outcome follower).
  const dir = tempDir('freeswitch');
  const config = benchConfig(path.join(dir, 'callgate.db'));
  // CALLGATE_BENCH_STORE=memory: the same run on the in-memory store, to split the store's cost from the rest
  const storeKind = process.env.CALLGATE_BENCH_STORE === 'memory' ? 'memory' : 'sqlite';
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
  let cpu0 = process.cpuUsage();
  const simG = await runSimulatorProcess(runOf(port, opts), async (inboundPort) => {
    const fsConfig = freeswitchConfigSchema.parse({
      allowContext: 'callgate-allowed',
      listen: { host: '127.0.0.1', port },
      inbound: { port: inboundPort },
    });
    adapter = createFreeswitchAdapter({ gate, config: fsConfig, logger, deadlineMs: config.gate.deadlineMs });
    await adapter.start();
    await adapter.outcomes?.ready(5000);
    heapBefore = heapAfterGcMb();
    cpu0 = process.cpuUsage();
  });
  const cpu = process.cpuUsage(cpu0);
  // the last outcomes are written, then a full GC
  await new Promise((r) => setTimeout(r, 300));
  const heapAfter = heapAfterGcMb();
  const follower = adapter?.outcomes;
  const gateStats = {
    outcomesWritten: follower?.stats.outcomes,
    eventsReceivedByFollower: follower?.stats.events,
    callsStillTracked: follower?.trackedCount,
    eslRetained: follower?.eslRetained,
  };
  await adapter?.stop();
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });

  const g = summary(simG, cpu, total);
  const s = summary(simS, cpuS, total);
  return {
    what: 'dialer bgapi originates through the shipped dialplan (sync full) at the rate below; latency = socket TCP connect → release command received (ms), on the simulator (child process) clock; callgate (real Gate on SQLite, outcomes followed) beside a stand-in gate (same round trips, no store, no rules) in the same run',
    ratePerS: opts.ratePerS,
    durationS: opts.durationS,
    durability,
    store: storeKind,
    callgate: { ...g, ...gateStats },
    standIn: { ...s, outcomesSeen: standOutcomes },
    ratios: {
      cpuPerCall: round(g.cpuMsPerCall / Math.max(0.001, s.cpuMsPerCall), 2),
      p50AddedMs: round(g.latency.p50 - s.latency.p50),
      p99AddedMs: round(g.latency.p99 - s.latency.p99),
    },
    targets: 'callgate CPU/call ≤ 2× the stand-in, p99 within 1 ms of the stand-in, heap flat',
    loadAverage: os.loadavg().map((l: number) => Math.round(l * 100) / 100),
    peakRssMb: peakRssMb(),
    heapAfterGcMb: { before: heapBefore, after: heapAfter, calls: total },
  };
}
