/**
 * What a real Asterisk did to callgate (issues 11.6 and 12), reproduced on the ARI simulator with the
 * shipped dialplan snippet, and what the gate does about it:
 * - emergency numbers (SCOPE-1) go around the gate, and the adapter's own backstop decision comes
 *   from core's one builder, audited;
 * - outcomes: the channel's state says whether a call was answered (an Answer() allow path has no
 *   Dial), and the app asks Asterisk for only the events it reads;
 * - a PBX restart or a dropped WebSocket: back within a second, the calls it follows reconciled,
 *   and never an outcome it did not see;
 * - a gate that hangs: the dialplan's TIMEOUT(absolute) backstop, cleared by the gate in the request
 *   that sets its variables, after the adapter's own backstop;
 * - the variable names of dialplan/asterisk/README.md.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseConfig } from '../../src/config/load';
import { isEmergencyNumber } from '../../src/core/numbers';
import { fixedClock } from '../../src/gate/clock';
import { Gate } from '../../src/gate/gate';
import type { GateService } from '../../src/gate/service';
import { openStore } from '../../src/store';
import { ARI_EVENT_TYPES } from '../../src/pbx/asterisk/adapter';
import { findExtension } from '../../src/sim/ari/dialplan';
import {
  bareApp,
  captureLogger,
  dial,
  shippedDialplan,
  startAdapter,
  startSim,
  testLogger,
  until,
  withoutEventFilter,
  type Running,
} from '../../src/sim/ari/harness';
import { repoRoot } from '../../src/sim/ari/paths';
import type { AriSimulator, SimOptions } from '../../src/sim/ari/server';
import { ScriptedGate } from './asterisk-scripted-gate';

let sim: AriSimulator;
let gate: ScriptedGate;
let run: Running | undefined;

async function simWith(extra: Partial<SimOptions> = {}): Promise<void> {
  await sim?.stop();
  sim = await startSim(extra);
}

beforeEach(async () => {
  sim = await startSim();
  gate = new ScriptedGate();
});
afterEach(async () => {
  await run?.stop();
  run = undefined;
  await sim.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A context that sends every number into the gate, emergency or not (an administrator's own dialplan). */
const UNGATED = `
[test-everything-gated]
exten => _X.,1,Stasis(callgate,\${EXTEN},,\${CALLERID(num)},\${CALLERID(pres)})
 same => n,Hangup(21)
`;

describe('emergency numbers (SCOPE-1, issue 11.6)', () => {
  test("the shipped dialplan routes exactly core's emergency numbers around the gate", () => {
    const numbers = [
      ...Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0')),
      ...Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0')),
      ...Array.from({ length: 1000 }, (_, i) => `116${String(i).padStart(3, '0')}`),
      '1160000',
      '11600',
      '1120',
      '+33112',
      '0612345678',
      '+33612345678',
    ];
    const plan = sim.plan;
    const bypassed = (n: string) => {
      const first = findExtension(plan, 'callgate-outbound', n)?.steps[0];
      return first?.app === 'Goto' && first.data.startsWith('callgate-emergency,');
    };
    const wrong = numbers.filter((n) => bypassed(n) !== isEmergencyNumber(n));
    expect(wrong).toEqual([]);
    expect(numbers.filter(bypassed)).toHaveLength(1010); // 10 short numbers + 116000–116999
  });

  test('with the gate down, 112 and 116000 still reach the trunk', async () => {
    for (const n of ['112', '116000', '15']) {
      const r = await dial(sim, n).done;
      expect(r.stasisStatus).toBeUndefined();
      expect(r.dialed).toEqual({ dialstring: `${n}@trunk`, status: 'ANSWER' });
      expect(r.trail).toContain('callgate-emergency:Dial');
    }
  });

  test('with the gate up, an emergency call never waits on it: no StasisStart, no decision', async () => {
    run = await startAdapter(sim, gate);
    const r = await dial(sim, '112').done;
    expect(r.dialed?.status).toBe('ANSWER');
    expect(gate.attempts).toEqual([]);
    expect(sim.sent.some((s) => s.event.type === 'StasisStart')).toBe(false);
  });

  test("a gate that never answers: the adapter's backstop decision is gate.failModeDecision (core's builder), which lets an emergency call through", async () => {
    await simWith({ dialplan: [shippedDialplan(), UNGATED] });
    gate.delayMs = Infinity;
    run = await startAdapter(sim, gate, { deadlineMs: 50 });
    const [emergency, other] = await Promise.all([
      dial(sim, '112', { context: 'test-everything-gated' }).done,
      dial(sim, '0612345678', { context: 'test-everything-gated' }).done,
    ]);
    expect(gate.failModeCalls.map((c) => c.attempt.to).sort()).toEqual(['0612345678', '112']);
    expect(gate.failModeCalls[0]!.why).toMatch(/adapter backstop/);
    expect(emergency.dialed?.status).toBe('ANSWER');
    expect(emergency.vars.CALLGATE_TAGS?.split(',')).toEqual(expect.arrayContaining(['emergency', 'gate_unavailable']));
    expect(other.cause).toBe(21);
    expect(other.vars).toMatchObject({ CALLGATE_VERDICT: 'block', CALLGATE_REASONS: 'gate_unavailable' });
    expect(other.vars.CALLGATE_DECISION_ID).toMatch(/^failmode-/);
  });

  test("with the real Gate, the adapter's backstop decision is audited, with the regime of the call's date", async () => {
    const config = parseConfig(
      'store: {driver: memory}\nprofessionals: [{id: acme, callerIds: ["+33123456789"]}]\n',
      '<test>',
    );
    const store = openStore({ driver: 'memory' });
    // a decision made on 1 June 2026, before the consent regime (11 August 2026)
    const real = new Gate({
      store,
      config,
      clock: fixedClock(new Date('2026-06-01T10:00:00+02:00')),
      logger: testLogger(),
    });
    const hung: GateService = {
      clock: real.clock,
      decide: () => new Promise(() => undefined), // a gate that never answers at all
      failModeDecision: (a, why, o) => real.failModeDecision(a, why, o),
      recordOutcome: (id, o) => real.recordOutcome(id, o),
    };
    run = await startAdapter(sim, hung, { deadlineMs: 50 });
    const r = await dial(sim, '0612345678').done;
    expect(r.cause).toBe(21);
    await real.drain();
    const h = await store.history('+33612345678', 'acme');
    const audited = h.decisions.find((d) => d.id === r.vars.CALLGATE_DECISION_ID);
    expect(audited?.decision).toMatchObject({ verdict: 'block', regime: 'opposition' });
    expect(audited?.decision.reasons.map((x) => x.code)).toEqual(['gate_unavailable']);
    await store.close();
  });
});

describe('outcomes: the channel state is the truth, and only the events read are sent (issue 12.2)', () => {
  const IVR = `
[test-ivr-allowed]
exten => _[+0-9].,1,Answer()
 same => n,Wait(0.2)
 same => n,Hangup()
`;

  test('a call answered without Dial() (Answer() in the allow context) is recorded answered, with its duration', async () => {
    await simWith({ dialplan: [shippedDialplan(), IVR] });
    run = await startAdapter(sim, gate, { allowContext: 'test-ivr-allowed' });
    const r = await dial(sim, '0612345678').done;
    expect(r.dialed).toBeUndefined();
    expect(r.upMs).toBeGreaterThanOrEqual(200);
    await until(() => gate.outcomes.length === 1, 'outcome');
    const o = gate.outcomes[0]!.outcome;
    expect(o).toMatchObject({ answered: true, hangupCause: '16' });
    expect(o.dialStatus).toBeUndefined();
    expect(o.durationMs).toBeGreaterThanOrEqual(200);
  });

  test('the app asks for only the event types it reads: an allowed call costs the PBX a fraction of the events', async () => {
    sim.recordEvents = true;
    run = await startAdapter(sim, gate);
    await until(() => sim.eventFilter('callgate')?.allowed.length === ARI_EVENT_TYPES.length, 'filter set');
    expect(sim.eventFilter('callgate')).toEqual({ allowed: [...ARI_EVENT_TYPES], disallowed: [] });
    const before = sim.serialised;
    await dial(sim, '0612345678').done;
    await until(() => gate.outcomes.length === 1, 'outcome');
    const filtered = sim.serialised - before;
    expect(sim.sent.every((s) => (ARI_EVENT_TYPES as readonly string[]).includes(s.event.type as string))).toBe(true);

    // the same call with the filter emptied (what the gate asked for before)
    await withoutEventFilter(sim);
    const before2 = sim.serialised;
    await dial(sim, '0612345679').done;
    await until(() => gate.outcomes.length === 2, 'outcome');
    const unfiltered = sim.serialised - before2;
    expect(filtered).toBeLessThan(unfiltered / 2);
    // StasisStart, StasisEnd, Dial ×2, ChannelStateChange (Up), ChannelHangupRequest, ChannelDestroyed
    expect(filtered).toBe(7);
    // and the outcome is the same
    expect(gate.outcomes[0]!.outcome).toMatchObject({ answered: true, dialStatus: 'ANSWER', hangupCause: '16' });
    expect(gate.outcomes[1]!.outcome).toMatchObject({ answered: true, dialStatus: 'ANSWER', hangupCause: '16' });
  });

  test('a busy callee: not answered, the dial status kept, the cause from ChannelDestroyed', async () => {
    await simWith({ trunk: () => ({ result: 'busy' }) });
    run = await startAdapter(sim, gate);
    await dial(sim, '0612345678').done;
    await until(() => gate.outcomes.length === 1, 'outcome');
    expect(gate.outcomes[0]!.outcome).toMatchObject({
      answered: false,
      dialStatus: 'BUSY',
      hangupCause: '17',
      durationMs: 0,
    });
  });
});

/** The CG_ERR_PBX_CONNECT retry lines (retryInMs) and their times. */
function retries(lines: Array<Record<string, unknown>>): Array<{ time: number; retryInMs: number }> {
  return lines
    .filter((l) => l.code === 'CG_ERR_PBX_CONNECT' && typeof l.retryInMs === 'number')
    .map((l) => ({ time: l.time as number, retryInMs: l.retryInMs as number }));
}

const unknownLines = (lines: Array<Record<string, unknown>>) =>
  lines.filter((l) => l.code === 'CG_ERR_OUTCOME_UNKNOWN' && /outcome unknown/.test(String(l.msg)));

describe('coming back after a PBX restart or a dropped connection (issue 12.3)', () => {
  test('after a restart the gate registers again at its first attempt once ARI is back, every retry within a second', async () => {
    const { logger, lines } = captureLogger();
    // the default backoff (the test harness's own shortened one is not used here)
    run = await startAdapter(sim, gate, { reconnectMinMs: undefined, reconnectMaxMs: undefined }, logger);
    const restarting = sim.restart(2_500);
    await restarting;
    const back = Date.now();
    await until(() => sim.registeredApps().length === 1, 'registered again', 5_000);
    const delays = retries(lines);
    expect(delays.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...delays.map((d) => d.retryInMs))).toBeLessThanOrEqual(1_000);
    // no attempt failed once ARI was back: the first one after it registered the app
    expect(delays.filter((d) => d.time >= back)).toEqual([]);
    // the simulator registers the app on the WebSocket's upgrade, before the client sees its `open`
    // (where the line is written): wait for the line rather than read it at once
    await until(
      () => lines.some((l) => /connected again/.test(String(l.msg)) && typeof l.outageMs === 'number'),
      'the "connected again" line',
      5_000,
    );
    // and calls are decided again
    const r = await dial(sim, '0612345678').done;
    expect(r.vars.CALLGATE_VERDICT).toBe('allow');
  }, 15_000);

  test('a call followed when Asterisk restarts gets no made-up outcome: an "outcome unknown" warning counts it', async () => {
    await simWith({ trunk: () => ({ result: 'answer', talkMs: 5_000 }) });
    const { logger, lines } = captureLogger();
    run = await startAdapter(sim, gate, {}, logger);
    const call = dial(sim, '0612345678');
    await until(() => run!.adapter.stats().tracking === 1 && sim.inStasis() === 0, 'followed');
    await sim.restart(200);
    await call.done;
    await until(() => sim.registeredApps().length === 1, 'registered again');
    await until(() => unknownLines(lines).length === 1, 'outcome unknown logged');
    expect(unknownLines(lines)[0]).toMatchObject({ level: 40, count: 1, decisionIds: ['d1'] });
    expect(gate.outcomes).toEqual([]); // never answered:false for a call whose end was not seen
    expect(run.adapter.stats().tracking).toBe(0);
  });

  test('a call answered while the connection was cut is still recorded answered; its unseen duration is left out, not invented', async () => {
    await simWith({ trunk: () => ({ result: 'answer', ringMs: 250, talkMs: 900 }) });
    run = await startAdapter(sim, gate, { requestTimeoutMs: 200 });
    const call = dial(sim, '0612345678');
    await until(() => sim.rest.some((q) => q.path.endsWith('/continue')), 'continued');
    const blackout = sim.blackoutFor(500); // the callee answers 250 ms after the Dial, in the dark
    const r = await call.done;
    await blackout;
    expect(r.dialed?.status).toBe('ANSWER');
    await until(() => gate.outcomes.length === 1, 'outcome');
    const o = gate.outcomes[0]!.outcome;
    expect(o).toMatchObject({ answered: true, hangupCause: '16' });
    expect(o.durationMs).toBeUndefined();
  });

  test('a call still up across a WebSocket drop is followed again: its end and duration are recorded', async () => {
    await simWith({ trunk: () => ({ result: 'answer', talkMs: 800 }) });
    run = await startAdapter(sim, gate);
    const call = dial(sim, '0612345678');
    await until(() => sim.sent.some((s) => s.event.type === 'ChannelStateChange'), 'answered');
    sim.dropWebSockets();
    await until(() => sim.registeredApps().length === 0, 'dropped');
    await until(() => sim.registeredApps().length === 1, 'back');
    const r = await call.done;
    await until(() => gate.outcomes.length === 1, 'outcome');
    expect(gate.outcomes[0]!.outcome).toMatchObject({ answered: true, hangupCause: '16', dialStatus: 'ANSWER' });
    expect(gate.outcomes[0]!.outcome.durationMs).toBeGreaterThanOrEqual(r.upMs! - 50);
    expect(sim.subscriptions('callgate')).toEqual([]);
  });

  test('calls still up when the gate stops: one "outcome unknown" warning with their count', async () => {
    await simWith({ trunk: () => ({ result: 'answer', talkMs: 5_000 }) });
    const { logger, lines } = captureLogger();
    run = await startAdapter(sim, gate, {}, logger);
    const calls = [dial(sim, '0612345678'), dial(sim, '0612345679')];
    await until(() => run!.adapter.stats().tracking === 2, 'followed');
    await run.stop();
    run = undefined;
    expect(unknownLines(lines)).toHaveLength(1);
    expect(unknownLines(lines)[0]).toMatchObject({ count: 2 });
    for (const c of calls) sim.callerHangup(c.channelId);
    await Promise.all(calls.map((c) => c.done));
  });
});

describe('a gate that hangs: the dialplan backstop (issue 12.4)', () => {
  test('a gate process that stopped answering (its socket open, nothing sent) no longer holds the call: refused by the dialplan after its TIMEOUT(absolute)', async () => {
    const stopped = await bareApp(sim); // what Asterisk sees of a SIGSTOPped gate
    const call = dial(sim, '0612345678');
    const r = await Promise.race([call.done, sleep(6_000).then(() => undefined)]);
    expect(r).toBeDefined();
    expect(r!.timedOut).toBe(true);
    expect(r!.cause).toBe(21);
    expect(r!.vars).toMatchObject({ CALLGATE_VERDICT: 'block', CALLGATE_REASONS: 'gate_unavailable' });
    stopped.close();
    if (!r) sim.callerHangup(call.channelId);
  }, 10_000);

  test('an allowed call talking longer than the backstop is not cut: the gate clears it in the request that sets its variables (3 requests per call)', async () => {
    await simWith({ trunk: () => ({ result: 'answer', talkMs: 4_300 }) });
    run = await startAdapter(sim, gate);
    const call = dial(sim, '0612345678');
    const r = await call.done;
    expect(r.timedOut).toBeUndefined();
    expect(r.cause).toBe(16);
    expect(r.upMs).toBeGreaterThanOrEqual(4_300);
    const mine = sim.rest.filter((q) => q.path.includes(call.channelId) || q.query.includes(call.channelId));
    expect(mine.map((q) => `${q.method} ${q.path.replace(call.channelId, 'ID')}`).sort()).toEqual([
      'POST /ari/applications/callgate/subscription',
      'POST /ari/channels/ID/continue',
      'POST /ari/channels/ID/variables',
    ]);
    const vars = JSON.parse(mine.find((q) => q.path.endsWith('/variables'))!.body!) as {
      variables: Record<string, string>;
    };
    expect(vars.variables['TIMEOUT(absolute)']).toBe('0');
    expect(vars.variables.CALLGATE_VERDICT).toBe('allow');
  }, 10_000);

  test("the adapter's backstop comes first: a gate that never answers gets policy.failMode from the adapter, the dialplan's never fires", async () => {
    gate.delayMs = Infinity;
    run = await startAdapter(sim, gate, { deadlineMs: 50 });
    const r = await dial(sim, '0612345678').done;
    expect(r.timedOut).toBeUndefined();
    expect(r.cause).toBe(21);
    expect(gate.failModeCalls).toHaveLength(1);
  });

  test("a dialplan backstop that could fire before the adapter's is reported once, with what to change", async () => {
    const { logger, lines } = captureLogger('error');
    // 3000 + 250 + 1000 + 250 ms margin = 4.5 s, more than the snippet's 4 s
    run = await startAdapter(sim, gate, { deadlineMs: 3_000 }, logger);
    await dial(sim, '0612345678').done;
    await dial(sim, '0612345679').done;
    const warned = lines.filter((l) => l.code === 'CG_ERR_CONFIG');
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ dialplanBackstopS: expect.any(Number), neededS: 4.5 });
    expect(String(warned[0]!.msg)).toMatch(/raise it to at least 4\.5/);
  });

  test('with the default settings the order holds and nothing is reported', async () => {
    const { logger, lines } = captureLogger('error');
    run = await startAdapter(sim, gate, { requestTimeoutMs: 2_000 }, logger);
    await dial(sim, '0612345678').done;
    expect(lines.filter((l) => l.code === 'CG_ERR_CONFIG')).toEqual([]);
  });
});

describe('one name for one thing (issue 12.5)', () => {
  test('CALLGATE_POSTAL_CODE and CALLGATE_TIME_ZONE reach the attempt; the old CALLGATE_POSTCODE is not read', async () => {
    run = await startAdapter(sim, gate);
    await dial(sim, '0694123456', { vars: { CALLGATE_POSTAL_CODE: '97300', CALLGATE_TIME_ZONE: 'America/Cayenne' } })
      .done;
    await dial(sim, '0612345678', { vars: { CALLGATE_POSTCODE: '67000' } }).done;
    expect(gate.attempts[0]!.contact).toEqual({ postalCode: '97300', timeZone: 'America/Cayenne' });
    expect(gate.attempts[1]!.contact).toBeUndefined();
  });

  test("the README's variable table lists every CALLGATE_* variable of the snippet and of the adapter, and nothing else", () => {
    const readme = fs.readFileSync(path.join(repoRoot(), 'dialplan', 'asterisk', 'README.md'), 'utf8');
    const adapter = fs.readFileSync(path.join(repoRoot(), 'src', 'pbx', 'asterisk', 'adapter.ts'), 'utf8');
    const inTable = new Set([...readme.matchAll(/^\| `(CALLGATE_[A-Z_]+)`/gm)].map((m) => m[1]));
    const used = new Set([...`${shippedDialplan()}\n${adapter}`.matchAll(/CALLGATE_[A-Z_]+/g)].map((m) => m[0]));
    expect([...inTable].sort()).toEqual([...used].sort());
    expect(inTable.has('CALLGATE_POSTCODE')).toBe(false);
  });
});
