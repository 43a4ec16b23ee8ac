/**
 * A second floor for the FreeSWITCH benchmark (issue 12): the stand-in gate of bench/standin-esl.ts
 * (allow an even last digit, block the others, no store, no rules, the same writes) built on the `esl`
 * package the product is specified with, used as callgate's adapter uses it: per connection esl's
 * FreeSwitchResponse (its ulid, parser and command queue) behind a plain net.Server, the same pipelined
 * batches through src/pbx/freeswitch/esl.ts's sendBatch (esl's own write()), the same handling of
 * FreeSWITCH's FIN; and an inbound connection of esl's subscribed as callgate's outcome follower is
 * (noevents, the callgate_verdict filter, plain CHANNEL_HANGUP_COMPLETE).
 *
 * The raw stand-in's CPU per call is what gating costs with no library at all; this one's, what the
 * mandated library costs by itself; callgate's above this one is callgate's own (rules, store, audit,
 * outcomes written).
 */
import net from 'node:net';
import { FreeSwitchResponse, type StringMap } from 'esl';
import { executeCommand, hangupCommand, sendBatch, silentEslLogger, type Command } from '../src/pbx/freeswitch/esl';
import type { EslStandIn } from './standin-esl';

const TIMEOUT_MS = 5000;

export async function startEslLibStandIn(opts: {
  inboundPort: number;
  allowContext: string;
  listenPort?: number;
  password?: string;
}): Promise<EslStandIn> {
  let seq = 0;
  let outcomes = 0;
  let released = 0;
  const sockets = new Set<net.Socket>();

  async function handle(call: FreeSwitchResponse): Promise<void> {
    const [reply] = await sendBatch(call, [{ command: 'connect', args: {} }], TIMEOUT_MS);
    const data = (typeof reply?.body === 'object' ? reply.body : {}) as StringMap;
    const uuid = data['Unique-ID'] ?? '';
    const to = data['Caller-Destination-Number'] ?? '';
    const allow = Number(to.at(-1)) % 2 === 0;
    const id = `standin-${++seq}`;
    const verdict = allow ? 'allow' : 'block';
    const set = (v: string): Command => executeCommand(uuid, 'set', v);
    const setup = [
      set(`callgate_verdict=${verdict}`),
      set(`callgate_decision_id=${id}`),
      set(`callgate_basis=${allow ? 'consent' : 'none'}`),
      set('callgate_tags='),
      ...(allow ? [] : [set('callgate_reasons=no_consent')]),
      set(`sip_h_X-Callgate-Decision=${id};verdict=${verdict}`),
      ...(allow ? [executeCommand(uuid, 'sched_cancel', uuid)] : []),
    ];
    await sendBatch(call, setup, TIMEOUT_MS);
    const release: Command[] = allow
      ? [executeCommand(uuid, 'transfer', `${to} XML ${opts.allowContext}`), { command: 'exit', args: {} }]
      : [hangupCommand(uuid, 'CALL_REJECTED')];
    const p = sendBatch(call, release, TIMEOUT_MS);
    released++;
    await p;
  }

  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    const call = new FreeSwitchResponse(socket, silentEslLogger);
    // as the adapter does (src/pbx/freeswitch/server.ts): on FreeSWITCH's FIN, nothing left to write
    socket.once('end', () => {
      if (call.closed) return;
      if (socket.writableLength === 0) call.closed = true;
      else call.end();
    });
    handle(call).catch(() => call.end());
  });
  await new Promise<void>((r) => server.listen(opts.listenPort ?? 0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;

  const socket = new net.Socket();
  const inbound = new FreeSwitchResponse(socket, silentEslLogger);
  socket.on('error', () => undefined);
  inbound.on('CHANNEL_HANGUP_COMPLETE', ({ body }: { body: StringMap }) => {
    if ((body['variable_callgate_decision_id'] ?? '') !== '') outcomes++;
  });
  const authRequest = inbound.onceAsync('freeswitch_auth_request', TIMEOUT_MS, 'inbound: authentication request');
  socket.connect({ host: '127.0.0.1', port: opts.inboundPort });
  await authRequest;
  await inbound.auth(opts.password ?? 'ClueCon');
  await sendBatch(
    inbound,
    [
      { command: 'noevents', args: {}, mayFail: /^-ERR not listening/ },
      { command: 'filter variable_callgate_verdict allow', args: {} },
      { command: 'event plain CHANNEL_HANGUP_COMPLETE', args: {} },
    ],
    TIMEOUT_MS,
  );

  return {
    port,
    outcomes: () => outcomes,
    released: () => released,
    async stop() {
      inbound.end();
      socket.destroy();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
