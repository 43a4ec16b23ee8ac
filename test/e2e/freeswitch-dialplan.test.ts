/**
 * The shipped FreeSWITCH dialplan and its README against what the adapter really does:
 * emergency numbers around the gate (issue 11.6), the variables table (issue 12.5), and the
 * backstops that cannot overlap (issue 12.4).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseConfig } from '../../src/config';
import type { Decision } from '../../src/core/types';
import { fixedClock } from '../../src/gate/clock';
import type { GateService } from '../../src/gate/service';
import { planFor } from '../../src/pbx/freeswitch/actions';
import { attemptFromChannelData } from '../../src/pbx/freeswitch/channel';
import {
  BACKSTOP_GRACE_MS,
  DEFAULT_DIALPLAN_BACKSTOP_S,
  freeswitchConfigSchema,
  minDialplanBackstopS,
} from '../../src/pbx/freeswitch/config';
import { decodePlain } from '../../src/pbx/freeswitch/outcomes';
import { loadDialplan } from '../../src/sim/esl/dialplan';
import { EslSimulator } from '../../src/sim/esl/simulator';
import { fakeFailModeDecision } from '../gate/fake-fail-mode';
import { rig, SHIPPED_DIALPLAN, type Rig } from './freeswitch-helpers';

const README = path.join(path.dirname(SHIPPED_DIALPLAN), 'README.md');
const ASTERISK = path.join(path.dirname(SHIPPED_DIALPLAN), '..', 'asterisk', 'extensions_callgate.conf');

let r: Rig | undefined;
afterEach(async () => {
  await r?.close();
  r = undefined;
});

describe('emergency numbers (issue 11.6)', () => {
  /** The emergency list of the Asterisk snippet: its exact extensions and patterns sent to [callgate-emergency]. */
  function asteriskList(): string[] {
    const conf = readFileSync(ASTERISK, 'utf8');
    return [...conf.matchAll(/^exten => (_?[0-9X]+),1,Goto\(callgate-emergency/gm)].map((m) =>
      m[1]!.replace(/^_/, '').replace(/X/g, '0'),
    );
  }

  test('the gate down: every emergency number of the Asterisk list still goes out on the shipped dialplan, without the socket app; any other number is refused', async () => {
    const list = asteriskList();
    expect(list).toEqual(['15', '17', '18', '112', '114', '115', '116000', '119', '191', '196', '197']);
    // nothing listens where the socket app connects: the gate is down
    const sim = new EslSimulator({ dialplan: loadDialplan(SHIPPED_DIALPLAN, { callgate_socket: '127.0.0.1:1' }) });
    try {
      for (const n of [...list, '116111']) {
        const rec = await sim.placeCall({ to: n, context: 'callgate-outbound', callerIdNumber: '0162000001' }).done;
        expect({ n, transfers: rec.transfers }).toEqual({ n, transfers: [{ ext: n, context: 'callgate-emergency' }] });
        expect(rec.apps.map((a) => a.app)).toEqual(['transfer', 'bridge']);
        expect(rec.apps[1]!.data).toBe(`sofia/gateway/trunk/${n}`);
        expect(rec.answered).toBe(true);
      }
      for (const n of ['0612345678', '1120', '11', '116', '1160001', '+33112']) {
        const rec = await sim.placeCall({ to: n, context: 'callgate-outbound', callerIdNumber: '0162000001' }).done;
        expect({ n, cause: rec.hangupCause, socket: rec.apps.some((a) => a.app === 'socket') }).toEqual({
          n,
          cause: 'CALL_REJECTED',
          socket: true,
        });
      }
    } finally {
      await sim.close();
    }
  });

  test('the README says so', () => {
    const md = readFileSync(README, 'utf8');
    expect(md).toMatch(/Emergency numbers never reach the gate/);
    for (const n of ['15', '17', '18', '112', '114', '115', '116xxx', '119', '191', '196', '197'])
      expect(md).toContain(n);
  });
});

describe('channel variables (issue 12.5)', () => {
  /** Rows of the README's variables table: name → direction. */
  function table(): Map<string, string> {
    const md = readFileSync(README, 'utf8');
    const rows = [...md.matchAll(/^\| `([a-z_]+)` +\| (input|output) /gm)];
    return new Map(rows.map((m) => [m[1]!, m[2]!]));
  }

  test('the table has the names of the Asterisk table, in lower case', () => {
    const asterisk = readFileSync(path.join(path.dirname(ASTERISK), 'README.md'), 'utf8');
    const names = [...asterisk.matchAll(/^\| `(CALLGATE_[A-Z_]+)` +\| (input|output) /gm)].map((m) => [
      m[1]!.toLowerCase(),
      m[2]!,
    ]);
    expect(names.length).toBe(8);
    expect([...table().entries()]).toEqual(names);
  });

  test('the inputs are what the adapter reads, the outputs what it writes', () => {
    const t = table();
    const inputs = [...t].filter(([, d]) => d === 'input').map(([n]) => n);
    const outputs = [...t].filter(([, d]) => d === 'output').map(([n]) => n);
    // inputs: a channel carrying each one changes the attempt; without them it does not
    const base = { 'Caller-Destination-Number': '0612345678', 'Unique-ID': 'u' };
    const values: Record<string, string> = {
      callgate_campaign: 'c1',
      callgate_postal_code: '97300',
      callgate_time_zone: 'America/Cayenne',
    };
    const at = new Date('2026-11-30T09:30:00Z');
    const plain = JSON.stringify(attemptFromChannelData(base, at));
    for (const n of inputs) {
      const withIt = attemptFromChannelData({ ...base, [`variable_${n}`]: values[n] }, at);
      expect({ n, changed: JSON.stringify(withIt) !== plain && JSON.stringify(withIt).includes(values[n]!) }).toEqual({
        n,
        changed: true,
      });
    }
    // outputs: the callgate_* variables the adapter sets, allowed and blocked
    const config = freeswitchConfigSchema.parse({ allowContext: 'callgate-allowed' });
    const d = (verdict: 'allow' | 'block') =>
      ({
        id: 'id1',
        verdict,
        basis: 'consent',
        tags: [],
        reasons: verdict === 'block' ? [{ code: 'no_consent' }] : [],
      }) as unknown as Decision;
    const written = new Set(
      [...planFor(d('allow'), '0612345678', config).variables, ...planFor(d('block'), '0612345678', config).variables]
        .map((v) => v.name)
        .filter((n) => n.startsWith('callgate_')),
    );
    expect([...written].sort()).toEqual([...outputs].sort());
    // a value never carries a line break onto the wire (each is one `execute-app-arg` header line)
    const broken = { ...d('block'), id: 'id\r\n1', tags: ['a\nb', 'c'] } as unknown as Decision;
    const vars = Object.fromEntries(planFor(broken, '0612345678', config).variables.map((v) => [v.name, v.value]));
    expect(vars).toMatchObject({
      callgate_decision_id: 'id 1',
      callgate_tags: 'a b,c',
      'sip_h_X-Callgate-Decision': 'id 1;verdict=block',
    });
    // the dialplan sets the same outputs itself when the gate is down
    const xml = readFileSync(SHIPPED_DIALPLAN, 'utf8').replace(/<!--[\s\S]*?-->/g, '');
    expect(xml).toContain('data="callgate_verdict=block"');
    expect(xml).toContain('data="callgate_reasons=gate_unavailable"');
    // and the outcome follower reads two of them back
    expect(
      Object.keys(decodePlain({ variable_callgate_decision_id: 'x', variable_callgate_verdict: 'allow' })),
    ).toEqual(['variable_callgate_decision_id', 'variable_callgate_verdict']);
  });
});

describe('the backstops cannot overlap (issue 12.4)', () => {
  const base = `
store: {driver: memory}
professionals: [{id: acme, callerIds: ['+33162000001']}]
campaigns: [{id: c, professional: acme, dialing: manual, categories: [energy-supply]}]
`;

  test('sched_hangup +N fires N-1 to N s after it is set: the shipped N leaves a second after the adapter gave up, at the default deadline', () => {
    const xml = readFileSync(SHIPPED_DIALPLAN, 'utf8');
    const n = Number(/callgate_backstop_s=(\d+)/.exec(xml)![1]);
    expect(n).toBe(DEFAULT_DIALPLAN_BACKSTOP_S);
    const cfg = parseConfig(`${base}freeswitch: {allowContext: a}\n`, 'test');
    expect(cfg.gate.deadlineMs + BACKSTOP_GRACE_MS + 1000).toBeLessThanOrEqual((n - 1) * 1000);
    expect(minDialplanBackstopS(cfg.gate.deadlineMs)).toBeLessThanOrEqual(n);
  });

  test('the configuration check refuses a deadline that would overlap the dialplan backstop, saying what to change', () => {
    expect(() => parseConfig(`${base}gate: {deadlineMs: 1000}\nfreeswitch: {allowContext: a}\n`, 'test')).toThrow(
      /gate\.deadlineMs.*sched_hangup \+3.*at least 4.*or lower gate\.deadlineMs to at most 750 ms/s,
    );
    expect(() =>
      parseConfig(`${base}gate: {deadlineMs: 1000}\nfreeswitch: {allowContext: a, dialplanBackstopS: 4}\n`, 'test'),
    ).not.toThrow();
    expect(() => parseConfig(`${base}freeswitch: {allowContext: a, backstopMs: 2500}\n`, 'test')).toThrow(
      /freeswitch\.backstopMs no longer exists/,
    );
    expect(() => parseConfig(`${base}freeswitch: {allowContext: a, deadlineMs: 400}\n`, 'test')).toThrow(
      /one deadline, gate\.deadlineMs/,
    );
    // without a freeswitch section nothing is checked
    expect(() => parseConfig(`${base}gate: {deadlineMs: 5000}\n`, 'test')).not.toThrow();
  });

  test('a gate that never answers: the adapter drops the call 250 ms after gate.deadlineMs, long before the dialplan backstop, which it cancels on every release', async () => {
    const never: GateService = {
      clock: fixedClock(new Date()),
      decide: () => new Promise<never>(() => undefined),
      recordOutcome: async () => undefined,
      failModeDecision: fakeFailModeDecision,
    };
    r = await rig({ gate: never, deadlineMs: 50, inbound: false });
    const rec = await r.sim.placeCall({ to: '0612345678', context: 'callgate-outbound', callerIdNumber: '0162000001' })
      .done;
    // refused by the dialplan's own hangup after the socket dropped, not by sched_hangup's ALLOTTED cause
    expect(rec.apps.map((a) => a.app)).toEqual(['sched_hangup', 'socket', 'set', 'set', 'hangup']);
    expect(rec.hangupCause).toBe('CALL_REJECTED');
  });
});
