/**
 * The simulated PBX of `callgate demo`: the ARI simulator running the shipped Asterisk dialplan, or the
 * Event Socket simulator running the shipped FreeSWITCH dialplan, both on loopback (src/sim, the ones
 * the tests use). The gate reaches them through its real adapters, configured by the section `gateYaml`
 * gives; the demo dialer places calls with `call()` and reads how each one ended, as a dialer would.
 */
import type { Callee } from './script';
import { freePort } from '../sim/free-port';

/** How a call ended, as the dialer sees it. */
export type CallEnd =
  | { kind: 'emergency' } // routed around the gate by the dialplan: no decision
  | { kind: 'refused' } // the gate blocked it (hangup, call rejected)
  | { kind: 'answered' }
  | { kind: 'busy' }
  | { kind: 'noanswer' }
  | { kind: 'other'; detail: string };

export type DemoCallSpec = {
  to: string;
  campaign?: string;
  callerId: string;
  withheld: boolean;
  postalCode?: string;
  callee: Callee;
};

export type DemoPbx = {
  name: 'asterisk' | 'freeswitch';
  /** The YAML section of callgate.yaml that connects the gate to this PBX. */
  gateYaml: string;
  call(spec: DemoCallSpec): Promise<CallEnd>;
  stop(): Promise<void>;
};

/** Real talk times are short (the demo's clock runs fast); ms. */
const TALK_MS = 120;
const RING_MS = 30;

const USER = 'callgate';

function randomSecret(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('node:crypto') as typeof import('node:crypto')).randomBytes(12).toString('hex');
}

export async function startDemoPbx(kind: 'asterisk' | 'freeswitch'): Promise<DemoPbx> {
  return kind === 'asterisk' ? startAsterisk() : startFreeswitch();
}

async function startAsterisk(): Promise<DemoPbx> {
  // Loaded here: the demo on FreeSWITCH never loads the ARI simulator, and the other way round.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { AriSimulator } = require('../sim/ari/server') as typeof import('../sim/ari/server');
  const { SNIPPET_PATH } = require('../sim/ari/paths') as typeof import('../sim/ari/paths');
  const fs = require('node:fs') as typeof import('node:fs');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const password = randomSecret();
  let next: Callee = 'answer';
  const sim = new AriSimulator({
    username: USER,
    password,
    dialplan: [fs.readFileSync(SNIPPET_PATH, 'utf8')],
    trunk: () => (next === 'answer' ? { result: 'answer', talkMs: TALK_MS, ringMs: RING_MS } : { result: next }),
  });
  sim.recordEvents = false;
  const url = await sim.start();
  return {
    name: 'asterisk',
    gateYaml: `asterisk:\n  url: ${JSON.stringify(url)}\n  username: ${USER}\n  password: ${JSON.stringify(password)}\n  allowContext: callgate-allowed\n`,
    async call(spec) {
      next = spec.callee;
      const r = await sim.originate({
        exten: spec.to,
        callerId: { number: spec.callerId, name: 'Agent 7' },
        pres: spec.withheld ? 'prohib_not_screened' : 'allowed_not_screened',
        vars: {
          ...(spec.campaign ? { CALLGATE_CAMPAIGN: spec.campaign } : {}),
          ...(spec.postalCode ? { CALLGATE_POSTAL_CODE: spec.postalCode } : {}),
        },
      }).done;
      if (r.trail.some((t) => t.startsWith('callgate-emergency:'))) return { kind: 'emergency' };
      if (!r.dialed) return r.cause === 21 ? { kind: 'refused' } : { kind: 'other', detail: `cause ${r.cause}` };
      switch (r.dialed.status) {
        case 'ANSWER':
          return { kind: 'answered' };
        case 'BUSY':
          return { kind: 'busy' };
        case 'NOANSWER':
          return { kind: 'noanswer' };
        default:
          return { kind: 'other', detail: r.dialed.status };
      }
    },
    stop: () => sim.stop(),
  };
}

async function startFreeswitch(): Promise<DemoPbx> {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { EslSimulator } = require('../sim/esl/simulator') as typeof import('../sim/esl/simulator');
  const { loadDialplan } = require('../sim/esl/dialplan') as typeof import('../sim/esl/dialplan');
  const { SHIPPED_DIALPLAN } = require('../sim/esl/paths') as typeof import('../sim/esl/paths');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const socketPort = await freePort();
  const password = randomSecret();
  let next: Callee = 'answer';
  const sim = new EslSimulator({
    dialplan: loadDialplan(SHIPPED_DIALPLAN, { callgate_socket: `127.0.0.1:${socketPort}` }),
    password,
    trace: false,
    callee: () =>
      next === 'answer'
        ? { answerAfterMs: RING_MS, talkMs: TALK_MS }
        : { failCause: next === 'busy' ? 'USER_BUSY' : 'NO_ANSWER' },
  });
  const inboundPort = await sim.listenInbound(0);
  return {
    name: 'freeswitch',
    gateYaml: [
      'freeswitch:',
      `  listen: { host: 127.0.0.1, port: ${socketPort} }`,
      `  inbound: { host: 127.0.0.1, port: ${inboundPort}, password: ${JSON.stringify(password)} }`,
      '  allowContext: callgate-allowed',
      '',
    ].join('\n'),
    async call(spec) {
      next = spec.callee;
      const r = await sim.placeCall({
        to: spec.to,
        context: 'callgate-outbound',
        callerIdNumber: spec.callerId,
        callerIdName: 'Agent 7',
        hideNumber: spec.withheld,
        variables: {
          ...(spec.campaign ? { callgate_campaign: spec.campaign } : {}),
          ...(spec.postalCode ? { callgate_postal_code: spec.postalCode } : {}),
        },
      }).done;
      if (r.answered) return { kind: 'answered' };
      switch (r.hangupCause) {
        case 'CALL_REJECTED':
          return { kind: 'refused' };
        case 'USER_BUSY':
          return { kind: 'busy' };
        case 'NO_ANSWER':
          return { kind: 'noanswer' };
        default:
          return { kind: 'other', detail: r.hangupCause };
      }
    },
    stop: () => sim.close(),
  };
}
