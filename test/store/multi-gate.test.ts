/**
 * FREQ-1 (D. 223-9 al. 3) across gates, with real processes: eight gate processes (the real Gate
 * on the real store, as `callgate start` opens it) on one PostgreSQL database, and eight on one
 * SQLite file, place calls to the same few numbers at the same instant, round after round (each
 * round in a window of its own). Every round, exactly 4 calls per number are allowed, the others
 * are blocked with frequency_limit alone, and the store holds exactly 4 attempts per number.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openStore } from '../../src/store';
import type { Store } from '../../src/gate/store';
import { createTestDb, type TestDb } from './pg-db';

const GATES = 8;
const ROUNDS = 10;
const NUMBERS = ['0612000001', '0612000002', '0612000003'];
const E164 = (n: string) => `+33${n.slice(1)}`;
/** Calls per number per gate per round: 8 × 3 = 24 calls for each number, at once. */
const PER_NUMBER = 3;
const BASE = Date.parse('2026-12-01T10:00:00Z');
const ROUND_MS = 35 * 86_400_000;

type RoundResult = { allowed: Record<string, number>; blocked: Record<string, number>; other: string[] };

class GateProcess {
  private readonly p: ChildProcessWithoutNullStreams;
  private buf = '';
  private err = '';
  private waiters: { prefix: string; resolve: (rest: string) => void; reject: (e: Error) => void }[] = [];
  readonly exited: Promise<number | null>;

  constructor(driver: string, target: string, tag: string) {
    this.p = spawn(
      process.execPath,
      [path.join(__dirname, 'fixtures', 'gate-hammer.js'), driver, target, tag, NUMBERS.join(','), String(PER_NUMBER)],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    this.p.stdout.on('data', (b: Buffer) => {
      this.buf += b.toString();
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        const w = this.waiters.findIndex((x) => line.startsWith(x.prefix));
        if (w >= 0) this.waiters.splice(w, 1)[0]!.resolve(line);
      }
    });
    this.p.stderr.on('data', (b: Buffer) => (this.err += b.toString()));
    this.exited = new Promise((resolve) =>
      this.p.on('close', (code) => {
        for (const w of this.waiters.splice(0)) w.reject(new Error(`gate ${tag} exited ${code}: ${this.err}`));
        resolve(code);
      }),
    );
  }

  next(prefix: string): Promise<string> {
    return new Promise((resolve, reject) => this.waiters.push({ prefix, resolve, reject }));
  }

  send(line: string): void {
    this.p.stdin.write(`${line}\n`);
  }

  kill(): void {
    this.p.kill('SIGKILL');
  }
}

async function hammer(driver: 'postgres' | 'sqlite', target: string, store: Store): Promise<void> {
  // every number has an ongoing contract (CONS-5): only the frequency limit can block
  for (const n of NUMBERS)
    await store.addContract({
      e164: E164(n),
      professional: 'acme',
      categories: ['energy-supply'],
      start: new Date('2026-01-01T00:00:00Z'),
    });
  const gates = Array.from({ length: GATES }, (_, i) => new GateProcess(driver, target, `g${i}`));
  try {
    await Promise.all(gates.map((g) => g.next('ready')));
    for (let r = 0; r < ROUNDS; r++) {
      const done = gates.map((g) => g.next(`done ${r} `));
      for (const g of gates) g.send(`go ${r}`); // the same instant, as near as the OS allows
      const results = (await Promise.all(done)).map((l) => JSON.parse(l.slice(`done ${r} `.length)) as RoundResult);
      expect(results.flatMap((x) => x.other)).toEqual([]);
      for (const n of NUMBERS) {
        const allowed = results.reduce((s, x) => s + (x.allowed[n] ?? 0), 0);
        const blocked = results.reduce((s, x) => s + (x.blocked[n] ?? 0), 0);
        expect({ round: r, number: n, allowed, blocked }).toEqual({
          round: r,
          number: n,
          allowed: 4,
          blocked: GATES * PER_NUMBER - 4,
        });
      }
    }
    for (const g of gates) g.send('quit');
    expect(await Promise.all(gates.map((g) => g.exited))).toEqual(Array(GATES).fill(0));
  } finally {
    for (const g of gates) g.kill();
  }
  // the store agrees: 4 attempts per number in each round's window, every decision in the audit
  for (const n of NUMBERS) {
    const h = await store.history(E164(n));
    expect(h.decisions).toHaveLength(ROUNDS * GATES * PER_NUMBER);
    const perRound = new Map<number, number>();
    for (const a of h.attempts) {
      const r = Math.round((a.at.getTime() - BASE) / ROUND_MS);
      perRound.set(r, (perRound.get(r) ?? 0) + 1);
    }
    expect([...perRound]).toEqual(Array.from({ length: ROUNDS }, (_, r) => [r, 4]));
  }
}

describe('eight gate processes never allow a fifth attempt', () => {
  test('on one PostgreSQL database', async () => {
    const db: TestDb = await createTestDb('multigate');
    const store = openStore({ driver: 'postgres', url: db.url });
    try {
      await store.ready?.();
      await hammer('postgres', db.url, store);
    } finally {
      await store.close();
      await db.drop();
    }
  }, 180_000);

  test('on one SQLite file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'callgate-multigate-'));
    const file = path.join(dir, 'gates.db');
    const store = openStore({ driver: 'sqlite', path: file }, { checkpoint: 'sqlite' });
    try {
      await hammer('sqlite', file, store);
    } finally {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
