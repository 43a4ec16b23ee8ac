/**
 * Bearer-token check of the admin API (RFC 6750): `Authorization: Bearer <token>`, compared in
 * constant time (both sides hashed to 32 bytes first, so neither the content nor the length of the
 * token leaks through the time a refusal takes). The token itself is never logged (src/gate/logger.ts
 * redacts authorization headers and token fields).
 */
import { hash, timingSafeEqual } from 'node:crypto';
import { ApiError } from './errors';

/** SHA-256 by the one-shot crypto.hash (a fifth of createHash's cost, on every request). */
const digest = (s: string): Buffer => hash('sha256', s, 'buffer') as unknown as Buffer;

export function bearerCheck(token: string): (authorization: string | undefined) => void {
  const expected = digest(token);
  return (authorization) => {
    const m = authorization === undefined ? null : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
    const given = m ? m[1]! : '';
    // compare even when the header is missing or malformed: every refusal costs the same
    const ok = timingSafeEqual(digest(given), expected) && m !== null;
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
