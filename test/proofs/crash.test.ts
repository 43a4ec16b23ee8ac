/**
 * Crash safety (issue 14.2): calls flow through the real `callgate start` process on each PBX
 * simulator while the gate is killed with SIGKILL at seeded random moments and started again.
 * Afterwards:
 * - every call the PBX was told to continue (the dialplan went on into the allow context after
 *   CALLGATE_VERDICT=allow) has its attempt in the store, under the decision id the PBX was given;
 * - no consumer got a fifth attempt in 30 days for the professional: neither in the store nor in
 *   what the PBX placed (every call is judged at one fixed instant, so all are in one window);
 * - the SQLite file passes integrity_check;
 * - the audit trail verifies (`callgate audit verify`, when the command exists: verifyAuditTrail).
 *
 * Replay a failure with CALLGATE_PROOF_SEED=<seed printed in the failure>.
 */
import { AriSimulator } from '../../src/sim/ari/server';
import { PASS, shippedDialplan, USER } from '../../src/sim/ari/harness';
import { loadDialplan } from '../../src/sim/esl/dialplan';
import { SHIPPED_DIALPLAN } from '../../src/sim/esl/paths';
import { EslSimulator } from '../../src/sim/esl/simulator';
import {
  CALLER_ID,
  gateConfig,
  killLoop,
  prng,
  readStore,
  sandbox,
  SEED,
  seedContracts,
  sleep,
  verifyAuditTrail,
  writeConfig,
  type Sandbox,
  type Seen,
} from './crash-rig';
import { freePort } from '../e2e/freeswitch-helpers';

/** Gate kills per simulator. */
const KILLS = 4;
/** Calls in flight at once. */
const CONCURRENCY = 6;
/** Each number is dialled this many times in a row (several at once): 4 allowed, the rest refused. */
const CALLS_PER_NUMBER = 7;
const POOL = 150;
const national = (i: number) => `0612${String(i % POOL).padStart(6, '0')}`;
const e164 = (n: string) => `+33${n.slice(1)}`;

let sb: Sandbox;
beforeEach(() => {
  sb = sandbox();
});
afterEach(() => sb.cleanup());

/** Places calls, CONCURRENCY at a time, until stopped; `place(n)` resolves with what the PBX saw. */
function dialer(place: (to: string) => Promise<Seen>): { seen: Seen[]; stop(): Promise<void> } {
  const seen: Seen[] = [];
  let stopped = false;
  let next = 0;
  const lane = async () => {
    while (!stopped) {
      const to = national(Math.floor(next++ / CALLS_PER_NUMBER));
      seen.push(await place(to));
      await sleep(2); // a refused call ends at once while the gate is down: no busy loop then
    }
  };
  const lanes = Array.from({ length: CONCURRENCY }, lane);
  return {
    seen,
    async stop() {
      stopped = true;
      await Promise.all(lanes);
    },
  };
}

async function check(label: string, seen: Seen[], kills: number): Promise<void> {
  const facts = await readStore(
    sb.db,
    Array.from({ length: POOL }, (_, i) => e164(national(i))),
  );
  const where = `${label}, seed ${SEED} (CALLGATE_PROOF_SEED=${SEED} to replay)`;
  const continued = seen.filter((s) => s.continued);
  // every continued call has its attempt, under the decision id the PBX was given, for its number
  const missing = continued.filter(
    (s) => s.decisionId === undefined || facts.attempts.get(s.decisionId) !== e164(s.to),
  );
  expect({ where, missing }).toEqual({ where, missing: [] });
  // never a fifth attempt: in the store, and in what the PBX placed
  const placed = new Map<string, number>();
  for (const s of continued) placed.set(s.to, (placed.get(s.to) ?? 0) + 1);
  const overStore = [...facts.perNumber].filter(([, n]) => n > 4);
  const overPbx = [...placed].filter(([, n]) => n > 4);
  expect({ where, overStore, overPbx }).toEqual({ where, overStore: [], overPbx: [] });
  expect({ where, integrity: facts.integrity }).toEqual({ where, integrity: 'ok' });
  const audit = verifyAuditTrail(sb);
  // the test must have seen calls go both ways, through every kill
  expect(continued.length).toBeGreaterThan(kills * 2);
  expect(seen.length - continued.length).toBeGreaterThan(kills);
  process.stdout.write(
    `${where}: ${seen.length} calls, ${continued.length} continued, ${kills} SIGKILLs, ${facts.decisions} decisions stored, audit verify: ${audit.status}\n`,
  );
}

test('Asterisk (ARI simulator): SIGKILLs of the gate lose no allowed attempt and never let a fifth one through', async () => {
  const rnd = prng(SEED);
  const sim = new AriSimulator({
    username: USER,
    password: PASS,
    dialplan: [shippedDialplan()],
    trunk: () => ({ result: 'answer', talkMs: 10 }),
  });
  sim.recordEvents = false;
  let d: ReturnType<typeof dialer> | undefined;
  await sim.start();
  try {
    writeConfig(
      sb,
      gateConfig(
        sb.db,
        `asterisk: { url: '${sim.url}', username: '${USER}', password: '${PASS}', allowContext: callgate-allowed, reconnectMinMs: 50, reconnectMaxMs: 200 }`,
      ),
    );
    await seedContracts(
      sb,
      Array.from({ length: POOL }, (_, i) => e164(national(i))),
    );
    d = dialer(async (to) => {
      const r = await sim.originate({
        exten: to,
        callerId: { number: CALLER_ID },
        pres: 'allowed_not_screened',
        vars: { CALLGATE_CAMPAIGN: 'crash' },
      }).done;
      const continued = r.trail.some((t) => t.startsWith('callgate-allowed:'));
      if (continued && r.vars.CALLGATE_VERDICT !== 'allow') throw new Error(`continued without allow: ${r.trail}`);
      return { to, continued, ...(r.vars.CALLGATE_DECISION_ID ? { decisionId: r.vars.CALLGATE_DECISION_ID } : {}) };
    });
    const ready = async () => {
      while (!sim.registeredApps().includes('callgate')) await sleep(5);
    };
    const { kills } = await killLoop(sb, rnd, KILLS, ready, async () => {
      await sleep(300);
      await d?.stop();
    });
    await check('Asterisk', d.seen, kills);
  } finally {
    // a failure before the dialer was stopped must not leave it placing calls (jest would never exit)
    await d?.stop().catch(() => undefined);
    await sim.stop();
  }
}, 120_000);

test('FreeSWITCH (Event Socket simulator): SIGKILLs of the gate lose no allowed attempt and never let a fifth one through', async () => {
  const rnd = prng(SEED + 1);
  const port = await freePort();
  let d: ReturnType<typeof dialer> | undefined;
  const sim = new EslSimulator({
    // the gate's generous deadline (gateConfig) needs a dialplan backstop that cannot overlap it:
    // the config check refuses callgate_backstop_s 3 with gate.deadlineMs 3000
    dialplan: loadDialplan(SHIPPED_DIALPLAN, { callgate_socket: `127.0.0.1:${port}`, callgate_backstop_s: '6' }),
    callee: () => ({ answerAfterMs: 5, talkMs: 10 }),
    trace: false,
  });
  try {
    writeConfig(
      sb,
      gateConfig(
        sb.db,
        `freeswitch: { listen: { host: 127.0.0.1, port: ${port} }, allowContext: callgate-allowed, dialplanBackstopS: 6 }`,
      ),
    );
    await seedContracts(
      sb,
      Array.from({ length: POOL }, (_, i) => e164(national(i))),
    );
    d = dialer(async (to) => {
      const r = await sim.placeCall({
        to,
        context: 'callgate-outbound',
        callerIdNumber: CALLER_ID,
        variables: { callgate_campaign: 'crash' },
      }).done;
      const continued = r.transfers.some((t) => t.context === 'callgate-allowed');
      if (continued && r.vars.callgate_verdict !== 'allow') throw new Error(`transferred without allow: ${r.to}`);
      return { to, continued, ...(r.vars.callgate_decision_id ? { decisionId: r.vars.callgate_decision_id } : {}) };
    });
    const { kills } = await killLoop(
      sb,
      rnd,
      KILLS,
      async () => undefined,
      async () => {
        await sleep(300);
        await d?.stop();
      },
    );
    await check('FreeSWITCH', d.seen, kills);
  } finally {
    await d?.stop().catch(() => undefined);
    await sim.close();
  }
}, 120_000);
