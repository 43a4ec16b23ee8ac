/**
 * The load generator of bench/api.ts, in a process of its own (so the gate's process measures only
 * itself): `n` HTTP requests over loopback, `inFlight` at a time on keep-alive connections (one per
 * request in flight), each worker sending its next request when its last one is answered. Latency is
 * per request, from writing it to reading the whole answer, as a dialer sees it.
 *
 * Usage: node dist/bench/api-client.js URL METHOD N IN_FLIGHT FIRST [TOKEN]
 *   POST: each body is an attempt to a distinct number (mobileNational(FIRST + i)), campaign bench.
 */
import * as http from 'node:http';
import { emit, latencyMs, mobileNational } from './util';

async function main(): Promise<void> {
  const [url, method, nText, inFlightText, firstText, token] = process.argv.slice(2);
  const n = Number(nText);
  const inFlight = Number(inFlightText);
  const first = Number(firstText);
  const target = new URL(url!);
  const agent = new http.Agent({ keepAlive: true, maxSockets: inFlight });
  const samples: number[] = new Array(n);
  const statuses: Record<string, number> = {};
  const verdicts: Record<string, number> = {};
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};

  const once = (i: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const body =
        method === 'POST'
          ? JSON.stringify({ to: mobileNational(first + i), callerId: '+33162000001', campaign: 'bench' })
          : undefined;
      const t0 = process.hrtime.bigint();
      const req = http.request(
        {
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method,
          agent,
          headers: body
            ? { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }
            : headers,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            samples[i] = Number(process.hrtime.bigint() - t0);
            statuses[res.statusCode!] = (statuses[res.statusCode!] ?? 0) + 1;
            if (body) {
              const v = (JSON.parse(Buffer.concat(chunks).toString()) as { verdict?: string }).verdict ?? 'none';
              verdicts[v] = (verdicts[v] ?? 0) + 1;
            }
            resolve();
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      for (let i = next++; i < n; i = next++) await once(i);
    }),
  );
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  agent.destroy();
  emit({
    requests: n,
    inFlight,
    perSecond: Math.round(n / seconds),
    latencyMs: latencyMs(samples),
    // the load generator's own CPU: on a 2-processor machine it shares them with the server
    clientCpuUsPerRequest: Math.round(((cpu.user + cpu.system) / n) * 10) / 10,
    statuses,
    ...(method === 'POST' ? { verdicts } : {}),
  });
}

main().catch((e: unknown) => {
  process.stderr.write(`${String(e)}\n`);
  process.exit(1);
});
