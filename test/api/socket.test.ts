/** The admin API over a real loopback socket: keep-alive requests, the live event stream, the listen error. */
import * as http from 'node:http';
import { createServer } from 'node:net';
import { startApi, type ApiServer } from '../../src/api';
import { createRuntime, type Runtime } from '../../src/main';
import { logSink } from '../gate/helpers';
import { apiConfig, AUTH, CONSUMER, TOKEN, type Reply } from './helpers';

let rt: Runtime;
let server: ApiServer;
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

beforeEach(async () => {
  const config = apiConfig();
  rt = createRuntime(config, { logger: logSink('warn').logger });
  server = await startApi({
    config,
    token: TOKEN,
    listen: { host: '127.0.0.1', port: 0 },
    gate: rt.gate,
    store: rt.store,
    clock: rt.clock,
    logger: rt.logger,
    adapters: [],
  });
});
afterEach(async () => {
  await server.close();
  await rt.close();
});
afterAll(() => agent.destroy());

function request(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = AUTH,
): Promise<Pick<Reply, 'status' | 'json'> & { socket: unknown }> {
  const url = new URL(path, server.url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method, agent, headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) } },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(text), socket: res.socket }));
      },
    );
    req.on('error', reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

test('listens on loopback and answers keep-alive requests on one connection', async () => {
  expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  const health = await request('GET', '/healthz', undefined, {});
  expect(health).toMatchObject({ status: 200, json: { status: 'ok' } });
  await rt.store.addConsent({
    e164: CONSUMER,
    professional: 'acme',
    categories: [],
    collectedAt: new Date('2026-10-01'),
  });
  const a = await request('POST', '/v1/attempts', {
    to: '0612345678',
    callerId: '0162000001',
    campaign: 'acme-energy',
  });
  const b = await request('POST', '/v1/attempts', {
    to: '0612345678',
    callerId: '0162000001',
    campaign: 'acme-energy',
  });
  expect([a.json.verdict, b.json.verdict]).toEqual(['allow', 'allow']);
  expect(a.socket).toBe(b.socket); // the same connection, kept alive
  expect((await request('GET', '/v1/stats', undefined, {})).status).toBe(401);
});

test('GET /v1/events streams the last hour at once, then each decision, and ends when the API closes', async () => {
  const events: { event: string; data: Reply['json'] }[] = [];
  let ended = false;
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    const req = http.get(new URL('/v1/events', server.url), { headers: AUTH }, resolve);
    req.on('error', reject);
  });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
  let buffer = '';
  res.on('data', (c: Buffer) => {
    buffer += c.toString();
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event && data) events.push({ event, data: JSON.parse(data) });
    }
  });
  res.on('end', () => (ended = true));
  const until = async (cond: () => boolean) => {
    for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
    expect(cond()).toBe(true);
  };
  await until(() => events.length > 0);
  expect(events[0]).toMatchObject({ event: 'stats', data: { totals: { decisions: 0 } } });
  expect(events[0]!.data.minutes).toHaveLength(60);

  const d = await request('POST', '/v1/check', { to: '0612345678', callerId: '0162000001' });
  await until(() => events.some((e) => e.event === 'decisions'));
  const pushed = events.find((e) => e.event === 'decisions')!.data;
  expect(pushed).toEqual([
    expect.objectContaining({
      id: d.json.id,
      verdict: 'block',
      reasons: ['no_consent'],
      campaign: 'default',
      to: '+336******78', // masked, as in the log (log.maskNumbers)
      source: 'api',
      recorded: false,
      failMode: false,
    }),
  ]);
  await server.close();
  await until(() => ended);
});

test('a port in use stops the start with CG_ERR_API_LISTEN', async () => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const port = (blocker.address() as { port: number }).port;
  try {
    const err = await startApi({
      config: apiConfig(),
      token: TOKEN,
      listen: { host: '127.0.0.1', port },
      gate: rt.gate,
      store: rt.store,
      clock: rt.clock,
      logger: rt.logger,
      adapters: [],
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CG_ERR_API_LISTEN' });
    expect((err as Error).message).toMatch(
      new RegExp(`cannot listen for the admin API on 127\\.0\\.0\\.1:${port} .*api\\.listen`),
    );
  } finally {
    blocker.close();
  }
});
