/** `callgate start`: runs the gate (FreeSWITCH outbound-socket listener on loopback) until SIGTERM/SIGINT, then exits 0. */
import { spawn } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { connect } from 'node:net';
import { BASE_CONFIG, BIN, sandbox, type Sandbox } from './helpers';
import { freePort } from '../../src/sim/free-port';

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function runUntilStarted(
  sb: Sandbox,
  port: number,
  signal: NodeJS.Signals,
): Promise<{ code: number | null; stderr: string; listening: boolean }> {
  const child = spawn(process.execPath, [BIN, 'start'], {
    cwd: sb.dir,
    env: { ...process.env, CALLGATE_CONFIG: sb.config },
  });
  let stderr = '';
  let stdout = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  // 'close', not 'exit': 'exit' can come before the last of stderr has been read
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
      if (stderr.includes('callgate started')) resolve();
    });
    child.once('exit', () => reject(new Error(`callgate start exited before starting:\n${stderr}`)));
  });
  const listening = await canConnect(port);
  child.kill(signal);
  const code = await exited;
  expect(stdout).toBe('');
  return { code, stderr, listening };
}

describe('callgate start', () => {
  let sb: Sandbox;
  let port: number;
  beforeEach(async () => {
    port = await freePort();
    sb = sandbox(
      BASE_CONFIG.replace('level: warn', 'level: info') +
        `freeswitch:\n  listen: { host: 127.0.0.1, port: ${port} }\n  allowContext: outbound-allowed\n`,
    );
  });
  afterEach(() => sb.cleanup());

  it.each(['SIGTERM', 'SIGINT'] as const)(
    'listens for the PBX and stops gracefully on %s with exit 0',
    async (signal) => {
      const r = await runUntilStarted(sb, port, signal);
      expect(r.listening).toBe(true);
      expect(r.code).toBe(0);
      expect(await canConnect(port)).toBe(false);
      // every line of the gate's log is a JSON object, the stop included
      const lines = r.stderr.split('\n').filter(Boolean);
      const parsed = lines.map((l) => {
        try {
          return JSON.parse(l) as Record<string, unknown>;
        } catch {
          return l;
        }
      });
      expect(parsed.filter((l) => typeof l === 'string')).toEqual([]);
      const msgs = (parsed as Record<string, unknown>[]).map((l) => l.msg);
      expect(msgs).toEqual(
        expect.arrayContaining([expect.stringMatching(new RegExp(`^${signal} received, stopping`)), 'stopped']),
      );
    },
  );

  it('refuses to start without a PBX section: exit 2 naming what to configure', () => {
    const none = sandbox();
    try {
      const r = none.run(['start']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/asterisk: or freeswitch:/);
    } finally {
      none.cleanup();
    }
  });

  it('refuses to start when Asterisk refuses its ARI user, with CG_ERR_ARI_AUTH (not an internal error)', async () => {
    const ari = createHttpServer((req, res) => {
      res.writeHead(401, {
        'WWW-Authenticate': 'Basic realm="Asterisk REST Interface"',
        'Content-Type': 'application/json',
      });
      res.end('{"message":"Authentication required"}');
    });
    await new Promise<void>((resolve) => ari.listen(0, '127.0.0.1', resolve));
    const { port: ariPort } = ari.address() as { port: number };
    const sb401 = sandbox(
      BASE_CONFIG +
        `asterisk:\n  url: http://127.0.0.1:${ariPort}\n  username: callgate\n  password: wrong\n  allowContext: outbound-allowed\n`,
    );
    try {
      const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [BIN, 'start'], {
          cwd: sb401.dir,
          env: { ...process.env, CALLGATE_CONFIG: sb401.config },
        });
        let stderr = '';
        child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
        child.once('close', (code) => resolve({ code, stderr }));
      });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/refused user 'callgate' \(HTTP 401\).*\[CG_ERR_ARI_AUTH\]/);
      expect(r.stderr).not.toMatch(/CG_ERR_INTERNAL|wrong/);
    } finally {
      sb401.cleanup();
      await new Promise((resolve) => ari.close(resolve));
    }
  });

  // A store the gate can read but not write would answer "callgate started", then block every call.
  // Root writes any file whatever its mode: there the gate runs without the capabilities that let
  // root ignore file modes (setpriv, util-linux), so a 0444 file is read-only to it as to any user.
  it('refuses to start on a store it cannot write: exit 2, CG_ERR_STORE_READONLY, nothing started', async () => {
    const asRoot = process.getuid?.() === 0;
    const made = sb.run(['consent', 'add', '0612345678', '--professional', 'acme', '--collected-at', '2026-11-01']);
    expect(made.code).toBe(0);
    chmodSync(sb.db, 0o444); // (its -wal and -shm are gone: the command closed the store)
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const command = [process.execPath, BIN, 'start'];
      if (asRoot) command.unshift('setpriv', '--bounding-set=-dac_override,-dac_read_search', '--');
      const child = spawn(command[0]!, command.slice(1), {
        cwd: sb.dir,
        env: { ...process.env, CALLGATE_CONFIG: sb.config },
      });
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => {
        stderr += b.toString();
        if (stderr.includes('callgate started')) child.kill('SIGTERM'); // the fault: stop it, the test fails below
      });
      child.once('close', (code) => resolve({ code, stderr }));
    });
    expect(r.stderr).not.toMatch(/callgate started/);
    expect(r.stderr).toMatch(/callgate\.db can be read but not written by this process.*\[CG_ERR_STORE_READONLY\]/);
    expect(r.code).toBe(2);
    expect(await canConnect(port)).toBe(false);
  });
});
