/**
 * Stable reason codes for a rejected token. They go to the access log and metrics, never to the
 * client, which receives only the status and the `WWW-Authenticate` challenge.
 */
export const AUTH_FAILURE_REASONS = [
  'token_missing',
  'token_multiple',
  'token_too_large',
  'token_malformed',
  'signature_invalid',
  'algorithm_not_allowed',
  'key_not_found',
  'token_expired',
  'token_not_yet_valid',
  'iat_in_future',
  'lifetime_too_long',
  'issuer_invalid',
  'audience_invalid',
  'claim_missing',
  'typ_invalid',
  'crit_unsupported',
  'decryption_failed',
  'jwks_unavailable',
  'token_revoked',
] as const;

export type AuthFailureReason = (typeof AUTH_FAILURE_REASONS)[number];

/**
 * Why a request's token was not accepted. `detail` is for the log: it never contains the token,
 * a key or a header value copied from the request.
 */
export interface AuthFailure {
  readonly reason: AuthFailureReason;
  readonly detail: string;
}

export function authFailure(reason: AuthFailureReason, detail: string): AuthFailure {
  return { reason, detail };
}

/**
 * Returns the HTTP status for a failure: 503 for `jwks_unavailable`, because the client's token
 * may be valid and the gateway could not get keys to check it, and 401 for everything else.
 */
export function authFailureStatus(reason: AuthFailureReason): 401 | 503 {
  return reason === 'jwks_unavailable' ? 503 : 401;
}

/**
 * Returns the `WWW-Authenticate` value for a 401 (RFC 6750 section 3), or undefined for a 503.
 * A request without a token gets a bare challenge (section 3.1). Several tokens in one request
 * get `invalid_request`. Every other failure gets `invalid_token`.
 */
export function bearerChallenge(failure: AuthFailure): string | undefined {
  switch (failure.reason) {
    case 'jwks_unavailable':
      return undefined;
    case 'token_missing':
      return 'Bearer';
    case 'token_multiple':
      return 'Bearer error="invalid_request"';
    default:
      return 'Bearer error="invalid_token"';
  }
}
