/**
 * Consent CSV import: rate and peak RSS, beside a floor. Three modes, each in its own
 * process so that the measured one does nothing else:
 *   node dist/bench/import.js generate FILE LINES
 *   node dist/bench/import.js import FILE DBFILE
 *   node dist/bench/import.js floor FILE      plain csv-parse over the same file, records
 *                                            counted and dropped: what any import with this
 *                                            one CSV engine costs at least (no line guard, no
 *                                            row checks, no store)
 * CPU seconds are printed too: on a shared host the wall time moves with the neighbours.
 */
import * as fs from 'node:fs';
import { once } from 'node:events';
import { parse } from 'csv-parse';
import { importFile } from '../src/store/csv-import';
import { SqliteStore } from '../src/store';
import { BENCH_AT } from './fixture-config';
import { emit, mobileNational, peakRssMb } from './util';

async function generate(file: string, lines: number) {
  const out = fs.createWriteStream(file);
  const write = async (s: string) => {
    if (!out.write(s)) await once(out, 'drain');
  };
  await write('number,professional,categories,collected_at,valid_until,source\n');
  let chunk = '';
  for (let i = 0; i < lines; i++) {
    const day = 1 + (i % 28);
    chunk += `${mobileNational(i)},acme,energy-supply|telecom,2026-10-${String(day).padStart(2, '0')}T09:30:00+02:00,,"web form, campaign ${i % 97}"\n`;
    if (chunk.length > 1 << 16) {
      await write(chunk);
      chunk = '';
    }
  }
  await write(chunk);
  out.end();
  await once(out, 'finish');
  emit({ file, lines, bytes: fs.statSync(file).size });
}

async function runImport(file: string, db: string) {
  const store = SqliteStore.open(db);
  const t0 = process.hrtime.bigint();
  const report = await importFile(store, 'consent', file, { now: BENCH_AT });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = cpuSeconds();
  await store.close();
  emit({
    cpuSeconds: cpu,
    lines: report.lines,
    inserted: report.inserted,
    rejected: report.rejected,
    seconds: Math.round(s * 10) / 10,
    linesPerSecond: Math.round(report.lines / s),
    peakRssMb: peakRssMb(),
    targets: { seconds: 60, peakRssMb: 512 },
  });
}

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return Math.round((u.user + u.system) / 1e5) / 10;
}

async function floor(file: string) {
  const t0 = process.hrtime.bigint();
  const parser = fs
    .createReadStream(file, { highWaterMark: 1 << 20 })
    .pipe(parse({ record_delimiter: ['\r\n', '\n'] }));
  let records = 0;
  for await (const _record of parser) records++;
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  emit({
    records,
    seconds: Math.round(s * 10) / 10,
    cpuSeconds: cpuSeconds(),
    linesPerSecond: Math.round(records / s),
    peakRssMb: peakRssMb(),
  });
}

const [mode, file, arg] = process.argv.slice(2);
(mode === 'generate' ? generate(file!, Number(arg)) : mode === 'floor' ? floor(file!) : runImport(file!, arg!)).catch(
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
