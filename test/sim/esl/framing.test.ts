/** The simulator's framing, checked byte for byte against the recorded FreeSWITCH 1.11.1 traffic. */
import { FreeSwitchClient, FreeSwitchServer, type FreeSwitchResponse } from 'esl';
import { bgapi, silentEslLogger } from '../../../src/pbx/freeswitch/esl';
import { parseDialplan } from '../../../src/sim/esl/dialplan';
import {
  apiResponse,
  commandReply,
  disconnectNotice,
  eventFrame,
  jsonPairs,
  plainPairs,
  serializePlain,
  urlEncode,
  AUTH_REQUEST,
} from '../../../src/sim/esl/framing';
import { EslSimulator } from '../../../src/sim/esl/simulator';
import { readSample, splitMessages } from '../../../src/sim/esl/transcript';

const fromFs = (name: string) => readSample(name).filter((b) => b.from === 'FreeSWITCH');

test('URL encoding follows switch_url_encode', () => {
  expect(urlEncode('+15551234567')).toBe('%2B15551234567');
  expect(urlEncode('2025-01-02 03:04:05')).toBe('2025-01-02%2003%3A04%3A05');
  expect(urlEncode('1001@10.0.0.5:5060')).toBe('1001%4010.0.0.5%3A5060');
  expect(urlEncode('::1')).toBe('%3A%3A1');
  expect(urlEncode("a%2Bb!$'()*,-./_~")).toBe("a%2Bb!$'()*,-./_~");
  expect(urlEncode('é')).toBe('%C3%A9');
});

test('the outbound connect reply (CHANNEL_DATA, no envelope) re-serializes to the recorded bytes', () => {
  const reply = fromFs('13-outbound-connect-and-reply.txt')[0]!.bytes.toString('utf8');
  expect(serializePlain(plainPairs(reply))).toBe(reply);
});

test('json events: envelope and body re-serialize to the recorded bytes (duplicate Hangup-Cause kept)', () => {
  for (const name of [
    '05-bgapi-reply-and-BACKGROUND_JOB-json.txt',
    '10-CHANNEL_HANGUP_COMPLETE-json.txt',
    '18-outbound-denied-hangup-CALL_REJECTED.txt',
    '15-outbound-sendmsg-execute-set.txt',
  ]) {
    for (const block of fromFs(name)) {
      for (const msg of splitMessages(block.bytes)) {
        const text = msg.toString('utf8');
        if (!text.includes('text/event-json')) continue;
        const body = text.slice(text.indexOf('\n\n') + 2);
        const pairs = jsonPairs(body);
        const hasBody = pairs.some(([k]) => k === '_body');
        const headers = pairs.filter(
          ([k], i) => k !== '_body' && !(hasBody && k === 'Content-Length' && i >= pairs.length - 2),
        );
        const b = pairs.find(([k]) => k === '_body')?.[1];
        expect(eventFrame('json', headers, b)).toBe(text);
      }
    }
  }
  const hc = fromFs('10-CHANNEL_HANGUP_COMPLETE-json.txt')[0]!.bytes.toString();
  expect(jsonPairs(hc.slice(hc.indexOf('{'))).filter(([k]) => k === 'Hangup-Cause')).toHaveLength(2);
});

test('a plain BACKGROUND_JOB with its inner Content-Length body re-serializes to the recorded bytes', () => {
  const text = fromFs('08-BACKGROUND_JOB-plain.txt')[0]!.bytes.toString('utf8');
  const body = text.slice(text.indexOf('\n\n') + 2);
  const inner = body.indexOf('Content-Length: ');
  const result = body.slice(body.indexOf('\n\n', inner) + 2);
  expect(eventFrame('plain', plainPairs(body.slice(0, inner)), result)).toBe(text);
});

test('replies and notices are framed as recorded', () => {
  expect(fromFs('01-inbound-auth-accepted.txt').map((b) => b.bytes.toString())).toEqual([
    AUTH_REQUEST,
    commandReply('+OK accepted'),
  ]);
  expect(fromFs('02-inbound-auth-rejected.txt').map((b) => b.bytes.toString())).toEqual([
    AUTH_REQUEST,
    commandReply('-ERR invalid'),
    disconnectNotice(),
  ]);
  expect(fromFs('04-api-unknown-command.txt')[0]!.bytes.toString()).toBe(
    apiResponse('-ERR no_such_command Command not found!\n'),
  );
  const job = '1594e40d-d8e3-409e-b0cc-340baf740d8e';
  expect(fromFs('05-bgapi-reply-and-BACKGROUND_JOB-json.txt')[0]!.bytes.toString()).toBe(
    commandReply(`+OK Job-UUID: ${job}`, [['Job-UUID', job]]),
  );
  const uuid = '66ad9bb7-be5d-46f3-8c32-7aa2ad785429';
  expect(fromFs('14-outbound-filters-and-event-json-ALL.txt').map((b) => b.bytes.toString())).toEqual([
    commandReply(`+OK filter added. [Unique-ID]=[${uuid}]`),
    commandReply(`+OK filter added. [Job-Owner-UUID]=[${uuid}]`),
    commandReply('+OK event listener enabled json'),
  ]);
  expect(fromFs('18-outbound-denied-hangup-CALL_REJECTED.txt').at(-1)!.bytes.toString()).toBe(
    disconnectNotice('0b321920-4426-4210-93cc-c26b7979cdea', 'disconnect'),
  );
});

describe('the real esl package against the simulator', () => {
  const dialplan = parseDialplan(
    '<include><context name="t"><extension name="x"><condition field="destination_number" expression="^(.*)$"><action application="socket" data="127.0.0.1:PORT full"/></condition></extension></context></include>',
  );
  let sim: EslSimulator;
  afterEach(async () => sim.close());

  async function inbound(password = 'ClueCon'): Promise<{ call: FreeSwitchResponse; client: FreeSwitchClient }> {
    const port = await sim.listenInbound();
    const client = new FreeSwitchClient({ port, password, logger: silentEslLogger });
    const call = await new Promise<FreeSwitchResponse>((resolve) => {
      client.on('connect', resolve);
      client.connect();
    });
    return { call, client };
  }

  test('auth, api and bgapi on the wire; bgapi -ERR results are caught in the body', async () => {
    sim = new EslSimulator({ dialplan });
    const { call, client } = await inbound();
    expect(sim.inboundLog[0]!.written.slice(0, 2).map(String)).toEqual(
      fromFs('01-inbound-auth-accepted.txt').map((b) => b.bytes.toString()),
    );
    expect(sim.inboundLog[0]!.received[0]!.raw.toString()).toBe('auth ClueCon\n\n');
    await expect(call.api('no_such_command', 1000)).rejects.toMatchObject({
      args: { reply: '-ERR no_such_command Command not found!\n' },
    });
    const res = await call.bgapi(
      'originate {origination_caller_id_number=0102030405}loopback/0899999999/nowhere &park',
      1000,
    );
    expect(res.body['_body']).toBe('-ERR NO_ROUTE_DESTINATION\n'); // esl resolves a failed job…
    await expect(bgapi(call, 'originate loopback/0899999999/nowhere &park', 1000)).rejects.toThrow(
      '-ERR NO_ROUTE_DESTINATION',
    ); // …the wrapper does not
    client.end();
  });

  test('outbound: sendmsg execute is answered with CHANNEL_EXECUTE_COMPLETE carrying the Event-UUID (esl command() resolves)', async () => {
    const server = new FreeSwitchServer({ all_events: false, logger: silentEslLogger });
    await server.listen({ host: '127.0.0.1', port: 0 });
    const port = (
      (
        server as unknown as { __server: import('node:net').Server }
      ).__server.address() as import('node:net').AddressInfo
    ).port;
    sim = new EslSimulator({
      dialplan: parseDialplan(
        '<include><context name="t"><extension name="x"><condition field="destination_number" expression="^(.*)$">' +
          `<action application="socket" data="127.0.0.1:${port} async full"/><action application="hangup" data="NORMAL_CLEARING"/></condition></extension></context></include>`,
      ),
    });
    const seen: string[] = [];
    server.on('connection', (call, { data }) => {
      void (async () => {
        seen.push(data['Caller-Destination-Number'] as string);
        const done = await call.command('set', 'a=b', 2000);
        seen.push(done.body['Application-UUID'] as string, done.body['variable_a'] as string);
        await call.send('exit', {}, 1000);
      })();
    });
    const rec = await sim.placeCall({ to: '+33612345678', context: 't' }).done;
    expect(seen[0]).toBe('+33612345678');
    expect(seen[1]).toBe(rec.apps.find((a) => a.app === 'set')!.uuid);
    expect(seen[2]).toBe('b');
    expect(rec.sockets[0]!.written[0]!.toString()).toContain(
      'Reply-Text: %2BOK%0A\nSocket-Mode: async\nControl: full\n\n',
    );
    await server.close();
  });
});
