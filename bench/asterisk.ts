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
import { heapAfterGcMb, latencyMs, mobileE164, peakRssMb, tempDir } from './util';
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
  maxMs: number;
  cpuMsPerCall: number;
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
  restarts = 0,
): Promise<Figures> {
  const { url, child } = await startChild();
  const app = await start(url);
  const heapBefore = heap ? heapAfterGcMb() : undefined;
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  const res = await new Promise<ChildRunResult>((resolve) => {
    child.once('message', (m: { result: ChildRunResult }) => resolve(m.result));
    child.send({ cmd: 'run', total, ratePerS });
  });
  const wallS = (Date.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
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
  const lat = latencyMs(res.samples);
  return {
    calls: res.calls,
    allowed: res.allowed,
    blocked: res.blocked,
    lost: res.lost,
    wrong: res.wrong,
    cutByDialplanBackstop: res.timedOut,
    p50Ms: lat.p50,
    p99Ms: lat.p99,
    maxMs: lat.max,
    cpuMsPerCall: Math.round(((cpu.user + cpu.system) / 1000 / total) * 1000) / 1000,
    simulatorCpuMsPerCall: res.simCpuMsPerCall,
    eventsPerCall: res.eventsPerCall,
    wallS: Math.round(wallS * 10) / 10,
    ...(heap ? { heapAfterGcMb: { before: heapBefore, after: heapAfter } } : {}),
    ...(restarts
      ? { afterRestart: { downMs: 2_000, backToRegisteredMs, callsDecidedRightAfter: decidedAfterRestart } }
      : {}),
  };
}

/**
 * @param opts.durationS the callgate run (300 s = 60,000 calls at 200/s in a full run); the stand-in
 *   runs min(60 s, durationS) at the same rate.
 */
export async function benchAsterisk(opts: { durationS: number; ratePerS: number }): Promise<Record<string, unknown>> {
  const total = Math.round(opts.durationS * opts.ratePerS);
  const standInTotal = Math.round(Math.min(60, opts.durationS) * opts.ratePerS);
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

  const standIn = await runPhase(
    standInTotal,
    opts.ratePerS,
    (url) => startStandIn({ url, username: USER, password: PASS, app: 'callgate', allowContext: 'callgate-allowed' }),
    false,
  );

  // Production-like logging (the default config: an info line per blocked call), written to /dev/null.
  const logger = createLogger(config.log, bufferedDestination('/dev/null'));
  const gate = new Gate({ store, config, clock: fixedClock(BENCH_AT), logger });
  const callgate = await runPhase(
    total,
    opts.ratePerS,
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
    5,
  );
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
  const heap = callgate.heapAfterGcMb;
  return {
    bench: 'asterisk',
    what: 'callgate beside a stand-in ARI gate (no store, no rules, last digit decides), same simulator (own process, shipped dialplan), same rate; latency = StasisStart sent → releasing request received, on the simulator clock',
    ratePerS: opts.ratePerS,
    callgate,
    standIn,
    ratios: {
      cpuPerCall: Math.round((callgate.cpuMsPerCall / standIn.cpuMsPerCall) * 100) / 100,
      p50AddedMs: Math.round((callgate.p50Ms - standIn.p50Ms) * 1000) / 1000,
      p99AddedMs: Math.round((callgate.p99Ms - standIn.p99Ms) * 1000) / 1000,
      heapGrowthMb:
        heap?.before !== undefined && heap.after !== undefined
          ? Math.round((heap.after - heap.before) * 10) / 10
          : undefined,
    },
    targets: { cpuPerCallRatio: '≤ 2', p99AddedMs: '≤ 1', heap: 'flat' },
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
