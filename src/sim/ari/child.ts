/**
 * The ARI simulator in its own process, for benchmarks: like a real Asterisk, its CPU is not in
 * the gate's event loop. Latency is measured here, on the simulator's clock, from the instant
 * StasisStart is written to the instant the request that releases the call (`continue`, or the
 * hangup of a blocked call) arrives. It also counts the events it serialised to the app (what an
 * event filter saves the PBX) and the calls its TIMEOUT(absolute) backstop cut.
 *
 * IPC (process.send): parent → {cmd:'run', total, ratePerS} → {result}; {cmd:'stop'}.
 * On start it sends {url}.
 */
import { shippedDialplan, PASS, USER } from './harness';
import { AriSimulator, type CallResult } from './server';

export type ChildRunResult = {
  calls: number;
  allowed: number;
  blocked: number;
  /** Calls the gate told the PBX to continue (POST /channels/{id}/continue received): what must each have its attempt recorded. */
  continued: number;
  lost: number;
  /** StasisStart → continue or hangup, ns. */
  samples: number[];
  /**
   * ms from the run's start to each sample's StasisStart (same order as `samples`, which come in
   * release order): tells the warm-up's samples from the rest by when the call came, not by rank.
   */
  placedMs: number[];
  simCpuMsPerCall: number;
  /** Events serialised to the app during the run, per call. */
  eventsPerCall: number;
  /** Calls the dialplan's TIMEOUT(absolute) cut (never, when the gate clears it). */
  timedOut: number;
  /** Calls that did not end as the gate said (neither continued and dialled nor refused). */
  wrong: number;
  /** Calls still up STUCK_AFTER_MS after the last was placed (left in Stasis), hung up by the caller. */
  stuck: number;
};

/** How long the run waits for its last calls to end before it hangs up those still up. */
const STUCK_AFTER_MS = 30_000;

async function main(): Promise<void> {
  const sim = new AriSimulator({
    username: USER,
    password: PASS,
    dialplan: [shippedDialplan()],
    trunk: () => ({ result: 'answer', talkMs: 50 }),
  });
  sim.recordEvents = false;
  await sim.start();
  process.send?.({ url: sim.url });
  process.on('message', (m: { cmd: string; total?: number; ratePerS?: number; downMs?: number }) => {
    if (m.cmd === 'stop') void sim.stop().then(() => process.exit(0));
    if (m.cmd === 'run')
      void run(sim, m.total as number, m.ratePerS as number).then((result) => process.send?.({ result }));
    if (m.cmd === 'restart') void restart(sim, m.downMs as number).then((restarted) => process.send?.({ restarted }));
  });
}

/**
 * A restart of `downMs`, then the time from the instant the simulator listens again to the instant
 * an app registers (the gate found it again), and whether a call placed then is decided.
 */
async function restart(sim: AriSimulator, downMs: number): Promise<{ backToRegisteredMs: number; decided: boolean }> {
  await sim.restart(downMs);
  const back = process.hrtime.bigint();
  while (sim.registeredApps().length === 0) await new Promise((r) => setTimeout(r, 1));
  const backToRegisteredMs = Math.round(Number(process.hrtime.bigint() - back) / 1e5) / 10;
  const r = await sim.originate({ exten: '0612345670', callerId: { number: '+33162000001' } }).done;
  return { backToRegisteredMs, decided: r.vars.CALLGATE_VERDICT === 'allow' || r.vars.CALLGATE_VERDICT === 'block' };
}

type Ended = { allowed: boolean; timedOut: boolean; wrong: boolean };
const ended = (r: CallResult): Ended => {
  const allowed = r.vars.CALLGATE_VERDICT === 'allow';
  return {
    allowed,
    timedOut: r.timedOut === true,
    wrong: allowed ? r.dialed?.status !== 'ANSWER' : r.cause !== 21,
  };
};

async function run(sim: AriSimulator, total: number, ratePerS: number): Promise<ChildRunResult> {
  const started = new Map<string, bigint>();
  const samples: number[] = [];
  const placedMs: number[] = [];
  const runStart = process.hrtime.bigint();
  let blocked = 0;
  let continued = 0;
  sim.onStasisStart = (id) => started.set(id, process.hrtime.bigint());
  sim.onRest = (method, p, id) => {
    const t0 = id === undefined ? undefined : started.get(id);
    if (t0 === undefined || id === undefined) return;
    if (method === 'POST' && p.endsWith('/continue')) continued++;
    else if (method === 'DELETE') blocked++;
    else return;
    samples.push(Number(process.hrtime.bigint() - t0));
    placedMs.push(Math.round(Number(t0 - runStart) / 1e5) / 10);
    started.delete(id);
  };
  // Only each call's verdict is kept once it ends: holding every full CallResult (its variables and
  // trail) grew this process's live heap through the run, and V8's major GCs over it stalled the
  // simulator for tens of ms every few seconds.
  const calls: Array<Promise<Ended>> = [];
  const pending = new Set<string>();
  const serialised0 = sim.serialised;
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor(((Date.now() - t0) / 1000) * ratePerS));
      while (calls.length < due) {
        const i = calls.length;
        const call = sim.originate({
          exten: `061${String(i).padStart(7, '0')}`,
          callerId: { number: '+33162000001' },
          vars: { CALLGATE_CAMPAIGN: 'bench' },
        });
        pending.add(call.channelId);
        calls.push(
          call.done.then((r) => {
            pending.delete(call.channelId);
            return ended(r);
          }),
        );
      }
      if (calls.length >= total) {
        clearInterval(timer);
        resolve();
      }
    }, 2);
  });
  // A call the app left in Stasis with the dialplan's backstop cleared never ends by itself (a real
  // Asterisk would hold it until someone hangs up): after STUCK_AFTER_MS the caller hangs up, and the
  // run reports it instead of waiting for ever.
  let stuckTimer: NodeJS.Timeout | undefined;
  const all = Promise.all(calls);
  const settled = await Promise.race([
    all.then(() => true),
    new Promise<boolean>((r) => (stuckTimer = setTimeout(() => r(false), STUCK_AFTER_MS))),
  ]);
  clearTimeout(stuckTimer);
  const stuck = settled ? 0 : pending.size;
  if (!settled) for (const id of [...pending]) sim.callerHangup(id);
  const results = await all;
  const cpu = process.cpuUsage(cpu0);
  return {
    calls: total,
    allowed: results.filter((r) => r.allowed).length,
    blocked,
    continued,
    lost: total - samples.length,
    samples,
    placedMs,
    simCpuMsPerCall: Math.round(((cpu.user + cpu.system) / 1000 / total) * 100) / 100,
    eventsPerCall: Math.round(((sim.serialised - serialised0) / total) * 100) / 100,
    timedOut: results.filter((r) => r.timedOut).length,
    wrong: results.filter((r) => r.wrong).length,
    stuck,
  };
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}

/** Path of this file, for child_process.fork. */
export const CHILD_ENTRY = __filename;

/**
 * V8 flags for the simulator process. A real Asterisk is C and never pauses to collect garbage; this
 * simulator allocates ~200 KB per call (events, JSON), and with V8's default 16 MB young generation it
 * ran a 3-15 ms scavenge 4 times a second, which landed in the measured latency. A 64 MB young
 * generation makes those pauses ~5 times rarer. CALLGATE_SIM_NODE_ARGS adds flags (e.g. --trace-gc).
 */
export const SIM_EXEC_ARGV = [
  '--max-semi-space-size=64',
  '--min-semi-space-size=64',
  ...(process.env.CALLGATE_SIM_NODE_ARGS ?? '').split(' ').filter(Boolean),
];
