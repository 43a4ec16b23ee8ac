/**
 * CPU per decision of the real Gate, in process, on the memory store and on SQLite (durability
 * normal: no fsync in the figure), with a realistic mix of verdicts, so that the cost of our own
 * code (rules, audit text, chain hash, log line, ids) can be profiled (`node --cpu-prof`) and
 * compared between two builds.
 *
 * Mix, per 10 decisions: 6 allowed with consent (numbers never called before), 2 blocked
 * no_consent, 1 blocked outside_calling_hours (21:30 in Paris), 1 blocked frequency_limit (a small
 * pool of numbers already called 4 times). `inFlight` decisions at a time (a PBX sends many at
 * once). Logging: the production logger, default config (an info line per block), to /dev/null.
 *
 * Floor: in the same run, a trivial stand-in for the whole loop (an object per decision, a
 * JSON.stringify of a small record, a Map insert, one resolved promise): what the loop itself
 * costs, so the gate's figure reads as a ratio to it.
 *
 * Usage: node --max-semi-space-size=64 dist/bench/gate-cpu.js [memory|sqlite] [decisions] [inFlight]
 * BENCH_DURABILITY=full: SQLite at store.durability full (the WAL fdatasync after each group) instead of normal.
 * BENCH_PROFILE=FILE: a CPU profile (.cpuprofile) of the measured decisions only (not the seeding).
 * BENCH_DIGEST=1: decision ids are a counter and the output adds a SHA-256 of every stored audit
 * row (SQLite) and of every log line without its latency, to check that two builds write the same bytes.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { Session } from 'node:inspector/promises';
import * as path from 'node:path';
import type { CallAttempt } from '../src/core/types';
import { Gate } from '../src/gate/gate';
import { bufferedDestination, createLogger } from '../src/gate/logger';
import type { Store } from '../src/gate/store';
import { MemoryStore, SqliteStore } from '../src/store';
import { verifyChains } from '../src/store/audit-chain';
import { BENCH_AT, benchConfig } from './fixture-config';
import { emit, mobileE164, mobileNational, tempDir } from './util';

const DAY = 86_400_000;
const FREQ_POOL = 50;
/** Consented numbers: 0..CONSENTED-1; the frequency pool is the first FREQ_POOL of them. */
const CONSENTED = 200_000;
const NO_CONSENT_BASE = 5_000_000;

async function main() {
  const driver = process.argv[2] ?? 'memory';
  const n = Number(process.argv[3] ?? 50_000);
  const inFlight = Number(process.argv[4] ?? 8);
  const digest = process.env.BENCH_DIGEST === '1';
  const dir = tempDir('gate-cpu');
  const dbPath = path.join(dir, 'callgate.db');
  const config = benchConfig(dbPath);
  const logPath = path.join(dir, 'log.ndjson');
  const dest = bufferedDestination(digest ? logPath : '/dev/null');
  const logger = createLogger(config.log, dest);
  const store: Store =
    driver === 'memory'
      ? new MemoryStore()
      : SqliteStore.open(dbPath, {
          durability: (process.env.BENCH_DURABILITY as 'full' | 'normal' | undefined) ?? 'normal',
          pollLocks: true,
        });

  const session = await store.beginImport('consent');
  const rows = [];
  for (let i = 0; i < CONSENTED; i++)
    rows.push({
      e164: mobileE164(i),
      professional: 'acme',
      categories: ['energy-supply'],
      collectedAt: new Date(BENCH_AT.getTime() - (10 + (i % 300)) * DAY),
      source: `web form #${i}`,
    });
  await session.consents(rows);
  await session.commit();

  let seq = 0;
  const gate = new Gate({
    store,
    config,
    clock: { now: () => BENCH_AT, describe: 'bench' },
    logger,
    ...(digest ? { idGenerator: () => `00000000-0000-7000-8000-${String(++seq).padStart(12, '0')}` } : {}),
  });

  let fresh = FREQ_POOL;
  const attemptFor = (i: number): CallAttempt => {
    const k = i % 10;
    let to: string;
    let at = BENCH_AT.getTime() + i;
    if (k < 6) to = mobileNational(fresh++ % CONSENTED);
    else if (k < 8) to = mobileNational(NO_CONSENT_BASE + i);
    else if (k === 8) {
      to = mobileNational(fresh++ % CONSENTED);
      at += 10.5 * 3_600_000; // 21:30 in Paris
    } else to = mobileNational(i % FREQ_POOL);
    return {
      to,
      callerId: { number: '+33162000001', presentation: 'allowed' },
      at: new Date(at),
      campaignId: 'bench',
      source: { pbx: 'bench', channelId: `ch-${i}` },
    };
  };

  // the frequency pool: 4 attempts each, so that each later call to them is blocked frequency_limit
  for (let r = 0; r < 4; r++)
    for (let j = 0; j < FREQ_POOL; j++)
      await gate.decide(
        { ...attemptFor(j * 10 + 9), at: new Date(BENCH_AT.getTime() - (r + 1) * DAY) },
        { record: true },
      );

  const verdicts: Record<string, number> = {};
  const run = async (from: number, count: number) => {
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < count; i = next++) {
        const d = await gate.decide(attemptFor(from + i), { record: true });
        const key = d.verdict === 'allow' ? 'allow' : d.reasons.map((r) => r.code).join('+');
        verdicts[key] = (verdicts[key] ?? 0) + 1;
      }
    };
    await Promise.all(Array.from({ length: inFlight }, worker));
  };

  const warm = Math.min(10_000, Math.round(n / 5));
  await run(0, warm); // warm-up (JIT)
  for (const k of Object.keys(verdicts)) delete verdicts[k];
  const profile = process.env.BENCH_PROFILE;
  const inspector = profile ? new Session() : undefined;
  if (inspector) {
    inspector.connect();
    await inspector.post('Profiler.enable');
    await inspector.post('Profiler.setSamplingInterval', { interval: 200 });
    await inspector.post('Profiler.start');
  }
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await run(warm, n);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  if (inspector && profile) {
    const { profile: p } = await inspector.post('Profiler.stop');
    fs.writeFileSync(profile, JSON.stringify(p));
    inspector.disconnect();
  }

  const floor = await standIn(n, inFlight);
  const gateCpuUs = (cpu.user + cpu.system) / n;
  const out: Record<string, unknown> = {
    driver,
    decisions: n,
    inFlight,
    perSecond: Math.round(n / s),
    cpuUsPerDecision: Math.round(gateCpuUs * 10) / 10,
    floor: { cpuUsPerDecision: Math.round(floor * 100) / 100 },
    ratio: Math.round((gateCpuUs / floor) * 10) / 10,
    verdicts,
  };
  await gate.drain();
  dest.flushSync();
  if (digest) out.digest = await digestOf(store, logPath);
  await store.close();
  dest.end();
  fs.rmSync(dir, { recursive: true, force: true });
  emit(out);
}

/** The trivial loop: what deciding costs with no rules, no audit, no hash, no log. */
async function standIn(n: number, inFlight: number): Promise<number> {
  const kept = new Map<number, string>();
  let next = 0;
  const cpu0 = process.cpuUsage();
  const decide = async (i: number) => {
    const d = { id: i, verdict: i % 10 < 6 ? 'allow' : 'block', to: mobileNational(i) };
    kept.set(i, JSON.stringify(d));
    return d;
  };
  const worker = async () => {
    for (let i = next++; i < n; i = next++) await decide(i);
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / n;
}

/** SHA-256 of the stored rows (every column but the chain's random id and hashes) and of the log lines less their latency and time. */
async function digestOf(store: Store, logPath: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const h = createHash('sha256');
  for await (const batch of store.auditChain(1000))
    if (batch.kind === 'rows')
      for (const r of batch.rows) {
        const { chain: _c, prevHash: _p, rowHash: _r, ...content } = r;
        h.update(JSON.stringify(content));
      }
  out.rows = h.digest('hex');
  const v = await verifyChains(store);
  out.chainVerify = `${v.rows} rows, ${v.problems.length} problems`;
  await new Promise((r) => setTimeout(r, 200));
  const lines = fs
    .readFileSync(logPath, 'utf8')
    .split('\n')
    .map((l) =>
      l
        .replace(/"time":"[^"]*",/, '')
        .replace(/"latencyUs":\d+/, '')
        .replace(/"pid":\d+,/, ''),
    );
  out.logLines = String(lines.length);
  out.log = createHash('sha256').update(lines.join('\n')).digest('hex');
  return out;
}

if (require.main === module)
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
