/** What the gate tells the admin API: observers of every decision, fault counters, and preview (issue 13). */
import { Gate } from '../../src/gate/gate';
import type { DecisionEvent } from '../../src/gate/service';
import { fixedClock } from '../../src/gate/clock';
import { MemoryStore } from '../../src/store/memory/memory-store';
import { AT, attempt, deferred, logSink, testConfig, withConsent } from './helpers';
import type { Store } from '../../src/gate/store';

function gateOn(store: Store, extra = ''): Gate {
  return new Gate({ store, config: testConfig(extra), clock: fixedClock(AT), logger: logSink('silent').logger });
}

test('an observer hears every decision once, with its duration and whether its attempt was recorded', async () => {
  const gate = gateOn(await withConsent(new MemoryStore()));
  const seen: DecisionEvent[] = [];
  const stop = gate.observe((e) => seen.push(e));
  const allowed = await gate.decide(attempt(), { record: true });
  const dryRun = await gate.decide(attempt(), { record: false });
  const blocked = await gate.decide(attempt({ to: '06 98 76 54 32' }), { record: true });
  expect(seen.map((e) => [e.decision.id, e.recorded, e.failCode])).toEqual([
    [allowed.id, true, undefined],
    [dryRun.id, false, undefined],
    [blocked.id, false, undefined],
  ]);
  expect(seen.every((e) => Number.isInteger(e.durationNs) && e.durationNs > 0)).toBe(true);
  stop();
  await gate.decide(attempt(), { record: false });
  expect(seen).toHaveLength(3);
});

test('a fail-mode decision is heard with its cause and counted; a store fault is counted too', async () => {
  const store = new MemoryStore();
  const gate = gateOn(store);
  const seen: DecisionEvent[] = [];
  gate.observe((e) => seen.push(e));
  store.decideAndCommit = () => Promise.reject(new Error('disk on fire'));
  const d = await gate.decide(attempt());
  expect(d.reasons.map((r) => r.code)).toEqual(['gate_unavailable']);
  expect(seen.map((e) => e.failCode)).toEqual(['CG_ERR_STORE_FAULT']);
  expect(gate.stats).toEqual({ storeErrors: 1, failModeDecisions: 1 });

  // the deadline: the store holds, the fail mode decides, it is counted but it is no store fault
  const hold = deferred();
  store.decideAndCommit = async () => {
    await hold.promise;
    return undefined;
  };
  await gate.decide(attempt(), { deadlineMs: 5 });
  hold.resolve();
  expect(seen.map((e) => e.failCode)).toEqual(['CG_ERR_STORE_FAULT', 'CG_ERR_GATE_DEADLINE']);
  expect(gate.stats).toEqual({ storeErrors: 1, failModeDecisions: 2 });
  await gate.drain();
});

test('an observer that throws never reaches the call, nor the other observers', async () => {
  const gate = gateOn(await withConsent(new MemoryStore()));
  const seen: string[] = [];
  gate.observe(() => {
    throw new Error('observer bug');
  });
  gate.observe((e) => seen.push(e.decision.verdict));
  await expect(gate.decide(attempt())).resolves.toMatchObject({ verdict: 'allow' });
  expect(seen).toEqual(['allow']);
});

test('preview decides from the store without writing anything', async () => {
  const store = await withConsent(new MemoryStore());
  const gate = gateOn(store);
  const heard: DecisionEvent[] = [];
  gate.observe((e) => heard.push(e));
  for (const days of [7, 6, 5, 4]) await gate.decide(attempt({ at: new Date(AT.getTime() - days * 86_400_000) })); // Mon..Thu before
  const before = await store.history('+33612345678');
  const d = await gate.preview(attempt());
  expect(d.verdict).toBe('block');
  expect(d.reasons.map((r) => r.code)).toEqual(['frequency_limit']);
  expect(d.reasons[0]!.retryAfter).toBeInstanceOf(Date);
  const after = await store.history('+33612345678');
  expect(after).toEqual(before);
  expect(heard).toHaveLength(4); // the preview is not a decision given
});
