/**
 * The Store contract for the admin API's port methods (issue 13): listDecisions (the decision list,
 * paged by cursor) and checkWritable. Run by runStoreContract for every store.
 */
import type { Decision, Reason } from '../../src/core/types';
import { StoreError, type DecisionQuery, type Store } from '../../src/gate/store';
import { decision, NUM, OTHER } from './contract';

const WINDOW = { windowStart: new Date('2026-11-01T00:00:00Z'), maxAttempts: Infinity };
const reason = (code: Reason['code'], rule: Reason['rule']): Reason => ({
  code,
  rule,
  message: `${code} message`,
  legalRef: 'test',
});

export function runDecisionListContract(name: string, makeStore: () => Promise<Store> | Store): void {
  describe(`Store contract (decision list): ${name}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await makeStore();
    });
    afterEach(async () => {
      await store.close();
    });

    /** Every page from the first, following `next`. */
    async function all(q: Omit<DecisionQuery, 'limit'>, limit: number): Promise<{ ids: string[]; pages: number }> {
      const ids: string[] = [];
      let after = q.after;
      let pages = 0;
      for (;;) {
        const page = await store.listDecisions({ ...q, ...(after ? { after } : {}), limit });
        pages++;
        expect(page.rows.length).toBeLessThanOrEqual(limit);
        ids.push(...page.rows.map((r) => r.id));
        if (!page.next) return { ids, pages };
        after = page.next;
        if (pages > 100) throw new Error('paging does not end');
      }
    }

    async function commit(d: Decision, record = false): Promise<Decision> {
      await store.commitDecision(d, { recordAttempt: record, ...WINDOW });
      return d;
    }

    /** Six decisions at five instants (two share one), inserted out of time order. */
    async function seed(): Promise<Decision[]> {
      const at = (h: number) => new Date(Date.UTC(2026, 10, 30, h));
      const list = [
        decision({ id: 'd-3', at: at(12), verdict: 'block', reasons: [reason('frequency_limit', 'FREQ-1')] }),
        decision({ id: 'd-1', at: at(9) }),
        decision({
          id: 'd-4b',
          at: at(14),
          verdict: 'block',
          reasons: [reason('outside_calling_hours', 'TIME-1'), reason('no_consent', 'CONS-1')],
          e164: OTHER,
        }),
        decision({
          id: 'd-2',
          at: at(10),
          campaign: { id: 'camp-2', professional: 'acme', dialing: 'manual', purpose: 'prospecting' },
        }),
        decision({ id: 'd-4a', at: at(14), verdict: 'block', reasons: [reason('no_consent', 'CONS-1')] }),
        decision({
          id: 'd-5',
          at: at(16),
          e164: null,
          verdict: 'block',
          reasons: [reason('invalid_destination', 'SCOPE-3')],
        }),
      ];
      for (const d of list) await commit(d, d.verdict === 'allow');
      return list;
    }

    test('an empty store lists nothing and has no next page', async () => {
      expect(await store.listDecisions({ limit: 10 })).toEqual({ rows: [] });
    });

    test('pages follow (at, id) order and visit each decision once, ties on the instant by id', async () => {
      await seed();
      for (const limit of [1, 2, 4, 6, 100]) {
        const { ids, pages } = await all({}, limit);
        expect(ids).toEqual(['d-1', 'd-2', 'd-3', 'd-4a', 'd-4b', 'd-5']);
        expect(pages).toBe(Math.max(1, Math.ceil(6 / limit)));
      }
    });

    test('rows are the decisions as committed, with their number, professional and outcome', async () => {
      const list = await seed();
      await store.recordOutcome('d-1', {
        answered: true,
        durationMs: 42_000,
        dialStatus: 'ANSWER',
        endedAt: new Date('2026-11-30T09:05:00Z'),
      });
      const page = await store.listDecisions({ limit: 10 });
      const first = page.rows[0]!;
      expect(first).toMatchObject({ id: 'd-1', e164: NUM, professional: 'acme', verdict: 'allow' });
      expect(first.at).toEqual(new Date(Date.UTC(2026, 10, 30, 9)));
      expect(first.decision).toEqual(list[1]);
      expect(first.outcome).toEqual({
        answered: true,
        durationMs: 42_000,
        dialStatus: 'ANSWER',
        endedAt: new Date('2026-11-30T09:05:00Z'),
      });
      const invalidDest = page.rows.find((r) => r.id === 'd-5')!;
      expect(invalidDest.e164).toBeUndefined();
      expect(invalidDest.decision.callee).toBeUndefined();
    });

    test('filters: from inclusive, to exclusive, verdict, any of the reasons, campaign', async () => {
      await seed();
      const at = (h: number) => new Date(Date.UTC(2026, 10, 30, h));
      expect((await all({ from: at(10), to: at(14) }, 1)).ids).toEqual(['d-2', 'd-3']);
      expect((await all({ from: at(14) }, 1)).ids).toEqual(['d-4a', 'd-4b', 'd-5']);
      expect((await all({ verdict: 'allow' }, 1)).ids).toEqual(['d-1', 'd-2']);
      expect((await all({ verdict: 'block' }, 2)).ids).toEqual(['d-3', 'd-4a', 'd-4b', 'd-5']);
      expect((await all({ reason: 'no_consent' }, 1)).ids).toEqual(['d-4a', 'd-4b']);
      expect((await all({ reason: 'outside_calling_hours' }, 5)).ids).toEqual(['d-4b']);
      expect((await all({ campaign: 'camp-2' }, 5)).ids).toEqual(['d-2']);
      expect((await all({ campaign: 'camp-1', verdict: 'block', to: at(15) }, 1)).ids).toEqual(['d-3', 'd-4a', 'd-4b']);
      expect((await all({ reason: 'do_not_call' }, 5)).ids).toEqual([]);
    });

    test('a pass that goes on while decisions are recorded sees those after its position, not those before', async () => {
      await seed();
      const first = await store.listDecisions({ limit: 3 });
      expect(first.rows.map((r) => r.id)).toEqual(['d-1', 'd-2', 'd-3']);
      await commit(decision({ id: 'd-0', at: new Date(Date.UTC(2026, 10, 30, 8)) })); // before the position
      await commit(decision({ id: 'd-6', at: new Date(Date.UTC(2026, 10, 30, 18)) })); // after it
      expect((await all({ after: first.next! }, 2)).ids).toEqual(['d-4a', 'd-4b', 'd-5', 'd-6']);
    });

    test('a page size outside 1..1000 is refused with CG_ERR_STORE_INVALID', async () => {
      for (const limit of [0, 1001, 1.5, Number.NaN]) {
        const err = await store.listDecisions({ limit }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(StoreError);
        expect((err as StoreError).code).toBe('CG_ERR_STORE_INVALID');
      }
    });

    test('checkWritable resolves on an open store and rejects once it is closed', async () => {
      await expect(store.checkWritable?.()).resolves.toBeUndefined();
      await store.close();
      const err = await store.checkWritable?.().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(StoreError);
      store = await makeStore(); // for afterEach
    });
  });
}
