/**
 * A small typed wrapper around `ari-client` 2.2.0 (Asterisk REST Interface).
 *
 * Why a wrapper (read in ari-client 2.2.0's source, verified against a mock and a real Asterisk):
 * - ari-client's REST calls never settle when the TCP connection drops (node-ari-client#78):
 *   every call here has an explicit timeout.
 * - a wrong password makes `connect()` reject with a *string* and also throw that string as an
 *   uncaught exception: we probe `resources.json` with the credentials first (one clear
 *   CG_ERR_PBX_CONNECT error), and patch swagger-client's fail() so it never throws.
 * - its WebSocket reconnect gives up for good after 10 tries (~43 s), and an event type it does
 *   not know crashes the process inside the `message` handler: the event WebSocket is opened
 *   here (with the `ws` that ari-client itself depends on), with our own reconnect loop
 *   (exponential backoff capped at reconnectMaxMs ≤ 1 s, with jitter, forever: an Asterisk that is
 *   back is found within a second) and a `closing` flag so stop() never retries.
 * - the application event filter is sent with Node's http, the body as Asterisk reads it
 *   (ari-client would wrap it in the parameter's name, which Asterisk ignores).
 * - swagger-client prints "This API is using a deprecated version of Swagger!" on stdout at
 *   every connect through an implicit global `log`: that global is routed to the logger so the
 *   CLI's stdout stays clean.
 * - HTTP errors come back as `Error(<raw JSON body>)` with no status: turned into AriHttpError
 *   with the ARI message.
 */
import { EventEmitter } from 'node:events';
import * as http from 'node:http';
import * as path from 'node:path';
import type { Logger } from 'pino';
import { CallgateError } from '../../errors';
import { maskUrlCredentials } from '../../gate/mask';
import { DirectRest, type SwaggerOp } from './direct';
import { limitRepeats, type RepeatLimiter } from '../../gate/logger';

/** Channel snapshot as Asterisk sends it (ast_channel_snapshot_to_json). */
export type AriChannel = {
  id: string;
  name: string;
  state: string;
  protocol_id?: string;
  caller: { name: string; number: string };
  connected?: { name: string; number: string };
  accountcode?: string;
  dialplan?: { context?: string; exten?: string; priority?: number; app_name?: string; app_data?: string };
  creationtime?: string;
  language?: string;
};

/** The fields of the ARI events the adapter reads; everything else is kept as sent. */
export type AriEvent = {
  type: string;
  timestamp?: string;
  application?: string;
  asterisk_id?: string;
  channel?: AriChannel;
  args?: string[];
  cause?: number;
  cause_txt?: string;
  dialstatus?: string;
  caller?: AriChannel;
  peer?: AriChannel;
  variable?: string;
  value?: string;
  soft?: boolean;
  [k: string]: unknown;
};

export type AriConnectionOptions = {
  url: string;
  username: string;
  password: string;
  app: string;
  requestTimeoutMs: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** WebSocket ping period; a missing pong by the next ping drops and reopens the socket. */
  pingIntervalMs: number;
  /** At most this many REST requests in flight (Asterisk's http.conf sessionlimit defaults to 100). */
  maxConcurrentRequests: number;
  /** Per-call REST transport: 'direct' (Node http, ops from the loaded API description) or 'ari-client' (swagger-client/shred). */
  rest: 'direct' | 'ari-client';
  logger: Logger;
};

/** An ARI REST call answered with an HTTP error (ari-client gives only the body). */
export class AriHttpError extends CallgateError {
  constructor(
    readonly operation: string,
    readonly ariMessage: string,
  ) {
    super('CG_ERR_ARI_REQUEST', `ARI ${operation} failed: ${ariMessage}`);
    this.name = 'AriHttpError';
  }
  /** The channel is gone (hung up meanwhile, or an Asterisk restart): not a fault of the gate. */
  get channelGone(): boolean {
    return /^Channel (not found|cannot be found)|^Event source (does not exist|was not found)/i.test(this.ariMessage);
  }
  /** The channel exists but has left Stasis (409): someone else — a hangup, the dialplan's backstop — released it. */
  get notInStasis(): boolean {
    return /not in Stasis/i.test(this.ariMessage);
  }
}

/** Connection-level problems: CG_ERR_ARI_AUTH when Asterisk refused the user, else CG_ERR_PBX_CONNECT. */
export class AriConnectError extends CallgateError {
  constructor(
    message: string,
    readonly auth: boolean,
    options?: { cause?: unknown },
  ) {
    super(auth ? 'CG_ERR_ARI_AUTH' : 'CG_ERR_PBX_CONNECT', message, options);
    this.name = 'AriConnectError';
  }
}

/** The REST operations the gate uses, each with a timeout. */
export interface AriRest {
  continueInDialplan(channelId: string, to: { context: string; extension: string; priority: number }): Promise<void>;
  hangup(channelId: string, reason: string): Promise<void>;
  setChannelVars(channelId: string, vars: Record<string, string>): Promise<void>;
  /** Subscribe the app to a channel so its events keep coming after StasisEnd. */
  subscribeChannel(channelId: string): Promise<void>;
  /**
   * Sets the application's event filter (PUT /applications/{app}/eventFilter): only these event
   * types are serialised and sent to the app. Resolves whether Asterisk reports it applied.
   */
  setEventFilter(allowed: readonly string[]): Promise<boolean>;
  /** Channel ids the application currently holds (in Stasis or subscribed). */
  applicationChannelIds(): Promise<string[]>;
  /** Snapshot of a channel, or undefined when it no longer exists. */
  getChannel(channelId: string): Promise<AriChannel | undefined>;
}

/* ------------------------------------------------------------------ ari-client, typed minimally */

type AriOp = (params: Record<string, unknown>) => Promise<unknown>;
type AriClientLike = {
  channels: Record<string, AriOp>;
  applications: Record<string, AriOp>;
  /** swagger-client's loaded description (ari-client keeps it here). */
  _swagger?: { apis?: Record<string, { operations?: Record<string, SwaggerOp> }> };
};
type AriModule = { connect(url: string, user: string, pass: string): Promise<AriClientLike> };

/** The `ws` (6.x) that ari-client depends on: present whenever ari-client is installed. */
type WsLike = EventEmitter & {
  readyState: number;
  close(code?: number): void;
  terminate(): void;
  ping(): void;
};
type WsCtor = new (url: string) => WsLike;

function loadWs(): WsCtor {
  const ariDir = path.dirname(require.resolve('ari-client/package.json'));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(require.resolve('ws', { paths: [ariDir] })) as WsCtor;
}

/* swagger-client logs through an implicit global `log` (console.log to stdout). */
let swaggerLogger: Logger | undefined;
function routeSwaggerLog(logger: Logger): void {
  swaggerLogger = logger;
  (globalThis as Record<string, unknown>).log = (...args: unknown[]) => {
    swaggerLogger?.debug({ swagger: args.map(String) }, 'swagger-client message (routed off stdout)');
  };
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`ARI ${what}: no answer within ${ms} ms (connection dropped?)`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}

function toAriError(operation: string, e: unknown): Error {
  if (e instanceof Error && e.message.startsWith('ARI ')) return e;
  const raw = e instanceof Error ? e.message : String(e);
  let msg = raw;
  try {
    const body = JSON.parse(raw) as { message?: unknown };
    if (body && typeof body.message === 'string') msg = body.message;
  } catch {
    /* not JSON: keep the raw text */
  }
  return new AriHttpError(operation, msg);
}

/** GET resources.json with the credentials: tells a wrong password apart from an unreachable host. */
function probe(opts: AriConnectionOptions): Promise<void> {
  const base = new URL(opts.url);
  if (base.protocol !== 'http:') {
    return Promise.reject(
      new AriConnectError(
        `asterisk.url must be http:// (ari-client cannot follow Asterisk's http basePath behind TLS); got ${base.protocol}`,
        false,
      ),
    );
  }
  return new Promise((resolve, reject) => {
    const req = http.get(
      {
        host: base.hostname,
        port: base.port || 80,
        path: '/ari/api-docs/resources.json',
        auth: `${opts.username}:${opts.password}`,
        timeout: opts.requestTimeoutMs,
        agent: false,
      },
      (res) => {
        res.resume();
        if (res.statusCode === 200) return resolve();
        if (res.statusCode === 401 || res.statusCode === 403) {
          return reject(
            new AriConnectError(
              `ARI at ${base.host} refused user '${opts.username}' (HTTP ${res.statusCode}): check asterisk.username/password against ari.conf`,
              true,
            ),
          );
        }
        reject(
          new AriConnectError(
            `ARI at ${base.host} answered HTTP ${res.statusCode} for /ari/api-docs/resources.json: is ARI enabled (ari.conf enabled=yes, http.conf)?`,
            false,
          ),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${opts.requestTimeoutMs} ms`)));
    req.on('error', (e) =>
      reject(
        new AriConnectError(
          `cannot reach ARI at ${base.host}: ${e.message}; check asterisk.url and that Asterisk runs with ARI enabled`,
          false,
          { cause: e },
        ),
      ),
    );
  });
}

/**
 * swagger-client's SwaggerApi.fail() calls the failure callback (which rejects ari-client's
 * connect) and then *throws the message string* inside an HTTP callback: an uncaught exception.
 * Every caller does `return api.fail(…)`, so the throw only kills the process. Patched once, here,
 * to report without throwing; the rejection still carries the message.
 */
let swaggerPatched = false;
function patchSwaggerFail(): void {
  if (swaggerPatched) return;
  const ariDir = path.dirname(require.resolve('ari-client/package.json'));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const swagger = require(require.resolve('swagger-client', { paths: [ariDir] })) as {
    SwaggerApi?: { prototype: { fail: (m: unknown) => void; failure: (m: unknown) => void } };
  };
  const proto = swagger.SwaggerApi?.prototype;
  if (proto && typeof proto.fail === 'function') {
    proto.fail = function (this: { failure: (m: unknown) => void }, message: unknown) {
      this.failure(message);
    };
    swaggerPatched = true;
  }
}

/** ari-client's connect, with a timeout (it can hang forever) and one clear error. */
async function ariConnect(opts: AriConnectionOptions): Promise<AriClientLike> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ari = require('ari-client') as AriModule;
  routeSwaggerLog(opts.logger);
  patchSwaggerFail();
  try {
    return await withTimeout(
      ari.connect(opts.url, opts.username, opts.password),
      opts.requestTimeoutMs * 3,
      'loading the API description',
    );
  } catch (e) {
    const text = typeof e === 'string' ? e : e instanceof Error ? e.message : String(e);
    throw new AriConnectError(
      `ari-client could not load the ARI API description from ${maskUrlCredentials(`${opts.url}: ${text}`)}; check asterisk.username/password and that this user may read every ARI resource`,
      /^401\b|returned Unauthorized/.test(text),
    );
  }
}

/**
 * One ARI connection: REST through ari-client, events through our own WebSocket.
 * Events: 'event' (AriEvent), 'connected' (each time the event socket opens, the app is
 * registered), 'disconnected' (Error), 'error' is never emitted (faults are logged).
 */
export class AriConnection extends EventEmitter implements AriRest {
  private client: AriClientLike | undefined;
  private ws: WsLike | undefined;
  /** A socket still opening (stop() must not let it register the app). */
  private pendingWs: WsLike | undefined;
  private closing = false;
  private attempt = 0;
  /** When the current outage began (first failed attempt), for the reconnect line. */
  private downSince: number | undefined;
  /** Jitter source (tests may pin it). */
  random: () => number = Math.random;
  private timer: NodeJS.Timeout | undefined;
  private pinger: NodeJS.Timeout | undefined;
  private readonly Ws = loadWs();
  private readonly log: Logger;
  private readonly repeats: RepeatLimiter;
  /** Resolved the first time the event socket opens. */
  private firstOpen: { resolve: () => void; reject: (e: Error) => void } | undefined;

  /** Node http on a keep-alive agent: the per-call operations when rest is 'direct', and always the event filter. */
  private readonly direct: DirectRest;

  constructor(private readonly opts: AriConnectionOptions) {
    super();
    this.log = opts.logger;
    this.repeats = limitRepeats(this.log);
    this.direct = new DirectRest(new URL(opts.url), opts.username, opts.password, opts.maxConcurrentRequests);
  }

  get connected(): boolean {
    return this.ws !== undefined && this.ws.readyState === 1;
  }

  /**
   * Connects. Resolves when the app is registered; rejects on a wrong password (retrying
   * cannot fix it). An unreachable Asterisk resolves `false` and keeps retrying in the background.
   */
  start(): Promise<boolean> {
    this.closing = false;
    return new Promise<boolean>((resolve, reject) => {
      this.firstOpen = { resolve: () => resolve(true), reject };
      this.connectOnce().catch((e: unknown) => {
        const err = e instanceof Error ? e : new Error(String(e));
        if (err instanceof AriConnectError && err.auth) {
          this.firstOpen = undefined;
          this.closing = true;
          return reject(err);
        }
        this.firstOpen = undefined;
        resolve(false);
        this.scheduleReconnect(err);
      });
    });
  }

  async stop(): Promise<void> {
    this.closing = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.pinger) clearInterval(this.pinger);
    this.timer = this.pinger = undefined;
    this.direct.close();
    this.pendingWs?.terminate();
    this.pendingWs = undefined;
    const ws = this.ws;
    this.ws = undefined;
    if (ws && ws.readyState <= 1) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          ws.terminate();
          resolve();
        }, 1000);
        ws.once('close', () => {
          clearTimeout(t);
          resolve();
        });
        ws.close(1000);
      });
    }
  }

  private async connectOnce(): Promise<void> {
    await probe(this.opts);
    if (this.closing) return;
    if (!this.client) this.client = await ariConnect(this.opts);
    if (this.closing) return;
    await this.openSocket();
  }

  private openSocket(): Promise<void> {
    const base = new URL(this.opts.url);
    const wsUrl =
      `ws://${base.host}/ari/events?app=${encodeURIComponent(this.opts.app)}` +
      `&api_key=${encodeURIComponent(this.opts.username)}:${encodeURIComponent(this.opts.password)}`;
    return new Promise<void>((resolve, reject) => {
      const ws = new this.Ws(wsUrl);
      this.pendingWs = ws;
      let opened = false;
      let alive = true;
      ws.on('open', () => {
        this.pendingWs = undefined;
        if (this.closing) {
          ws.close(1000); // stop() came while the socket was opening: never register the app
          return resolve();
        }
        opened = true;
        this.ws = ws;
        const outage = this.downSince === undefined ? undefined : Date.now() - this.downSince;
        const attempts = this.attempt;
        this.attempt = 0;
        this.downSince = undefined;
        this.pinger = setInterval(() => {
          if (!alive) {
            this.log.warn('ARI WebSocket: no pong since the last ping, dropping it');
            ws.terminate();
            return;
          }
          alive = false;
          ws.ping();
        }, this.opts.pingIntervalMs);
        this.pinger.unref();
        resolve();
        if (outage === undefined) this.log.info({ app: this.opts.app }, 'ARI connected, Stasis app registered');
        else
          this.log.info(
            { app: this.opts.app, outageMs: outage, attempts },
            'ARI connected again, Stasis app registered',
          );
        if (this.firstOpen) {
          this.firstOpen.resolve();
          this.firstOpen = undefined;
        }
        this.emit('connected');
      });
      ws.on('pong', () => {
        alive = true;
      });
      ws.on('message', (data: unknown) => this.onMessage(String(data)));
      ws.on('error', (e: Error) => {
        if (!opened)
          reject(
            new AriConnectError(`ARI WebSocket to ${base.host} failed: ${e.message}`, /401/.test(e.message), {
              cause: e,
            }),
          );
        else this.log.warn({ err: e.message }, 'ARI WebSocket error');
      });
      ws.on('close', (code: number) => {
        if (this.pinger) clearInterval(this.pinger);
        this.pinger = undefined;
        if (this.ws === ws) this.ws = undefined;
        if (!opened) return; // the error handler rejected
        if (this.closing) return;
        const err = new Error(`ARI WebSocket closed (code ${code})`);
        this.downSince = Date.now();
        this.emit('disconnected', err);
        this.scheduleReconnect(err);
      });
    });
  }

  /**
   * Capped exponential backoff with jitter: reconnectMinMs doubling up to reconnectMaxMs
   * (at most 1000), each delay drawn in [½, 1] of its step so that several gates do not retry in step;
   * forever, never once stop() set `closing`. The first failure of an outage is a warning, the
   * retries are debug lines, and the reconnect says how long it took.
   */
  private scheduleReconnect(err: Error): void {
    if (this.closing || this.timer) return;
    const step = Math.min(this.opts.reconnectMaxMs, this.opts.reconnectMinMs * 2 ** Math.min(this.attempt, 20));
    const delay = Math.max(1, Math.round(step * (0.5 + 0.5 * this.random())));
    this.attempt++;
    this.downSince ??= Date.now();
    const fields = { code: 'CG_ERR_PBX_CONNECT', err: err.message, retryInMs: delay, attempt: this.attempt };
    if (this.attempt === 1) this.log.warn(fields, 'ARI not connected, retrying (every second at most)');
    else this.log.debug(fields, 'ARI still not connected, retrying');
    this.emit('retry', delay);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.closing) return;
      this.connectOnce().catch((e: unknown) => this.scheduleReconnect(e instanceof Error ? e : new Error(String(e))));
    }, delay);
  }

  private onMessage(text: string): void {
    let ev: AriEvent;
    try {
      ev = JSON.parse(text) as AriEvent;
    } catch {
      this.repeats.warn('ari.frame', { text: text.slice(0, 200) }, 'ARI sent a frame that is not JSON; ignored');
      return;
    }
    if (!ev || typeof ev.type !== 'string') return;
    this.emit('event', ev);
  }

  /* --------------------------------------------------------------------------- REST */

  private active = 0;
  private readonly queue: Array<() => void> = [];

  /**
   * One REST call: queued under maxConcurrentRequests, then timed out after requestTimeoutMs.
   * `unread`: the caller does not use the answer (the direct transport drains it unparsed).
   */
  private async op(
    resource: 'channels' | 'applications',
    name: string,
    params: Record<string, unknown>,
    unread = false,
  ): Promise<unknown> {
    if (this.active >= this.opts.maxConcurrentRequests) await new Promise<void>((r) => this.queue.push(r));
    this.active++;
    try {
      const client = this.client;
      if (!client) throw new Error(`ARI ${name}: not connected`);
      if (!this.has(resource, name)) throw new Error(`ARI ${name}: this Asterisk does not offer ${resource}.${name}`);
      const swaggerOp = client._swagger?.apis?.[resource]?.operations?.[name];
      const sent =
        this.opts.rest === 'direct' && swaggerOp
          ? this.direct.call(swaggerOp, params, this.opts.requestTimeoutMs, unread)
          : (client[resource][name] as AriOp)(params);
      return await withTimeout(Promise.resolve(sent), this.opts.requestTimeoutMs, name);
    } catch (e) {
      throw toAriError(name, e);
    } finally {
      this.active--;
      this.queue.shift()?.();
    }
  }

  async continueInDialplan(
    channelId: string,
    to: { context: string; extension: string; priority: number },
  ): Promise<void> {
    await this.op('channels', 'continueInDialplan', { channelId, ...to }, true);
  }

  async hangup(channelId: string, reason: string): Promise<void> {
    await this.op('channels', 'hangup', { channelId, reason }, true);
  }

  /** Whether the connected Asterisk's API description offers an operation. */
  has(resource: 'channels' | 'applications', name: string): boolean {
    return typeof this.client?.[resource]?.[name] === 'function';
  }

  async setChannelVars(channelId: string, vars: Record<string, string>): Promise<void> {
    if (this.has('channels', 'setChannelVars')) {
      await this.op('channels', 'setChannelVars', { channelId, variables: vars }, true);
      return;
    }
    // Asterisks without POST /channels/{id}/variables: one request per variable.
    await Promise.all(
      Object.entries(vars).map(([variable, value]) =>
        this.op('channels', 'setChannelVar', { channelId, variable, value }, true),
      ),
    );
  }

  async subscribeChannel(channelId: string): Promise<void> {
    // Asterisk answers with the whole application (every channel id it holds): not read
    await this.op(
      'applications',
      'subscribe',
      { applicationName: this.opts.app, eventSource: `channel:${channelId}` },
      true,
    );
  }

  /**
   * The app's event filter. Asterisk reads the filter from the top of the request body
   * (`{"allowed":[{"type":…}]}`), while ari-client (swagger-client) wraps a body parameter in its
   * name (`{"filter":{…}}`), which Asterisk takes as "no list given" and leaves the filter unchanged
   * (the same fault was reported against ari4java, issue #208): so this request is always sent with
   * Node's http, the body as Asterisk documents it. Asterisks before 13.26/16.3 lack the operation.
   */
  async setEventFilter(allowed: readonly string[]): Promise<boolean> {
    if (!this.has('applications', 'filter')) return false;
    const body = { allowed: allowed.map((type) => ({ type })), disallowed: [] };
    const app = (await withTimeout(
      this.direct.send(
        'PUT',
        `/ari/applications/${encodeURIComponent(this.opts.app)}/eventFilter`,
        body,
        this.opts.requestTimeoutMs,
      ),
      this.opts.requestTimeoutMs,
      'filter',
    ).catch((e: unknown) => {
      throw toAriError('filter', e);
    })) as { events_allowed?: Array<{ type?: unknown }> } | undefined;
    const got = new Set((app?.events_allowed ?? []).map((e) => e?.type));
    return allowed.every((t) => got.has(t));
  }

  async applicationChannelIds(): Promise<string[]> {
    const app = (await this.op('applications', 'get', { applicationName: this.opts.app })) as
      { channel_ids?: string[] } | undefined;
    return Array.isArray(app?.channel_ids) ? [...app.channel_ids] : [];
  }

  /**
   * POST /channels (originate): creates the channel and dials it at once; answers with the new
   * channel's snapshot (state Down) without waiting for the callee. For the admin API's originate
   * into the gated path (the adapter's originate()).
   */
  async originate(params: {
    endpoint: string;
    context: string;
    extension: string;
    priority: number;
    callerId: string;
    timeout: number;
    channelId: string;
    otherChannelId: string;
    variables: Record<string, string>;
  }): Promise<{ id: string }> {
    const ch = (await this.op('channels', 'originate', params)) as { id?: unknown } | undefined;
    // ari-client wraps it in a resource instance: only the id is read
    return { id: typeof ch?.id === 'string' ? ch.id : params.channelId };
  }

  async getChannel(channelId: string): Promise<AriChannel | undefined> {
    try {
      const ch = (await this.op('channels', 'get', { channelId })) as AriChannel & Record<string, unknown>;
      // ari-client wraps it in a resource instance (circular, not JSON-able): copy the data fields.
      return {
        id: ch.id,
        name: ch.name,
        state: ch.state,
        caller: ch.caller,
        dialplan: ch.dialplan,
      };
    } catch (e) {
      if (e instanceof AriHttpError && e.channelGone) return undefined;
      throw e;
    }
  }
}
