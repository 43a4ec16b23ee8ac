/**
 * The stand-in gate of the Asterisk benchmark (issue 12): the least an ARI application can do to
 * gate calls with the same round trips as callgate, and nothing else — no store, no rules, no
 * ari-client. It allows a number whose last digit is even and blocks the others, and per call
 * sends exactly the requests callgate sends: its event filter once at connect; then for an allowed
 * call the variables (with TIMEOUT(absolute)=0) and the subscription, then `continue`; for a blocked
 * one the variables, then the hangup. It follows allowed calls until ChannelDestroyed, as callgate
 * does for their outcome. Its CPU per call is the floor callgate's is compared with.
 */
import * as http from 'node:http';
import { WebSocket } from 'ws';

export type StandIn = { stop(): Promise<void>; following(): number };

const EVENTS = [
  'StasisStart',
  'StasisEnd',
  'ChannelStateChange',
  'ChannelHangupRequest',
  'ChannelDestroyed',
  'Dial',
  'ApplicationReplaced',
  'ApplicationRegistered',
];

export async function startStandIn(opts: {
  url: string;
  username: string;
  password: string;
  app: string;
  allowContext: string;
}): Promise<StandIn> {
  const base = new URL(opts.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  const auth = 'Basic ' + Buffer.from(`${opts.username}:${opts.password}`).toString('base64');
  const request = (method: string, path: string, json?: unknown): Promise<string> =>
    new Promise((resolve, reject) => {
      const body = json === undefined ? undefined : JSON.stringify(json);
      const headers: Record<string, string> = { Authorization: auth };
      if (body !== undefined) {
        headers['Content-Type'] = 'application/json';
        headers['Content-Length'] = String(Buffer.byteLength(body));
      }
      const req = http.request(
        { host: base.hostname, port: base.port, method, path, headers, agent, timeout: 2000 },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => ((res.statusCode ?? 500) >= 400 ? reject(new Error(text)) : resolve(text)));
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end(body);
    });
  const following = new Set<string>();
  const ws = new WebSocket(
    `ws://${base.host}/ari/events?app=${opts.app}&api_key=${encodeURIComponent(opts.username)}:${encodeURIComponent(opts.password)}`,
  );
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  await request('PUT', `/ari/applications/${opts.app}/eventFilter`, {
    allowed: EVENTS.map((type) => ({ type })),
    disallowed: [],
  });
  const onCall = async (id: string, number: string): Promise<void> => {
    const c = encodeURIComponent(id);
    const allow = Number(number[number.length - 1]) % 2 === 0;
    const variables: Record<string, string> = {
      CALLGATE_VERDICT: allow ? 'allow' : 'block',
      CALLGATE_DECISION_ID: `s-${id}`,
      CALLGATE_BASIS: allow ? 'consent' : 'none',
      CALLGATE_TAGS: '',
      'TIMEOUT(absolute)': '0',
    };
    if (allow) {
      following.add(id);
      await Promise.all([
        request('POST', `/ari/channels/${c}/variables`, { variables }),
        request('POST', `/ari/applications/${opts.app}/subscription?eventSource=channel%3A${c}`),
      ]);
      await request(
        'POST',
        `/ari/channels/${c}/continue?context=${opts.allowContext}&extension=${encodeURIComponent(number)}&priority=1`,
      );
    } else {
      variables.CALLGATE_REASONS = 'no_consent';
      await request('POST', `/ari/channels/${c}/variables`, { variables });
      await request('DELETE', `/ari/channels/${c}?reason=rejected`);
    }
  };
  ws.on('message', (data: Buffer) => {
    const ev = JSON.parse(data.toString()) as { type: string; channel?: { id: string }; args?: string[] };
    if (ev.type === 'StasisStart' && ev.channel)
      onCall(ev.channel.id, ev.args?.[0] ?? '').catch(() => following.delete(ev.channel!.id));
    else if (ev.type === 'ChannelDestroyed' && ev.channel) following.delete(ev.channel.id);
  });
  return {
    following: () => following.size,
    async stop() {
      await new Promise<void>((r) => {
        ws.once('close', () => r());
        ws.close(1000);
      });
      agent.destroy();
    },
  };
}
