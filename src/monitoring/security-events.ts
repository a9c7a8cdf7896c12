import type { ErrorCode } from '../errors/catalogue.js';
import type { Logger } from './logger.js';

export type Severity = 'low' | 'medium' | 'high';

/**
 * One security event: a rejected request, a response detection, or a response that a scan
 * limit left unscanned. It carries codes, rule or detector ids and hashes, never tokens, bodies,
 * keys or matched text.
 */
export interface SecurityEvent {
  readonly type: 'request_rejected' | 'response_leak' | 'response_unscanned' | 'injection_detected';
  readonly severity: Severity;
  readonly route: string;
  readonly client_ip: string;
  readonly peer: string;
  readonly request_id: string;
  /** The catalogue code of a rejection. */
  readonly code?: string;
  /**
   * Internal reason of a rejection, such as `token_expired: ...`, or the limit that left a
   * response unscanned, such as `max_scanned_size`. Never sent to the client.
   */
  readonly reason?: string;
  readonly detector?: string;
  readonly kind?: string;
  readonly action?: string;
  /** Truncated SHA-256 of the matched text, so repeats can be correlated without the text. */
  readonly hash?: string;
  /** Request inspection: the matched rule ids, their rule sets, and the score they added up to. */
  readonly rules?: readonly string[];
  readonly rule_sets?: readonly string[];
  readonly score?: number;
  readonly threshold?: number;
}

/** Codes that point at a client probing or attacking, rather than at a mistake or an outage. */
const MEDIUM: ReadonlySet<string> = new Set<ErrorCode>([
  'invalid_path',
  'unauthorized',
  'forbidden',
  'rate_limited',
  'websocket_not_allowed',
  'headers_too_large',
  'too_many_headers',
  'payload_too_large',
  'upload_rejected',
]);

/** Codes that mean the gateway caught an attack in what the client sent. */
const HIGH: ReadonlySet<string> = new Set<ErrorCode>(['request_blocked']);

export function severityOf(code: string): Severity {
  if (HIGH.has(code)) return 'high';
  return MEDIUM.has(code) ? 'medium' : 'low';
}

/**
 * Writes a security event through the one logger, as a `security event` line with the event
 * under `event`, at warn level so that it survives the usual production level.
 */
export function emitSecurityEvent(log: Logger, event: SecurityEvent): void {
  log.warn({ event }, 'security event');
}

/** Writes the `request_rejected` event of one rejection, with the severity of its code. */
export function emitRejectionEvent(
  log: Logger,
  rejection: {
    route: string;
    clientIp: string;
    peer: string;
    requestId: string;
    code: string;
    reason: string;
    /** Fields of the stage that rejected, such as the type and rules of a blocked injection. */
    extra?: Readonly<Record<string, unknown>> | undefined;
  },
): void {
  emitSecurityEvent(log, {
    type: 'request_rejected',
    severity: severityOf(rejection.code),
    route: rejection.route,
    client_ip: rejection.clientIp,
    peer: rejection.peer,
    request_id: rejection.requestId,
    code: rejection.code,
    reason: rejection.reason,
    ...rejection.extra,
  });
}
