/**
 * Consent CSV import: rate and peak RSS. Two modes so the measured process
 * does nothing but the import:
 *   node dist/bench/import.js generate FILE LINES
 *   node dist/bench/import.js import FILE DBFILE
 */
import * as fs from 'node:fs';
import { once } from 'node:events';
import { importFile } from '../src/store/csv-import';
import { SqliteStore } from '../src/store';
import { BENCH_AT } from './fixture-config';
import { walBufferStatus } from '../src/store/sqlite/walbuf';
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
  const store = SqliteStore.open(db, { walBuffer: process.env.BENCH_WALBUF !== 'off' });
  const t0 = process.hrtime.bigint();
  const report = await importFile(store, 'consent', file, { now: BENCH_AT });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  await store.close();
  emit({
    lines: report.lines,
    inserted: report.inserted,
    rejected: report.rejected,
    seconds: Math.round(s * 10) / 10,
    linesPerSecond: Math.round(report.lines / s),
    peakRssMb: peakRssMb(),
    walBuffer: walBufferStatus()?.active ?? false,
    targets: { seconds: 60, peakRssMb: 512 },
  });
}

const [mode, file, arg] = process.argv.slice(2);
(mode === 'generate' ? generate(file!, Number(arg)) : runImport(file!, arg!)).catch((err) => {
  console.error(err);
  process.exit(1);
});
