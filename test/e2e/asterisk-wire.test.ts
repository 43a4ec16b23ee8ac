/**
 * The Asterisk adapter against the ARI simulator, with a small in-test GateService so these
 * tests pin the adapter's wire behaviour (variables, continue, hangup cause, reconnect, replace)
 * independently of the rules. The rules end-to-end run in asterisk.test.ts with the real Gate.
 */
import { dial, startAdapter, startSim, until, type Running } from '../../src/sim/ari/harness';
import type { AriSimulator } from '../../src/sim/ari/server';
import { ScriptedGate } from './asterisk-scripted-gate';
import { createLogger, flushRepeats } from '../../src/gate/logger';

let sim: AriSimulator;
let gate: ScriptedGate;
let run: Running | undefined;

beforeEach(async () => {
  sim = await startSim();
  gate = new ScriptedGate();
});
afterEach(async () => {
  await run?.stop();
  run = undefined;
  await sim.stop();
});

test('allowed call: variables set, continued in allowContext at the number, dialled, outcome recorded', async () => {
  run = await startAdapter(sim, gate);
  const call = dial(sim, '0612345678', {
    campaign: 'spring',
    vars: { CALLGATE_POSTAL_CODE: '67000', CALLGATE_TIME_ZONE: 'Europe/Paris' },
  });
  const r = await call.done;
  expect(gate.attempts[0]).toMatchObject({
    to: '0612345678',
    campaignId: 'spring',
    callerId: { number: '+33123456789', presentation: 'allowed' },
    contact: { postalCode: '67000', timeZone: 'Europe/Paris' },
    source: { pbx: 'asterisk', channelId: call.channelId },
  });
  expect(r.vars).toMatchObject({
    CALLGATE_VERDICT: 'allow',
    CALLGATE_DECISION_ID: 'd1',
    CALLGATE_BASIS: 'consent',
    CALLGATE_TAGS: 'basis:consent,recording_required',
  });
  expect(r.vars.CALLGATE_REASONS).toBeUndefined();
  expect(r.trail).toContain('callgate-allowed:Dial');
  expect(r.dialed).toEqual({ dialstring: '0612345678@trunk', status: 'ANSWER' });
  await until(() => gate.outcomes.length === 1, 'outcome');
  expect(gate.outcomes[0]).toMatchObject({
    id: 'd1',
    outcome: { answered: true, dialStatus: 'ANSWER', hangupCause: '16' },
  });
  expect(gate.outcomes[0]!.outcome.durationMs).toBeGreaterThan(0);
});

test('with rest: ari-client (swagger-client/shred transport) the same calls are continued and refused', async () => {
  gate.block.set('0699999999', 'do_not_call');
  run = await startAdapter(sim, gate, { rest: 'ari-client' });
  const [ok, ko] = await Promise.all([dial(sim, '0612345678').done, dial(sim, '0699999999').done]);
  expect(ok.vars).toMatchObject({ CALLGATE_VERDICT: 'allow', CALLGATE_TAGS: 'basis:consent,recording_required' });
  expect(ok.dialed?.status).toBe('ANSWER');
  expect(ko.cause).toBe(21);
  expect(ko.vars.CALLGATE_REASONS).toBe('do_not_call');
});

test('withheld caller ID is passed as restricted (CALLERID(pres) prohib*)', async () => {
  run = await startAdapter(sim, gate);
  await dial(sim, '0612345678', { pres: 'prohib_not_screened' }).done;
  expect(gate.attempts[0]!.callerId.presentation).toBe('restricted');
});

test('a warning that comes with every call (CALLERID(pres) not passed) is written 5 times, then summed up once', async () => {
  const lines: Array<{ level: number; msg: string; repeated?: number }> = [];
  const logger = createLogger({ level: 'warn' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  run = await startAdapter(sim, gate, {}, logger);
  for (let i = 0; i < 12; i++) await dial(sim, `061234567${i % 10}`, { pres: '' }).done;
  const pres = lines.filter((l) => /CALLERID\(pres\) missing/.test(l.msg));
  expect(pres).toHaveLength(5);
  await run.stop();
  flushRepeats(logger);
  const summary = lines.filter((l) => l.repeated !== undefined);
  expect(summary).toHaveLength(1);
  expect(summary[0]).toMatchObject({ repeated: 7 });
  expect(summary[0]!.msg).toMatch(/7 more like this .*CALLERID\(pres\) missing/);
  run = undefined;
});

test('blocked call: hung up with cause 21 and the reasons in CALLGATE_REASONS', async () => {
  gate.block.set('0612345678', 'frequency_limit');
  run = await startAdapter(sim, gate);
  const r = await dial(sim, '0612345678').done;
  expect(r.cause).toBe(21);
  expect(r.vars).toMatchObject({
    CALLGATE_VERDICT: 'block',
    CALLGATE_REASONS: 'frequency_limit',
    CALLGATE_DECISION_ID: 'd1',
  });
  expect(r.dialed).toBeUndefined();
  expect(sim.rest.some((q) => q.method === 'DELETE' && q.query === '?reason=rejected')).toBe(true);
});

test('blocked call sent to the announcement context when blockContext is set', async () => {
  gate.block.set('0612345678', 'outside_calling_hours');
  run = await startAdapter(sim, gate, { blockContext: 'callgate-blocked' });
  const r = await dial(sim, '0612345678').done;
  expect(r.trail).toEqual(
    expect.arrayContaining(['callgate-blocked:Answer', 'callgate-blocked:Playback', 'callgate-blocked:Hangup']),
  );
  expect(r.cause).toBe(21);
  expect(r.dialed).toBeUndefined();
  expect(r.vars.CALLGATE_REASONS).toBe('outside_calling_hours');
});

test('gate down: the shipped dialplan refuses the call (STASISSTATUS=FAILED → cause 21)', async () => {
  const r = await dial(sim, '0612345678').done;
  expect(r.stasisStatus).toBe('FAILED');
  expect(r.cause).toBe(21);
  expect(r.dialed).toBeUndefined();
  expect(r.vars).toMatchObject({ CALLGATE_VERDICT: 'block', CALLGATE_REASONS: 'gate_unavailable' });
});

test('gate stopped: the app is unregistered and the next call is refused by the dialplan', async () => {
  run = await startAdapter(sim, gate);
  expect(sim.registeredApps()).toEqual(['callgate']);
  await run.stop();
  run = undefined;
  await until(() => sim.registeredApps().length === 0, 'app unregistered');
  const r = await dial(sim, '0612345678').done;
  expect(r.stasisStatus).toBe('FAILED');
  expect(r.cause).toBe(21);
});

test('stop() while reconnecting: no retry afterwards, the app is never registered again', async () => {
  run = await startAdapter(sim, gate);
  const blackout = sim.blackoutFor(300); // the gate loses Asterisk and starts retrying
  await until(() => sim.registeredApps().length === 0, 'dropped');
  await new Promise((r) => setTimeout(r, 120)); // a few retries happen
  await run.stop();
  run = undefined;
  await blackout;
  const seen = sim.upgrades;
  await new Promise((r) => setTimeout(r, 600)); // longer than reconnectMaxMs (400)
  expect(sim.upgrades).toBe(seen);
  expect(sim.registeredApps()).toEqual([]);
});

test('a gate that does not answer at all: the adapter backstop applies asterisk.failMode (closed)', async () => {
  gate.delayMs = Infinity;
  run = await startAdapter(sim, gate, { deadlineMs: 50 });
  const r = await dial(sim, '0612345678').done;
  expect(r.cause).toBe(21);
  expect(r.vars).toMatchObject({ CALLGATE_VERDICT: 'block', CALLGATE_REASONS: 'gate_unavailable' });
});

test('backstop with failMode open continues the call', async () => {
  gate.delayMs = Infinity;
  gate.failMode = 'open';
  run = await startAdapter(sim, gate, { deadlineMs: 50, failMode: 'open' });
  const r = await dial(sim, '0612345678').done;
  expect(r.dialed?.status).toBe('ANSWER');
  expect(r.vars.CALLGATE_TAGS).toContain('gate_unavailable');
});

test('connection dropped mid-decision: the decision lands after the reconnect, decided once', async () => {
  gate.delayMs = 100;
  run = await startAdapter(sim, gate, { deadlineMs: 2000, requestTimeoutMs: 200 });
  const call = dial(sim, '0612345678');
  await until(() => gate.attempts.length === 1, 'decision started');
  const blackout = sim.blackoutFor(400); // the decision completes while nothing answers
  const r = await call.done;
  await blackout;
  expect(gate.attempts).toHaveLength(1);
  expect(r.vars.CALLGATE_VERDICT).toBe('allow');
  expect(r.dialed?.status).toBe('ANSWER');
  expect(sim.registeredApps()).toEqual(['callgate']);
});

test('a channel that entered Stasis while the gate was disconnected is decided after the reconnect', async () => {
  run = await startAdapter(sim, gate, { requestTimeoutMs: 200 });
  // The adapter's look for orphans right after connecting is done before the call comes.
  await until(
    () => sim.rest.some((q) => q.method === 'GET' && q.path === '/ari/applications/callgate'),
    'first recovery scan',
  );
  await new Promise((r) => setTimeout(r, 50));
  sim.muteEvents = true; // its StasisStart is lost with the connection
  const call = dial(sim, '0687654321');
  await until(() => sim.inStasis() === 1, 'channel waiting in Stasis');
  const blackout = sim.blackoutFor(100);
  sim.muteEvents = false;
  await blackout;
  const r = await call.done;
  expect(sim.sent.some((s) => s.event.type === 'StasisStart')).toBe(false); // never delivered
  expect(gate.attempts).toHaveLength(1);
  expect(gate.attempts[0]!.to).toBe('0687654321');
  expect(r.vars.CALLGATE_VERDICT).toBe('allow');
  expect(r.dialed?.status).toBe('ANSWER');
});

test('the agent hangs up while the gate decides: nothing is sent to the dead channel, the allowed attempt gets an outcome', async () => {
  gate.delayMs = 100;
  run = await startAdapter(sim, gate);
  const call = dial(sim, '0612345678');
  await until(() => gate.attempts.length === 1, 'deciding');
  expect(sim.callerHangup(call.channelId)).toBe(true);
  await call.done;
  await until(() => gate.outcomes.length === 1, 'outcome');
  expect(gate.outcomes[0]).toMatchObject({ id: 'd1', outcome: { answered: false, durationMs: 0, hangupCause: '16' } });
  expect(sim.rest.some((q) => q.path.endsWith('/continue'))).toBe(false);
});

test('connecting prints nothing on stdout (swagger-client\'s "deprecated version of Swagger" line is routed to the logger)', async () => {
  const spy = jest.spyOn(console, 'log');
  const write = jest.spyOn(process.stdout, 'write');
  try {
    run = await startAdapter(sim, gate);
    expect(spy).not.toHaveBeenCalled();
    expect(write.mock.calls.map((c) => String(c[0])).join('')).not.toMatch(/Swagger/);
  } finally {
    spy.mockRestore();
    write.mockRestore();
  }
  expect(sim.rest.some((q) => q.path === '/ari/api-docs/resources.json')).toBe(true);
});

test('wrong password: start() rejects with one clear error, no uncaught exception', async () => {
  const { newAdapter } = await import('../../src/sim/ari/harness');
  const a = newAdapter(sim, gate, { password: 'wrong' });
  await expect(a.start()).rejects.toThrow(/refused user 'callgate'.*check asterisk.username\/password/);
  await a.stop();
});

test('a resource of the API description refused: no uncaught throw from swagger-client, retried until it loads', async () => {
  sim.apiDocsFault = (file) => (file === 'channels' ? 500 : undefined);
  run = await startAdapter(sim, gate); // resolves: Asterisk not usable yet, retrying in the background
  expect(sim.registeredApps()).toEqual([]);
  await until(() => sim.rest.filter((q) => q.path === '/ari/api-docs/channels.json').length >= 2, 'a retry');
  sim.apiDocsFault = undefined;
  await until(() => sim.registeredApps().length === 1, 'registered once the description loads');
  const r = await dial(sim, '0612345678').done;
  expect(r.vars.CALLGATE_VERDICT).toBe('allow');
});

test('a second gate on the same app name: ApplicationReplaced is logged as an error', async () => {
  const lines: string[] = [];
  const pino = (await import('pino')).default;
  const logger = pino({ level: 'error' }, { write: (s: string) => void lines.push(s) });
  run = await startAdapter(sim, gate, {}, logger);
  const second = await startAdapter(sim, new ScriptedGate());
  await until(
    () => lines.some((l) => l.includes('ApplicationReplaced') || l.includes('another ARI client registered')),
    'error logged',
  );
  expect(lines.join('\n')).toMatch(/another ARI client registered the Stasis app 'callgate'/);
  await second.stop();
});

test('burst: 500 concurrent attempts for distinct numbers are all decided, none lost', async () => {
  // What is tested is that none is lost, not how fast: a deadline no loaded CI machine reaches (with the
  // default 500 ms, a 2-vCPU machine at load 11 answered some of the 500 in the fail mode, as it should).
  run = await startAdapter(sim, gate, { deadlineMs: 3000 });
  const calls = Array.from({ length: 500 }, (_, i) => dial(sim, `06${String(10000000 + i)}`));
  const results = await Promise.all(calls.map((c) => c.done));
  expect(gate.attempts).toHaveLength(500);
  expect(new Set(gate.attempts.map((a) => a.to)).size).toBe(500);
  const notThrough = results.filter((r) => !(r.vars.CALLGATE_VERDICT === 'allow' && r.dialed?.status === 'ANSWER'));
  expect(notThrough.map((r) => [r.vars.CALLGATE_VERDICT, r.vars.CALLGATE_REASONS, r.dialed?.status])).toEqual([]);
  await until(() => gate.outcomes.length === 500, 'all outcomes');
});
