/**
 * POST /v1/originate through each PBX adapter, on the protocol simulators over real sockets (the
 * real ari-client and esl): an allowed call is placed into the gated path, where the PBX's own gate
 * decides it again and records its attempt (once); a blocked call never reaches the PBX. And the
 * adapters' connection status, for /readyz and callgate_pbx_connected.
 */
import { createRuntime } from '../../src/main';
import type { PbxAdapter } from '../../src/gate/service';
import { originateCommand } from '../../src/pbx/freeswitch/originate';
import { rig } from '../e2e/freeswitch-helpers';
import { startAdapter, startSim, until } from '../../src/sim/ari/harness';
import type { AriSimulator } from '../../src/sim/ari/server';
import { logSink } from '../gate/helpers';
import { apiConfig, call, CONSUMER, harness, type Harness } from './helpers';

const CONSENTED = CONSUMER; // +33612345678: consent to acme
const STRANGER = '+33698765432'; // no consent: blocked (CONS-1)

const body = (to: string, over: Record<string, unknown> = {}) => ({
  to,
  callerId: '01 62 00 00 01',
  campaign: 'acme-energy',
  postalCode: '75011',
  connect: { context: 'agents', extension: '1001' },
  ...over,
});

async function withConsent(h: Harness): Promise<void> {
  await h.rt.store.addConsent({
    e164: CONSENTED,
    professional: 'acme',
    categories: [],
    collectedAt: new Date('2026-10-01T10:00:00Z'),
  });
}

describe('on Asterisk (ARI simulator)', () => {
  let sim: AriSimulator;
  let h: Harness;
  let adapter: PbxAdapter & { stop(): Promise<void> };

  beforeEach(async () => {
    sim = await startSim();
    const config = apiConfig();
    const log = logSink('warn');
    const rt = createRuntime(config, { logger: log.logger });
    const running = await startAdapter(sim, rt.gate);
    adapter = running.adapter;
    h = await harness({ config, runtime: rt, adapters: [adapter] });
    await withConsent(h);
  });
  afterEach(async () => {
    await h.api.close();
    await adapter.stop();
    await h.rt.close();
    await sim.stop();
  });

  it('places an allowed call as Local/NUMBER@callgate-outbound/n; the gate in Stasis decides it and records its one attempt', async () => {
    const r = await call(h, 'POST', '/v1/originate', body('06 12 34 56 78'));
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      originated: true,
      pbx: 'asterisk',
      decision: { verdict: 'allow', source: { pbx: 'api' } },
    });
    expect(sim.originates).toHaveLength(1);
    const o = sim.originates[0]!;
    expect(o).toMatchObject({
      channelId: r.json.channelId,
      gatedChannelId: r.json.gatedChannelId,
      endpoint: `Local/${CONSENTED}@callgate-outbound/n`,
      to: { context: 'agents', extension: '1001', priority: 1 },
      callerId: '+33162000001',
      timeout: 30,
      variables: { CALLGATE_CAMPAIGN: 'acme-energy', CALLGATE_POSTAL_CODE: '75011' },
    });
    const result = await o.done;
    expect(result.stasisStatus).toBe('SUCCESS');
    expect(result.vars.CALLGATE_VERDICT).toBe('allow');
    expect(result.dialed).toEqual({ dialstring: `${CONSENTED}@trunk`, status: 'ANSWER' });

    const history = await h.rt.store.history(CONSENTED);
    // the API's dry run and the PBX's decision are both audited; only the PBX's counts
    expect(history.decisions.map((d) => d.decision.source)).toEqual([
      { pbx: 'api' },
      { pbx: 'asterisk', channelId: r.json.gatedChannelId },
    ]);
    expect(history.attempts.map((a) => a.decisionId)).toEqual([result.vars.CALLGATE_DECISION_ID]);
  });

  it('never sends a blocked call to Asterisk', async () => {
    const r = await call(h, 'POST', '/v1/originate', body(STRANGER));
    expect(r.status).toBe(200);
    expect(r.json.originated).toBe(false);
    expect(r.json.decision.reasons.map((x: { code: string }) => x.code)).toEqual(['no_consent']);
    expect(r.json.channelId).toBeUndefined();
    expect(sim.originates).toEqual([]);
    expect(sim.rest.filter((x) => x.method === 'POST' && x.path === '/ari/channels')).toEqual([]);
  });

  it('refuses an originate while ARI is down (503, nothing decided), and counts the reconnection', async () => {
    expect(adapter.status!()).toEqual({ connected: true, reconnects: 0 });
    const blackout = sim.blackoutFor(300);
    await until(() => !adapter.status!().connected, 'ARI seen down');
    const r = await call(h, 'POST', '/v1/originate', body('06 12 34 56 78'));
    expect(r.status).toBe(503);
    expect(r.json.error.code).toBe('CG_ERR_PBX_ORIGINATE');
    expect((await h.rt.store.history(CONSENTED)).decisions).toEqual([]);
    const ready = await call(h, 'GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.json).toMatchObject({ status: 'not ready', pbx: [{ pbx: 'asterisk', connected: false }] });
    expect(ready.json.error.code).toBe('CG_ERR_PBX_CONNECT');
    await blackout;
    await until(() => adapter.status!().connected, 'ARI back');
    expect(adapter.status!()).toEqual({ connected: true, reconnects: 1 });
    expect((await call(h, 'GET', '/readyz')).status).toBe(200);
  });

  it('an originate Asterisk refuses is a 502 with its words; the adapter refuses a request ARI would reject', async () => {
    sim.originateFault = () => ({ status: 400, message: 'Invalid endpoint specified' });
    const r = await call(h, 'POST', '/v1/originate', body('06 12 34 56 78'));
    expect(r.status).toBe(502);
    expect(r.json.error.code).toBe('CG_ERR_PBX_ORIGINATE');
    expect(r.json.error.message).toMatch(
      /allowed \(decision .+\) but asterisk did not place it: .*Invalid endpoint specified/,
    );
    sim.originateFault = undefined;
    const bad = await adapter.originate!({
      to: CONSENTED,
      callerId: '+33162000001',
      connect: { context: 'agents', extension: '' },
      timeoutSec: 30,
    }).catch((e: Error & { code?: string }) => e);
    expect(bad).toMatchObject({ code: 'CG_ERR_PBX_ORIGINATE' });
    expect((bad as Error).message).toMatch(/Application or extension must be specified/);
  });
});

describe('on FreeSWITCH (Event Socket simulator)', () => {
  it('sends bgapi originate into the gated context on its own inbound connection; the socket app gates the B leg', async () => {
    const config = apiConfig();
    const log = logSink('warn');
    const rt = createRuntime(config, { logger: log.logger });
    const fs = await rig({ gate: rt.gate });
    const h = await harness({ config, runtime: rt, adapters: [fs.adapter] });
    try {
      await withConsent(h);
      expect(fs.adapter.status!()).toEqual({ connected: true, reconnects: 0 });
      const r = await call(h, 'POST', '/v1/originate', body('06 12 34 56 78', { pbx: 'freeswitch', timeoutSec: 20 }));
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ originated: true, pbx: 'freeswitch', decision: { verdict: 'allow' } });
      const uuid = r.json.channelId as string;
      expect(uuid).toMatch(/^[0-9a-f-]{36}$/);

      // the command, as FreeSWITCH received it on a connection of its own
      const commands = fs.sim.inboundLog.flatMap((c) => c.received.map((x) => x.line));
      const bgapi = commands.find((l) => l.startsWith('bgapi originate'));
      expect(bgapi).toBe(
        `bgapi originate {origination_uuid=${uuid},origination_caller_id_number=+33162000001,originate_timeout=20,callgate_campaign=acme-energy,callgate_postal_code=75011}loopback/${CONSENTED}/callgate-outbound 1001 XML agents`,
      );
      // the B leg ran the gated dialplan: the socket app, this gate's decision, the transfer to the allow context
      await until(() => fs.sim.records.some((x) => x.to === CONSENTED && x.transfers.length > 0), 'gated B leg');
      const leg = fs.sim.records.find((x) => x.to === CONSENTED)!;
      expect(leg.transfers[0]).toEqual({ ext: CONSENTED, context: 'callgate-allowed' });
      expect(leg.vars.callgate_campaign).toBe('acme-energy');
      const history = await h.rt.store.history(CONSENTED);
      expect(history.decisions.map((d) => d.decision.source.pbx)).toEqual(['api', 'freeswitch']);
      expect(history.attempts).toHaveLength(1);
      expect(history.attempts[0]!.decisionId).toBe(leg.vars.callgate_decision_id);

      // blocked: nothing reaches FreeSWITCH
      const before = fs.sim.inboundLog.length;
      const blocked = await call(h, 'POST', '/v1/originate', body(STRANGER, { pbx: 'freeswitch' }));
      expect(blocked.json.originated).toBe(false);
      expect(fs.sim.inboundLog.length).toBe(before);
    } finally {
      await h.api.close();
      await fs.close();
      await rt.close();
    }
  });

  it('without freeswitch.inbound it cannot originate: 503 saying so, nothing decided', async () => {
    const config = apiConfig();
    const rt = createRuntime(config, { logger: logSink('warn').logger });
    const fs = await rig({ gate: rt.gate, inbound: false });
    const h = await harness({ config, runtime: rt, adapters: [fs.adapter] });
    try {
      expect(fs.adapter.status!()).toEqual({ connected: true, reconnects: 0 });
      const r = await call(h, 'POST', '/v1/originate', body('06 12 34 56 78'));
      expect(r.status).toBe(503);
      expect(r.json.error).toMatchObject({ code: 'CG_ERR_PBX_ORIGINATE' });
      expect(r.json.error.message).toMatch(/freeswitch\.inbound/);
      expect((await h.rt.store.history(CONSENTED)).decisions).toEqual([]);
    } finally {
      await h.api.close();
      await fs.close();
      await rt.close();
    }
  });

  it('a wrong Event Socket password: the adapter is not connected and an originate says why', async () => {
    const config = apiConfig();
    const rt = createRuntime(config, { logger: logSink('silent').logger });
    const fs = await rig({ gate: rt.gate, config: { inbound: { password: 'wrong' } } as never });
    const h = await harness({ config, runtime: rt, adapters: [fs.adapter] });
    try {
      await withConsent(h);
      // the outcome connection is refused too: the adapter says it is not connected
      await until(() => fs.adapter.outcomes?.state === 'auth-failed', 'auth refused');
      expect(fs.adapter.status!().connected).toBe(false);
      const r = await (fs.adapter.originate!({
        to: CONSENTED,
        callerId: '+33162000001',
        connect: { context: 'agents', extension: '1001' },
        timeoutSec: 30,
      }).catch((e: Error) => e) as Promise<Error & { code?: string }>);
      expect(r.code).toBe('CG_ERR_PBX_ORIGINATE');
      expect(r.message).toMatch(/refused the Event Socket password/);
    } finally {
      await h.api.close();
      await fs.close();
      await rt.close();
    }
  });
});

test('an originate never puts a value that could break the command into it', () => {
  const req = {
    to: '+33612345678',
    callerId: '+33162000001',
    campaign: 'acme,evil=1',
    connect: { context: 'agents', extension: '1001' },
    timeoutSec: 30,
  };
  expect(() => originateCommand(req, 'u', 'callgate-outbound')).toThrow(/callgate_campaign: value not allowed/);
  expect(() =>
    originateCommand({ ...req, campaign: 'ok', connect: { context: 'a b', extension: '1' } }, 'u', 'x'),
  ).toThrow(/not allowed in an originate/);
});
