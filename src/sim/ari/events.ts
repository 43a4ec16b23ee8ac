/**
 * ARI event and snapshot builders, with keys in the order a real Asterisk 22.10.1 sends them
 * (src/sim/fixtures/ari-recorded-events.jsonl; ast_channel_snapshot_to_json, app_send, the
 * WebSocket layer adding `application` last).
 */

export const ASTERISK_ID = '02:fc:00:00:00:01';

export type SimChannel = {
  id: string;
  name: string;
  state: string;
  caller: { name: string; number: string };
  connected: { name: string; number: string };
  context: string;
  exten: string;
  priority: number;
  appName: string;
  appData: string;
  creationtime: string;
  vars: Map<string, string>;
  /** Stasis app holding the channel, if any. */
  stasisApp?: string;
  /** Apps subscribed to the channel through applications/{app}/subscription. */
  subscribers: Set<string>;
  destroyed: boolean;
};

/** %FT%T.%q%z in UTC, e.g. 2026-11-29T02:12:35.167+0000. */
export function ariTimestamp(d: Date = new Date()): string {
  return d.toISOString().replace('Z', '+0000');
}

export function snapshot(ch: SimChannel): Record<string, unknown> {
  return {
    id: ch.id,
    name: ch.name,
    state: ch.state,
    protocol_id: '',
    caller: { ...ch.caller },
    connected: { ...ch.connected },
    accountcode: '',
    dialplan: {
      context: ch.context,
      exten: ch.exten,
      priority: ch.priority,
      app_name: ch.appName,
      app_data: ch.appData,
    },
    creationtime: ch.creationtime,
    language: 'en',
  };
}

type Ev = Record<string, unknown>;
const tail = (app: string): Ev => ({ asterisk_id: ASTERISK_ID, application: app });

export const ev = {
  stasisStart: (ch: SimChannel, args: string[], app: string): Ev => ({
    type: 'StasisStart',
    timestamp: ariTimestamp(),
    args,
    channel: snapshot(ch),
    ...tail(app),
  }),
  stasisEnd: (ch: SimChannel, app: string): Ev => ({
    type: 'StasisEnd',
    timestamp: ariTimestamp(),
    channel: snapshot(ch),
    ...tail(app),
  }),
  varset: (ch: SimChannel, variable: string, value: string, app: string): Ev => ({
    variable,
    value,
    type: 'ChannelVarset',
    timestamp: ariTimestamp(),
    channel: snapshot(ch),
    ...tail(app),
  }),
  hangupRequest: (ch: SimChannel, cause: number, soft: boolean, app: string): Ev => ({
    cause,
    ...(soft ? { soft: true } : {}),
    type: 'ChannelHangupRequest',
    timestamp: ariTimestamp(),
    channel: snapshot(ch),
    ...tail(app),
  }),
  destroyed: (ch: SimChannel, cause: number, app: string): Ev => ({
    type: 'ChannelDestroyed',
    timestamp: ariTimestamp(),
    cause,
    cause_txt: CAUSE_TXT[cause] ?? 'Unknown',
    channel: snapshot(ch),
    ...tail(app),
  }),
  stateChange: (ch: SimChannel, app: string): Ev => ({
    type: 'ChannelStateChange',
    timestamp: ariTimestamp(),
    channel: snapshot(ch),
    ...tail(app),
  }),
  dialplan: (ch: SimChannel, app: string): Ev => ({
    type: 'ChannelDialplan',
    timestamp: ariTimestamp(),
    dialplan_app: ch.appName,
    dialplan_app_data: ch.appData,
    channel: snapshot(ch),
    ...tail(app),
  }),
  dial: (caller: SimChannel, peer: SimChannel, dialstring: string, dialstatus: string, app: string): Ev => ({
    type: 'Dial',
    timestamp: ariTimestamp(),
    dialstatus,
    forward: '',
    dialstring,
    caller: snapshot(caller),
    peer: snapshot(peer),
    ...tail(app),
  }),
  appRegistered: (app: string): Ev => ({
    type: 'ApplicationRegistered',
    timestamp: ariTimestamp(),
    application: app,
    asterisk_id: ASTERISK_ID,
  }),
  appReplaced: (app: string): Ev => ({
    type: 'ApplicationReplaced',
    timestamp: ariTimestamp(),
    application: app,
    asterisk_id: ASTERISK_ID,
  }),
};

/** ARI hangup reason → Q.850 cause (res/ari/resource_channels.c convert_reason_to_hangup_code). */
export const REASON_CAUSE: Record<string, number> = {
  normal: 16,
  busy: 17,
  congestion: 34,
  no_answer: 19,
  timeout: 18,
  rejected: 21,
  unallocated: 1,
  normal_unspecified: 31,
  number_incomplete: 28,
  codec_mismatch: 58,
  interworking: 127,
  failure: 38,
  answered_elsewhere: 26,
};

export const CAUSE_TXT: Record<number, string> = {
  1: 'Unallocated (unassigned) number',
  16: 'Normal Clearing',
  17: 'User busy',
  18: 'No user responding',
  19: 'User alerting, no answer',
  21: 'Call Rejected',
  26: 'Answered elsewhere',
  28: 'Invalid number format',
  31: 'Normal, unspecified',
  34: 'Circuit/channel congestion',
  38: 'Network out of order',
  58: 'Bearer capability not available',
  127: 'Interworking, unspecified',
};
