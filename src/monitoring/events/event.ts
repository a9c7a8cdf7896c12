/**
 * Event types, in the order docs/events.md describes them. The last two are published by the
 * built-in detections of src/alerts/detections/ (docs/alerts.md).
 */
export const SECURITY_EVENT_TYPES = [
  'request_rejected',
  'injection_detected',
  'response_leak',
  'response_unscanned',
  'token_shared',
  'many_subjects',
] as const;
export type SecurityEventType = (typeof SECURITY_EVENT_TYPES)[number];

export const SEVERITIES = ['low', 'medium', 'high'] as const;
export type Severity = (typeof SEVERITIES)[number];

/**
 * What the gateway did. `rejected`: an error response. `blocked`: a request or response stopped
 * by an inspection rule, a leak detector or a block. `redacted`: matched text replaced in a
 * response. `flagged`: passed on with a verdict for the backend, or sent unscanned past a scan
 * limit. `logged`: passed on unchanged, recorded only.
 */
export const EVENT_ACTIONS = ['rejected', 'blocked', 'redacted', 'flagged', 'logged'] as const;
export type EventAction = (typeof EVENT_ACTIONS)[number];

/** A value of the `detail` object: short codes, ids, hashes and numbers, never request text. */
export type DetailValue = string | number | boolean | readonly string[];

/**
 * Type-specific facts of an event. The named fields are the ones the gateway writes; other
 * fields may be added by other event producers, with values of the same kinds.
 */
export interface EventDetail {
  /** Catalogue code of a rejection (docs/errors.md). */
  readonly code?: string;
  /**
   * Internal reason of a rejection, such as `token_expired: …`, or the limit that left a
   * response unscanned. Never sent to the client.
   */
  readonly reason?: string;
  /** Leak kind, such as `aws_access_key`. */
  readonly kind?: string;
  /** Truncated SHA-256 of matched text, so that repeats can be correlated without the text. */
  readonly hash?: string;
  /** Rule sets of the matched inspection rules. */
  readonly rule_sets?: readonly string[];
  /** Inspection score and the route's threshold. */
  readonly score?: number;
  readonly threshold?: number;
  readonly [field: string]: DetailValue | undefined;
}

/**
 * An event as its producer passes it to the hub. Every field is set by the gateway itself, and none
 * contains a token, a body, a key or matched text.
 */
export interface SecurityEventInput {
  readonly type: SecurityEventType;
  readonly severity: Severity;
  readonly action: EventAction;
  /** Route name, or `none` before routing. */
  readonly route: string;
  /** The resolved client address. */
  readonly client_ip: string;
  /** The socket peer's address, which differs from `client_ip` behind trusted proxies. */
  readonly peer: string;
  /** The verified token's `sub`; absent without a verified token. */
  readonly subject?: string | undefined;
  /** The verified token's `sid`, else its `jti`; absent without either. */
  readonly session?: string | undefined;
  /** The same id as the access line and the problem body. */
  readonly request_id: string;
  /** Inspection rule ids, or the leak detector id. */
  readonly rules?: readonly string[] | undefined;
  readonly detail: EventDetail;
}

/**
 * An event after the hub has stamped it and applied the privacy settings, as every sink and
 * listener receives it. It is frozen, so that no listener can change what another one receives.
 */
export interface StoredSecurityEvent extends SecurityEventInput {
  /** A ULID: 26 characters that sort in the order the events were published in one process. */
  readonly id: string;
  /** RFC 3339 time of publication, in UTC with milliseconds. */
  readonly time: string;
}

export function isSecurityEventType(value: string): value is SecurityEventType {
  return (SECURITY_EVENT_TYPES as readonly string[]).includes(value);
}

export function isSeverity(value: string): value is Severity {
  return (SEVERITIES as readonly string[]).includes(value);
}
