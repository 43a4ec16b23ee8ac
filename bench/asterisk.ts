/**
 * Added latency of the Asterisk path: from the instant the ARI simulator sends StasisStart to
 * the instant the adapter's `continue` request reaches it, at `ratePerS` new calls per second for
 * `durationS` seconds, with the real Gate on a temp SQLite store (every number has a consent, so
 * every call is allowed and recorded: the full check-and-record path).
 *
 * What it includes: ari-client's REST (swagger-client/shred), our event socket, the gate's facts
 * read + evaluate + atomic commit on SQLite, the CALLGATE_* variables and the subscription.
 * The simulator runs in its own process (test/sim/ari/child.ts), like a real Asterisk, and measures
 * the latency on its own clock; the network is loopback. Two phases: an instant gate (what the
 * adapter and ARI transport add) and the real Gate on SQLite.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as os from 'node:os';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from 'pino';
import { bufferedDestination, createLogger } from '../src/gate/logger';
import type { CallAttempt, Decision } from '../src/core/types';
import type { GateService } from '../src/gate/service';
import { fixedClock } from '../src/gate/clock';
import { Gate } from '../src/gate/gate';
import type { ConsentRow } from '../src/gate/store';
import { AsteriskAdapter } from '../src/pbx/asterisk/adapter';
import { asteriskConfigSchema } from '../src/pbx/asterisk/config';
import { openStore } from '../src/store';
import { PASS, USER } from '../test/sim/ari/harness';
import { CHILD_ENTRY, SIM_EXEC_ARGV, type ChildRunResult } from '../test/sim/ari/child';
import { BENCH_AT, benchConfig } from './fixture-config';
import { heapAfterGcMb, latencyMs, mobileE164, peakRssMb, tempDir } from './util';
import { fakeFailModeDecision } from '../test/gate/fake-fail-mode';

const DAY = 86_400_000;

type Phase = { gate: GateService; rest: 'direct' | 'ari-client'; logger: Logger };

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

/** One run: calls at the given rate through the simulator, latency StasisStart → continue measured by the simulator. */
async function runPhase(opts: { durationS: number; ratePerS: number }, phase: Phase): Promise<Record<string, unknown>> {
  const total = Math.round(opts.durationS * opts.ratePerS);
  const { url, child } = await startChild();
  const adapter = new AsteriskAdapter({
    gate: phase.gate,
    config: asteriskConfigSchema.parse({
      url,
      username: USER,
      password: PASS,
      allowContext: 'callgate-allowed',
      rest: phase.rest,
    }),
    logger: phase.logger,
  });
  await adapter.start();
  const heapBefore = heapAfterGcMb();
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  const res = await new Promise<ChildRunResult>((resolve) => {
    child.once('message', (m: { result: ChildRunResult }) => resolve(m.result));
    child.send({ cmd: 'run', total, ratePerS: opts.ratePerS });
  });
  const wallS = (Date.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const heapAfter = heapAfterGcMb();
  await adapter.stop();
  child.send({ cmd: 'stop' });
  await new Promise((r) => child.once('exit', r));
  const lat = latencyMs(res.samples);
  return {
    rest: phase.rest,
    calls: res.calls,
    allowed: res.allowed,
    blocked: res.blocked,
    lost: res.lost,
    p50Ms: lat.p50,
    p99Ms: lat.p99,
    maxMs: lat.max,
    wallS: Math.round(wallS * 10) / 10,
    gateSideCpuMsPerCall: Math.round(((cpu.user + cpu.system) / 1000 / total) * 100) / 100,
    simulatorCpuMsPerCall: res.simCpuMsPerCall,
    heapAfterGcMb: { before: heapBefore, after: heapAfter },
  };
}

/** A gate that allows at once: isolates what the adapter, ari transport and simulator add. */
function instantGate(): GateService {
  let n = 0;
  return {
    clock: fixedClock(BENCH_AT),
    async decide(a: CallAttempt): Promise<Decision> {
      return {
        id: `i${++n}`,
        verdict: 'allow',
        reasons: [],
        tags: [],
        basis: 'consent',
        source: a.source,
      } as unknown as Decision;
    },
    async recordOutcome(): Promise<void> {},
    failModeDecision: fakeFailModeDecision,
  };
}

export async function benchAsterisk(opts: { durationS: number; ratePerS: number }): Promise<Record<string, unknown>> {
  const total = Math.round(opts.durationS * opts.ratePerS);
  const dir = tempDir('asterisk');
  const dbPath = path.join(dir, 'callgate.db');
  const config = benchConfig(dbPath);
  const store = openStore(
    { driver: 'sqlite', path: dbPath, walBuffer: process.env.BENCH_WALBUF !== 'off' },
    { pollLocks: true },
  );
  const session = await store.beginImport('consent');
  const rows: ConsentRow[] = [];
  for (let i = 0; i < total; i++) {
    rows.push({
      e164: mobileE164(i),
      professional: 'acme',
      categories: [],
      collectedAt: new Date(BENCH_AT.getTime() - 30 * DAY),
    });
    if (rows.length === 10_000) await session.consents(rows.splice(0));
  }
  if (rows.length) await session.consents(rows.splice(0));
  await session.commit();

  // Production-like logging (the default config: an info line per blocked call), written to /dev/null, never stdout.
  const logger = createLogger(config.log, bufferedDestination('/dev/null'));
  const adapterOnly = await runPhase(opts, { gate: instantGate(), rest: 'direct', logger });
  const gate = new Gate({ store, config, clock: fixedClock(BENCH_AT), logger });
  const withGate = await runPhase(opts, { gate, rest: 'direct', logger });
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return {
    bench: 'asterisk',
    what: 'added latency StasisStart sent → continue request received (ms), measured by the ARI simulator (own process, loopback)',
    ratePerS: opts.ratePerS,
    durationS: opts.durationS,
    targetP99Ms: 10,
    withSqliteGate: withGate,
    adapterOnlyInstantGate: adapterOnly,
    peakRssMb: peakRssMb(),
    loadAverage1m: Math.round(os.loadavg()[0]! * 10) / 10,
    cpus: os.cpus().length,
  };
}

if (require.main === module) {
  const [d, r] = process.argv.slice(2);
  benchAsterisk({ durationS: Number(d ?? 30), ratePerS: Number(r ?? 200) }).then(
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
