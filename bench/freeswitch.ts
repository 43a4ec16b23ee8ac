/**
 * Added latency of the FreeSWITCH path: from the instant the simulated `socket` app's TCP connection
 * to the gate is established to the instant the gate's `sendmsg … execute transfer` reaches it, at
 * `ratePerS` new calls per second for `durationS` seconds, with the real Gate on a temp SQLite store
 * (every number has a consent, so every call is allowed and recorded: the full check-and-record path).
 *
 * The Event Socket simulator runs in a CHILD PROCESS (src/sim/esl/child.ts), as a real FreeSWITCH
 * runs beside the gate: its CPU is not in the gate's event loop. Both timestamps are taken in the
 * child. Loopback network; shipped dialplan in synchronous `full` mode (the async mode would add the
 * 20 ms park ticks of a real FreeSWITCH after the command arrives, not included by construction).
 *
 * Includes: esl's connect/filter/event set-up round trips, the channel-data parse, the gate's facts
 * read + evaluate + atomic commit on SQLite, the `set`/`sched_cancel` batch and the `transfer`.
 */
import { fork } from 'node:child_process';
import * as os from 'node:os';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bufferedDestination, createLogger } from '../src/gate/logger';
import { fixedClock } from '../src/gate/clock';
import { Gate } from '../src/gate/gate';
import type { ConsentRow } from '../src/gate/store';
import { createFreeswitchAdapter, type CallTiming } from '../src/pbx/freeswitch';
import { freeswitchConfigSchema } from '../src/pbx/freeswitch/config';
import { openStore } from '../src/store';
import { freePort } from '../test/e2e/freeswitch-helpers';
import { SIM_EXEC_ARGV, type ChildResult, type ChildRun } from '../src/sim/esl/child';
import { BENCH_AT, benchConfig } from './fixture-config';
import { heapAfterGcMb, latencyMs, mobileE164, peakRssMb, tempDir } from './util';

/** The simulator process: forked, ready, then one run. */
async function runSimulatorProcess(run: ChildRun): Promise<ChildResult> {
  const child = fork(path.join(__dirname, '..', 'test', 'sim', 'esl', 'child.js'), [], {
    execArgv: SIM_EXEC_ARGV,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    let result: ChildResult | undefined;
    child.on('message', (m: { type: string }) => {
      if (m.type === 'ready') child.send(run);
      else if (m.type === 'result') result = m as ChildResult;
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      result ? resolve(result) : reject(new Error(`simulator process exited with ${code} and no result`)),
    );
  });
}

export async function benchFreeswitch(opts: { durationS: number; ratePerS: number }): Promise<Record<string, unknown>> {
  const total = Math.round(opts.durationS * opts.ratePerS);
  const dir = tempDir('freeswitch');
  const config = benchConfig(path.join(dir, 'callgate.db'));
  const store = openStore({ driver: 'sqlite', path: path.join(dir, 'callgate.db') }, { pollLocks: true });
  const imp = await store.beginImport('consent');
  const rows: ConsentRow[] = Array.from({ length: total }, (_, i) => ({
    e164: mobileE164(i),
    professional: 'acme',
    categories: [],
    collectedAt: new Date(BENCH_AT.getTime() - 30 * 86_400_000),
  }));
  await imp.consents(rows);
  await imp.commit();
  // Production-like logging (the default config: an info line per blocked call, buffered), written to /dev/null.
  const logger = createLogger(config.log, bufferedDestination('/dev/null'));
  const gate = new Gate({ store, config, clock: fixedClock(BENCH_AT), logger });
  const port = await freePort();
  const fsConfig = freeswitchConfigSchema.parse({
    allowContext: 'callgate-allowed',
    listen: { host: '127.0.0.1', port },
  });
  // two arrays of numbers, not the timing objects: what the bench keeps must not look like what the gate keeps
  const decideMs: number[] = [];
  const releaseMs: number[] = [];
  const onCall = (t: CallTiming) => {
    decideMs.push(t.decideMs);
    releaseMs.push(t.releaseMs);
  };
  const adapter = createFreeswitchAdapter({ gate, config: fsConfig, logger, onCall });
  await adapter.start();

  const heapBefore = heapAfterGcMb();
  const cpu0 = process.cpuUsage();
  const sim = await runSimulatorProcess({
    type: 'run',
    socket: `127.0.0.1:${port}`,
    durationS: opts.durationS,
    ratePerS: opts.ratePerS,
    to: { prefix: '061', digits: 7 },
    callerIdNumber: '0162000001',
    variables: { callgate_campaign: 'bench' },
    callee: { answerAfterMs: 10, talkMs: 50 },
  });
  const cpu = process.cpuUsage(cpu0);
  const heapAfter = heapAfterGcMb();
  await adapter.stop();
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
  const perCall = (us: number) => Math.round(us / Math.max(1, decideMs.length)) / 1000;
  return {
    what: 'socket TCP connect → transfer command received (ms), shipped dialplan (sync full), real Gate on SQLite; simulator in a child process',
    ratePerS: opts.ratePerS,
    durationS: opts.durationS,
    calls: total,
    offeredRatePerS: sim.offeredRatePerS,
    transferred: sim.transferred,
    lost: total - sim.samples.length,
    hangupCauses: sim.hangupCauses,
    latency: latencyMs(sim.samples.map((ms) => ms * 1e6)),
    phases: Object.fromEntries(Object.entries(sim.phases).map(([k, v]) => [k, latencyMs(v.map((ms) => ms * 1e6))])),
    maxLatencyMsBySecond: sim.maxBySecond,
    gateSide: {
      decide: latencyMs(decideMs.map((ms) => ms * 1e6)),
      release: latencyMs(releaseMs.map((ms) => ms * 1e6)),
    },
    cpuMsPerCall: {
      gate: perCall(cpu.user + cpu.system),
      simulator: Math.round(((sim.cpuMs.user + sim.cpuMs.system) / Math.max(1, total)) * 1000) / 1000,
    },
    target: 'p99 < 10 ms',
    loadAverage: os.loadavg().map((l: number) => Math.round(l * 100) / 100),
    peakRssMb: peakRssMb(),
    heapAfterGcMb: { before: heapBefore, after: heapAfter },
  };
}
