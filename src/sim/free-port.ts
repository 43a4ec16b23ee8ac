/**
 * A free loopback port: bound on 127.0.0.1, then released (for a listener whose port must be known
 * first: a dialplan naming the gate's socket before the gate listens).
 *
 * Not one of the kernel's ephemeral ports (listen on port 0): between the release and the real
 * listen, any outgoing connection of any process (a PostgreSQL client, an HTTP client of a test
 * running beside) may be given that port as its source port, and the listen then fails with
 * EADDRINUSE. A random port below the ephemeral range cannot be taken that way; only another
 * freePort() drawing the same one of ~12,000 in the same moment could. Falls back to port 0 when
 * no such range exists or nothing in it is free.
 */
import { readFileSync } from 'node:fs';
import * as net from 'node:net';

/** The lowest ephemeral port (Linux); 32768 elsewhere, as on Linux by default. */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 0 ? low : 32768;
  } catch {
    return 32768;
  }
}

const LOWEST = 20000;
const TRIES = 20;

function tryListen(port: number): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', (err: NodeJS.ErrnoException) => {
      if (port !== 0 && (err.code === 'EADDRINUSE' || err.code === 'EACCES')) resolve(undefined);
      else reject(err);
    });
    srv.listen(port, '127.0.0.1', () => {
      const { port: bound } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(bound));
    });
  });
}

export async function freePort(): Promise<number> {
  const high = ephemeralLow();
  if (high - LOWEST >= 1000) {
    for (let i = 0; i < TRIES; i++) {
      const port = await tryListen(LOWEST + Math.floor(Math.random() * (high - LOWEST)));
      if (port !== undefined) return port;
    }
  }
  return (await tryListen(0)) as number;
}
