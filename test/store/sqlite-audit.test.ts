/**
 * The audit row of a decision (FR-RULES.md section 9) is core's JSON form (src/core/decision-json.ts)
 * with the rule list in the short form of src/store/audit-rules.ts; rows of earlier versions (rules as
 * [rule, outcome, note?] arrays or as objects) still read; a corrupt row is a store fault naming the field.
 */
import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decisionToJson } from '../../src/core';
import { StoreError } from '../../src/gate/store';
import { MIGRATIONS, migrate, SCHEMA_VERSION } from '../../src/store/sqlite/migrations';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store';
import { decision, NUM } from './contract';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'callgate-sqlite-audit-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test("the decisions row holds core's decisionToJson form with the short rule list", async () => {
  const store = SqliteStore.open(path.join(dir, 'audit.db'));
  try {
    const d = {
      ...decision(),
      rules: [
        { rule: 'CONS-1' as const, outcome: 'pass' as const },
        { rule: 'CONS-5' as const, outcome: 'skip' as const, note: 'no ongoing related contract' },
        { rule: 'FREQ-1' as const, outcome: 'pass' as const, note: '0 of 4 attempts in 30 days' },
      ],
    };
    await store.commitDecision(d, { recordAttempt: true, windowStart: new Date(0), maxAttempts: 4 });
    const json = store.db.prepare('SELECT json FROM decisions WHERE id = ?').pluck().get(d.id) as string;
    const plain = decisionToJson(d);
    // CONS-1 pass; CONS-5 skip with fixed note 5; FREQ-1 pass with its own note
    expect(JSON.parse(json)).toEqual({ ...plain, rules: '12p,16s.5,26p!0', ruleNotes: ['0 of 4 attempts in 30 days'] });
    expect(json.length).toBeLessThan(JSON.stringify(plain).length);
    // history restores the whole Decision, every rule with its outcome and note
    expect((await store.history(NUM)).decisions.map((r) => r.decision)).toEqual([d]);
  } finally {
    await store.close();
  }
});

test('rows written with rules as [rule, outcome, note?] arrays (versions before the short form) still read back whole', async () => {
  const store = SqliteStore.open(path.join(dir, 'arrays.db'));
  try {
    const d = decision({
      rules: [
        { rule: 'SCOPE-1', outcome: 'pass', note: 'not an emergency number' },
        { rule: 'CID-5', outcome: 'skip' },
      ],
    });
    await store.commitDecision(d, { recordAttempt: false, windowStart: new Date(0), maxAttempts: 4 });
    const rules = [
      ['SCOPE-1', 'pass', 'not an emergency number'],
      ['CID-5', 'skip'],
    ];
    const text = JSON.stringify({ ...decisionToJson(d), rules });
    store.db.prepare('UPDATE decisions SET json = ? WHERE id = ?').run(text, d.id);
    expect((await store.history(NUM)).decisions.map((r) => r.decision)).toEqual([d]);
  } finally {
    await store.close();
  }
});

test("rows written as core's plain decisionToJson text (before the compact rules) still read back whole", async () => {
  const store = SqliteStore.open(path.join(dir, 'plain.db'));
  try {
    const d = decision();
    await store.commitDecision(d, { recordAttempt: false, windowStart: new Date(0), maxAttempts: 4 });
    store.db.prepare('UPDATE decisions SET json = ? WHERE id = ?').run(JSON.stringify(decisionToJson(d)), d.id);
    expect((await store.history(NUM)).decisions.map((r) => r.decision)).toEqual([d]);
  } finally {
    await store.close();
  }
});

test('an array rule of the wrong length (earlier versions) is a fault naming rules[i]', async () => {
  const store = SqliteStore.open(path.join(dir, 'bad-rule.db'));
  try {
    const d = decision();
    await store.commitDecision(d, { recordAttempt: false, windowStart: new Date(0), maxAttempts: 4 });
    const j = { ...decisionToJson(d), rules: [['SCOPE-1']] };
    store.db.prepare('UPDATE decisions SET json = ? WHERE id = ?').run(JSON.stringify(j), d.id);
    const err = await store.history(NUM).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe('CG_ERR_STORE_FAULT');
    expect((err as Error).message).toContain('rules[0]');
  } finally {
    await store.close();
  }
});

test('a short rule list with an unknown entry is a fault naming the entry', async () => {
  const store = SqliteStore.open(path.join(dir, 'bad-short.db'));
  try {
    const d = decision();
    await store.commitDecision(d, { recordAttempt: false, windowStart: new Date(0), maxAttempts: 4 });
    const j = { ...decisionToJson(d), rules: '26p,77p' };
    store.db.prepare('UPDATE decisions SET json = ? WHERE id = ?').run(JSON.stringify(j), d.id);
    const err = await store.history(NUM).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe('CG_ERR_STORE_FAULT');
    expect((err as Error).message).toContain('rules entry 2 "77p" is not a known rule and outcome');
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

test('a version-4 file with rows of the array form moves to version 5 and reads them; a version-4 callgate refuses a version-5 file', async () => {
  const file = path.join(dir, 'v4.db');
  const v4 = new Database(file);
  migrate(
    v4,
    file,
    MIGRATIONS.filter((m) => m.version <= 4),
  );
  const d = decision({ rules: [{ rule: 'SEC-3', outcome: 'skip', note: 'not an insurance campaign' }] });
  v4.prepare(
    "INSERT INTO decisions (id, at, e164, professional, campaign, verdict, reasons, json, counted) VALUES (?, ?, ?, ?, 'c', 'allow', '', ?, 1)",
  ).run(
    d.id,
    d.at.getTime(),
    NUM,
    d.campaign.professional,
    JSON.stringify({ ...decisionToJson(d), rules: [['SEC-3', 'skip', 'not an insurance campaign']] }),
  );
  v4.close();

  const store = SqliteStore.open(file);
  try {
    expect(store.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION); // 5, and later ones
    const d2 = decision();
    await store.commitDecision(d2, { recordAttempt: false, windowStart: new Date(0), maxAttempts: 4 });
    expect((await store.history(NUM)).decisions.map((r) => r.decision)).toEqual([d, d2]);
  } finally {
    await store.close();
  }
  const old = new Database(file);
  try {
    expect(() =>
      migrate(
        old,
        file,
        MIGRATIONS.filter((m) => m.version <= 4),
      ),
    ).toThrow(
      new RegExp(`has schema version ${SCHEMA_VERSION} but this callgate knows versions up to 4; upgrade callgate`),
    );
  } finally {
    old.close();
  }
});
