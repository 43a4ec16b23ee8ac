/**
 * An ARI simulator on loopback (HTTP + WebSocket) that `ari-client` 2.2.0 connects to unmodified:
 * it serves the real ARI API description of Asterisk 22.10.1 (src/sim/fixtures/ari-api-docs, with
 * `basePath` rewritten to the request's Host as Asterisk does), checks Basic auth and `api_key`,
 * sends events shaped like src/sim/fixtures/ari-recorded-events.jsonl, implements the REST
 * operations the gate uses, and runs dialplan files through a tiny interpreter (dialplan.ts).
 *
 * Asterisk behaviours reproduced (observed on a real Asterisk 22.10.1):
 * - Stasis() with no registered app sets STASISSTATUS=FAILED and the dialplan continues;
 * - a channel in Stasis gets every event; after StasisEnd only subscribed apps get its events;
 * - `continue` resumes the dialplan (next priority, or the given context/extension/priority);
 * - DELETE ?reason=X → ChannelHangupRequest (cause 32, soft) → StasisEnd → ChannelDestroyed
 *   with the Q.850 cause of X (rejected → 21);
 * - the app is dropped when its WebSocket closes (GET /applications no longer lists it, Stasis()
 *   fails); channels already in Stasis stay there. Read from res_stasis: an app that still holds
 *   channels or subscriptions is only deactivated — it keeps them and its event filter, misses the
 *   events meanwhile, and is reactivated when a WebSocket registers the name again; an app with
 *   nothing left is destroyed (a new registration starts with no subscription and no filter);
 * - a second WebSocket for the same app gets it; the first one receives ApplicationReplaced;
 * - application event filters (PUT /applications/{app}/eventFilter, body `{"allowed":[{"type":…}],
 *   "disallowed":[…]}` as Asterisk reads it; a body wrapped in `{"filter":…}` names neither list and
 *   changes nothing): an event not allowed is never serialised; `serialised` counts what was;
 * - TIMEOUT(absolute): set by Set() or by a variables request (fractional seconds, 0 disarms), read
 *   back as the seconds left ("%.3f", "0" when none); when it passes, the channel is soft-hung-up:
 *   out of Stasis (StasisEnd, no hangup request), out of Dial() or Wait(), then on to the `T`
 *   extension of its context if there is one, else hung up;
 * - extension matching as pbx.c orders it: an exact extension before any pattern, then the more
 *   specific pattern first (so `112` wins over `_[+0-9].` whatever the file order);
 * - a restart (`restart()`): sockets cut, nothing listening for a while (REST and WebSocket refused),
 *   then back with no channel, no app, no filter;
 * - only event types declared in the events.json it serves are ever sent (ari-client crashes on others).
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import * as path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { findExtension, parseDialplan, substitute, truthy, type Dialplan, type Step } from './dialplan';
import { ariTimestamp, ev, REASON_CAUSE, snapshot, type SimChannel } from './events';
import { ARI_DOCS_DIR as DOCS_DIR } from './paths';

export type TrunkBehaviour =
  | { result: 'answer'; talkMs?: number; ringMs?: number }
  | { result: 'busy' }
  | { result: 'noanswer' }
  | { result: 'congestion' };

export type CallResult = {
  channelId: string;
  /** Q.850 cause the channel was destroyed with (0 when it vanished in a restart). */
  cause: number;
  vars: Record<string, string>;
  /** "context:App" for every application executed, in order ("RESTART" when the PBX restarted). */
  trail: string[];
  stasisStatus?: string;
  /** Set when the call reached Dial(): the dial string and status. */
  dialed?: { dialstring: string; status: string };
  /** The channel went Up (answered by Dial(), Answer(), …): ms from Up to its end. */
  upMs?: number;
  /** The absolute timeout (TIMEOUT(absolute)) fired on this channel. */
  timedOut?: boolean;
};

export type OriginateOptions = {
  exten: string;
  context?: string;
  callerId?: { number: string; name?: string };
  /** CALLERID(pres) as Asterisk prints it. */
  pres?: string;
  /** Channel variables set before the dialplan runs (originate variables). */
  vars?: Record<string, string>;
  /** The channel's id (an ARI originate may choose it); default `<epoch>.<n>`. */
  id?: string;
};

/** A POST /ari/channels the simulator accepted (a Local channel: its ;2 half runs the dialplan). */
export type RestOriginate = {
  /** The ;1 half, returned to the client. */
  channelId: string;
  /** The ;2 half, running `extension@context` of the endpoint. */
  gatedChannelId: string;
  endpoint: string;
  /** Where the ;1 half goes once answered. */
  to: { context: string; extension: string; priority: number };
  callerId: string;
  timeout: number;
  variables: Record<string, string>;
  /** The ;2 half's end. */
  done: Promise<CallResult>;
};

export type SimOptions = {
  username: string;
  password: string;
  /** extensions.conf texts, concatenated in order. */
  dialplan: string[];
  trunk?: (number: string) => TrunkBehaviour;
};

type Release =
  { kind: 'continue'; context?: string; exten?: string; priority?: number } | { kind: 'hangup' } | { kind: 'timeout' };

type Running = {
  ch: SimChannel;
  pres: string;
  result: CallResult;
  resolve: (r: CallResult) => void;
  release?: (r: Release) => void;
  lastCause?: number;
  /** Absolute timeout: when it fires (Date.now() ms) and its timer. */
  hangupAt?: number;
  hangupTimer?: NodeJS.Timeout;
  /** Set when the absolute timeout fired and the dialplan has not handled it yet. */
  softTimeout?: boolean;
  /** Wakes an application that waits (Dial, Wait) when the channel is soft-hung-up. */
  wake?: () => void;
  upAt?: number;
};

/** Per app name: the app object of res_stasis (it can outlive its WebSocket). */
type AppState = {
  ws?: WebSocket;
  allowed: Set<string>;
  disallowed: Set<string>;
};

const tick = () => new Promise<void>((r) => setImmediate(r));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Event types of the events.json the simulator serves: the only ones it may send. */
const SERVED_EVENT_TYPES = new Set(
  Object.keys(
    (JSON.parse(fs.readFileSync(path.join(DOCS_DIR, 'events.json'), 'utf8')) as { models: Record<string, unknown> })
      .models,
  ),
);

export class AriSimulator {
  readonly plan: Dialplan;
  private server = http.createServer((req, res) => this.onRequest(req, res));
  private wss = new WebSocketServer({ noServer: true });
  private apps = new Map<string, AppState>();
  private sockets = new Set<Socket>();
  private channels = new Map<string, Running>();
  private seq = 0;
  private epoch = Math.floor(Date.now() / 1000);
  private blackout = false;
  private held: http.ServerResponse[] = [];
  private port = 0;
  /** Every event sent, with the app it went to. */
  readonly sent: Array<{ app: string; event: Record<string, unknown> }> = [];
  /** Every REST request: method and path (no query). */
  readonly rest: Array<{ method: string; path: string; query: string; body?: string }> = [];
  /** Events serialised and written to an app's WebSocket (what filters save), in all. */
  serialised = 0;
  /** Events an app would have received but its filter dropped. */
  filteredOut = 0;
  /** Events for an app that was deactivated (its WebSocket gone): missed. */
  missed = 0;
  /** Hook for benchmarks: called when a REST request arrives (before it is handled). */
  onRest?: (method: string, path: string, channelId: string | undefined) => void;
  /** Hook: called for each StasisStart sent. */
  onStasisStart?: (channelId: string) => void;
  /** Fault injection: answer POST /ari/channels with this error instead (e.g. 400 "Invalid endpoint specified"). */
  originateFault?: (endpoint: string) => { status: number; message: string } | undefined;
  /** Every originate accepted through POST /ari/channels, in order. */
  readonly originates: RestOriginate[] = [];
  /** WebSocket upgrade requests seen (connection attempts to /ari/events). */
  upgrades = 0;
  /** Fault injection: an HTTP status to answer for an api-docs file instead of serving it. */
  apiDocsFault?: (file: string) => number | undefined;
  /** While true, no event is delivered (as if lost on a dying connection). */
  muteEvents = false;
  /** Keep the event log and the REST log (off for long benchmarks: they grow with every call). */
  recordEvents = true;
  /**
   * Fault injection (hostile-input tests): the text of each event about to be written to an app's
   * WebSocket passes through this; what it returns is sent instead (any bytes, not only JSON).
   */
  mutateEvent?: (text: string, event: Record<string, unknown>) => string | Buffer;
  /** Fault injection: each REST reply passes through this (method, path, status, body text); a result replaces it. */
  mutateReply?: (
    method: string,
    path: string,
    status: number,
    text: string,
  ) => { status: number; text: string | Buffer } | undefined;
  /** True while restarting (nothing listens). */
  down = false;
  url = '';

  constructor(private readonly opts: SimOptions) {
    this.plan = parseDialplan(opts.dialplan.join('\n'));
    this.server.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket as Socket, head));
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(this.port, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
    this.url = `http://127.0.0.1:${this.port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    for (const run of this.channels.values()) clearTimeout(run.hangupTimer);
    for (const ws of this.wss.clients) ws.terminate();
    for (const r of this.held) r.destroy();
    for (const s of this.sockets) s.destroy();
    if (this.server.listening) await new Promise<void>((r) => this.server.close(() => r()));
  }

  /** Names of the apps a WebSocket currently holds. */
  registeredApps(): string[] {
    return [...this.apps.entries()].filter(([, a]) => a.ws).map(([n]) => n);
  }

  /** The event filter of an app, as GET /applications/{app} reports it. */
  eventFilter(app: string): { allowed: string[]; disallowed: string[] } | undefined {
    const a = this.apps.get(app);
    return a ? { allowed: [...a.allowed], disallowed: [...a.disallowed] } : undefined;
  }

  /** Channels currently waiting in a Stasis app. */
  inStasis(): number {
    return [...this.channels.values()].filter((r) => r.ch.stasisApp !== undefined).length;
  }

  /** Channels currently alive. */
  channelCount(): number {
    return this.channels.size;
  }

  /** Ids of the channels an app is subscribed to (not counting those in Stasis). */
  subscriptions(app: string): string[] {
    return [...this.channels.values()].filter((r) => r.ch.subscribers.has(app)).map((r) => r.ch.id);
  }

  /**
   * Simulates a network failure: every event socket is cut, REST requests get no answer, and
   * new connections are refused for `ms`; then held requests are dropped (RST) and service resumes.
   */
  blackoutFor(ms: number): Promise<void> {
    this.blackout = true;
    for (const ws of this.wss.clients) ws.terminate();
    return sleep(ms).then(() => {
      this.blackout = false;
      for (const r of this.held.splice(0)) r.socket?.destroy();
    });
  }

  /** Cuts every event WebSocket (TCP reset); REST keeps working and the app may register again at once. */
  dropWebSockets(): void {
    for (const ws of this.wss.clients) ws.terminate();
  }

  /**
   * `core restart now`: every socket is cut, nothing listens on the port for `downMs` (connections
   * refused), every channel is gone without an event (no app is connected to see one), and Asterisk
   * comes back with no app, no subscription, no filter, and new channel ids.
   */
  async restart(downMs: number): Promise<void> {
    this.down = true;
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    for (const ws of this.wss.clients) ws.terminate();
    for (const r of this.held.splice(0)) r.destroy();
    for (const sk of this.sockets) sk.destroy();
    this.apps.clear();
    for (const run of [...this.channels.values()]) this.vanish(run);
    await closed;
    await sleep(downMs);
    this.epoch += 1000;
    await this.start();
    this.down = false;
  }

  /** A call enters the dialplan (a phone dialling, or a dialer's Local/… originate). */
  originate(o: OriginateOptions): { channelId: string; done: Promise<CallResult> } {
    const n = ++this.seq;
    const context = o.context ?? 'callgate-outbound';
    const ch: SimChannel = {
      id: o.id ?? `${this.epoch}.${n}`,
      name: `Local/${o.exten}@${context}-${n.toString(16).padStart(8, '0')};2`,
      state: 'Ring',
      caller: { name: o.callerId?.name ?? '', number: o.callerId?.number ?? '' },
      connected: { name: '', number: '' },
      context,
      exten: o.exten,
      priority: 1,
      appName: '',
      appData: '',
      creationtime: ariTimestamp(),
      vars: new Map(Object.entries(o.vars ?? {})),
      subscribers: new Set(),
      destroyed: false,
    };
    let resolve!: (r: CallResult) => void;
    const done = new Promise<CallResult>((r) => (resolve = r));
    const run: Running = {
      ch,
      pres: o.pres ?? 'allowed_not_screened',
      resolve,
      result: { channelId: ch.id, cause: 0, vars: {}, trail: [] },
    };
    this.channels.set(ch.id, run);
    void this.execute(run).catch((e: unknown) => {
      // A dialplan fault is a test failure: make it loud and end the call.
      run.result.trail.push(`ERROR:${String(e)}`);
      this.destroy(run, 38, false);
    });
    return { channelId: ch.id, done };
  }

  /** The calling side hangs up (the agent gives up), with a cause (16 = normal clearing). */
  callerHangup(channelId: string, cause = 16): boolean {
    const run = this.channels.get(channelId);
    if (!run) return false;
    this.destroy(run, cause, false);
    return true;
  }

  /* ---------------------------------------------------------------------- dialplan engine */

  private read(run: Running, name: string): string {
    const ch = run.ch;
    switch (name) {
      case 'EXTEN':
        return ch.exten;
      case 'CONTEXT':
        return ch.context;
      case 'CALLERID(num)':
        return ch.caller.number;
      case 'CALLERID(name)':
        return ch.caller.name;
      case 'CALLERID(pres)':
        return run.pres;
      case 'TIMEOUT(absolute)':
        // func_timeout.c: "0" when none, else the seconds left with 3 decimals
        return run.hangupAt === undefined ? '0' : (Math.max(0, run.hangupAt - Date.now()) / 1000).toFixed(3);
      default:
        return ch.vars.get(name) ?? '';
    }
  }

  private async execute(run: Running): Promise<void> {
    const ch = run.ch;
    for (let guard = 0; guard < 1000; guard++) {
      await tick();
      if (ch.destroyed) return;
      if (run.softTimeout) {
        // pbx.c: an absolute timeout goes to the T extension of the context, if there is one.
        run.softTimeout = false;
        if (findExtension(this.plan, ch.context, 'T')) {
          ch.exten = 'T';
          ch.priority = 1;
        } else return this.destroy(run, run.lastCause ?? 0, false);
      }
      const ext = findExtension(this.plan, ch.context, ch.exten);
      const step = ext?.steps.find((s) => s.priority === ch.priority);
      if (!ext || !step) {
        // Falling off the end of the dialplan hangs up (autofallthrough).
        return this.destroy(run, ext ? (run.lastCause ?? 16) : 1, false);
      }
      const data = substitute(step.data, (v) => this.read(run, v));
      ch.appName = step.app;
      ch.appData = data;
      run.result.trail.push(`${ch.context}:${step.app}`);
      this.emitFor(ch, (app) => ev.dialplan(ch, app));
      const next = await this.app(run, step, data);
      if (ch.destroyed) return;
      if (run.softTimeout) continue;
      if (next === 'next') ch.priority++;
    }
    throw new Error('dialplan loop');
  }

  /** Runs one application; returns 'next' to go on with priority + 1, 'jumped' after a Goto. */
  private async app(run: Running, step: Step, data: string): Promise<'next' | 'jumped'> {
    const ch = run.ch;
    switch (step.app.toLowerCase()) {
      case 'noop':
      case 'verbose':
      case 'log':
        return 'next';
      case 'set': {
        const eq = data.indexOf('=');
        this.setVar(run, data.slice(0, eq), data.slice(eq + 1));
        return 'next';
      }
      case 'goto':
        this.goto(run, data);
        return 'jumped';
      case 'gotoif': {
        const q = data.indexOf('?');
        const [yes, no] = data.slice(q + 1).split(':');
        const target = truthy(data.slice(0, q)) ? yes : no;
        if (!target) return 'next';
        this.goto(run, target);
        return 'jumped';
      }
      case 'answer':
        this.setState(run, 'Up');
        return 'next';
      case 'playback':
        await tick();
        return 'next';
      case 'wait':
        await this.pause(run, Number(data) * 1000);
        return 'next';
      case 'hangup':
        this.destroy(run, data ? Number(data) : (run.lastCause ?? 16), false);
        return 'next';
      case 'stasis':
        return this.stasis(run, data);
      case 'dial':
        await this.dial(run, data);
        return 'next';
      default:
        throw new Error(`the simulator does not implement ${step.app}() (${ch.context}, priority ${step.priority})`);
    }
  }

  /** Waits `ms`, or less when the channel is soft-hung-up meanwhile (absolute timeout) or destroyed. */
  private pause(run: Running, ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        run.wake = undefined;
        resolve();
      }
      run.wake = done;
    });
  }

  private goto(run: Running, target: string): void {
    const ch = run.ch;
    const parts = target.split(',').map((s) => s.trim());
    const prio = parts.pop() as string;
    if (parts.length === 2) ch.context = parts.shift() as string;
    if (parts.length === 1) ch.exten = parts.shift() as string;
    if (/^\d+$/.test(prio)) ch.priority = Number(prio);
    else {
      const step = findExtension(this.plan, ch.context, ch.exten)?.steps.find((s) => s.label === prio);
      if (!step) throw new Error(`Goto: no label '${prio}' in ${ch.context},${ch.exten}`);
      ch.priority = step.priority;
    }
  }

  private setVar(run: Running, name: string, value: string, report = true): void {
    const ch = run.ch;
    if (name === 'CALLERID(num)') ch.caller.number = value;
    else if (name === 'CALLERID(name)') ch.caller.name = value;
    else if (name === 'CALLERID(pres)') run.pres = value;
    else if (name === 'TIMEOUT(absolute)') this.setAbsoluteTimeout(run, value);
    else ch.vars.set(name, value);
    if (report) this.emitFor(ch, (app) => ev.varset(ch, name, value, app));
  }

  /** func_timeout.c: sscanf("%ld%lf") — "2.5" is 2 s + 0.5 s, "0" (or junk, or negative) disarms. */
  private setAbsoluteTimeout(run: Running, value: string): void {
    clearTimeout(run.hangupTimer);
    run.hangupTimer = undefined;
    run.hangupAt = undefined;
    const m = /^\s*(\d+)(\.\d*)?/.exec(value);
    const ms = m ? Number(m[1]) * 1000 + Math.floor(Number(`0${m[2] ?? ''}`) * 1000) : 0;
    if (ms <= 0) return;
    run.hangupAt = Date.now() + ms;
    run.hangupTimer = setTimeout(() => this.absoluteTimeout(run), ms);
  }

  /** The absolute timeout passed: soft hangup (AST_SOFTHANGUP_TIMEOUT); the dialplan goes to T. */
  private absoluteTimeout(run: Running): void {
    run.hangupTimer = undefined;
    run.hangupAt = undefined;
    if (run.ch.destroyed) return;
    run.softTimeout = true;
    run.result.timedOut = true;
    run.release?.({ kind: 'timeout' });
    run.wake?.();
  }

  private async stasis(run: Running, data: string): Promise<'next' | 'jumped'> {
    const ch = run.ch;
    const [app, ...args] = data.split(',');
    if (!app || !this.apps.get(app)?.ws) {
      ch.vars.set('STASISSTATUS', 'FAILED');
      run.result.stasisStatus = 'FAILED';
      return 'next';
    }
    this.setVar(run, 'STASISSTATUS', '');
    ch.stasisApp = app;
    const released = new Promise<Release>((r) => (run.release = r));
    this.send(app, ev.stasisStart(ch, args, app));
    this.onStasisStart?.(ch.id);
    const rel = await released;
    run.release = undefined;
    if (rel.kind === 'hangup') return 'next';
    this.leaveStasis(run);
    this.setVar(run, 'STASISSTATUS', 'SUCCESS');
    run.result.stasisStatus = 'SUCCESS';
    if (rel.kind === 'timeout') return 'next';
    if (rel.context === undefined && rel.exten === undefined && rel.priority === undefined) return 'next';
    if (rel.context) ch.context = rel.context;
    if (rel.exten) ch.exten = rel.exten;
    ch.priority = rel.priority ?? 1;
    return 'jumped';
  }

  private leaveStasis(run: Running): void {
    const ch = run.ch;
    const app = ch.stasisApp;
    if (!app) return;
    ch.stasisApp = undefined;
    this.send(app, ev.stasisEnd(ch, app));
    this.reapIfFinished(app);
  }

  private async dial(run: Running, data: string): Promise<void> {
    const ch = run.ch;
    const target = (data.split(',')[0] ?? '').trim();
    const m = /^(\w+)\/(.+)$/.exec(target);
    if (!m) throw new Error(`Dial(${data}): expected TECH/resource`);
    const dialstring = m[2] as string;
    const number = dialstring.split('@')[0] as string;
    const n = ++this.seq;
    const peer: SimChannel = {
      ...ch,
      id: `${this.epoch}.${n}`,
      name: `${m[1]}/${dialstring.split('@')[1] ?? 'trunk'}-${n.toString(16).padStart(8, '0')}`,
      state: 'Down',
      context: ch.context,
      exten: number,
      priority: 1,
      appName: 'AppDial2',
      appData: '(Outgoing Line)',
      vars: new Map(),
      subscribers: new Set(),
      stasisApp: undefined,
    };
    this.emitFor(ch, (app) => ev.dial(ch, peer, dialstring, '', app));
    const b = this.opts.trunk?.(number) ?? { result: 'answer', talkMs: 20 };
    await this.pause(run, b.result === 'answer' ? (b.ringMs ?? 5) : 5);
    if (ch.destroyed || run.softTimeout) return;
    const status = { answer: 'ANSWER', busy: 'BUSY', noanswer: 'NOANSWER', congestion: 'CONGESTION' }[b.result];
    if (b.result === 'answer') peer.state = 'Up';
    this.emitFor(ch, (app) => ev.dial(ch, peer, dialstring, status, app));
    run.result.dialed = { dialstring, status };
    if (b.result === 'answer') {
      this.setState(run, 'Up');
      await this.pause(run, b.talkMs ?? 20);
      run.lastCause = 16;
    } else run.lastCause = { busy: 17, noanswer: 19, congestion: 34 }[b.result];
    if (ch.destroyed) return;
    this.setVar(run, 'DIALSTATUS', status);
  }

  private setState(run: Running, state: string): void {
    const ch = run.ch;
    if (ch.state === state) return;
    ch.state = state;
    if (state === 'Up') run.upAt = Date.now();
    this.emitFor(ch, (app) => ev.stateChange(ch, app));
  }

  /** Hangs a channel up: from ARI (soft request, cause 32 in the request event) or the dialplan. */
  private destroy(run: Running, cause: number, fromAri: boolean): void {
    const ch = run.ch;
    if (ch.destroyed) return;
    this.emitFor(ch, (app) => ev.hangupRequest(ch, fromAri ? 32 : cause, true, app));
    this.leaveStasis(run);
    this.emitFor(ch, (app) => ev.destroyed(ch, cause, app));
    this.end(run, cause);
    for (const app of ch.subscribers) this.reapIfFinished(app);
  }

  /** Gone in a restart: no event (no app is there to get one). */
  private vanish(run: Running): void {
    run.result.trail.push('RESTART');
    this.end(run, 0);
  }

  private end(run: Running, cause: number): void {
    const ch = run.ch;
    ch.destroyed = true;
    clearTimeout(run.hangupTimer);
    this.channels.delete(ch.id);
    run.release?.({ kind: 'hangup' });
    run.wake?.();
    run.result.cause = cause;
    if (run.upAt !== undefined) run.result.upMs = Date.now() - run.upAt;
    run.result.vars = Object.fromEntries(ch.vars);
    run.resolve(run.result);
  }

  /* ---------------------------------------------------------------------- events */

  private emitFor(ch: SimChannel, make: (app: string) => Record<string, unknown>): void {
    const apps = new Set(ch.subscribers);
    if (ch.stasisApp) apps.add(ch.stasisApp);
    for (const app of apps) this.send(app, make(app));
  }

  /** ari_websockets.c: an app without a WebSocket misses the event; the filter decides before serialising. */
  private send(app: string, event: Record<string, unknown>): void {
    const type = event.type as string;
    if (!SERVED_EVENT_TYPES.has(type))
      throw new Error(`simulator bug: event type ${type} is not in the served events.json`);
    const a = this.apps.get(app);
    const ws = a?.ws;
    if (!a || !ws || ws.readyState !== ws.OPEN || this.muteEvents) {
      if (a && !ws) this.missed++;
      return;
    }
    if (a.disallowed.has(type) || (a.allowed.size > 0 && !a.allowed.has(type))) {
      this.filteredOut++;
      return;
    }
    this.serialised++;
    if (this.recordEvents) this.sent.push({ app, event });
    const text = JSON.stringify(event);
    ws.send(this.mutateEvent ? this.mutateEvent(text, event) : text);
  }

  /** res_stasis cleanup(): an app with no WebSocket, no channel in Stasis and no subscription is destroyed. */
  private reapIfFinished(app: string): void {
    const a = this.apps.get(app);
    if (!a || a.ws) return;
    for (const r of this.channels.values()) if (r.ch.stasisApp === app || r.ch.subscribers.has(app)) return;
    this.apps.delete(app);
  }

  /* ---------------------------------------------------------------------- HTTP */

  private authorized(req: http.IncomingMessage, query: URLSearchParams): boolean {
    const want = `${this.opts.username}:${this.opts.password}`;
    const h = req.headers.authorization;
    if (h?.startsWith('Basic ') && Buffer.from(h.slice(6), 'base64').toString() === want) return true;
    const key = query.get('api_key');
    return key !== null && key === want;
  }

  private onUpgrade(req: http.IncomingMessage, socket: Socket, head: Buffer): void {
    const u = new URL(req.url ?? '/', 'http://x');
    this.upgrades++;
    const refuse = (status: string, msg: string) => {
      socket.end(
        `HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${JSON.stringify({ message: msg })}`,
      );
    };
    if (this.blackout || this.down) return void socket.destroy();
    if (u.pathname !== '/ari/events') return refuse('404 Not Found', 'Not found');
    if (!this.authorized(req, u.searchParams)) return refuse('401 Unauthorized', 'Authentication required');
    const apps = (u.searchParams.get('app') ?? '').split(',').filter(Boolean);
    if (apps.length === 0) return refuse('400 Bad Request', 'HTTP request is missing param: [app]');
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      for (const app of apps) {
        const a = this.apps.get(app) ?? { allowed: new Set<string>(), disallowed: new Set<string>() };
        const old = a.ws;
        if (old && old !== ws && old.readyState === old.OPEN) old.send(JSON.stringify(ev.appReplaced(app)));
        a.ws = ws;
        this.apps.set(app, a);
        this.send(app, ev.appRegistered(app));
      }
      ws.on('close', () => {
        for (const app of apps) {
          const a = this.apps.get(app);
          if (a?.ws !== ws) continue;
          a.ws = undefined; // deactivated: keeps its channels, subscriptions and filter if it has any
          this.reapIfFinished(app);
        }
      });
    });
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const u = new URL(req.url ?? '/', 'http://x');
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (this.blackout) return void this.held.push(res);
      const reply = (status: number, json?: unknown) => {
        let text: string | Buffer = json === undefined ? '' : JSON.stringify(json);
        const m = this.mutateReply?.(req.method ?? '', u.pathname, status, text);
        if (m) ({ status, text } = m);
        const headers: Record<string, string> = { 'Content-Type': 'application/json' };
        if (status === 401) headers['WWW-Authenticate'] = 'Basic realm="Asterisk REST Interface"';
        res.writeHead(status, headers);
        res.end(text);
      };
      if (!this.authorized(req, u.searchParams)) return reply(401, { message: 'Authentication required' });
      if (this.recordEvents)
        this.rest.push({ method: req.method ?? '', path: u.pathname, query: u.search, ...(body ? { body } : {}) });
      try {
        this.route(req.method ?? 'GET', u, body, reply, req.headers.host ?? '127.0.0.1');
      } catch (e) {
        reply(500, { message: String(e) });
      }
    });
  }

  private route(method: string, u: URL, body: string, reply: (s: number, j?: unknown) => void, host: string): void {
    const p = u.pathname;
    const q = u.searchParams;
    const docs = /^\/ari\/api-docs\/(\w+)\.json$/.exec(p);
    if (docs && method === 'GET') {
      const fault = this.apiDocsFault?.(docs[1] as string);
      if (fault) return reply(fault, { message: 'Authentication required' });
      const file = path.join(DOCS_DIR, `${docs[1]}.json`);
      if (!fs.existsSync(file)) return reply(404, { message: 'Not found' });
      const json = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
      json.basePath = `http://${host}/ari`;
      return reply(200, json);
    }
    const chm = /^\/ari\/channels\/([^/]+)(?:\/(\w+))?$/.exec(p);
    const channelId = chm ? decodeURIComponent(chm[1] as string) : undefined;
    this.onRest?.(method, p, channelId);
    if (p === '/ari/applications' && method === 'GET')
      return reply(
        200,
        this.registeredApps().map((a) => this.application(a)),
      );
    const am = /^\/ari\/applications\/([^/]+)(?:\/(subscription|eventFilter))?$/.exec(p);
    if (am) {
      const app = decodeURIComponent(am[1] as string);
      const a = this.apps.get(app);
      if (!a?.ws) return reply(404, { message: 'Application not found' });
      if (!am[2] && method === 'GET') return reply(200, this.application(app));
      if (am[2] === 'subscription' && (method === 'POST' || method === 'DELETE')) {
        const src = q.get('eventSource') ?? '';
        const m = /^channel:(.+)$/.exec(src);
        const run = m ? this.channels.get(m[1] as string) : undefined;
        if (!run) return reply(422, { message: 'Event source does not exist' });
        if (method === 'POST') run.ch.subscribers.add(app);
        else run.ch.subscribers.delete(app);
        return reply(200, this.application(app));
      }
      if (am[2] === 'eventFilter' && method === 'PUT') return this.setFilter(a, app, body, reply);
    }
    if (p === '/ari/channels' && method === 'POST') return this.restOriginate(q, body, reply);
    if (p === '/ari/channels' && method === 'GET')
      return reply(
        200,
        [...this.channels.values()].map((r) => snapshot(r.ch)),
      );
    if (chm) {
      const run = this.channels.get(channelId as string);
      if (!run) return reply(404, { message: 'Channel not found' });
      const op = chm[2];
      if (!op && method === 'GET') return reply(200, snapshot(run.ch));
      if (!op && method === 'DELETE') {
        if (q.has('reason') && q.has('reason_code'))
          return reply(400, { message: "The reason and reason_code can't both be specified" });
        let cause = 16;
        if (q.has('reason_code')) cause = Number(q.get('reason_code'));
        else if (q.has('reason')) {
          const c = REASON_CAUSE[q.get('reason') as string];
          if (c === undefined) return reply(400, { message: 'Invalid reason for hangup reason provided' });
          cause = c;
        }
        reply(204);
        return this.destroy(run, cause, true);
      }
      if (method === 'POST' && (op === 'continue' || op === 'variable' || op === 'variables')) {
        if (!run.ch.stasisApp || !run.release) return reply(409, { message: 'Channel not in Stasis application' });
        if (op === 'continue') {
          const prio = q.get('priority');
          run.release({
            kind: 'continue',
            context: q.get('context') ?? undefined,
            exten: q.get('extension') ?? undefined,
            priority: prio ? Number(prio) : undefined,
          });
          return reply(204);
        }
        if (op === 'variable') {
          const name = q.get('variable');
          if (!name) return reply(400, { message: 'Variable name is required' });
          this.setVar(run, name, q.get('value') ?? '');
          return reply(204);
        }
        const vars = (JSON.parse(body || '{}') as { variables?: Record<string, string> }).variables;
        if (!vars || typeof vars !== 'object') return reply(400, { message: 'Variables are required' });
        for (const [k, v] of Object.entries(vars)) this.setVar(run, k, String(v));
        return reply(204);
      }
    }
    reply(404, { message: `simulator: ${method} ${p} is not implemented` });
  }

  /**
   * stasis_app_event_filter_set (app.c), as the API description states the rules: an empty body
   * empties both lists; a list given replaces that list; a list not given is left as it was; each
   * entry is {"type": <event type>}. Anything else in an object body is ignored, so a body wrapped
   * by a generic client (`{"filter":{…}}`) names no list and changes nothing.
   */
  private setFilter(a: AppState, app: string, body: string, reply: (s: number, j?: unknown) => void): void {
    let f: unknown;
    try {
      f = body.trim() ? JSON.parse(body) : {};
    } catch {
      return reply(400, { message: 'Error parsing request body' });
    }
    if (typeof f !== 'object' || f === null || Array.isArray(f))
      return reply(400, { message: 'Invalid format definition' });
    const o = f as Record<string, unknown>;
    if (Object.keys(o).length === 0) {
      a.allowed.clear();
      a.disallowed.clear();
      return reply(200, this.application(app));
    }
    const lists: Array<['allowed' | 'disallowed', Set<string>]> = [
      ['allowed', a.allowed],
      ['disallowed', a.disallowed],
    ];
    for (const [key] of lists) {
      const v = o[key];
      if (v === undefined) continue;
      if (!Array.isArray(v) || !v.every((e) => typeof (e as { type?: unknown })?.type === 'string'))
        return reply(400, { message: 'Invalid format definition' });
    }
    for (const [key, set] of lists) {
      const v = o[key] as Array<{ type: string }> | undefined;
      if (v === undefined) continue;
      set.clear();
      for (const e of v) set.add(e.type);
    }
    reply(200, this.application(app));
  }

  /**
   * POST /ari/channels (originate), as Asterisk 22 answers it (res/ari/resource_channels.c): the parameter
   * checks and their 400/409 messages, then 200 with the new channel's snapshot (state Down) at once,
   * the dial going on asynchronously. Only Local/EXTEN@CONTEXT[/n] endpoints are simulated: the ;2 half
   * runs the dialplan with the originate's variables (Local copies them) and presents the caller ID
   * (Local gives the ;2 half the ;1 half's connected line, which the originate sets); the ;1 half,
   * which nothing here answers, lives as long as the ;2 half.
   */
  private restOriginate(q: URLSearchParams, body: string, reply: (s: number, j?: unknown) => void): void {
    const endpoint = q.get('endpoint');
    if (!endpoint) return reply(400, { message: 'Endpoint must be specified' });
    const fault = this.originateFault?.(endpoint);
    if (fault) return reply(fault.status, { message: fault.message });
    const app = q.get('app');
    const extension = q.get('extension');
    if (!app && !extension) return reply(400, { message: 'Application or extension must be specified' });
    const m = /^Local\/([^@/]+)@([^/]+)(?:\/n)?$/i.exec(endpoint);
    if (!m) return reply(400, { message: 'Invalid endpoint specified' });
    const channelId = q.get('channelId') ?? `${this.epoch}.${++this.seq}`;
    const gatedChannelId = q.get('otherChannelId') ?? `${this.epoch}.${++this.seq}`;
    if (this.channels.has(channelId) || this.channels.has(gatedChannelId) || channelId === gatedChannelId)
      return reply(409, { message: 'Channel with given unique ID already exists' });
    let variables: Record<string, string> = {};
    if (body) {
      try {
        const v = (JSON.parse(body) as { variables?: Record<string, unknown> }).variables ?? {};
        variables = Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)]));
      } catch {
        return reply(400, { message: 'Request body is not valid JSON' });
      }
    }
    const cid = q.get('callerId') ?? '';
    const named = /^\s*"?([^"<]*?)"?\s*<([^>]*)>\s*$/.exec(cid);
    const callerId = named
      ? { name: named[1] as string, number: named[2] as string }
      : { name: '', number: cid.trim() };
    const exten = m[1] as string;
    const context = m[2] as string;
    const { done } = this.originate({ exten, context, callerId, vars: variables, id: gatedChannelId });
    this.originates.push({
      channelId,
      gatedChannelId,
      endpoint,
      to: {
        context: q.get('context') ?? 'default',
        extension: extension ?? '',
        priority: Number(q.get('priority') ?? 1),
      },
      callerId: cid,
      timeout: Number(q.get('timeout') ?? 30),
      variables,
      done,
    });
    const n = this.seq;
    reply(200, {
      id: channelId,
      name: `Local/${exten}@${context}-${n.toString(16).padStart(8, '0')};1`,
      state: 'Down',
      protocol_id: '',
      caller: callerId,
      connected: { name: '', number: '' },
      accountcode: '',
      dialplan: { context, exten, priority: 1, app_name: '', app_data: '' },
      creationtime: ariTimestamp(),
      language: 'en',
    });
  }

  private application(app: string): Record<string, unknown> {
    const a = this.apps.get(app);
    const ids = [...this.channels.values()]
      .filter((r) => r.ch.stasisApp === app || r.ch.subscribers.has(app))
      .map((r) => r.ch.id);
    return {
      name: app,
      channel_ids: ids,
      bridge_ids: [],
      endpoint_ids: [],
      device_names: [],
      events_allowed: [...(a?.allowed ?? [])].map((type) => ({ type })),
      events_disallowed: [...(a?.disallowed ?? [])].map((type) => ({ type })),
    };
  }
}
