/**
 * `callgate start` (the built command) serves the admin API from an api: section alone, without a
 * PBX, and refuses an API without a token before opening anything.
 */
import { spawn } from 'node:child_process';
import * as http from 'node:http';
import { BASE_CONFIG, BIN, sandbox, type Sandbox } from '../cli/helpers';
import { TOKEN } from './helpers';
import { freePort } from '../../src/sim/free-port';

function get(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      })
      .on('error', reject);
  });
}

let sb: Sandbox | undefined;
afterEach(() => sb?.cleanup());

test('an api: section alone is enough: start serves the API on its port and stops on SIGTERM', async () => {
  const port = await freePort();
  sb = sandbox(
    BASE_CONFIG.replace('level: warn', 'level: info') + `api:\n  listen: { host: 127.0.0.1, port: ${port} }\n`,
  );
  const child = spawn(process.execPath, [BIN, 'start'], {
    cwd: sb.dir,
    env: { ...process.env, CALLGATE_CONFIG: sb.config, CALLGATE_API_TOKEN: TOKEN },
  });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
      if (stderr.includes('callgate started')) resolve();
    });
    child.once('exit', () => reject(new Error(`callgate start exited before starting:\n${stderr}`)));
  });
  try {
    const started = stderr.split('\n').find((l) => l.includes('callgate started'))!;
    expect(JSON.parse(started)).toMatchObject({ adapters: [], api: `http://127.0.0.1:${port}` });
    expect(stderr).not.toContain(TOKEN);
    expect(await get(port, '/healthz')).toEqual({ status: 200, body: '{"status":"ok"}' });
    expect((await get(port, '/readyz')).status).toBe(401);
    const ready = await get(port, '/readyz', { authorization: `Bearer ${TOKEN}` });
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toMatchObject({
      status: 'ready',
      store: { driver: 'sqlite', writable: true },
      pbx: [],
    });
  } finally {
    child.kill('SIGTERM');
  }
  expect(await exited).toBe(0);
  await expect(get(port, '/healthz')).rejects.toThrow(/ECONNREFUSED/);
});

test('an API without a token does not start (exit 2), and says how to give one', () => {
  sb = sandbox(BASE_CONFIG + 'api: {}\n');
  const r = sb.run(['start'], { CALLGATE_API_TOKEN: '' });
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(
    /api\.token: the admin API needs a token: set api\.token .* or the environment variable CALLGATE_API_TOKEN/,
  );
  const short = sb.run(['start'], { CALLGATE_API_TOKEN: 'abc' });
  expect(short.code).toBe(2);
  expect(short.stderr).toMatch(/CALLGATE_API_TOKEN: the API token is too short \(3\)/);
});

test('config check shows the API and where its token comes from, never the token', () => {
  sb = sandbox(BASE_CONFIG + 'api: {listen: {port: 9123}}\n');
  const withEnv = sb.run(['config', 'check'], { CALLGATE_API_TOKEN: TOKEN });
  expect(withEnv.code).toBe(0);
  expect(withEnv.stdout).toMatch(/^ {2}api: http:\/\/127\.0\.0\.1:9123, token from CALLGATE_API_TOKEN$/m);
  expect(withEnv.stdout).not.toContain(TOKEN);
  const without = sb.run(['config', 'check'], { CALLGATE_API_TOKEN: '' });
  expect(without.stdout).toMatch(/api: http:\/\/127\.0\.0\.1:9123, NO TOKEN: start will refuse it \(api\.token: /);
});
