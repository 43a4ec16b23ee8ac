/**
 * Issue 12.1 and 12.3 on the Event Socket simulator: a dialer's `bgapi originate` noise on the PBX,
 * and FreeSWITCH going away and coming back.
 */
import { getHeapStatistics } from 'node:v8';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parseConfig } from '../../src/config';
import type { Decision } from '../../src/core/types';
import { fixedClock } from '../../src/gate/clock';
import { Gate } from '../../src/gate/gate';
import type { GateService } from '../../src/gate/service';
import { MemoryStore } from '../../src/store';
import { SimDialer } from '../../src/sim/esl/dialer';
import type { CallRecord } from '../../src/sim/esl/simulator';
import { fakeFailModeDecision } from '../gate/fake-fail-mode';
import { captureLogger, rig, type Rig } from './freeswitch-helpers';

const AT = new Date('2026-11-30T09:30:00Z');

async function realGate(numbers: string[]): Promise<{ gate: Gate; store: MemoryStore }> {
  const store = new MemoryStore();
  for (const n of numbers)
    await store.addConsent({
      e164: `+33${n.slice(1)}`,
      professional: 'acme',
      categories: [],
      collectedAt: new Date('2026-10-01T00:00:00Z'),
    });
  const config = parseConfig(
    `
store: {driver: memory}
professionals: [{id: acme, callerIds: ['+33162000001']}]
campaigns: [{id: acme-energy, professional: acme, dialing: manual, categories: [energy-supply]}]
clock: {mode: fixed, at: '2026-11-30T09:30:00Z'}
`,
    'test',
  );
  return { gate: new Gate({ store, config, clock: fixedClock(AT), logger: captureLogger().logger }), store };
}

/** A gate that keeps nothing: allows an even last digit, blocks the others (the bench's stand-in rule). */
function forgetfulGate(): GateService {
  let n = 0;
  return {
    clock: fixedClock(AT),
    recordOutcome: async () => undefined,
    failModeDecision: fakeFailModeDecision,
    decide: async (a) => {
      const allow = Number(a.to.at(-1)) % 2 === 0;
      return {
        id: `d-${++n}`,
        verdict: allow ? 'allow' : 'block',
        basis: allow ? 'consent' : 'none',
        tags: [],
        reasons: allow ? [] : [{ code: 'no_consent' }],
      } as unknown as Decision;
    },
  };
}

const numbers = (n: number, prefix = '0612') =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(6, '0')}`);

let r: Rig | undefined;
let dialer: SimDialer | undefined;
afterEach(async () => {
  dialer?.close();
  dialer = undefined;
  await r?.close();
  r = undefined;
});

/** Places the calls as a dialer does (bgapi originate), `width` at a time; resolves with their records. */
async function dial(
  rg: Rig,
  ended: Map<string, (c: CallRecord) => void>,
  tos: string[],
  width = 20,
): Promise<CallRecord[]> {
  dialer ??= await SimDialer.connect(rg.sim.inboundPort as number);
  const out: CallRecord[] = [];
  for (let i = 0; i < tos.length; i += width) {
    const batch = tos.slice(i, i + width).map((to) => {
      const uuid = dialer!.originate(to, 'callgate-outbound', {
        origination_caller_id_number: '0162000001',
        callgate_campaign: 'acme-energy',
      });
      return new Promise<CallRecord>((res) => ended.set(uuid, res));
    });
    out.push(...(await Promise.all(batch)));
  }
  return out;
}

function onEnd(ended: Map<string, (c: CallRecord) => void>) {
  return (c: CallRecord) => {
    ended.get(c.uuid)?.(c);
    ended.delete(c.uuid);
  };
}

const settle = (ms = 100) => new Promise((res) => setTimeout(res, ms));

test("a dialer's noise: the outcome connection receives one event per allowed call, nothing else, and keeps nothing once the outcome is written", async () => {
  const tos = numbers(200);
  const consented = tos.filter((_, i) => i % 2 === 0);
  const { gate, store } = await realGate(consented);
  const ended = new Map<string, (c: CallRecord) => void>();
  r = await rig({ gate, sim: { callee: () => ({ answerAfterMs: 1, talkMs: 2 }), onCallEnd: onEnd(ended) } });
  const recs = await dial(r, ended, tos);
  await settle(200);
  const allowed = recs.filter((c) => c.vars['callgate_verdict'] === 'allow');
  expect(allowed).toHaveLength(100);
  // the dialer did receive the noise: a BACKGROUND_JOB per originate, -ERR CALL_REJECTED for the blocked
  expect(dialer!.stats).toMatchObject({ originates: 200, jobsOk: 100, jobsErr: 100 });
  expect(dialer!.stats.events).toBeGreaterThan(1000);

  // what FreeSWITCH sent the gate's outcome connection: one CHANNEL_HANGUP_COMPLETE per allowed call
  const follower = r.adapter.outcomes!;
  const gateConn = r.sim.inboundLog[0]!;
  expect(gateConn.received.map((c) => c.line).slice(1, 4)).toEqual([
    'noevents',
    'filter variable_callgate_verdict allow',
    'event plain CHANNEL_HANGUP_COMPLETE',
  ]);
  const text = Buffer.concat(gateConn.written).toString();
  expect(text.match(/Content-Type: text\/event-plain/g)).toHaveLength(100);
  expect(text).not.toMatch(/BACKGROUND_JOB|CHANNEL_EXECUTE_COMPLETE|text\/event-json/);
  expect(follower.stats.events).toBe(100);

  // every allowed call has its outcome; nothing is kept of any call, esl keeps no job result
  for (const c of allowed) {
    const h = await store.history(`+33${c.to.slice(1)}`, 'acme');
    expect(h.attempts[0]?.outcome).toMatchObject({ answered: true, hangupCause: 'NORMAL_CLEARING' });
  }
  expect(follower.trackedCount).toBe(0);
  expect(follower.eslRetained).toBe(0);
});

test("the gate's heap stays flat over 1,500 noisy calls (issue 12.1: ~2.7 KB a call kept before)", async () => {
  const gc = (() => {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  })();
  const heap = async () => {
    for (let i = 0; i < 3; i++) {
      await settle(20);
      gc();
    }
    return getHeapStatistics().used_heap_size;
  };
  const ended = new Map<string, (c: CallRecord) => void>();
  r = await rig({
    gate: forgetfulGate(),
    sim: { trace: false, callee: () => ({ answerAfterMs: 0, talkMs: 0 }), onCallEnd: onEnd(ended) },
  });
  await dial(r, ended, numbers(300, '0613'));
  const before = await heap();
  await dial(r, ended, numbers(1500, '0614'));
  await settle(200);
  const after = await heap();
  expect(r.adapter.outcomes!.stats.outcomes).toBe(900);
  expect(r.adapter.outcomes!.trackedCount).toBe(0);
  // 1,500 calls at 2.7 KB would be 4 MB; allow 1.5 MB of noise from the test process itself
  expect(after - before).toBeLessThan(1.5 * 1024 * 1024);
});

describe('FreeSWITCH restarts (issue 12.3)', () => {
  test('the outcome connection is back at its first attempt after FreeSWITCH is: every retry delay within the cap (jitter included)', async () => {
    const { gate } = await realGate([]);
    r = await rig({ gate, config: { inbound: { reconnectMinMs: 100, reconnectMaxMs: 750 } } });
    const follower = r.adapter.outcomes!;
    const delays = follower.retryDelays;
    const connects = follower.stats.connects;
    const restart = r.sim.restart(1600); // FreeSWITCH: ~1.6 s until Event Socket accepts again
    await settle(1590);
    await restart;
    const attemptsWhenBack = follower.stats.attempts;
    await follower.ready(2000);
    expect(follower.stats.connects).toBe(connects + 1);
    // the attempt that connected is the first one made after FreeSWITCH was back (none failed after it)
    expect(follower.stats.attempts).toBe(attemptsWhenBack + 1);
    // so it came at most one retry delay after: each ≤ reconnectMaxMs (750 ms), never more
    expect(delays.length).toBeGreaterThan(2);
    expect(Math.max(...delays)).toBeLessThanOrEqual(750);
    expect(delays[0]).toBeLessThanOrEqual(100);
    const back = r.lines.find((l) => /inbound Event Socket back after/.test(l.msg));
    expect(back).toMatchObject({ attempts: delays.length });
    // and the gate decides calls on the restarted FreeSWITCH
    const c = await r.sim.placeCall({ to: '0612345678', context: 'callgate-outbound', callerIdNumber: '0162000001' })
      .done;
    expect(c.vars['callgate_verdict']).toBe('block');
    expect(r.adapter.status!()).toEqual({ connected: true, reconnects: 1 });
  });

  test('every allowed call gets its outcome, or is counted in the one "outcome unknown" warning (CG_ERR_OUTCOME_UNKNOWN)', async () => {
    const tos = numbers(6, '0615');
    const { gate, store } = await realGate(tos);
    // long calls: some still up during the outage, some ending during it
    const talk = new Map(tos.map((t, i) => [t, i < 3 ? 300 : 3000]));
    r = await rig({ gate, sim: { callee: (n) => ({ answerAfterMs: 1, talkMs: talk.get(n) ?? 0 }) } });
    const calls = tos.map((to) =>
      r!.sim.placeCall({
        to,
        context: 'callgate-outbound',
        callerIdNumber: '0162000001',
        variables: { callgate_campaign: 'acme-energy' },
      }),
    );
    await settle(150);
    expect(r.adapter.outcomes!.trackedCount).toBe(6);
    // the Event Socket goes away (its port refused) while the calls go on; three end meanwhile
    const port = r.sim.inboundPort!;
    await r.sim.closeInbound();
    await settle(800);
    await r.sim.listenInbound(port);
    await r.adapter.outcomes!.ready(2000);
    await Promise.all(calls.map((c) => c.done));
    await settle(700);
    const outcomes = await Promise.all(
      tos.map(async (t) => (await store.history(`+33${t.slice(1)}`, 'acme')).attempts[0]?.outcome),
    );
    const unknown = r.lines.filter((l) => l.code === 'CG_ERR_OUTCOME_UNKNOWN');
    expect(unknown).toHaveLength(1);
    expect(unknown[0]).toMatchObject({ count: 3, level: 40 });
    expect(outcomes.filter((o) => o === undefined)).toHaveLength(3);
    expect(outcomes.slice(3)).toEqual(Array(3).fill(expect.objectContaining({ answered: true })));
    expect(r.adapter.outcomes!.stats).toMatchObject({ outcomes: 3, unknown: 3 });
    expect(r.adapter.outcomes!.trackedCount).toBe(0);
  });
});
