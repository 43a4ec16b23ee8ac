/** Small helpers shared by the benchmarks. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `callgate-bench-${prefix}-`));
}

/** Percentiles of a list of durations in ns, reported in ms with µs precision (p999: the 99.9th). */
export function latencyMs(samplesNs: number[]): { p50: number; p99: number; p999: number; max: number; n: number } {
  const s = Float64Array.from(samplesNs).sort();
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
  const ms = (ns: number) => Math.round(ns / 1e3) / 1e3;
  return { p50: ms(at(0.5)), p99: ms(at(0.99)), p999: ms(at(0.999)), max: ms(s[s.length - 1] ?? NaN), n: s.length };
}

/** The median of a list (the mean of the middle two for an even count), NaNs left out; NaN for none. */
export function median(xs: number[]): number {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** x rounded to d decimals. */
export function round(x: number, d = 3): number {
  return Math.round(x * 10 ** d) / 10 ** d;
}

/**
 * How the PBX benchmarks make their latency and ratio figures mean something on a shared, noisy VM:
 * the stand-in and callgate run in alternated rounds (stand-in, callgate, stand-in, callgate, …),
 * each round's ratio from a pair measured a few seconds apart, and the median of the rounds quoted;
 * the first `warmupS` seconds of every phase (the simulator process and the gate's JIT warming up,
 * the first statements) are reported apart, as `warmup`, for both alike.
 * CALLGATE_BENCH_ROUNDS (default 3) and CALLGATE_BENCH_WARMUP_S (default 2) set them; `durationS` is
 * the whole time per side, split into the rounds, and the warm-up is at most a quarter of a phase.
 */
export function roundsPlan(durationS: number): { rounds: number; phaseS: number; warmupS: number } {
  const env = (name: string, dflt: number, min: number): number => {
    const raw = process.env[name];
    if (raw === undefined || raw === '') return dflt;
    const v = Number(raw);
    if (!Number.isFinite(v) || v < min)
      throw new Error(`${name} must be a number ≥ ${min} (got ${JSON.stringify(raw)})`);
    return v;
  };
  const rounds = Math.floor(env('CALLGATE_BENCH_ROUNDS', 3, 1));
  const phaseS = durationS / rounds;
  const warmupS = Math.min(env('CALLGATE_BENCH_WARMUP_S', 2, 0), phaseS / 4);
  return { rounds, phaseS, warmupS };
}

/** A ratio (or difference) measured in each round, with the median of the rounds. */
export function perRound(values: number[], d = 3): { perRound: number[]; median: number } {
  return { perRound: values.map((v) => round(v, d)), median: round(median(values), d) };
}

/** Peak resident set size of this process so far, MB. */
export function peakRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

/** A French mobile number (national form) for index i, distinct for i < 10^7. */
export function mobileNational(i: number): string {
  return `061${String(i).padStart(7, '0')}`;
}
export function mobileE164(i: number): string {
  return `+3361${String(i).padStart(7, '0')}`;
}

/** Prints the result as the last stdout line (the parent takes the last JSON line). */
export function emit(result: unknown): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** Heap in use after a full GC, MB (undefined unless node runs with --expose-gc): what a long-running gate keeps. */
export function heapAfterGcMb(): number | undefined {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return undefined;
  gc();
  return Math.round(process.memoryUsage().heapUsed / 1e5) / 10;
}
