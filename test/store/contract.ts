/**
 * One contract for every Store implementation (memory, sqlite, later
 * postgres): the same calls must give the same answers.
 */
import type { Decision, Facts } from '../../src/core/types';
import { StoreError, type Store } from '../../src/gate/store';
import { MemoryStore } from '../../src/store/memory/memory-store';
import { verifyChains } from '../../src/store/audit-chain';
import { runDecisionListContract } from './contract-decisions';

export const NUM = '+33612345678';
export const OTHER = '+33698765432';
export const PRO = 'acme';
export const PRO2 = 'globex';

const d = (iso: string) => new Date(iso);
const DAY = 86_400_000;

let seq = 0;
export function decision(over: Partial<Decision> & { e164?: string | null; professional?: string } = {}): Decision {
  const { e164 = NUM, professional = PRO, ...rest } = over;
  const base: Decision = {
    id: `dec-${process.pid}-${++seq}`,
    verdict: 'allow',
    reasons: [],
    tags: ['basis:consent'],
    regime: 'consent',
    basis: 'consent',
    at: d('2026-11-30T10:00:00Z'),
    callerId: { number: '0162000000', e164: '+33162000000', presentation: 'allowed' },
    campaign: { id: 'camp-1', professional, dialing: 'manual', purpose: 'prospecting' },
    rules: [{ rule: 'FREQ-1', outcome: 'pass' }],
    monitorOnly: false,
    source: { pbx: 'asterisk', channelId: 'chan-1' },
  };
  if (e164 !== null) {
    base.callee = {
      e164,
      territory: 'FR',
      timeZone: 'Europe/Paris',
      timeZones: ['Europe/Paris'],
      localTime: '2026-11-30T11:00:00.000+01:00',
      zoneSource: 'number',
    };
  }
  return { ...base, ...rest };
}

const WINDOW = { windowStart: d('2026-11-01T00:00:00Z'), maxAttempts: 4 };

async function expectStoreError(p: Promise<unknown>, code: string): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StoreError);
  expect((err as StoreError).code).toBe(code);
  expect((err as StoreError).message).toMatch(new RegExp(`^${code}: `));
}

export function runStoreContract(name: string, makeStore: () => Promise<Store> | Store): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await makeStore();
    });
    afterEach(async () => {
      await store.close();
    });

    const facts = (e164 = NUM, professional = PRO, windowStart = WINDOW.windowStart) =>
      store.getFacts({ e164, professional, at: d('2026-11-30T10:00:00Z'), windowStart });

    test('an unknown number has no facts and no opposition list', async () => {
      expect(await facts()).toEqual({
        consents: [],
        contracts: [],
        dnc: [],
        refusals: [],
        opposition: { listed: false },
        recentAttempts: [],
      });
    });

    test('consents of every professional, contracts/refusals of this one, dnc of this one and global', async () => {
      await store.addConsent({
        e164: NUM,
        professional: PRO,
        categories: ['energy', 'isolation'],
        collectedAt: d('2026-09-01T08:00:00Z'),
      });
      await store.addConsent({
        e164: NUM,
        professional: PRO2,
        categories: [],
        collectedAt: d('2026-09-02T08:00:00Z'),
        validUntil: d('2027-03-02T08:00:00Z'),
        slot: d('2026-12-01T09:30:00Z'),
        source: 'web form #12',
        withdrawnAt: d('2026-10-01T00:00:00Z'),
        automated: false,
      });
      await store.addConsent({
        e164: OTHER,
        professional: PRO,
        categories: [],
        collectedAt: d('2026-09-01T08:00:00Z'),
        automated: true,
      });
      await store.addContract({
        e164: NUM,
        professional: PRO,
        categories: ['energy'],
        start: d('2026-01-01T00:00:00Z'),
      });
      await store.addContract({
        e164: NUM,
        professional: PRO2,
        categories: [],
        start: d('2026-01-01T00:00:00Z'),
        end: d('2026-06-01T00:00:00Z'),
      });
      await store.addDnc({ e164: NUM, addedAt: d('2026-05-01T00:00:00Z'), reason: 'complaint' });
      await store.addDnc({ e164: NUM, professional: PRO, addedAt: d('2026-05-02T00:00:00Z') });
      await store.addDnc({ e164: NUM, professional: PRO2, addedAt: d('2026-05-03T00:00:00Z') });
      await store.addRefusal(NUM, PRO, d('2026-07-01T12:00:00Z'));
      await store.addRefusal(NUM, PRO2, d('2026-07-02T12:00:00Z'));

      const f = await facts();
      expect(f.consents).toEqual([
        { professional: PRO, categories: ['energy', 'isolation'], collectedAt: d('2026-09-01T08:00:00Z') },
        {
          professional: PRO2,
          categories: [],
          collectedAt: d('2026-09-02T08:00:00Z'),
          validUntil: d('2027-03-02T08:00:00Z'),
          slot: d('2026-12-01T09:30:00Z'),
          source: 'web form #12',
          withdrawnAt: d('2026-10-01T00:00:00Z'),
          automated: false,
        },
      ]);
      expect(f.contracts).toEqual([{ professional: PRO, categories: ['energy'], start: d('2026-01-01T00:00:00Z') }]);
      expect(f.dnc).toEqual([
        { addedAt: d('2026-05-01T00:00:00Z'), reason: 'complaint' },
        { professional: PRO, addedAt: d('2026-05-02T00:00:00Z') },
      ]);
      expect(f.refusals).toEqual([{ professional: PRO, at: d('2026-07-01T12:00:00Z') }]);
      const other = await facts(OTHER);
      expect(other.consents).toEqual([
        { professional: PRO, categories: [], collectedAt: d('2026-09-01T08:00:00Z'), automated: true },
      ]);
      expect((await facts(NUM, PRO2)).contracts).toEqual([
        { professional: PRO2, categories: [], start: d('2026-01-01T00:00:00Z'), end: d('2026-06-01T00:00:00Z') },
      ]);
    });

    test('facts are copies: mutating them does not change the store', async () => {
      await store.addConsent({
        e164: NUM,
        professional: PRO,
        categories: ['a'],
        collectedAt: d('2026-09-01T08:00:00Z'),
      });
      const f = await facts();
      f.consents[0].categories.push('b');
      f.consents[0].collectedAt.setTime(0);
      expect((await facts()).consents).toEqual([
        { professional: PRO, categories: ['a'], collectedAt: d('2026-09-01T08:00:00Z') },
      ]);
    });

    test('withdrawConsent marks only the active consents of that professional', async () => {
      await store.addConsent({ e164: NUM, professional: PRO, categories: [], collectedAt: d('2026-09-01T00:00:00Z') });
      await store.addConsent({
        e164: NUM,
        professional: PRO,
        categories: ['x'],
        collectedAt: d('2026-09-02T00:00:00Z'),
      });
      await store.addConsent({
        e164: NUM,
        professional: PRO,
        categories: [],
        collectedAt: d('2026-08-01T00:00:00Z'),
        withdrawnAt: d('2026-08-15T00:00:00Z'),
      });
      await store.addConsent({ e164: NUM, professional: PRO2, categories: [], collectedAt: d('2026-09-01T00:00:00Z') });
      expect(await store.withdrawConsent(NUM, PRO, d('2026-10-10T10:00:00Z'))).toBe(2);
      const withdrawn = (await facts()).consents.map((c) => [c.professional, c.withdrawnAt?.toISOString()]);
      expect(withdrawn).toEqual([
        [PRO, '2026-10-10T10:00:00.000Z'],
        [PRO, '2026-10-10T10:00:00.000Z'],
        [PRO, '2026-08-15T00:00:00.000Z'],
        [PRO2, undefined],
      ]);
      expect(await store.withdrawConsent(NUM, PRO, d('2026-10-11T10:00:00Z'))).toBe(0);
    });

    test('an allowed, recorded decision counts; a block or an unrecorded one does not', async () => {
      expect(
        await store.commitDecision(decision({ at: d('2026-11-10T10:00:00Z') }), { ...WINDOW, recordAttempt: true }),
      ).toEqual({ ok: true });
      expect(
        await store.commitDecision(decision({ at: d('2026-11-11T10:00:00Z') }), { ...WINDOW, recordAttempt: false }),
      ).toEqual({ ok: true });
      const blocked = decision({
        at: d('2026-11-12T10:00:00Z'),
        verdict: 'block',
        reasons: [{ code: 'do_not_call', rule: 'DNC-1', message: 'on the DNC list', legalRef: 'RGPD art. 21' }],
      });
      expect(await store.commitDecision(blocked, { ...WINDOW, recordAttempt: true })).toEqual({ ok: true });
      expect((await facts()).recentAttempts).toEqual([d('2026-11-10T10:00:00Z')]);
      const h = await store.history(NUM);
      expect(h.decisions.map((x) => x.verdict)).toEqual(['allow', 'allow', 'block']);
      expect(h.attempts).toHaveLength(1);
      expect(h.decisions[2].decision).toEqual(blocked);
    });

    test('the fifth attempt in the window is refused and nothing is written', async () => {
      const ats = ['2026-11-02T10:00:00Z', '2026-11-05T10:00:00Z', '2026-11-03T10:00:00Z', '2026-11-20T10:00:00Z'].map(
        d,
      );
      for (const at of ats)
        expect(await store.commitDecision(decision({ at }), { ...WINDOW, recordAttempt: true })).toEqual({ ok: true });
      const fifth = decision({ at: d('2026-11-25T10:00:00Z') });
      const r = await store.commitDecision(fifth, { ...WINDOW, recordAttempt: true });
      expect(r).toEqual({ ok: false, recentAttempts: [...ats].sort((a, b) => a.getTime() - b.getTime()) });
      const h = await store.history(NUM);
      expect(h.decisions.map((x) => x.id)).not.toContain(fifth.id);
      expect(h.attempts).toHaveLength(4);
      // another professional, or another number, is not limited by these
      expect(await store.commitDecision(decision({ professional: PRO2 }), { ...WINDOW, recordAttempt: true })).toEqual({
        ok: true,
      });
      expect(await store.commitDecision(decision({ e164: OTHER }), { ...WINDOW, recordAttempt: true })).toEqual({
        ok: true,
      });
    });

    test('attempts before windowStart do not count; maxAttempts Infinity never refuses', async () => {
      for (let i = 0; i < 4; i++) {
        await store.commitDecision(decision({ at: new Date(d('2026-10-01T10:00:00Z').getTime() + i * DAY) }), {
          ...WINDOW,
          recordAttempt: true,
        });
      }
      expect((await facts()).recentAttempts).toEqual([]);
      expect((await facts(NUM, PRO, d('2026-10-02T10:00:00Z'))).recentAttempts).toEqual([
        d('2026-10-02T10:00:00Z'),
        d('2026-10-03T10:00:00Z'),
        d('2026-10-04T10:00:00Z'),
      ]);
      const monitor = { windowStart: d('2026-09-01T00:00:00Z'), maxAttempts: Infinity, recordAttempt: true };
      expect(await store.commitDecision(decision(), monitor)).toEqual({ ok: true });
      expect((await facts(NUM, PRO, monitor.windowStart)).recentAttempts).toHaveLength(5);
    });

    test('a released attempt no longer counts; releasing an unknown id says false', async () => {
      const a = decision({ at: d('2026-11-10T10:00:00Z') });
      await store.commitDecision(a, { ...WINDOW, recordAttempt: true });
      await store.commitDecision(decision({ at: d('2026-11-11T10:00:00Z') }), { ...WINDOW, recordAttempt: true });
      expect(await store.releaseAttempt(a.id)).toBe(true);
      expect((await facts()).recentAttempts).toEqual([d('2026-11-11T10:00:00Z')]);
      expect(await store.releaseAttempt('no-such-decision')).toBe(false);
      const blocked = decision({ verdict: 'block' });
      await store.commitDecision(blocked, { ...WINDOW, recordAttempt: true });
      expect(await store.releaseAttempt(blocked.id)).toBe(false);
    });

    test('recordOutcome updates the attempt and the decision; unknown id says false', async () => {
      const a = decision({ at: d('2026-11-10T10:00:00Z') });
      await store.commitDecision(a, { ...WINDOW, recordAttempt: true });
      const outcome = {
        answered: true,
        dialStatus: 'ANSWER',
        hangupCause: 'NORMAL_CLEARING',
        durationMs: 61_500,
        endedAt: d('2026-11-10T10:01:05Z'),
      };
      expect(await store.recordOutcome(a.id, outcome)).toBe(true);
      const h = await store.history(NUM);
      expect(h.attempts[0].outcome).toEqual(outcome);
      expect(h.decisions[0].outcome).toEqual(outcome);
      expect(await store.recordOutcome('no-such-decision', outcome)).toBe(false);
      const b = decision({ verdict: 'block' });
      await store.commitDecision(b, { ...WINDOW, recordAttempt: false });
      const busy = { answered: false, dialStatus: 'BUSY', endedAt: d('2026-11-30T10:00:02Z') };
      expect(await store.recordOutcome(b.id, busy)).toBe(true);
      expect((await store.history(NUM)).decisions.find((x) => x.id === b.id)?.outcome).toEqual(busy);
    });

    test('a decision with no callee (invalid destination) is kept for audit', async () => {
      const bad = decision({
        e164: null,
        verdict: 'block',
        reasons: [
          { code: 'invalid_destination', rule: 'SCOPE-3', message: 'not dialable', legalRef: 'FR-RULES SCOPE-3' },
        ],
      });
      expect(await store.commitDecision(bad, { ...WINDOW, recordAttempt: true })).toEqual({ ok: true });
      expect(await store.recordOutcome(bad.id, { answered: false, endedAt: d('2026-11-30T10:00:00Z') })).toBe(true);
    });

    test('decision ids are unique', async () => {
      const a = decision();
      await store.commitDecision(a, { ...WINDOW, recordAttempt: true });
      await expectStoreError(store.commitDecision(a, { ...WINDOW, recordAttempt: true }), 'CG_ERR_STORE_DUPLICATE');
      expect((await facts()).recentAttempts).toHaveLength(1);
    });

    test('the audit JSON gives back the whole decision, dates as Dates, local time as text', async () => {
      const a = decision({
        verdict: 'block',
        reasons: [
          {
            code: 'outside_calling_hours',
            rule: 'TIME-3',
            message: 'too late',
            legalRef: 'D. 223-9',
            retryAfter: d('2026-12-01T09:00:00Z'),
          },
          {
            code: 'frequency_limit',
            rule: 'FREQ-1',
            message: 'four already',
            legalRef: 'D. 223-9 al. 3',
            retryAfter: d('2026-12-02T09:00:00Z'),
            detail: 'x',
          },
        ],
      });
      await store.commitDecision(a, { ...WINDOW, recordAttempt: false });
      const [row] = (await store.history(NUM)).decisions;
      expect(row).toEqual({ id: a.id, at: a.at, e164: NUM, professional: PRO, verdict: 'block', decision: a });
      expect(typeof row.decision.callee?.localTime).toBe('string');
      expect(row.decision.reasons[0].retryAfter).toBeInstanceOf(Date);
    });

    test('history: everything about one number, sorted by time, optionally for one professional', async () => {
      await store.commitDecision(decision({ id: 'late', at: d('2026-11-20T10:00:00Z') }), {
        ...WINDOW,
        recordAttempt: true,
      });
      await store.commitDecision(decision({ id: 'early', at: d('2026-11-10T10:00:00Z') }), {
        ...WINDOW,
        recordAttempt: true,
      });
      await store.commitDecision(decision({ id: 'other-pro', at: d('2026-11-15T10:00:00Z'), professional: PRO2 }), {
        ...WINDOW,
        recordAttempt: true,
      });
      await store.commitDecision(decision({ id: 'other-number', e164: OTHER }), { ...WINDOW, recordAttempt: true });
      await store.addConsent({ e164: NUM, professional: PRO, categories: [], collectedAt: d('2026-09-02T00:00:00Z') });
      await store.addConsent({ e164: NUM, professional: PRO2, categories: [], collectedAt: d('2026-09-01T00:00:00Z') });
      await store.addDnc({ e164: NUM, addedAt: d('2026-05-01T00:00:00Z') });
      await store.addDnc({ e164: NUM, professional: PRO2, addedAt: d('2026-04-01T00:00:00Z') });
      await store.addRefusal(NUM, PRO2, d('2026-07-01T00:00:00Z'));
      await store.addContract({ e164: NUM, professional: PRO, categories: [], start: d('2026-02-01T00:00:00Z') });

      const all = await store.history(NUM);
      expect(all.e164).toBe(NUM);
      expect(all.attempts.map((a) => a.decisionId)).toEqual(['early', 'other-pro', 'late']);
      expect(all.attempts[0]).toEqual({
        decisionId: 'early',
        e164: NUM,
        professional: PRO,
        campaignId: 'camp-1',
        at: d('2026-11-10T10:00:00Z'),
      });
      expect(all.decisions.map((a) => a.id)).toEqual(['early', 'other-pro', 'late']);
      expect(all.consents.map((c) => c.professional)).toEqual([PRO2, PRO]);
      expect(all.dnc.map((x) => x.professional ?? '*')).toEqual([PRO2, '*']);
      expect(all.refusals).toEqual([{ e164: NUM, professional: PRO2, at: d('2026-07-01T00:00:00Z') }]);
      expect(all.contracts).toEqual([
        { e164: NUM, professional: PRO, categories: [], start: d('2026-02-01T00:00:00Z') },
      ]);
      expect(all.opposition).toEqual({ listed: false });

      const mine = await store.history(NUM, PRO);
      expect(mine.attempts.map((a) => a.decisionId)).toEqual(['early', 'late']);
      expect(mine.decisions.map((a) => a.id)).toEqual(['early', 'late']);
      expect(mine.consents.map((c) => c.professional)).toEqual([PRO]);
      expect(mine.dnc.map((x) => x.professional ?? '*')).toEqual(['*']);
      expect(mine.refusals).toEqual([]);
    });

    test('invalid rows are refused with a StoreError naming the problem', async () => {
      await expectStoreError(
        store.addConsent({
          e164: '0612345678',
          professional: PRO,
          categories: [],
          collectedAt: d('2026-09-01T00:00:00Z'),
        }),
        'CG_ERR_STORE_INVALID',
      );
      await expectStoreError(
        store.addConsent({
          e164: NUM,
          professional: PRO,
          categories: ['a\u001fb'],
          collectedAt: d('2026-09-01T00:00:00Z'),
        }),
        'CG_ERR_STORE_INVALID',
      );
      await expectStoreError(
        store.addConsent({ e164: NUM, professional: PRO, categories: [''], collectedAt: d('2026-09-01T00:00:00Z') }),
        'CG_ERR_STORE_INVALID',
      );
      await expectStoreError(
        store.addContract({ e164: NUM, professional: PRO, categories: [], start: new Date(NaN) }),
        'CG_ERR_STORE_INVALID',
      );
      await expectStoreError(
        store.addDnc({ e164: NUM, professional: '', addedAt: d('2026-09-01T00:00:00Z') }),
        'CG_ERR_STORE_INVALID',
      );
      await expectStoreError(store.addRefusal(NUM, PRO, new Date('nope')), 'CG_ERR_STORE_INVALID');
      expect(await store.history(NUM)).toMatchObject({ consents: [], contracts: [], dnc: [], refusals: [] });
    });

    test('an import is invisible until commit and a rollback leaves nothing', async () => {
      const s = await store.beginImport('consent');
      await s.consents([
        {
          e164: NUM,
          professional: PRO,
          categories: ['a', 'b'],
          collectedAt: d('2026-09-01T00:00:00Z'),
          automated: true,
        },
        { e164: OTHER, professional: PRO, categories: [], collectedAt: d('2026-09-02T00:00:00Z'), source: 'csv' },
      ]);
      expect((await facts()).consents).toEqual([]);
      await s.commit();
      expect((await facts()).consents).toEqual([
        { professional: PRO, categories: ['a', 'b'], collectedAt: d('2026-09-01T00:00:00Z'), automated: true },
      ]);
      await expectStoreError(s.consents([]), 'CG_ERR_STORE_IMPORT');

      const r = await store.beginImport('contract');
      await r.contracts([{ e164: NUM, professional: PRO, categories: [], start: d('2026-01-01T00:00:00Z') }]);
      await r.rollback();
      expect((await facts()).contracts).toEqual([]);
      await expectStoreError(r.commit(), 'CG_ERR_STORE_IMPORT');

      const dnc = await store.beginImport('dnc');
      await expectStoreError(dnc.consents([]), 'CG_ERR_STORE_IMPORT');
      await expectStoreError(
        dnc.dnc([{ e164: 'garbage', addedAt: d('2026-01-01T00:00:00Z') }]),
        'CG_ERR_STORE_INVALID',
      );
      await dnc.dnc([{ e164: NUM, addedAt: d('2026-01-01T00:00:00Z'), reason: 'asked' }]);
      await dnc.commit();
      expect((await facts()).dnc).toEqual([{ addedAt: d('2026-01-01T00:00:00Z'), reason: 'asked' }]);
    });

    test('a large import in many batches keeps every row', async () => {
      const s = await store.beginImport('contract');
      for (let b = 0; b < 5; b++) {
        await s.contracts(
          Array.from({ length: 257 }, (_, i) => ({
            e164: `+3361${String(b * 1000 + i).padStart(7, '0')}`,
            professional: PRO,
            categories: ['c'],
            start: d('2026-01-01T00:00:00Z'),
          })),
        );
      }
      await s.commit();
      expect((await facts('+33610004256')).contracts).toHaveLength(1);
      expect((await facts('+33610000000')).contracts).toHaveLength(1);
      expect((await facts('+33610000257')).contracts).toHaveLength(0);
    });

    test('the opposition list is replaced as a whole at commit, with its date', async () => {
      await expectStoreError(store.beginImport('opposition'), 'CG_ERR_STORE_IMPORT');
      const first = await store.beginImport('opposition', { asOf: d('2026-05-01T00:00:00Z') });
      await first.opposition([NUM, OTHER, NUM]);
      expect((await facts()).opposition).toEqual({ listed: false });
      await first.commit();
      expect((await facts()).opposition).toEqual({ listed: true, asOf: d('2026-05-01T00:00:00Z') });
      expect((await facts('+33600000001')).opposition).toEqual({ listed: false, asOf: d('2026-05-01T00:00:00Z') });

      const aborted = await store.beginImport('opposition', { asOf: d('2026-06-01T00:00:00Z') });
      await aborted.opposition(['+33600000001']);
      await aborted.rollback();
      expect((await facts()).opposition).toEqual({ listed: true, asOf: d('2026-05-01T00:00:00Z') });

      const second = await store.beginImport('opposition', { asOf: d('2026-06-01T00:00:00Z') });
      await second.opposition([OTHER]);
      await second.commit();
      expect((await facts()).opposition).toEqual({ listed: false, asOf: d('2026-06-01T00:00:00Z') });
      expect((await facts(OTHER)).opposition).toEqual({ listed: true, asOf: d('2026-06-01T00:00:00Z') });
      expect((await store.history(OTHER)).opposition).toEqual({ listed: true, asOf: d('2026-06-01T00:00:00Z') });
    });

    test('imports merge on the natural key: the same rows twice change nothing and are counted (ImportCommitResult)', async () => {
      const consents = [
        { e164: NUM, professional: PRO, categories: ['a', 'b'], collectedAt: d('2026-09-01T00:00:00Z') },
        { e164: NUM, professional: PRO2, categories: ['a', 'b'], collectedAt: d('2026-09-01T00:00:00Z') },
        { e164: NUM, professional: PRO, categories: ['a'], collectedAt: d('2026-09-01T00:00:00Z') },
        { e164: NUM, professional: PRO, categories: ['a', 'b'], collectedAt: d('2026-09-02T00:00:00Z') },
        { e164: OTHER, professional: PRO, categories: ['a', 'b'], collectedAt: d('2026-09-01T00:00:00Z') },
      ];
      const first = await store.beginImport('consent');
      // the last row repeats the first inside the same import: merged into it (a missing source is filled in)
      await first.consents([...consents, { ...consents[0], source: 'again' }]);
      expect(await first.commit()).toEqual({ inserted: 5, updated: 1, unchanged: 0 });
      const again = await store.beginImport('consent');
      await again.consents(consents);
      expect(await again.commit()).toEqual({ inserted: 0, updated: 0, unchanged: 5 });
      expect((await facts()).consents).toHaveLength(4);
      expect((await facts()).consents.filter((c) => c.source === 'again')).toHaveLength(1);

      const contracts = [
        { e164: NUM, professional: PRO, categories: ['x'], start: d('2026-01-01T00:00:00Z') },
        { e164: NUM, professional: PRO, categories: ['x'], start: d('2026-02-01T00:00:00Z') },
      ];
      for (const expected of [
        { inserted: 2, updated: 0, unchanged: 0 },
        { inserted: 0, updated: 0, unchanged: 2 },
      ]) {
        const s = await store.beginImport('contract');
        await s.contracts(contracts);
        expect(await s.commit()).toEqual(expected);
      }
      expect((await facts()).contracts).toHaveLength(2);

      const dnc = [
        { e164: NUM, addedAt: d('2026-01-01T00:00:00Z') },
        { e164: NUM, professional: PRO, addedAt: d('2026-01-01T00:00:00Z') },
        { e164: NUM, addedAt: d('2026-03-01T00:00:00Z'), reason: 'later' },
      ];
      const s = await store.beginImport('dnc');
      await s.dnc(dnc);
      // the third row repeats the first's key: its reason fills the empty one, its later date is not taken
      expect(await s.commit()).toEqual({ inserted: 2, updated: 1, unchanged: 0 });
      expect((await facts()).dnc).toEqual([
        { addedAt: d('2026-01-01T00:00:00Z'), reason: 'later' },
        { professional: PRO, addedAt: d('2026-01-01T00:00:00Z') },
      ]);

      const opp = await store.beginImport('opposition', { asOf: d('2026-05-01T00:00:00Z') });
      await opp.opposition([NUM, OTHER, NUM]);
      expect(await opp.commit()).toEqual({ inserted: 2, updated: 0, unchanged: 1 });
    });

    test('adding an equal consent, contract or dnc row again is a no-op; a withdrawn consent stays withdrawn; an end is taken', async () => {
      const c = { e164: NUM, professional: PRO, categories: ['a'], collectedAt: d('2026-09-01T00:00:00Z') };
      await store.addConsent(c);
      expect(await store.withdrawConsent(NUM, PRO, d('2026-10-01T00:00:00Z'))).toBe(1);
      await store.addConsent(c);
      const s = await store.beginImport('consent');
      await s.consents([c]);
      expect(await s.commit()).toEqual({ inserted: 0, updated: 0, unchanged: 1 });
      expect((await facts()).consents).toEqual([
        { professional: PRO, categories: ['a'], collectedAt: c.collectedAt, withdrawnAt: d('2026-10-01T00:00:00Z') },
      ]);

      const k = { e164: NUM, professional: PRO, categories: [], start: d('2026-01-01T00:00:00Z') };
      await store.addContract(k);
      // issue 11.1: the same contract with an end is merged into it, and adding it without the end again changes nothing
      await store.addContract({ ...k, end: d('2026-06-01T00:00:00Z') });
      await store.addContract(k);
      expect((await facts()).contracts).toEqual([
        { professional: PRO, categories: [], start: k.start, end: d('2026-06-01T00:00:00Z') },
      ]);

      await store.addDnc({ e164: NUM, addedAt: d('2026-01-01T00:00:00Z'), reason: 'asked' });
      await store.addDnc({ e164: NUM, addedAt: d('2026-02-01T00:00:00Z') });
      expect((await facts()).dnc).toEqual([{ addedAt: d('2026-01-01T00:00:00Z'), reason: 'asked' }]);
    });

    describe('decideAndCommit', () => {
      const q = (e164 = NUM, professional = PRO) => ({
        e164,
        professional,
        at: d('2026-11-30T10:00:00Z'),
        windowStart: WINDOW.windowStart,
      });
      /** What the gate's core does with the frequency rule: allow while fewer than 4 counted attempts. */
      const byCount =
        (over: Parameters<typeof decision>[0] = {}) =>
        (f: Facts) =>
          decision({ ...over, verdict: f.recentAttempts.length < 4 ? 'allow' : 'block' });
      const REC = { recordAttempt: true, maxAttempts: 4 };

      test('gives decide the facts getFacts gives, writes the decision and its attempt, resolves with it', async () => {
        await store.addConsent({
          e164: NUM,
          professional: PRO,
          categories: ['a'],
          collectedAt: d('2026-09-01T00:00:00Z'),
        });
        const expected = await facts();
        let seen: Facts | undefined;
        const made = decision();
        const r = await store.decideAndCommit(q(), (f) => ((seen = f), made), REC);
        expect(r).toBe(made);
        expect(seen).toEqual(expected);
        const h = await store.history(NUM);
        expect(h.decisions.map((x) => [x.id, x.verdict])).toEqual([[made.id, 'allow']]);
        expect(h.attempts.map((a) => a.decisionId)).toEqual([made.id]);
        expect((await facts()).recentAttempts).toEqual([made.at]);
      });

      test('a block, or recordAttempt false, writes the decision but no attempt', async () => {
        await store.decideAndCommit(q(), () => decision({ verdict: 'block' }), REC);
        await store.decideAndCommit(q(), () => decision(), { ...REC, recordAttempt: false });
        expect((await store.history(NUM)).decisions).toHaveLength(2);
        expect((await facts()).recentAttempts).toEqual([]);
      });

      test('decide returning undefined writes nothing and resolves undefined', async () => {
        expect(await store.decideAndCommit(q(), () => undefined, REC)).toBeUndefined();
        expect((await store.history(NUM)).decisions).toEqual([]);
      });

      test('N concurrent calls for one number: exactly maxAttempts allowed, each call sees the ones before it', async () => {
        const ds = await Promise.all(Array.from({ length: 10 }, () => store.decideAndCommit(q(), byCount(), REC)));
        expect(ds.map((x) => x?.verdict)).toEqual([...Array(4).fill('allow'), ...Array(6).fill('block')]);
        expect((await facts()).recentAttempts).toHaveLength(4);
        expect((await store.history(NUM)).decisions).toHaveLength(10);
      });

      test('concurrent calls for distinct numbers are all allowed and all recorded', async () => {
        const nums = Array.from({ length: 20 }, (_, i) => `+336123456${String(i).padStart(2, '0')}`);
        const ds = await Promise.all(nums.map((n) => store.decideAndCommit(q(n), byCount({ e164: n }), REC)));
        expect(ds.every((x) => x?.verdict === 'allow')).toBe(true);
        for (const n of nums) expect((await facts(n)).recentAttempts).toHaveLength(1);
      });

      test('an allowed call beyond maxAttempts (a decide that ignores the count) is refused, nothing written', async () => {
        for (let i = 0; i < 4; i++) await store.decideAndCommit(q(), () => decision(), REC);
        await expectStoreError(
          store.decideAndCommit(q(), () => decision(), REC),
          'CG_ERR_STORE_INVALID',
        );
        await expectStoreError(
          store.decideAndCommit(q(), () => decision({ e164: OTHER }), REC),
          'CG_ERR_STORE_INVALID',
        );
        expect((await store.history(NUM)).decisions).toHaveLength(4);
        // monitor mode: no limit
        expect((await store.decideAndCommit(q(), () => decision(), { ...REC, maxAttempts: Infinity }))?.verdict).toBe(
          'allow',
        );
      });

      test('a fault in one call (decide throws, duplicate id) rejects that call alone; the others are written', async () => {
        const dup = decision();
        await store.decideAndCommit(q(), () => dup, REC);
        const results = await Promise.allSettled([
          store.decideAndCommit(q(OTHER), byCount({ e164: OTHER }), REC),
          store.decideAndCommit(
            q(),
            () => {
              throw new Error('evaluate bug');
            },
            REC,
          ),
          store.decideAndCommit(q(), () => dup, REC),
          store.decideAndCommit(q(), byCount(), REC),
        ]);
        expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
        expect(((results[1] as PromiseRejectedResult).reason as Error).message).toBe('evaluate bug');
        expect(((results[2] as PromiseRejectedResult).reason as StoreError).code).toBe('CG_ERR_STORE_DUPLICATE');
        expect((await facts()).recentAttempts).toHaveLength(2);
        expect((await facts(OTHER)).recentAttempts).toHaveLength(1);
        expect((await store.history(NUM)).decisions).toHaveLength(2);
      });

      test('a closed store rejects with a StoreError', async () => {
        await store.close();
        await expectStoreError(
          store.decideAndCommit(q(), () => decision(), REC),
          'CG_ERR_STORE_FAULT',
        );
      });
    });

    test('auditBetween: the decisions of a time range, oldest first, in batches, with their outcomes', async () => {
      const at = (iso: string) => ({ at: d(iso) });
      const made = [
        decision({ id: 'a-before', ...at('2026-10-31T23:59:59.999Z') }),
        decision({ id: 'a-late', ...at('2026-11-20T10:00:00Z') }),
        decision({ id: 'a-first', ...at('2026-11-01T00:00:00Z'), verdict: 'block' }),
        decision({ id: 'a-nocallee', ...at('2026-11-05T00:00:00Z'), e164: null, verdict: 'block' }),
        decision({ id: 'a-mid', ...at('2026-11-10T10:00:00Z') }),
        decision({ id: 'a-end', ...at('2026-12-01T00:00:00Z') }),
      ];
      for (const x of made) await store.commitDecision(x, { ...WINDOW, recordAttempt: x.verdict === 'allow' });
      const outcome = { answered: true, dialStatus: 'ANSWER', durationMs: 5000, endedAt: d('2026-11-10T10:02:00Z') };
      await store.recordOutcome('a-mid', outcome);
      const batches: string[][] = [];
      const rows = [];
      for await (const b of store.auditBetween(d('2026-11-01T00:00:00Z'), d('2026-12-01T00:00:00Z'), 2)) {
        batches.push(b.map((r) => r.id));
        rows.push(...b);
      }
      expect(rows.map((r) => r.id)).toEqual(['a-first', 'a-nocallee', 'a-mid', 'a-late']);
      expect(batches.every((b) => b.length <= 2)).toBe(true);
      expect(rows[2]).toEqual({
        id: 'a-mid',
        at: d('2026-11-10T10:00:00Z'),
        e164: NUM,
        professional: PRO,
        verdict: 'allow',
        decision: made[4],
        outcome,
      });
      expect(rows[1]!.e164).toBeUndefined();
      expect(rows[1]!.decision).toEqual(made[3]);
    });

    test('purge removes old decisions, consents and ended contracts (counted first by a dry run), never dnc or refusals', async () => {
      await store.commitDecision(decision({ id: 'p-old', at: d('2023-01-10T10:00:00Z') }), {
        ...WINDOW,
        recordAttempt: true,
      });
      await store.commitDecision(decision({ id: 'p-recent', at: d('2026-11-10T10:00:00Z') }), {
        ...WINDOW,
        recordAttempt: true,
      });
      await store.addConsent({
        e164: NUM,
        professional: PRO,
        categories: ['a'],
        collectedAt: d('2022-06-01T00:00:00Z'),
      });
      await store.addConsent({
        e164: NUM,
        professional: PRO,
        categories: ['b'],
        collectedAt: d('2026-06-01T00:00:00Z'),
      });
      await store.addContract({
        e164: NUM,
        professional: PRO,
        categories: ['old-ongoing'],
        start: d('2020-01-01T00:00:00Z'),
      });
      await store.addContract({
        e164: NUM,
        professional: PRO,
        categories: ['old-ended'],
        start: d('2020-01-01T00:00:00Z'),
        end: d('2022-01-01T00:00:00Z'),
      });
      await store.addContract({
        e164: NUM,
        professional: PRO,
        categories: ['ended-lately'],
        start: d('2020-01-01T00:00:00Z'),
        end: d('2026-01-01T00:00:00Z'),
      });
      await store.addDnc({ e164: NUM, addedAt: d('2019-01-01T00:00:00Z') });
      await store.addRefusal(NUM, PRO, d('2019-01-01T00:00:00Z'));
      const cutoffs = {
        decisionsBefore: d('2023-12-01T00:00:00Z'),
        consentsCollectedBefore: d('2023-12-01T00:00:00Z'),
        contractsEndedBefore: d('2023-12-01T00:00:00Z'),
      };
      const before = await store.history(NUM);
      expect(await store.purge(cutoffs, true)).toEqual({ decisions: 1, consents: 1, contracts: 1 });
      expect(await store.history(NUM)).toEqual(before);
      expect(await store.purge(cutoffs, false)).toEqual({ decisions: 1, consents: 1, contracts: 1 });
      const after = await store.history(NUM);
      expect(after.decisions.map((x) => x.id)).toEqual(['p-recent']);
      expect(after.attempts.map((x) => x.decisionId)).toEqual(['p-recent']);
      expect(after.consents.map((x) => x.categories)).toEqual([['b']]);
      expect(after.contracts.map((x) => x.categories)).toEqual([['old-ongoing'], ['ended-lately']]);
      expect(after.dnc).toHaveLength(1);
      expect(after.refusals).toHaveLength(1);
      expect((await facts()).recentAttempts).toEqual([d('2026-11-10T10:00:00Z')]);
      expect(await store.purge(cutoffs, false)).toEqual({ decisions: 0, consents: 0, contracts: 0 });
      // a purged consent may be recorded again (its natural key is free)
      await store.addConsent({
        e164: NUM,
        professional: PRO,
        categories: ['a'],
        collectedAt: d('2022-06-01T00:00:00Z'),
      });
      expect((await store.history(NUM)).consents).toHaveLength(2);
    });

    describe('store copy (exportAll, copyIn)', () => {
      /** A memory store holding one of everything (the reference the copies are compared with). */
      async function filled(): Promise<MemoryStore> {
        const m = new MemoryStore();
        await m.addConsent({
          e164: NUM,
          professional: PRO,
          categories: ['a', 'b'],
          collectedAt: d('2026-09-01T00:00:00Z'),
          source: 'web',
          automated: true,
        });
        await m.addConsent({
          e164: NUM,
          professional: PRO2,
          categories: [],
          collectedAt: d('2026-09-02T00:00:00Z'),
          validUntil: d('2027-01-01T00:00:00Z'),
          slot: d('2026-12-01T09:00:00Z'),
          withdrawnAt: d('2026-10-01T00:00:00Z'),
        });
        await m.addContract({ e164: NUM, professional: PRO, categories: ['x'], start: d('2026-01-01T00:00:00Z') });
        await m.addContract({
          e164: OTHER,
          professional: PRO,
          categories: [],
          start: d('2025-01-01T00:00:00Z'),
          end: d('2026-01-01T00:00:00Z'),
        });
        await m.addDnc({ e164: NUM, addedAt: d('2026-05-01T00:00:00Z'), reason: 'complaint' });
        await m.addDnc({ e164: OTHER, professional: PRO2, addedAt: d('2026-05-02T00:00:00Z') });
        await m.addRefusal(NUM, PRO2, d('2026-07-01T12:00:00Z'));
        const opp = await m.beginImport('opposition', { asOf: d('2026-04-01T00:00:00Z') });
        await opp.opposition([OTHER]);
        await opp.commit();
        await m.commitDecision(decision({ id: 'c-allow', at: d('2026-11-10T10:00:00Z') }), {
          ...WINDOW,
          recordAttempt: true,
        });
        await m.commitDecision(decision({ id: 'c-released', at: d('2026-11-11T10:00:00Z') }), {
          ...WINDOW,
          recordAttempt: true,
        });
        await m.releaseAttempt('c-released');
        await m.recordOutcome('c-allow', {
          answered: true,
          dialStatus: 'ANSWER',
          durationMs: 30_000,
          endedAt: d('2026-11-10T10:01:00Z'),
        });
        await m.commitDecision(
          decision({
            id: 'c-block',
            verdict: 'block',
            reasons: [{ code: 'do_not_call', rule: 'DNC-1', message: 'x', legalRef: 'RGPD art. 21' }],
          }),
          { ...WINDOW, recordAttempt: true },
        );
        await m.commitDecision(decision({ id: 'c-nocallee', e164: null, verdict: 'block' }), {
          ...WINDOW,
          recordAttempt: false,
        });
        return m;
      }
      async function copy(from: Store, to: Store) {
        const total = { inserted: 0, updated: 0, skipped: 0 };
        for await (const b of from.exportAll(2)) {
          const r = await to.copyIn(b);
          total.inserted += r.inserted;
          total.updated += r.updated;
          total.skipped += r.skipped;
        }
        return total;
      }
      const everything = async (s: Store) => [await s.history(NUM), await s.history(OTHER), await facts()];

      test('another store copied in holds the same history; copying again changes nothing', async () => {
        const m = await filled();
        // 12 rows, and the head of the memory store's audit chain
        expect(await copy(m, store)).toEqual({ inserted: 13, updated: 0, skipped: 0 });
        const want = [await m.history(NUM), await m.history(OTHER)];
        expect([await store.history(NUM), await store.history(OTHER)]).toEqual(want);
        expect(await copy(m, store)).toEqual({ inserted: 0, updated: 0, skipped: 13 });
        // the audit chain came along verbatim: it verifies here, with the source's head
        const chain = await verifyChains(store);
        expect(chain.problems).toEqual([]);
        expect(chain).toMatchObject({ chains: 1, rows: 4, unchained: 0 });
        expect(chain.heads).toEqual((await verifyChains(m)).heads);
        expect([await store.history(NUM), await store.history(OTHER)]).toEqual(want);
        // the counted attempts are the same as well: one (the released one does not count)
        expect((await facts()).recentAttempts).toEqual([d('2026-11-10T10:00:00Z')]);
      });

      test('copying again brings what changed since: a withdrawal, a release, an outcome, new rows', async () => {
        const m = await filled();
        await copy(m, store);
        await m.withdrawConsent(NUM, PRO, d('2026-10-20T00:00:00Z'));
        await m.releaseAttempt('c-allow');
        await m.recordOutcome('c-block', { answered: false, dialStatus: 'BUSY', endedAt: d('2026-11-30T10:00:05Z') });
        await m.addRefusal(NUM, PRO, d('2026-11-20T00:00:00Z'));
        expect(await copy(m, store)).toEqual({ inserted: 1, updated: 3, skipped: 10 });
        expect((await verifyChains(store)).problems).toEqual([]);
        expect([await store.history(NUM), await store.history(OTHER)]).toEqual([
          await m.history(NUM),
          await m.history(OTHER),
        ]);
      });

      test('what this store exports, copied into another, gives the same history', async () => {
        await copy(await filled(), store);
        await store.commitDecision(decision({ id: 'c-late', at: d('2026-11-12T10:00:00Z') }), {
          ...WINDOW,
          recordAttempt: true,
        });
        const out = new MemoryStore();
        await copy(store, out);
        expect([await out.history(NUM), await out.history(OTHER)]).toEqual((await everything(store)).slice(0, 2));
      });
    });

    test('a closed store refuses work with a StoreError', async () => {
      await store.close();
      await expectStoreError(facts(), 'CG_ERR_STORE_FAULT');
      await expectStoreError(store.addRefusal(NUM, PRO, d('2026-01-01T00:00:00Z')), 'CG_ERR_STORE_FAULT');
    });
  });
  runDecisionListContract(name, makeStore);
}
