/**
 * The admin API's POST /v1/attempts (check and record) over loopback HTTP with keep-alive, beside,
 * in the same run and on the same SQLite store: the same check-and-record called in-process
 * (gate.decide, what the HTTP route adds nothing to), and a trivial fastify route (the floor: what
 * HTTP alone costs on this machine). The load generator runs in a process of its own
 * (bench/api-client.ts); latency is measured there, per request, as a dialer sees it.
 *
 * Also what the API's counting costs the gate's hot path (metrics and live view, LiveHub.record):
 * its cost per decision alone, and the in-process rate with and without it.
 *
 * Every attempt is to a distinct number holding a consent: all allowed, all recorded.
 *
 * Usage: node dist/bench/api.js [consents] [requests] [inFlight] [durability: full|normal|memory]
 * (memory: the memory store instead of SQLite, so that the server's CPU per request less the
 * floor's is what the route, the gate and the rules add to HTTP, no COMMIT in it)
 *
 * A second floor: a fastify route that takes the same POST (the same JSON body, parsed by fastify's
 * default parser) and answers a decision's JSON text, without the gate: the same HTTP exchange, so
 * that the server's CPU per request above it is what the route, the gate and the store add; and
 * the same route calling gate.decide (no token hook, field checks or schema): the route's own cost
 * is what POST /v1/attempts takes above it.
 *
 * BENCH_PROFILE=FILE: a CPU profile (.cpuprofile) of this process (the server) during the measured
 * POST /v1/attempts requests only, and one of the trivial route's requests (FILE with .floor.cpuprofile).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { Session } from 'node:inspector/promises';
import * as path from 'node:path';
import Fastify from 'fastify';
import { startApi } from '../src/api';
import { LiveHub } from '../src/api/live';
import { decisionJsonText } from '../src/core/decision-json';
import type { CallAttempt } from '../src/core/types';
import { bufferedDestination, createLogger } from '../src/gate/logger';
import type { DecisionEvent } from '../src/gate/service';
import type { ConsentRow } from '../src/gate/store';
import { createRuntime } from '../src/main';
import { parseConfig } from '../src/config';
import { BENCH_AT } from './fixture-config';
import { emit, latencyMs, mobileE164, mobileNational, peakRssMb, tempDir } from './util';

const DAY = 86_400_000;
const TOKEN = 'bench-token-0123456789abcdef';

/**
 * CPU time of this process's event loop (its main thread) and of all its other threads together
 * (libuv's thread pool with the WAL syncs, the SQLite checkpoint worker, V8's GC helpers), µs, from
 * /proc (Linux; empty elsewhere; Node 20 names every thread "node", so no finer split). Clock ticks,
 * 10 ms steps: read over thousands of requests. The event loop's share is the server's limit.
 */
function threadCpu(): Map<string, number> {
  const out = new Map<string, number>();
  const tick = 1e6 / 100; // USER_HZ
  let tids: string[];
  try {
    tids = fs.readdirSync('/proc/self/task');
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const us = (Number(f[11]) + Number(f[12])) * tick;
      const kind = Number(tid) === process.pid ? 'eventLoop' : 'otherThreads';
      out.set(kind, (out.get(kind) ?? 0) + us);
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/** Groups committed and writes in them; at durability full, the WAL syncs too (src/store/sqlite/wal-sync.ts). */
type GroupStats = () =>
  | { commits: number; calls: number; syncs?: number; checkpoints?: number; caughtUp?: number; walBytes?: number }
  | undefined;

/**
 * A client run, with the CPU this process (the server) spent meanwhile, per request, and (SQLite)
 * how many writes shared a COMMIT on average.
 */
async function measured(
  run: () => Promise<Record<string, unknown>>,
  groups: GroupStats = () => undefined,
): Promise<Record<string, unknown>> {
  const g0 = groups();
  const t0 = threadCpu();
  const u0 = process.resourceUsage();
  const cpu0 = process.cpuUsage();
  const r = await run();
  const cpu = process.cpuUsage(cpu0);
  const u1 = process.resourceUsage();
  const g1 = groups();
  const t1 = threadCpu();
  const per = (x: number) => Math.round((x / (r.requests as number)) * 10) / 10;
  const byThread: Record<string, number> = {};
  for (const [k, v] of t1) byThread[k] = per(v - (t0.get(k) ?? 0));
  return {
    ...r,
    serverCpuUsPerRequest: per(cpu.user + cpu.system),
    // the split, and how often the server gave the processor up (waiting) or had it taken
    serverUserUsPerRequest: per(cpu.user),
    serverSystemUsPerRequest: per(cpu.system),
    // the same CPU by thread (10 ms ticks): what the event loop itself spends is the server's limit
    serverCpuUsPerRequestByThread: byThread,
    serverVoluntarySwitchesPerRequest: per(u1.voluntaryContextSwitches - u0.voluntaryContextSwitches),
    serverInvoluntarySwitchesPerRequest: per(u1.involuntaryContextSwitches - u0.involuntaryContextSwitches),
    ...(g0 && g1
      ? { writesPerCommit: Math.round(((g1.calls - g0.calls) / (g1.commits - g0.commits)) * 100) / 100 }
      : {}),
    ...(g0?.syncs !== undefined && g1?.syncs !== undefined
      ? { writesPerSync: Math.round(((g1.calls - g0.calls) / (g1.syncs - g0.syncs)) * 100) / 100 }
      : {}),
    // the checkpoint worker meanwhile: its passes, how many copied the whole WAL (so that the next
    // commit could rewind it), and the WAL file's size at the end (it keeps its largest size)
    ...(g0?.checkpoints !== undefined && g1?.checkpoints !== undefined
      ? {
          checkpoint: {
            passes: g1.checkpoints - g0.checkpoints,
            caughtUp: (g1.caughtUp ?? 0) - (g0.caughtUp ?? 0),
            walMb: Math.round(((g1.walBytes ?? 0) / 1048576) * 10) / 10,
          },
        }
      : {}),
  };
}

/** Starts a CPU profile of this process written to `file` when the returned function is called (none without a file). */
async function startProfile(file: string | undefined): Promise<() => Promise<void>> {
  if (file === undefined || file === '') return async () => undefined;
  const inspector = new Session();
  inspector.connect();
  await inspector.post('Profiler.enable');
  await inspector.post('Profiler.setSamplingInterval', { interval: 200 });
  await inspector.post('Profiler.start');
  return async () => {
    const { profile } = await inspector.post('Profiler.stop');
    fs.writeFileSync(file, JSON.stringify(profile));
    inspector.disconnect();
  };
}

function client(
  url: string,
  method: 'GET' | 'POST',
  n: number,
  inFlight: number,
  first: number,
  token = '',
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [path.join(__dirname, 'api-client.js'), url, method, String(n), String(inFlight), String(first), token],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.on('close', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0) return reject(new Error(`api-client exited ${code}`));
      resolve(JSON.parse(last) as Record<string, unknown>);
    });
  });
}

async function main(): Promise<void> {
  const consents = Number(process.argv[2] ?? 300_000);
  const requests = Number(process.argv[3] ?? 50_000);
  const inFlight = Number(process.argv[4] ?? 8);
  const durability = process.argv[5] ?? 'full';
  const dir = tempDir('api');
  const db = path.join(dir, 'api.db');
  // the benchmarks' configuration (bench/fixture-config.ts) with the durability asked and the API
  const config = parseConfig(
    `
store: ${durability === 'memory' ? '{ driver: memory }' : `{ driver: sqlite, path: ${JSON.stringify(db)}, durability: ${durability} }`}
professionals: [{ id: acme, callerIds: ['+33162000001'] }]
campaigns:
  - { id: bench, professional: acme, purpose: prospecting, audience: consumer, dialing: manual, sector: other, categories: [energy-supply] }
defaultCampaign: { id: default, professional: acme, dialing: manual }
clock: { mode: fixed, at: ${BENCH_AT.toISOString()} }
log: { level: info, maskNumbers: true }
api: { listen: { host: 127.0.0.1, port: 0 }, token: ${TOKEN} }
`,
    'bench',
  );
  const logger = createLogger(config.log, bufferedDestination('/dev/null'));
  const rt = createRuntime(config, { logger });
  const groups: GroupStats = () => {
    const s = rt.store as {
      groupStats?: () => { commits: number; calls: number };
      syncStats?: () => { syncs: number } | undefined;
      checkpointStats?: () => { passive: number; caughtUp: number } | undefined;
    };
    const g = s.groupStats?.();
    if (!g) return undefined;
    const syncs = s.syncStats?.()?.syncs;
    const cp = s.checkpointStats?.();
    const wal = `${db}-wal`;
    return {
      ...g,
      ...(syncs !== undefined ? { syncs } : {}),
      ...(cp
        ? { checkpoints: cp.passive, caughtUp: cp.caughtUp, walBytes: fs.existsSync(wal) ? fs.statSync(wal).size : 0 }
        : {}),
    };
  };

  // consents for every number the runs call
  const session = await rt.store.beginImport('consent');
  const batch: ConsentRow[] = [];
  for (let i = 0; i < consents; i++) {
    batch.push({
      e164: mobileE164(i),
      professional: 'acme',
      categories: ['energy-supply'],
      collectedAt: new Date(BENCH_AT.getTime() - 20 * DAY),
    });
    if (batch.length === 10_000) await session.consents(batch.splice(0));
  }
  if (batch.length) await session.consents(batch.splice(0));
  await session.commit();

  const attempt = (i: number): CallAttempt => ({
    to: mobileNational(i),
    callerId: { number: '+33162000001', presentation: 'allowed' },
    at: BENCH_AT,
    campaignId: 'bench',
    source: { pbx: 'api' },
  });
  let nextNumber = 0;
  /** In-process check-and-record: `n` decisions, `inFlight` at a time, on numbers not called before. */
  const inProcess = async (n: number) => {
    const first = nextNumber;
    nextNumber += n;
    const samples: number[] = new Array(n);
    let next = 0;
    const g0 = groups();
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        for (let i = next++; i < n; i = next++) {
          const s = process.hrtime.bigint();
          const d = await rt.gate.decide(attempt(first + i), { record: true });
          if (d.verdict !== 'allow') throw new Error(`bench call blocked: ${d.reasons.map((r) => r.code).join(',')}`);
          samples[i] = Number(process.hrtime.bigint() - s);
        }
      }),
    );
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    const g1 = groups();
    return {
      decisions: n,
      inFlight,
      perSecond: Math.round(n / seconds),
      latencyMs: latencyMs(samples),
      cpuUsPerDecision: Math.round(((cpu.user + cpu.system) / n) * 10) / 10,
      ...(g0 && g1
        ? { writesPerCommit: Math.round(((g1.calls - g0.calls) / (g1.commits - g0.commits)) * 100) / 100 }
        : {}),
    };
  };

  const need = 4 * requests + 20_000;
  if (consents < need) throw new Error(`need at least ${need} consents for ${requests} requests`);

  await inProcess(5_000); // warm-up

  // the API's counting alone, per decision: LiveHub.record on a real decision
  const sample = await rt.gate.decide(attempt(nextNumber++), { record: true });
  const hub = new LiveHub(config, (n) => n);
  const e: DecisionEvent = { decision: sample, durationNs: 420_000, recorded: true };
  for (let i = 0; i < 200_000; i++) hub.record(e);
  const c0 = process.hrtime.bigint();
  const N = 2_000_000;
  for (let i = 0; i < N; i++) hub.record(e);
  const recordNs = Math.round((Number(process.hrtime.bigint() - c0) / N) * 10) / 10;

  // in-process check-and-record, without and with the API's observer, alternated (the store grows
  // as the runs go: alternating keeps that out of the comparison)
  const bare: Awaited<ReturnType<typeof inProcess>>[] = [];
  const observed: Awaited<ReturnType<typeof inProcess>>[] = [];
  for (let round = 0; round < 2; round++) {
    bare.push(await inProcess(requests / 2));
    const stop = rt.gate.observe(new LiveHub(config, (n) => n).record);
    observed.push(await inProcess(requests / 2));
    stop();
  }
  const merge = (runs: typeof bare) => ({
    decisions: runs.reduce((a, r) => a + r.decisions, 0),
    inFlight,
    perSecond: Math.round(runs.reduce((a, r) => a + r.perSecond, 0) / runs.length),
    p99Ms: Math.max(...runs.map((r) => r.latencyMs.p99)),
    runs: runs.map((r) => ({ perSecond: r.perSecond, latencyMs: r.latencyMs, writesPerCommit: r.writesPerCommit })),
    cpuUsPerDecision: Math.round((runs.reduce((a, r) => a + r.cpuUsPerDecision, 0) / runs.length) * 10) / 10,
  });
  const inProcessBare = merge(bare);
  const inProcessObserved = merge(observed);

  const server = await startApi({
    config,
    token: TOKEN,
    listen: config.api!.listen,
    gate: rt.gate,
    store: rt.store,
    clock: rt.clock,
    logger,
    adapters: [],
  });

  // the floor: a trivial fastify route on the same machine, driven the same way
  const floorApp = Fastify({ logger: false });
  floorApp.get('/floor', async () => ({ ok: true }));
  const floorUrl = await floorApp.listen({ host: '127.0.0.1', port: 0 });
  await client(`${floorUrl}/floor`, 'GET', 5_000, inFlight, 0); // warm-up
  const stopFloorProfile = await startProfile(
    process.env.BENCH_PROFILE ? process.env.BENCH_PROFILE.replace(/(\.cpuprofile)?$/, '.floor.cpuprofile') : undefined,
  );
  const floor = await measured(() => client(`${floorUrl}/floor`, 'GET', requests, inFlight, 0));
  await stopFloorProfile();
  await floorApp.close();

  // a second floor, the same HTTP exchange as POST /v1/attempts without the gate: fastify parses
  // the same JSON body (its default parser) and answers a decision's JSON text (~2 KB, as the
  // route's); the server's CPU per request over it is what the route, the gate and the store add
  const postFloorApp = Fastify({ logger: false, bodyLimit: 64 * 1024 });
  const canned = decisionJsonText(sample);
  postFloorApp.post('/floor', (req, reply) => {
    if (typeof (req.body as { to?: unknown }).to !== 'string') throw new Error('no attempt in the body');
    return reply.code(200).type('application/json; charset=utf-8').send(canned);
  });
  const postFloorUrl = await postFloorApp.listen({ host: '127.0.0.1', port: 0 });
  await client(`${postFloorUrl}/floor`, 'POST', 5_000, inFlight, 0, TOKEN); // warm-up
  const postFloor = await measured(() => client(`${postFloorUrl}/floor`, 'POST', requests, inFlight, 0, TOKEN));
  await postFloorApp.close();

  // the second floor with the gate: the same exchange, the handler deciding the attempt with
  // gate.decide (check and record) and answering its JSON text, without the API's own code (its
  // token hook, field checks, schema, error handling): what is left above it is the route's own
  // cost. Its numbers are those of the first in-process runs, called a second time (the fresh ones
  // are kept for the route): still allowed, with one attempt in their facts.
  const gateFloorApp = Fastify({ logger: false, bodyLimit: 64 * 1024 });
  gateFloorApp.post('/floor', async (req, reply) => {
    const d = await rt.gate.decide({ ...attempt(0), to: (req.body as { to: string }).to }, { record: true });
    return reply.code(200).type('application/json; charset=utf-8').send(decisionJsonText(d));
  });
  const gateFloorUrl = await gateFloorApp.listen({ host: '127.0.0.1', port: 0 });
  await client(`${gateFloorUrl}/floor`, 'POST', 5_000, inFlight, 0, TOKEN); // warm-up
  const gateFloor = await measured(
    () => client(`${gateFloorUrl}/floor`, 'POST', requests, inFlight, 5_000, TOKEN),
    groups,
  );
  await gateFloorApp.close();

  await client(`${server.url}/v1/attempts`, 'POST', 5_000, inFlight, nextNumber, TOKEN); // warm-up
  nextNumber += 5_000;
  const stopProfile = await startProfile(process.env.BENCH_PROFILE);
  const overHttp = await measured(
    () => client(`${server.url}/v1/attempts`, 'POST', requests, inFlight, nextNumber, TOKEN),
    groups,
  );
  await stopProfile();
  nextNumber += requests;
  await server.close();
  await rt.close();
  fs.rmSync(dir, { recursive: true, force: true });

  const rate = (x: Record<string, unknown>) => x.perSecond as number;
  emit({
    store: durability === 'memory' ? 'memory' : 'sqlite',
    durability: durability === 'memory' ? undefined : durability,
    consents,
    cpus: os.cpus().length,
    loadAvg: os.loadavg().map((x) => Math.round(x * 100) / 100),
    postAttemptsOverHttp: overHttp,
    inProcess: inProcessBare,
    inProcessWithApiObserver: inProcessObserved,
    trivialFastifyRoute: floor,
    postFloorFastifyRoute: postFloor,
    postFloorWithGateDecide: gateFloor,
    ratios: {
      httpToInProcess: Math.round((rate(overHttp) / inProcessBare.perSecond) * 100) / 100,
      httpToFloor: Math.round((rate(overHttp) / rate(floor)) * 100) / 100,
      httpToPostFloor: Math.round((rate(overHttp) / rate(postFloor)) * 100) / 100,
      httpCpuToPostFloorCpu:
        Math.round(((overHttp.serverCpuUsPerRequest as number) / (postFloor.serverCpuUsPerRequest as number)) * 100) /
        100,
      observedToBare: Math.round((inProcessObserved.perSecond / inProcessBare.perSecond) * 100) / 100,
      observedCpuToBareCpu:
        Math.round((inProcessObserved.cpuUsPerDecision / inProcessBare.cpuUsPerDecision) * 100) / 100,
    },
    apiCountingNsPerDecision: recordNs,
    targets: { perSecond: 5000, p99Ms: 5 },
    peakRssMb: peakRssMb(),
  });
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
