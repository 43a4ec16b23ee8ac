/**
 * The simulator must speak like a real Asterisk 22.10.1: every event it sends has the keys, in
 * the order, of the same event type recorded from a real server
 * (src/sim/fixtures/ari-recorded-events.jsonl), its channel snapshots have the real snapshot keys,
 * and it only sends event types that the events.json it serves declares (ari-client's event
 * dispatch crashes on any other).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fixedClock } from '../../../src/gate/clock';
import type { GateService } from '../../../src/gate/service';
import type { Decision } from '../../../src/core/types';
import { parseDialplan, substitute, findExtension } from '../../../src/sim/ari/dialplan';
import { dial, startAdapter, startSim, until, withoutEventFilter } from '../../../src/sim/ari/harness';
import { fakeFailModeDecision } from '../../gate/fake-fail-mode';

const FIX = path.join(__dirname, '..', '..', '..', 'src', 'sim', 'fixtures');
const recorded = fs
  .readFileSync(path.join(FIX, 'ari-recorded-events.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as Record<string, unknown>);
const models = (
  JSON.parse(fs.readFileSync(path.join(FIX, 'ari-api-docs', 'events.json'), 'utf8')) as {
    models: Record<string, unknown>;
  }
).models;

/** Key lists per recorded event type. */
const recordedKeys = new Map<string, Set<string>>();
for (const e of recorded) {
  const t = e.type as string;
  if (!recordedKeys.has(t)) recordedKeys.set(t, new Set());
  recordedKeys.get(t)!.add(Object.keys(e).join(','));
}
const channelKeys = Object.keys(recorded.find((e) => e.type === 'StasisStart')!.channel as object).join(',');
const dialplanKeys = Object.keys(
  (recorded.find((e) => e.type === 'StasisStart')!.channel as { dialplan: object }).dialplan,
).join(',');

function gateThat(verdict: (to: string) => 'allow' | 'block'): GateService {
  let n = 0;
  return {
    clock: fixedClock(new Date('2026-12-01T09:00:00Z')),
    async decide(a) {
      const v = verdict(a.to);
      return {
        id: `s${++n}`,
        verdict: v,
        reasons: v === 'block' ? [{ code: 'do_not_call', rule: 'DNC-1', message: '', legalRef: '' }] : [],
        tags: [],
        basis: 'consent',
        source: a.source,
      } as unknown as Decision;
    },
    async recordOutcome() {},
    failModeDecision: fakeFailModeDecision,
  };
}

test('every event the simulator sends has the shape of the same event recorded from a real Asterisk', async () => {
  const sim = await startSim();
  const run = await startAdapter(
    sim,
    gateThat((to) => (to.endsWith('9') ? 'block' : 'allow')),
  );
  await withoutEventFilter(sim); // every event type, as an app without a filter gets them
  const calls = [dial(sim, '0612345678'), dial(sim, '0612345679')];
  await Promise.all(calls.map((c) => c.done));
  await until(() => sim.sent.some((s) => s.event.type === 'ChannelDestroyed'), 'destroy event');
  await run.stop();
  await sim.stop();

  const types = new Set(sim.sent.map((s) => s.event.type as string));
  // The scenario covers the events the gate relies on.
  for (const t of [
    'StasisStart',
    'StasisEnd',
    'ChannelVarset',
    'Dial',
    'ChannelStateChange',
    'ChannelHangupRequest',
    'ChannelDestroyed',
    'ChannelDialplan',
    'ApplicationRegistered',
  ]) {
    expect(types).toContain(t);
  }
  for (const { event } of sim.sent) {
    const t = event.type as string;
    expect(models[t]).toBeDefined(); // declared in the served events.json
    const keys = Object.keys(event).join(',');
    const known = recordedKeys.get(t);
    if (known) {
      // Dial from a dialplan Dial() names its caller (absent in the recording, where the dial was an originate).
      const alt = t === 'Dial' ? keys.replace(',caller,', ',') : keys;
      expect([...known]).toContain(alt);
    } else {
      // Not in the recording: ApplicationRegistered, shaped as the events.json of src/sim/fixtures/ari-api-docs describes it.
      expect(keys).toBe('type,timestamp,application,asterisk_id');
    }
    for (const k of ['channel', 'caller', 'peer']) {
      const ch = event[k] as Record<string, unknown> | undefined;
      if (!ch) continue;
      expect(Object.keys(ch).join(',')).toBe(channelKeys);
      expect(Object.keys(ch.dialplan as object).join(',')).toBe(dialplanKeys);
    }
    expect(String(event.timestamp)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}$/);
  }
});

test('hangup from ARI: request (32, soft) → StasisEnd, and nothing more for an unsubscribed channel, as recorded', async () => {
  const sim = await startSim();
  const run = await startAdapter(
    sim,
    gateThat(() => 'block'),
  );
  await withoutEventFilter(sim);
  const c = dial(sim, '0900123456');
  await c.done;
  await run.stop();
  await sim.stop();
  const seq = sim.sent
    .filter((s) => (s.event.channel as { id?: string } | undefined)?.id === c.channelId)
    .map((s) => s.event.type);
  const rec = recorded
    .filter((e) => (e.channel as { id: string } | undefined)?.id === '1795918364.5')
    .map((e) => e.type);
  // The recorded app set no variables; ours does (one ChannelVarset each, as Asterisk reports setChannelVar).
  expect(seq.slice(seq.indexOf('StasisStart')).filter((t) => t !== 'ChannelVarset')).toEqual(rec);
  expect(seq.filter((t) => t === 'ChannelVarset').length).toBeGreaterThanOrEqual(5);
  const hr = sim.sent.find((s) => s.event.type === 'ChannelHangupRequest')!.event;
  expect(hr).toMatchObject({ cause: 32, soft: true });
});

describe('dialplan interpreter', () => {
  const plan = parseDialplan(`
[ctx]
exten => _[+0-9].,1,NoOp(x) ; comment
 same => n(lbl),Set(A=\\;b)
exten => 100,1,Hangup(21)
`);
  test('patterns, priorities, labels, escaped semicolons', () => {
    const e = findExtension(plan, 'ctx', '+33612345678')!;
    expect(e.steps.map((s) => [s.priority, s.label, s.app, s.data])).toEqual([
      [1, undefined, 'NoOp', 'x'],
      [2, 'lbl', 'Set', 'A=;b'],
    ]);
    // an exact extension wins over a pattern, wherever it is in the file (pbx.c ext_cmp)
    expect(findExtension(plan, 'ctx', '100')!.steps[0]!.app).toBe('Hangup');
    expect(findExtension(plan, 'ctx', 'abc')).toBeUndefined();
  });
  test('variables and $[ ] expressions', () => {
    const vars: Record<string, string> = { STASISSTATUS: 'FAILED', E: '' };
    const read = (n: string) => vars[n] ?? '';
    expect(substitute('$["${STASISSTATUS}"="FAILED"]', read)).toBe('1');
    expect(substitute('$["${STASISSTATUS}"!="FAILED"]', read)).toBe('0');
    expect(substitute('$["${E}"=""]', read)).toBe('1');
    expect(substitute('a,${STASISSTATUS},${NOPE}', read)).toBe('a,FAILED,');
  });
});
