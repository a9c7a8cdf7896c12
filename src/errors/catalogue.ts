/**
 * Every failure a request can meet: a stable code, its HTTP status and the title sent to the
 * client. Titles never carry request detail; the internal reason goes to the log only.
 */
export const ERROR_CATALOGUE = {
  bad_request: { status: 400, title: 'The request is malformed' },
  invalid_path: { status: 400, title: 'The request path is invalid' },
  invalid_body: { status: 400, title: 'The request body is malformed or too complex' },
  invalid_request: { status: 400, title: "The request does not match the route's schema" },
  websocket_not_allowed: { status: 400, title: 'WebSocket upgrades are not allowed on this route' },
  crypto_invalid_request: { status: 400, title: 'The crypto request is invalid' },
  crypto_ciphertext_malformed: { status: 400, title: 'The ciphertext is malformed' },
  crypto_ciphertext_tampered: { status: 400, title: 'The ciphertext failed authentication' },
  crypto_ciphertext_truncated: { status: 400, title: 'The ciphertext stream is cut short' },
  crypto_context_mismatch: {
    status: 400,
    title: 'The ciphertext was not encrypted under this context',
  },
  crypto_aad_mismatch: {
    status: 400,
    title: 'The ciphertext was not encrypted with this additional data',
  },
  crypto_key_version_unknown: { status: 400, title: 'The key version is not loaded' },
  crypto_key_version_retired: { status: 400, title: 'The key version is retired' },
  events_invalid_query: { status: 400, title: 'The event query is invalid' },
  events_invalid_cursor: { status: 400, title: 'The event cursor is invalid' },
  alerts_invalid_request: { status: 400, title: 'The alerts admin request is invalid' },
  unauthorized: { status: 401, title: 'Authentication is required' },
  crypto_unauthorized: { status: 401, title: 'The crypto caller token is missing or invalid' },
  forbidden: { status: 403, title: 'The request is not allowed for this caller' },
  request_blocked: { status: 403, title: 'The request was blocked by the gateway' },
  cors_rejected: { status: 403, title: 'The cross-origin request is not allowed' },
  crypto_context_forbidden: { status: 403, title: 'The context is not allowed for this caller' },
  route_not_found: { status: 404, title: 'No route matches the request' },
  block_not_found: { status: 404, title: 'No such block' },
  method_not_allowed: { status: 405, title: 'The method is not allowed on this route' },
  request_timeout: { status: 408, title: 'The request was not received in time' },
  expectation_failed: { status: 417, title: 'The Expect header cannot be met' },
  payload_too_large: { status: 413, title: 'The request body is too large' },
  crypto_payload_too_large: { status: 413, title: 'The plaintext is too large' },
  unsupported_media_type: {
    status: 415,
    title: 'The request body type or encoding is not accepted on this route',
  },
  upload_rejected: { status: 422, title: 'An uploaded file is not accepted' },
  headers_too_large: { status: 431, title: 'The request headers are too large' },
  too_many_headers: { status: 431, title: 'The request has too many header fields' },
  rate_limited: { status: 429, title: 'Too many requests' },
  /** A block set by an alert rule or an operator; the policy may choose 403 instead of 429. */
  temporarily_blocked: { status: 429, title: 'The client is temporarily blocked' },
  internal_error: { status: 500, title: 'The gateway failed to handle the request' },
  upstream_unavailable: { status: 502, title: 'The upstream service is unavailable' },
  response_blocked: { status: 502, title: 'The response was withheld by the gateway' },
  upstream_error: { status: 502, title: 'The upstream service sent an invalid response' },
  jwks_unavailable: { status: 503, title: 'Token keys are unavailable' },
  rate_limit_unavailable: { status: 503, title: 'Rate limiting is unavailable' },
  block_list_unavailable: { status: 503, title: 'The block list is unavailable' },
  alerts_store_unavailable: { status: 503, title: 'The alert store is unavailable' },
  revocation_unavailable: { status: 503, title: 'Token revocation status is unavailable' },
  shutting_down: { status: 503, title: 'The gateway is shutting down' },
  events_unavailable: { status: 503, title: 'The event store is unavailable' },
  upstream_timeout: { status: 504, title: 'The upstream service did not respond in time' },
  block_list_full: { status: 507, title: 'The block list is full' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_CATALOGUE, value);
}
