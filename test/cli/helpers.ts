/**
 * Runs the BUILT `callgate` command (node bin/callgate.js) as a child process
 * against a temporary config and SQLite database. `npm test` builds first;
 * run `npm run build` before `npx jest test/cli` alone.
 *
 * The child runs with a host time zone far from Paris (TZ=Pacific/Auckland)
 * so that every test also proves the command does not depend on it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '..', '..');
export const BIN = join(ROOT, 'bin', 'callgate.js');

export function assertBuilt(): void {
  if (!existsSync(join(ROOT, 'dist', 'src', 'cli', 'main.js'))) {
    throw new Error('dist/src/cli/main.js is missing: run `npm run build` (npm test does it) before these tests');
  }
}

/** Professional acme; campaigns: energy (prospecting, manual, default), press (CONS-6 exception). */
export const BASE_CONFIG = `
store:
  driver: sqlite
  path: ./callgate.db
professionals:
  - id: acme
  - id: other-pro
campaigns:
  - id: energy
    professional: acme
    purpose: prospecting
    audience: consumer
    dialing: manual
    sector: other
    categories: [energy]
  - id: news
    professional: acme
    purpose: press
    dialing: manual
defaultCampaign: energy
log:
  level: warn
`;

export type Result = { code: number | null; stdout: string; stderr: string };

export type Sandbox = {
  dir: string;
  config: string;
  db: string;
  run(args: string[], env?: Record<string, string>): Result;
  write(name: string, content: string): string;
  cleanup(): void;
};

export function sandbox(configYaml: string = BASE_CONFIG): Sandbox {
  assertBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'callgate-cli-'));
  const config = join(dir, 'callgate.yaml');
  writeFileSync(config, configYaml);
  const write = (name: string, content: string): string => {
    const file = join(dir, name);
    writeFileSync(file, content);
    return file;
  };
  return {
    dir,
    config,
    db: join(dir, 'callgate.db'),
    write,
    run(args, env = {}) {
      const childEnv: NodeJS.ProcessEnv = { ...process.env, TZ: 'Pacific/Auckland', CALLGATE_CONFIG: config, ...env };
      delete childEnv.CALLGATE_LOG_LEVEL;
      const r = spawnSync(process.execPath, [BIN, ...args], {
        cwd: dir,
        env: childEnv,
        encoding: 'utf8',
        timeout: 20000,
      });
      if (r.error) throw r.error;
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Parse the single JSON object a --json command prints. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test access to parsed JSON
export function json(r: Result): Record<string, any> {
  const lines = r.stdout.trim().split('\n');
  if (lines.length !== 1) throw new Error(`expected one JSON line on stdout, got:\n${r.stdout}\nstderr:\n${r.stderr}`);
  return JSON.parse(lines[0]!);
}

/** Tuesday 24 Nov 2026, 11:00 in Paris: consent regime, a working day, inside the calling hours. */
export const TUESDAY_11H = '2026-11-24T11:00';
/** Saturday 28 Nov 2026, 11:00 in Paris. */
export const SATURDAY_11H = '2026-11-28T11:00';
export const CALLEE = '01 23 45 67 89';
export const CALLEE_E164 = '+33123456789';
/** A numéro polyvalent vérifié (CID-5), geographic, not mobile. */
export const CALLER = '0162123456';
