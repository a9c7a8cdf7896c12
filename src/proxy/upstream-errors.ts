import { GatewayError } from '../errors/gateway-error.js';
import type { UpstreamErrorKind } from '../monitoring/metrics.js';

const REFUSED_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/**
 * Certificate and handshake failures: the gateway refused the upstream's identity, so no
 * request was sent. Node names these in `code`, OpenSSL's failures start with `ERR_SSL_`.
 */
const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_TLS_HANDSHAKE_TIMEOUT',
]);

/** Classifies a failed upstream exchange, for the response and the metric. */
export function classifyUpstreamError(error: unknown): {
  kind: UpstreamErrorKind;
  error: GatewayError;
} {
  if (error instanceof GatewayError) return { kind: 'other', error };
  const code = (error as { code?: string } | undefined)?.code ?? '';
  const reason = `upstream ${code || 'error'}`;
  if (REFUSED_CODES.has(code)) {
    return {
      kind: 'refused',
      error: new GatewayError('upstream_unavailable', reason, { cause: error }),
    };
  }
  if (TLS_CODES.has(code) || code.startsWith('ERR_SSL_')) {
    return {
      kind: 'tls',
      error: new GatewayError('upstream_unavailable', reason, { cause: error }),
    };
  }
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return {
        kind: 'connect_timeout',
        error: new GatewayError('upstream_unavailable', reason, { cause: error }),
      };
    case 'UND_ERR_HEADERS_TIMEOUT':
      return {
        kind: 'headers_timeout',
        error: new GatewayError('upstream_timeout', reason, { cause: error }),
      };
    case 'UND_ERR_BODY_TIMEOUT':
      return {
        kind: 'body_timeout',
        error: new GatewayError('upstream_timeout', reason, { cause: error }),
      };
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      return { kind: 'reset', error: new GatewayError('upstream_error', reason, { cause: error }) };
    default:
      return { kind: 'other', error: new GatewayError('upstream_error', reason, { cause: error }) };
  }
}
