/** Bearer-token check of the HTTP API, in constant time (no early exit on the first wrong byte). */
import { createHash, timingSafeEqual } from 'node:crypto';
import { DocAnonError, ErrorCode } from '../core/errors';

/**
 * Returns a checker for `Authorization` header values. Both sides are hashed first so the
 * comparison takes the same time whatever the length or content of the presented token.
 */
export function bearerChecker(token: string): (authorization: string | undefined) => void {
  const expected = createHash('sha256').update(token, 'utf8').digest();
  return (authorization) => {
    const m = /^Bearer +(\S+) *$/i.exec(authorization ?? '');
    const given = createHash('sha256').update(m ? m[1] : '', 'utf8').digest();
    if (!timingSafeEqual(given, expected) || !m) {
      throw new DocAnonError(ErrorCode.UNAUTHORIZED, 'missing or wrong bearer token: send `Authorization: Bearer <token>`');
    }
  };
}
