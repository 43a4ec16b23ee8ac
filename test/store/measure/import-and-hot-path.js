/*
 * Manual measurement (not a test, no assertions): node test/store/measure/import-and-hot-path.js [lines] [stage]
 *   stage = all | parse | import | hot
 * - parse: csv-parse + quote guard alone, then normalizeNumber alone, on the generated file
 * - import: importFile into a fresh SQLite file: lines/s and peak RSS
 * - hot: getFacts + commitDecision latency with 1M consents and 1M attempts in the DB
 * Loads the TypeScript sources through typescript.transpileModule (no build step).
 */
const fs = require('node:fs');
const { performance } = require('node:perf_hooks');
const { setInterval, clearInterval } = require('node:timers');
const os = require('node:os');
const path = require('node:path');
const ts = require('typescript');
require.extensions['.ts'] = (module, filename) => {
  const out = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    fileName: filename,
  });
  module._compile(out.outputText, filename);
};
const src = path.join(__dirname, '..', '..', '..', 'src');
const { importFile } = require(path.join(src, 'store/csv-import.ts'));
const { SqliteStore } = require(path.join(src, 'store/sqlite/sqlite-store.ts'));
const { normalizeNumber } = require(path.join(src, 'core/numbers.ts'));
const { parse } = require('csv-parse');

const LINES = Number(process.argv[2] ?? 500000);
const STAGE = process.argv[3] ?? 'all';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'callgate-measure-'));
let peak = 0;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
const mb = (b) => (b / 1048576).toFixed(0) + ' MB';

function makeCsv(file, n) {
  const fd = fs.openSync(file, 'w');
  fs.writeSync(fd, 'number,professional,categories,collected_at,valid_until,slot,source,withdrawn_at,automated\n');
  let buf = [];
  for (let i = 0; i < n; i++) {
    const num = '06' + String(10000000 + ((i * 7919) % 89999999)).padStart(8, '0');
    const day = String(1 + (i % 28)).padStart(2, '0');
    buf.push(`${num},acme,energy|isolation,2026-09-${day}T10:00:00Z,2027-03-01,,"web, form",,yes`);
    if (buf.length === 10000) {
      fs.writeSync(fd, buf.join('\n') + '\n');
      buf = [];
    }
  }
  if (buf.length) fs.writeSync(fd, buf.join('\n') + '\n');
  fs.closeSync(fd);
}

async function parseOnly(file) {
  let t = performance.now();
  let n = 0;
  const parser = fs.createReadStream(file, { highWaterMark: 1 << 20 }).pipe(
    parse({
      bom: true,
      record_delimiter: ['\r\n', '\n'],
      relax_column_count: true,
      skip_empty_lines: true,
      skip_records_with_error: true,
      info: true,
    }),
  );
  const nums = [];
  for await (const { record } of parser) {
    n++;
    if (nums.length < 200000) nums.push(record[0]);
  }
  const parseS = (performance.now() - t) / 1000;
  console.log(
    `csv-parse alone (info:true, for await): ${n} records in ${parseS.toFixed(2)} s = ${(n / parseS).toFixed(0)} records/s`,
  );
  t = performance.now();
  for (const x of nums) normalizeNumber(x);
  const normS = (performance.now() - t) / 1000;
  console.log(
    `normalizeNumber alone: ${nums.length} in ${normS.toFixed(2)} s = ${(nums.length / normS).toFixed(0)} numbers/s`,
  );
}

async function importRun(file) {
  const store = SqliteStore.open(path.join(dir, 'import.db'));
  peak = process.memoryUsage().rss;
  const cpu0 = process.cpuUsage();
  const t = performance.now();
  const report = await importFile(store, 'consent', file, { now: new Date(), engine: process.env.ENGINE || 'builtin' });
  const s = (performance.now() - t) / 1000;
  console.log(
    `importFile consent (${process.env.ENGINE || 'builtin'}): ${report.lines} lines (${report.imported} imported, ${report.rejected} rejected) in ${s.toFixed(2)} s = ${(report.lines / s).toFixed(0)} lines/s wall; CPU ${((process.cpuUsage(cpu0).user + process.cpuUsage(cpu0).system) / 1e6).toFixed(2)} s = ${(report.lines / ((process.cpuUsage(cpu0).user + process.cpuUsage(cpu0).system) / 1e6)).toFixed(0)} lines per CPU-second; peak RSS ${mb(peak)}`,
  );
  await store.close();
}

function pct(a, p) {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

async function hot() {
  const file = path.join(dir, 'hot.db');
  const store = SqliteStore.open(file);
  const db = store.db;
  const N = Number(process.env.HOT_ROWS || 1000000);
  if (process.env.NO_AUTOCHECKPOINT) db.pragma('wal_autocheckpoint = 0');
  let t = performance.now();
  const insC = db.prepare(
    "INSERT INTO consents (e164, professional, categories, collected_at, valid_until, automated) VALUES (?, 'acme', 'energy', ?, NULL, 1)",
  );
  const insA = db.prepare(
    "INSERT INTO attempts (decision_id, e164, professional, campaign, at) VALUES (?, ?, 'acme', 'c1', ?)",
  );
  const base = Date.UTC(2026, 10, 1);
  db.transaction(() => {
    for (let i = 0; i < N; i++) {
      const e = '+336' + String(10000000 + ((i * 7919) % 89999999)).padStart(8, '0');
      insC.run(e, base - 86400000 * 30);
      insA.run(
        'seed-' + i,
        '+337' + String(10000000 + ((i * 104729) % 89999999)).padStart(8, '0'),
        base + (i % 29) * 86400000,
      );
    }
  })();
  console.log(
    `seeded ${N} consents + ${N} attempts (autocheckpoint ${db.pragma('wal_autocheckpoint', { simple: true })}) in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );
  const windowStart = new Date(base);
  const lat = [];
  const facts = [];
  const commit = [];
  for (let i = 0; i < 30000; i++) {
    const k = (i * 31337) % N;
    const e164 =
      i % 2
        ? '+336' + String(10000000 + ((k * 7919) % 89999999)).padStart(8, '0')
        : '+337' + String(10000000 + ((k * 104729) % 89999999)).padStart(8, '0');
    const at = new Date(base + 29 * 86400000 + i);
    const t0 = process.hrtime.bigint();
    const f = await store.getFacts({ e164, professional: 'acme', at, windowStart });
    const t1 = process.hrtime.bigint();
    const d = {
      id: 'm-' + i,
      verdict: f.recentAttempts.length < 4 ? 'allow' : 'block',
      reasons: [],
      tags: ['basis:consent'],
      regime: 'consent',
      basis: 'consent',
      at,
      callee: {
        e164,
        territory: 'FR',
        timeZone: 'Europe/Paris',
        timeZones: ['Europe/Paris'],
        localTime: '2026-11-30T11:00:00.000+01:00',
        zoneSource: 'number',
      },
      callerId: { number: '0162000000', e164: '+33162000000', presentation: 'allowed' },
      campaign: { id: 'c1', professional: 'acme', dialing: 'manual', purpose: 'prospecting' },
      rules: [
        { rule: 'FREQ-1', outcome: 'pass' },
        { rule: 'TIME-3', outcome: 'pass' },
        { rule: 'CONS-1', outcome: 'pass' },
      ],
      monitorOnly: false,
      source: { pbx: 'bench' },
    };
    await store.commitDecision(d, { recordAttempt: true, windowStart, maxAttempts: 4 });
    const t2 = process.hrtime.bigint();
    facts.push(Number(t1 - t0) / 1e6);
    commit.push(Number(t2 - t1) / 1e6);
    lat.push(Number(t2 - t0) / 1e6);
  }
  const show = (name, a) =>
    console.log(
      `${name}: p50 ${pct(a, 50).toFixed(3)} ms, p99 ${pct(a, 99).toFixed(3)} ms, max ${Math.max(...a).toFixed(3)} ms`,
    );
  show('getFacts', facts);
  show('commitDecision', commit);
  show('getFacts + commitDecision', lat);
  await store.close();
  console.log(`db file ${mb(fs.statSync(file).size)}; max RSS ${mb(process.resourceUsage().maxRSS * 1024)}`);
}

(async () => {
  console.log(`node ${process.version}, ${os.cpus().length} CPU ${os.cpus()[0].model}`);
  const csv = path.join(dir, 'consents.csv');
  if (STAGE !== 'hot') {
    const t = performance.now();
    makeCsv(csv, LINES);
    console.log(
      `generated ${LINES} lines (${mb(fs.statSync(csv).size)}) in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );
  }
  if (STAGE === 'all' || STAGE === 'parse') await parseOnly(csv);
  if (STAGE === 'all' || STAGE === 'import') await importRun(csv);
  if (STAGE === 'all' || STAGE === 'hot') await hot();
  clearInterval(sampler);
  fs.rmSync(dir, { recursive: true, force: true });
})();
