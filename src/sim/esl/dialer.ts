/**
 * The simulator's "dialer" traffic: another inbound Event Socket client, as a predictive dialer
 * built on `esl` is, that places every call with `bgapi originate` and, like every esl client,
 * subscribes its connection to `CHANNEL_EXECUTE_COMPLETE BACKGROUND_JOB` in JSON. FreeSWITCH then
 * fires a BACKGROUND_JOB for each of its originates (`+OK <uuid>` or `-ERR CALL_REJECTED` …) and a
 * CHANNEL_EXECUTE_COMPLETE for every application of every call, to EVERY connection subscribed to
 * them, the gate's own included unless it filtered them out: the noise of issue 12.
 *
 * Raw wire format over a real socket (the same bytes esl writes), so that it costs the simulator's
 * process what a client costs, and nothing of the process under test.
 */
import { randomUUID } from 'node:crypto';
import net from 'node:net';

export type DialerStats = {
  /** bgapi commands sent. */
  originates: number;
  /** BACKGROUND_JOB events received, by result. */
  jobsOk: number;
  jobsErr: number;
  /** Events received (any type) and their bytes. */
  events: number;
  bytes: number;
};

export class SimDialer {
  readonly stats: DialerStats = { originates: 0, jobsOk: 0, jobsErr: 0, events: 0, bytes: 0 };
  private buf = '';
  private ready!: Promise<void>;

  private constructor(private readonly socket: net.Socket) {}

  /** Connects to an Event Socket listener (the simulator's inbound port), authenticates and subscribes. */
  static async connect(port: number, password = 'ClueCon'): Promise<SimDialer> {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setNoDelay(true);
    const d = new SimDialer(socket);
    socket.setEncoding('utf8');
    let replies = 0;
    d.ready = new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.on('data', (chunk: string) => {
        d.stats.bytes += Buffer.byteLength(chunk);
        d.buf += chunk;
        for (;;) {
          const end = d.buf.indexOf('\n\n');
          if (end < 0) return;
          const head = d.buf.slice(0, end);
          const m = /^Content-Length: (\d+)$/m.exec(head);
          const len = m ? Number(m[1]) : 0;
          // Content-Length counts bytes; the dialer's traffic is ASCII JSON.
          if (d.buf.length < end + 2 + len) return;
          const body = d.buf.slice(end + 2, end + 2 + len);
          d.buf = d.buf.slice(end + 2 + len);
          if (head.includes('Content-Type: auth/request')) socket.write(`auth ${password}\n\n`);
          else if (head.includes('Content-Type: command/reply')) {
            replies++;
            if (replies === 1) {
              if (!head.includes('+OK')) return reject(new Error(`dialer: auth refused (${head})`));
              socket.write('event json CHANNEL_EXECUTE_COMPLETE BACKGROUND_JOB\n\n');
            } else if (replies === 2) resolve();
          } else if (head.includes('Content-Type: text/event-')) {
            d.stats.events++;
            if (body.includes('"Event-Name":"BACKGROUND_JOB"')) {
              if (body.includes('"_body":"+OK')) d.stats.jobsOk++;
              else d.stats.jobsErr++;
            }
          }
        }
      });
    });
    await d.ready;
    return d;
  }

  /**
   * `bgapi originate {origination_uuid=U,…}loopback/TO/CONTEXT &park`: the call runs the dialplan's
   * CONTEXT (the gated one); returns U, the uuid of the call (the simulator's onCallEnd gives its record).
   */
  originate(to: string, context: string, variables: Record<string, string> = {}): string {
    const uuid = randomUUID();
    const vars = Object.entries({ origination_uuid: uuid, ...variables })
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    this.socket.write(`bgapi originate {${vars}}loopback/${to}/${context} &park\nJob-UUID: ${randomUUID()}\n\n`);
    this.stats.originates++;
    return uuid;
  }

  close(): void {
    this.socket.destroy();
  }
}
