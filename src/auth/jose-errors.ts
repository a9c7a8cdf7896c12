import { errors } from 'jose';
import { authFailure, type AuthFailure, type AuthFailureReason } from './failure.js';

/** Claims whose failed check has a reason of its own; others are `token_malformed`. */
const CLAIM_REASONS: Readonly<Record<string, AuthFailureReason>> = {
  iss: 'issuer_invalid',
  aud: 'audience_invalid',
  nbf: 'token_not_yet_valid',
  exp: 'token_expired',
  typ: 'typ_invalid',
};

/**
 * Maps an error thrown by jose's `jwtVerify` or `compactDecrypt` to a failure reason.
 * Anything that is not a jose error is rethrown, because it means a bug here and not a bad
 * token.
 */
export function authFailureFromJose(error: unknown): AuthFailure {
  if (!(error instanceof errors.JOSEError)) throw error;
  if (error instanceof errors.JWTExpired) return authFailure('token_expired', error.message);
  if (error instanceof errors.JWTClaimValidationFailed) return claimFailure(error);
  switch (error.code) {
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return authFailure('signature_invalid', 'signature does not verify');
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return authFailure('algorithm_not_allowed', error.message);
    case 'ERR_JWE_DECRYPTION_FAILED':
      return authFailure('decryption_failed', 'JWE decryption failed');
    default:
      return authFailure('token_malformed', error.message);
  }
}

function claimFailure(error: errors.JWTClaimValidationFailed): AuthFailure {
  // A missing `aud` is reported as an audience problem, which is what an operator looks for.
  if (error.reason === 'missing' && error.claim !== 'aud') {
    return authFailure('claim_missing', `claim "${error.claim}" is missing`);
  }
  // jose reports a non-numeric `exp`, `nbf` or `iat` as "invalid".
  if (error.reason === 'invalid') return authFailure('token_malformed', error.message);
  return authFailure(CLAIM_REASONS[error.claim] ?? 'token_malformed', error.message);
}
