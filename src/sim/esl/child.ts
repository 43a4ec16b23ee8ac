/**
 * The Event Socket simulator in its own process, as a real FreeSWITCH is: bench/freeswitch.ts forks
 * this file (built, from dist/) so that the simulator's CPU does not share the gate's event loop.
 *
 * IPC: the parent sends one `run` message; the child places `ratePerS` calls per second for `durationS`
 * seconds through the shipped dialplan (verbatim, socket target overridden), waits for every call to
 * end, and answers with a `result` message (latency samples measured inside the child: socket TCP
 * connect → the release command arriving, both on the child's clock), then exits.
 *
 * With `dialer: true` the simulator first listens for inbound Event Socket connections and says on
 * which port (`listening`); the parent connects its outcome follower there and answers `go`. Every
 * call is then placed as a dialer does it, with `bgapi originate` on an inbound connection of its own
 * (src/sim/esl/dialer.ts): its BACKGROUND_JOB results and every application's
 * CHANNEL_EXECUTE_COMPLETE go to every connection subscribed to them (issue 12's noise).
 */
import { performance } from 'node:perf_hooks';
import { loadDialplan } from './dialplan';
import { SHIPPED_DIALPLAN } from './paths';
import { SimDialer } from './dialer';
import { EslSimulator, type CallRecord } from './simulator';

export type ChildRun = {
  type: 'run';
  /** host:port of the gate's outbound-socket server. */
  socket: string;
  durationS: number;
  ratePerS: number;
  /** Destination of call i: prefix + i zero-padded to `digits`. */
  to: { prefix: string; digits: number };
  callerIdNumber: string;
  variables: Record<string, string>;
  /** The allowed call's bridge: answer and talk times (ms). */
  callee: { answerAfterMs: number; talkMs: number };
  /** Place the calls through a dialer's `bgapi originate` (see above). */
  dialer?: boolean;
};

export type ChildListening = { type: 'listening'; port: number };

export type ChildResult = {
  type: 'result';
  calls: number;
  finished: number;
  offeredRatePerS: number;
  /** ms, socket connect → transfer/hangup command received, one per call that got one. */
  samples: number[];
  /** ms from the run's start to the placing of each sample's call (same order as `samples`): tells
   * the warm-up's samples from the rest. */
  placedMs: number[];
  /** ms, the same interval cut in three: connect → `connect` command (accept + first read by the gate),
   * → first `sendmsg` (esl's filter/event round trips + the decision), → release command. */
  phases: { accept: number[]; setupAndDecide: number[]; variablesAndRelease: number[] };
  /** Worst latency (ms) of the calls placed in each second of the run: shows warm-up and stalls. */
  maxBySecond: number[];
  transferred: number;
  hangupCauses: Record<string, number>;
  /** The simulator process's own CPU over the run, ms. */
  cpuMs: { user: number; system: number };
  /** Dialer mode: what the dialer's own connection received (the noise every subscribed connection gets). */
  dialer?: { jobsOk: number; jobsErr: number; events: number; bytes: number };
};

/** What the run keeps of one finished call. */
type CallSummary = {
  placedAt: number;
  /** connect → release command (ms), if a release came. */
  latency?: number;
  phases?: [number, number, number];
  transferred: boolean;
  hangupCause: string;
};

function summarize(r: CallRecord, placedAt: number): CallSummary {
  const s = r.sockets[0];
  const out: CallSummary = { placedAt, transferred: r.transfers.length === 1, hangupCause: r.hangupCause };
  if (s?.releaseAt !== undefined) {
    out.latency = s.releaseAt - s.connectedAt;
    if (s.connectCommandAt !== undefined && s.firstSendmsgAt !== undefined)
      out.phases = [
        s.connectCommandAt - s.connectedAt,
        s.firstSendmsgAt - s.connectCommandAt,
        s.releaseAt - s.firstSendmsgAt,
      ];
  }
  return out;
}

async function run(m: ChildRun): Promise<ChildResult> {
  const ends = new Map<string, (r: CallRecord) => void>();
  const sim = new EslSimulator({
    dialplan: loadDialplan(SHIPPED_DIALPLAN, { callgate_socket: m.socket }),
    callee: () => m.callee,
    trace: false,
    onCallEnd: (r) => {
      ends.get(r.uuid)?.(r);
      ends.delete(r.uuid);
    },
  });
  let dialer: SimDialer | undefined;
  if (m.dialer) {
    const port = await sim.listenInbound();
    const go = new Promise<void>((resolve) => process.once('message', () => resolve()));
    process.send?.({ type: 'listening', port } satisfies ChildListening);
    await go;
    dialer = await SimDialer.connect(port);
  }
  const total = Math.round(m.durationS * m.ratePerS);
  // Each call is cut down to its few numbers the moment it ends: holding 6,000 full CallRecords (every
  // channel variable, every app run) grew this process's live heap by ~2 MB/s, and V8's major GCs over
  // that growing heap stalled the simulator for 30-60 ms every ~4.5 s, which the gate was blamed for.
  const cpu0 = process.cpuUsage();
  const done: Promise<CallSummary>[] = [];
  const t0 = performance.now();
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / m.ratePerS;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const to = `${m.to.prefix}${String(i).padStart(m.to.digits, '0')}`;
    const placedAt = performance.now() - t0;
    if (dialer) {
      const uuid = dialer.originate(to, 'callgate-outbound', {
        origination_caller_id_number: m.callerIdNumber,
        ...m.variables,
      });
      done.push(new Promise<CallRecord>((resolve) => ends.set(uuid, resolve)).then((r) => summarize(r, placedAt)));
      continue;
    }
    done.push(
      sim
        .placeCall({ to, context: 'callgate-outbound', callerIdNumber: m.callerIdNumber, variables: m.variables })
        .done.then((r) => summarize(r, placedAt)),
    );
  }
  const offeredS = (performance.now() - t0) / 1000;
  const recs = await Promise.all(done);
  const cpu = process.cpuUsage(cpu0);
  // the last BACKGROUND_JOBs follow the last hangups
  if (dialer) await new Promise((r) => setTimeout(r, 200));
  const dialerStats = dialer ? { ...dialer.stats } : undefined;
  dialer?.close();
  await sim.close();
  const samples: number[] = [];
  const placedMs: number[] = [];
  const phases: ChildResult['phases'] = { accept: [], setupAndDecide: [], variablesAndRelease: [] };
  const hangupCauses: Record<string, number> = {};
  let transferred = 0;
  const maxBySecond: number[] = [];
  for (const r of recs) {
    if (r.latency !== undefined) {
      samples.push(r.latency);
      placedMs.push(Math.round(r.placedAt));
      const sec = Math.floor(r.placedAt / 1000);
      maxBySecond[sec] = Math.max(maxBySecond[sec] ?? 0, Math.round(r.latency * 10) / 10);
      if (r.phases) {
        phases.accept.push(r.phases[0]);
        phases.setupAndDecide.push(r.phases[1]);
        phases.variablesAndRelease.push(r.phases[2]);
      }
    }
    if (r.transferred) transferred++;
    hangupCauses[r.hangupCause] = (hangupCauses[r.hangupCause] ?? 0) + 1;
  }
  return {
    type: 'result',
    calls: total,
    finished: recs.length,
    offeredRatePerS: Math.round((total / offeredS) * 10) / 10,
    samples,
    placedMs,
    phases,
    maxBySecond,
    transferred,
    hangupCauses,
    cpuMs: { user: Math.round(cpu.user / 1000), system: Math.round(cpu.system / 1000) },
    ...(dialerStats
      ? {
          dialer: {
            jobsOk: dialerStats.jobsOk,
            jobsErr: dialerStats.jobsErr,
            events: dialerStats.events,
            bytes: dialerStats.bytes,
          },
        }
      : {}),
  };
}

/**
 * V8 flags for the simulator process. A real FreeSWITCH is C and never pauses to collect garbage; this
 * simulator allocates ~200 KB per call (channel events of ~100 headers, each serialized), and with V8's
 * default 16 MB young generation it ran a 3-15 ms scavenge 4 times a second, which landed in the
 * measured latency. A 64 MB young generation makes those pauses ~5 times rarer.
 * CALLGATE_SIM_NODE_ARGS adds flags (e.g. "--trace-gc" or "--cpu-prof").
 */
/** This file, as built (the parent forks it). */
export const CHILD_ENTRY = __filename;

export const SIM_EXEC_ARGV = [
  '--max-semi-space-size=64',
  '--min-semi-space-size=64',
  ...(process.env.CALLGATE_SIM_NODE_ARGS ?? '').split(' ').filter(Boolean),
];

if (require.main === module) {
  process.once('message', (m: ChildRun) => {
    run(m).then(
      (r) => process.send?.(r, () => process.exit(0)),
      (e: unknown) => {
        console.error(e);
        process.exit(1);
      },
    );
  });
  process.send?.({ type: 'ready' });
}
