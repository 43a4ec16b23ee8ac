/**
 * The gate service (src/gate/gate.ts): FREQ-1 atomic check-and-record
 * (C. consom. D. 223-9 al. 3), GATE-1 fail mode and deadline, the info log
 * line of a decision (log.decisions) with masked numbers.
 */
import { fixedClock } from '../../src/gate/clock';
import { Gate } from '../../src/gate/gate';
import type { Store } from '../../src/gate/store';
import * as path from 'node:path';
import { MemoryStore, SqliteStore } from '../../src/store';
import { poisonCommit } from '../store/poison';
import { AT, attempt, CONSUMER, deferred, logSink, testConfig, until, withConsent, wrapStore } from './helpers';
import { scratchDirs } from '../scratch';

const tempDir = scratchDirs('callgate-gate-');

const WINDOW_START = new Date(AT.getTime() - 30 * 86_400_000);

function counter(): () => string {
  let n = 0;
  return () => `d${++n}`;
}

async function counted(store: Store): Promise<number> {
  const f = await store.getFacts({ e164: CONSUMER, professional: 'acme', at: AT, windowStart: WINDOW_START });
  return f.recentAttempts.length;
}

function gateWith(store: Store, extra = '', log = logSink()) {
  const config = testConfig(extra);
  const gate = new Gate({ store, config, clock: fixedClock(AT), logger: log.logger, idGenerator: counter() });
  return { gate, log, config };
}

describe('Gate.decide', () => {
  it('allows a lawful call and records its attempt and decision', async () => {
    const store = await withConsent(new MemoryStore());
    const { gate } = gateWith(store);
    const d = await gate.decide(attempt(), { record: true });
    expect(d.verdict).toBe('allow');
    expect(d.id).toBe('d1');
    expect(d.callee?.e164).toBe(CONSUMER);
    const h = await store.history(CONSUMER);
    expect(h.attempts.map((a) => a.decisionId)).toEqual(['d1']);
    expect(h.decisions.map((x) => [x.id, x.verdict])).toEqual([['d1', 'allow']]);
  });

  it('records the decision but no attempt when told not to record (callgate check)', async () => {
    const store = await withConsent(new MemoryStore());
    const { gate } = gateWith(store);
    expect((await gate.decide(attempt(), { record: false })).verdict).toBe('allow');
    expect(await counted(store)).toBe(0);
    expect((await store.history(CONSUMER)).decisions).toHaveLength(1);
  });

  it('records a blocked call as a decision, never as an attempt', async () => {
    const store = new MemoryStore(); // no consent: CONS-1
    const { gate } = gateWith(store);
    const d = await gate.decide(attempt(), { record: true });
    expect(d.verdict).toBe('block');
    expect(d.reasons.map((r) => r.code)).toContain('no_consent');
    const h = await store.history(CONSUMER);
    expect(h.attempts).toEqual([]);
    expect(h.decisions.map((x) => x.verdict)).toEqual(['block']);
  });

  it('judges an unknown campaign as the default campaign', async () => {
    const store = await withConsent(new MemoryStore());
    const { gate, log } = gateWith(store);
    const d = await gate.decide(attempt({ campaignId: 'nope' }));
    expect(d.campaign.id).toBe('default');
    expect(log.lines().filter((l) => l.level === 'warn' && /unknown campaign id "nope"/.test(l.msg))).toHaveLength(1);
  });

  it('blocks the 5th attempt in sequence (FREQ-1)', async () => {
    const store = await withConsent(new MemoryStore());
    const { gate } = gateWith(store);
    const verdicts = [];
    for (let i = 0; i < 5; i++) verdicts.push((await gate.decide(attempt(), { record: true })).verdict);
    expect(verdicts).toEqual(['allow', 'allow', 'allow', 'allow', 'block']);
    expect(await counted(store)).toBe(4);
  });

  const stores: [string, () => Store][] = [
    ['memory', () => new MemoryStore()],
    ['sqlite', () => SqliteStore.open(path.join(tempDir(), 'g.db'))],
  ];
  it.each(stores)(
    '%s: blocks the 5th of 5 concurrent attempts (facts read in the write transaction), and says frequency_limit',
    async (_name, open) => {
      const inner = await withConsent(open());
      // Hold every call until all five are in flight, as five PBX calls arriving at once.
      const allIn = deferred();
      let calls = 0;
      const store = wrapStore(inner, async (name) => {
        if (name !== 'decideAndCommit') return;
        if (++calls === 5) allIn.resolve();
        await allIn.promise;
      });
      const { gate } = gateWith(store);
      const ds = await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          gate.decide(attempt({ source: { pbx: 'asterisk', channelId: `c${i}` } }), { record: true }),
        ),
      );
      expect(ds.filter((d) => d.verdict === 'allow')).toHaveLength(4);
      const blocked = ds.filter((d) => d.verdict === 'block');
      expect(blocked).toHaveLength(1);
      expect(blocked[0]!.reasons.map((r) => r.code)).toEqual(['frequency_limit']);
      expect(await counted(inner)).toBe(4);
      // The blocked decision is in the audit under its own id, once.
      const h = await inner.history(CONSUMER);
      expect(h.decisions.filter((x) => x.verdict === 'block').map((x) => x.id)).toEqual([blocked[0]!.id]);
      expect(h.decisions).toHaveLength(5);
      await inner.close();
    },
  );

  it.each(stores)(
    '%s: attempts stamped after this call (another gate clock ahead, a clock stepped back) count: frequency_limit, not a store fault',
    async (_name, open) => {
      const store = await withConsent(open());
      try {
        // four attempts recorded by a gate whose clock runs 2 s ahead of this one
        const ahead = new Gate({
          store,
          config: testConfig(),
          clock: fixedClock(AT),
          logger: logSink().logger,
          idGenerator: () => `ahead-${Math.random()}`,
        });
        const later = new Date(AT.getTime() + 2000);
        for (let i = 0; i < 4; i++)
          expect((await ahead.decide(attempt({ at: later }), { record: true })).verdict).toBe('allow');
        const { gate, log } = gateWith(store);
        const d = await gate.decide(attempt(), { record: true });
        expect(d.verdict).toBe('block');
        expect(d.reasons.map((r) => r.code)).toEqual(['frequency_limit']);
        expect(log.lines().filter((l) => l.level === 'error')).toEqual([]);
        expect(await counted(store)).toBe(4);
      } finally {
        await store.close();
      }
    },
  );

  it('in monitor mode records every allowed call without the limit check', async () => {
    const store = await withConsent(new MemoryStore());
    const { gate } = gateWith(store, 'policy: {monitorOnly: true}');
    for (let i = 0; i < 5; i++) expect((await gate.decide(attempt(), { record: true })).verdict).toBe('allow');
    expect(await counted(store)).toBe(5);
  });
});

describe('Gate.decide with an unusable instant (a dialer may send anything)', () => {
  it.each([
    ['an invalid Date', new Date('not a date')],
    ['a string', '2026-11-30T10:00:00Z'],
    ['nothing', undefined],
  ])('%s: a GATE-1 block with the reason, audited, no attempt, no crash', async (_what, at) => {
    for (const store of [await withConsent(new MemoryStore()), await withConsent(SqliteStore.open(':memory:'))]) {
      const { gate } = gateWith(store);
      const d = await gate.decide({ ...attempt(), at: at as Date }, { record: true });
      expect(d.verdict).toBe('block');
      expect(d.reasons.map((r) => [r.code, r.rule])).toEqual([['gate_unavailable', 'GATE-1']]);
      expect(d.reasons[0]!.message).toMatch(/no valid instant/);
      expect(await counted(store)).toBe(0);
      // audited with its destination: the number's history shows the block
      expect(d.callee?.e164).toBe(CONSUMER);
      expect((await store.history(CONSUMER)).decisions.map((x) => [x.id, x.verdict])).toEqual([[d.id, 'block']]);
      await store.close();
    }
  });
});

describe('Gate.decide with an instant far out of range (issue 11.4: it crashed the decision path)', () => {
  it.each([
    ['the last Date', new Date(8.64e15)],
    ['the first Date', new Date(-8.64e15)],
    ['a second before the last Date', new Date(8.64e15 - 1000)],
    ['year 9999', new Date('9999-12-31T10:00:00Z')],
    ['year 1000', new Date('1000-06-01T10:00:00Z')],
  ])('%s: a GATE-1 block naming the instant, audited, no attempt, no store fault', async (_what, at) => {
    for (const store of [await withConsent(new MemoryStore()), await withConsent(SqliteStore.open(':memory:'))]) {
      const { gate, log } = gateWith(store);
      const d = await gate.decide({ ...attempt(), at }, { record: true });
      expect(d.verdict).toBe('block');
      expect(d.reasons.map((r) => [r.code, r.rule])).toEqual([['gate_unavailable', 'GATE-1']]);
      expect(d.reasons[0]!.message).toContain(`instant ${at.toISOString()} is outside the years 1900–2199`);
      expect(d.at.getTime()).toBe(0);
      expect(d.callee?.localTime).toMatch(/^1970-01-01T01:00/);
      expect(await counted(store)).toBe(0);
      expect((await store.history(CONSUMER)).decisions.map((x) => [x.id, x.verdict])).toEqual([[d.id, 'block']]);
      expect(log.text()).not.toMatch(/CG_ERR_STORE_FAULT|CG_ERR_INTERNAL/);
      await store.close();
    }
  });

  it('the fail-mode builder is total as well', async () => {
    const store = new MemoryStore();
    const { gate } = gateWith(store);
    const d = gate.failModeDecision({ ...attempt(), at: new Date(8.64e15) }, 'test');
    expect(d.at.getTime()).toBe(0);
    await gate.drain();
    expect((await store.history(CONSUMER)).decisions.map((x) => x.id)).toEqual([d.id]);
  });
});

describe('Gate.decide with malformed attempts (a dialer or API caller may send anything)', () => {
  const ok = attempt();
  it.each([
    ['no attempt at all', null, 'gate_unavailable'],
    ['no source', { ...ok, source: undefined }, undefined],
    ['a destination that is not a string', { ...ok, to: 612345678 }, 'invalid_destination'],
    ['no caller ID', { ...ok, callerId: null }, 'caller_id_withheld'],
    ['a campaign id that is not a string', { ...ok, campaignId: 5 }, undefined],
    ['a contact with nonsense in it', { ...ok, contact: { postalCode: 5, timeZone: {} } }, undefined],
  ])('%s: an answer (never a rejection or a hang), and its log line', async (_what, bad, code) => {
    for (const store of [await withConsent(new MemoryStore()), await withConsent(SqliteStore.open(':memory:'))]) {
      const { gate, log } = gateWith(store, 'log: {decisions: all}');
      const d = await gate.decide(bad as unknown as ReturnType<typeof attempt>, { record: true });
      expect(['allow', 'block']).toContain(d.verdict);
      if (code) expect(d.reasons.map((r) => r.code)).toContain(code);
      expect(
        log
          .lines()
          .filter((l) => l.msg === 'decision')
          .map((l) => l.decisionId),
      ).toEqual([d.id]);
      await store.close();
    }
  });
});

describe('Gate fail mode (GATE-1)', () => {
  function failing(inner: Store, method: keyof Store): Store {
    return wrapStore(inner, (name) => {
      if (name === method) throw new Error('disk I/O error');
    });
  }

  it.each(['decideAndCommit'] as const)(
    'fail closed: %s throwing → block gate_unavailable, no attempt',
    async (method) => {
      const inner = await withConsent(new MemoryStore());
      const { gate, log } = gateWith(failing(inner, method));
      const d = await gate.decide(attempt(), { record: true });
      expect(d.verdict).toBe('block');
      expect(d.reasons.map((r) => r.code)).toEqual(['gate_unavailable']);
      expect(await counted(inner)).toBe(0);
      const errors = log.lines().filter((l) => l.level === 'error' && l.code === 'CG_ERR_STORE_FAULT');
      expect(errors.length).toBeGreaterThanOrEqual(1);
      expect(JSON.stringify(errors[0])).toContain('disk I/O error');
    },
  );

  it("failModeDecision (an adapter's backstop): core's GATE-1 decision, in the policy's fail mode, audited", async () => {
    const store = await withConsent(new MemoryStore());
    const { gate, log } = gateWith(store);
    const d = gate.failModeDecision(attempt(), 'adapter backstop: no answer in 750 ms');
    expect(d.verdict).toBe('block');
    expect(d.reasons.map((r) => [r.code, r.rule])).toEqual([['gate_unavailable', 'GATE-1']]);
    expect(d.regime).toBe('consent');
    expect(d.campaign.professional).toBe('acme');
    await gate.drain();
    expect((await store.history(CONSUMER)).decisions[0]!.id).toBe(d.id);
    expect(await counted(store)).toBe(0);
    expect(log.lines().some((l) => l.code === 'CG_ERR_GATE_DEADLINE')).toBe(true);
    // an emergency number is never refused, backstop or not (SCOPE-1)
    expect(gate.failModeDecision(attempt({ to: '112' }), 'backstop').verdict).toBe('allow');
  });

  it('failModeDecision with failMode open records the attempt of the call it lets through', async () => {
    const store = await withConsent(new MemoryStore());
    const { gate } = gateWith(store, 'policy: {failMode: open}');
    const d = gate.failModeDecision(attempt(), 'backstop');
    expect(d.verdict).toBe('allow');
    await gate.drain();
    expect(await counted(store)).toBe(1);
  });

  it('fail open: store throwing → allow tagged gate_unavailable', async () => {
    const inner = await withConsent(new MemoryStore());
    const { gate } = gateWith(failing(inner, 'decideAndCommit'), 'policy: {failMode: open}');
    const d = await gate.decide(attempt(), { record: true });
    expect(d.verdict).toBe('allow');
    expect(d.tags).toContain('gate_unavailable');
  });

  it('deadline passed before the store ran the call: fail-mode block, and the late work writes nothing of its own', async () => {
    const inner = await withConsent(new MemoryStore());
    const hold = deferred();
    let ran = 0;
    const store = wrapStore(
      inner,
      async (name) => {
        if (name === 'decideAndCommit') await hold.promise;
      },
      (name) => {
        if (name === 'decideAndCommit') ran++;
      },
    );
    const { gate, log } = gateWith(store);
    const d = await gate.decide(attempt(), { record: true, deadlineMs: 5 });
    expect(d.verdict).toBe('block');
    expect(d.reasons.map((r) => r.code)).toEqual(['gate_unavailable']);
    expect(d.id).toBe('d2'); // the fail-mode decision has its own id; d1 was the abandoned one
    expect(log.lines().some((l) => l.level === 'warn' && l.code === 'CG_ERR_GATE_DEADLINE')).toBe(true);
    hold.resolve();
    await until(() => ran === 1, 'the held call ran');
    await gate.drain(5000);
    expect((await inner.history(CONSUMER)).decisions.map((x) => x.id)).toEqual(['d2']);
    expect(await counted(inner)).toBe(0);
  });

  it('deadline passed while the write was finishing: the late allowed attempt is released, so the caller told "block" is not charged', async () => {
    const inner = await withConsent(new MemoryStore());
    const holdAnswer = deferred();
    const released: string[] = [];
    const store = wrapStore(
      inner,
      async (name, args) => {
        if (name === 'releaseAttempt') released.push(args[0] as string);
      },
      async (name, result) => {
        if (name === 'decideAndCommit' && (result as { id: string }).id === 'd1') await holdAnswer.promise;
      },
    );
    const { gate, log } = gateWith(store, 'log: {decisions: all}');
    const d = await gate.decide(attempt(), { record: true, deadlineMs: 5 });
    expect(d.verdict).toBe('block');
    expect(d.reasons.map((r) => r.code)).toEqual(['gate_unavailable']);
    holdAnswer.resolve(); // the slow store now answers: it has recorded an allowed attempt for d1…
    await until(() => released.length === 1, 'late attempt released');
    expect(released).toEqual(['d1']);
    expect(await counted(inner)).toBe(0); // …which no longer counts
    await until(
      () => log.lines().some((l) => /after the deadline; its attempt was released/.test(l.msg)),
      'warn logged',
    );
    // Exactly one decision line: the one the PBX was given.
    expect(
      log
        .lines()
        .filter((l) => l.msg === 'decision')
        .map((l) => l.decisionId),
    ).toEqual(['d2']);
  });
});

describe('Gate on the SQLite group commit', () => {
  const sqlite = () => SqliteStore.open(path.join(tempDir(), 'g.db'));

  it('a failed COMMIT gives every caller of the group the fail-mode decision, and records none of their attempts', async () => {
    const store = sqlite();
    await withConsent(store);
    poisonCommit(store.db, 'd2');
    const { gate, log } = gateWith(store);
    const ds = await Promise.all([1, 2, 3].map(() => gate.decide(attempt(), { record: true })));
    expect(ds.map((d) => [d.verdict, d.reasons.map((r) => r.code)])).toEqual(
      Array(3).fill(['block', ['gate_unavailable']]),
    );
    expect(log.lines().filter((l) => l.level === 'error' && l.code === 'CG_ERR_STORE_FAULT')).toHaveLength(3);
    await gate.drain(5000);
    expect(await counted(store)).toBe(0);
    // the audit holds what the PBX was told (the fail-mode decisions), none of the rolled-back ones
    expect((await store.history(CONSUMER)).decisions.map((x) => x.id).sort()).toEqual(ds.map((d) => d.id).sort());
    expect(ds.map((d) => d.id).sort()).toEqual(['d4', 'd5', 'd6']);
    await store.close();
  });

  it('a deadline that fires before the group runs: fail-mode decision, nothing of the late call recorded', async () => {
    const inner = sqlite();
    await withConsent(inner);
    const hold = deferred();
    let ran = 0;
    const store = wrapStore(
      inner,
      async (name) => {
        if (name === 'decideAndCommit') await hold.promise;
      },
      (name, result) => {
        if (name === 'decideAndCommit') {
          ran++;
          expect(result).toBeUndefined(); // the callback saw the expired run and wrote nothing
        }
      },
    );
    const { gate } = gateWith(store);
    const d = await gate.decide(attempt(), { record: true, deadlineMs: 5 });
    expect(d.reasons.map((r) => r.code)).toEqual(['gate_unavailable']);
    hold.resolve();
    await until(() => ran === 1, 'the late call ran');
    await gate.drain(5000);
    expect(await counted(inner)).toBe(0);
    expect((await inner.history(CONSUMER)).decisions.map((x) => x.id)).toEqual([d.id]);
    await inner.close();
  });

  it('concurrent decisions for distinct numbers are all allowed and recorded', async () => {
    const store = sqlite();
    const nums = Array.from({ length: 30 }, (_, i) => `06123456${String(i).padStart(2, '0')}`);
    for (const n of nums)
      await store.addConsent({
        e164: `+33${n.slice(1)}`,
        professional: 'acme',
        categories: [],
        collectedAt: new Date('2026-10-01T10:00:00Z'),
      });
    const { gate } = gateWith(store);
    const ds = await Promise.all(nums.map((to) => gate.decide(attempt({ to }), { record: true })));
    expect(ds.every((d) => d.verdict === 'allow')).toBe(true);
    for (const n of nums) expect((await store.history(`+33${n.slice(1)}`)).attempts).toHaveLength(1);
    await store.close();
  });
});

describe('Gate fail open after the deadline', () => {
  it('counts the placed call once: the fail-open attempt is recorded, the late one released', async () => {
    const inner = await withConsent(new MemoryStore());
    const holdAnswer = deferred();
    const released: string[] = [];
    const store = wrapStore(
      inner,
      async (name, args) => {
        if (name === 'releaseAttempt') released.push(args[0] as string);
      },
      async (name, result) => {
        if (name === 'decideAndCommit' && (result as { id: string }).id === 'd1') await holdAnswer.promise;
      },
    );
    const { gate } = gateWith(store, 'policy: {failMode: open}');
    const d = await gate.decide(attempt(), { record: true, deadlineMs: 5 });
    expect(d.verdict).toBe('allow');
    expect(d.tags).toContain('gate_unavailable');
    holdAnswer.resolve();
    await until(() => released.length === 1, 'late attempt released');
    const h = await inner.history(CONSUMER);
    expect(h.attempts.map((a) => a.decisionId).sort()).toEqual(['d1', 'd2']);
    expect(await counted(inner)).toBe(1); // d2 (fail open, placed) counts; d1 was released
  });
});

describe('Gate.drain', () => {
  it('waits for late work before shutdown closes the store, within its timeout', async () => {
    const inner = await withConsent(new MemoryStore());
    const hold = deferred();
    const store = wrapStore(inner, async (name) => {
      if (name === 'decideAndCommit') await hold.promise;
    });
    const { gate } = gateWith(store);
    await expect(gate.drain(50)).resolves.toBe(true); // nothing pending
    await gate.decide(attempt(), { record: true, deadlineMs: 5 });
    await expect(gate.drain(20)).resolves.toBe(false); // the abandoned work still holds the store
    hold.resolve();
    await expect(gate.drain(5000)).resolves.toBe(true);
  });
});

describe('Gate logging', () => {
  it('with log.decisions: all, writes exactly one info line per decision, with masked numbers and the fields an operator needs', async () => {
    const store = await withConsent(new MemoryStore());
    const { gate, log } = gateWith(store, 'log: {decisions: all}');
    const a = await gate.decide(attempt(), { record: true });
    const b = await gate.decide(
      attempt({
        callerId: { number: '', presentation: 'restricted' },
        source: { pbx: 'freeswitch', channelId: 'uuid-2' },
      }),
    );
    const infos = log.lines().filter((l) => l.level === 'info');
    expect(infos.map((l) => l.decisionId)).toEqual([a.id, b.id]);
    expect(infos[0]).toMatchObject({
      msg: 'decision',
      component: 'gate',
      decisionId: a.id,
      verdict: 'allow',
      reasons: [],
      to: '+336******78',
      callerId: '+331******01',
      campaign: 'acme-energy',
      pbx: 'asterisk',
      channelId: 'chan-1',
    });
    expect(typeof infos[0]!.latencyUs).toBe('number');
    expect(infos[1]).toMatchObject({ verdict: 'block', pbx: 'freeswitch', channelId: 'uuid-2' });
    expect(infos[1]!.reasons).toContain('caller_id_withheld');
    expect(log.text()).not.toContain('612345678');
  });

  it('by default (log.decisions: blocks) logs the blocked calls and the would-be blocks of monitor mode, not the allowed calls', async () => {
    const store = await withConsent(new MemoryStore());
    const { gate, log, config } = gateWith(store);
    expect(config.log.decisions).toBe('blocks');
    const allowed = await gate.decide(attempt(), { record: true });
    const blocked = await gate.decide(attempt({ callerId: { number: '', presentation: 'restricted' } }));
    expect([allowed.verdict, blocked.verdict]).toEqual(['allow', 'block']);
    const monitor = gateWith(await withConsent(new MemoryStore()), 'policy: {monitorOnly: true}', log);
    const wouldBlock = await monitor.gate.decide(attempt({ callerId: { number: '', presentation: 'restricted' } }));
    const monitoredAllow = await monitor.gate.decide(attempt());
    expect([wouldBlock.verdict, wouldBlock.tags]).toEqual(['allow', expect.arrayContaining(['monitor'])]);
    const lines = log.lines().filter((l) => l.msg === 'decision');
    expect(lines.map((l) => [l.decisionId, l.verdict])).toEqual([
      [blocked.id, 'block'],
      [wouldBlock.id, 'allow'],
    ]);
    expect(lines[1]!.reasons).toContain('caller_id_withheld');
    expect(monitoredAllow.reasons).toEqual([]);
  });

  it('with log.decisions: none writes no decision line, and still logs what goes wrong', async () => {
    const store = await withConsent(new MemoryStore());
    const { gate, log } = gateWith(store, 'log: {decisions: none}');
    await gate.decide(attempt(), { record: true });
    await gate.decide(attempt({ callerId: { number: '', presentation: 'restricted' } }));
    await gate.decide(attempt({ campaignId: 'nope' }));
    expect(log.lines().filter((l) => l.msg === 'decision')).toEqual([]);
    expect(log.lines().filter((l) => l.level === 'warn' && /unknown campaign id "nope"/.test(l.msg))).toHaveLength(1);
    // every decision is in the audit all the same
    expect((await store.history(CONSUMER)).decisions).toHaveLength(3);
  });

  it('logs full numbers when log.maskNumbers is false', async () => {
    const store = await withConsent(new MemoryStore());
    const log = logSink('info', false);
    const config = testConfig('log: {maskNumbers: false, decisions: all}');
    const gate = new Gate({ store, config, clock: fixedClock(AT), logger: log.logger });
    await gate.decide(attempt());
    expect(log.lines().filter((l) => l.msg === 'decision')[0]).toMatchObject({ to: CONSUMER });
  });
});

describe('Gate.recordOutcome', () => {
  it('records the outcome on the decision and its attempt', async () => {
    const store = await withConsent(new MemoryStore());
    const { gate } = gateWith(store);
    const d = await gate.decide(attempt(), { record: true });
    await gate.recordOutcome(d.id, {
      answered: true,
      dialStatus: 'ANSWER',
      durationMs: 1000,
      endedAt: new Date(AT.getTime() + 60_000),
    });
    const h = await store.history(CONSUMER);
    expect(h.attempts[0]!.outcome).toMatchObject({ answered: true, dialStatus: 'ANSWER' });
  });

  it('never rejects: an unknown id is a warn, a store fault an error', async () => {
    const inner = new MemoryStore();
    const { gate, log } = gateWith(
      wrapStore(inner, (name) => {
        if (name === 'recordOutcome') throw new Error('database is locked');
      }),
    );
    await expect(gate.recordOutcome('x', { answered: false, endedAt: AT })).resolves.toBeUndefined();
    const ok = gateWith(inner);
    await expect(ok.gate.recordOutcome('unknown', { answered: false, endedAt: AT })).resolves.toBeUndefined();
    expect(log.lines().filter((l) => l.code === 'CG_ERR_OUTCOME' && l.level === 'error')).toHaveLength(1);
    expect(ok.log.lines().filter((l) => l.code === 'CG_ERR_OUTCOME' && l.level === 'warn')).toHaveLength(1);
  });
});
