/**
 * A FreeSWITCH Event Socket simulator over real TCP on 127.0.0.1 (transcripts of a real one in src/sim/fixtures/esl/), good enough for
 * the real `esl` 11.2.1 package to run unmodified against it:
 * - inbound (the gate connects, like to port 8021): auth, event json/plain, filters, api, bgapi with
 *   BACKGROUND_JOB, sendmsg, exit; channel events of every simulated call;
 * - outbound: a call runs the loaded XML dialplan (the shipped callgate.xml, verbatim); its `socket`
 *   app connects to the gate, answers `connect` with the URL-encoded CHANNEL_DATA, honours sendmsg
 *   execute/hangup (CHANNEL_EXECUTE_COMPLETE carries the sendmsg's Event-UUID as Application-UUID),
 *   runs queued commands on 20 ms park ticks in async mode and at once in synchronous mode, and
 *   continues the dialplan when the socket closes;
 * - failure injection: refused connections (nothing listening), connections cut mid-call, -ERR
 *   replies, slow replies.
 */
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { SimChannel, standardHeaders, Q850, nowMicros, type ChannelInit } from './channel';
import { hunt, type Dialplan } from './dialplan';
import {
  AUTH_REQUEST,
  CommandParser,
  apiResponse,
  commandReply,
  disconnectNotice,
  eventFrame,
  serializePlain,
  type Command,
  type Pairs,
} from './framing';

export type Callee = { answerAfterMs?: number; talkMs?: number; failCause?: string };

export type Injection = {
  /** Reply `reply` instead of executing a command whose line matches. */
  errReply?: Array<{ match: RegExp; reply: string }>;
  /** Delay the reply to commands whose line matches. */
  delay?: Array<{ match: RegExp; ms: number }>;
  /** Cut (destroy) an outbound socket when a command whose line or call-command matches arrives. */
  cutOutboundOn?: RegExp;
};

export type SimOptions = {
  dialplan: Dialplan;
  password?: string;
  /** Park loop tick in async socket mode (FreeSWITCH: 20 ms). */
  parkTickMs?: number;
  /** How long the socket app waits for `connect` (FreeSWITCH: 25 s). */
  connectWaitMs?: number;
  callee?: (destination: string) => Callee;
  inject?: Injection;
  /** Called with every finished call's record (also when trace is off): the dialer mode's calls end here. */
  onCallEnd?: (r: CallRecord) => void;
  /**
   * Keep every connection's bytes (SocketTrace.received/written, inboundLog) and every finished call in
   * `records` (default true, for tests). A long benchmark turns it off: the calls' records are still
   * returned by placeCall().done, but nothing accumulates.
   */
  trace?: boolean;
};

export type AppRun = { app: string; data: string; uuid: string; via: 'dialplan' | 'sendmsg'; response?: string };

export type SocketTrace = {
  connectedAt: number;
  /** performance.now() when the release command (transfer or hangup) arrived from the app. */
  releaseAt?: number;
  /** performance.now() when the app's `connect` arrived (the gate accepted and read the connection). */
  connectCommandAt?: number;
  /** performance.now() when the app's first `sendmsg` arrived (set-up round trips and decision done). */
  firstSendmsgAt?: number;
  received: Command[];
  written: Buffer[];
  mode: 'async' | 'static';
};

export type CallRecord = {
  uuid: string;
  to: string;
  hangupCause: string;
  answered: boolean;
  /** Contexts the call was transferred to, in order. */
  transfers: Array<{ ext: string; context: string }>;
  vars: Record<string, string>;
  apps: AppRun[];
  sockets: SocketTrace[];
};

/**
 * An event about to be delivered. Its headers are built only if some connection wants it (FreeSWITCH
 * builds every event, but a simulator that serializes ~2.5 KB of channel data 30 times per call for
 * nobody spends its CPU on nothing). `known` gives the values of some headers without building them
 * (lower-cased name → value, undefined = the event has no such header), for the filters.
 */
type SimEvent = { name: string; headers: () => Pairs; body?: string; known?: Map<string, string | undefined> };

type Filter = { header: string; value: string; negative: boolean; re?: RegExp };

/** Filter match as mod_event_socket does it: `/regex/` values are regular expressions, others compare case-insensitively. */
function compileFilter(header: string, value: string, negative: boolean): Filter {
  const f: Filter = { header: header.toLowerCase(), value, negative };
  if (value.startsWith('/'))
    f.re = new RegExp(value.replace(/^\/(.*)\/([is]*)$/, '$1'), /\/[is]*i[is]*$/.test(value) ? 'i' : '');
  return f;
}

/** The event types `myevents` turns on (mod_event_socket's parse_command). */
const MY_EVENTS =
  'CHANNEL_ANSWER CHANNEL_APPLICATION CHANNEL_BRIDGE CHANNEL_CREATE CHANNEL_DATA CHANNEL_DESTROY CHANNEL_EXECUTE CHANNEL_EXECUTE_COMPLETE CHANNEL_HANGUP CHANNEL_HANGUP_COMPLETE CHANNEL_ORIGINATE CHANNEL_UUID CHANNEL_OUTGOING CHANNEL_PARK CHANNEL_PROGRESS CHANNEL_PROGRESS_MEDIA CHANNEL_STATE CHANNEL_UNBRIDGE CHANNEL_UNPARK DETECTED_SPEECH DTMF NOTALK TALK'.split(
    ' ',
  );

const KNOWN_EVENTS = new Set(
  'CUSTOM CLONE CHANNEL_CREATE CHANNEL_DESTROY CHANNEL_STATE CHANNEL_CALLSTATE CHANNEL_ANSWER CHANNEL_HANGUP CHANNEL_HANGUP_COMPLETE CHANNEL_EXECUTE CHANNEL_EXECUTE_COMPLETE CHANNEL_HOLD CHANNEL_UNHOLD CHANNEL_BRIDGE CHANNEL_UNBRIDGE CHANNEL_PROGRESS CHANNEL_PROGRESS_MEDIA CHANNEL_OUTGOING CHANNEL_PARK CHANNEL_UNPARK CHANNEL_APPLICATION CHANNEL_ORIGINATE CHANNEL_UUID CHANNEL_DATA API LOG HEARTBEAT BACKGROUND_JOB DTMF MESSAGE ALL'.split(
    ' ',
  ),
);
for (const n of MY_EVENTS) KNOWN_EVENTS.add(n);

class Session {
  authed: boolean;
  format: 'json' | 'plain' | 'xml' = 'plain';
  /** Event types this connection receives (`event … ALL` turns every one on; `nixevent` turns some off). */
  events = new Set<string>();
  /** LFLAG_EVENTS: an `event` command succeeded since the last `noevents`. */
  listening = false;
  /** `myevents` already given. */
  myevents = false;
  filters: Filter[] = [];
  linger = false;
  closed = false;
  readonly written: Buffer[] = [];
  readonly received: Command[] = [];
  /** Keep the bytes in written/received (SimOptions.trace). */
  trace = true;
  /** Outbound only. */
  channel: SimChannel | undefined;
  async = false;
  full = true;
  connected = false;
  queue: Array<() => Promise<void>> = [];
  onConnected: () => void = () => undefined;

  constructor(
    readonly socket: net.Socket,
    readonly outbound: boolean,
  ) {
    this.authed = outbound;
  }

  write(s: string): void {
    if (this.closed || this.socket.destroyed) return;
    if (this.trace) {
      const b = Buffer.from(s, 'utf8');
      this.written.push(b);
      this.socket.write(b);
    } else this.socket.write(s, 'utf8');
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.end();
  }

  wants(e: SimEvent, header: (lowerName: string) => string | undefined): boolean {
    if (this.closed || !this.events.has(e.name)) return false;
    if (this.filters.length === 0) return true;
    let pass = false;
    for (const f of this.filters) {
      const v = header(f.header);
      if (v === undefined) continue;
      const m =
        f.re !== undefined ? f.re.test(v) : v.length === f.value.length && v.toLowerCase() === f.value.toLowerCase();
      if (m && f.negative) return false;
      if (m) pass = true;
    }
    return pass;
  }
}

export class EslSimulator {
  private inbound: net.Server | undefined;
  private readonly sessions = new Set<Session>();
  private readonly channels = new Map<string, SimChannel>();
  private readonly sched = new Map<string, NodeJS.Timeout[]>();
  /** Outbound session controlling each channel (uuid → session), as the channel's CF_CONTROLLED listener. */
  private readonly controllers = new Map<string, Session>();
  private sessionsSinceStartup = 0;
  readonly records: CallRecord[] = [];
  /** Every inbound connection's traffic, in accept order. */
  readonly inboundLog: Array<{ received: Command[]; written: Buffer[] }> = [];
  readonly opts: Required<Omit<SimOptions, 'inject' | 'callee' | 'onCallEnd'>> &
    Pick<SimOptions, 'inject' | 'callee' | 'onCallEnd'>;

  constructor(opts: SimOptions) {
    this.opts = { password: 'ClueCon', parkTickMs: 20, connectWaitMs: 25_000, trace: true, ...opts };
  }

  // ───────────────────────── inbound listener ─────────────────────────

  async listenInbound(port = 0): Promise<number> {
    const server = net.createServer((socket) => this.acceptInbound(socket));
    this.inbound = server;
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    this.inboundPort = (server.address() as net.AddressInfo).port;
    return this.inboundPort;
  }

  /** The port of the inbound listener (kept across closeInbound, for a restart). */
  inboundPort: number | undefined;

  /**
   * A FreeSWITCH restart: every Event Socket connection is cut and the port refused, every channel
   * ends without anyone receiving its events, and after `downMs` the same port accepts connections
   * again (a real one takes ~1.6 s). Resolves once it listens again.
   */
  async restart(downMs: number): Promise<void> {
    const port = this.inboundPort;
    await this.closeInbound();
    for (const s of this.sessions) s.socket.destroy();
    for (const ch of [...this.channels.values()]) this.hangup(ch, 'NORMAL_CLEARING');
    await new Promise((r) => setTimeout(r, downMs));
    await this.listenInbound(port);
  }

  /** Stop listening and cut every inbound connection (later connects are refused). */
  async closeInbound(): Promise<void> {
    this.dropInboundConnections();
    const s = this.inbound;
    this.inbound = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }

  /** Cut the inbound connections (a FIN), keep listening. */
  dropInboundConnections(): void {
    for (const s of this.sessions) if (!s.outbound) s.socket.destroy();
  }

  inboundSessionCount(): number {
    return [...this.sessions].filter((s) => !s.outbound && s.authed && !s.closed && !s.socket.destroyed).length;
  }

  async close(): Promise<void> {
    for (const timers of this.sched.values()) timers.forEach(clearTimeout);
    for (const s of this.sessions) s.socket.destroy();
    await this.closeInbound();
  }

  private acceptInbound(socket: net.Socket): void {
    const session = new Session(socket, false);
    session.trace = this.opts.trace;
    this.sessions.add(session);
    if (this.opts.trace) this.inboundLog.push({ received: session.received, written: session.written });
    socket.on('close', () => {
      session.closed = true;
      this.sessions.delete(session);
    });
    socket.on('error', () => undefined);
    this.readCommands(session);
    session.write(AUTH_REQUEST);
  }

  /**
   * FreeSWITCH's listener thread reads a connection's commands one at a time and answers each before it
   * reads the next (a synchronous `sendmsg` answers once its app has run, a blocking `api` once it
   * returns): commands that arrive together (pipelined) are handled in order, never concurrently.
   * What the handling of one TCP read writes back leaves in one write (cork until the next turn of
   * the event loop), as FreeSWITCH's buffered socket writes mostly do.
   */
  private readCommands(s: Session): void {
    let chain: Promise<void> = Promise.resolve();
    const parser = new CommandParser((c) => {
      chain = chain.then(() => this.onCommand(s, c)).catch(() => undefined);
    });
    s.socket.on('data', (d: Buffer) => {
      s.socket.cork();
      parser.push(d);
      setImmediate(() => s.socket.uncork());
    });
  }

  // ───────────────────────── events ─────────────────────────

  /** Delivers an event to every connection subscribed to it whose filters pass; each format serialized once. */
  private fire(e: SimEvent): void {
    let headers: Pairs | undefined;
    let idx: Map<string, string> | undefined;
    const header = (name: string): string | undefined => {
      if (e.known?.has(name)) return e.known.get(name);
      headers ??= e.headers();
      idx ??= new Map(headers.map(([k, v]) => [k.toLowerCase(), v]));
      return idx.get(name);
    };
    const frames: Partial<Record<'json' | 'plain' | 'xml', string>> = {};
    for (const s of this.sessions) {
      if (!s.wants(e, header)) continue;
      headers ??= e.headers();
      s.write((frames[s.format] ??= eventFrame(s.format, headers, e.body)));
    }
  }

  private channelEvent(name: string, ch: SimChannel, extra: Pairs = [], withVars = true, before: Pairs = []): void {
    this.fire({
      name,
      headers: () => [
        ...standardHeaders(name, 'switch_channel.c', 'switch_channel_event', 1),
        ...before,
        ...ch.data(withVars),
        ...extra,
      ],
      known: channelKnown(ch, before, extra),
    });
  }

  // ───────────────────────── commands ─────────────────────────

  private async onCommand(s: Session, c: Command): Promise<void> {
    if (s.trace) s.received.push(c);
    const inj = this.opts.inject;
    const callCommand = c.headers.get('call-command') ?? '';
    if (
      s.outbound &&
      inj?.cutOutboundOn &&
      (inj.cutOutboundOn.test(c.line) ||
        inj.cutOutboundOn.test(`${callCommand} ${c.headers.get('execute-app-name') ?? ''}`))
    ) {
      s.socket.destroy();
      return;
    }
    const delay = inj?.delay?.find((d) => d.match.test(c.line));
    if (delay) await new Promise((r) => setTimeout(r, delay.ms));
    const err = inj?.errReply?.find((d) => d.match.test(c.line));
    if (err && s.authed) return s.write(commandReply(err.reply));
    const [cmd = '', ...rest] = c.line.split(' ');
    const arg = rest.join(' ');

    if (!s.authed) {
      if (cmd === 'auth') {
        if (arg === this.opts.password) {
          s.authed = true;
          return s.write(commandReply('+OK accepted'));
        }
        s.write(commandReply('-ERR invalid'));
        s.write(disconnectNotice());
        return s.close();
      }
      if (cmd === 'exit') return this.exit(s);
      return s.write(commandReply('-ERR command not found'));
    }
    if (s.outbound && !s.connected) {
      // The first command of an outbound session gets a reply only when it is `connect`.
      s.connected = true;
      const trace = this.traces.get(s);
      if (trace) trace.connectCommandAt = performance.now();
      s.onConnected();
      if (cmd === 'connect') return s.write(serializeConnect(s));
    }
    const fullOnly = [
      'event',
      'nixevent',
      'noevents',
      'api',
      'bgapi',
      'log',
      'nolog',
      'linger',
      'nolinger',
      'sendevent',
    ];
    if (s.outbound && !s.full && fullOnly.includes(cmd)) return s.write(commandReply('-ERR command not found'));

    switch (cmd) {
      case 'event': {
        // The format word switches the format even when no event name follows (then -ERR).
        const [fmt = 'plain', ...names] = rest;
        s.format = fmt === 'json' || fmt === 'xml' ? fmt : 'plain';
        const ok = names.filter((n) => KNOWN_EVENTS.has(n));
        if (ok.length === 0) return s.write(commandReply('-ERR no keywords supplied'));
        for (const n of ok) {
          if (n === 'ALL') for (const k of KNOWN_EVENTS) s.events.add(k);
          else s.events.add(n);
        }
        s.events.delete('ALL');
        s.listening = true;
        return s.write(commandReply(`+OK event listener enabled ${s.format}`));
      }
      case 'nixevent': {
        const names = rest.filter(Boolean);
        for (const n of names) {
          if (n === 'ALL') s.events.clear();
          else s.events.delete(n);
        }
        return s.write(commandReply(names.length ? '+OK events nixed' : '-ERR no keywords supplied'));
      }
      case 'noevents':
        // Turns every event type off; filters stay (mod_event_socket wipes only the event list).
        if (!s.listening) return s.write(commandReply('-ERR not listening for events'));
        s.listening = false;
        s.events.clear();
        return s.write(commandReply('+OK no longer listening for events'));
      case 'filter': {
        if (rest[0] === 'delete') {
          const [, header = '', value = ''] = rest;
          s.filters =
            header === 'all'
              ? []
              : s.filters.filter((f) => !(f.header === header.toLowerCase() && (value === '' || f.value === value)));
          return s.write(commandReply(`+OK filter deleted. [${header}]=[${value}]`));
        }
        const words = rest[0] === 'add' ? rest.slice(1) : rest;
        const [header = '', ...vs] = words;
        const raw = vs.join(' ');
        if (raw === '') return s.write(commandReply('-ERR invalid syntax'));
        const negative = raw.startsWith('-');
        s.filters.push(compileFilter(header, raw.replace(/^[+\- ]+/, ''), negative));
        return s.write(commandReply(`+OK filter added. [${header}]=[${raw}]`));
      }
      case 'myevents': {
        // Outbound: the controlled channel; inbound: `myevents <uuid> [plain|json|xml]`.
        if (s.myevents) return s.write(commandReply('-ERR aready enabled.'));
        const words = rest.filter(Boolean);
        let uuid = s.channel?.uuid;
        let fmt = words[0];
        if (!s.outbound) {
          uuid = words[0];
          fmt = words[1];
          if (uuid === undefined || (!this.channels.has(uuid) && fmt !== undefined))
            return s.write(commandReply('-ERR invalid uuid'));
        }
        if (uuid === undefined) return s.write(commandReply('-ERR invalid uuid'));
        s.myevents = true;
        s.filters.push(compileFilter('Unique-ID', uuid, false));
        s.filters.push(compileFilter('Job-Owner-UUID', uuid, false));
        for (const n of MY_EVENTS) s.events.add(n);
        s.listening = true;
        if (fmt === 'json' || fmt === 'xml' || fmt === 'plain') s.format = fmt;
        return s.write(commandReply('+OK Events Enabled'));
      }
      case 'linger':
        if (!s.outbound) return s.write(commandReply('-ERR not controlling a session'));
        s.linger = true;
        return s.write(commandReply(arg ? `+OK will linger ${arg} seconds` : '+OK will linger'));
      case 'nolinger':
        s.linger = false;
        return s.write(commandReply('+OK will not linger'));
      case 'resume':
        s.channel?.vars.set('socket_resume', 'true');
        return s.write(commandReply('+OK'));
      case 'getvar': {
        const v = s.channel?.vars.get(arg);
        return s.write(commandReply(v === undefined || v === '' ? '-ERR command not found' : v));
      }
      case 'log':
        return s.write(commandReply(`+OK log level ${arg || 'debug'} [7]`));
      case 'nolog':
        return s.write(commandReply('+OK no longer logging'));
      case 'api': {
        const body = await this.api(arg);
        return s.write(apiResponse(body));
      }
      case 'bgapi': {
        const job = c.headers.get('job-uuid') ?? randomUUID();
        s.write(commandReply(`+OK Job-UUID: ${job}`, [['Job-UUID', job]]));
        const [jobCmd = '', ...jobArgs] = arg.split(' ');
        const owner = s.channel?.uuid ?? '';
        void this.api(arg).then((body) => {
          const headers: Pairs = [
            ...standardHeaders('BACKGROUND_JOB', 'mod_event_socket.c', 'api_exec', 1569),
            ['Job-UUID', job],
          ];
          // FreeSWITCH 1.11.1 leaves Job-Owner-UUID out on an inbound connection (recorded sample 07).
          if (owner !== '') headers.push(['Job-Owner-UUID', owner]);
          headers.push(['Job-Command', jobCmd]);
          if (jobArgs.length) headers.push(['Job-Command-Arg', jobArgs.join(' ')]);
          this.fire({ name: 'BACKGROUND_JOB', headers: () => headers, body });
        });
        return;
      }
      case 'sendmsg':
        return this.sendmsg(s, c, arg);
      case 'exit':
      case '...':
        return this.exit(s);
      default:
        return s.write(commandReply('-ERR command not found'));
    }
  }

  private exit(s: Session): void {
    s.write(commandReply('+OK bye'));
    s.write(s.outbound && s.channel ? disconnectNotice(s.channel.uuid, 'disconnect') : disconnectNotice());
    s.close();
  }

  private async sendmsg(s: Session, c: Command, arg: string): Promise<void> {
    const target = arg || c.headers.get('session-id') || s.channel?.uuid || '';
    const ch = this.channels.get(target);
    if (!ch) return s.write(commandReply(`-ERR invalid session id [${target}]`));
    const command = c.headers.get('call-command') ?? '';
    const eventUuid = c.headers.get('event-uuid') ?? randomUUID();
    const isRelease =
      command === 'hangup' || (command === 'execute' && c.headers.get('execute-app-name') === 'transfer');
    const trace = s.outbound ? this.traces.get(s) : undefined;
    if (trace && trace.firstSendmsgAt === undefined) trace.firstSendmsgAt = performance.now();
    if (isRelease && trace && trace.releaseAt === undefined) trace.releaseAt = performance.now();
    const run = async (): Promise<void> => {
      if (command === 'execute') {
        const app = c.headers.get('execute-app-name') ?? '';
        const data = c.headers.get('execute-app-arg') || (c.headers.get('content-type') === 'text/plain' ? c.body : '');
        const loops = Number(c.headers.get('loops') ?? '1');
        for (let i = 0; i < loops && ch.up; i++) await this.exec(ch, app, data, eventUuid, 'sendmsg');
      } else if (command === 'hangup') {
        this.hangup(ch, c.headers.get('hangup-cause') || 'NORMAL_CLEARING');
      }
    };
    const controlling = this.controllers.get(ch.uuid);
    if (controlling?.async && ch.parked) {
      controlling.queue.push(run);
      return s.write(commandReply('+OK'));
    }
    // Synchronous socket (and a channel not parked): the message runs before the reply.
    await run();
    s.write(commandReply('+OK'));
  }

  private readonly traces = new WeakMap<Session, SocketTrace>();

  // ───────────────────────── api ─────────────────────────

  private async api(line: string): Promise<string> {
    const [cmd = '', ...args] = line.split(' ');
    switch (cmd) {
      case 'status':
        return `UP 0 years, 0 days\nFreeSWITCH (Version 1.11.1-release  64bit) is ready\n${this.sessionsSinceStartup} session(s) since startup\n`;
      case 'version':
        return 'FreeSWITCH Version 1.11.1-release~64bit ( 64bit)\n';
      case 'uuid_kill': {
        const ch = this.channels.get(args[0] ?? '');
        if (!ch) return '-ERR No such channel!\n';
        this.hangup(ch, args[1] ?? 'NORMAL_CLEARING');
        return '+OK\n';
      }
      case 'uuid_exists':
        return this.channels.has(args[0] ?? '') ? 'true' : 'false';
      case 'uuid_getvar': {
        const ch = this.channels.get(args[0] ?? '');
        if (!ch) return '-ERR No such channel!\n';
        return ch.vars.get(args[1] ?? '') ?? '_undef_';
      }
      case 'originate':
        return this.originate(args.join(' '));
      default:
        return `-ERR ${cmd} Command not found!\n`;
    }
  }

  /** `originate {vars}loopback/NUMBER/CONTEXT &park`: runs the gated dialplan; +OK once answered. */
  private async originate(arg: string): Promise<string> {
    const m = /^(?:\{([^}]*)\})?loopback\/([^/\s]+)\/(\S+)/.exec(arg);
    if (!m) return '-USAGE: <call url> <exten>|&<application_name>(<app_args>)\n';
    const variables: Record<string, string> = {};
    for (const kv of (m[1] ?? '').split(',').filter(Boolean)) {
      const i = kv.indexOf('=');
      variables[kv.slice(0, i)] = kv.slice(i + 1).replace(/^'(.*)'$/, '$1');
    }
    const call = this.placeCall({
      ...(variables['origination_uuid'] ? { uuid: variables['origination_uuid'] } : {}),
      to: m[2] as string,
      context: m[3] as string,
      callerIdNumber: variables['origination_caller_id_number'],
      callerIdName: variables['origination_caller_id_name'],
      variables,
    });
    const answeredOrDown = await Promise.race([
      call.answered.then(() => 'answered' as const),
      call.done.then(() => 'down' as const),
    ]);
    if (answeredOrDown === 'answered') return `+OK ${call.uuid}\n`;
    const r = await call.done;
    return `-ERR ${r.hangupCause}\n`;
  }

  // ───────────────────────── calls ─────────────────────────

  /** A new channel entering `context` (like a loopback leg or a phone's call), running the dialplan. */
  placeCall(init: ChannelInit): { uuid: string; done: Promise<CallRecord>; answered: Promise<void> } {
    const ch = new SimChannel(init);
    this.channels.set(ch.uuid, ch);
    const record: CallRecord = {
      uuid: ch.uuid,
      to: init.to,
      hangupCause: '',
      answered: false,
      transfers: [],
      vars: {},
      apps: [],
      sockets: [],
    };
    this.recordsByUuid.set(ch.uuid, record);
    let answered!: () => void;
    const answeredP = new Promise<void>((r) => (answered = r));
    this.answerWaiters.set(ch.uuid, answered);
    const done = this.run(ch, record);
    return { uuid: ch.uuid, done, answered: answeredP };
  }

  private readonly recordsByUuid = new Map<string, CallRecord>();
  private readonly answerWaiters = new Map<string, () => void>();

  private async run(ch: SimChannel, record: CallRecord): Promise<CallRecord> {
    this.channelEvent('CHANNEL_CREATE', ch);
    ch.setState('CS_ROUTING');
    let actions = hunt(this.opts.dialplan, ch.context, ch.destination, (n) => ch.vars.get(n));
    let i = 0;
    ch.setState('CS_EXECUTE');
    if (!actions) this.hangup(ch, 'NO_ROUTE_DESTINATION');
    while (ch.up && actions) {
      if (i >= actions.length) {
        // "executed the last dialplan instruction, hanging up"
        this.hangup(ch, 'NORMAL_CLEARING');
        break;
      }
      const a = actions[i++] as { application: string; data: string };
      await this.exec(ch, a.application, this.expand(ch, a.data), randomUUID(), 'dialplan');
      if (ch.transfer && ch.up) {
        const t = ch.transfer;
        ch.transfer = undefined;
        record.transfers.push(t);
        ch.destination = t.ext;
        ch.context = t.context;
        actions = hunt(this.opts.dialplan, t.context, t.ext, (n) => ch.vars.get(n));
        i = 0;
        if (!actions) this.hangup(ch, 'NO_ROUTE_DESTINATION');
      }
    }
    await ch.whenDown();
    // Reporting: HANGUP_COMPLETE carries Hangup-Cause twice (before and inside the channel data).
    ch.setState('CS_REPORTING');
    const billmsec = ch.answeredUs ? Math.round((ch.hangupUs - ch.answeredUs) / 1000) : 0;
    ch.vars.set('billmsec', String(billmsec));
    ch.vars.set('billsec', String(Math.floor(billmsec / 1000)));
    ch.vars.set('duration', String(Math.floor((ch.hangupUs - ch.createdUs) / 1e6)));
    const cause: Pairs = [['Hangup-Cause', ch.hangupCause ?? '']];
    this.fire({
      name: 'CHANNEL_HANGUP_COMPLETE',
      headers: () => [
        ...standardHeaders(
          'CHANNEL_HANGUP_COMPLETE',
          'switch_core_state_machine.c',
          'switch_core_session_reporting_state',
          1,
        ),
        ...cause,
        ...ch.data(true),
      ],
      known: channelKnown(ch, cause, []),
    });
    const controller = this.controllers.get(ch.uuid);
    if (controller && !controller.closed) {
      controller.write(disconnectNotice(ch.uuid, 'disconnect'));
      controller.close();
    }
    ch.setState('CS_DESTROY');
    this.channelEvent('CHANNEL_DESTROY', ch);
    this.channels.delete(ch.uuid);
    this.answerWaiters.delete(ch.uuid);
    for (const t of this.sched.get(ch.uuid) ?? []) clearTimeout(t);
    this.sched.delete(ch.uuid);
    record.hangupCause = ch.hangupCause ?? '';
    record.answered = ch.answeredUs !== 0;
    record.vars = Object.fromEntries(ch.vars);
    this.recordsByUuid.delete(ch.uuid);
    this.sessionsSinceStartup++;
    if (this.opts.trace) this.records.push(record);
    this.opts.onCallEnd?.(record);
    return record;
  }

  private expand(ch: SimChannel, data: string): string {
    return data.replace(/\$\{([^}]+)\}/g, (_, n: string) => ch.vars.get(n) ?? '');
  }

  hangup(ch: SimChannel, cause: string): void {
    if (!ch.up) return;
    const name = /^\d+$/.test(cause)
      ? (Object.entries(Q850).find(([, n]) => String(n) === cause)?.[0] ?? 'NORMAL_UNSPECIFIED')
      : cause;
    ch.setState('CS_HANGUP');
    ch.markDown(name);
    ch.vars.set('hangup_cause', name);
    ch.vars.set('hangup_cause_q850', String(Q850[name] ?? 31));
    this.channelEvent('CHANNEL_HANGUP', ch);
    if (ch.parked) {
      ch.parked = false;
      this.channelEvent('CHANNEL_UNPARK', ch);
    }
  }

  private answer(ch: SimChannel): void {
    if (!ch.up || ch.answeredUs) return;
    ch.answeredUs = nowMicros();
    ch.callState = 'ACTIVE';
    ch.answerState = 'answered';
    ch.vars.set('answer_epoch', String(Math.floor(ch.answeredUs / 1e6)));
    this.channelEvent('CHANNEL_ANSWER', ch);
    this.answerWaiters.get(ch.uuid)?.();
  }

  /** Runs one application with CHANNEL_EXECUTE / CHANNEL_EXECUTE_COMPLETE around it. */
  private async exec(
    ch: SimChannel,
    app: string,
    data: string,
    appUuid: string,
    via: 'dialplan' | 'sendmsg',
  ): Promise<void> {
    const record = this.recordsByUuid.get(ch.uuid);
    const run: AppRun = { app, data, uuid: appUuid, via };
    record?.apps.push(run);
    ch.vars.set('current_application', app);
    ch.vars.set('current_application_data', data);
    const appHeaders: Pairs = [
      ['Application', app],
      ['Application-Data', data],
    ];
    this.channelEvent('CHANNEL_EXECUTE', ch, [...appHeaders, ['Application-UUID', appUuid]]);
    const response = await this.runApp(ch, app, data, record);
    run.response = response;
    this.channelEvent('CHANNEL_EXECUTE_COMPLETE', ch, [
      ...appHeaders,
      ['Application-Response', response],
      ['Application-UUID', appUuid],
    ]);
  }

  private async runApp(ch: SimChannel, app: string, data: string, record: CallRecord | undefined): Promise<string> {
    switch (app) {
      case 'set':
      case 'export': {
        const i = data.indexOf('=');
        if (i < 0) return '_none_';
        const [k, v] = [data.slice(0, i), data.slice(i + 1)];
        if (v === '') ch.vars.delete(k);
        else ch.vars.set(k, v);
        return '_none_';
      }
      case 'sched_hangup': {
        const m = /^\+?(\d+)\s*(\S+)?/.exec(data);
        if (!m) return '_none_';
        // FreeSWITCH's scheduler counts whole seconds (runtime = now in seconds + N, checked each
        // second): `+N` fires between N - 1 and N seconds after it is set, as seen on FreeSWITCH 1.11.
        const now = Date.now();
        const t = setTimeout(
          () => this.hangup(ch, m[2] ?? 'ALLOTTED_TIMEOUT'),
          (Math.floor(now / 1000) + Number(m[1])) * 1000 - now,
        );
        this.sched.set(ch.uuid, [...(this.sched.get(ch.uuid) ?? []), t]);
        return '_none_';
      }
      case 'sched_cancel': {
        const group = data || ch.uuid;
        for (const t of this.sched.get(group) ?? []) clearTimeout(t);
        this.sched.delete(group);
        return '_none_';
      }
      case 'hangup':
        this.hangup(ch, data || 'NORMAL_CLEARING');
        return '_none_';
      case 'answer':
        this.answer(ch);
        return '_none_';
      case 'transfer': {
        const [ext = '', , context = ch.context] = data.split(/\s+/);
        ch.transfer = { ext, context };
        ch.transferUs = nowMicros();
        return '_none_';
      }
      case 'bridge':
        return this.bridge(ch, data);
      case 'park':
        await ch.whenDown();
        return '_none_';
      case 'socket':
        await this.socketApp(ch, data, record);
        return '_none_';
      case 'log':
        return '_none_';
      default:
        return '_none_';
    }
  }

  private async bridge(ch: SimChannel, data: string): Promise<string> {
    const number = data.split('/').pop() ?? '';
    const callee = this.opts.callee?.(number) ?? { answerAfterMs: 0, talkMs: 0 };
    if (callee.failCause) {
      ch.vars.set('DIALSTATUS', callee.failCause);
      ch.vars.set('originate_disposition', callee.failCause);
      this.hangup(ch, callee.failCause);
      return '_none_';
    }
    await Promise.race([new Promise((r) => setTimeout(r, callee.answerAfterMs ?? 0)), ch.whenDown()]);
    if (!ch.up) return '_none_';
    ch.vars.set('DIALSTATUS', 'SUCCESS');
    ch.vars.set('originate_disposition', 'SUCCESS');
    this.answer(ch);
    await Promise.race([new Promise((r) => setTimeout(r, callee.talkMs ?? 0)), ch.whenDown()]);
    this.hangup(ch, 'NORMAL_CLEARING');
    return '_none_';
  }

  /** The `socket` app: host[:port][|host2…] [async] [full]. Returns when the session ends. */
  private async socketApp(ch: SimChannel, data: string, record: CallRecord | undefined): Promise<void> {
    const words = data.split(/\s+/);
    const async = words.includes('async');
    const full = words.includes('full');
    let socket: net.Socket | undefined;
    let connectedAt = 0;
    for (const hp of (words[0] ?? '').split('|')) {
      const [host = '127.0.0.1', port = '8084'] = hp.split(':');
      socket = await new Promise<net.Socket | undefined>((resolve) => {
        const sock = net.connect({ host, port: Number(port) });
        sock.once('connect', () => {
          connectedAt = performance.now();
          resolve(sock);
        });
        sock.once('error', () => resolve(undefined));
      });
      if (socket) break;
    }
    if (!socket) return; // "Socket Error!": the dialplan goes on with the next action.
    socket.setNoDelay(true);
    const s = new Session(socket, true);
    s.trace = this.opts.trace;
    s.channel = ch;
    s.async = async;
    s.full = full;
    const trace: SocketTrace = {
      connectedAt,
      received: s.received,
      written: s.written,
      mode: async ? 'async' : 'static',
    };
    this.traces.set(s, trace);
    record?.sockets.push(trace);
    this.sessions.add(s);
    this.controllers.set(ch.uuid, s);
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('close', () => {
      s.closed = true;
      this.sessions.delete(s);
      if (this.controllers.get(ch.uuid) === s) this.controllers.delete(ch.uuid);
    });
    socket.on('error', () => undefined);
    this.readCommands(s);

    // Wait for `connect` (FreeSWITCH: 25 s), then, in async mode, park and run the queue on ticks.
    let waitTimer: NodeJS.Timeout | undefined;
    const gotConnect = await Promise.race([
      new Promise<boolean>((resolve) => {
        s.onConnected = () => resolve(true);
        void closed.then(() => resolve(s.connected));
      }),
      new Promise<boolean>((resolve) => (waitTimer = setTimeout(() => resolve(false), this.opts.connectWaitMs))),
    ]);
    clearTimeout(waitTimer);
    if (!gotConnect) {
      socket.destroy();
      return;
    }
    if (async) {
      ch.parked = true;
      const parkTimeout = ch.vars.get('park_timeout');
      ch.vars.delete('park_timeout');
      this.channelEvent('CHANNEL_PARK', ch);
      let parkTimer: NodeJS.Timeout | undefined;
      if (parkTimeout) {
        const [secs = '0', cause = 'ALLOTTED_TIMEOUT'] = parkTimeout.split(':');
        // whole seconds, as sched_hangup: between N - 1 and N seconds
        const now = Date.now();
        parkTimer = setTimeout(() => this.hangup(ch, cause), (Math.floor(now / 1000) + Number(secs)) * 1000 - now);
      }
      const tick = setInterval(() => void this.drain(s), this.opts.parkTickMs);
      await Promise.race([closed, ch.whenDown()]);
      clearInterval(tick);
      if (parkTimer) clearTimeout(parkTimer);
      // Messages still queued when the socket closes run before the app returns.
      await this.drain(s);
      if (ch.parked && ch.up) {
        ch.parked = false;
        this.channelEvent('CHANNEL_UNPARK', ch);
      }
    } else {
      await Promise.race([closed, ch.whenDown()]);
    }
  }

  private draining = new WeakSet<Session>();
  private async drain(s: Session): Promise<void> {
    if (this.draining.has(s)) return;
    this.draining.add(s);
    try {
      while (s.queue.length) await (s.queue.shift() as () => Promise<void>)();
    } finally {
      this.draining.delete(s);
    }
  }
}

/** Headers of a channel event known without building it: its Unique-ID, and no Job-Owner-UUID. */
function channelKnown(ch: SimChannel, before: Pairs, extra: Pairs): Map<string, string | undefined> | undefined {
  for (const [k] of before) if (/^(unique-id|job-owner-uuid)$/i.test(k)) return undefined;
  for (const [k] of extra) if (/^(unique-id|job-owner-uuid)$/i.test(k)) return undefined;
  return new Map<string, string | undefined>([
    ['unique-id', ch.uuid],
    ['job-owner-uuid', undefined],
  ]);
}

function serializeConnect(s: Session): string {
  return serializePlain((s.channel as SimChannel).connectReply(s.async, s.full));
}
