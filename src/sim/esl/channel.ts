/**
 * A simulated FreeSWITCH channel and the headers of its events (src/sim/fixtures/esl/), in the
 * order switch_event_prep_for_delivery and switch_channel_event_set_data write them.
 */
import { randomUUID } from 'node:crypto';
import type { Pairs } from './framing';

export const CORE_UUID = '6cbdd244-04e5-44cc-b461-e0981face98f';
const HOST = 'sim';

const STATES = [
  'CS_NEW',
  'CS_INIT',
  'CS_ROUTING',
  'CS_SOFT_EXECUTE',
  'CS_EXECUTE',
  'CS_EXCHANGE_MEDIA',
  'CS_PARK',
  'CS_CONSUME_MEDIA',
  'CS_HIBERNATE',
  'CS_RESET',
  'CS_HANGUP',
  'CS_REPORTING',
  'CS_DESTROY',
  'CS_NONE',
];

export const Q850: Record<string, number> = {
  UNALLOCATED_NUMBER: 1,
  NO_ROUTE_DESTINATION: 3,
  NORMAL_CLEARING: 16,
  USER_BUSY: 17,
  NO_ANSWER: 19,
  CALL_REJECTED: 21,
  DESTINATION_OUT_OF_ORDER: 27,
  INVALID_NUMBER_FORMAT: 28,
  NORMAL_TEMPORARY_FAILURE: 41,
  OUTGOING_CALL_BARRED: 52,
  NORMAL_UNSPECIFIED: 31,
  ALLOTTED_TIMEOUT: 602,
};

let sequence = 1000;

export function nowMicros(): number {
  return Date.now() * 1000;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** The two date strings of the current second, formatted once per second (events come by the thousand). */
let dateCache = { second: -1, local: '', gmt: '' };
function dates(ms: number): { local: string; gmt: string } {
  const second = Math.floor(ms / 1000);
  if (dateCache.second !== second) {
    const d = new Date(ms);
    const local = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
    dateCache = { second, local, gmt: d.toUTCString() };
  }
  return dateCache;
}

export function standardHeaders(name: string, file: string, func: string, line: number): Pairs {
  const ms = Date.now();
  const { local, gmt } = dates(ms);
  return [
    ['Event-Name', name],
    ['Core-UUID', CORE_UUID],
    ['FreeSWITCH-Hostname', HOST],
    ['FreeSWITCH-Switchname', HOST],
    ['FreeSWITCH-IPv4', '127.0.0.1'],
    ['FreeSWITCH-IPv6', '::1'],
    ['Event-Date-Local', local],
    ['Event-Date-GMT', gmt],
    ['Event-Date-Timestamp', String(ms * 1000)],
    ['Event-Calling-File', file],
    ['Event-Calling-Function', func],
    ['Event-Calling-Line-Number', String(line)],
    ['Event-Sequence', String(++sequence)],
  ];
}

export type ChannelInit = {
  to: string;
  context: string;
  callerIdNumber?: string;
  callerIdName?: string;
  hideNumber?: boolean;
  variables?: Record<string, string>;
  uuid?: string;
};

export class SimChannel {
  readonly uuid: string;
  readonly name: string;
  destination: string;
  context: string;
  readonly callerIdNumber: string;
  readonly callerIdName: string;
  readonly hideNumber: boolean;
  readonly vars = new Map<string, string>();
  state = 'CS_INIT';
  stateNumber = 2;
  callState = 'DOWN';
  answerState = 'ringing';
  readonly createdUs = nowMicros();
  answeredUs = 0;
  hangupUs = 0;
  transferUs = 0;
  hangupCause: string | undefined;
  up = true;
  transfer: { ext: string; context: string } | undefined;
  parked = false;
  private downWaiters: Array<() => void> = [];

  constructor(init: ChannelInit) {
    this.uuid = init.uuid ?? randomUUID();
    this.destination = init.to;
    this.context = init.context;
    this.name = `loopback/${init.to}-b`;
    this.callerIdNumber = init.callerIdNumber ?? '0000000000';
    this.callerIdName = init.callerIdName ?? '';
    this.hideNumber = init.hideNumber ?? false;
    this.vars.set('direction', 'inbound');
    this.vars.set('uuid', this.uuid);
    this.vars.set('channel_name', this.name);
    for (const [k, v] of Object.entries(init.variables ?? {})) this.vars.set(k, v);
    this.vars.set('call_uuid', this.uuid);
  }

  setState(state: string): void {
    this.state = state;
    this.stateNumber = STATES.indexOf(state);
  }

  /** Resolves when the channel is down. */
  whenDown(): Promise<void> {
    if (!this.up) return Promise.resolve();
    return new Promise((r) => this.downWaiters.push(r));
  }

  markDown(cause: string): void {
    this.up = false;
    this.hangupCause = cause;
    this.hangupUs = nowMicros();
    this.callState = 'HANGUP';
    this.answerState = 'hangup';
    for (const w of this.downWaiters.splice(0)) w();
  }

  private profile(prefix: string): Pairs {
    const p: Pairs = [
      [`${prefix}-Direction`, 'inbound'],
      [`${prefix}-Logical-Direction`, 'inbound'],
      [`${prefix}-Dialplan`, 'xml'],
      [`${prefix}-Caller-ID-Name`, this.callerIdName],
      [`${prefix}-Caller-ID-Number`, this.callerIdNumber],
      [`${prefix}-Orig-Caller-ID-Name`, this.callerIdName],
      [`${prefix}-Orig-Caller-ID-Number`, this.callerIdNumber],
      [`${prefix}-ANI`, this.callerIdNumber],
      [`${prefix}-Destination-Number`, this.destination],
      [`${prefix}-Unique-ID`, this.uuid],
      [`${prefix}-Source`, 'mod_loopback'],
      [`${prefix}-Context`, this.context],
      [`${prefix}-Channel-Name`, this.name],
      [`${prefix}-Profile-Index`, '1'],
      [`${prefix}-Profile-Created-Time`, String(this.createdUs)],
      [`${prefix}-Channel-Created-Time`, String(this.createdUs)],
      [`${prefix}-Channel-Answered-Time`, String(this.answeredUs)],
      [`${prefix}-Channel-Progress-Time`, '0'],
      [`${prefix}-Channel-Progress-Media-Time`, '0'],
      [`${prefix}-Channel-Hangup-Time`, String(this.hangupUs)],
      [`${prefix}-Channel-Transfer-Time`, String(this.transferUs)],
      [`${prefix}-Channel-Resurrect-Time`, '0'],
      [`${prefix}-Channel-Bridged-Time`, '0'],
      [`${prefix}-Channel-Last-Hold`, '0'],
      [`${prefix}-Channel-Hold-Accum`, '0'],
      [`${prefix}-Screen-Bit`, 'true'],
      [`${prefix}-Privacy-Hide-Name`, String(this.hideNumber)],
      [`${prefix}-Privacy-Hide-Number`, String(this.hideNumber)],
    ];
    // Optional profile fields are left out when empty, as switch_caller_profile_event_set_data does.
    return this.callerIdName === ''
      ? p.filter(([k]) => k !== `${prefix}-Caller-ID-Name` && k !== `${prefix}-Orig-Caller-ID-Name`)
      : p;
  }

  /** switch_channel_event_set_data: channel block, caller profile, then (when asked) variables. */
  data(withVariables: boolean): Pairs {
    const p: Pairs = [
      ['Channel-State', this.state],
      ['Channel-Call-State', this.callState],
      ['Channel-State-Number', String(this.stateNumber)],
      ['Channel-Name', this.name],
      ['Unique-ID', this.uuid],
      ['Call-Direction', 'inbound'],
      ['Presence-Call-Direction', 'inbound'],
      ['Channel-HIT-Dialplan', 'true'],
      ['Channel-Call-UUID', this.uuid],
      ['Answer-State', this.answerState],
    ];
    if (this.hangupCause !== undefined) p.push(['Hangup-Cause', this.hangupCause]);
    p.push(...this.profile('Caller'));
    if (withVariables) for (const [k, v] of this.vars) p.push([`variable_${k}`, v]);
    return p;
  }

  /** The outbound `connect` reply (§A.6): CHANNEL_DATA with the Channel-* profile, then the reply headers last. */
  connectReply(async: boolean, full: boolean): Pairs {
    return [
      ...standardHeaders('CHANNEL_DATA', 'mod_event_socket.c', 'parse_command', 2018),
      ...this.profile('Channel'),
      ...this.data(true),
      ['Content-Type', 'command/reply'],
      ['Reply-Text', '+OK\n'],
      ['Socket-Mode', async ? 'async' : 'static'],
      ['Control', full ? 'full' : 'single-channel'],
    ];
  }
}
