/**
 * The stand-in gate of the FreeSWITCH benchmark (issue 12): the least an Event Socket application can
 * do to gate calls with the same round trips as callgate, and nothing else — no store, no rules, no
 * esl. It allows a number whose last digit is even and blocks the others and, per call, writes exactly
 * what callgate writes: `connect`; then the channel variables (and `sched_cancel` for an allowed call)
 * in one write; then `transfer` + `exit`, or the `hangup`. Like callgate it follows the allowed calls'
 * ends on an inbound connection subscribed the same way (noevents, the callgate_verdict filter, plain
 * CHANNEL_HANGUP_COMPLETE). Its CPU per call is the floor callgate's is compared with.
 */
import net from 'node:net';

export type EslStandIn = {
  port: number;
  outcomes(): number;
  /** Calls released (their transfer + exit or hangup written). */
  released(): number;
  stop(): Promise<void>;
};

/** Reads FreeSWITCH's frames (header block, then Content-Length bytes) off a socket. */
function frames(socket: net.Socket, onFrame: (head: string, body: string) => void): void {
  let buf = '';
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    buf += chunk;
    for (;;) {
      const end = buf.indexOf('\n\n');
      if (end < 0) return;
      const i = buf.indexOf('Content-Length: ');
      const len = i >= 0 && i < end ? parseInt(buf.slice(i + 16, buf.indexOf('\n', i)), 10) : 0;
      if (buf.length < end + 2 + len) return;
      onFrame(buf.slice(0, end), buf.slice(end + 2, end + 2 + len));
      buf = buf.slice(end + 2 + len);
    }
  });
}

function header(block: string, name: string): string {
  const i = block.indexOf(`\n${name}: `);
  if (i < 0) return '';
  const from = i + name.length + 3;
  return decodeURIComponent(block.slice(from, block.indexOf('\n', from)));
}

function sendmsg(uuid: string, app: string, arg: string): string {
  return `sendmsg ${uuid}\nexecute-app-name: ${app}\nexecute-app-arg: ${arg}\nevent-lock: true\ncall-command: execute\n\n`;
}

export async function startEslStandIn(opts: {
  inboundPort: number;
  allowContext: string;
  listenPort?: number;
  password?: string;
}): Promise<EslStandIn> {
  let seq = 0;
  let outcomes = 0;
  let released = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let step = 0;
    let replies = 0;
    let uuid = '';
    let release = '';
    frames(socket, (head) => {
      if (step === 0) {
        // the connect reply: the channel data, URL-encoded, as one header block
        uuid = header(`\n${head}`, 'Unique-ID');
        const to = header(`\n${head}`, 'Caller-Destination-Number');
        const allow = Number(to.at(-1)) % 2 === 0;
        const id = `standin-${++seq}`;
        const verdict = allow ? 'allow' : 'block';
        let batch =
          sendmsg(uuid, 'set', `callgate_verdict=${verdict}`) +
          sendmsg(uuid, 'set', `callgate_decision_id=${id}`) +
          sendmsg(uuid, 'set', `callgate_basis=${allow ? 'consent' : 'none'}`) +
          sendmsg(uuid, 'set', 'callgate_tags=') +
          (allow ? '' : sendmsg(uuid, 'set', 'callgate_reasons=no_consent')) +
          sendmsg(uuid, 'set', `sip_h_X-Callgate-Decision=${id};verdict=${verdict}`);
        if (allow) batch += sendmsg(uuid, 'sched_cancel', uuid);
        release = allow
          ? `${sendmsg(uuid, 'transfer', `${to} XML ${opts.allowContext}`)}exit\n\n`
          : `sendmsg ${uuid}\nhangup-cause: CALL_REJECTED\ncall-command: hangup\n\n`;
        replies = 6; // five or six `set`, and `sched_cancel` when allowed: six replies either way
        step = 1;
        socket.write(batch);
        return;
      }
      if (step === 1 && head.includes('command/reply') && --replies === 0) {
        step = 2;
        released++;
        socket.write(release);
      }
    });
    socket.write('connect\n\n');
  });
  await new Promise<void>((r) => server.listen(opts.listenPort ?? 0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;

  const inbound = net.connect({ host: '127.0.0.1', port: opts.inboundPort });
  inbound.setNoDelay(true);
  inbound.on('error', () => undefined);
  await new Promise<void>((resolve) => {
    let n = 0;
    frames(inbound, (head, body) => {
      if (head.includes('auth/request')) {
        inbound.write(
          `auth ${opts.password ?? 'ClueCon'}\n\nnoevents\n\nfilter variable_callgate_verdict allow\n\nevent plain CHANNEL_HANGUP_COMPLETE\n\n`,
        );
      } else if (head.includes('command/reply')) {
        if (++n === 4) resolve();
      } else if (head.includes('text/event-plain')) {
        // what callgate reads of it: the decision id and the outcome's fields
        if (header(`\n${body}`, 'variable_callgate_decision_id') !== '') outcomes++;
      }
    });
  });

  return {
    port,
    outcomes: () => outcomes,
    released: () => released,
    async stop() {
      inbound.destroy();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
