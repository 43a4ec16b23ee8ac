/**
 * A TCP proxy on 127.0.0.1 in front of the test PostgreSQL server, for the failure tests: it can
 * forward, refuse, pause (hold every byte: a network that went silent), slow down, or cut the
 * connections when the client sends a given text (mid-statement). The shared server itself is
 * never stopped (other tests use it).
 */
import * as net from 'node:net';

export type ProxyMode =
  | { kind: 'pass' }
  /** New connections are closed at once, open ones are cut: a server that is down. */
  | { kind: 'down' }
  /** Bytes are held (both ways) until the mode changes: a network that went silent. */
  | { kind: 'pause' }
  /** Every chunk waits this long before it is forwarded (both ways). */
  | { kind: 'slow'; ms: number }
  /**
   * The first client message containing `marker` is forwarded to the server (when `forward`) or
   * dropped, then that connection is cut: a connection lost mid-statement. Then back to pass.
   */
  | { kind: 'cutOn'; marker: string; forward: boolean };

type Pair = { client: net.Socket; upstream: net.Socket; muted: boolean };

export class TcpProxy {
  private server: net.Server;
  private readonly pairs = new Set<Pair>();
  private mode: ProxyMode = { kind: 'pass' };
  private held: (() => void)[] = [];
  port = 0;
  /** Connections cut by 'cutOn' so far. */
  cuts = 0;

  constructor(private readonly target: { host: string; port: number }) {
    this.server = net.createServer((client) => this.accept(client));
  }

  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this;
  }

  /** postgres://… through this proxy (database and user from `url`). */
  url(url: string): string {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  set(mode: ProxyMode): void {
    this.mode = mode;
    if (mode.kind === 'down') for (const p of this.pairs) this.cut(p);
    if (mode.kind !== 'pause') for (const f of this.held.splice(0)) f();
  }

  private cut(p: Pair): void {
    p.client.destroy();
    p.upstream.destroy();
    this.pairs.delete(p);
  }

  private accept(client: net.Socket): void {
    if (this.mode.kind === 'down') {
      client.destroy();
      return;
    }
    const upstream = net.connect(this.target.port, this.target.host);
    const pair: Pair = { client, upstream, muted: false };
    this.pairs.add(pair);
    const close = () => this.cut(pair);
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    const pipe = (from: net.Socket, to: net.Socket, fromClient: boolean) =>
      from.on('data', (chunk: Buffer) => {
        if (pair.muted) return;
        const send = () => {
          if (!to.destroyed) to.write(chunk);
        };
        const m = this.mode;
        if (m.kind === 'cutOn' && fromClient && chunk.includes(m.marker)) {
          this.mode = { kind: 'pass' };
          this.cuts++;
          if (m.forward) {
            // the server gets the statement and runs it; its answer never reaches the client
            pair.muted = true;
            to.write(chunk, () => setTimeout(close, 200));
          } else close();
          return;
        }
        if (m.kind === 'pause') this.held.push(send);
        else if (m.kind === 'slow') setTimeout(send, m.ms);
        else send();
      });
    pipe(client, upstream, true);
    pipe(upstream, client, false);
  }

  async stop(): Promise<void> {
    for (const p of this.pairs) this.cut(p);
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
