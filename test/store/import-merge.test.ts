/**
 * Issue 11.1: a re-imported line about the same consent or contract updates it. The merge
 * contract for the memory and SQLite stores, then the whole way: a consent CSV imported
 * again with withdrawals blocks the withdrawn numbers through the gate, at once.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fixedClock } from '../../src/gate/clock';
import { Gate } from '../../src/gate/gate';
import type { Store } from '../../src/gate/store';
import { importFile } from '../../src/store/csv-import';
import { MemoryStore } from '../../src/store/memory/memory-store';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store';
import { logSink, testConfig } from '../gate/helpers';
import { scratchDirs } from '../scratch';
import { importMergeContract } from './import-merge';

const tempDir = scratchDirs('callgate-merge-');

importMergeContract('memory', () => new MemoryStore());
importMergeContract('sqlite', () => SqliteStore.open(path.join(tempDir(), 'store.db'), { checkpoint: 'sqlite' }));

/** Monday 30 November 2026, 10:30 in Paris: consent regime, inside calling hours. */
const AT = new Date('2026-11-30T09:30:00Z');
const now = new Date('2026-11-30T08:00:00Z');

describe.each([
  ['memory', (): Store => new MemoryStore()],
  ['sqlite', (): Store => SqliteStore.open(path.join(tempDir(), 'store.db'), { checkpoint: 'sqlite' })],
])('%s: a consent file imported again with withdrawals', (_name, makeStore) => {
  test('blocks the withdrawn numbers at once, leaves the others allowed, and says how many were updated', async () => {
    const dir = tempDir();
    const write = (name: string, text: string) => {
      const f = path.join(dir, name);
      fs.writeFileSync(f, text);
      return f;
    };
    const header = 'number,professional,categories,collected_at,valid_until,withdrawn_at,source';
    const first = write(
      'consents.csv',
      [
        header,
        '06 12 34 56 01,acme,energy-supply,2026-10-01T10:00,,,web form 1',
        '06 12 34 56 02,acme,energy-supply,2026-10-01T10:00,,,web form 2',
        '06 12 34 56 03,acme,energy-supply,2026-10-01T10:00,,,web form 3',
      ].join('\n') + '\n',
    );
    // the same export a month later: 01 withdrew, 02 shortened its consent to before the call
    const later = write(
      'consents-later.csv',
      [
        header,
        '06 12 34 56 01,acme,energy-supply,2026-10-01T10:00,,2026-11-20T09:00,web form 1',
        '06 12 34 56 02,acme,energy-supply,2026-10-01T10:00,2026-11-15,,web form 2',
        '06 12 34 56 03,acme,energy-supply,2026-10-01T10:00,,,web form 3',
      ].join('\n') + '\n',
    );
    const store = makeStore();
    const config = testConfig();
    const gate = new Gate({ store, config, clock: fixedClock(AT), logger: logSink().logger });
    const decide = async (n: string) => {
      const d = await gate.decide(
        {
          to: `06 12 34 56 0${n}`,
          callerId: { number: '+33162000001', presentation: 'allowed' },
          at: AT,
          campaignId: 'acme-energy',
          source: { pbx: 'asterisk' },
        },
        { record: false },
      );
      return [d.verdict, ...d.reasons.map((r) => r.code)];
    };
    try {
      expect(await importFile(store, 'consent', first, { now })).toMatchObject({ inserted: 3, updated: 0 });
      for (const n of ['1', '2', '3']) expect(await decide(n)).toEqual(['allow']);

      const report = await importFile(store, 'consent', later, { now });
      expect(report).toMatchObject({ lines: 3, inserted: 0, updated: 2, unchanged: 1, rejected: 0 });
      expect(await decide('1')).toEqual(['block', 'consent_withdrawn']);
      expect(await decide('2')).toEqual(['block', 'consent_expired']);
      expect(await decide('3')).toEqual(['allow']);

      // the first export, imported again by mistake, does not bring them back
      expect(await importFile(store, 'consent', first, { now })).toMatchObject({
        inserted: 0,
        updated: 0,
        unchanged: 3,
      });
      expect(await decide('1')).toEqual(['block', 'consent_withdrawn']);
      expect(await decide('2')).toEqual(['block', 'consent_expired']);
    } finally {
      await store.close();
    }
  });

  test('a contract file imported again with an end: the contract no longer lifts a sector ban', async () => {
    const dir = tempDir();
    const f1 = path.join(dir, 'k1.csv');
    const f2 = path.join(dir, 'k2.csv');
    fs.writeFileSync(f1, 'number,professional,categories,start,end\n0612345601,acme,energy-supply,2026-01-01,\n');
    fs.writeFileSync(
      f2,
      'number,professional,categories,start,end\n0612345601,acme,energy-supply,2026-01-01,2026-11-01\n',
    );
    const store = makeStore();
    try {
      await importFile(store, 'contract', f1, { now });
      expect(await importFile(store, 'contract', f2, { now })).toMatchObject({ inserted: 0, updated: 1 });
      expect((await store.history('+33612345601')).contracts.map((c) => c.end)).toEqual([
        new Date('2026-10-31T23:00:00Z'),
      ]);
      expect(await importFile(store, 'contract', f1, { now })).toMatchObject({ updated: 0, unchanged: 1 });
      expect((await store.history('+33612345601')).contracts.map((c) => c.end)).toEqual([
        new Date('2026-10-31T23:00:00Z'),
      ]);
    } finally {
      await store.close();
    }
  });
});
