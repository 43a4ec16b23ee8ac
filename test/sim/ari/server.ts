/**
 * An ARI simulator on loopback (HTTP + WebSocket) that `ari-client` 2.2.0 connects to unmodified:
 * it serves the real ARI API description of Asterisk 22.10.1 (test/fixtures/ari-api-docs, with
 * `basePath` rewritten to the request's Host as Asterisk does), checks Basic auth and `api_key`,
 * sends events shaped like test/fixtures/ari-recorded-events.jsonl, implements the REST
 * operations the gate uses, and runs dialplan files through a tiny interpreter (dialplan.ts).
 *
 * Asterisk behaviours reproduced (PROTOCOLS.md D, "Observed on a real Asterisk"):
 * - Stasis() with no registered app sets STASISSTATUS=FAILED and the dialplan continues;
 * - a channel in Stasis gets every event; after StasisEnd only subscribed apps get its events;
 * - `continue` resumes the dialplan (next priority, or the given context/extension/priority);
 * - DELETE ?reason=X → ChannelHangupRequest (cause 32, soft) → StasisEnd → ChannelDestroyed
 *   with the Q.850 cause of X (rejected → 21);
 * - the app is dropped when its WebSocket closes; channels already in Stasis stay there;
 * - a second WebSocket for the same app gets it; the first one receives ApplicationReplaced.
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
  { result: 'answer'; talkMs?: number } | { result: 'busy' } | { result: 'noanswer' } | { result: 'congestion' };

export type CallResult = {
  channelId: string;
  /** Q.850 cause the channel was destroyed with. */
  cause: number;
  vars: Record<string, string>;
  /** "context:App" for every application executed, in order. */
  trail: string[];
  stasisStatus?: string;
  /** Set when the call reached Dial(): the dial string and status. */
  dialed?: { dialstring: string; status: string };
};

export type OriginateOptions = {
  exten: string;
  context?: string;
  callerId?: { number: string; name?: string };
  /** CALLERID(pres) as Asterisk prints it. */
  pres?: string;
  /** Channel variables set before the dialplan runs (originate variables). */
  vars?: Record<string, string>;
};

export type SimOptions = {
  username: string;
  password: string;
  /** extensions.conf texts, concatenated in order. */
  dialplan: string[];
  trunk?: (number: string) => TrunkBehaviour;
};

type Release = { kind: 'continue'; context?: string; exten?: string; priority?: number } | { kind: 'hangup' };

type Running = {
  ch: SimChannel;
  pres: string;
  result: CallResult;
  resolve: (r: CallResult) => void;
  release?: (r: Release) => void;
  lastCause?: number;
};

const tick = () => new Promise<void>((r) => setImmediate(r));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class AriSimulator {
  readonly plan: Dialplan;
  private server = http.createServer((req, res) => this.onRequest(req, res));
  private wss = new WebSocketServer({ noServer: true });
  private apps = new Map<string, WebSocket>();
  private sockets = new Set<Socket>();
  private channels = new Map<string, Running>();
  private seq = 0;
  private epoch = Math.floor(Date.now() / 1000);
  private blackout = false;
  private held: http.ServerResponse[] = [];
  /** Every event sent, with the app it went to. */
  readonly sent: Array<{ app: string; event: Record<string, unknown> }> = [];
  /** Every REST request: method and path (no query). */
  readonly rest: Array<{ method: string; path: string; query: string }> = [];
  /** Hook for benchmarks: called when a REST request arrives (before it is handled). */
  onRest?: (method: string, path: string, channelId: string | undefined) => void;
  /** Hook: called for each StasisStart sent. */
  onStasisStart?: (channelId: string) => void;
  /** WebSocket upgrade requests seen (connection attempts to /ari/events). */
  upgrades = 0;
  /** Fault injection: an HTTP status to answer for an api-docs file instead of serving it. */
  apiDocsFault?: (file: string) => number | undefined;
  /** While true, no event is delivered (as if lost on a dying connection). */
  muteEvents = false;
  /** Keep the event log and the REST log (off for long benchmarks: they grow with every call). */
  recordEvents = true;
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
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    for (const r of this.held) r.destroy();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  registeredApps(): string[] {
    return [...this.apps.keys()];
  }

  /** Channels currently waiting in a Stasis app. */
  inStasis(): number {
    return [...this.channels.values()].filter((r) => r.ch.stasisApp !== undefined).length;
  }

  /** Channels currently alive. */
  channelCount(): number {
    return this.channels.size;
  }

  /**
   * Simulates a network failure: every event socket is cut, REST requests get no answer, and
   * new connections are refused for `ms`; then held requests are dropped (RST) and service resumes.
   */
  blackoutFor(ms: number): Promise<void> {
    this.blackout = true;
    for (const ws of this.wss.clients) ws.terminate();
    this.apps.clear();
    return sleep(ms).then(() => {
      this.blackout = false;
      for (const r of this.held.splice(0)) r.socket?.destroy();
    });
  }

  /** A call enters the dialplan (a phone dialling, or a dialer's Local/… originate). */
  originate(o: OriginateOptions): { channelId: string; done: Promise<CallResult> } {
    const n = ++this.seq;
    const context = o.context ?? 'callgate-outbound';
    const ch: SimChannel = {
      id: `${this.epoch}.${n}`,
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
      default:
        return ch.vars.get(name) ?? '';
    }
  }

  private async execute(run: Running): Promise<void> {
    const ch = run.ch;
    for (let guard = 0; guard < 1000; guard++) {
      await tick();
      if (ch.destroyed) return;
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
        this.setState(ch, 'Up');
        return 'next';
      case 'playback':
        await tick();
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
    else ch.vars.set(name, value);
    if (report) this.emitFor(ch, (app) => ev.varset(ch, name, value, app));
  }

  private async stasis(run: Running, data: string): Promise<'next' | 'jumped'> {
    const ch = run.ch;
    const [app, ...args] = data.split(',');
    if (!app || !this.apps.has(app)) {
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
    await sleep(5);
    if (ch.destroyed) return;
    const status = { answer: 'ANSWER', busy: 'BUSY', noanswer: 'NOANSWER', congestion: 'CONGESTION' }[b.result];
    if (b.result === 'answer') peer.state = 'Up';
    this.emitFor(ch, (app) => ev.dial(ch, peer, dialstring, status, app));
    run.result.dialed = { dialstring, status };
    if (b.result === 'answer') {
      this.setState(ch, 'Up');
      await sleep(b.talkMs ?? 20);
      run.lastCause = 16;
    } else run.lastCause = { busy: 17, noanswer: 19, congestion: 34 }[b.result];
    if (ch.destroyed) return;
    this.setVar(run, 'DIALSTATUS', status);
  }

  private setState(ch: SimChannel, state: string): void {
    if (ch.state === state) return;
    ch.state = state;
    this.emitFor(ch, (app) => ev.stateChange(ch, app));
  }

  /** Hangs a channel up: from ARI (soft request, cause 32 in the request event) or the dialplan. */
  private destroy(run: Running, cause: number, fromAri: boolean): void {
    const ch = run.ch;
    if (ch.destroyed) return;
    this.emitFor(ch, (app) => ev.hangupRequest(ch, fromAri ? 32 : cause, true, app));
    this.leaveStasis(run);
    this.emitFor(ch, (app) => ev.destroyed(ch, cause, app));
    ch.destroyed = true;
    this.channels.delete(ch.id);
    run.release?.({ kind: 'hangup' });
    run.result.cause = cause;
    run.result.vars = Object.fromEntries(ch.vars);
    run.resolve(run.result);
  }

  /* ---------------------------------------------------------------------- events */

  private emitFor(ch: SimChannel, make: (app: string) => Record<string, unknown>): void {
    const apps = new Set(ch.subscribers);
    if (ch.stasisApp) apps.add(ch.stasisApp);
    for (const app of apps) this.send(app, make(app));
  }

  private send(app: string, event: Record<string, unknown>): void {
    const ws = this.apps.get(app);
    if (!ws || ws.readyState !== ws.OPEN || this.muteEvents) return;
    if (this.recordEvents) this.sent.push({ app, event });
    ws.send(JSON.stringify(event));
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
    if (this.blackout) return void socket.destroy();
    if (u.pathname !== '/ari/events') return refuse('404 Not Found', 'Not found');
    if (!this.authorized(req, u.searchParams)) return refuse('401 Unauthorized', 'Authentication required');
    const apps = (u.searchParams.get('app') ?? '').split(',').filter(Boolean);
    if (apps.length === 0) return refuse('400 Bad Request', 'HTTP request is missing param: [app]');
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      for (const app of apps) {
        const old = this.apps.get(app);
        if (old && old !== ws && old.readyState === old.OPEN) old.send(JSON.stringify(ev.appReplaced(app)));
        this.apps.set(app, ws);
        this.send(app, ev.appRegistered(app));
      }
      ws.on('close', () => {
        for (const app of apps) if (this.apps.get(app) === ws) this.apps.delete(app);
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
        const text = json === undefined ? '' : JSON.stringify(json);
        const headers: Record<string, string> = { 'Content-Type': 'application/json' };
        if (status === 401) headers['WWW-Authenticate'] = 'Basic realm="Asterisk REST Interface"';
        res.writeHead(status, headers);
        res.end(text);
      };
      if (!this.authorized(req, u.searchParams)) return reply(401, { message: 'Authentication required' });
      if (this.recordEvents) this.rest.push({ method: req.method ?? '', path: u.pathname, query: u.search });
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
        [...this.apps.keys()].map((a) => this.application(a)),
      );
    const am = /^\/ari\/applications\/([^/]+)(\/subscription)?$/.exec(p);
    if (am) {
      const app = decodeURIComponent(am[1] as string);
      if (!this.apps.has(app)) return reply(404, { message: 'Application not found' });
      if (!am[2] && method === 'GET') return reply(200, this.application(app));
      if (am[2] && (method === 'POST' || method === 'DELETE')) {
        const src = q.get('eventSource') ?? '';
        const m = /^channel:(.+)$/.exec(src);
        const run = m ? this.channels.get(m[1] as string) : undefined;
        if (!run) return reply(422, { message: 'Provided event source was not found' });
        if (method === 'POST') run.ch.subscribers.add(app);
        else run.ch.subscribers.delete(app);
        return reply(200, this.application(app));
      }
    }
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

  private application(app: string): Record<string, unknown> {
    const ids = [...this.channels.values()]
      .filter((r) => r.ch.stasisApp === app || r.ch.subscribers.has(app))
      .map((r) => r.ch.id);
    return {
      name: app,
      channel_ids: ids,
      bridge_ids: [],
      endpoint_ids: [],
      device_names: [],
      events_allowed: [],
      events_disallowed: [],
    };
  }
}
