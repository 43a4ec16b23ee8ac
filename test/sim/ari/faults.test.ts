/**
 * The ARI simulator reproduces what a real Asterisk does to a gate (issue 12), before the gate is
 * asked to cope with it: application event filters, TIMEOUT(absolute) on a channel held in Stasis,
 * a WebSocket drop (the app deactivated, its events missed), a restart (nothing listening, then back
 * with no channel and no app), and an Answer() allow path. These tests speak to it with bare
 * clients (`ws`, `http`), not with the gate.
 */
import * as net from 'node:net';
import {
  ariRequest,
  bareApp,
  dial,
  putEventFilter,
  shippedDialplan,
  startSim,
  until,
} from '../../../src/sim/ari/harness';
import type { AriSimulator } from '../../../src/sim/ari/server';

let sim: AriSimulator;
afterEach(async () => {
  await sim.stop();
});

const types = (events: Array<Record<string, unknown>>) => events.map((e) => e.type as string);

describe('application event filters (PUT /applications/{app}/eventFilter)', () => {
  beforeEach(async () => {
    sim = await startSim();
  });

  test('the body is the filter: only allowed types are serialised, the rest is counted as filtered out', async () => {
    const app = await bareApp(sim);
    const r = await putEventFilter(sim, JSON.stringify({ allowed: [{ type: 'StasisStart' }, { type: 'StasisEnd' }] }));
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      events_allowed: [{ type: 'StasisStart' }, { type: 'StasisEnd' }],
      events_disallowed: [],
    });
    const before = sim.serialised;
    const call = dial(sim, '0612345678');
    await until(() => sim.inStasis() === 1, 'in Stasis');
    await ariRequest(sim, 'DELETE', `/ari/channels/${call.channelId}?reason=rejected`);
    await call.done;
    await until(() => types(app.events).includes('StasisEnd'), 'StasisEnd');
    expect(types(app.events).filter((t) => t !== 'ApplicationRegistered')).toEqual(['StasisStart', 'StasisEnd']);
    expect(sim.serialised - before).toBe(2);
    expect(sim.filteredOut).toBeGreaterThan(0); // ChannelVarset, ChannelDialplan, ChannelHangupRequest…
    app.close();
  });

  test('a body wrapped in the parameter name ({"filter":{…}}, as a generic swagger client sends it) changes nothing', async () => {
    const app = await bareApp(sim);
    const r = await putEventFilter(sim, JSON.stringify({ filter: { allowed: [{ type: 'StasisStart' }] } }));
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ events_allowed: [], events_disallowed: [] });
    expect(sim.eventFilter('callgate')).toEqual({ allowed: [], disallowed: [] });
    // an empty body empties both lists; a malformed list is refused
    await putEventFilter(sim, JSON.stringify({ disallowed: [{ type: 'ChannelVarset' }] }));
    expect(sim.eventFilter('callgate')).toEqual({ allowed: [], disallowed: ['ChannelVarset'] });
    expect((await putEventFilter(sim, JSON.stringify({ allowed: ['StasisStart'] }))).status).toBe(400);
    expect(sim.eventFilter('callgate')).toEqual({ allowed: [], disallowed: ['ChannelVarset'] });
    await putEventFilter(sim, '');
    expect(sim.eventFilter('callgate')).toEqual({ allowed: [], disallowed: [] });
    app.close();
  });
});

describe('TIMEOUT(absolute)', () => {
  beforeEach(async () => {
    sim = await startSim();
  });

  test('a channel held in Stasis by an app that never answers (a stopped gate) leaves at the timeout: StasisEnd, no hangup request, the T extension refuses it', async () => {
    const app = await bareApp(sim);
    const call = dial(sim, '0612345678');
    await until(() => app.events.some((e) => e.type === 'StasisStart'), 'StasisStart');
    const start = app.events.find((e) => e.type === 'StasisStart') as { args: string[] };
    // The shipped snippet passes what is left of its backstop: "3.999" or so, seconds.
    expect(Number(start.args[6])).toBeGreaterThan(3.9);
    expect(Number(start.args[6])).toBeLessThanOrEqual(4);
    const r = await call.done;
    expect(r.timedOut).toBe(true);
    expect(r.cause).toBe(21);
    expect(r.vars).toMatchObject({ CALLGATE_VERDICT: 'block', CALLGATE_REASONS: 'gate_unavailable' });
    expect(r.trail).toContain('callgate-outbound:Hangup');
    const mine = app.events.filter((e) => (e.channel as { id?: string } | undefined)?.id === call.channelId);
    const seq = types(mine);
    expect(seq.indexOf('StasisEnd')).toBeGreaterThan(seq.indexOf('StasisStart'));
    expect(seq.slice(seq.indexOf('StasisStart'), seq.indexOf('StasisEnd'))).not.toContain('ChannelHangupRequest');
    app.close();
  }, 10_000);

  test('cleared by a variables request (TIMEOUT(absolute)=0) while in Stasis, it never fires', async () => {
    const app = await bareApp(sim);
    const call = dial(sim, '0612345678');
    await until(() => sim.inStasis() === 1, 'in Stasis');
    const set = await ariRequest(
      sim,
      'POST',
      `/ari/channels/${call.channelId}/variables`,
      JSON.stringify({ variables: { 'TIMEOUT(absolute)': '0', CALLGATE_VERDICT: 'allow' } }),
    );
    expect(set.status).toBe(204);
    const got = await ariRequest(sim, 'GET', `/ari/channels/${call.channelId}`);
    expect(got.status).toBe(200);
    await new Promise((r) => setTimeout(r, 4_300)); // past the snippet's 4 s
    expect(sim.inStasis()).toBe(1);
    await ariRequest(sim, 'DELETE', `/ari/channels/${call.channelId}`);
    const r = await call.done;
    expect(r.timedOut).toBeUndefined();
    expect(r.cause).toBe(16);
    app.close();
  }, 10_000);
});

describe('an Answer() allow path', () => {
  test('the channel goes Up without any Dial event or DIALSTATUS', async () => {
    sim = await startSim({
      dialplan: [
        shippedDialplan(),
        '[ivr-allowed]\nexten => _[+0-9].,1,Answer()\n same => n,Wait(0.1)\n same => n,Hangup()\n',
      ],
    });
    const app = await bareApp(sim);
    const call = dial(sim, '0612345678');
    await until(() => sim.inStasis() === 1, 'in Stasis');
    await ariRequest(sim, 'POST', `/ari/applications/callgate/subscription?eventSource=channel:${call.channelId}`);
    await ariRequest(
      sim,
      'POST',
      `/ari/channels/${call.channelId}/continue?context=ivr-allowed&extension=0612345678&priority=1`,
    );
    const r = await call.done;
    await until(() => app.events.some((e) => e.type === 'ChannelDestroyed'), 'ChannelDestroyed delivered');
    expect(r.dialed).toBeUndefined();
    expect(r.vars.DIALSTATUS).toBeUndefined();
    expect(r.upMs).toBeGreaterThanOrEqual(100);
    const seq = types(app.events.filter((e) => (e.channel as { id?: string } | undefined)?.id === call.channelId));
    expect(seq).toContain('ChannelStateChange');
    expect(seq).not.toContain('Dial');
    expect(seq[seq.length - 1]).toBe('ChannelDestroyed');
    app.close();
  });
});

describe('WebSocket drops and restarts', () => {
  beforeEach(async () => {
    sim = await startSim({ trunk: () => ({ result: 'answer', talkMs: 1500 }) });
  });

  test('a WebSocket drop deactivates the app: not listed, Stasis() fails, its subscriptions kept and their events missed until it registers again', async () => {
    await sim.stop();
    sim = await startSim({
      dialplan: [
        shippedDialplan(),
        '[slow-allowed]\nexten => _[+0-9].,1,Answer()\n same => n,Wait(0.3)\n same => n,Set(X=1)\n same => n,Wait(1)\n same => n,Hangup()\n',
      ],
    });
    const app = await bareApp(sim);
    await putEventFilter(sim, JSON.stringify({ disallowed: [{ type: 'ChannelDialplan' }] }));
    const call = dial(sim, '0612345678');
    await until(() => sim.inStasis() === 1, 'in Stasis');
    await ariRequest(sim, 'POST', `/ari/applications/callgate/subscription?eventSource=channel:${call.channelId}`);
    await ariRequest(
      sim,
      'POST',
      `/ari/channels/${call.channelId}/continue?context=slow-allowed&extension=0612345678&priority=1`,
    );
    await until(() => app.events.some((e) => e.type === 'ChannelStateChange'), 'answered');
    sim.dropWebSockets();
    await until(() => sim.registeredApps().length === 0, 'dropped');
    expect((await ariRequest(sim, 'GET', '/ari/applications')).json).toEqual([]);
    const other = await dial(sim, '0687654321').done;
    expect(other.stasisStatus).toBe('FAILED');
    await until(() => sim.missed > 0, 'an event missed');
    const again = await bareApp(sim);
    expect(sim.subscriptions('callgate')).toEqual([call.channelId]); // kept by the deactivated app
    expect(sim.eventFilter('callgate')).toEqual({ allowed: [], disallowed: ['ChannelDialplan'] }); // and its filter
    await call.done;
    await until(() => again.events.some((e) => e.type === 'ChannelDestroyed'), 'end seen by the new socket');
    app.close();
    again.close();
  });

  test('an app with nothing left is destroyed with its WebSocket: registering again starts with no filter', async () => {
    const app = await bareApp(sim);
    await putEventFilter(sim, JSON.stringify({ allowed: [{ type: 'StasisStart' }] }));
    app.close();
    await until(() => sim.registeredApps().length === 0, 'dropped');
    expect(sim.eventFilter('callgate')).toBeUndefined();
    const again = await bareApp(sim);
    expect(sim.eventFilter('callgate')).toEqual({ allowed: [], disallowed: [] });
    again.close();
  });

  test('a restart: the socket is cut, connections are refused for a while, then Asterisk is back with no channel and no app', async () => {
    const app = await bareApp(sim);
    const call = dial(sim, '0612345678');
    await until(() => sim.inStasis() === 1, 'in Stasis');
    const port = Number(new URL(sim.url).port);
    const restarting = sim.restart(300);
    await until(() => sim.down, 'down');
    const refused = await new Promise<string>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve('connected');
      });
      s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
    const r = await call.done;
    expect(r.trail).toContain('RESTART');
    await restarting;
    expect(sim.url).toBe(`http://127.0.0.1:${port}`);
    expect(sim.channelCount()).toBe(0);
    expect(sim.registeredApps()).toEqual([]);
    expect((await ariRequest(sim, 'GET', `/ari/channels/${call.channelId}`)).status).toBe(404);
    // a call placed after the restart gets a channel id from the new run
    const after = dial(sim, '0612345678');
    expect(after.channelId).not.toBe(call.channelId);
    expect((await after.done).stasisStatus).toBe('FAILED');
    app.close();
  });
});
