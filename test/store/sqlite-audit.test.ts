/**
 * The audit row of a decision (FR-RULES.md section 9) is core's JSON form
 * (src/core/decision-json.ts); a corrupt row is a store fault naming the field.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decisionToJson } from '../../src/core';
import { StoreError } from '../../src/gate/store';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store';
import { decision, NUM } from './contract';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'callgate-sqlite-audit-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test("the decisions row holds core's decisionToJson text", async () => {
  const store = SqliteStore.open(path.join(dir, 'audit.db'));
  try {
    const d = decision();
    await store.commitDecision(d, { recordAttempt: true, windowStart: new Date(0), maxAttempts: 4 });
    const json = store.db.prepare('SELECT json FROM decisions WHERE id = ?').pluck().get(d.id) as string;
    expect(json).toBe(JSON.stringify(decisionToJson(d)));
  } finally {
    await store.close();
  }
});

test('a corrupt audit row makes history fail with CG_ERR_STORE_FAULT naming the bad field', async () => {
  const store = SqliteStore.open(path.join(dir, 'corrupt.db'));
  try {
    const d = decision();
    await store.commitDecision(d, { recordAttempt: false, windowStart: new Date(0), maxAttempts: 4 });
    const j = decisionToJson(d) as unknown as Record<string, unknown>;
    store.db.prepare('UPDATE decisions SET json = ? WHERE id = ?').run(JSON.stringify({ ...j, at: 'yesterday' }), d.id);
    const err = await store.history(NUM).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe('CG_ERR_STORE_FAULT');
    expect((err as StoreError).message).toMatch(/\bat\b/);
  } finally {
    await store.close();
  }
});
