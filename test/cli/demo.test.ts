/**
 * `callgate demo` as a new user runs it: the built command, a PBX simulator, the real adapter and gate
 * on a temporary store. It must show calls allowed and blocked with their reason codes, stop after
 * --calls N, stop cleanly on Ctrl-C (SIGINT), and leave no temporary store behind unless --keep.
 * The child's TMPDIR is a folder of the test's own, so what the demo leaves in it is seen.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertBuilt, BIN, ROOT } from './helpers';

jest.setTimeout(90_000);

let tmp: string;
beforeAll(assertBuilt);
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'callgate-demo-test-'));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

const env = () => ({ ...process.env, TMPDIR: tmp, TZ: 'Pacific/Auckland' });

function demo(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, 'demo', ...args], {
    cwd: ROOT,
    env: env(),
    encoding: 'utf8',
    timeout: 80_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The printed decision lines: time, masked number, campaign, verdict, reasons or tags. */
function decisions(stdout: string): Array<{ time: string; verdict: string; line: string }> {
  return stdout
    .split('\n')
    .map((line) => /^(\d\d:\d\d) .*?\b(ALLOW|BLOCK|NOT GATED)\b/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ time: m[1]!, verdict: m[2]!, line: m[0] }));
}

describe.each(['asterisk', 'freeswitch'])('callgate demo --pbx %s --calls 20', (pbx) => {
  it('shows calls allowed and blocked with reason codes, a summary, exits 0 and removes its store', () => {
    const r = demo(['--pbx', pbx, '--calls', '20', '--no-api', '--pace', '0']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n');
    const calls = decisions(r.stdout);
    expect(calls).toHaveLength(20);
    expect(calls.some((c) => c.verdict === 'ALLOW')).toBe(true);
    // The rules' own verdicts (docs/FR-RULES.md): before 10:00 in Paris, the retry time given
    expect(lines.find((l) => l.startsWith('09:05'))).toMatch(/energy-auto\s+BLOCK\s+outside_calling_hours\s+10:00\s/);
    // La Réunion at 09:20 Paris is 12:20 there: allowed on the consent
    expect(lines.find((l) => l.startsWith('09:20'))).toMatch(/\+2626\*+03\s+12:20 RE .*ALLOW\s+basis:consent/);
    // Martinique at 09:40 Paris is 04:40 there: retry at 10:00 there, 15:00 in Paris
    expect(lines.find((l) => l.startsWith('09:40'))).toMatch(/04:40 MQ .*BLOCK\s+outside_calling_hours\s+15:00\s/);
    expect(lines.find((l) => l.startsWith('10:12'))).toMatch(/BLOCK\s+no_consent/);
    expect(lines.find((l) => l.startsWith('11:18'))).toMatch(/BLOCK\s+caller_id_withheld/);
    expect(lines.find((l) => l.startsWith('11:42'))).toMatch(/BLOCK\s+consent_withdrawn/);
    expect(r.stdout).toMatch(/summary: 20 call\(s\)/);
    expect(r.stdout).toMatch(/blocked\s+\d+\s+\(reasons: .*outside_calling_hours/);
    expect(r.stdout).toMatch(/stopped after 20 call\(s\) \(--calls\)/);
    // a number is never printed in full
    expect(r.stdout).not.toMatch(/0612345601|\+33612345601/);
    expect(readdirSync(tmp)).toEqual([]);
  });
});

describe('callgate demo, the whole day (Asterisk)', () => {
  it('reaches the refusal, the fifth attempt and the lunch gap; the emergency number goes around the gate', () => {
    const r = demo(['--no-api', '--pace', '0']);
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines.find((l) => l.startsWith('12:40'))).toMatch(/^12:40 112\s.*NOT GATED/);
    expect(lines.find((l) => l.startsWith('13:20'))).toMatch(/BLOCK\s+outside_calling_hours\s+14:00\s/);
    expect(lines.find((l) => l.startsWith('15:30'))).toMatch(/BLOCK\s+do_not_call/);
    // four attempts to …08 since 10:05: the fifth waits for the oldest to leave the 30 days
    expect(lines.find((l) => l.startsWith('16:00'))).toMatch(/BLOCK\s+frequency_limit\s+Thu 24 Dec 10:05/);
    expect(r.stdout).toMatch(/end of the day/);
    expect(readdirSync(tmp)).toEqual([]);
  });
});

describe('callgate demo --keep', () => {
  it('leaves a store that `callgate history` reads with the kept configuration', () => {
    const r = demo(['--calls', '6', '--no-api', '--pace', '0', '--keep']);
    expect(r.status).toBe(0);
    const kept = readdirSync(tmp);
    expect(kept).toHaveLength(1);
    const config = join(tmp, kept[0]!, 'callgate.yaml');
    expect(r.stdout).toContain(config);
    const h = spawnSync(process.execPath, [BIN, 'history', '0612345601', '--config', config], {
      cwd: ROOT,
      env: env(),
      encoding: 'utf8',
    });
    expect(h.status).toBe(0);
    // the 09:05 block and the 10:02 allowed attempt, with its outcome; the consent recorded at the start
    expect(h.stdout).toMatch(/consents \(1\):\n {2}acme {2}energy-supply/);
    expect(h.stdout).toMatch(/attempts \(1\):\n.*acme\/energy-auto .*answered/);
    expect(h.stdout).toMatch(/decisions \(2\):/);
  });
});

describe('callgate demo and Ctrl-C', () => {
  it('SIGINT mid-day: the summary so far, exit 0, the temporary store removed', async () => {
    const child = spawn(process.execPath, [BIN, 'demo', '--pace', '300'], { cwd: ROOT, env: env() });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // wait for three decisions, then Ctrl-C
    while (decisions(out).length < 3) {
      if (child.exitCode !== null) throw new Error(`demo exited early: ${err}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    // the store exists while the demo runs
    expect(readdirSync(tmp)).toHaveLength(1);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(err).toBe('');
    expect(out).toMatch(/interrupted \(Ctrl-C\)/);
    const n = decisions(out).length;
    expect(n).toBeGreaterThanOrEqual(3);
    expect(n).toBeLessThan(33);
    expect(out).toMatch(new RegExp(`summary: ${n} call\\(s\\)`));
    expect(readdirSync(tmp)).toEqual([]);
  });
});

describe('callgate demo, bad input', () => {
  it.each([
    [['--pbx', 'yate'], /--pbx must be asterisk or freeswitch/],
    [['--calls', '0'], /--calls must be a whole number from 1/],
    [['--calls', 'ten'], /--calls must be a whole number/],
  ])('%j: exit 2, one line, nothing started', (args, message) => {
    const r = demo(args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
    expect(readdirSync(tmp)).toEqual([]);
  });
});
