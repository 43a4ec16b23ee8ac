/**
 * The gate on PostgreSQL when the database fails (issue 15.5): stopped, silent, slow, or the
 * connection cut in the middle of a statement. The gate answers with its failMode
 * (gate_unavailable) within its deadline, says why in the log, and decides normally again by
 * itself once the database is back. No allowed call is ever left without its recorded attempt,
 * and no attempt is left counted for a call the PBX was told not to place.
 *
 * The failures are made by a TCP proxy between the gate and the shared server (never stopped).
 */
import { parseConfig } from '../../src/config';
import type { CallAttempt, Decision } from '../../src/core/types';
import { createLogger } from '../../src/gate/logger';
import { createRuntime, type Runtime } from '../../src/main';
import type { PostgresStore } from '../../src/store/postgres/postgres-store';
import { createTestDb, sql, truncateAll, type TestDb } from './pg-db';
import { TcpProxy } from './tcp-proxy';

const SECRET = 'pr0xy-S3cret';
const DEADLINE = 600;
const AT = new Date('2026-12-01T10:00:00Z'); // Tuesday 11:00 in Paris
const E164 = (n: string) => `+33${n.slice(1)}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let db: TestDb;
let proxy: TcpProxy;
beforeAll(async () => {
  db = await createTestDb('failure');
  // a role with a password, so that the URL carries one (trust auth accepts any: it must still never show)
  proxy = await new TcpProxy({ host: '127.0.0.1', port: Number(new URL(db.url).port || 5432) }).start();
}, 30_000);
afterAll(async () => {
  await proxy?.stop();
  await db?.drop();
});

type Logged = { level: string; msg: string; code?: string; [k: string]: unknown };

async function runtime(failMode: 'closed' | 'open'): Promise<{ rt: Runtime; log: Logged[]; raw: string[] }> {
  const u = new URL(proxy.url(db.url));
  u.username = 'postgres';
  u.password = SECRET;
  const config = parseConfig(
    `
store: { driver: postgres, url: ${JSON.stringify(u.toString())} }
policy: { failMode: ${failMode} }
professionals:
  - id: acme
    callerIds: ['+33162000001']
campaigns:
  - { id: c1, professional: acme, purpose: prospecting, audience: consumer, dialing: manual, sector: other, categories: [energy-supply] }
defaultCampaign: c1
gate: { deadlineMs: ${DEADLINE} }
log: { level: info, decisions: all }
`,
    'failure-test',
    {},
  );
  const raw: string[] = [];
  const logger = createLogger(config.log, { write: (s: string) => void raw.push(s) });
  const rt = createRuntime(config, { logger });
  await rt.store.ready?.();
  return {
    rt,
    raw,
    get log() {
      return raw.map((l) => JSON.parse(l) as Logged);
    },
  };
}

let seq = 0;
function call(to: string): CallAttempt {
  return {
    to,
    callerId: { number: '+33162000001', presentation: 'allowed' },
    at: AT,
    campaignId: 'c1',
    source: { pbx: 'asterisk', channelId: `chan-${++seq}` },
  };
}

async function contract(...numbers: string[]) {
  for (const n of numbers)
    await sql(
      db.url,
      "INSERT INTO callgate.contracts (e164, professional, categories, start) VALUES ($1, 'acme', 'energy-supply', 0)",
      [E164(n)],
    );
}

/** Counted, non-released attempts per decision id in the database (read directly, not through the gate). */
async function counted(): Promise<Set<string>> {
  const rows = await sql<{ id: string }>(db.url, 'SELECT id FROM callgate.decisions WHERE counted AND NOT released');
  return new Set(rows.map((r) => r.id));
}

/** A call decided normally (not in fail mode), tried again while the gate still fails (at most ~5 s); all answers go to `given`. */
async function normal(rt: Runtime, to: string, given: Decision[] = []): Promise<Decision> {
  for (let i = 0; ; i++) {
    const d = await rt.gate.decide(call(to));
    given.push(d);
    if (!isFailMode(d) || i >= 50) return d;
    await sleep(100);
  }
}

const isFailMode = (d: Decision) =>
  d.rules.some((r) => r.rule === 'GATE-1' && r.outcome !== 'pass') ||
  d.tags.includes('gate_unavailable') ||
  d.reasons.some((r) => r.code === 'gate_unavailable');

beforeEach(async () => {
  proxy.set({ kind: 'pass' });
  await truncateAll(db.url).catch(async () => {
    // first test: no schema yet
  });
});

describe.each([
  ['stopped (connections refused and cut)', { kind: 'down' }],
  ['silent (the network holds every byte)', { kind: 'pause' }],
  ['slow (each packet 2 s late)', { kind: 'slow', ms: 2000 }],
] as const)('PostgreSQL %s', (_name, mode) => {
  test('failMode closed: gate_unavailable blocks within the deadline, a log line says why, and the gate recovers', async () => {
    const { rt, raw } = await runtime('closed');
    const store = rt.store as unknown as PostgresStore;
    try {
      await contract('0612000001', '0612000002');
      expect((await normal(rt, '0612000001')).verdict).toBe('allow');

      proxy.set(mode);
      const t0 = Date.now();
      const during = await Promise.all([0, 1, 2].map(() => rt.gate.decide(call('0612000002'))));
      const waited = Date.now() - t0;
      for (const d of during) {
        expect(d.verdict).toBe('block');
        expect(d.reasons.map((r) => r.code)).toEqual(['gate_unavailable']);
      }
      // the deadline timer answers at the latest (a generous bound for a loaded machine: no timing claim)
      expect(waited).toBeLessThan(DEADLINE + 5000);
      const lines = raw.map((l) => JSON.parse(l) as Logged);
      const failLines = lines.filter((l) => /fail mode decided/.test(l.msg));
      expect(failLines.length).toBeGreaterThanOrEqual(3);
      expect(failLines.map((l) => l.code)).toEqual(
        expect.arrayContaining([expect.stringMatching(/^CG_ERR_(STORE_FAULT|GATE_DEADLINE)$/)]),
      );

      proxy.set({ kind: 'pass' });
      // back by itself: the next calls are decided again (a few tries while broken connections drain)
      const given: Decision[] = [...during];
      const after = await normal(rt, '0612000002', given);
      expect(after.verdict).toBe('allow');
      await rt.gate.drain(10_000);
      // every fail-mode block given is in the audit too, and none of them counts as an attempt
      const h = await store.history(E164('0612000002'));
      const unavailable = (ds: Decision[]) =>
        ds.filter((d) => d.reasons.some((r) => r.code === 'gate_unavailable')).map((d) => d.id);
      expect(unavailable(h.decisions.map((x) => x.decision)).sort()).toEqual(unavailable(given).sort());
      expect(h.attempts.map((a) => a.decisionId)).toEqual([after.id]);
      expect(raw.join('')).not.toContain(SECRET);
    } finally {
      proxy.set({ kind: 'pass' });
      await rt.close();
    }
  }, 60_000);
});

test('stopped, then back: one log line when PostgreSQL stops answering, one when it answers again, never the password', async () => {
  const { rt, raw } = await runtime('closed');
  try {
    await contract('0612000003');
    proxy.set({ kind: 'down' });
    for (let i = 0; i < 5; i++) expect((await rt.gate.decide(call('0612000003'))).verdict).toBe('block');
    proxy.set({ kind: 'pass' });
    let d: Decision;
    do d = await rt.gate.decide(call('0612000003'));
    while (isFailMode(d));
    const lines = raw.map((l) => JSON.parse(l) as Logged);
    const down = lines.filter((l) => /PostgreSQL is not answering/.test(l.msg));
    const up = lines.filter((l) => /PostgreSQL answers again/.test(l.msg));
    expect(down).toHaveLength(1);
    expect(down[0]).toMatchObject({ level: 'error', code: 'CG_ERR_STORE_FAULT', failMode: 'closed' });
    expect(down[0]!.msg).toContain('postgres://postgres:***@127.0.0.1');
    expect(up).toHaveLength(1);
    expect(raw.join('')).not.toContain(SECRET);
  } finally {
    proxy.set({ kind: 'pass' });
    await rt.close();
  }
}, 60_000);

test('failMode open while PostgreSQL is stopped: the calls go through, and their attempts reach the store once it is back', async () => {
  const { rt } = await runtime('open');
  try {
    await contract('0612000004');
    proxy.set({ kind: 'down' });
    const during = await Promise.all([0, 1].map(() => rt.gate.decide(call('0612000004'))));
    expect(during.map((d) => [d.verdict, d.tags.includes('gate_unavailable')])).toEqual([
      ['allow', true],
      ['allow', true],
    ]);
    await sleep(300);
    proxy.set({ kind: 'pass' });
    // the gate keeps trying to write them (backoff), and does once the database answers
    expect(await rt.gate.drain(20_000)).toBe(true);
    expect([...(await counted())].sort()).toEqual(during.map((d) => d.id).sort());
  } finally {
    proxy.set({ kind: 'pass' });
    await rt.close();
  }
}, 60_000);

describe.each([
  ['after the server ran it (its answer lost: outcome unknown)', true],
  ['before the server saw it', false],
] as const)('the connection cut in the middle of the attempt write, %s', (_name, forward) => {
  test('the caller gets the fail mode, and no attempt counts for a call that was not placed', async () => {
    const { rt } = await runtime('closed');
    const store = rt.store as unknown as PostgresStore;
    try {
      await contract('0612000005');
      // a first call prepares the statements on a connection
      const given: Decision[] = [];
      const first = await normal(rt, '0612000005', given);
      expect(first.verdict).toBe('allow');
      proxy.set({ kind: 'cutOn', marker: 'cg_record', forward });
      const d = await rt.gate.decide(call('0612000005'));
      expect(proxy.cuts).toBeGreaterThan(0);
      expect(d.reasons.map((r) => r.code)).toEqual(['gate_unavailable']);
      // what the server may have committed is released once the database answers (after its statement timeout)
      for (let i = 0; i < 100 && store.inDoubtCount() > 0; i++) {
        await rt.store.getFacts({ e164: E164('0612000005'), professional: 'acme', at: AT, windowStart: new Date(0) });
        await sleep(100);
      }
      expect(store.inDoubtCount()).toBe(0);
      await rt.gate.drain(10_000);
      // the only allowed call the gate gave has its counted attempt, and nothing else counts
      expect([...(await counted())]).toEqual([first.id]);
      // the audit holds the first allow and the fail-mode block; when the server ran the cut
      // statement, also the decision it wrote, with its attempt released
      const h = await store.history(E164('0612000005'));
      expect(h.decisions.map((x) => x.id)).toEqual(expect.arrayContaining([first.id, d.id]));
      expect(h.decisions).toHaveLength(given.length + 1 + (forward ? 1 : 0));
      // and the gate decides normally again
      expect((await normal(rt, '0612000005')).verdict).toBe('allow');
    } finally {
      proxy.set({ kind: 'pass' });
      await rt.close();
    }
  }, 60_000);
});

test('a connection cut while it is being set up (its SET synchronous_commit) fails that connection, not the process', async () => {
  // the window between the server accepting a connection and the pool taking the client (the
  // SET, inside the pool's connect timeout): a break there once emitted 'error' with no listener,
  // which ends a Node process (seen as a gate killed by a connect timeout on a loaded machine)
  const cutsBefore = proxy.cuts;
  proxy.set({ kind: 'cutOn', marker: 'SET synchronous_commit', forward: false });
  const { rt } = await runtime('closed'); // the store opens on the next connection
  try {
    expect(proxy.cuts).toBe(cutsBefore + 1);
    await contract('0612000007');
    expect((await normal(rt, '0612000007')).verdict).toBe('allow');
  } finally {
    proxy.set({ kind: 'pass' });
    await rt.close();
  }
}, 60_000);
