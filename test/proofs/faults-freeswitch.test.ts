/**
 * The store fault of test/proofs/faults.test.ts on the FreeSWITCH side: the SQLite store locked by
 * ANOTHER PROCESS holding its write lock during a burst of calls, through the real FreeSWITCH adapter
 * on the Event Socket simulator running the shipped dialplan, for both values of policy.failMode.
 *
 * The gate's deadline passes for every call of the burst: each is decided by the fail mode (refused
 * when closed, placed and tagged when open), every decision given reaches the store once the lock
 * goes (nothing lost), with its attempt when the call was placed; and the gate recovers by itself.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config';
import { fixedClock } from '../../src/gate/clock';
import { Gate } from '../../src/gate/gate';
import { SqliteStore } from '../../src/store';
import type { CallRecord } from '../../src/sim/esl/simulator';
import { captureLogger, rig, type Rig } from '../e2e/freeswitch-helpers';

const AT = new Date('2026-11-30T09:30:00Z');
const DEADLINE_MS = 200;
let dir: string;
let store: SqliteStore;
let gate: Gate;
let r: Rig | undefined;

async function setUp(failMode: 'closed' | 'open'): Promise<void> {
  dir = mkdtempSync(join(tmpdir(), 'callgate-fs-faults-'));
  store = SqliteStore.open(join(dir, 'gate.db'), { pollLocks: true });
  const config = parseConfig(
    `
store: {driver: sqlite, path: ${JSON.stringify(join(dir, 'gate.db'))}}
professionals: [{id: acme, callerIds: ['+33162000001']}]
campaigns: [{id: acme-energy, professional: acme, dialing: manual, categories: [energy-supply]}]
defaultCampaign: acme-energy
clock: {mode: fixed, at: '${AT.toISOString()}'}
policy: {failMode: ${failMode}}
gate: {deadlineMs: ${DEADLINE_MS}}
`,
    'test',
  );
  gate = new Gate({ store, config, clock: fixedClock(AT), logger: captureLogger().logger });
  r = await rig({ gate, deadlineMs: DEADLINE_MS });
}

afterEach(async () => {
  await r?.close();
  r = undefined;
  await gate.drain(20_000);
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

let seq = 0;
const e164 = (n: string) => `+33${n.slice(1)}`;

/** `n` new numbers, each with an ongoing contract (CONS-5): the gate allows them unless it cannot decide. */
async function prepare(n: number): Promise<string[]> {
  const tos = Array.from({ length: n }, () => `0613${String(seq++).padStart(6, '0')}`);
  for (const to of tos)
    await store.addContract({
      e164: e164(to),
      professional: 'acme',
      categories: ['energy-supply'],
      start: new Date('2026-01-01'),
    });
  return tos;
}

function call(to: string): Promise<CallRecord> {
  return r!.sim.placeCall({
    to,
    context: 'callgate-outbound',
    callerIdNumber: '0162000001',
    variables: { callgate_campaign: 'acme-energy' },
  }).done;
}

const placed = (c: CallRecord) => c.transfers.some((t) => t.context === 'callgate-allowed');
const failModeAnswer = (c: CallRecord) =>
  (c.vars['callgate_reasons'] ?? '').includes('gate_unavailable') ||
  (c.vars['callgate_tags'] ?? '').includes('gate_unavailable');

/** A call after the fault: decided by the gate itself, placed, its attempt recorded. */
async function recovered(): Promise<void> {
  const [to] = await prepare(1);
  const c = await call(to!);
  expect({ verdict: c.vars['callgate_verdict'], failMode: failModeAnswer(c), placed: placed(c) }).toEqual({
    verdict: 'allow',
    failMode: false,
    placed: true,
  });
  const h = await store.history(e164(to!), 'acme');
  expect(h.attempts.map((a) => a.decisionId)).toEqual([c.vars['callgate_decision_id']]);
}

describe.each(['closed', 'open'] as const)('policy.failMode %s', (failMode) => {
  test('the store locked by another process during a burst: the fail mode answers every call, every decision reaches the store once the lock goes, back by itself', async () => {
    await setUp(failMode);
    await recovered(); // the gate works
    const tos = await prepare(20);
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const D = require(${JSON.stringify(require.resolve('better-sqlite3'))});
         const db = new D(process.argv[1]); db.exec('BEGIN IMMEDIATE'); process.stdout.write('locked\\n');
         process.stdin.on('data', () => { db.exec('COMMIT'); db.close(); process.exit(0); });`,
        join(dir, 'gate.db'),
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    const exited = new Promise((res) => holder.once('exit', res));
    await new Promise<void>((res) => holder.stdout.once('data', () => res()));
    let burst: { to: string; c: CallRecord }[];
    try {
      burst = await Promise.all(tos.map((to) => call(to).then((c) => ({ to, c }))));
    } finally {
      holder.stdin.write('release\n');
      await exited;
    }
    await gate.drain(20_000);

    const lost: unknown[] = [];
    for (const { to, c } of burst) {
      const id = c.vars['callgate_decision_id'];
      if (id === undefined || !failModeAnswer(c)) {
        lost.push({ to, why: 'not answered by the fail mode', vars: c.vars, cause: c.hangupCause });
        continue;
      }
      if (placed(c) !== (failMode === 'open')) lost.push({ to, why: `placed=${placed(c)} under ${failMode}` });
      if (!placed(c) && c.hangupCause !== 'CALL_REJECTED') lost.push({ to, why: `refused with ${c.hangupCause}` });
      const h = await store.history(e164(to), 'acme');
      if (!h.decisions.some((d) => d.id === id)) lost.push({ to, id, why: 'decision not in the store' });
      if (placed(c) && !h.attempts.some((a) => a.decisionId === id)) lost.push({ to, id, why: 'placed, no attempt' });
    }
    expect(lost).toEqual([]);
    await recovered();
  }, 60_000);
});
