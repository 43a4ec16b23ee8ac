/**
 * The Event Socket simulator in its own process for the soak (bench/soak.ts), as a real FreeSWITCH runs
 * beside the gate: the shipped dialplan verbatim, its `socket` target the gate's port (argv[2]), and an
 * inbound Event Socket listener for the gate's outcome connection. Built on the simulator's public API
 * (src/sim/esl/simulator.ts).
 *
 * IPC: on start it sends {type:'ready', inboundPort}; the parent sends {type:'run', durationS, ratePerS};
 * the child places the calls (number i: 061 + i on 7 digits, consent on file when i is even), waits for
 * every call to end and answers {type:'result', …} (latency measured here: socket TCP connect → release
 * command received), and closes and exits on {type:'stop'}.
 */
import { performance } from 'node:perf_hooks';
import { loadDialplan } from '../src/sim/esl/dialplan';
import { SHIPPED_DIALPLAN } from '../src/sim/esl/paths';
import { EslSimulator, type CallRecord } from '../src/sim/esl/simulator';

export type EslSoakResult = {
  type: 'result';
  calls: number;
  /** Calls transferred to callgate-allowed (the gate told the PBX to continue). */
  transferred: number;
  /** Calls hung up with CALL_REJECTED by the gate (a release command came, no transfer). */
  rejected: number;
  /** Calls that got no release command. */
  noRelease: number;
  /** Transferred but not answered, or neither transferred nor rejected. */
  wrong: number;
  hangupCauses: Record<string, number>;
  /** ms, socket connect → release command. */
  samples: number[];
};

type Summary = { latency?: number; transferred: boolean; answered: boolean; cause: string };

function summarize(r: CallRecord): Summary {
  const s = r.sockets[0];
  return {
    ...(s?.releaseAt !== undefined ? { latency: s.releaseAt - s.connectedAt } : {}),
    transferred: r.transfers.some((t) => t.context === 'callgate-allowed'),
    answered: r.answered,
    cause: r.hangupCause,
  };
}

async function main(): Promise<void> {
  const socket = process.argv[2] as string;
  const sim = new EslSimulator({
    dialplan: loadDialplan(SHIPPED_DIALPLAN, { callgate_socket: socket }),
    callee: () => ({ answerAfterMs: 10, talkMs: 50 }),
    trace: false,
  });
  const inboundPort = await sim.listenInbound(0);
  process.on('message', (m: { type: 'run' | 'stop'; durationS: number; ratePerS: number }) => {
    if (m.type === 'run') void run(sim, m.durationS, m.ratePerS).then((r) => process.send?.(r));
    // the gate has stopped (its inbound connection closed first, as at a planned shutdown)
    else void sim.close().then(() => process.exit(0));
  });
  process.send?.({ type: 'ready', inboundPort });
}

async function run(sim: EslSimulator, durationS: number, ratePerS: number): Promise<EslSoakResult> {
  const total = Math.round(durationS * ratePerS);
  const done: Promise<Summary>[] = [];
  const t0 = performance.now();
  for (let i = 0; i < total; i++) {
    const wait = t0 + (i * 1000) / ratePerS - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    done.push(
      sim
        .placeCall({
          to: `061${String(i).padStart(7, '0')}`,
          context: 'callgate-outbound',
          callerIdNumber: '0162000001',
          variables: { callgate_campaign: 'bench' },
        })
        .done.then(summarize),
    );
  }
  const recs = await Promise.all(done);
  await new Promise((r) => setTimeout(r, 300)); // the gate's inbound connection reads the last hangups
  const hangupCauses: Record<string, number> = {};
  const samples: number[] = [];
  let transferred = 0;
  let rejected = 0;
  let wrong = 0;
  for (const r of recs) {
    hangupCauses[r.cause] = (hangupCauses[r.cause] ?? 0) + 1;
    if (r.latency !== undefined) samples.push(r.latency);
    if (r.transferred) {
      transferred++;
      if (!r.answered) wrong++;
    } else if (r.latency !== undefined && r.cause === 'CALL_REJECTED') rejected++;
    else wrong++;
  }
  return {
    type: 'result',
    calls: total,
    transferred,
    rejected,
    noRelease: total - samples.length,
    wrong,
    hangupCauses,
    samples,
  };
}

if (require.main === module)
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
