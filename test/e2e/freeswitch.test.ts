/**
 * End to end: the shipped dialplan (verbatim) in the Event Socket simulator, the real `esl` package,
 * the FreeSWITCH adapter, the real Gate and the memory store.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { parseConfig, type Config } from '../../src/config';
import { fixedClock } from '../../src/gate/clock';
import { Gate } from '../../src/gate/gate';
import type { Store } from '../../src/gate/store';
import { MemoryStore } from '../../src/store';
import { parseDialplan } from '../../src/sim/esl/dialplan';
import { readSample } from '../../src/sim/esl/transcript';
import { EslSimulator } from '../../src/sim/esl/simulator';
import { captureLogger, rig, SHIPPED_DIALPLAN, type Rig } from './freeswitch-helpers';
import { stillReachable, trackingGate } from './leak-check';
import { fakeFailModeDecision } from '../gate/fake-fail-mode';

const CONSENTED = '+33612345678';
const CALLER = '0162000001';

function config(extra = ''): Config {
  return parseConfig(
    `
store: {driver: memory}
professionals:
  - id: acme
    callerIds: ['+33162000001']
campaigns:
  - {id: acme-energy, professional: acme, dialing: manual, categories: [energy-supply]}
clock: {mode: fixed, at: '2026-11-30T09:30:00Z'}
${extra}`,
    'test',
  );
}

async function gateWith(
  opts: { extra?: string; store?: Store; consent?: string[] } = {},
): Promise<{ gate: Gate; store: Store }> {
  const store = opts.store ?? new MemoryStore();
  for (const e164 of opts.consent ?? [CONSENTED]) {
    await store.addConsent({
      e164,
      professional: 'acme',
      categories: [],
      collectedAt: new Date('2026-10-01T00:00:00Z'),
    });
  }
  const cfg = config(opts.extra);
  const gate = new Gate({
    store,
    config: cfg,
    clock: fixedClock(new Date('2026-11-30T09:30:00Z')),
    logger: captureLogger().logger,
  });
  return { gate, store };
}

function call(r: Rig, to: string, extra: Record<string, string> = {}) {
  return r.sim.placeCall({
    to,
    context: 'callgate-outbound',
    callerIdNumber: CALLER,
    variables: { callgate_campaign: 'acme-energy', ...extra },
  }).done;
}

async function until(f: () => boolean | Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

let r: Rig | undefined;
afterEach(async () => {
  await r?.close();
  r = undefined;
});

test('an allowed call is transferred to the allow context with its callgate_* variables, and the scheduled hangup is cancelled', async () => {
  const { gate, store } = await gateWith();
  r = await rig({ gate, sim: { callee: () => ({ answerAfterMs: 5, talkMs: 30 }) } });
  const rec = await call(r, '0612345678');
  expect(rec.transfers).toEqual([{ ext: '0612345678', context: 'callgate-allowed' }]);
  expect(rec.vars['callgate_verdict']).toBe('allow');
  expect(rec.vars['callgate_basis']).toBe('consent');
  const id = rec.vars['callgate_decision_id'] as string;
  expect(rec.vars['sip_h_X-Callgate-Decision']).toBe(`${id};verdict=allow`);
  expect(rec.vars['callgate_reasons']).toBeUndefined();
  expect(rec.apps.filter((a) => a.via === 'sendmsg').map((a) => a.app)).toEqual([
    'set',
    'set',
    'set',
    'set',
    'set',
    'sched_cancel',
    'transfer',
  ]);
  expect(rec.apps.at(-1)).toMatchObject({ app: 'bridge', data: 'sofia/gateway/trunk/0612345678', via: 'dialplan' });
  expect(rec.hangupCause).toBe('NORMAL_CLEARING');
  const h = await store.history(CONSENTED, 'acme');
  expect(h.attempts.map((a) => a.decisionId)).toEqual([id]);
  expect(h.decisions[0]?.decision.source).toEqual({ pbx: 'freeswitch', channelId: rec.uuid });
});

test('a blocked call is hung up with CALL_REJECTED, its reasons in callgate_reasons; the hangup frame matches the recorded one byte for byte', async () => {
  const { gate } = await gateWith({ consent: [] });
  r = await rig({ gate });
  const rec = await call(r, '0612345678');
  expect(rec.hangupCause).toBe('CALL_REJECTED');
  expect(rec.transfers).toEqual([]);
  expect(rec.vars['callgate_verdict']).toBe('block');
  expect(rec.vars['callgate_reasons']).toBe('no_consent');
  const recorded = readSample('18-outbound-denied-hangup-CALL_REJECTED.txt')[0]!.bytes.toString();
  const sent = rec.sockets[0]!.received.find((c) => c.headers.get('call-command') === 'hangup')!.raw.toString();
  expect(sent).toBe(recorded.replace('0b321920-4426-4210-93cc-c26b7979cdea', rec.uuid));
});

/** The gate side of every connection the outbound server accepts (its private net.Server, read for this check only). */
function gateSideSockets(x: Rig): Set<net.Socket> {
  const sockets = new Set<net.Socket>();
  (x.adapter.server as unknown as { server: net.Server }).server.on('connection', (s) => sockets.add(s));
  return sockets;
}

test('one write per batch (connect; variables; release); every connection ends once its call is released, refused or dropped: none is kept, and the gate never ends a socket Node has already finished', async () => {
  // esl, left to itself, ended a connection on its socket's close: socket.end() on a finished socket
  const late: string[] = [];
  let gateSockets = new Set<net.Socket>();
  const end = net.Socket.prototype.end;
  const write = net.Socket.prototype.write;
  let writes = 0;
  const writeSpy = jest.spyOn(net.Socket.prototype, 'write').mockImplementation(function (
    this: net.Socket,
    ...args: unknown[]
  ): boolean {
    if (gateSockets.has(this)) writes++;
    return (write as (...a: unknown[]) => boolean).apply(this, args);
  });
  const spy = jest.spyOn(net.Socket.prototype, 'end').mockImplementation(function (
    this: net.Socket,
    ...args: unknown[]
  ): net.Socket {
    if (gateSockets.has(this) && (this.writableFinished || this.destroyed))
      late.push(this.destroyed ? 'end() on a destroyed socket' : 'end() on a finished socket');
    return (end as (...a: unknown[]) => net.Socket).apply(this, args);
  });
  try {
    const { gate } = await gateWith();
    r = await rig({ gate });
    gateSockets = gateSideSockets(r);
    const allowed = await call(r, '0612345678');
    const blocked = await call(r, '0698765432');
    expect(allowed.transfers).toEqual([{ ext: '0612345678', context: 'callgate-allowed' }]);
    expect(blocked.hangupCause).toBe('CALL_REJECTED');
    await until(() => r?.adapter.server.openConnections === 0, 'the released connections to close');
    expect(gateSockets.size).toBe(2);
    expect(writes).toBe(6);
    await r.close();

    // dropped: every sendmsg answered -ERR; the adapter ends the connection itself
    r = await rig({
      gate,
      config: { commandTimeoutMs: 300 },
      sim: { inject: { errReply: [{ match: /^sendmsg/, reply: '-ERR invalid session id [x]' }] } },
    });
    gateSockets = gateSideSockets(r);
    const dropped = await call(r, '0612345678');
    expect(dropped.hangupCause).toBe('CALL_REJECTED');
    expect(r.adapter.server.stats.dropped).toBe(1);
    await until(() => r?.adapter.server.openConnections === 0, 'the dropped connection to close');
    expect([...gateSockets].map((s) => s.destroyed)).toEqual([true]);
  } finally {
    spy.mockRestore();
    writeSpy.mockRestore();
  }
  expect(late).toEqual([]);
});

test('gate down: the shipped dialplan refuses the call (socket fails, hangup CALL_REJECTED)', async () => {
  const { gate } = await gateWith();
  r = await rig({ gate, startAdapter: false, inbound: false });
  const rec = await call(r, '0612345678');
  expect(rec.apps.map((a) => a.app)).toEqual(['sched_hangup', 'socket', 'set', 'set', 'hangup']);
  expect(rec.hangupCause).toBe('CALL_REJECTED');
  expect(rec.vars).toMatchObject({ callgate_verdict: 'block', callgate_reasons: 'gate_unavailable' });
  expect(rec.sockets).toEqual([]);
});

test('connection cut in mid-call (before the transfer): the dialplan goes on and refuses the call', async () => {
  const { gate } = await gateWith();
  r = await rig({ gate, sim: { inject: { cutOutboundOn: /execute transfer/ } } });
  const rec = await call(r, '0612345678');
  expect(rec.transfers).toEqual([]);
  expect(rec.hangupCause).toBe('CALL_REJECTED');
  expect(rec.apps.at(-1)).toMatchObject({ app: 'hangup', data: 'CALL_REJECTED', via: 'dialplan' });
});

test('-ERR replies and slow replies: the adapter drops the socket and the dialplan fails closed', async () => {
  const { gate } = await gateWith();
  r = await rig({
    gate,
    config: { commandTimeoutMs: 150 },
    sim: { inject: { errReply: [{ match: /^sendmsg/, reply: '-ERR invalid session id [x]' }] } },
  });
  const rec = await call(r, '0612345678');
  expect(rec.hangupCause).toBe('CALL_REJECTED');
  expect(r.lines.some((l) => l.code === 'CG_ERR_FS_COMMAND')).toBe(true);
  await r.close();

  r = await rig({
    gate,
    config: { commandTimeoutMs: 150 },
    sim: { inject: { delay: [{ match: /^sendmsg/, ms: 400 }] } },
  });
  const slow = await call(r, '0612345678');
  expect(slow.transfers).toEqual([]);
  expect(slow.hangupCause).toBe('CALL_REJECTED');
});

test('deadline: a slow store makes the gate answer with the fail mode (closed: CALL_REJECTED, gate_unavailable)', async () => {
  const inner = new MemoryStore();
  const slow = new Proxy(inner, {
    get(t, p, rcv) {
      const v = Reflect.get(t, p, rcv) as unknown;
      if (p === 'getFacts' || p === 'decideAndCommit')
        return async (...a: unknown[]) =>
          new Promise((res) => setTimeout(() => res((v as (...x: unknown[]) => unknown).apply(t, a)), 300));
      return typeof v === 'function' ? (v as (...x: unknown[]) => unknown).bind(t) : v;
    },
  }) as Store;
  const { gate } = await gateWith({ store: slow, extra: 'gate: {deadlineMs: 30}' });
  r = await rig({ gate });
  const rec = await call(r, '0612345678');
  expect(rec.hangupCause).toBe('CALL_REJECTED');
  expect(rec.vars['callgate_reasons']).toBe('gate_unavailable');
});

test('a gate that accepts the call and never answers: the backstop drops it and the dialplan refuses it', async () => {
  const never = {
    clock: fixedClock(new Date()),
    decide: () => new Promise<never>(() => undefined),
    recordOutcome: async () => undefined,
    failModeDecision: fakeFailModeDecision,
  };
  r = await rig({ gate: never, deadlineMs: 1 });
  const rec = await call(r, '0612345678');
  expect(rec.hangupCause).toBe('CALL_REJECTED');
  expect(rec.apps.map((a) => a.app)).toEqual(['sched_hangup', 'socket', 'set', 'set', 'hangup']);
});

test('stop() while a call waits for the gate: the call is dropped and refused at once, stop() does not wait for the gate', async () => {
  let asked!: () => void;
  const waiting = new Promise<void>((res) => (asked = res));
  const never = {
    clock: fixedClock(new Date()),
    decide: () => {
      asked();
      return new Promise<never>(() => undefined);
    },
    recordOutcome: async () => undefined,
    failModeDecision: fakeFailModeDecision,
  };
  r = await rig({ gate: never, inbound: false, deadlineMs: 60_000, config: { commandTimeoutMs: 3000 } });
  const done = call(r, '0612345678');
  await waiting;
  const t0 = Date.now();
  await r.adapter.stop();
  // neither the gate (60 s) nor a command's timeout (3 s) was waited for; a loaded CI machine
  // may take a while to close sockets, so the bound is the shorter of those two, not a speed
  expect(Date.now() - t0).toBeLessThan(3000);
  const rec = await done;
  expect(rec.hangupCause).toBe('CALL_REJECTED');
  expect(r.adapter.server.stats).toMatchObject({ connections: 1, allowed: 0, dropped: 1 });
});

test("a hung gate process: the dialplan's sched_hangup deadline refuses the call", async () => {
  const never = {
    clock: fixedClock(new Date()),
    decide: () => new Promise<never>(() => undefined),
    recordOutcome: async () => undefined,
    failModeDecision: fakeFailModeDecision,
  };
  r = await rig({ gate: never, deadlineMs: 60_000, backstopS: 1 });
  const rec = await call(r, '0612345678');
  expect(rec.hangupCause).toBe('CALL_REJECTED');
  expect(rec.apps.map((a) => a.app)).toEqual(['sched_hangup', 'socket']);
});

test('the outcome of an allowed call is recorded on its attempt from the inbound connection, also after a reconnect', async () => {
  const { gate, store } = await gateWith();
  r = await rig({ gate, sim: { callee: () => ({ answerAfterMs: 5, talkMs: 40 }) } });
  const rec = await call(r, '0612345678');
  const id = rec.vars['callgate_decision_id'];
  await until(async () => (await store.history(CONSENTED, 'acme')).attempts[0]?.outcome !== undefined, 'the outcome');
  const o = (await store.history(CONSENTED, 'acme')).attempts[0]!.outcome!;
  expect(o).toMatchObject({ answered: true, hangupCause: 'NORMAL_CLEARING', dialStatus: 'SUCCESS' });
  expect(o.durationMs).toBeGreaterThan(0);
  expect((await store.history(CONSENTED, 'acme')).attempts[0]!.decisionId).toBe(id);

  // Cut the inbound connection: the follower reconnects and its listeners are attached again.
  const before = r.adapter.outcomes!.stats.connects;
  r.sim.dropInboundConnections();
  await until(
    () => r!.adapter.outcomes!.stats.connects > before && r!.sim.inboundSessionCount() === 1,
    'the reconnection',
  );
  await call(r, '0612345678');
  await until(
    async () => (await store.history(CONSENTED, 'acme')).attempts.filter((a) => a.outcome).length === 2,
    'the second outcome',
  );
});

test('the 5th attempt in 30 days is refused with frequency_limit', async () => {
  const { gate } = await gateWith();
  r = await rig({ gate });
  const verdicts: string[] = [];
  for (let i = 0; i < 5; i++) verdicts.push((await call(r, '0612345678')).vars['callgate_verdict'] as string);
  expect(verdicts).toEqual(['allow', 'allow', 'allow', 'allow', 'block']);
  const fifth = r.sim.records.at(-1)!;
  expect(fifth.hangupCause).toBe('CALL_REJECTED');
  expect(fifth.vars['callgate_reasons']).toBe('frequency_limit');
});

test('a burst of 500 concurrent calls (100 numbers × 5): every call decided, none lost, exactly 4 allowed per number', async () => {
  const numbers = Array.from({ length: 100 }, (_, i) => `06123${String(i).padStart(5, '0')}`);
  // Sim, gate and store share one event loop here, so the last of 500 simultaneous calls waits for the
  // CPU time of all the others: deadlines are widened so that the test checks loss, not speed (bench/).
  const { gate } = await gateWith({
    consent: numbers.map((n) => `+33${n.slice(1)}`),
    extra: 'gate: {deadlineMs: 60000}',
  });
  r = await rig({ gate, inbound: false, backstopS: 120, deadlineMs: 90_000, config: { commandTimeoutMs: 60_000 } });
  const recs = await Promise.all(numbers.flatMap((n) => Array.from({ length: 5 }, () => call(r!, n))));
  expect(recs).toHaveLength(500);
  expect(recs.every((x) => typeof x.vars['callgate_decision_id'] === 'string')).toBe(true);
  const byNumber = new Map<string, string[]>();
  for (const x of recs) byNumber.set(x.to, [...(byNumber.get(x.to) ?? []), x.vars['callgate_verdict'] as string]);
  for (const [, v] of byNumber) expect(v.sort()).toEqual(['allow', 'allow', 'allow', 'allow', 'block']);
  for (const x of recs) {
    if (x.vars['callgate_verdict'] === 'allow') expect(x.transfers).toHaveLength(1);
    else expect([x.hangupCause, x.vars['callgate_reasons']]).toEqual(['CALL_REJECTED', 'frequency_limit']);
  }
  expect(r.adapter.server.stats).toMatchObject({ connections: 500, allowed: 400, blocked: 100, dropped: 0 });
});

test('a finished call leaves nothing behind: its decision can be garbage collected while the gate keeps running', async () => {
  const numbers = Array.from({ length: 40 }, (_, i) => `06124${String(i).padStart(5, '0')}`);
  const { gate } = await gateWith({ consent: numbers.map((n) => `+33${n.slice(1)}`) });
  const t = trackingGate(gate);
  r = await rig({ gate: t.gate, inbound: false });
  for (const n of numbers) await call(r, n);
  expect(t.seen).toHaveLength(40);
  expect(await stillReachable(t.seen)).toBe(0);
});

test('a wrong inbound password is reported once as a clear error, with no reconnect loop, and calls are still gated', async () => {
  const { gate } = await gateWith();
  r = await rig({ gate, config: { inbound: { password: 'wrong' } } });
  await expect(r.adapter.outcomes!.ready(5000)).rejects.toThrow(/CG_ERR_FS_INBOUND_AUTH/);
  await new Promise((res) => setTimeout(res, 700)); // esl alone would have reconnected 3 times by now
  expect(r.sim.inboundLog).toHaveLength(1);
  const errors = r.lines.filter((l) => l.code === 'CG_ERR_FS_INBOUND_AUTH');
  expect(errors).toHaveLength(1);
  expect(errors[0]!.msg).toMatch(/freeswitch\.inbound\.password/);
  expect(JSON.stringify(r.lines)).not.toContain('wrong');
  expect((await call(r, '0612345678')).vars['callgate_verdict']).toBe('allow');
});

test('a socket app without `full`: reported once with what to fix, the stuck connection dropped, the call refused', async () => {
  const { gate } = await gateWith();
  r = await rig({ gate, config: { commandTimeoutMs: 100 }, inbound: false });
  const xml = readFileSync(SHIPPED_DIALPLAN, 'utf8').replace('$${callgate_socket} full"', () => '$${callgate_socket}"');
  const sim = new EslSimulator({ dialplan: parseDialplan(xml, { callgate_socket: `127.0.0.1:${r.gatePort}` }) });
  const recs = await Promise.all(
    [1, 2].map(() => sim.placeCall({ to: '0612345678', context: 'callgate-outbound', callerIdNumber: CALLER }).done),
  );
  expect(recs.map((x) => x.hangupCause)).toEqual(['CALL_REJECTED', 'CALL_REJECTED']);
  expect(r.lines.filter((l) => l.code === 'CG_ERR_FS_NOT_FULL')).toHaveLength(1);
  await sim.close();
});

test('async mode (the commented alternative of the dialplan): parked, released through the park loop', async () => {
  const { gate } = await gateWith();
  r = await rig({ gate, config: { mode: 'async' }, inbound: false });
  const xml = readFileSync(SHIPPED_DIALPLAN, 'utf8')
    .replace(/<action application="sched_hangup"[^>]*\/>/, () => '')
    .replace(
      '<action application="socket" data="$${callgate_socket} full"/>',
      () =>
        '<action application="set" data="park_timeout=$${callgate_backstop_s}:CALL_REJECTED"/><action application="socket" data="$${callgate_socket} async full"/>',
    );
  const sim = new EslSimulator({ dialplan: parseDialplan(xml, { callgate_socket: `127.0.0.1:${r.gatePort}` }) });
  const rec = await sim.placeCall({
    to: '0612345678',
    context: 'callgate-outbound',
    callerIdNumber: CALLER,
    variables: { callgate_campaign: 'acme-energy' },
  }).done;
  expect(rec.sockets[0]!.mode).toBe('async');
  expect(rec.transfers).toEqual([{ ext: '0612345678', context: 'callgate-allowed' }]);
  expect(rec.apps.some((a) => a.app === 'sched_cancel')).toBe(false);
  await sim.close();
});
