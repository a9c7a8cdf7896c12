import type { JWTPayload } from 'jose';
import { authFailure, type AuthFailure } from './failure.js';
import type { IssuerConfig } from './schema.js';

/**
 * Checks the time claims that jose leaves alone, after the signature and the standard claims
 * have passed. Returns undefined when the token is acceptable.
 *
 * - `iat` later than now plus the clock tolerance is `iat_in_future`: such a token was issued
 *   by a clock that is wrong, or forged to outlive a revocation.
 * - `exp - iat` above `max_lifetime` is `lifetime_too_long`. Without `iat`, `exp - now` is
 *   measured, so that leaving out `iat` cannot lift the limit.
 */
export function checkTokenTimes(
  claims: JWTPayload,
  issuer: IssuerConfig,
  nowMs: number,
): AuthFailure | undefined {
  const now = nowMs / 1000;
  const tolerance = issuer.clock_tolerance / 1000;
  const maxLifetime = issuer.max_lifetime / 1000;
  // jose has already required `exp` and checked that `exp` and `iat` are numbers when present.
  const exp = claims.exp!;
  if (claims.iat !== undefined && claims.iat > now + tolerance) {
    return authFailure('iat_in_future', `iat is ${Math.round(claims.iat - now)}s in the future`);
  }
  const start = claims.iat ?? now;
  if (exp - start > maxLifetime) {
    const lifetime = Math.round(exp - start);
    return authFailure('lifetime_too_long', `lifetime ${lifetime}s exceeds ${maxLifetime}s`);
  }
  return undefined;
}
