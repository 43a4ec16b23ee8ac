/**
 * Hostile ARI events and REST replies, property-based (issue 14.4): the ARI simulator (src/sim/ari)
 * mutates what it sends about one call (its events on the WebSocket: random bytes, truncated JSON,
 * fields removed or retyped, huge values, unknown event types; its REST replies: any status, a body
 * that is not JSON, truncated or huge) to the real Asterisk adapter (ari-client over real sockets).
 * The gate keeps serving: a normal call placed after each hostile one is decided by the gate itself
 * (not its fail mode, not the dialplan's fallback), and nothing is thrown out of the adapter.
 */
import fc from 'fast-check';
import { parseConfig } from '../../src/config';
import { fixedClock } from '../../src/gate/clock';
import { Gate } from '../../src/gate/gate';
import { MemoryStore } from '../../src/store';
import { dial, startAdapter, startSim, testLogger, until, type Running } from '../../src/sim/ari/harness';
import type { AriSimulator } from '../../src/sim/ari/server';
import { runs } from './seed';

let sim: AriSimulator;
let run: Running;

beforeAll(async () => {
  sim = await startSim({ trunk: () => ({ result: 'answer', talkMs: 5 }) });
  sim.recordEvents = false;
  const config = parseConfig(
    `
store: {driver: memory}
professionals: [{id: acme, callerIds: ['+33123456789']}]
campaigns: [{id: acme-energy, professional: acme, dialing: manual, categories: [energy-supply]}]
defaultCampaign: acme-energy
clock: {mode: fixed, at: '2026-11-30T09:30:00Z'}
policy: {monitorOnly: true}
`,
    'test',
  );
  const gate = new Gate({
    store: new MemoryStore(),
    config,
    clock: fixedClock(new Date('2026-11-30T09:30:00Z')),
    logger: testLogger(),
  });
  run = await startAdapter(sim, gate, { deadlineMs: 1000, requestTimeoutMs: 500 });
});
afterAll(async () => {
  await run.stop();
  await sim.stop();
});

let normals = 0;
/** Mutations applied (the property must have hit the adapter with them). */
const applied = { events: 0, replies: 0 };
/** A normal call: decided by the gate (monitor mode: allowed), continued into the allow context. */
async function normalCall(): Promise<void> {
  await until(() => sim.registeredApps().includes('callgate'), 'the gate registered', 10_000);
  const r = await dial(sim, `06123${String(normals++ % 100_000).padStart(5, '0')}`).done;
  expect({
    verdict: r.vars.CALLGATE_VERDICT,
    failMode: /^failmode-/.test(r.vars.CALLGATE_DECISION_ID ?? 'failmode-none'),
    continued: r.trail.some((t) => t.startsWith('callgate-allowed:')),
  }).toEqual({ verdict: 'allow', failMode: false, continued: true });
}

type Mutation =
  | { kind: 'bytes'; bytes: number[] }
  | { kind: 'truncate'; at: number }
  | { kind: 'set'; path: string[]; value: unknown }
  | { kind: 'delete'; path: string[] }
  | { kind: 'huge' }
  | { kind: 'type'; type: string };

const FIELDS = [
  'type',
  'channel',
  'args',
  'application',
  'timestamp',
  'variable',
  'value',
  'cause',
  'peer',
  'dialstatus',
];
const SUB = ['id', 'name', 'state', 'caller', 'dialplan', 'number', 'context', 'exten'];
const path = fc
  .tuple(fc.constantFrom(...FIELDS), fc.option(fc.constantFrom(...SUB), { nil: undefined }))
  .map(([a, b]) => (b === undefined ? [a] : [a, b]));
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 200 }).map((bytes) => ({ kind: 'bytes' as const, bytes })),
  fc.double({ min: 0, max: 1, noNaN: true }).map((at) => ({ kind: 'truncate' as const, at })),
  fc.record({ kind: fc.constant('set' as const), path, value: fc.jsonValue({ maxDepth: 2 }) }),
  fc.record({ kind: fc.constant('delete' as const), path }),
  fc.constant({ kind: 'huge' as const }),
  fc.record({
    kind: fc.constant('type' as const),
    type: fc.constantFrom('NotAnAriEvent', '', 'constructor', '__proto__', 'StasisStart'),
  }),
);

function mutate(text: string, m: Mutation): string | Buffer {
  switch (m.kind) {
    case 'bytes':
      return Buffer.from(m.bytes);
    case 'truncate':
      return text.slice(0, Math.floor(m.at * text.length));
    case 'huge':
      return text.replace(/"type":/, `"junk":"${'z'.repeat(1 << 20)}","type":`);
    case 'type': {
      const o = JSON.parse(text) as Record<string, unknown>;
      o.type = m.type;
      return JSON.stringify(o);
    }
    default: {
      const o = JSON.parse(text) as Record<string, unknown>;
      let at: Record<string, unknown> = o;
      for (const k of m.path.slice(0, -1)) {
        if (at[k] === null || typeof at[k] !== 'object') at[k] = {};
        at = at[k] as Record<string, unknown>;
      }
      const last = m.path[m.path.length - 1]!;
      if (m.kind === 'delete') delete at[last];
      else at[last] = m.value;
      return JSON.stringify(o);
    }
  }
}

type ReplyMutation = { status: number; body: 'empty' | 'text' | 'truncated' | 'huge' | 'array' | 'keep' };
const replyMutation: fc.Arbitrary<ReplyMutation> = fc.record({
  status: fc.constantFrom(200, 204, 400, 404, 409, 422, 500, 503),
  body: fc.constantFrom('empty', 'text', 'truncated', 'huge', 'array', 'keep'),
});

/** Which of the victim's events or replies are mutated: each index drawn picks one, in order. */
const plan = fc.record({
  events: fc.array(fc.tuple(fc.integer({ min: 0, max: 8 }), mutation), { maxLength: 3 }),
  replies: fc.array(fc.tuple(fc.integer({ min: 0, max: 4 }), replyMutation), { maxLength: 2 }),
});

async function hostileCall(p: { events: [number, Mutation][]; replies: [number, ReplyMutation][] }): Promise<void> {
  let victim = '';
  let ev = 0;
  let rep = 0;
  const evAt = new Map(p.events);
  const repAt = new Map(p.replies);
  sim.mutateEvent = (text) => {
    if (!victim || !text.includes(victim)) return text;
    const m = evAt.get(ev++);
    if (!m) return text;
    applied.events++;
    return mutate(text, m);
  };
  sim.mutateReply = (_method, pth, status, text) => {
    if (!victim || !pth.includes(victim)) return undefined;
    const m = repAt.get(rep++);
    if (!m) return undefined;
    applied.replies++;
    const body = {
      empty: '',
      text: 'Internal Server Error',
      truncated: text.slice(0, Math.floor(text.length / 2)) || '{"mess',
      huge: JSON.stringify({ message: 'x'.repeat(1 << 20) }),
      array: '[1,2,3]',
      keep: text,
    }[m.body];
    return { status: m.status, text: body };
  };
  const call = dial(sim, '0612999999');
  victim = call.channelId;
  // the hostile call ends one way or another (the gate, its fail mode, or the dialplan's backstop);
  // it is not waited for: the other calls must not wait on it either
  const done = call.done;
  await new Promise((r) => setTimeout(r, 20));
  await normalCall();
  sim.mutateEvent = undefined;
  sim.mutateReply = undefined;
  sim.callerHangup(victim);
  await done;
}

test('mutated events and replies about one call: the gate keeps deciding the others', async () => {
  await normalCall();
  await fc.assert(
    fc.asyncProperty(plan, async (p) => {
      await hostileCall(p);
      await normalCall();
    }),
    runs(40),
  );
  expect(applied.events).toBeGreaterThan(20);
  expect(applied.replies).toBeGreaterThan(5);
}, 120_000);
