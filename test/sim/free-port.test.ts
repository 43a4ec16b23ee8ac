import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import { freePort } from '../../src/sim/free-port';

/** The kernel's ephemeral range, where outgoing connections take their source ports (Linux). */
function ephemeral(): [number, number] | undefined {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    return [low!, high!];
  } catch {
    return undefined;
  }
}

test('freePort gives a loopback port that is free to listen on, outside the ephemeral range that outgoing connections draw from', async () => {
  const range = ephemeral();
  const ports = new Set<number>();
  for (let i = 0; i < 20; i++) {
    const port = await freePort();
    ports.add(port);
    if (range !== undefined && range[0] - 20000 >= 1000) {
      expect(port).toBeGreaterThanOrEqual(20000);
      expect(port).toBeLessThan(range[0]);
    }
    const srv = net.createServer();
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(port, '127.0.0.1', resolve);
    });
    await new Promise<void>((resolve) => srv.close(() => resolve()));
  }
  // drawn at random, not the same port every time
  expect(ports.size).toBeGreaterThan(1);
});
