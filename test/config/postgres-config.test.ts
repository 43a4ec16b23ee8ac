/** store.driver postgres: the URL from the file or CALLGATE_DATABASE_URL, its checks, and a password never echoed. */
import { ConfigError, parseConfig } from '../../src/config';
import { redactUrl } from '../../src/store/postgres/url';

const PRO = `professionals:\n  - id: acme\n    callerIds: ['+33162000001']\n`;
const SECRET = 'S3cr3t-p4ss';

function problemsOf(yaml: string, env: NodeJS.ProcessEnv = {}): { path: string; message: string }[] {
  try {
    parseConfig(yaml, 'test.yaml', env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

test('driver postgres with store.url: defaults for the pool and the statement timeout', () => {
  const c = parseConfig(`store: {driver: postgres, url: 'postgres://cg:${SECRET}@db:5432/callgate'}\n${PRO}`, 't', {});
  expect(c.store).toEqual({ driver: 'postgres', url: `postgres://cg:${SECRET}@db:5432/callgate`, poolSize: 8 });
});

test('without store.url the URL comes from CALLGATE_DATABASE_URL; the file wins when both are set', () => {
  const env = { CALLGATE_DATABASE_URL: `postgresql://cg:${SECRET}@10.0.0.5/cg` };
  expect(parseConfig(`store: {driver: postgres}\n${PRO}`, 't', env).store).toMatchObject({
    url: env.CALLGATE_DATABASE_URL,
  });
  expect(parseConfig(`store: {driver: postgres, url: 'postgres://other/cg'}\n${PRO}`, 't', env).store).toMatchObject({
    url: 'postgres://other/cg',
  });
});

test('no URL at all: a problem that says where to put one', () => {
  expect(problemsOf(`store: {driver: postgres}\n${PRO}`)).toEqual([
    { path: 'store.url', message: 'required: the PostgreSQL URL (or set CALLGATE_DATABASE_URL)' },
  ]);
});

test.each([
  [`mysql://cg:${SECRET}@db/cg`, /must start with postgres:\/\/ or postgresql:\/\/, not mysql:/],
  [`postgres://cg:${SECRET}@db`, /names no database/],
  [`db.example/${SECRET}`, /is not a URL/],
])('a bad URL (%s) is a problem that never repeats the password', (url, message) => {
  const problems = problemsOf(`store: {driver: postgres, url: '${url}'}\n${PRO}`);
  expect(problems).toEqual([{ path: 'store.url', message: expect.stringMatching(message) }]);
  expect(JSON.stringify(problems)).not.toContain(SECRET);
});

test('a bad URL from CALLGATE_DATABASE_URL is reported without its password either', () => {
  const problems = problemsOf(`store: {driver: postgres}\n${PRO}`, {
    CALLGATE_DATABASE_URL: `http://cg:${SECRET}@db/cg`,
  });
  expect(problems.map((p) => p.path)).toEqual(['store.url']);
  expect(JSON.stringify(problems)).not.toContain(SECRET);
});

test('store.statementTimeoutMs must stay below gate.deadlineMs', () => {
  expect(problemsOf(`store: {driver: postgres, url: 'postgres://db/cg', statementTimeoutMs: 500}\n${PRO}`)).toEqual([
    { path: 'store.statementTimeoutMs', message: expect.stringMatching(/must be below gate.deadlineMs \(500 ms\)/) },
  ]);
  expect(
    parseConfig(
      `store: {driver: postgres, url: 'postgres://db/cg', statementTimeoutMs: 500}\ngate: {deadlineMs: 800}\n${PRO}`,
      't',
      {},
    ).store,
  ).toMatchObject({ statementTimeoutMs: 500 });
});

test('redactUrl hides the password and password parameters, keeps the rest', () => {
  expect(redactUrl(`postgres://cg:${SECRET}@db:5432/callgate?sslmode=require`)).toBe(
    'postgres://cg:***@db:5432/callgate?sslmode=require',
  );
  expect(redactUrl(`postgres://db/cg?password=${SECRET}&application_name=x`)).toBe(
    'postgres://db/cg?password=***&application_name=x',
  );
  expect(redactUrl(`not a url ${SECRET}`)).not.toContain(SECRET);
});
