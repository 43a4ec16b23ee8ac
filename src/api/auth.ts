/**
 * Bearer-token check of the admin API (RFC 6750): `Authorization: Bearer <token>`, compared in
 * constant time (every character looked at, in a time set by the length of what was sent alone, so
 * neither the content nor the length of the token leaks through the time a refusal takes). The
 * token itself is never logged (src/gate/logger.ts redacts authorization headers and token fields).
 */
import { ApiError } from './errors';

/**
 * Whether `given` is `expected`, in a time that depends on the length of `given` only (what the
 * client sent, which it knows): every character is compared whatever the first difference, and a
 * `given` of another length is compared all the same, against `expected` repeated, so that neither
 * the content nor the length of the token shows. A loop over the characters costs a fraction of
 * hashing both sides first (a SHA-256 per request was ~5 % of the server's CPU under load).
 */
function sameToken(given: string, expected: string): boolean {
  let diff = given.length ^ expected.length;
  for (let i = 0; i < given.length; i++) diff |= given.charCodeAt(i) ^ expected.charCodeAt(i % expected.length);
  return diff === 0;
}

export function bearerCheck(token: string): (authorization: string | undefined) => void {
  return (authorization) => {
    const m = authorization === undefined ? null : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
    const given = m ? m[1]! : '';
    // compare even when the header is malformed: the time depends on what was sent, never on the token
    const ok = sameToken(given, token) && m !== null;
    if (ok) return;
    throw new ApiError(
      401,
      'CG_ERR_API_AUTH',
      authorization === undefined
        ? 'no Authorization header: send `Authorization: Bearer <token>` with the token of api.token (or CALLGATE_API_TOKEN)'
        : m === null
          ? 'the Authorization header is not `Bearer <token>`'
          : 'wrong bearer token: send the token of api.token (or CALLGATE_API_TOKEN) of this gate',
    );
  };
}
