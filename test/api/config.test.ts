/** The api: section of callgate.yaml and where the token comes from. */
import { parseConfig } from '../../src/config';
import { ConfigError } from '../../src/config/load';
import { resolveApiToken } from '../../src/api/config';

const BASE = 'store: {driver: memory}\nprofessionals: [{id: acme}]\n';

test('api: with nothing in it listens on 127.0.0.1:8090; without it there is no API', () => {
  expect(parseConfig(`${BASE}api: {}\n`, 't').api).toEqual({ listen: { host: '127.0.0.1', port: 8090 } });
  expect(parseConfig(BASE, 't').api).toBeUndefined();
  expect(parseConfig(`${BASE}api: {listen: {port: 9000}, token: '0123456789abcdef'}\n`, 't').api).toEqual({
    listen: { host: '127.0.0.1', port: 9000 },
    token: '0123456789abcdef',
  });
});

test('a bad api: section is a config error listing every problem', () => {
  let err: unknown;
  try {
    parseConfig(`${BASE}api: {listen: {host: '', port: 70000, tls: true}, token: short, cors: true}\n`, 't');
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ConfigError);
  const paths = (err as ConfigError).problems.map((p) => p.path).sort();
  expect(paths).toEqual(['api.cors', 'api.listen.host', 'api.listen.port', 'api.listen.tls', 'api.token']);
  expect((err as ConfigError).problems.find((p) => p.path === 'api.token')!.message).toMatch(
    /too short \(5\): at least 16 characters without spaces/,
  );
});

test('the token: api.token, else CALLGATE_API_TOKEN, else a problem that says how to set one', () => {
  const api = { listen: { host: '127.0.0.1', port: 8090 } };
  expect(
    resolveApiToken({ ...api, token: 'from-the-file-0123' }, { CALLGATE_API_TOKEN: 'from-the-env-01234' }),
  ).toEqual({
    ok: true,
    token: 'from-the-file-0123',
  });
  expect(resolveApiToken(api, { CALLGATE_API_TOKEN: 'from-the-env-01234' })).toEqual({
    ok: true,
    token: 'from-the-env-01234',
  });
  expect(resolveApiToken(api, {})).toMatchObject({
    ok: false,
    path: 'api.token',
    message: expect.stringMatching(/CALLGATE_API_TOKEN/),
  });
  expect(resolveApiToken(api, { CALLGATE_API_TOKEN: 'short' })).toMatchObject({
    ok: false,
    path: 'CALLGATE_API_TOKEN',
  });
  expect(resolveApiToken(api, { CALLGATE_API_TOKEN: 'has a space in it 0123' })).toMatchObject({ ok: false });
});
