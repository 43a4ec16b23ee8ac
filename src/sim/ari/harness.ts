/**
 * Test harness: the ARI simulator running the shipped dialplan snippet verbatim, plus the
 * Asterisk adapter connected to it with real ari-client, over loopback only.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import pino, { type Logger } from 'pino';
import { AsteriskAdapter, type AsteriskCallReport } from '../../pbx/asterisk/adapter';
import { asteriskConfigSchema, type AsteriskConfig } from '../../pbx/asterisk/config';
import type { GateService } from '../../gate/service';
import type { CallOutcome } from '../../gate/store';
import { SNIPPET_PATH } from './paths';
import { AriSimulator, type OriginateOptions, type SimOptions } from './server';

export { SNIPPET_PATH };
export const USER = 'callgate';
export const PASS = 's3cret:pa ss';

export function shippedDialplan(): string {
  return fs.readFileSync(SNIPPET_PATH, 'utf8');
}

export async function startSim(extra: Partial<SimOptions> = {}): Promise<AriSimulator> {
  const sim = new AriSimulator({ username: USER, password: PASS, dialplan: [shippedDialplan()], ...extra });
  await sim.start();
  return sim;
}

export function testLogger(): Logger {
  return pino({ level: process.env.CALLGATE_TEST_LOG ?? 'silent' });
}

export function adapterConfig(sim: AriSimulator, over: Partial<AsteriskConfig> = {}): AsteriskConfig {
  return asteriskConfigSchema.parse({
    url: sim.url,
    username: USER,
    password: PASS,
    allowContext: 'callgate-allowed',
    reconnectMinMs: 50,
    reconnectMaxMs: 400,
    requestTimeoutMs: 1000,
    ...over,
  });
}

/** The asterisk: settings of a test, plus the gate's deadline and fail mode (gate.deadlineMs, policy.failMode). */
export type AdapterOverrides = Partial<AsteriskConfig> & { deadlineMs?: number; failMode?: 'closed' | 'open' };

export type Running = {
  adapter: AsteriskAdapter;
  reports: AsteriskCallReport[];
  /** Outcomes the adapter recorded (or gave up as unknown), by decision id, in order. */
  outcomes: Array<{ decisionId: string; outcome: CallOutcome | 'unknown' }>;
  stop(): Promise<void>;
};

export function newAdapter(
  sim: AriSimulator,
  gate: GateService,
  over: AdapterOverrides = {},
  logger = testLogger(),
  sink: Pick<Running, 'reports' | 'outcomes'> = { reports: [], outcomes: [] },
): AsteriskAdapter {
  const { deadlineMs = 500, failMode = 'closed', ...config } = over;
  return new AsteriskAdapter({
    gate,
    config: adapterConfig(sim, config),
    deadlineMs,
    failMode,
    logger,
    onHandled: (r) => sink.reports.push(r),
    onOutcome: (decisionId, outcome) => sink.outcomes.push({ decisionId, outcome }),
  });
}

export async function startAdapter(
  sim: AriSimulator,
  gate: GateService,
  over: AdapterOverrides = {},
  logger = testLogger(),
): Promise<Running> {
  const sink: Pick<Running, 'reports' | 'outcomes'> = { reports: [], outcomes: [] };
  const adapter = newAdapter(sim, gate, over, logger, sink);
  await adapter.start();
  return { adapter, ...sink, stop: () => adapter.stop() };
}

/** A logger whose lines (parsed JSON) are kept, for tests that read warnings. */
export function captureLogger(level = 'debug'): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { logger, lines };
}

/** A dialer's call into [callgate-outbound] with a presented caller ID. */
export function dial(sim: AriSimulator, exten: string, o: Partial<OriginateOptions> & { campaign?: string } = {}) {
  return sim.originate({
    exten,
    callerId: { number: '+33123456789', name: 'Agent 7' },
    pres: 'allowed_not_screened',
    ...o,
    vars: { ...(o.campaign ? { CALLGATE_CAMPAIGN: o.campaign } : {}), ...(o.vars ?? {}) },
  });
}

/** Waits until `cond` holds, polling on the event loop (no wall-clock assertion). */
export async function until(cond: () => boolean, what: string, maxMs = 10_000): Promise<void> {
  const end = Date.now() + maxMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** PUT /applications/{app}/eventFilter with `body`, as another ARI client would. */
export function putEventFilter(
  sim: AriSimulator,
  body: string,
  app = 'callgate',
): Promise<{ status: number; json: unknown }> {
  return ariRequest(sim, 'PUT', `/ari/applications/${app}/eventFilter`, body);
}

/** Waits for the adapter's filter request after it connected, then empties the filter (every event type sent). */
export async function withoutEventFilter(sim: AriSimulator): Promise<void> {
  await until(() => sim.rest.some((q) => q.path === '/ari/applications/callgate/eventFilter'), 'event filter set');
  await until(
    () => sim.rest.some((q) => q.method === 'GET' && q.path === '/ari/applications/callgate'),
    'recovery scan',
  );
  const r = await putEventFilter(sim, '');
  if (r.status !== 200) throw new Error(`could not clear the event filter: ${r.status}`);
}

/**
 * A bare ARI application on the event WebSocket (the `ws` package, no ari-client): it registers
 * `app`, keeps every event it receives, and does nothing else — what Asterisk sees of a gate whose
 * process was stopped (SIGSTOP): its socket stays open, nothing answers.
 */
export async function bareApp(
  sim: AriSimulator,
  app = 'callgate',
): Promise<{ events: Array<Record<string, unknown>>; close(): void }> {
  const { WebSocket } = await import('ws');
  const u = new URL(sim.url);
  const ws = new WebSocket(
    `ws://${u.host}/ari/events?app=${app}&api_key=${encodeURIComponent(USER)}:${encodeURIComponent(PASS)}`,
  );
  const events: Array<Record<string, unknown>> = [];
  ws.on('message', (d: Buffer) => events.push(JSON.parse(d.toString()) as Record<string, unknown>));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  await until(() => sim.registeredApps().includes(app), 'bare app registered');
  return { events, close: () => ws.terminate() };
}

/** A REST request from another ARI client, over the wire: status and parsed reply. */
export function ariRequest(
  sim: AriSimulator,
  method: string,
  path: string,
  body?: string,
): Promise<{ status: number; json: unknown }> {
  const u = new URL(sim.url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        method,
        path,
        auth: `${USER}:${PASS}`,
        headers: { 'Content-Type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, json: text ? (JSON.parse(text) as unknown) : undefined }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
