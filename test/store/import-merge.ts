/**
 * The merge of rows with a stored natural key (ImportCommitResult in src/gate/store.ts,
 * issue 11.1), for any Store: importMergeContract(name, makeStore) declares the tests.
 * Run for the memory and SQLite stores by import-merge.test.ts; a PostgreSQL store calls
 * it the same way.
 */
import type { ConsentRow, ContractRow, DncRow, ImportCommitResult, Store } from '../../src/gate/store';

const NUM = '+33612345678';
const PRO = 'acme';
const D = (s: string) => new Date(s);
const COLLECTED = D('2026-09-01T08:00:00Z');

const consent = (over: Partial<ConsentRow> = {}): ConsentRow => ({
  e164: NUM,
  professional: PRO,
  categories: ['energy'],
  collectedAt: COLLECTED,
  ...over,
});
const contract = (over: Partial<ContractRow> = {}): ContractRow => ({
  e164: NUM,
  professional: PRO,
  categories: ['energy'],
  start: D('2026-01-01T00:00:00Z'),
  ...over,
});

async function importConsents(store: Store, rows: ConsentRow[]): Promise<ImportCommitResult> {
  const s = await store.beginImport('consent');
  await s.consents(rows);
  return s.commit();
}
async function importContracts(store: Store, rows: ContractRow[]): Promise<ImportCommitResult> {
  const s = await store.beginImport('contract');
  await s.contracts(rows);
  return s.commit();
}
async function importDnc(store: Store, rows: DncRow[]): Promise<ImportCommitResult> {
  const s = await store.beginImport('dnc');
  await s.dnc(rows);
  return s.commit();
}
const consents = async (store: Store) => (await store.history(NUM)).consents;
const contracts = async (store: Store) => (await store.history(NUM)).contracts;

export function importMergeContract(name: string, makeStore: () => Promise<Store> | Store): void {
  describe(`${name}: rows with a stored key are merged, only towards fewer calls (issue 11.1)`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await makeStore();
    });
    afterEach(async () => {
      await store.close();
    });

    test('a withdrawal in a later file updates the stored consent; an older file never undoes it', async () => {
      expect(await importConsents(store, [consent()])).toEqual({ inserted: 1, updated: 0, unchanged: 0 });
      const withdrawn = consent({ withdrawnAt: D('2026-10-01T08:00:00Z') });
      expect(await importConsents(store, [withdrawn])).toEqual({ inserted: 0, updated: 1, unchanged: 0 });
      expect((await consents(store)).map((c) => c.withdrawnAt)).toEqual([D('2026-10-01T08:00:00Z')]);
      // the first file again: nothing moves back
      expect(await importConsents(store, [consent()])).toEqual({ inserted: 0, updated: 0, unchanged: 1 });
      // a later withdrawal date changes nothing, an earlier one wins
      expect(await importConsents(store, [consent({ withdrawnAt: D('2026-11-01T08:00:00Z') })])).toEqual({
        inserted: 0,
        updated: 0,
        unchanged: 1,
      });
      expect(await importConsents(store, [consent({ withdrawnAt: D('2026-09-15T08:00:00Z') })])).toEqual({
        inserted: 0,
        updated: 1,
        unchanged: 0,
      });
      expect((await consents(store)).map((c) => c.withdrawnAt)).toEqual([D('2026-09-15T08:00:00Z')]);
    });

    test('validity only shortens; robot-call consent is withdrawn, never granted; a missing source is filled in', async () => {
      await importConsents(store, [consent({ validUntil: D('2027-06-01T00:00:00Z'), automated: true })]);
      const r = await importConsents(store, [
        consent({ validUntil: D('2027-08-01T00:00:00Z') }), // longer: ignored
        consent({ validUntil: D('2027-01-01T00:00:00Z') }), // shorter: taken
        consent({ source: 'web form 42' }), // filled in
        consent({ source: 'another proof' }), // kept as first recorded
        consent({ automated: false }), // consent to robot calls withdrawn
        consent({ automated: true }), // not granted back
      ]);
      expect(r).toEqual({ inserted: 0, updated: 3, unchanged: 3 });
      expect(await consents(store)).toEqual([
        {
          e164: NUM,
          professional: PRO,
          categories: ['energy'],
          collectedAt: COLLECTED,
          validUntil: D('2027-01-01T00:00:00Z'),
          source: 'web form 42',
          automated: false,
        },
      ]);
    });

    test('another key is another consent: categories or collection date differ', async () => {
      const r = await importConsents(store, [
        consent(),
        consent({ categories: ['gas'] }),
        consent({ collectedAt: D('2026-09-02T08:00:00Z') }),
        consent({ withdrawnAt: D('2026-10-01T00:00:00Z') }), // same key as the first, same file
      ]);
      expect(r).toEqual({ inserted: 3, updated: 1, unchanged: 0 });
      expect((await consents(store)).map((c) => [c.categories, c.withdrawnAt?.toISOString()])).toEqual([
        [['energy'], '2026-10-01T00:00:00.000Z'],
        [['gas'], undefined],
        [['energy'], undefined],
      ]);
    });

    test('a contract end arrives later, moves only earlier, is never removed', async () => {
      expect(await importContracts(store, [contract()])).toEqual({ inserted: 1, updated: 0, unchanged: 0 });
      expect(await importContracts(store, [contract({ end: D('2026-12-31T00:00:00Z') })])).toEqual({
        inserted: 0,
        updated: 1,
        unchanged: 0,
      });
      expect(
        await importContracts(store, [
          contract(),
          contract({ end: D('2027-06-30T00:00:00Z') }),
          contract({ end: D('2026-11-30T00:00:00Z') }),
        ]),
      ).toEqual({ inserted: 0, updated: 1, unchanged: 2 });
      expect((await contracts(store)).map((c) => c.end)).toEqual([D('2026-11-30T00:00:00Z')]);
    });

    test('dnc: a reason is filled in, the earliest date kept', async () => {
      const at = D('2026-10-01T00:00:00Z');
      expect(await importDnc(store, [{ e164: NUM, addedAt: at }])).toEqual({ inserted: 1, updated: 0, unchanged: 0 });
      expect(
        await importDnc(store, [
          { e164: NUM, addedAt: D('2026-11-01T00:00:00Z'), reason: 'complaint' },
          { e164: NUM, addedAt: D('2026-11-02T00:00:00Z'), reason: 'again' },
        ]),
      ).toEqual({ inserted: 0, updated: 1, unchanged: 1 });
      expect((await store.history(NUM)).dnc).toEqual([{ e164: NUM, addedAt: at, reason: 'complaint' }]);
    });

    test('addConsent and addContract merge the same way', async () => {
      await store.addConsent(consent());
      await store.addConsent(consent({ withdrawnAt: D('2026-10-01T00:00:00Z') }));
      await store.addConsent(consent());
      expect((await consents(store)).map((c) => c.withdrawnAt)).toEqual([D('2026-10-01T00:00:00Z')]);
      await store.addContract(contract({ end: D('2026-12-31T00:00:00Z') }));
      await store.addContract(contract());
      expect((await contracts(store)).map((c) => c.end)).toEqual([D('2026-12-31T00:00:00Z')]);
    });

    test('a withdrawal merged by an import is in the facts at once', async () => {
      await importConsents(store, [consent()]);
      const q = { e164: NUM, professional: PRO, at: D('2026-11-24T10:00:00Z'), windowStart: D('2026-10-25T00:00:00Z') };
      expect((await store.getFacts(q)).consents.map((c) => c.withdrawnAt)).toEqual([undefined]);
      await importConsents(store, [consent({ withdrawnAt: D('2026-11-01T00:00:00Z') })]);
      expect((await store.getFacts(q)).consents.map((c) => c.withdrawnAt)).toEqual([D('2026-11-01T00:00:00Z')]);
    });
  });
}
