import { GatewayError } from '../errors/gateway-error.js';
import type { UpstreamErrorKind } from '../monitoring/metrics.js';

const REFUSED_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
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
