/**
 * The simulator delivers events as a real FreeSWITCH does: to every inbound connection that
 * subscribed to them and did not filter them out, in the format it asked for; `noevents`,
 * `nixevent`, `filter` / `filter delete` and `myevents` change that as mod_event_socket does; a
 * dialer's `bgapi originate` results reach everyone subscribed to BACKGROUND_JOB (issue 12).
 */
import net from 'node:net';
import { unescape } from 'node:querystring';
import { SimDialer } from '../../../src/sim/esl/dialer';
import { loadDialplan } from '../../../src/sim/esl/dialplan';
import { serializeXml, type Pairs } from '../../../src/sim/esl/framing';
import { SHIPPED_DIALPLAN } from '../../../src/sim/esl/paths';
import { EslSimulator, type CallRecord } from '../../../src/sim/esl/simulator';
import { readSample } from '../../../src/sim/esl/transcript';

type Frame = { headers: Record<string, string>; body: string };

/** A raw inbound client: sends commands, collects every frame FreeSWITCH writes. */
class Raw {
  readonly frames: Frame[] = [];
  private buf = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  private constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      for (;;) {
        const end = this.buf.indexOf('\n\n');
        if (end < 0) break;
        const head = this.buf.subarray(0, end).toString();
        const headers: Record<string, string> = {};
        for (const l of head.split('\n')) {
          const i = l.indexOf(': ');
          headers[l.slice(0, i)] = l.slice(i + 2);
        }
        const len = Number(headers['Content-Length'] ?? '0');
        if (this.buf.length < end + 2 + len) break;
        this.frames.push({ headers, body: this.buf.subarray(end + 2, end + 2 + len).toString() });
        this.buf = this.buf.subarray(end + 2 + len);
      }
      for (const w of this.waiters.splice(0)) w();
    });
  }
  static async open(port: number): Promise<Raw> {
    const s = net.connect({ host: '127.0.0.1', port });
    const r = new Raw(s);
    await r.until((f) => f.headers['Content-Type'] === 'auth/request');
    await r.send('auth ClueCon');
    return r;
  }
  async until(p: (f: Frame) => boolean, from = 0): Promise<Frame> {
    for (;;) {
      const f = this.frames.slice(from).find(p);
      if (f) return f;
      await new Promise<void>((res) => this.waiters.push(res));
    }
  }
  /** Sends one command, resolves with its reply's Reply-Text (or api body). */
  async send(cmd: string): Promise<string> {
    const from = this.frames.length;
    this.socket.write(`${cmd}\n\n`);
    const f = await this.until(
      (x) => x.headers['Content-Type'] === 'command/reply' || x.headers['Content-Type'] === 'api/response',
      from,
    );
    this.frames.splice(this.frames.indexOf(f), 1);
    return f.headers['Reply-Text'] ?? f.body;
  }
  events(): Frame[] {
    return this.frames.filter((f) => (f.headers['Content-Type'] ?? '').startsWith('text/event-'));
  }
  names(): string[] {
    return this.events().map((f) => {
      const t = f.headers['Content-Type'];
      if (t === 'text/event-json') return (JSON.parse(f.body) as Record<string, string>)['Event-Name'] as string;
      if (t === 'text/event-xml') return /<Event-Name>([^<]*)</.exec(f.body)?.[1] as string;
      return /^Event-Name: (.*)$/m.exec(f.body)?.[1] as string;
    });
  }
  close(): void {
    this.socket.destroy();
  }
}

let sim: EslSimulator;
let port: number;
const ended: CallRecord[] = [];
const open: Raw[] = [];

beforeEach(async () => {
  ended.length = 0;
  // No gate listens: every call in callgate-outbound is refused by the dialplan (CALL_REJECTED).
  sim = new EslSimulator({
    dialplan: loadDialplan(SHIPPED_DIALPLAN, { callgate_socket: '127.0.0.1:1' }),
    onCallEnd: (r) => ended.push(r),
  });
  port = await sim.listenInbound();
});
afterEach(async () => {
  for (const r of open.splice(0)) r.close();
  await sim.close();
});

async function client(): Promise<Raw> {
  const r = await Raw.open(port);
  open.push(r);
  return r;
}

const settle = () => new Promise((r) => setTimeout(r, 50));

async function oneCall(to = '0612345678'): Promise<CallRecord> {
  return sim.placeCall({ to, context: 'callgate-outbound', callerIdNumber: '0162000001' }).done;
}

test('xml events are framed as FreeSWITCH 1.11.1 writes them (recorded BACKGROUND_JOB)', () => {
  const bytes = readSample('09-BACKGROUND_JOB-xml.txt')[0]!.bytes.toString('utf8');
  const body = bytes.slice(bytes.indexOf('\n\n') + 2);
  const headers: Pairs = [];
  const block = body.slice(body.indexOf('<headers>'), body.indexOf('</headers>'));
  for (const m of block.matchAll(/<([^>/]+)>([^<]*)<\/\1>/g)) headers.push([m[1]!, unescape(m[2]!)]);
  const inner = /<body>([\s\S]*) {2}<\/body>/.exec(body)![1]!;
  expect(serializeXml(headers, inner)).toBe(body);
});

test('event plain|json|xml: each connection gets the format it asked for', async () => {
  const [p, j, x] = [await client(), await client(), await client()];
  expect(await p.send('event plain CHANNEL_HANGUP_COMPLETE')).toBe('+OK event listener enabled plain');
  expect(await j.send('event json CHANNEL_HANGUP_COMPLETE')).toBe('+OK event listener enabled json');
  expect(await x.send('event xml CHANNEL_HANGUP_COMPLETE')).toBe('+OK event listener enabled xml');
  await oneCall();
  await settle();
  expect(p.events().map((f) => f.headers['Content-Type'])).toEqual(['text/event-plain']);
  expect(j.events().map((f) => f.headers['Content-Type'])).toEqual(['text/event-json']);
  expect(x.events().map((f) => f.headers['Content-Type'])).toEqual(['text/event-xml']);
  expect(x.names()).toEqual(['CHANNEL_HANGUP_COMPLETE']);
  expect(p.events()[0]!.body).toMatch(/^Hangup-Cause: CALL_REJECTED$/m);
});

test('event … ALL then nixevent: the nixed types stop, the others keep coming', async () => {
  const c = await client();
  await c.send('event plain ALL');
  expect(await c.send('nixevent CHANNEL_EXECUTE CHANNEL_EXECUTE_COMPLETE')).toBe('+OK events nixed');
  await oneCall();
  await settle();
  const names = c.names();
  expect(names).toContain('CHANNEL_CREATE');
  expect(names).toContain('CHANNEL_HANGUP_COMPLETE');
  expect(names).not.toContain('CHANNEL_EXECUTE');
  expect(names).not.toContain('CHANNEL_EXECUTE_COMPLETE');
});

test('noevents turns every type off (then says it is not listening); a later event command turns them on again', async () => {
  const c = await client();
  expect(await c.send('noevents')).toBe('-ERR not listening for events');
  await c.send('event json CHANNEL_EXECUTE_COMPLETE BACKGROUND_JOB');
  expect(await c.send('noevents')).toBe('+OK no longer listening for events');
  expect(await c.send('noevents')).toBe('-ERR not listening for events');
  await oneCall();
  await settle();
  expect(c.events()).toEqual([]);
  await c.send('event json CHANNEL_HANGUP_COMPLETE');
  await oneCall();
  await settle();
  expect(c.names()).toEqual(['CHANNEL_HANGUP_COMPLETE']);
});

test('filter on a header: only matching events pass (events without the header neither); filter delete lets all through again', async () => {
  const c = await client();
  await c.send('event json CHANNEL_HANGUP_COMPLETE BACKGROUND_JOB');
  expect(await c.send('filter variable_callgate_verdict allow')).toBe(
    '+OK filter added. [variable_callgate_verdict]=[allow]',
  );
  const dialer = await SimDialer.connect(port);
  dialer.originate('0612345678', 'callgate-outbound');
  await oneCall();
  const allowed = sim.placeCall({
    to: '0612345679',
    context: 'callgate-allowed',
    variables: { callgate_verdict: 'allow' },
  });
  await allowed.done;
  await settle();
  // the refused call, the dialer's BACKGROUND_JOB: no callgate_verdict header, not delivered
  expect(c.names()).toEqual(['CHANNEL_HANGUP_COMPLETE']);
  expect(JSON.parse(c.events()[0]!.body)['Unique-ID']).toBe(allowed.uuid);
  expect(await c.send('filter delete variable_callgate_verdict allow')).toBe(
    '+OK filter deleted. [variable_callgate_verdict]=[allow]',
  );
  await oneCall();
  await settle();
  expect(c.names()).toEqual(['CHANNEL_HANGUP_COMPLETE', 'CHANNEL_HANGUP_COMPLETE']);
  dialer.close();
});

test('inbound myevents <uuid> json: the events of that channel only', async () => {
  const c = await client();
  const call = sim.placeCall({ to: '0612345678', context: 'callgate-allowed' });
  expect(await c.send(`myevents ${call.uuid} json`)).toBe('+OK Events Enabled');
  expect(await c.send(`myevents ${call.uuid} json`)).toBe('-ERR aready enabled.');
  await oneCall('0612345670');
  await call.done;
  await settle();
  const uuids = c.events().map((f) => (JSON.parse(f.body) as Record<string, string>)['Unique-ID']);
  expect(uuids.length).toBeGreaterThan(2);
  expect(new Set(uuids)).toEqual(new Set([call.uuid]));
  const other = await client();
  expect(await other.send('myevents 00000000-0000-0000-0000-000000000000 json')).toBe('-ERR invalid uuid');
});

test('originate honours origination_uuid; uuid_exists tells whether a channel is up', async () => {
  const c = await client();
  const uuid = '0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e';
  const body = await c.send(`api originate {origination_uuid=${uuid}}loopback/0612345678/callgate-outbound &park`);
  expect(body).toBe('-ERR CALL_REJECTED\n');
  expect(ended.map((r) => r.uuid)).toEqual([uuid]);
  expect(await c.send(`api uuid_exists ${uuid}`)).toBe('false');
  const live = sim.placeCall({ to: '0612345678', context: 'callgate-allowed' });
  expect(await c.send(`api uuid_exists ${live.uuid}`)).toBe('true');
  await live.done;
});

test("dialer mode: its bgapi results and every app's CHANNEL_EXECUTE_COMPLETE reach any connection subscribed to them", async () => {
  const listener = await client();
  // what esl's FreeSwitchClient subscribes every connection to, by itself
  await listener.send('event json CHANNEL_EXECUTE_COMPLETE BACKGROUND_JOB');
  const dialer = await SimDialer.connect(port);
  for (let i = 0; i < 5; i++) dialer.originate(`061234567${i}`, 'callgate-outbound');
  while (ended.length < 5) await settle();
  await settle();
  const jobs = listener
    .events()
    .map((f) => JSON.parse(f.body) as Record<string, string>)
    .filter((e) => e['Event-Name'] === 'BACKGROUND_JOB');
  expect(jobs.map((j) => j['_body'])).toEqual(Array(5).fill('-ERR CALL_REJECTED\n'));
  expect(jobs[0]!['Job-Owner-UUID']).toBeUndefined();
  const completes = listener.names().filter((n) => n === 'CHANNEL_EXECUTE_COMPLETE');
  // one per application each refused call ran (the shipped dialplan's gated path)
  expect(completes.length).toBe(ended.reduce((n, r) => n + r.apps.length, 0));
  expect(dialer.stats).toMatchObject({ originates: 5, jobsErr: 5, jobsOk: 0 });
  dialer.close();
});
