/**
 * The ARI simulator in its own process, for benchmarks: like a real Asterisk, its CPU is not in
 * the gate's event loop. Latency is measured here, on the simulator's clock, from the instant
 * StasisStart is written to the instant the `continue` (or the hangup) request arrives.
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
  lost: number;
  /** StasisStart → continue, ns. */
  samples: number[];
  simCpuMsPerCall: number;
};

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
  process.on('message', (m: { cmd: string; total?: number; ratePerS?: number; exten?: (i: number) => string }) => {
    if (m.cmd === 'stop') void sim.stop().then(() => process.exit(0));
    if (m.cmd === 'run')
      void run(sim, m.total as number, m.ratePerS as number).then((result) => process.send?.({ result }));
  });
}

const isAllowed = (r: CallResult): boolean => r.vars.CALLGATE_VERDICT === 'allow';

async function run(sim: AriSimulator, total: number, ratePerS: number): Promise<ChildRunResult> {
  const started = new Map<string, bigint>();
  const samples: number[] = [];
  let blocked = 0;
  sim.onStasisStart = (id) => started.set(id, process.hrtime.bigint());
  sim.onRest = (method, p, id) => {
    const t0 = id === undefined ? undefined : started.get(id);
    if (t0 === undefined || id === undefined) return;
    if (method === 'POST' && p.endsWith('/continue')) samples.push(Number(process.hrtime.bigint() - t0));
    else if (method === 'DELETE') blocked++;
    else return;
    started.delete(id);
  };
  // Only each call's verdict is kept once it ends: holding every full CallResult (its variables and
  // trail) grew this process's live heap through the run, and V8's major GCs over it stalled the
  // simulator for tens of ms every few seconds.
  const calls: Array<Promise<boolean>> = [];
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor(((Date.now() - t0) / 1000) * ratePerS));
      while (calls.length < due) {
        const i = calls.length;
        calls.push(
          sim
            .originate({
              exten: `061${String(i).padStart(7, '0')}`,
              callerId: { number: '+33162000001' },
              vars: { CALLGATE_CAMPAIGN: 'bench' },
            })
            .done.then(isAllowed),
        );
      }
      if (calls.length >= total) {
        clearInterval(timer);
        resolve();
      }
    }, 2);
  });
  const results = await Promise.all(calls);
  const cpu = process.cpuUsage(cpu0);
  return {
    calls: total,
    allowed: results.filter(Boolean).length,
    blocked,
    lost: total - samples.length - blocked,
    samples,
    simCpuMsPerCall: Math.round(((cpu.user + cpu.system) / 1000 / total) * 100) / 100,
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
