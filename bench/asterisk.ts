/**
 * Added latency of the Asterisk path: from the instant the ARI simulator sends StasisStart to
 * the instant the adapter's `continue` request reaches it, at `ratePerS` new calls per second for
 * `durationS` seconds, with the real Gate on a temp SQLite store (every number has a consent, so
 * every call is allowed and recorded: the full check-and-record path).
 *
 * What it includes: ari-client's REST (swagger-client/shred), our event socket, the gate's facts
 * read + evaluate + atomic commit on SQLite, the CALLGATE_* variables and the subscription.
 * Caveat: the simulator runs in the same process (its CPU is in the numbers too); the network is
 * loopback.
 */
import * as path from 'node:path';
import pino, { type Logger } from 'pino';
import type { CallAttempt, Decision } from '../src/core/types';
import type { GateService } from '../src/gate/service';
import { fixedClock } from '../src/gate/clock';
import { Gate } from '../src/gate/gate';
import type { ConsentRow } from '../src/gate/store';
import { AsteriskAdapter } from '../src/pbx/asterisk/adapter';
import { asteriskConfigSchema } from '../src/pbx/asterisk/config';
import { openStore } from '../src/store';
import { PASS, shippedDialplan, USER } from '../test/sim/ari/harness';
import { AriSimulator, type CallResult } from '../test/sim/ari/server';
import { BENCH_AT, benchConfig } from './fixture-config';
import { latencyMs, mobileE164, mobileNational, peakRssMb, tempDir } from './util';

const DAY = 86_400_000;

type Phase = { gate: GateService; rest: 'direct' | 'ari-client'; logger: Logger };

/** One run: calls at the given rate through the simulator, latency StasisStart → continue. */
async function runPhase(opts: { durationS: number; ratePerS: number }, phase: Phase): Promise<Record<string, unknown>> {
  const total = Math.round(opts.durationS * opts.ratePerS);
  const sim = new AriSimulator({
    username: USER,
    password: PASS,
    dialplan: [shippedDialplan()],
    trunk: () => ({ result: 'answer', talkMs: 50 }),
  });
  sim.recordEvents = false;
  await sim.start();
  const started = new Map<string, bigint>();
  const samples: number[] = [];
  let blocked = 0;
  sim.onStasisStart = (id) => started.set(id, process.hrtime.bigint());
  sim.onRest = (method, p, id) => {
    if (!id) return;
    const t0 = started.get(id);
    if (t0 === undefined) return;
    if (method === 'POST' && p.endsWith('/continue')) {
      samples.push(Number(process.hrtime.bigint() - t0));
      started.delete(id);
    } else if (method === 'DELETE') {
      blocked++;
      started.delete(id);
    }
  };
  const adapter = new AsteriskAdapter({
    gate: phase.gate,
    config: asteriskConfigSchema.parse({
      url: sim.url,
      username: USER,
      password: PASS,
      allowContext: 'callgate-allowed',
      rest: phase.rest,
    }),
    logger: phase.logger,
  });
  await adapter.start();

  const calls: Array<Promise<CallResult>> = [];
  const t0 = Date.now();
  const cpu0 = process.cpuUsage();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor(((Date.now() - t0) / 1000) * opts.ratePerS));
      while (calls.length < due) {
        const i = calls.length;
        calls.push(
          sim.originate({
            exten: mobileNational(i),
            callerId: { number: '+33162000001' },
            vars: { CALLGATE_CAMPAIGN: 'bench' },
          }).done,
        );
      }
      if (calls.length >= total) {
        clearInterval(timer);
        resolve();
      }
    }, 2);
  });
  const results = await Promise.all(calls);
  const wallS = (Date.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await adapter.stop();
  await sim.stop();
  const lat = latencyMs(samples);
  return {
    rest: phase.rest,
    calls: total,
    allowed: results.filter((r) => r.vars.CALLGATE_VERDICT === 'allow').length,
    blocked,
    lost: total - samples.length - blocked,
    p50Ms: lat.p50,
    p99Ms: lat.p99,
    maxMs: lat.max,
    wallS: Math.round(wallS * 10) / 10,
    cpuPercent: Math.round(((cpu.user + cpu.system) / 1e6 / wallS) * 100),
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
  };
}

export async function benchAsterisk(opts: { durationS: number; ratePerS: number }): Promise<Record<string, unknown>> {
  const total = Math.round(opts.durationS * opts.ratePerS);
  const dbPath = path.join(tempDir('asterisk'), 'callgate.db');
  const config = benchConfig(dbPath);
  const store = openStore({ driver: 'sqlite', path: dbPath });
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

  // Production-like logging (one info line per decision), written to /dev/null, never stdout.
  const logger = pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: false }));
  const adapterOnly = await runPhase(opts, { gate: instantGate(), rest: 'direct', logger });
  const gate = new Gate({ store, config, clock: fixedClock(BENCH_AT), logger });
  const withGate = await runPhase(opts, { gate, rest: 'direct', logger });
  await store.close();
  return {
    bench: 'asterisk',
    what: 'added latency StasisStart sent → continue request received (ms); ARI simulator in-process on loopback',
    ratePerS: opts.ratePerS,
    durationS: opts.durationS,
    targetP99Ms: 10,
    withSqliteGate: withGate,
    adapterOnlyInstantGate: adapterOnly,
    peakRssMb: peakRssMb(),
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
