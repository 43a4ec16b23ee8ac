/**
 * The direct REST transport (src/pbx/asterisk/direct.ts) on a real loopback HTTP server: the request
 * it builds from an operation of the API description (prefix from the resource's basePath, path,
 * query and body parameters), what it resolves, and that a discarded answer is still an error when
 * Asterisk refuses.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DirectRest, type SwaggerOp } from '../../src/pbx/asterisk/direct';

type Seen = { method?: string; url?: string; body: string; auth?: string };
let server: http.Server;
let base: URL;
const seen: Seen[] = [];
let reply: { status: number; body: string } = { status: 200, body: '' };

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, body, auth: req.headers.authorization });
      res.writeHead(reply.status, reply.body ? { 'Content-Type': 'application/json' } : {});
      res.end(reply.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
});
beforeEach(() => {
  seen.length = 0;
});

const subscribe: SwaggerOp = {
  path: '/applications/{applicationName}/subscription',
  method: 'post',
  parameters: [
    { name: 'applicationName', paramType: 'path' },
    { name: 'eventSource', paramType: 'query' },
  ],
  resource: { basePath: 'http://pbx.example:8088/under/ari' },
};
const setVars: SwaggerOp = {
  path: '/channels/{channelId}/variables',
  method: 'post',
  parameters: [
    { name: 'channelId', paramType: 'path' },
    { name: 'variables', paramType: 'body' },
  ],
};
const APP = JSON.stringify({ name: 'callgate', channel_ids: ['a', 'b'], events_allowed: [] });

test('each request is built from its operation, the prefix from its basePath every time; answers parsed unless discarded', async () => {
  const rest = new DirectRest(base, 'u', 'p', 4);
  try {
    reply = { status: 200, body: APP };
    expect(await rest.call(subscribe, { applicationName: 'call gate', eventSource: 'channel:1/2' }, 1000)).toEqual(
      JSON.parse(APP),
    );
    expect(
      await rest.call(subscribe, { applicationName: 'callgate', eventSource: 'channel:3' }, 1000, true),
    ).toBeUndefined();
    reply = { status: 204, body: '' };
    expect(await rest.call(setVars, { channelId: 'c-1', variables: { A: '1' } }, 1000, true)).toBeUndefined();
    expect(seen).toEqual([
      {
        method: 'POST',
        url: '/under/ari/applications/call%20gate/subscription?eventSource=channel%3A1%2F2',
        body: '',
        auth: `Basic ${Buffer.from('u:p').toString('base64')}`,
      },
      expect.objectContaining({ url: '/under/ari/applications/callgate/subscription?eventSource=channel%3A3' }),
      expect.objectContaining({ url: '/ari/channels/c-1/variables', body: '{"variables":{"A":"1"}}' }),
    ]);
  } finally {
    rest.close();
  }
});

test('a refusal is an error carrying the body, whether the answer would have been read or not', async () => {
  const rest = new DirectRest(base, 'u', 'p', 4);
  try {
    reply = { status: 404, body: '{"message":"Event source does not exist"}' };
    for (const discard of [false, true])
      await expect(
        rest.call(subscribe, { applicationName: 'callgate', eventSource: 'channel:gone' }, 1000, discard),
      ).rejects.toThrow('{"message":"Event source does not exist"}');
  } finally {
    rest.close();
  }
});
