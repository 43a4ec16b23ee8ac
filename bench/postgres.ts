/**
 * Several gates on one store (issue 15): decisions/s and latency of 1 and 4 gate processes
 * (the real Gate, each as `callgate start` opens its store) on one PostgreSQL database, beside
 * pgbench's simple-update rate and per-transaction latency on the same server with the same
 * number of client connections (the floor this machine allows a PostgreSQL transaction), and the
 * same runs on one SQLite file.
 *
 * Each decision is for a number that gets ~6 calls over the run, from all the gates at once: so
 * FREQ-1 is enforced across processes all the time, and the run checks that no number holds
 * more than 4 counted attempts (overLimit must be 0) and that every number got exactly its 4.
 *
 * Two kinds of load. Closed loop: each worker starts its next decision when the last is answered.
 * oneGate and fourGates keep as many decisions in flight as pgbench has clients (BENCH_PG_POOL per
 * gate, the gates' connections: 8 at 4 gates), the issue's "same server and client count";
 * oneGateDeep and fourGatesDeep keep `inFlightPerGate` per gate (4x as many by default: bigger
 * groups, and a latency that is mostly the wait behind the bench's own decisions), beside pgbench
 * on as many clients as the gates have connections (floor) and on as many as they have decisions
 * in flight (floorSameInFlight). Open loop
 * (fourGatesAtRate): BENCH_PG_RATE decisions/s offered to the 4 gates together (default 3,000, the
 * target's rate), each due at a fixed instant whatever the answers before it, as calls come from
 * PBXs; beside pgbench -R at the same rate and clients.
 *
 * Latency: gates, per decision, in the gate process, from gate.decide() (open loop: from the
 * decision's due time) to its answer: the store's queue, the facts statement, the rules, the
 * record statement and its COMMIT. pgbench, per transaction from its logs (-l): BEGIN sent to
 * COMMIT acknowledged (with -R, from its due time: the log's schedule lag added). No timing is
 * asserted: printed beside the floor, with the ratios.
 *
 * Usage: node dist/bench/postgres.js [decisionsPerGate] [inFlightPerGate (the deep runs; default 8)]
 *   (a part of `npm run bench`; alone: `npm run bench -- --only postgres`)
 * CALLGATE_BENCH_PG_URL: the server's maintenance database (default postgres://postgres@127.0.0.1:5432/postgres).
 * BENCH_PG_POOL: connections per gate (default 2). BENCH_PG_RATE: the open-loop rate (0: no such run).
 * BENCH_PG_SQLITE=0: without the SQLite runs. BENCH_PG_ONE=0: without the 1-gate runs (and their floors).
 * BENCH_PROFILE=PREFIX: a CPU profile of each gate's measured decisions, PREFIX-<first>-g<gate>.cpuprofile.
 *
 * CPU per decision: each gate's process.cpuUsage() over its measured decisions (gateCpuUsPerDecision),
 * and the PostgreSQL server's: utime + stime (/proc/PID/stat) of the backends of the run's database
 * (pgBackendCpuUsPerDecision) and of every process of the server (pgServerCpuUsPerDecision: WAL
 * writer, checkpointer… too, and whatever else uses the server meanwhile), from 'go' to the last
 * gate's answer.
 */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { Session } from 'node:inspector/promises';
import { Client } from 'pg';
import type { Config } from '../src/config';
import type { CallAttempt } from '../src/core/types';
import { Gate } from '../src/gate/gate';
import { bufferedDestination, createLogger } from '../src/gate/logger';
import type { ContractRow, Store } from '../src/gate/store';
import { openStore } from '../src/store';
import { BENCH_AT, benchConfig } from './fixture-config';
import { emit, latencyMs, mobileE164, mobileNational, tempDir } from './util';

const ADMIN_URL = process.env.CALLGATE_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** Connections per gate (store.poolSize): few, so that each carries bigger groups (BENCH_PG_POOL to change). */
const POOL = Number(process.env.BENCH_PG_POOL ?? 2);
/** Decisions/s offered to the 4 gates together in the open-loop run (BENCH_PG_RATE; 0: no such run): the target's. */
const OFFERED = Number(process.env.BENCH_PG_RATE ?? 3000);
/** Calls per number over a run (all gates together): more than the limit of 4. */
const CALLS_PER_NUMBER = 6;

function dbUrl(name: string): string {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

async function admin(text: string): Promise<void> {
  const c = new Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}

async function sqlOn(url: string, text: string): Promise<Record<string, unknown>[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text)).rows;
  } finally {
    await c.end();
  }
}

/** utime + stime of a process, in µs (0 when it is gone or unreadable). */
function procCpuUs(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1e6) / CLK_TCK;
  } catch {
    return 0;
  }
}
const CLK_TCK = 100;

/** Every process of the PostgreSQL server (comm 'postgres'): their pids. */
function serverPids(): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (fs.readFileSync(`/proc/${d}/comm`, 'utf8').trim() === 'postgres') out.push(Number(d));
    } catch {
      // gone
    }
  }
  return out;
}

type StoreSpec = { driver: 'postgres'; url: string } | { driver: 'sqlite'; path: string };

/** The bench configuration (bench/fixture-config.ts) on the store of `s`. */
function configFor(s: StoreSpec): Config {
  const base = benchConfig(s.driver === 'sqlite' ? s.path : 'unused.db');
  return s.driver === 'postgres' ? { ...base, store: { driver: 'postgres', url: s.url, poolSize: POOL } } : base;
}

/** Opens the store as `callgate start` does. */
function open(s: StoreSpec): Store {
  const config = configFor(s);
  return openStore(config.store, { pollLocks: true }, { deadlineMs: config.gate.deadlineMs });
}

/** The numbers of a run: contracts (CONS-5) so that only the frequency limit can block. */
async function seed(s: StoreSpec, from: number, count: number): Promise<void> {
  const store = open(s);
  await store.ready?.();
  const session = await store.beginImport('contract');
  const batch: ContractRow[] = [];
  for (let i = from; i < from + count; i++) {
    batch.push({
      e164: mobileE164(i),
      professional: 'acme',
      categories: ['energy-supply'],
      start: new Date('2026-01-01T00:00:00Z'),
    });
    if (batch.length === 10_000) await session.contracts(batch.splice(0));
  }
  if (batch.length) await session.contracts(batch.splice(0));
  await session.commit();
  await store.close();
}

type GateResult = {
  decisions: number;
  wallS: number;
  samplesNs: number[];
  verdicts: Record<string, number>;
  cpuS: number;
};

/** Child: one gate process. Prints 'ready', waits for 'go', decides, prints its result as JSON. */
async function gateChild(
  spec: StoreSpec,
  gateNo: number,
  first: number,
  numbers: number,
  n: number,
  inFlight: number,
  ratePerS: number,
): Promise<void> {
  const config = configFor(spec);
  const store = open(spec);
  await store.ready?.();
  const logger = createLogger(config.log, bufferedDestination('/dev/null'));
  const gate = new Gate({ store, config, clock: { now: () => BENCH_AT, describe: 'bench' }, logger });
  // each gate walks the numbers from its own offset: every number is called by several gates
  const attemptFor = (i: number): CallAttempt => ({
    to: mobileNational(first + ((i + gateNo * 997) % numbers)),
    callerId: { number: '+33162000001', presentation: 'allowed' },
    at: BENCH_AT,
    campaignId: 'bench',
    source: { pbx: 'bench' },
  });
  // warm-up on numbers of no run (blocked: no contract), so prepared statements and JIT are ready
  for (let i = 0; i < 200; i++)
    await gate.decide({ ...attemptFor(0), to: mobileNational(9_000_000 + gateNo * 1000 + i) });
  process.stdout.write('ready\n');
  // 'go' starts the measured decisions; 'close' (after every gate said 'done') closes the store
  const told = new Map<string, () => void>();
  const heard = (word: string) => new Promise<void>((resolve) => told.set(word, resolve));
  const go = heard('go');
  const close = heard('close');
  const rl = readline.createInterface({ input: process.stdin });
  rl.on('line', (l) => told.get(l.trim())?.());
  await go;
  const samples: number[] = new Array(n);
  const verdicts: Record<string, number> = {};
  let next = 0;
  const profile = process.env.BENCH_PROFILE ? `${process.env.BENCH_PROFILE}-${first}-g${gateNo}.cpuprofile` : '';
  const inspector = profile ? new Session() : undefined;
  if (inspector) {
    inspector.connect();
    await inspector.post('Profiler.enable');
    await inspector.post('Profiler.setSamplingInterval', { interval: 200 });
    await inspector.post('Profiler.start');
  }
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  /** Decision i, due at `due`: its latency is counted from then (a late start is the gate's lag). */
  const one = async (i: number, due: bigint) => {
    const d = await gate.decide(attemptFor(i));
    samples[i] = Number(process.hrtime.bigint() - due);
    const k = d.verdict === 'allow' ? 'allow' : d.reasons.map((r) => r.code).join('+');
    verdicts[k] = (verdicts[k] ?? 0) + 1;
  };
  if (ratePerS > 0) {
    // open loop: decision i is due at t0 + i / rate whatever the answers before it (calls arriving
    // from a PBX), started on a 1 ms timer; none waits for another
    const periodNs = 1e9 / ratePerS;
    const all: Promise<void>[] = [];
    for (let i = 0; i < n;) {
      const dueNow = Math.min(n, Math.floor(Number(process.hrtime.bigint() - t0) / periodNs) + 1);
      for (; i < dueNow; i++) all.push(one(i, t0 + BigInt(Math.round(i * periodNs))));
      if (i < n) await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all(all);
  } else {
    // closed loop: `inFlight` workers, each starts its next decision when the last one is answered
    const worker = async () => {
      for (let i = next++; i < n; i = next++) await one(i, process.hrtime.bigint());
    };
    await Promise.all(Array.from({ length: inFlight }, worker));
  }
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  if (inspector) {
    const { profile: p } = await inspector.post('Profiler.stop');
    fs.writeFileSync(profile, JSON.stringify(p));
    inspector.disconnect();
  }
  process.stdout.write('done\n');
  await close;
  rl.close();
  await gate.drain();
  await store.close();
  logger.flush();
  const result: GateResult = { decisions: n, wallS, samplesNs: samples, verdicts, cpuS: (cpu.user + cpu.system) / 1e6 };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

/** Resolves once the child has written `line` on its stdout. */
function said(k: ReturnType<typeof spawn>, line: string): Promise<void> {
  return new Promise<void>((resolve) => {
    let seen = '';
    const on = (b: Buffer) => {
      seen += b.toString();
      if (seen.includes(line)) {
        k.stdout!.off('data', on);
        resolve();
      }
    };
    k.stdout!.on('data', on);
  });
}

/** Parent: `gates` child processes started together on one store. */
async function runGates(
  spec: StoreSpec,
  gates: number,
  first: number,
  perGate: number,
  inFlight: number,
  ratePerGate = 0,
) {
  const numbers = Math.ceil((gates * perGate) / CALLS_PER_NUMBER);
  await seed(spec, first, numbers);
  const kids = Array.from({ length: gates }, (_, g) =>
    spawn(
      process.execPath,
      [
        __filename,
        'gate',
        JSON.stringify(spec),
        String(g),
        String(first),
        String(numbers),
        String(perGate),
        String(inFlight),
        String(ratePerGate),
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    ),
  );
  const outputs = kids.map(
    (k) =>
      new Promise<string>((resolve, reject) => {
        let out = '';
        k.stdout.on('data', (b: Buffer) => (out += b.toString()));
        k.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`gate exited ${code}`))));
      }),
  );
  // a gate that dies (before it is ready too) ends the run: the others are stopped, and the
  // error reaches main, which drops the database (not an unhandled rejection that skips it)
  for (const o of outputs) o.catch(() => undefined);
  for (const k of kids) k.stdin.on('error', () => undefined); // 'go' to a gate that died: its exit says so
  let results: GateResult[];
  let load: number;
  let backends: number[] = [];
  let server: number[] = [];
  let pg0 = { backends: [] as number[], server: [] as number[] };
  let pg1 = pg0;
  try {
    const ready = Promise.all(kids.map((k) => said(k, 'ready\n')));
    await Promise.race([ready, Promise.all(outputs)]);
    load = os.loadavg()[0]!;
    const db = spec.driver === 'postgres' ? new URL(spec.url).pathname.slice(1) : '';
    const backendsOf = async () =>
      (
        await sqlOn(
          ADMIN_URL,
          `SELECT pid FROM pg_stat_activity WHERE datname = '${db}' AND application_name = 'callgate'`,
        )
      ).map((r) => r.pid as number);
    if (spec.driver === 'postgres') {
      backends = await backendsOf();
      server = serverPids();
      pg0 = { backends: backends.map(procCpuUs), server: server.map(procCpuUs) };
    }
    const done = Promise.all(kids.map((k) => said(k, 'done\n')));
    for (const k of kids) k.stdin.write('go\n');
    await Promise.race([done, Promise.all(outputs)]);
    // the server's CPU until the last gate's last answer (before the gates close their connections)
    if (spec.driver === 'postgres') {
      // connections the gates opened during the run count from 0 (whole lives, nearly all in the run)
      const before = new Map(backends.map((pid, i) => [pid, pg0.backends[i]!]));
      backends = await backendsOf();
      const serverNow = serverPids();
      const serverBefore = new Map(server.map((pid, i) => [pid, pg0.server[i]!]));
      pg0 = {
        backends: backends.map((pid) => before.get(pid) ?? 0),
        server: serverNow.map((pid) => serverBefore.get(pid) ?? 0),
      };
      pg1 = { backends: backends.map(procCpuUs), server: serverNow.map(procCpuUs) };
      server = serverNow;
    }
    for (const k of kids) k.stdin.write('close\n');
    results = (await Promise.all(outputs)).map((o) => JSON.parse(o.trim().split('\n').pop() as string) as GateResult);
  } catch (err) {
    for (const k of kids) k.kill();
    throw err;
  }
  const loadAfter = os.loadavg()[0]!;
  const decisions = results.reduce((s, r) => s + r.decisions, 0);
  const wallS = Math.max(...results.map((r) => r.wallS));
  const verdicts: Record<string, number> = {};
  for (const r of results) for (const [k, v] of Object.entries(r.verdicts)) verdicts[k] = (verdicts[k] ?? 0) + v;

  // FREQ-1 held across the gates: no number above 4 counted attempts, and every number got its 4
  let perNumber: number[];
  if (spec.driver === 'postgres') {
    const rows = await sqlOn(
      spec.url,
      `SELECT count(*)::int AS n FROM callgate.decisions WHERE counted AND NOT released AND e164 >= '${mobileE164(first)}' AND e164 <= '${mobileE164(first + numbers - 1)}' GROUP BY e164`,
    );
    perNumber = rows.map((r) => r.n as number);
  } else {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Database = require('better-sqlite3') as typeof import('better-sqlite3');
    const db = new Database(spec.path, { readonly: true });
    perNumber = (
      db
        .prepare(
          'SELECT count(*) AS n FROM decisions WHERE counted = 1 AND released = 0 AND e164 BETWEEN ? AND ? GROUP BY e164',
        )
        .all(mobileE164(first), mobileE164(first + numbers - 1)) as { n: number }[]
    ).map((r) => r.n);
    db.close();
  }
  return {
    gates,
    ...(ratePerGate > 0 ? { offeredPerSecond: ratePerGate * gates } : { inFlightPerGate: inFlight }),
    poolPerGate: spec.driver === 'postgres' ? POOL : undefined,
    decisions,
    wallS: Math.round(wallS * 100) / 100,
    perSecond: Math.round(decisions / wallS),
    latencyMs: latencyMs(results.flatMap((r) => r.samplesNs)),
    cpuSPerGate: results.map((r) => Math.round(r.cpuS * 100) / 100),
    gateCpuUsPerDecision: Math.round((results.reduce((s, r) => s + r.cpuS, 0) * 1e6) / decisions),
    ...(spec.driver === 'postgres'
      ? {
          pgBackends: backends.length,
          pgBackendCpuUsPerDecision: Math.round(cpuDelta(pg0.backends, pg1.backends) / decisions),
          pgServerCpuUsPerDecision: Math.round(cpuDelta(pg0.server, pg1.server) / decisions),
        }
      : {}),
    loadAvg1mBefore: Math.round(load * 100) / 100,
    loadAvg1mAfter: Math.round(loadAfter * 100) / 100,
    verdicts,
    frequency: {
      numbers,
      callsPerNumber: CALLS_PER_NUMBER,
      overLimit: perNumber.filter((n) => n > 4).length,
      withExactly4: perNumber.filter((n) => n === 4).length,
    },
  };
}

/** CPU used between two readings of the same processes (a process gone by the second counts 0). */
function cpuDelta(before: number[], after: number[]): number {
  return after.reduce((s, t, i) => s + (t > 0 ? t - (before[i] ?? 0) : 0), 0);
}

type Floor = {
  clients: number;
  seconds: number;
  /** pgbench -R: transactions due per second (open loop), as the gates' offered rate. */
  offeredPerSecond?: number;
  tps: number;
  /** Per transaction (pgbench --log: BEGIN sent to COMMIT acknowledged, client side), ms. */
  latencyMs: { p50: number; p99: number; max: number; n: number };
  loadAvg1mBefore: number;
};

/**
 * pgbench -N (simple update: UPDATE + SELECT + INSERT, one COMMIT), prepared, on a scratch
 * database, `clients` connections for `seconds`; with each transaction's latency (--log: one
 * line per transaction, its time in µs in the third column), the floor for the gates' p50/p99.
 */
function pgbench(clients: number, seconds: number, rate?: number): Floor | { error: string } {
  const name = `cg_bench_pgbench_${process.pid}`;
  const u = new URL(dbUrl(name));
  // the gates' own transport: a Unix socket folder given as ?host=… (as libpq and pg read it), or TCP
  const host = u.searchParams.get('host') ?? u.hostname;
  const args = ['-h', host, '-p', u.port || '5432', '-U', decodeURIComponent(u.username || 'postgres')];
  const logs = tempDir('pgbench-log');
  try {
    execFileSync('createdb', [...args, name], { stdio: 'ignore' });
    execFileSync('pgbench', [...args, '-i', '-q', '-s', '10', name], { stdio: 'ignore' });
    const load = os.loadavg()[0]!;
    const out = execFileSync(
      'pgbench',
      [
        ...args,
        '-N',
        '-M',
        'prepared',
        '-c',
        String(clients),
        '-j',
        String(clients),
        '-T',
        String(seconds),
        ...(rate !== undefined ? ['-R', String(rate)] : []),
        '-l',
        `--log-prefix=${path.join(logs, 'tx')}`,
        name,
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
    );
    const m = /tps = ([\d.]+)/.exec(out);
    if (!m) return { error: 'no tps in pgbench output' };
    const samplesNs: number[] = [];
    for (const f of fs.readdirSync(logs))
      for (const line of fs.readFileSync(path.join(logs, f), 'utf8').split('\n')) {
        // with -R, the sixth column is the schedule lag: latency from the transaction's due time, as the gates'
        const cols = line.split(' ');
        const us = Number(cols[2]) + (rate !== undefined ? Number(cols[5]) : 0);
        if (line !== '' && Number.isFinite(us)) samplesNs.push(us * 1000);
      }
    return {
      clients,
      seconds,
      ...(rate !== undefined ? { offeredPerSecond: rate } : {}),
      tps: Math.round(Number(m[1])),
      latencyMs: latencyMs(samplesNs),
      loadAvg1mBefore: Math.round(load * 100) / 100,
    };
  } catch (err) {
    return { error: String((err as Error).message).split('\n')[0]! };
  } finally {
    fs.rmSync(logs, { recursive: true, force: true });
    try {
      execFileSync('dropdb', [...args, '--if-exists', name], { stdio: 'ignore' });
    } catch {
      // left behind: named after this pid
    }
  }
}

async function main() {
  const perGate = Number(process.argv[2] ?? 20_000);
  const inFlight = Number(process.argv[3] ?? 8);
  const name = `cg_bench_${process.pid}`;
  await admin(`CREATE DATABASE ${name}`);
  const pg: StoreSpec = { driver: 'postgres', url: dbUrl(name) };
  const dir = tempDir('pg-sqlite');
  const sq: StoreSpec = { driver: 'sqlite', path: path.join(dir, 'callgate.db') };
  const progress = (s: string) => process.stderr.write(`bench postgres: ${s}\n`);
  try {
    const r2 = (x: number) => Math.round(x * 100) / 100;
    /** The gates beside their floor: throughput and latency, each as a ratio (gate / pgbench). */
    const beside = (g: { perSecond: number; latencyMs: { p50: number; p99: number } }, f: Floor | { error: string }) =>
      'tps' in f
        ? {
            ratioToFloor: r2(g.perSecond / f.tps),
            p50ToFloor: r2(g.latencyMs.p50 / f.latencyMs.p50),
            p99ToFloor: r2(g.latencyMs.p99 / f.latencyMs.p99),
          }
        : {};
    // the headline: as many decisions in flight as pgbench has clients (POOL per gate), beside
    // pgbench on that many clients; then `inFlight` per gate (more than the connections: bigger
    // groups, a longer wait), beside pgbench on as many clients as the gates have connections
    // and on as many as they have decisions in flight
    progress(`1 and 4 gate processes on PostgreSQL, ${POOL} in flight each…`);
    const one = process.env.BENCH_PG_ONE !== '0';
    const pg1 = one ? await runGates(pg, 1, 0, perGate, POOL) : undefined;
    const pg4 = await runGates(pg, 4, 1_000_000, perGate, POOL);
    progress(`1 and 4 gate processes on PostgreSQL, ${inFlight} in flight each…`);
    const pg1Deep = one ? await runGates(pg, 1, 3_000_000, perGate, inFlight) : undefined;
    const pg4Deep = await runGates(pg, 4, 4_000_000, perGate, inFlight);
    // the floor: pgbench for as long as the gates ran
    const secondsOf = (r: { wallS: number }) => Math.max(5, Math.min(30, Math.round(r.wallS)));
    progress(`pgbench -N, ${POOL}, ${4 * POOL}, ${inFlight} and ${4 * inFlight} clients…`);
    const none = { error: 'not run (BENCH_PG_ONE=0)' };
    const floor1 = pg1 ? pgbench(POOL, secondsOf(pg1)) : none;
    const floor4 = pgbench(4 * POOL, secondsOf(pg4));
    const floor1Deep = !pg1Deep ? none : inFlight === POOL ? floor1 : pgbench(inFlight, secondsOf(pg1Deep));
    const floor4Deep = inFlight === POOL ? floor4 : pgbench(4 * inFlight, secondsOf(pg4Deep));
    // p99 at the target's rate: the 4 gates offered OFFERED decisions/s in total (open loop, latency
    // from each decision's due time), beside pgbench offered as many transactions/s (-R) on as many clients
    let atRate: Record<string, unknown> | undefined;
    if (OFFERED > 0) {
      progress(`4 gate processes offered ${OFFERED} decisions/s, then pgbench -R ${OFFERED}…`);
      const pgR = await runGates(pg, 4, 2_000_000, perGate, inFlight, OFFERED / 4);
      const floorR = pgbench(4 * POOL, secondsOf(pgR), OFFERED);
      atRate = { ...pgR, floor: floorR, ...beside(pgR, floorR) };
    }
    let sqlite: { oneGate: unknown; fourGates: unknown } | undefined;
    if (process.env.BENCH_PG_SQLITE !== '0') {
      progress('the same on one SQLite file…');
      const sq1 = await runGates(sq, 1, 0, perGate, inFlight);
      const sq4 = await runGates(sq, 4, 1_000_000, perGate, inFlight);
      sqlite = { oneGate: sq1, fourGates: sq4 };
    }
    emit({
      postgres: {
        server: (await sqlOn(pg.url, 'SHOW server_version'))[0]?.server_version,
        synchronousCommit: (await sqlOn(pg.url, 'SHOW synchronous_commit'))[0]?.synchronous_commit,
        latency:
          'gates: per decision, in the gate process, from gate.decide() to its answer (queue in the store, facts statement, rules, record statement and its COMMIT); pgbench: per transaction, BEGIN sent to COMMIT acknowledged',
        // as many decisions in flight as pgbench has clients (the "same client count")
        oneGate: pg1 && { ...pg1, floor: floor1, ...beside(pg1, floor1) },
        fourGates: { ...pg4, floor: floor4, ...beside(pg4, floor4) },
        // `inFlight` per gate: beside pgbench on the gates' connections, and on their decisions in flight
        oneGateDeep: pg1Deep && {
          ...pg1Deep,
          floor: floor1,
          ...beside(pg1Deep, floor1),
          floorSameInFlight: floor1Deep,
          toFloorSameInFlight: beside(pg1Deep, floor1Deep),
        },
        fourGatesDeep: {
          ...pg4Deep,
          floor: floor4,
          ...beside(pg4Deep, floor4),
          floorSameInFlight: floor4Deep,
          toFloorSameInFlight: beside(pg4Deep, floor4Deep),
        },
        fourGatesAtRate: atRate,
        // each 4-gate run against the target (>= 3,000/s in total, p99 < 10 ms, 0 over the limit)
        targets: {
          fourGatesPerSecond: 3000,
          p99Ms: 10,
          overLimit: 0,
          met: Object.fromEntries(
            (
              [['fourGates', pg4], ['fourGatesDeep', pg4Deep], ...(atRate ? [['fourGatesAtRate', atRate]] : [])] as [
                string,
                { perSecond: number; latencyMs: { p99: number }; frequency: { overLimit: number } },
              ][]
            ).map(([k, r]) => [
              k,
              {
                perSecond: r.perSecond >= 3000,
                p99: r.latencyMs.p99 < 10,
                overLimit: r.frequency.overLimit === 0,
              },
            ]),
          ),
        },
      },
      sqlite,
      cpus: os.cpus().length,
    });
  } finally {
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const [, , mode, ...rest] = process.argv;
  const done =
    mode === 'gate'
      ? gateChild(
          JSON.parse(rest[0]!) as StoreSpec,
          Number(rest[1]),
          Number(rest[2]),
          Number(rest[3]),
          Number(rest[4]),
          Number(rest[5]),
          Number(rest[6]),
        )
      : main();
  done.catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
