/**
 * The asterisk: section (issue 12.5): one deadline (gate.deadlineMs) and one fail mode
 * (policy.failMode) — a file that still has asterisk.deadlineMs or asterisk.failMode is refused with
 * what replaces them; a reconnect backoff that could not find Asterisk within a second is refused;
 * and the asterisk: block of config/callgate.example.yaml is a valid section, once uncommented.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError, parseConfig } from '../../src/config';
import { repoRoot } from '../../src/sim/repo-root';

const BASE = `
professionals:
  - id: acme
    callerIds: ['+33162000001']
asterisk:
  url: http://127.0.0.1:8088
  username: callgate
  password: pw
  allowContext: callgate-allowed
`;

function problemsOf(yaml: string): { path: string; message: string }[] {
  try {
    parseConfig(yaml, 'test.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

test('asterisk.deadlineMs and asterisk.failMode are refused, each saying what replaces it', () => {
  const problems = problemsOf(`${BASE}  deadlineMs: 500\n  failMode: open\n`);
  expect(problems).toEqual([
    { path: 'asterisk.deadlineMs', message: expect.stringMatching(/removed: the deadline is gate\.deadlineMs/) },
    { path: 'asterisk.failMode', message: expect.stringMatching(/removed: the fail mode is policy\.failMode/) },
  ]);
});

test('a removed key is never offered as a "did you mean" for a typo', () => {
  const problems = problemsOf(`${BASE}  deadlinMs: 500\n`);
  expect(problems).toHaveLength(1);
  expect(problems[0]!.path).toBe('asterisk.deadlinMs');
  expect(problems[0]!.message).not.toMatch(/deadlineMs/);
  expect(problems[0]!.message).not.toMatch(/failMode/);
});

test('the reconnect backoff is capped at one second, and its defaults come back within one', () => {
  const c = parseConfig(BASE, 'test.yaml');
  expect(c.asterisk).toMatchObject({ reconnectMinMs: 100, reconnectMaxMs: 750 });
  expect(problemsOf(`${BASE}  reconnectMaxMs: 10000\n`)).toEqual([
    { path: 'asterisk.reconnectMaxMs', message: 'must be at most 1000' },
  ]);
  expect(problemsOf(`${BASE}  reconnectMinMs: 800\n  reconnectMaxMs: 500\n`)).toEqual([
    { path: 'asterisk.reconnectMinMs', message: 'reconnectMinMs must not be above reconnectMaxMs' },
  ]);
});

test('the asterisk: block of config/callgate.example.yaml, uncommented, is a valid section with every asterisk key', () => {
  const text = fs.readFileSync(path.join(repoRoot(), 'config', 'callgate.example.yaml'), 'utf8');
  const lines = text.split('\n');
  const start = lines.findIndex((l) => /^# asterisk:/.test(l));
  expect(start).toBeGreaterThan(0);
  const block: string[] = [];
  for (const l of lines.slice(start)) {
    if (!l.startsWith('#')) break;
    block.push(l.replace(/^# ?/, ''));
  }
  const yaml = `professionals:\n  - id: acme\n    callerIds: ['+33162000001']\n${block.join('\n')}\n`;
  const c = parseConfig(yaml, 'example', { CALLGATE_ARI_PASSWORD: 'pw' });
  expect(c.asterisk).toBeDefined();
  // every key the schema accepts is shown in the example
  const shown = new Set(block.map((l) => /^ {2}(\w+):/.exec(l)?.[1]).filter(Boolean));
  const accepted = Object.keys(c.asterisk!);
  expect(accepted.filter((k) => !shown.has(k))).toEqual([]);
});
