/**
 * End to end, Asterisk side: the real Gate and memory store behind the Asterisk adapter, the
 * ARI simulator running the shipped dialplan snippet verbatim, real ari-client on loopback.
 * The rules decide for real: consent regime (the clock is fixed on a Tuesday at 10:00 Paris),
 * FREQ-1 (5th attempt in 30 days refused), GATE-1 (deadline → fail mode), outcome recorded.
 */
import { parseConfig } from '../../src/config/load';
import { fixedClock } from '../../src/gate/clock';
import { Gate } from '../../src/gate/gate';
import type { Store } from '../../src/gate/store';
import { openStore } from '../../src/store';
import {
  captureLogger,
  dial,
  startAdapter,
  startSim,
  testLogger,
  until,
  type Running,
} from '../../src/sim/ari/harness';
import type { AriSimulator } from '../../src/sim/ari/server';
import { stillReachable, trackingGate } from './leak-check';

const AT = new Date('2026-12-01T10:00:00+01:00'); // a Tuesday, working hours
const CONFIG = parseConfig(
  `
store: { driver: memory }
professionals:
  - id: acme
    callerIds: ['+33123456789']
campaigns:
  - id: spring
    professional: acme
    dialing: manual
defaultCampaign: spring
`,
  '<asterisk e2e>',
);

let sim: AriSimulator;
let store: Store;
let run: Running | undefined;

async function consent(national: string): Promise<void> {
  await store.addConsent({
    e164: `+33${national.slice(1)}`,
    professional: 'acme',
    categories: [],
    collectedAt: new Date('2026-10-01T10:00:00Z'),
  });
}

function gateOn(s: Store): Gate {
  return new Gate({ store: s, config: CONFIG, clock: fixedClock(AT), logger: testLogger() });
}

beforeEach(async () => {
  sim = await startSim();
  store = openStore({ driver: 'memory' });
});
afterEach(async () => {
  await run?.stop();
  run = undefined;
  await sim.stop();
  await store.close();
});

test('allowed call with consent: continued into callgate-allowed with its variables, outcome recorded on the attempt', async () => {
  await consent('0612345678');
  run = await startAdapter(sim, gateOn(store));
  const r = await dial(sim, '0612345678', { campaign: 'spring' }).done;
  expect(r.vars.CALLGATE_VERDICT).toBe('allow');
  expect(r.vars.CALLGATE_BASIS).toBe('consent');
  expect(r.vars.CALLGATE_DECISION_ID).toMatch(/\S/);
  expect(r.trail).toContain('callgate-allowed:Dial');
  expect(r.dialed?.status).toBe('ANSWER');
  const id = r.vars.CALLGATE_DECISION_ID as string;
  await until(() => run!.adapter.stats().tracking === 0, 'outcome handled');
  const h = await waitForOutcome('+33612345678');
  expect(h.attempts).toHaveLength(1);
  expect(h.attempts[0]).toMatchObject({
    decisionId: id,
    outcome: { answered: true, dialStatus: 'ANSWER', hangupCause: '16' },
  });
});

test("at debug level each call's lines carry its channel and masked number; at info level it writes none", async () => {
  await consent('0612345678');
  const debug = captureLogger('debug');
  run = await startAdapter(sim, gateOn(store), {}, debug.logger);
  const allowed = await dial(sim, '0612345678', { campaign: 'spring' }).done;
  const blocked = await dial(sim, '0698765432', { campaign: 'spring' }).done;
  await until(() => run!.reports.length === 2 && run!.outcomes.length === 1, 'both handled, the outcome recorded');
  const of = (id: string) =>
    debug.lines.filter((l) => l.channel === id).map((l) => ({ msg: l.msg, to: l.to, action: l.action }));
  expect(of(allowed.channelId)).toEqual([
    { msg: 'decision applied', to: '06******78', action: 'continue' },
    { msg: 'call ended', to: '06******78', action: undefined },
  ]);
  expect(of(blocked.channelId)).toEqual([{ msg: 'decision applied', to: '06******32', action: 'hangup' }]);
  await run.stop();

  const info = captureLogger('info');
  run = await startAdapter(sim, gateOn(store), {}, info.logger);
  await dial(sim, '0612345678', { campaign: 'spring' }).done;
  await until(() => run!.adapter.stats().tracking === 0, 'outcome handled');
  expect(info.lines.filter((l) => l.channel !== undefined || l.level === 20)).toEqual([]);
});

async function waitForOutcome(e164: string) {
  for (let i = 0; i < 200; i++) {
    const h = await store.history(e164, 'acme');
    if (h.attempts[0]?.outcome) return h;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('no outcome recorded');
}

test('no consent in the consent regime: blocked, hung up with cause 21, reason in CALLGATE_REASONS', async () => {
  run = await startAdapter(sim, gateOn(store));
  const r = await dial(sim, '0612345678', { campaign: 'spring' }).done;
  expect(r.cause).toBe(21);
  expect(r.vars.CALLGATE_VERDICT).toBe('block');
  expect(r.vars.CALLGATE_REASONS?.split(',')).toContain('no_consent');
  expect(r.dialed).toBeUndefined();
});

test('blocked call sent to the announcement context', async () => {
  run = await startAdapter(sim, gateOn(store), { blockContext: 'callgate-blocked' });
  const r = await dial(sim, '0612345678', { campaign: 'spring' }).done;
  expect(r.trail).toContain('callgate-blocked:Playback');
  expect(r.dialed).toBeUndefined();
});

test('the 5th attempt to the same number in 30 days is refused (FREQ-1)', async () => {
  await consent('0612345678');
  run = await startAdapter(sim, gateOn(store));
  for (let i = 0; i < 4; i++) {
    const r = await dial(sim, '0612345678', { campaign: 'spring' }).done;
    expect(r.vars.CALLGATE_VERDICT).toBe('allow');
  }
  const fifth = await dial(sim, '0612345678', { campaign: 'spring' }).done;
  expect(fifth.cause).toBe(21);
  expect(fifth.vars.CALLGATE_REASONS?.split(',')).toContain('frequency_limit');
});

test('withheld caller ID (CALLERID(pres)=prohib) is blocked with caller_id_withheld', async () => {
  await consent('0612345678');
  run = await startAdapter(sim, gateOn(store));
  const r = await dial(sim, '0612345678', { campaign: 'spring', pres: 'prohib_passed_screen' }).done;
  expect(r.vars.CALLGATE_REASONS?.split(',')).toContain('caller_id_withheld');
});

test('gate down: the shipped dialplan refuses the call', async () => {
  const r = await dial(sim, '0612345678', { campaign: 'spring' }).done;
  expect(r.stasisStatus).toBe('FAILED');
  expect(r.cause).toBe(21);
});

/** A store whose reads take `ms` (a slow disk, a locked database). */
function slowStore(inner: Store, ms: number): Store {
  return new Proxy(inner, {
    get(target, prop, recv) {
      const v = Reflect.get(target, prop, recv) as unknown;
      if ((prop === 'getFacts' || prop === 'decideAndCommit') && typeof v === 'function') {
        return async (...args: unknown[]) => {
          await new Promise((r) => setTimeout(r, ms));
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

test('deadline exceeded: the fail mode (closed) blocks with gate_unavailable', async () => {
  await consent('0612345678');
  run = await startAdapter(sim, gateOn(slowStore(store, 300)), { deadlineMs: 50 });
  const r = await dial(sim, '0612345678', { campaign: 'spring' }).done;
  expect(r.cause).toBe(21);
  expect(r.vars.CALLGATE_REASONS).toBe('gate_unavailable');
});

test('connection dropped mid-decision: the decision still lands after the reconnect, recorded once', async () => {
  await consent('0612345678');
  run = await startAdapter(sim, gateOn(slowStore(store, 100)), { deadlineMs: 2000, requestTimeoutMs: 200 });
  const call = dial(sim, '0612345678', { campaign: 'spring' });
  await until(() => sim.inStasis() === 1, 'in Stasis');
  const blackout = sim.blackoutFor(400);
  const r = await call.done;
  await blackout;
  expect(r.vars.CALLGATE_VERDICT).toBe('allow');
  expect(r.dialed?.status).toBe('ANSWER');
  const h = await waitForOutcome('+33612345678');
  expect(h.decisions).toHaveLength(1);
  expect(h.attempts).toHaveLength(1);
});

test('a finished call leaves nothing behind: its decision can be garbage collected while the gate keeps running', async () => {
  const numbers = Array.from({ length: 30 }, (_, i) => `06124${String(i).padStart(5, '0')}`);
  for (const n of numbers) await consent(n);
  const t = trackingGate(gateOn(store));
  run = await startAdapter(sim, t.gate);
  for (const n of numbers) await dial(sim, n, { campaign: 'spring' }).done;
  await until(() => run!.adapter.stats().tracking === 0, 'outcomes handled');
  expect(t.seen).toHaveLength(30);
  expect(await stillReachable(t.seen)).toBe(0);
});

test('burst: 500 concurrent attempts for distinct numbers, all decided, none lost', async () => {
  const numbers = Array.from({ length: 500 }, (_, i) => `06${String(20000000 + i)}`);
  for (const n of numbers.slice(0, 250)) await consent(n); // half allowed, half blocked (no consent)
  run = await startAdapter(sim, gateOn(store));
  const results = await Promise.all(numbers.map((n) => dial(sim, n, { campaign: 'spring' }).done));
  const allowed = results.filter((r) => r.vars.CALLGATE_VERDICT === 'allow');
  const blocked = results.filter((r) => r.vars.CALLGATE_VERDICT === 'block');
  expect(allowed).toHaveLength(250);
  expect(blocked).toHaveLength(250);
  expect(blocked.every((r) => r.cause === 21)).toBe(true);
  expect(new Set(results.map((r) => r.vars.CALLGATE_DECISION_ID)).size).toBe(500);
  await until(() => run!.adapter.stats().tracking === 0, 'all outcomes');
});
