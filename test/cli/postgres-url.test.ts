/**
 * The password of store.url never shows: not in `config check`, not in the error of a command
 * whose database cannot be reached or refuses the login, not in the log.
 */
import * as net from 'node:net';
import { BASE_CONFIG, CALLEE, sandbox } from './helpers';
import { PG_ADMIN_URL } from '../store/pg-db';

const SECRET = 'Hunter2-s3cr3t';

/** A port nobody listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function withUrl(url: string) {
  return sandbox(
    BASE_CONFIG.replace(
      'store:\n  driver: sqlite\n  path: ./callgate.db',
      `store:\n  driver: postgres\n  url: '${url}'`,
    ),
  );
}

test('config check shows the URL with its password as ***', () => {
  const sb = withUrl(`postgres://cg:${SECRET}@db.example:5432/callgate`);
  try {
    const r = sb.run(['config', 'check']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /store: postgres postgres:\/\/cg:\*\*\*@db.example:5432\/callgate, pool 8, statement timeout 250 ms/,
    );
    expect(r.stdout + r.stderr).not.toContain(SECRET);
  } finally {
    sb.cleanup();
  }
});

test('a database that cannot be reached: a clear error naming the redacted URL, never the password', async () => {
  const port = await closedPort();
  const sb = withUrl(`postgres://cg:${SECRET}@127.0.0.1:${port}/callgate`);
  try {
    const r = sb.run(['history', CALLEE], { CALLGATE_LOG_LEVEL: 'debug' });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(
      new RegExp(
        `^callgate: connecting on postgres://cg:\\*\\*\\*@127.0.0.1:${port}/callgate failed: .*ECONNREFUSED.*check store.url .*\\[CG_ERR_STORE_OPEN\\]`,
      ),
    );
    expect(r.stdout + r.stderr).not.toContain(SECRET);
  } finally {
    sb.cleanup();
  }
}, 30_000);

test('a database that does not exist: the error says which one, never the password', () => {
  const u = new URL(PG_ADMIN_URL);
  u.username = 'postgres';
  u.password = SECRET;
  u.pathname = '/cg_no_such_database';
  const sb = withUrl(u.toString());
  try {
    const r = sb.run(['history', CALLEE], { CALLGATE_LOG_LEVEL: 'debug' });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/cg_no_such_database.*does not exist; check store.url .*\[CG_ERR_STORE_OPEN\]/);
    expect(r.stdout + r.stderr).not.toContain(SECRET);
  } finally {
    sb.cleanup();
  }
});
