/**
 * The bearer check (src/api/auth.ts) compares the token itself, character by character, in a time
 * set by what was sent: it must accept the token exactly and refuse everything else, including
 * what a comparison against the token repeated (how it handles another length) would mistake for it.
 */
import { bearerCheck } from '../../src/api/auth';
import { ApiError } from '../../src/api/errors';

const TOKEN = 'tok-0123456789abcdefXYZ';
const check = bearerCheck(TOKEN);

/** The refusal's message, or 'ok'. */
const outcome = (authorization: string | undefined): string => {
  try {
    check(authorization);
    return 'ok';
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    expect(e.status).toBe(401);
    return e.message;
  }
};

test('the token is accepted, with the scheme in any case and blanks around it', () => {
  for (const h of [`Bearer ${TOKEN}`, `bearer ${TOKEN}`, `BEARER\t${TOKEN}`, `Bearer   ${TOKEN} \t`])
    expect({ h, r: outcome(h) }).toEqual({ h, r: 'ok' });
});

test('anything else is refused: each character changed, other lengths, the token repeated', () => {
  const wrong: string[] = [];
  for (let i = 0; i < TOKEN.length; i++) {
    const c = TOKEN.charCodeAt(i);
    for (const d of [c ^ 1, c ^ 0x20, c + 1])
      wrong.push(TOKEN.slice(0, i) + String.fromCharCode(d) + TOKEN.slice(i + 1));
  }
  for (let n = 1; n < TOKEN.length; n++) wrong.push(TOKEN.slice(0, n), TOKEN.slice(n));
  wrong.push(TOKEN + TOKEN, TOKEN + TOKEN.slice(0, 3), `${TOKEN}x`, TOKEN.toUpperCase(), `${TOKEN}\u00e9`);
  for (const w of wrong) {
    const r = outcome(`Bearer ${w}`);
    // a blank changed in makes the header malformed: refused all the same, with that message
    const expected = /^\S+$/.test(w) ? 'wrong bearer token' : 'is not `Bearer <token>`';
    expect({ w, r }).toEqual({ w, r: expect.stringContaining(expected) });
  }
});

test('a missing or malformed header is refused with its own message', () => {
  expect(outcome(undefined)).toContain('no Authorization header');
  for (const h of ['', TOKEN, `Basic ${TOKEN}`, `Bearer`, `Bearer ${TOKEN} x`, `Bearer${TOKEN}`])
    expect({ h, r: outcome(h) }).toEqual({ h, r: 'the Authorization header is not `Bearer <token>`' });
});
