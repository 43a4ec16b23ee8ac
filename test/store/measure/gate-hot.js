/*
 * Manual measurement (not a test, no assertions), on the BUILT code (npm run build first):
 *   node test/store/measure/gate-hot.js [decisions=100000] [rows=1000000]
 * Seeds a template DB once (rows consents + rows attempts, same data as bench/decisions.ts),
 * copies it, then drives the real Gate with record:true and splits each decision into
 * getFacts / evaluate+rest / commitDecision by timing the store calls. Prints wall and CPU
 * (user+sys of the whole process, checkpoint worker included) and the checkpointer's counters.
 * Env: CKPT='{"busyMs":50}' checkpointer options; DIST=<another build's dist folder> to compare builds (each gets its own template);
 * PRAGMAS='mmap_size=1073741824;cache_size=-262144' run on the gate's connection after open;
 * CHECKPOINT=sqlite to use SQLite's automatic checkpoint instead of the worker, =none for no checkpoint at all.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const dist = process.env.DIST || path.join(__dirname, '..', '..', '..', 'dist');
const pino = require('pino');
const { Gate } = require(path.join(dist, 'src/gate/gate'));
const { SqliteStore } = require(path.join(dist, 'src/store'));
const { BENCH_AT, benchConfig } = require(path.join(dist, 'bench/fixture-config'));
const { mobileE164, mobileNational } = require(path.join(dist, 'bench/util'));

const N = Number(process.argv[2] ?? 100000);
const ROWS = Number(process.argv[3] ?? 1000000);
const DAY = 86400000;

async function template() {
  const tag = require('node:crypto').createHash('sha1').update(dist).digest('hex').slice(0, 8);
  const file = path.join(os.tmpdir(), `callgate-gatehot-template-${ROWS}-${tag}.db`);
  if (fs.existsSync(file)) return file;
  const tmp = file + '.tmp';
  fs.rmSync(tmp, { force: true });
  const store = SqliteStore.open(tmp, { checkpoint: 'sqlite' });
  const s = await store.beginImport('consent');
  let batch = [];
  for (let i = 0; i < ROWS; i++) {
    batch.push({
      e164: mobileE164(i),
      professional: 'acme',
      categories: ['energy-supply'],
      collectedAt: new Date(BENCH_AT.getTime() - (10 + (i % 300)) * DAY),
      source: `web form #${i}`,
    });
    if (batch.length === 10000) await s.consents(batch.splice(0));
  }
  if (batch.length) await s.consents(batch);
  await s.commit();
  const ins = store.db.prepare(
    'INSERT INTO attempts (decision_id, e164, professional, campaign, at) VALUES (?, ?, ?, ?, ?)',
  );
  store.db.transaction(() => {
    for (let i = 0; i < ROWS; i++) {
      const n = i % Math.max(1, Math.floor(ROWS / 2));
      ins.run(`seed-${i}`, mobileE164(n % ROWS), 'acme', 'bench', BENCH_AT.getTime() - (1 + ((i * 7919) % 60)) * DAY);
    }
  })();
  await store.close();
  fs.renameSync(tmp, file);
  return file;
}

function pct(a, p) {
  const s = Float64Array.from(a).sort();
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
}

(async () => {
  const tpl = await template();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'callgate-gatehot-'));
  const dbPath = path.join(dir, 'callgate.db');
  fs.copyFileSync(tpl, dbPath);
  const store = SqliteStore.open(dbPath, {
    checkpoint: process.env.CHECKPOINT === 'sqlite' || process.env.CHECKPOINT === 'none' ? 'sqlite' : 'worker',
    checkpointer: process.env.CKPT ? JSON.parse(process.env.CKPT) : undefined,
  });
  if (process.env.CHECKPOINT === 'none') store.db.pragma('wal_autocheckpoint = 0');
  for (const p of (process.env.PRAGMAS || '').split(';').filter(Boolean)) store.db.pragma(p);
  const timing = { facts: [], commit: [] };

  const getFacts = store.getFacts.bind(store);
  const commitDecision = store.commitDecision.bind(store);
  store.getFacts = async (q) => {
    const s = process.hrtime.bigint();
    const f = await getFacts(q);
    timing.facts.push(Number(process.hrtime.bigint() - s));
    return f;
  };
  store.commitDecision = async (d, o) => {
    const s = process.hrtime.bigint();
    const r = await commitDecision(d, o);
    timing.commit.push(Number(process.hrtime.bigint() - s));
    return r;
  };
  const logger = pino({ level: process.env.LOG_LEVEL || 'info' }, pino.destination({ dest: '/dev/null', sync: false }));
  const gate = new Gate({
    store,
    config: benchConfig(dbPath),
    clock: { now: () => BENCH_AT, describe: 'bench' },
    logger,
  });
  const attemptFor = (i) => ({
    to: mobileNational((i * 104729) % ROWS),
    callerId: { number: '+33162000001', presentation: 'allowed' },
    at: BENCH_AT,
    campaignId: 'bench',
    source: { pbx: 'bench' },
  });
  for (let i = 0; i < 5000; i++) await gate.decide(attemptFor(i + N), { record: true });
  timing.facts.length = 0;
  timing.commit.length = 0;
  const total = [];
  const cpu0 = process.cpuUsage();
  const w0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    const t0 = process.hrtime.bigint();
    await gate.decide(attemptFor(i), { record: true });
    total.push(Number(process.hrtime.bigint() - t0));
  }
  const wall = Number(process.hrtime.bigint() - w0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const us = (ns) => (ns / 1000).toFixed(0) + ' µs';
  const show = (name, a) =>
    console.log(
      `${name.padEnd(10)} p50 ${us(pct(a, 0.5))}  p99 ${us(pct(a, 0.99))}  p99.9 ${us(pct(a, 0.999))}  max ${us(Math.max(...a))}  mean ${us(a.reduce((x, y) => x + y, 0) / a.length)}`,
    );
  console.log(`${N} decisions, ${ROWS} consents + ${ROWS} attempts, load ${os.loadavg()[0].toFixed(1)}`);
  console.log(
    `wall ${wall.toFixed(2)} s = ${(N / wall).toFixed(0)}/s; CPU user ${(cpu.user / 1e6).toFixed(2)} s sys ${(cpu.system / 1e6).toFixed(2)} s = ${(N / ((cpu.user + cpu.system) / 1e6)).toFixed(0)} decisions per CPU-second (all threads)`,
  );
  show('decide', total);
  show('getFacts', timing.facts);
  show('commit', timing.commit);
  const wal = dbPath + '-wal';
  console.log(
    `checkpointer ${JSON.stringify(store.checkpointStats())}; WAL ${fs.existsSync(wal) ? (fs.statSync(wal).size / 1048576).toFixed(1) : 0} MB before close`,
  );
  const c0 = process.hrtime.bigint();
  await store.close();
  console.log(
    `close ${(Number(process.hrtime.bigint() - c0) / 1e6).toFixed(0)} ms; WAL after close: ${fs.existsSync(wal) ? fs.statSync(wal).size : 'none'}`,
  );
  fs.rmSync(dir, { recursive: true, force: true });
})();
