/** Small helpers shared by the benchmarks. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `callgate-bench-${prefix}-`));
}

/** Percentiles of a list of durations in ns, reported in ms with µs precision. */
export function latencyMs(samplesNs: number[]): { p50: number; p99: number; max: number; n: number } {
  const s = Float64Array.from(samplesNs).sort();
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
  const ms = (ns: number) => Math.round(ns / 1e3) / 1e3;
  return { p50: ms(at(0.5)), p99: ms(at(0.99)), max: ms(s[s.length - 1] ?? NaN), n: s.length };
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
