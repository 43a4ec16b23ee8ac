/**
 * What a deployment runs: `npm ci && npm start` (README). The install builds dist/ (so the
 * `callgate` command works after the install command alone), and `npm start` leaves node as the
 * process npm signals: SIGTERM to the PID `npm start` runs as (systemd, `docker stop`) stops the
 * gate cleanly instead of orphaning it, still bound to its port.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { connect } from 'node:net';
import * as path from 'node:path';
import { BASE_CONFIG, ROOT, sandbox, type Sandbox } from './helpers';
import { scratchDirs } from '../scratch';
import { freePort } from '../../src/sim/free-port';

const tempDir = scratchDirs('callgate-install-');

/** npm as the test runner's own npm when there is one (`npm test`), else the one on PATH. */
function npm(args: string[], opts: Parameters<typeof spawn>[2]): ReturnType<typeof spawn> {
  const cli = process.env.npm_execpath;
  return cli && /npm-cli\.js$/.test(cli) ? spawn(process.execPath, [cli, ...args], opts) : spawn('npm', args, opts);
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

describe('npm start', () => {
  let sb: Sandbox;
  afterEach(() => sb?.cleanup());

  it('stops the gate cleanly when the npm process gets SIGTERM: the port is freed and the gate logs its stop', async () => {
    const port = await freePort();
    sb = sandbox(
      BASE_CONFIG.replace('level: warn', 'level: info') +
        `freeswitch:\n  listen: { host: 127.0.0.1, port: ${port} }\n  allowContext: outbound-allowed\n`,
    );
    const child = npm(['start', '--silent'], {
      cwd: ROOT,
      env: { ...process.env, CALLGATE_CONFIG: sb.config },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    // 'exit', not 'close': an orphaned gate would keep the stderr pipe open
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      child.stderr!.on('data', (b: Buffer) => {
        stderr += b.toString();
        if (stderr.includes('callgate started')) resolve();
      });
      child.once('exit', () => reject(new Error(`npm start exited before the gate started:\n${stderr}`)));
    });
    const gatePid = (JSON.parse(stderr.split('\n').find((l) => l.includes('callgate started'))!) as { pid: number })
      .pid;
    expect(gatePid).not.toBe(child.pid); // npm is the main PID, node its child
    expect(await canConnect(port)).toBe(true);

    child.kill('SIGTERM'); // what systemd and `docker stop` do
    const code = await exited;
    await new Promise((r) => setTimeout(r, 300)); // the last lines still in the pipe
    const orphaned = await canConnect(port);
    if (orphaned) process.kill(gatePid, 'SIGKILL'); // the fault this test is about: do not leave it running
    expect(orphaned).toBe(false);
    expect(stderr).toMatch(/"msg":"SIGTERM received, stopping/);
    expect(stderr).toMatch(/"msg":"stopped"/);
    expect(code).toBe(0);
    expect(() => process.kill(gatePid, 0)).toThrow(/ESRCH/); // no orphan left behind
  }, 240_000);
});

describe('the install', () => {
  it('builds dist/ (npm prepare), so that `callgate` runs after `npm ci` alone', () => {
    // a copy of the repository's files without dist/, with the installed dependencies
    const dir = tempDir();
    const files = spawnSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    for (const f of files) {
      mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      cpSync(path.join(ROOT, f), path.join(dir, f));
    }
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    expect(existsSync(path.join(dir, 'dist'))).toBe(false);

    // the lifecycle script npm ci and npm install run after installing, with the dev dependencies
    const cli = process.env.npm_execpath;
    const prepared =
      cli && /npm-cli\.js$/.test(cli)
        ? spawnSync(process.execPath, [cli, 'run', 'prepare'], { cwd: dir, encoding: 'utf8' })
        : spawnSync('npm', ['run', 'prepare'], { cwd: dir, encoding: 'utf8' });
    expect(prepared.stderr).not.toMatch(/Missing script/);
    expect(prepared.status).toBe(0);
    const version = spawnSync(process.execPath, [path.join(dir, 'bin', 'callgate.js'), '--version'], {
      encoding: 'utf8',
    });
    expect(version.stderr).toBe('');
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  }, 240_000);
});
