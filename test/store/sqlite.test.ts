import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openStore } from '../../src/store';
import { NUM, PRO, runStoreContract } from './contract';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'callgate-sqlite-contract-'));
let n = 0;
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

runStoreContract('sqlite (file, WAL)', () =>
  openStore({ driver: 'sqlite', path: path.join(dir, `contract-${++n}.db`) }),
);
runStoreContract('sqlite (:memory:)', () => openStore({ driver: 'sqlite', path: ':memory:' }));

test('the opposition list is not looked up when the query says no rule needs it (consent regime)', async () => {
  const store = openStore({ driver: 'sqlite', path: path.join(dir, 'no-opposition.db') });
  try {
    const asOf = new Date('2026-05-01T00:00:00Z');
    const imp = await store.beginImport('opposition', { asOf });
    await imp.opposition([NUM]);
    await imp.commit();
    const q = { e164: NUM, professional: PRO, at: new Date('2026-06-02T10:00:00Z'), windowStart: new Date(0) };
    expect((await store.getFacts(q)).opposition).toEqual({ listed: true, asOf });
    expect((await store.getFacts({ ...q, opposition: true })).opposition).toEqual({ listed: true, asOf });
    expect((await store.getFacts({ ...q, opposition: false })).opposition).toEqual({ listed: false });
  } finally {
    await store.close();
  }
});

test('facts keep each kind in the order it was added, whatever the index order', async () => {
  const store = openStore({ driver: 'sqlite', path: path.join(dir, 'order.db') });
  try {
    const at = (iso: string) => new Date(iso);
    for (const c of ['2026-10-01', '2026-03-01', '2026-07-01']) {
      await store.addConsent({ e164: NUM, professional: PRO, categories: ['x'], collectedAt: at(`${c}T00:00:00Z`) });
    }
    const f = await store.getFacts({
      e164: NUM,
      professional: PRO,
      at: at('2026-11-02T10:00:00Z'),
      windowStart: new Date(0),
    });
    expect(f.consents.map((c) => c.collectedAt.toISOString().slice(0, 10))).toEqual([
      '2026-10-01',
      '2026-03-01',
      '2026-07-01',
    ]);
  } finally {
    await store.close();
  }
});
