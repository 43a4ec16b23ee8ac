/**
 * Added latency of the FreeSWITCH path: from the instant the simulated `socket` app's TCP connection
 * to the gate is established to the instant the gate's `sendmsg … execute transfer` reaches it, at
 * `ratePerS` new calls per second for `durationS` seconds, with the real Gate on a temp SQLite store
 * (every number has a consent, so every call is allowed and recorded: the full check-and-record path).
 *
 * Includes: esl's connect/filter/event set-up round trips, the channel-data parse, the gate's facts
 * read + evaluate + atomic commit on SQLite, the five `set` and the `sched_cancel` round trips.
 * Caveat: the simulator runs in the same process (its CPU is in the numbers too); loopback network;
 * shipped dialplan in synchronous `full` mode (the async mode would add the 20 ms park ticks of a real
 * FreeSWITCH after the command arrives, which this measure does not include by construction).
 */
import * as path from 'node:path';
import pino from 'pino';
import { fixedClock } from '../src/gate/clock';
import { Gate } from '../src/gate/gate';
import type { ConsentRow } from '../src/gate/store';
import { createFreeswitchAdapter } from '../src/pbx/freeswitch';
import { freeswitchConfigSchema } from '../src/pbx/freeswitch/config';
import { openStore } from '../src/store';
import { loadDialplan } from '../test/sim/esl/dialplan';
import { EslSimulator, type CallRecord } from '../test/sim/esl/simulator';
import { freePort, SHIPPED_DIALPLAN } from '../test/e2e/freeswitch-helpers';
import { BENCH_AT, benchConfig } from './fixture-config';
import { latencyMs, mobileE164, mobileNational, peakRssMb, tempDir } from './util';

export async function benchFreeswitch(opts: { durationS: number; ratePerS: number }): Promise<Record<string, unknown>> {
  const total = Math.round(opts.durationS * opts.ratePerS);
  const dir = tempDir('freeswitch');
  const config = benchConfig(path.join(dir, 'callgate.db'));
  const store = openStore({ driver: 'sqlite', path: path.join(dir, 'callgate.db') });
  const imp = await store.beginImport('consent');
  const rows: ConsentRow[] = Array.from({ length: total }, (_, i) => ({ e164: mobileE164(i), professional: 'acme', categories: [], collectedAt: new Date(BENCH_AT.getTime() - 30 * 86_400_000) }));
  await imp.consents(rows);
  await imp.commit();
  const logger = pino({ level: 'warn' });
  const gate = new Gate({ store, config, clock: fixedClock(BENCH_AT), logger });
  const port = await freePort();
  const sim = new EslSimulator({ dialplan: loadDialplan(SHIPPED_DIALPLAN, { callgate_socket: `127.0.0.1:${port}` }), callee: () => ({ answerAfterMs: 10, talkMs: 50 }) });
  const fsConfig = freeswitchConfigSchema.parse({ allowContext: 'callgate-allowed', listen: { host: '127.0.0.1', port } });
  const adapter = createFreeswitchAdapter({ gate, config: fsConfig, logger });
  await adapter.start();

  const done: Promise<CallRecord>[] = [];
  const t0 = performance.now();
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / opts.ratePerS;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    done.push(sim.placeCall({ to: mobileNational(i), context: 'callgate-outbound', callerIdNumber: '0162000001', variables: { callgate_campaign: 'bench' } }).done);
  }
  const offeredS = (performance.now() - t0) / 1000;
  const recs = await Promise.all(done);
  const samples: number[] = [];
  let transferred = 0;
  for (const r of recs) {
    const s = r.sockets[0];
    if (r.transfers.length === 1) transferred++;
    if (s?.releaseAt !== undefined) samples.push((s.releaseAt - s.connectedAt) * 1e6);
  }
  await adapter.stop();
  await sim.close();
  await store.close();
  return {
    what: 'socket TCP connect → transfer command received (ms), shipped dialplan (sync full), real Gate on SQLite',
    ratePerS: opts.ratePerS,
    durationS: opts.durationS,
    calls: total,
    offeredRatePerS: Math.round((total / offeredS) * 10) / 10,
    transferred,
    lost: total - recs.length,
    latency: latencyMs(samples),
    target: 'p99 < 10 ms',
    peakRssMb: peakRssMb(),
  };
}
