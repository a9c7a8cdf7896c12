import type { ErrorCode } from '../errors/catalogue.js';
import type { EventAction, EventDetail, Severity } from './events/event.js';
import type { EventHub } from './events/hub.js';
import type { RequestEventFields } from './events/request-fields.js';

export type { Severity } from './events/event.js';

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
  'temporarily_blocked',
]);

/** Codes that mean the gateway caught an attack in what the client sent. */
const HIGH: ReadonlySet<string> = new Set<ErrorCode>(['request_blocked']);

export function severityOf(code: string): Severity {
  if (HIGH.has(code)) return 'high';
  return MEDIUM.has(code) ? 'medium' : 'low';
}

/**
 * What the stage that rejected a request adds to its event, such as the rules of a blocked
 * injection. The action defaults to `rejected`.
 */
export interface RejectionEventFields {
  readonly action?: EventAction | undefined;
  readonly rules?: readonly string[] | undefined;
  readonly detail?: EventDetail | undefined;
}

/**
 * Publishes the `request_rejected` event of one rejection, with the severity of its code and the
 * catalogue code and internal reason in `detail`.
 */
export function publishRejection(
  events: EventHub,
  request: RequestEventFields,
  rejection: {
    readonly code: string;
    readonly reason: string;
    readonly fields?: RejectionEventFields | undefined;
  },
): void {
  const { fields } = rejection;
  events.publish({
    type: 'request_rejected',
    severity: severityOf(rejection.code),
    action: fields?.action ?? 'rejected',
    ...request,
    rules: fields?.rules,
    detail: { code: rejection.code, reason: rejection.reason, ...fields?.detail },
  });
}
