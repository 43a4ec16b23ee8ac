/**
 * `npm run bench`: every performance figure of callgate, printed as JSON.
 * Each part runs in its own process so that its peak RSS and timings are its own.
 *
 *   npm run bench               full sizes (1M consents + 1M attempts, 5M-line import, PBX runs at 200 calls/s:
 *                               Asterisk 60,000 calls beside a stand-in gate, FreeSWITCH 30 s)
 *   npm run bench -- --quick    small sizes, to check the harness
 *   npm run bench -- --only decisions,import,postgres,asterisk,freeswitch,api
 *   npm run bench -- --only freeswitch --freeswitch-60k   (60,000 calls each, instead of 6,000)
 *   npm run bench -- --soak     the soak alone (bench/soak.ts): each simulator at 300 new calls/s for 10 minutes,
 *                               beside a stand-in gate run 2 minutes at the same rate; --only asterisk|freeswitch,
 *                               --soak-minutes N, or --short (12 s each, under a minute in all, to check the harness)
 *
 * For iterations on the decisions part alone, run its script directly (after npm run build), e.g.
 *   BENCH_SEED_CACHE=/tmp/seeded.db node --max-semi-space-size=64 dist/bench/decisions.js 1000000 1000000 100000 8 normal,full
 * (BENCH_SEED_CACHE keeps the seeded file between runs; see bench/decisions.ts).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tempDir } from './util';

const quick = process.argv.includes('--quick');
const onlyArg = process.argv.find((a) => a.startsWith('--only'));
const only = onlyArg
  ? (onlyArg.split('=')[1] ?? process.argv[process.argv.indexOf(onlyArg) + 1] ?? '').split(',')
  : undefined;
const want = (name: string) => !only || only.includes(name);

/** Node flags of the gate's own process (as `npm start` runs it, see README): for the runs that host a gate. */
const GATE_NODE_FLAGS = ['--max-semi-space-size=64'];

function child(script: string, args: string[], nodeFlags: string[] = []): unknown {
  const out = execFileSync(process.execPath, [...nodeFlags, path.join(__dirname, script), ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 << 20,
  });
  const lines = out.trim().split('\n').reverse();
  for (const l of lines) {
    try {
      return JSON.parse(l);
    } catch {
      /* not the result line (e.g. a library printing to stdout) */
    }
  }
  throw new Error(`${script} printed no JSON result`);
}

/** `--soak`: only the soak, per PBX, each in its own process. */
function soak(): void {
  const minutesArg = process.argv.indexOf('--soak-minutes');
  const minutes = minutesArg > 0 ? Number(process.argv[minutesArg + 1]) : 10;
  if (!(minutes > 0)) throw new Error('--soak-minutes takes a positive number');
  const short = process.argv.includes('--short');
  const seconds = short ? 12 : Math.round(minutes * 60);
  const standInSeconds = short ? 6 : Math.min(120, seconds);
  const ratePerS = 300;
  const result: Record<string, unknown> = {
    node: process.version,
    cpu: os.cpus()[0]?.model,
    gateNodeFlags: GATE_NODE_FLAGS,
    loadAverageAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
  for (const pbx of ['asterisk', 'freeswitch']) {
    if (!want(pbx)) continue;
    process.stderr.write(
      `bench: soak ${pbx}: stand-in ${standInSeconds} s, then callgate ${seconds} s, at ${ratePerS} new calls/s…\n`,
    );
    result[`soak-${pbx}`] = child(
      'soak.js',
      [pbx, String(seconds), String(ratePerS), String(standInSeconds)],
      [...GATE_NODE_FLAGS, '--expose-gc'],
    );
  }
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

function main() {
  if (process.argv.includes('--soak')) return soak();
  const result: Record<string, unknown> = {
    node: process.version,
    cpu: os.cpus()[0]?.model,
    quick,
    gateNodeFlags: GATE_NODE_FLAGS,
  };
  const progress = (s: string) => process.stderr.write(`bench: ${s}\n`);
  if (want('decisions')) {
    progress(
      'check-and-record against the SQLite store, durability normal then full, each beside its floor (seeding takes a while)…',
    );
    result.decisions = quick
      ? child('decisions.js', ['20000', '20000', '20000'], GATE_NODE_FLAGS)
      : child('decisions.js', [], GATE_NODE_FLAGS);
  }
  if (want('import')) {
    const dir = tempDir('import');
    const csv = path.join(dir, 'consents.csv');
    const lines = quick ? 200_000 : 5_000_000;
    progress(`generating a ${lines}-line consent CSV…`);
    const gen = child('import.js', ['generate', csv, String(lines)]);
    progress('importing it…');
    const imported = child('import.js', ['import', csv, path.join(dir, 'import.db')]) as {
      seconds: number;
      cpuSeconds: number;
    };
    progress('the floor: plain csv-parse over the same file…');
    const floor = child('import.js', ['floor', csv]) as { seconds: number; cpuSeconds: number };
    result.import = {
      generated: gen,
      ...imported,
      floor,
      // how many times the floor the import takes (1.0 = as fast as parsing the CSV alone)
      ratioToFloor: {
        seconds: Math.round((imported.seconds / floor.seconds) * 100) / 100,
        cpu: Math.round((imported.cpuSeconds / floor.cpuSeconds) * 100) / 100,
      },
    };
    fs.rmSync(dir, { recursive: true, force: true });
  }
  if (want('postgres')) {
    progress('several gate processes on one PostgreSQL database (and on one SQLite file), beside pgbench…');
    result.postgres = quick
      ? child('postgres.js', ['2000', '8'], GATE_NODE_FLAGS)
      : child('postgres.js', [], GATE_NODE_FLAGS);
  }
  for (const pbx of ['asterisk', 'freeswitch']) {
    if (!want(pbx)) continue;
    if (!fs.existsSync(path.join(__dirname, `${pbx}.js`))) {
      result[pbx] = { skipped: `bench/${pbx}.ts not built` };
      continue;
    }
    // asterisk: 60,000 calls through callgate (and 60 s of a stand-in gate beside it);
    // freeswitch: 6,000 calls through callgate and as many through its stand-in, 60,000 each with --freeswitch-60k
    const seconds = quick ? 3 : pbx === 'asterisk' ? 300 : process.argv.includes('--freeswitch-60k') ? 300 : 30;
    progress(`${pbx}: added latency at 200 new calls/s for ${seconds} s…`);
    // --expose-gc: heap after a full GC before and after the calls (what calls leave behind)
    result[pbx] =
      pbx === 'freeswitch'
        ? Object.fromEntries(
            ['full', 'normal'].map((durability) => {
              process.env.CALLGATE_BENCH_DURABILITY = durability;
              return [durability, child('pbx.js', [pbx, String(seconds), '200'], [...GATE_NODE_FLAGS, '--expose-gc'])];
            }),
          )
        : child('pbx.js', [pbx, String(seconds), '200'], [...GATE_NODE_FLAGS, '--expose-gc']);
  }
  if (want('api')) {
    progress('admin API: POST /v1/attempts over loopback HTTP, in-process and a trivial fastify route…');
    // at the default durability (full: a COMMIT survives a power cut), then at normal
    result.api = Object.fromEntries(
      ['full', 'normal'].map((durability) => [
        durability,
        quick
          ? child('api.js', ['60000', '10000', '8', durability], GATE_NODE_FLAGS)
          : child('api.js', ['230000', '50000', '8', durability], GATE_NODE_FLAGS),
      ]),
    );
  }
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

main();
